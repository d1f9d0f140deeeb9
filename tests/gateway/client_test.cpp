// Client and RequestFactory: in-process calls of sync apps, as a sync server.
#include <atomic>

#include <boost/asio/this_coro.hpp>
#include <gmock/gmock.h>

#include "gateway/adapters.hpp"
#include "web/router.hpp"
#include "gateway/testing/async_test.hpp"
#include "gateway/testing/client.hpp"
#include "tests/gateway/stubs.hpp"

namespace csgi::testing {
namespace {

using test::returning;
using test::what;
using ::testing::ElementsAre;

wsgi::App echo_app() {
  return [](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
    std::string body = environ.input->read();
    start_response(200, {{"Content-Type", "text/plain"},
                         {"X-Method", environ.request_method},
                         {"X-Query", environ.query_string}});
    return wsgi::Body(std::move(body));
  };
}

// A body counting its closes, yielding `chunks` and then throwing if `fail`.
wsgi::Body counted(std::vector<std::string> chunks, std::atomic<int>& closes, bool fail = false) {
  auto left = std::make_shared<std::vector<std::string>>(std::move(chunks));
  return wsgi::Body::generate(
      [left, fail]() -> std::optional<std::string> {
        if (left->empty()) {
          if (fail) throw std::runtime_error("body failed");
          return std::nullopt;
        }
        std::string chunk = left->front();
        left->erase(left->begin());
        return chunk;
      },
      [&closes] { ++closes; });
}

TEST(Client, GetAndPostReachTheSyncApp) {
  Client client(echo_app());
  TestResponse get = client.get("/path/?a=1");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.header("x-method"), "GET");
  EXPECT_EQ(get.header("x-query"), "a=1");
  TestResponse post = client.post("/path/", "payload");
  EXPECT_EQ(post.header("X-Method"), "POST");
  EXPECT_EQ(post.body, "payload");
}

TEST(Client, BodyOfOneChunkGetsAContentLength) {
  TestResponse r = Client(returning([] { return wsgi::Body("hello"); })).get("/");
  EXPECT_EQ(r.header("content-length"), "5");
  EXPECT_FALSE(r.header("transfer-encoding"));
  EXPECT_EQ(r.body, "hello");
}

TEST(Client, GeneratedBodyIsChunked) {
  TestResponse r = Client(returning([] { return test::generated({"hello"}); })).get("/");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_FALSE(r.header("content-length"));
  EXPECT_EQ(r.body, "hello");
}

TEST(Client, ContentLengthOfTheAppIsKept) {
  auto app = returning([] { return test::generated({"he", "llo"}); }, {{"Content-Length", "5"}});
  TestResponse r = Client(app).get("/");
  EXPECT_EQ(r.headers, (Headers{{"Content-Length", "5"}}));
}

TEST(Client, BodyIsClosedAfterANormalEnd) {
  std::atomic<int> closes = 0;
  Client client([&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    return counted({"a", "", "b"}, closes);
  });
  TestResponse r = client.get("/");
  EXPECT_THAT(r.chunks, ElementsAre("a", "b"));
  EXPECT_EQ(closes, 1);
}

TEST(Client, BodyIsClosedWhenItThrows) {
  std::atomic<int> closes = 0;
  Client client([&](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    return counted({"a"}, closes, true);
  });
  EXPECT_THROW(client.get("/"), std::runtime_error);
  EXPECT_EQ(closes, 1);
}

TEST(Client, SimulatedDisconnectStopsPullingAndClosesTheBody) {
  std::atomic<int> closes = 0;
  Client client(
      [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
        start_response(200, {});
        return counted({"a", "b", "c"}, closes);
      },
      {.disconnect_after_chunks = 1});
  TestResponse r = client.get("/");
  EXPECT_THAT(r.chunks, ElementsAre("a"));
  EXPECT_EQ(closes, 1);
}

TEST(Client, WriteThrowsClientDisconnectedAfterTheSimulatedDisconnect) {
  bool saw_disconnect = false;
  Client client(
      [&](wsgi::Environ&, wsgi::StartResponse& start_response) {
        wsgi::Write write = start_response(200, {});
        write("a");
        try {
          write("b");
        } catch (const asgi::ClientDisconnected&) {
          saw_disconnect = true;
          throw;
        }
        return wsgi::Body();
      },
      {.disconnect_after_chunks = 1});
  TestResponse r = client.get("/");
  EXPECT_TRUE(saw_disconnect);
  EXPECT_THAT(r.chunks, ElementsAre("a"));
}

TEST(Client, ExcInfoReplacesHeadersUntilTheFirstNonEmptyChunk) {
  Client client([](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {});
    auto& start = start_response;
    auto calls = std::make_shared<int>(0);
    return wsgi::Body::generate([&start, calls]() -> std::optional<std::string> {
      switch ((*calls)++) {
        case 0: return "";  // nothing sent yet: the headers can still change
        case 1:
          start(503, {{"retry-after", "1"}}, std::make_exception_ptr(std::runtime_error("x")));
          return "busy";
        default: return std::nullopt;
      }
    });
  });
  TestResponse r = client.get("/");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(r.body, "busy");
}

