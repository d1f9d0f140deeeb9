// AsyncClient, Exchange and CSGI_ASYNC_TEST: in-process calls of async apps.
#include <boost/asio/this_coro.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>

#include "gateway/adapters.hpp"
#include "web/router.hpp"
#include "gateway/testing/async_client.hpp"
#include "gateway/testing/async_test.hpp"
#include "runtime/async_event.hpp"
#include "tests/gateway/stubs.hpp"

namespace csgi::testing {
namespace {

using test::Transcript;
using test::what;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

asgi::App json_app(SyncExecutor& executor) {
  web::Router router;
  router.path("api/", [](web::Request request) -> asgi::awaitable<web::Response> {
    co_return web::json_response(
        boost::json::object{{"ok", true}, {"q", request.query("q").value_or("")}});
  });
  return router.as_async(executor);
}

// Echoes each request chunk as a response chunk, as it arrives.
asgi::App echo_app(Transcript* log = nullptr) {
  return [log](asgi::Scope, asgi::Receive receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseStart{200, {}, false});
    for (bool more = true; more;) {
      auto event = co_await receive();
      auto* request = std::get_if<asgi::HttpRequest>(&event);
      if (!request) {
        if (log) log->add("app got http.disconnect");
        co_return;
      }
      more = request->more_body;
      co_await send(asgi::HttpResponseBody{request->body, more});
    }
  };
}

std::string describe(const std::optional<asgi::SendEvent>& event) {
  return event ? test::AsyncServerStub::describe(*event) : "app finished";
}

CSGI_ASYNC_TEST(AsyncClient, GetReturnsStatusHeadersBodyAndJson) {
  SyncExecutor executor;
  AsyncClient client(json_app(executor));
  TestResponse r = co_await client.get("/api/?q=a%20b");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.json().at("ok"), true);
  EXPECT_EQ(r.json().at("q"), "a b");
}

CSGI_ASYNC_TEST(AsyncClient, PostDeliversTheBodyWithItsLength) {
  std::string length;
  asgi::App app = [&](asgi::Scope scope, asgi::Receive receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    length = std::string(find_header(scope.headers, "content-length").value_or(""));
    auto request = std::get<asgi::HttpRequest>(co_await receive());
    co_await send(asgi::HttpResponseStart{201, {}, false});
    co_await send(asgi::HttpResponseBody{request.body, false});
  };
  AsyncClient client(app);
  TestResponse r = co_await client.post("/items/", "hello", {{"X-Tag", "1"}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(length, "5");
}

CSGI_ASYNC_TEST(AsyncClient, ResponseChunksArriveAsSeparateChunks) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseStart{200, {}, false});
    co_await send(asgi::HttpResponseBody{"a", true});
    co_await send(asgi::HttpResponseBody{"", true});
    co_await send(asgi::HttpResponseBody{"b", false});
  };
  AsyncClient client(app);
  TestResponse r = co_await client.get("/");
  EXPECT_THAT(r.chunks, ElementsAre("a", "b"));
  EXPECT_EQ(r.body, "ab");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");  // the length was not known at the start
}

CSGI_ASYNC_TEST(AsyncClient, ExchangeStreamsTheRequestBodyInAndTheResponseOut) {
  AsyncClient client(echo_app());
  auto exchange = co_await client.open("POST", "/echo/");
  EXPECT_EQ(find_header(exchange->scope().headers, "transfer-encoding"), "chunked");
  EXPECT_EQ(describe(co_await exchange->next_event()), "start 200");
  exchange->send_body("a");
  EXPECT_EQ(describe(co_await exchange->next_event()), "body a more");
  exchange->send_body("b");
  EXPECT_EQ(describe(co_await exchange->next_event()), "body b more");
  exchange->send_body("", false);
  EXPECT_EQ(describe(co_await exchange->next_event()), "body  end");
  EXPECT_EQ(describe(co_await exchange->next_event()), "app finished");
  co_await exchange->finished();
}

CSGI_ASYNC_TEST(AsyncClient, DisconnectIsDeliveredToAnAppWaitingOnReceive) {
  Transcript log;
  AsyncClient client(echo_app(&log));
  auto exchange = co_await client.open("POST", "/echo/");
  EXPECT_EQ(describe(co_await exchange->next_event()), "start 200");
  exchange->disconnect();
  co_await exchange->finished();
  EXPECT_THAT(log.lines(), ElementsAre("app got http.disconnect"));
}

CSGI_ASYNC_TEST(AsyncClient, SendWaitingForTheClientThrowsClientDisconnected) {
  AsyncClient client(echo_app());
  auto exchange = co_await client.open("POST", "/echo/");
  exchange->send_body("a");
  // The app's send of "start 200" waits until the test takes it; disconnect instead.
  exchange->disconnect();
  std::exception_ptr error;
  try {
    co_await exchange->finished();
  } catch (...) {
    error = std::current_exception();
  }
  EXPECT_EQ(what(error), "client disconnected");
}

CSGI_ASYNC_TEST(AsyncClient, ReceiveAfterTheResponseGivesDisconnect) {
  bool disconnected = false;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive,
                      asgi::Send send) -> asgi::awaitable<void> {
    co_await receive();
    co_await send(asgi::HttpResponseStart{200, {}, false});
    co_await send(asgi::HttpResponseBody{"", false});
    disconnected = std::holds_alternative<asgi::HttpDisconnect>(co_await receive());
  };
  AsyncClient client(app);
  co_await client.get("/");
  EXPECT_TRUE(disconnected);
}

