// The table of built-in apps: one entry per app, read by `csgi apps` and by
// the loader.
#include "apps/registry.hpp"

#include <array>

#include "apps/builtin.hpp"
#include "apps/mysite.hpp"

namespace csgi::apps {
namespace {

constexpr std::array apps{
    BuiltinApp{"hello", Interface::async,
               R"(any path answers {"message": "Hello World!"} as JSON; ?delay_ms=N awaits )"
               "an N ms timer first",
               hello_app},
    BuiltinApp{"hello-sync", Interface::sync,
               "the same through the sync interface; ?delay_ms=N blocks its thread for N ms",
               hello_sync_app},
    BuiltinApp{"echo", Interface::async,
               "answers the request's scope (method, path, headers, client...) and body length "
               "as JSON",
               echo_app},
    BuiltinApp{"mysite", Interface::mixed,
               "the article's site: sync /api/ (sleeps 1 s), async /api/aggregated/ calling it "
               "10 times at once, sync /api/aggregated/sync/",
               mysite_app},
    BuiltinApp{"mysite-async", Interface::mixed,
               "the article's fix: mysite with an async /api/ (awaits 1 s)", mysite_async_app},
};

}  // namespace

std::string_view to_string(Interface interface) {
  switch (interface) {
    case Interface::sync: return "sync";
    case Interface::async: return "async";
    case Interface::mixed: return "mixed";
  }
  return "";
}

std::span<const BuiltinApp> builtin_apps() { return apps; }

const BuiltinApp* find_builtin_app(std::string_view name) {
  for (const BuiltinApp& app : apps) {
    if (app.name == name) return &app;
  }
  return nullptr;
}

}  // namespace csgi::apps
