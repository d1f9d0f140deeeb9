#include "gateway/app.hpp"

#include "gateway/adapters.hpp"

namespace csgi {

Application Application::from_async(std::string name, asgi::App app) {
  Application application;
  application.name = std::move(name);
  application.as_async = [app](SyncExecutor&) { return app; };
  application.as_sync = [app] { return asgi_to_wsgi(app); };
  return application;
}

Application Application::from_sync(std::string name, wsgi::App app) {
  Application application;
  application.name = std::move(name);
  application.as_async = [app](SyncExecutor& executor) { return wsgi_to_asgi(app, executor); };
  application.as_sync = [app] { return app; };
  return application;
}

}  // namespace csgi