CSGI_ASYNC_TEST(AsyncClient, AppExceptionIsRethrownOrBecomesA500) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    throw std::runtime_error("boom");
    co_return;
  };
  std::exception_ptr error;
  try {
    co_await AsyncClient(app).get("/");
  } catch (...) {
    error = std::current_exception();
  }
  EXPECT_EQ(what(error), "boom");
  TestResponse r = co_await AsyncClient(app, {.raise_app_exceptions = false}).get("/");
  EXPECT_EQ(r.status, 500);
}

CSGI_ASYNC_TEST(AsyncClient, BodyBeforeStartIsAProtocolViolation) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseBody{"x", false});
  };
  bool violated = false;
  try {
    co_await AsyncClient(app).get("/");
  } catch (const asgi::ProtocolViolation&) {
    violated = true;
  }
  EXPECT_TRUE(violated);
}

CSGI_ASYNC_TEST(AsyncClient, AppReturningWithoutCompletingTheResponseIsAnError) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseStart{200, {}, false});
    co_await send(asgi::HttpResponseBody{"x", true});
  };
  std::exception_ptr error;
  try {
    co_await AsyncClient(app).get("/");
  } catch (...) {
    error = std::current_exception();
  }
  EXPECT_THAT(what(error), ::testing::HasSubstr("without completing"));
}

CSGI_ASYNC_TEST(AsyncClient, TrailersAreCollectedWhenAnnounced) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    co_await send(asgi::HttpResponseStart{200, {}, true});
    co_await send(asgi::HttpResponseBody{"x", false});
    co_await send(asgi::HttpResponseTrailers{{{"x-checksum", "1"}}, false});
  };
  TestResponse r = co_await AsyncClient(app).get("/");
  EXPECT_EQ(r.trailers, (Headers{{"x-checksum", "1"}}));
}

// A sync app through AsyncClient: each chunk is produced only after the test
// took the previous one (no whole-body buffering in wsgi_to_asgi).
CSGI_ASYNC_TEST(AsyncClient, SyncAppStreamsWithBackpressure) {
  Transcript log;
  wsgi::App app = [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    auto left = std::make_shared<int>(2);
    return wsgi::Body::generate([&log, left]() -> std::optional<std::string> {
      if (*left == 0) return std::nullopt;
      std::string chunk = "c" + std::to_string((*left)--);
      log.add("produce " + chunk);
      return chunk;
    });
  };
  SyncExecutor executor;
  AsyncClient client(app, executor);
  auto exchange = co_await client.open("GET", "/", {{"content-length", "0"}});
  exchange->send_body("", false);
  for (std::optional<asgi::SendEvent> event; (event = co_await exchange->next_event());)
    log.add("take " + describe(event));
  EXPECT_THAT(log.lines(), ElementsAre("produce c2", "take start 200", "take body c2 more",
                                       "produce c1", "take body c1 more", "take body  end"));
}

CSGI_ASYNC_TEST(AsyncClient, SyncBodyOfOneChunkGetsAContentLength) {
  SyncExecutor executor;
  wsgi::App app = [](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    return wsgi::Body("hello");
  };
  TestResponse r = co_await AsyncClient(app, executor).get("/");
  EXPECT_EQ(r.header("content-length"), "5");
  EXPECT_FALSE(r.header("transfer-encoding"));
}

CSGI_ASYNC_TEST(AsyncClient, ApplicationIsCalledInItsAsyncForm) {
  web::Router router;
  router.path("sync/", [](web::Request) { return web::text_response("from sync"); });
  SyncExecutor executor;
  AsyncClient client(router.application("site"), executor);
  TestResponse r = co_await client.get("/sync/");
  EXPECT_EQ(r.body, "from sync");
}

CSGI_ASYNC_TEST(AsyncClient, SecondPendingReceiveThrows) {
  std::exception_ptr second;
  asgi::App app = [&](asgi::Scope, asgi::Receive receive, asgi::Send) -> asgi::awaitable<void> {
    auto receive_one = [](asgi::Receive receive) -> asgi::awaitable<void> { co_await receive(); };
    second = co_await overlap(receive_one(receive), receive_one(receive));
  };
  AsyncClient client(app);
  auto exchange = co_await client.open("POST", "/");  // no body yet: the first waits
  co_await exchange->finished();
  EXPECT_THAT(what(second), HasSubstr("receive() called while another receive() is pending"));
}

CSGI_ASYNC_TEST(AsyncClient, SecondPendingSendThrows) {
  std::exception_ptr second;
  asgi::App app = [&](asgi::Scope, asgi::Receive, asgi::Send send) -> asgi::awaitable<void> {
    // The first waits until the test takes its event, which it does not.
    second = co_await overlap(send(asgi::HttpResponseStart{200, {}, false}),
                              send(asgi::HttpResponseBody{"x", false}));
  };
  AsyncClient client(app);
  auto exchange = co_await client.open("GET", "/", {{"content-length", "0"}});
  co_await exchange->finished();
  EXPECT_THAT(what(second), HasSubstr("send() called while another send() is pending"));
}

CSGI_ASYNC_TEST(AsyncTest, BodyRunsOnAMarkedEventLoopThread) {
  EXPECT_TRUE(this_thread_runs_event_loop());
  co_return;
}

TEST(AsyncTest, EscapingExceptionFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(run_async_test([]() -> asgi::awaitable<void> {
                            throw std::runtime_error("escaped");
                            co_return;
                          }),
                          "escaped");
}

TEST(AsyncTest, CoroutineThatNeverResumesFailsAtTheTimeout) {
  // Waits on an event that nobody sets.
  EXPECT_NONFATAL_FAILURE(run_async_test([]() -> asgi::awaitable<void> {
                            auto wakeup = std::make_unique<AsyncEvent>(
                                co_await boost::asio::this_coro::executor);
                            co_await wakeup->wait();
                          },
                                         std::chrono::milliseconds(50)),
                          "did not finish");
}

}  // namespace
}  // namespace csgi::testing
