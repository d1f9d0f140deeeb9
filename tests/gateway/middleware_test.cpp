// Middleware composition, server_timing and exceptions_to_500 in both forms.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>

#include "gateway/adapters.hpp"
#include "gateway/middleware.hpp"
#include "tests/gateway/stubs.hpp"

namespace csgi {
namespace {

using test::AsyncServerStub;
using testing::ErrorLogCapture;
using test::Transcript;
using test::what;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

asgi::App async_ok(std::string body = "ok") {
  return [body](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseStart{200, {}, false});
    co_await send(asgi::HttpResponseBody{body, false});
  };
}

wsgi::App sync_ok(std::string body = "ok") {
  return [body](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    return wsgi::Body(body);
  };
}

const asgi::HttpResponseStart& start_of(const AsyncServerStub& server) {
  return std::get<asgi::HttpResponseStart>(server.sent.at(0));
}

TEST(Middleware, ComposeWrapsTheFirstListedOutermost) {
  Transcript log;
  auto tag = [&](std::string name) {
    return asgi::Middleware([&log, name](asgi::App app) {
      return asgi::App([&log, name, app](asgi::Scope scope, asgi::Receive receive,
                                         asgi::Send send) {
        log.add(name);
        return app(std::move(scope), std::move(receive), std::move(send));
      });
    });
  };
  AsyncServerStub server;
  test::run_async_app(asgi::compose(async_ok(), {tag("outer"), tag("inner")}), server);
  EXPECT_THAT(log.lines(), ElementsAre("outer", "inner"));
}

TEST(Middleware, ComposeOfSyncAppsWrapsTheFirstListedOutermost) {
  Transcript log;
  auto tag = [&](std::string name) {
    return wsgi::Middleware([&log, name](wsgi::App app) {
      return wsgi::App([&log, name, app](wsgi::Environ& environ, wsgi::StartResponse& start) {
        log.add(name);
        return app(environ, start);
      });
    });
  };
  test::SyncServerStub server;
  server.call(wsgi::compose(sync_ok(), {tag("outer"), tag("inner")}));
  EXPECT_THAT(log.lines(), ElementsAre("outer", "inner"));
}

TEST(Middleware, ServerTimingMeasuresTheAsyncAppUntilItsResponseStart) {
  asgi::App slow = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
    co_await send(asgi::HttpResponseStart{200, {}, false});
    co_await send(asgi::HttpResponseBody{"", false});
  };
  AsyncServerStub server;
  test::run_async_app(middleware::server_timing(slow), server);
  auto value = find_header(start_of(server).headers, "server-timing");
  ASSERT_TRUE(value);
  EXPECT_THAT(std::string(*value), MatchesRegex("app;dur=[0-9]+\\.[0-9]{3}"));
  EXPECT_GE(std::stod(std::string(value->substr(8))), 5.0);
}

TEST(Middleware, ServerTimingHeaderIsAddedToSyncResponses) {
  test::SyncServerStub server;
  server.call(middleware::server_timing(sync_ok()));
  auto value = find_header(server.headers, "server-timing");
  ASSERT_TRUE(value);
  EXPECT_THAT(std::string(*value), MatchesRegex("app;dur=[0-9]+\\.[0-9]{3}"));
}

TEST(Middleware, ApplicationComposeWrapsBothForms) {
  auto app = compose(Application::from_sync("ok", sync_ok()), {middleware::server_timing()});
  SyncExecutor executor;
  AsyncServerStub async_server;
  test::run_async_app(app.as_async(executor), async_server);
  EXPECT_TRUE(find_header(start_of(async_server).headers, "server-timing"));
  test::SyncServerStub sync_server;
  sync_server.call(app.as_sync());
  EXPECT_TRUE(find_header(sync_server.headers, "server-timing"));
}

TEST(Middleware, AsyncExceptionBeforeTheResponseStartsBecomesA500AndIsLogged) {
  ErrorLogCapture log;
  asgi::App failing = [](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    throw std::runtime_error("boom");
    co_return;
  };
  AsyncServerStub server;
  EXPECT_EQ(test::run_async_app(middleware::exceptions_to_500(failing), server), nullptr);
  EXPECT_THAT(server.events(), ElementsAre("start 500", "body Internal Server Error end"));
  EXPECT_EQ(find_header(start_of(server).headers, "content-type"), "text/plain; charset=utf-8");
  EXPECT_THAT(log.text(), HasSubstr("boom"));
}

TEST(Middleware, AsyncExceptionBetweenStartAndFirstBodyStillBecomesA500) {
  ErrorLogCapture log;
  asgi::App failing = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseStart{200, {}, false});
    throw std::runtime_error("after start");
  };
  AsyncServerStub server;
  EXPECT_EQ(test::run_async_app(middleware::exceptions_to_500(failing), server), nullptr);
  EXPECT_THAT(server.events(), ElementsAre("start 500", "body Internal Server Error end"));
}

TEST(Middleware, AsyncExceptionAfterTheBodyStartedIsRethrown) {
  ErrorLogCapture log;
  asgi::App failing = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseStart{200, {}, false});
    co_await send(asgi::HttpResponseBody{"part", true});
    throw std::runtime_error("late");
  };
  AsyncServerStub server;
  EXPECT_EQ(what(test::run_async_app(middleware::exceptions_to_500(failing), server)), "late");
  EXPECT_THAT(server.events(), ElementsAre("start 200", "body part more"));
}

