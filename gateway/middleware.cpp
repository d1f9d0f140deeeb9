#include "gateway/middleware.hpp"

#include <ranges>

namespace csgi {

namespace {

template <class App, class Middleware>
App apply(App app, const std::vector<Middleware>& middleware) {
  // The last one listed is the innermost, so it wraps the app first.
  for (const auto& wrap : std::views::reverse(middleware)) app = wrap(std::move(app));
  return app;
}

}  // namespace

asgi::App asgi::compose(App app, const std::vector<Middleware>& middleware) {
  return apply(std::move(app), middleware);
}

wsgi::App wsgi::compose(App app, const std::vector<Middleware>& middleware) {
  return apply(std::move(app), middleware);
}

Application compose(Application app, const std::vector<Middleware>& middleware) {
  std::vector<asgi::Middleware> async_forms;
  std::vector<wsgi::Middleware> sync_forms;
  for (const auto& each : middleware) {
    async_forms.push_back(each.as_async);
    sync_forms.push_back(each.as_sync);
  }
  Application composed;
  composed.name = app.name;
  composed.as_async = [inner = std::move(app.as_async), async_forms](SyncExecutor& executor) {
    return asgi::compose(inner(executor), async_forms);
  };
  composed.as_sync = [inner = std::move(app.as_sync), sync_forms] {
    return wsgi::compose(inner(), sync_forms);
  };
  return composed;
}

}  // namespace csgi
