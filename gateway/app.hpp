// Either kind of app, as servers and the CLI hold it.
#pragma once

#include <string>
#include <variant>

#include "gateway/asgi.hpp"
#include "gateway/wsgi.hpp"

namespace csgi {

struct Application {
  std::variant<asgi::App, wsgi::App> app;
  std::string name;  // for logs ("hello", "mysite", a plugin path)

  bool is_async() const { return app.index() == 0; }
};

}  // namespace csgi