TEST(Middleware, AsyncClientDisconnectIsNotTurnedIntoA500) {
  ErrorLogCapture log;
  AsyncServerStub server;
  server.disconnect_at_body = 0;
  auto error = test::run_async_app(middleware::exceptions_to_500(async_ok()), server);
  EXPECT_EQ(what(error), "client disconnected");
  EXPECT_EQ(log.text(), "");
}

// Runs `app` on a fresh loop and, once it has waited 10 ms, cancels it as a
// server does when the client goes (terminal); returns what escaped it.
std::exception_ptr run_and_cancel(const asgi::App& app, AsyncServerStub& server) {
  namespace asio = boost::asio;
  asio::io_context context;
  asio::cancellation_signal cancel;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(context, app({}, server.receive(), server.send()),
                 asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                   error = e;
                   done = true;
                 }));
  asio::steady_timer timer(context, std::chrono::milliseconds(10));
  timer.async_wait([&](auto) { cancel.emit(asio::cancellation_type::terminal); });
  context.run();
  EXPECT_TRUE(done) << "the app never completed";
  return error;
}

// Waits an hour on a timer; with `translate`, turns the cancellation into an
// exception of its own, as cleanup code that fails would.
asgi::App waiting_an_hour(bool translate) {
  return [translate](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::hours(1));
    try {
      co_await timer.async_wait(boost::asio::use_awaitable);
    } catch (const boost::system::system_error&) {
      if (translate) throw std::runtime_error("cleanup failed");
      throw;
    }
  };
}

TEST(Middleware, AsyncCancellationPassesThroughUnloggedAndWithoutA500) {
  ErrorLogCapture log;
  AsyncServerStub server;
  auto error = run_and_cancel(middleware::exceptions_to_500(waiting_an_hour(false)), server);
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), boost::asio::error::operation_aborted);
  } catch (...) {
    ADD_FAILURE() << "expected the cancellation, got: " << what(error);
  }
  EXPECT_TRUE(server.sent.empty());
  EXPECT_EQ(log.text(), "");
}

TEST(Middleware, AsyncErrorOfACancelledAppPropagatesUnlogged) {
  ErrorLogCapture log;
  AsyncServerStub server;
  auto error = run_and_cancel(middleware::exceptions_to_500(waiting_an_hour(true)), server);
  EXPECT_EQ(what(error), "cleanup failed");
  EXPECT_TRUE(server.sent.empty());
  EXPECT_EQ(log.text(), "");
}

TEST(Middleware, AsyncAppWithoutBodyStillHasItsStartPassedOn) {
  asgi::App no_body = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseStart{204, {}, false});
  };
  AsyncServerStub server;
  test::run_async_app(middleware::exceptions_to_500(no_body), server);
  EXPECT_THAT(server.events(), ElementsAre("start 204"));
}

// The sync form relies on the server's exc_info handling: run it through
// wsgi_to_asgi, which implements it, and observe the async events.
std::exception_ptr run_sync(wsgi::App app, AsyncServerStub& server) {
  SyncExecutor executor;
  return test::run_async_app(wsgi_to_asgi(std::move(app), executor), server);
}

TEST(Middleware, SyncExceptionFromTheCallBecomesA500AndIsLogged) {
  ErrorLogCapture log;
  wsgi::App failing = [](wsgi::Environ&, wsgi::StartResponse&) -> wsgi::Body {
    throw std::runtime_error("sync boom");
  };
  AsyncServerStub server;
  EXPECT_EQ(run_sync(middleware::exceptions_to_500(failing), server), nullptr);
  EXPECT_THAT(server.events(), ElementsAre("start 500", "body Internal Server Error end"));
  EXPECT_THAT(log.text(), HasSubstr("sync boom"));
}

TEST(Middleware, SyncExceptionFromTheBodyBeforeAnyChunkBecomesA500) {
  ErrorLogCapture log;
  wsgi::App failing = [](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    return wsgi::Body::generate([]() -> std::optional<std::string> {
      throw std::runtime_error("in body");
    });
  };
  AsyncServerStub server;
  EXPECT_EQ(run_sync(middleware::exceptions_to_500(failing), server), nullptr);
  EXPECT_THAT(server.events(), ElementsAre("start 500", "body Internal Server Error end"));
}

TEST(Middleware, SyncExceptionAfterAChunkWasSentIsRethrown) {
  ErrorLogCapture log;
  wsgi::App failing = [](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    auto calls = std::make_shared<int>(0);
    return wsgi::Body::generate([calls]() -> std::optional<std::string> {
      if ((*calls)++ == 0) return "part";
      throw std::runtime_error("late sync");
    });
  };
  AsyncServerStub server;
  EXPECT_EQ(what(run_sync(middleware::exceptions_to_500(failing), server)), "late sync");
  EXPECT_THAT(server.events(), ElementsAre("start 200", "body part more"));
  EXPECT_EQ(log.text(), "");  // the server logs what it aborts
}

}  // namespace
}  // namespace csgi
