// Apps for the supervisor's end-to-end tests, served by the real `csgi`
// executable as a plugin (apps/plugin.hpp): `csgi serve libcsgi_supervisor_apps.so:NAME`.
//
//  - whoami: answers 200 with the serving worker's pid in `x-worker-pid`, so a
//    test knows which worker a connection landed on. GET /block instead
//    blocks the worker's event loop (a sleep on the loop thread), the hang
//    the supervisor's health check exists for.
//  - failing_startup: answers lifespan startup with a failure.
//  - unbuildable: throws when a worker asks for its async form, as an app
//    whose construction fails in the worker does.
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>

#include <unistd.h>

#include "apps/plugin.hpp"

namespace {

using namespace csgi;

asgi::awaitable<void> accept_lifespan(asgi::Receive receive, asgi::Send send) {
  for (;;) {
    asgi::ReceiveEvent event = co_await receive();
    if (std::holds_alternative<asgi::LifespanStartup>(event))
      co_await send(asgi::LifespanStartupComplete{});
    if (std::holds_alternative<asgi::LifespanShutdown>(event)) {
      co_await send(asgi::LifespanShutdownComplete{});
      co_return;
    }
  }
}

asgi::awaitable<void> answer_pid(asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  if (scope.type == asgi::ScopeType::lifespan) {
    co_await accept_lifespan(std::move(receive), std::move(send));
    co_return;
  }
  // Deliberately wrong in an async app: nothing else on this loop runs,
  // its heartbeat included, until the supervisor kills the worker.
  if (scope.path == "/block") std::this_thread::sleep_for(std::chrono::hours(1));
  std::string body = std::to_string(::getpid());
  co_await send(asgi::HttpResponseStart{
      .status = 200,
      .headers = {{"content-type", "text/plain"},
                  {"content-length", std::to_string(body.size())},
                  {"x-worker-pid", body}}});
  co_await send(asgi::HttpResponseBody{.body = body, .more_body = false});
}

asgi::awaitable<void> fail_startup(asgi::Scope scope, asgi::Receive receive, asgi::Send send) {
  if (scope.type != asgi::ScopeType::lifespan) throw std::logic_error("never serves");
  co_await receive();  // lifespan.startup
  co_await send(asgi::LifespanStartupFailed{.message = "the database is unreachable"});
}

Application make_whoami() { return Application::from_async("whoami", answer_pid); }

Application make_failing_startup() {
  return Application::from_async("failing-startup", fail_startup);
}

Application make_unbuildable() {
  Application app = Application::from_async("unbuildable", answer_pid);
  app.as_async = [](SyncExecutor&) -> asgi::App {
    throw std::runtime_error("unbuildable: the setting SECRET_KEY is missing");
  };
  return app;
}

}  // namespace

CSGI_PLUGIN_AS(whoami, make_whoami)
CSGI_PLUGIN_AS(failing_startup, make_failing_startup)
CSGI_PLUGIN_AS(unbuildable, make_unbuildable)
