// web::Router: matching, and sync and async views in both of its forms.
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gmock/gmock.h>

#include "web/router.hpp"
#include "tests/gateway/stubs.hpp"

namespace csgi::web {
namespace {

using test::AsyncServerStub;
using test::SyncServerStub;
using ::testing::ElementsAre;
using ::testing::Optional;
using ::testing::Pair;

// Where a view ran: its thread, and whether that thread ran an event loop.
struct Placement {
  std::thread::id thread;
  bool on_event_loop = false;
};

Router mixed_router(Placement& async_placement, Placement& sync_placement) {
  Router router;
  router.path("async/", [&](Request request) -> asgi::awaitable<Response> {
    async_placement = {std::this_thread::get_id(), this_thread_runs_event_loop()};
    co_return json_response(boost::json::object{{"view", "async"}, {"body", request.body}});
  });
  router.path("sync/", [&](Request request) {
    sync_placement = {std::this_thread::get_id(), this_thread_runs_event_loop()};
    return json_response(boost::json::object{{"view", "sync"}, {"body", request.body}});
  });
  return router;
}

asgi::Scope scope_for(std::string path) {
  asgi::Scope scope;
  scope.path = scope.raw_path = std::move(path);
  return scope;
}

// The status and body an async form answered with.
std::pair<int, std::string> answer(AsyncServerStub& server) {
  std::string body;
  for (const auto& event : server.sent)
    if (auto* chunk = std::get_if<asgi::HttpResponseBody>(&event)) body += chunk->body;
  return {std::get<asgi::HttpResponseStart>(server.sent.at(0)).status, body};
}

std::pair<int, std::string> call_sync(const wsgi::App& app, SyncServerStub& server) {
  wsgi::Body body = server.call(app);
  std::string text;
  while (auto chunk = body.next()) text += *chunk;
  body.close();
  return {server.statuses.at(0), text};
}

TEST(RouterPattern, MatchesLikeDjangoPath) {
  Router::Pattern api("api/");
  EXPECT_TRUE(api.match("/api/"));
  EXPECT_FALSE(api.match("/api"));
  EXPECT_FALSE(api.match("/api/x/"));
  EXPECT_FALSE(api.match("api/"));
  EXPECT_TRUE(Router::Pattern("").match("/"));
  Router::Pattern item("items/<int:id>/<slug>/");
  EXPECT_THAT(item.match("/items/42/blue/"),
              Optional(ElementsAre(Pair("id", "42"), Pair("slug", "blue"))));
  EXPECT_FALSE(item.match("/items/x/blue/"));
  EXPECT_FALSE(item.match("/items//blue/"));
}

TEST(Router, AsyncFormRunsAsyncViewsOnTheLoop) {
  Placement async_placement, sync_placement;
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::HttpRequest{"payload", false}};
  test::run_async_app(mixed_router(async_placement, sync_placement).as_async(executor), server,
                      scope_for("/async/"));
  EXPECT_EQ(answer(server), std::pair(200, std::string(R"({"view":"async","body":"payload"})")));
  EXPECT_EQ(async_placement.thread, std::this_thread::get_id());
  EXPECT_EQ(find_header(std::get<asgi::HttpResponseStart>(server.sent[0]).headers,
                        "content-type"),
            "application/json");
}

TEST(Router, AsyncFormRunsSyncViewsOnTheSyncExecutor) {
  Placement async_placement, sync_placement;
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::HttpRequest{"pay", true}, asgi::HttpRequest{"load", false}};
  test::run_async_app(mixed_router(async_placement, sync_placement).as_async(executor), server,
                      scope_for("/sync/"));
  EXPECT_EQ(answer(server), std::pair(200, std::string(R"({"view":"sync","body":"payload"})")));
  EXPECT_NE(sync_placement.thread, std::this_thread::get_id());
  EXPECT_FALSE(sync_placement.on_event_loop);
}

