// The built-in apps that `csgi serve NAME` runs and `csgi apps` lists.
#pragma once

#include <span>
#include <string_view>

#include "gateway/app.hpp"

namespace csgi::apps {

// The interface an app is written against (the server adapts the other one).
// The interface an app speaks natively; mixed apps route to views of both kinds.
enum class Interface { sync, async, mixed };

std::string_view to_string(Interface interface);

struct BuiltinApp {
  std::string_view name;         // what `csgi serve` takes: "hello"
  Interface interface;
  std::string_view description;  // one line for `csgi apps`
  Application (*make)();         // builds a fresh instance
};

// Every built-in app, in the order `csgi apps` lists them.
std::span<const BuiltinApp> builtin_apps();

// The built-in app called `name`, or nullptr.
const BuiltinApp* find_builtin_app(std::string_view name);

}  // namespace csgi::apps
