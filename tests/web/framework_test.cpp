// What an app author gets from web::Router beyond routing by path: routes per
// method, typed captures, the client's address and the scheme, JSON in and
// out, HttpError, streamed responses and middleware. Each behaviour is checked
// in both forms of the router (the sync one through Client, the async one
// through AsyncClient), with sync and async views.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/testing/async_client.hpp"
#include "gateway/testing/async_test.hpp"
#include "gateway/testing/client.hpp"
#include "tests/gateway/stubs.hpp"
#include "web/router.hpp"

namespace csgi::web {
namespace {

using testing::TestResponse;
using ::testing::ElementsAre;
using ::testing::StartsWith;

struct Call {
  std::string method;
  std::string target;
  std::string body = {};
};

asgi::awaitable<void> call_async_form(const Application& app, const Call& call,
                                      TestResponse& response) {
  SyncExecutor executor;
  testing::AsyncClient client(app, executor);
  response = co_await client.request(call.method, call.target, {}, call.body);
}

// The answers of the sync form and of the async form, in that order.
std::vector<TestResponse> in_both_forms(const Router& router, const Call& call) {
  Application app = router.application("test");
  TestResponse sync_answer = testing::Client(app).request(call.method, call.target, {}, call.body);
  TestResponse async_answer;
  testing::run_async_test([&] { return call_async_form(app, call, async_answer); });
  return {sync_answer, async_answer};
}

std::vector<int> statuses(const std::vector<TestResponse>& answers) {
  std::vector<int> out;
  for (const auto& answer : answers) out.push_back(answer.status);
  return out;
}

std::vector<std::string> bodies(const std::vector<TestResponse>& answers) {
  std::vector<std::string> out;
  for (const auto& answer : answers) out.push_back(answer.body);
  return out;
}

Router items_router() {
  Router router;
  router.get("items/", [](Request) { return text_response("list"); })
      .post("items/", [](Request) -> asgi::awaitable<Response> {
        co_return text_response("created", 201);
      });
  return router;
}

TEST(RouterMethods, EachMethodReachesItsOwnView) {
  Router router = items_router();
  EXPECT_THAT(bodies(in_both_forms(router, {"GET", "/items/"})), ElementsAre("list", "list"));
  auto created = in_both_forms(router, {"POST", "/items/"});
  EXPECT_THAT(statuses(created), ElementsAre(201, 201));
  EXPECT_THAT(bodies(created), ElementsAre("created", "created"));
}

TEST(RouterMethods, OtherMethodIs405WithAllowListingTheRoutesMethods) {
  for (const TestResponse& answer : in_both_forms(items_router(), {"DELETE", "/items/"})) {
    EXPECT_EQ(answer.status, 405);
    EXPECT_EQ(answer.header("allow"), "GET, HEAD, POST");
    EXPECT_EQ(answer.json().at("detail"), "Method Not Allowed");
  }
}

TEST(RouterMethods, GetRouteAnswersHead) {
  EXPECT_THAT(statuses(in_both_forms(items_router(), {"HEAD", "/items/"})), ElementsAre(200, 200));
}

TEST(RouterMethods, UnknownPathIsStill404) {
  EXPECT_THAT(statuses(in_both_forms(items_router(), {"DELETE", "/nothing/"})),
              ElementsAre(404, 404));
}

Router doubling_router() {
  Router router;
  router.get("items/<int:id>/", [](Request request) {
    return text_response(std::to_string(request.int_param("id") * 2));
  });
  return router;
}

TEST(RouterIntCapture, ViewGetsAnInteger) {
  EXPECT_THAT(bodies(in_both_forms(doubling_router(), {"GET", "/items/21/"})),
              ElementsAre("42", "42"));
}

TEST(RouterIntCapture, NonIntegerAndOutOfRangeAre404) {
  for (const char* target : {"/items/abc/", "/items/-1/", "/items/99999999999999999999/"})
    EXPECT_THAT(statuses(in_both_forms(doubling_router(), {"GET", target})),
                ElementsAre(404, 404))
        << target;
}

TEST(RouterRequest, ViewSeesTheClientAddressAndTheScheme) {
  Router router;
  router.get("who/", [](Request request) {
    return text_response(request.scheme + " " + request.client->host + " " +
                         std::to_string(request.client->port));
  });
  EXPECT_THAT(bodies(in_both_forms(router, {"GET", "/who/"})),
              ElementsAre("http 127.0.0.1 40000", "http 127.0.0.1 40000"));
}

Router json_router() {
  Router router;
  router.post("sync/", [](Request request) {
    return json_response(boost::json::object{{"double", request.json().at("n").as_int64() * 2}});
  });
  router.post("async/", [](Request request) -> asgi::awaitable<Response> {
    co_return json_response(
        boost::json::object{{"double", request.json().at("n").as_int64() * 2}});
  });
  return router;
}

TEST(RouterJson, JsonInAndOut) {
  for (const char* target : {"/sync/", "/async/"})
    for (const TestResponse& answer : in_both_forms(json_router(), {"POST", target, R"({"n": 4})"})) {
      EXPECT_EQ(answer.status, 200) << target;
      EXPECT_EQ(answer.header("content-type"), "application/json");
      EXPECT_EQ(answer.json().at("double"), 8) << target;
    }
}

TEST(RouterJson, MalformedJsonThatTheViewLetsThroughIs400) {
  for (const char* target : {"/sync/", "/async/"})
    for (const TestResponse& answer : in_both_forms(json_router(), {"POST", target, "{\"n\":"})) {
      EXPECT_EQ(answer.status, 400) << target;
      EXPECT_THAT(std::string(answer.json().at("detail").as_string()), StartsWith("Malformed JSON"));
    }
}

TEST(RouterErrors, HttpErrorFromAViewAnswersItsStatus) {
  Router router;
  router.get("sync/", [](Request) -> Response { throw HttpError(404, "no such item"); });
  router.get("async/", [](Request) -> asgi::awaitable<Response> {
    throw HttpError(409, "conflict");
    co_return text_response("unreachable");
  });
  for (const TestResponse& answer : in_both_forms(router, {"GET", "/sync/"})) {
    EXPECT_EQ(answer.status, 404);
    EXPECT_EQ(answer.json().at("detail"), "no such item");
  }
  EXPECT_THAT(statuses(in_both_forms(router, {"GET", "/async/"})), ElementsAre(409, 409));
}

asgi::awaitable<std::optional<std::string>> next_async_line(std::shared_ptr<int> lines) {
  if (*lines == 3) co_return std::nullopt;
  co_return "line " + std::to_string(++*lines) + "\n";
}

Router streaming_router() {
  Router router;
  router.get("sync/", [](Request) {
    return streaming_response(SyncChunks([lines = 0]() mutable -> std::optional<std::string> {
                                if (lines == 3) return std::nullopt;
                                return "line " + std::to_string(++lines) + "\n";
                              }),
                              {{"content-type", "text/plain"}});
  });
  router.get("async/", [](Request) -> asgi::awaitable<Response> {
    auto lines = std::make_shared<int>(0);
    co_return streaming_response(AsyncChunks([lines] { return next_async_line(lines); }));
  });
  return router;
}

TEST(RouterStreaming, ChunksGoOutOneByOneWithoutContentLength) {
  for (const char* target : {"/sync/", "/async/"})
    for (const TestResponse& answer : in_both_forms(streaming_router(), {"GET", target})) {
      EXPECT_EQ(answer.status, 200) << target;
      EXPECT_THAT(answer.chunks, ElementsAre("line 1\n", "line 2\n", "line 3\n")) << target;
      EXPECT_EQ(answer.header("content-length"), std::nullopt) << target;
      EXPECT_EQ(answer.header("transfer-encoding"), "chunked") << target;
    }
}

// A middleware that appends `name` to the x-trace header of every response.
Middleware tracing(std::string name) {
  auto add = [name](Headers& headers) {
    for (auto& [key, value] : headers)
      if (key == "x-trace") {
        value += "," + name;
        return;
      }
    headers.emplace_back("x-trace", name);
  };
  return Middleware{
      .as_async =
          [add](asgi::App app) -> asgi::App {
            return [app, add](asgi::Scope&& scope, asgi::Receive receive, asgi::Send send) {
              asgi::Send traced = [send, add](asgi::SendEvent event) {
                if (auto* start = std::get_if<asgi::HttpResponseStart>(&event)) add(start->headers);
                return send(std::move(event));
              };
              return app(std::move(scope), std::move(receive), std::move(traced));
            };
          },
      .as_sync =
          [add](wsgi::App app) -> wsgi::App {
            return [app, add](wsgi::Environ& environ, wsgi::StartResponse& start_response) {
              wsgi::StartResponse traced([&start_response, add](int status, Headers headers,
                                                                std::exception_ptr error) {
                add(headers);
                return start_response(status, std::move(headers), std::move(error));
              });
              return app(environ, traced);
            };
          }};
}

TEST(RouterMiddleware, WrapsBothFormsTheFirstAddedOutermost) {
  Router router = items_router();
  router.use(tracing("outer")).use(tracing("inner"));
  for (const TestResponse& answer : in_both_forms(router, {"GET", "/items/"}))
    EXPECT_EQ(answer.header("x-trace"), "inner,outer");
  for (const TestResponse& answer : in_both_forms(router, {"POST", "/items/"}))
    EXPECT_EQ(answer.header("x-trace"), "inner,outer");
}

Middleware async_only(std::string name) {
  Middleware middleware = tracing(std::move(name));
  middleware.as_sync = nullptr;
  return middleware;
}

Middleware sync_only(std::string name) {
  Middleware middleware = tracing(std::move(name));
  middleware.as_async = nullptr;
  return middleware;
}

TEST(RouterMiddleware, AsyncOnlyMiddlewareWrapsTheSyncFormToo) {
  Router router = items_router();
  router.use(async_only("outer")).use(tracing("inner"));
  for (const char* method : {"GET", "POST"})
    for (const TestResponse& answer : in_both_forms(router, {method, "/items/"})) {
      EXPECT_EQ(answer.header("x-trace"), "inner,outer") << method;
      EXPECT_EQ(answer.status, method == std::string("GET") ? 200 : 201);
    }
}

TEST(RouterMiddleware, SyncOnlyMiddlewareWrapsTheAsyncFormToo) {
  Router router = items_router();
  router.use(tracing("outer")).use(sync_only("inner"));
  for (const char* method : {"GET", "POST"})
    for (const TestResponse& answer : in_both_forms(router, {method, "/items/"}))
      EXPECT_EQ(answer.header("x-trace"), "inner,outer") << method;
}

TEST(RouterMiddleware, SyncOnlyMiddlewareLeavesLifespanToTheRouter) {
  bool started = false;
  Router router;
  router.on_startup([&started](std::shared_ptr<State>) -> asgi::awaitable<void> {
    started = true;
    co_return;
  });
  router.use(sync_only("x"));
  SyncExecutor executor;
  test::AsyncServerStub server;
  server.incoming = {asgi::LifespanStartup{}, asgi::LifespanShutdown{}};
  asgi::Scope scope;
  scope.type = asgi::ScopeType::lifespan;
  EXPECT_FALSE(test::run_async_app(router.as_async(executor), server, std::move(scope)));
  EXPECT_TRUE(started);
  EXPECT_EQ(server.events(), (std::vector<std::string>{"lifespan.startup.complete",
                                                       "lifespan.shutdown.complete"}));
}

TEST(RouterMiddleware, MixingAsyncOnlyAndSyncOnlyMiddlewareIsRefused) {
  Router router;
  router.use(async_only("a"));
  EXPECT_THROW(router.use(sync_only("s")), std::invalid_argument);
  EXPECT_THROW(router.use(Middleware{}), std::invalid_argument);
}

TEST(RouterMiddleware, WholeAppMiddlewareWrapsTheRoutersApplication) {
  Application app = compose(items_router().application("items"), {tracing("app")});
  EXPECT_EQ(testing::Client(app).get("/items/").header("x-trace"), "app");
}

}  // namespace
}  // namespace csgi::web