TEST(Router, SyncFormRunsSyncViewsInTheCallingThread) {
  Placement async_placement, sync_placement;
  SyncServerStub server("payload");
  server.environ.path_info = "/sync/";
  auto [status, body] = call_sync(mixed_router(async_placement, sync_placement).as_sync(), server);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, R"({"view":"sync","body":"payload"})");
  EXPECT_EQ(sync_placement.thread, std::this_thread::get_id());
  EXPECT_FALSE(sync_placement.on_event_loop);
}

TEST(Router, SyncFormRunsAsyncViewsOnAFreshLoopInTheCallingThread) {
  Placement async_placement, sync_placement;
  SyncServerStub server("payload");
  server.environ.path_info = "/async/";
  auto [status, body] = call_sync(mixed_router(async_placement, sync_placement).as_sync(), server);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, R"({"view":"async","body":"payload"})");
  EXPECT_EQ(async_placement.thread, std::this_thread::get_id());
  EXPECT_TRUE(async_placement.on_event_loop);
}

TEST(Router, BodyOverTheMaximumIs413WithoutCallingTheViewInBothForms) {
  Placement async_placement, sync_placement;
  Router router = mixed_router(async_placement, sync_placement);
  router.max_body_size(6);
  SyncExecutor executor;
  for (const char* path : {"/async/", "/sync/"}) {
    AsyncServerStub server;
    server.incoming = {asgi::HttpRequest{"pay", true}, asgi::HttpRequest{"load", false}};
    test::run_async_app(router.as_async(executor), server, scope_for(path));
    EXPECT_EQ(answer(server).first, 413) << path;
    SyncServerStub sync_server("payload");
    sync_server.environ.path_info = path;
    EXPECT_EQ(call_sync(router.as_sync(), sync_server).first, 413) << path;
  }
  EXPECT_EQ(async_placement.thread, std::thread::id());
  EXPECT_EQ(sync_placement.thread, std::thread::id());
}

TEST(Router, AnnouncedLengthOverTheMaximumIs413BeforeReading) {
  Placement async_placement, sync_placement;
  Router router = mixed_router(async_placement, sync_placement);
  router.max_body_size(6);
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::HttpRequest{"payload", false}};
  asgi::Scope scope = scope_for("/async/");
  scope.headers = {{"content-length", "7"}};
  test::run_async_app(router.as_async(executor), server, std::move(scope));
  EXPECT_EQ(answer(server).first, 413);
  EXPECT_EQ(server.incoming.size(), 1u);  // nothing of the body was read
}

TEST(Router, BodyOfTheMaximumSizeReachesTheView) {
  Placement async_placement, sync_placement;
  Router router = mixed_router(async_placement, sync_placement);
  router.max_body_size(7);
  SyncServerStub server("payload");
  server.environ.path_info = "/sync/";
  EXPECT_EQ(call_sync(router.as_sync(), server).first, 200);
}

TEST(Router, UnknownPathIsA404WithAJsonBodyInBothForms) {
  Placement async_placement, sync_placement;
  Router router = mixed_router(async_placement, sync_placement);
  SyncExecutor executor;
  AsyncServerStub async_server;
  test::run_async_app(router.as_async(executor), async_server, scope_for("/nope/"));
  auto [status, body] = answer(async_server);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(boost::json::parse(body).at("detail"), "Not Found");

  SyncServerStub sync_server;
  sync_server.environ.path_info = "/nope/";
  EXPECT_EQ(call_sync(router.as_sync(), sync_server).first, 404);
}

TEST(Router, MissingTrailingSlashRedirectsLikeAppendSlash) {
  Placement async_placement, sync_placement;
  SyncExecutor executor;
  AsyncServerStub server;
  asgi::Scope scope = scope_for("/sync");
  scope.query_string = "a=1";
  test::run_async_app(mixed_router(async_placement, sync_placement).as_async(executor), server,
                      scope);
  const auto& start = std::get<asgi::HttpResponseStart>(server.sent.at(0));
  EXPECT_EQ(start.status, 301);
  EXPECT_EQ(find_header(start.headers, "location"), "/sync/?a=1");
}