TEST(Client, ExcInfoIsRethrownAfterTheHeadersWereSent) {
  Client client([](wsgi::Environ&, wsgi::StartResponse& start_response) {
    start_response(200, {})("sent");
    start_response(500, {}, std::make_exception_ptr(std::runtime_error("too late")));
    return wsgi::Body();
  });
  try {
    client.get("/");
    ADD_FAILURE() << "expected the exc_info to be rethrown";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "too late");
  }
}

TEST(Client, AppExceptionBecomesA500WhenNotRaised) {
  wsgi::App failing = [](wsgi::Environ&, wsgi::StartResponse&) -> wsgi::Body {
    throw std::runtime_error("boom");
  };
  EXPECT_THROW(Client(failing).get("/"), std::runtime_error);
  EXPECT_EQ(Client(failing, {.raise_app_exceptions = false}).get("/").status, 500);
}

TEST(Client, AppReturningWithoutStartResponseIsAnError) {
  Client client([](wsgi::Environ&, wsgi::StartResponse&) { return wsgi::Body("x"); });
  EXPECT_THROW(client.get("/"), std::logic_error);
  Client empty([](wsgi::Environ&, wsgi::StartResponse&) { return wsgi::Body(); });
  EXPECT_THROW(empty.get("/"), std::runtime_error);
}

TEST(Client, AsyncAppRunsThroughAsgiToWsgi) {
  asgi::App app = [](asgi::Scope scope, asgi::Receive receive,
                     asgi::Send send) -> asgi::awaitable<void> {
    auto request = std::get<asgi::HttpRequest>(co_await receive());
    co_await send(asgi::HttpResponseStart{200, {}, false});
    co_await send(asgi::HttpResponseBody{scope.method + " ", true});
    co_await send(asgi::HttpResponseBody{request.body, false});
  };
  TestResponse r = Client(app).post("/", "body");
  EXPECT_THAT(r.chunks, ElementsAre("POST ", "body"));
}

TEST(Client, ApplicationIsCalledInItsSyncForm) {
  web::Router router;
  router.path("async/", [](web::Request) -> asgi::awaitable<web::Response> {
    co_return web::json_response(boost::json::object{{"on_loop", this_thread_runs_event_loop()}});
  });
  TestResponse r = Client(router.application("site")).get("/async/");
  EXPECT_EQ(r.json().at("on_loop"), true);
  EXPECT_EQ(Client(router.application("site")).get("/missing/").status, 404);
}

CSGI_ASYNC_TEST(Client, AsyncAppIsRefusedOnAnEventLoopThread) {
  asgi::App app = [](asgi::Scope, asgi::Receive, asgi::Send) -> asgi::awaitable<void> {
    co_return;
  };
  bool refused = false;
  try {
    Client(app).get("/");
  } catch (const NestedEventLoopError&) {
    refused = true;
  }
  EXPECT_TRUE(refused);
  co_return;
}

TEST(RequestFactory, ScopeSplitsTheTargetAndAddsDefaultHeaders) {
  RequestFactory factory;
  asgi::Scope scope = factory.scope("post", "/a%20b/?x=1&y=2", {{"X-Test", "1"}}, "body");
  EXPECT_EQ(scope.method, "POST");
  EXPECT_EQ(scope.path, "/a b/");
  EXPECT_EQ(scope.raw_path, "/a%20b/");
  EXPECT_EQ(scope.query_string, "x=1&y=2");
  EXPECT_EQ(scope.headers,
            (Headers{{"x-test", "1"}, {"host", "testserver"}, {"content-length", "4"}}));
  EXPECT_EQ(scope.client, (Endpoint{"127.0.0.1", 40000}));
}

TEST(RequestFactory, EnvironCarriesTheBodyAsItsInput) {
  RequestFactory factory;
  SyncRequest request = factory.environ("PUT", "/x?q", {}, "data");
  EXPECT_EQ(request.environ.request_method, "PUT");
  EXPECT_EQ(request.environ.path_info, "/x");
  EXPECT_EQ(request.environ.query_string, "q");
  EXPECT_EQ(request.environ.header("content-length"), "4");
  EXPECT_EQ(request.environ.input->read(), "data");
}

}  // namespace
}  // namespace csgi::testing
