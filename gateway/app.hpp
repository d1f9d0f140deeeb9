// An app as servers and the CLI hold it: whatever interface it speaks natively,
// it can be asked for in either form. A server takes the form native to it (the
// loop server the async one, the threaded server the sync one); the other form
// goes through an adapter, or is provided natively by apps that mix both (a
// router with sync and async views).
#pragma once

#include <functional>
#include <string>

#include "gateway/asgi.hpp"
#include "runtime/executor.hpp"
#include "gateway/wsgi.hpp"

namespace csgi {

struct Application {
  std::string name;  // for logs: "hello", "mysite", a plugin path
  // The async form; sync code inside it runs on `sync_executor` (the server's).
  std::function<asgi::App(SyncExecutor& sync_executor)> as_async;
  // The sync form; async code inside it runs on a fresh loop per call.
  std::function<wsgi::App()> as_sync;

  // An async app; its sync form is asgi_to_wsgi(app).
  static Application from_async(std::string name, asgi::App app);
  // A sync app; its async form is wsgi_to_asgi(app, sync_executor).
  static Application from_sync(std::string name, wsgi::App app);
};

}  // namespace csgi