TEST(Router, ViewSeesQueryHeadersMethodAndCaptures) {
  Router router;
  Request seen;
  router.path("items/<int:id>/", [&](Request request) {
    seen = request;
    return text_response("ok");
  });
  SyncServerStub server;
  server.environ.request_method = "DELETE";
  server.environ.path_info = "/items/7/";
  server.environ.query_string = "name=a+b%21&flag&name=second";
  server.environ.headers.emplace_back("x-token", "t");
  EXPECT_EQ(call_sync(router.as_sync(), server).first, 200);
  EXPECT_EQ(seen.method, "DELETE");
  EXPECT_EQ(seen.params.at("id"), "7");
  EXPECT_EQ(seen.query("name"), "a b!");
  EXPECT_EQ(seen.query("flag"), "");
  EXPECT_EQ(seen.query("missing"), std::nullopt);
  EXPECT_EQ(seen.header("X-Token"), "t");
  EXPECT_EQ(find_header(server.headers, "content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(find_header(server.headers, "content-length"), "2");
}

asgi::Scope lifespan_scope(std::shared_ptr<State> state) {
  asgi::Scope scope;
  scope.type = asgi::ScopeType::lifespan;
  scope.state = std::move(state);
  return scope;
}

TEST(RouterLifespan, HooksRunInOrderAtStartupAndInReverseAtShutdown) {
  std::vector<std::string> ran;
  auto hook = [&ran](std::string name) {
    return [&ran, name](std::shared_ptr<State> state) -> asgi::awaitable<void> {
      ran.push_back(name);
      if (state) state->set("last", name);
      co_return;
    };
  };
  web::Router router;
  router.on_startup(hook("open db")).on_startup(hook("warm cache"));
  router.on_shutdown(hook("close db")).on_shutdown(hook("flush cache"));
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::LifespanStartup{}, asgi::LifespanShutdown{}};
  auto state = std::make_shared<State>();
  EXPECT_FALSE(test::run_async_app(router.as_async(executor), server, lifespan_scope(state)));
  EXPECT_EQ(ran, (std::vector<std::string>{"open db", "warm cache", "flush cache", "close db"}));
  EXPECT_EQ(server.events(), (std::vector<std::string>{"lifespan.startup.complete",
                                                       "lifespan.shutdown.complete"}));
  EXPECT_EQ(*state->get<std::string>("last"), "close db");
}

TEST(RouterLifespan, RouterWithoutHooksAnswersLifespan) {
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::LifespanStartup{}, asgi::LifespanShutdown{}};
  EXPECT_FALSE(test::run_async_app(web::Router().as_async(executor), server, lifespan_scope(nullptr)));
  EXPECT_EQ(server.events(), (std::vector<std::string>{"lifespan.startup.complete",
                                                       "lifespan.shutdown.complete"}));
}

TEST(RouterLifespan, StartupHookThatThrowsFailsStartupWithItsMessage) {
  bool later_ran = false;
  web::Router router;
  router.on_startup([](std::shared_ptr<State>) -> asgi::awaitable<void> {
    throw std::runtime_error("no database");
    co_return;
  });
  router.on_startup([&later_ran](std::shared_ptr<State>) -> asgi::awaitable<void> {
    later_ran = true;
    co_return;
  });
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::LifespanStartup{}};
  EXPECT_FALSE(test::run_async_app(router.as_async(executor), server, lifespan_scope(nullptr)));
  ASSERT_EQ(server.sent.size(), 1u);
  auto* failed = std::get_if<asgi::LifespanStartupFailed>(&server.sent[0]);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->message, "no database");
  EXPECT_FALSE(later_ran);
}

TEST(Router, ApplicationProvidesBothForms) {
  Placement async_placement, sync_placement;
  Application app = mixed_router(async_placement, sync_placement).application("mixed");
  EXPECT_EQ(app.name, "mixed");
  SyncExecutor executor;
  AsyncServerStub server;
  server.incoming = {asgi::HttpRequest{}};
  test::run_async_app(app.as_async(executor), server, scope_for("/sync/"));
  EXPECT_EQ(answer(server).first, 200);
  SyncServerStub sync_server;
  sync_server.environ.path_info = "/async/";
  EXPECT_EQ(call_sync(app.as_sync(), sync_server).first, 200);
}

}  // namespace
}  // namespace csgi::web
