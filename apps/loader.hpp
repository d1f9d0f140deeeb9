// Turns the APP argument of `csgi serve` into an Application: a built-in name
// from apps/registry.hpp, or a plugin `path/to/lib.so[:symbol]` built with
// apps/plugin.hpp and loaded with dlopen.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "gateway/app.hpp"

namespace csgi::apps {

// APP names no built-in app and is not a plugin path. what() lists the
// built-in apps.
class UnknownApp : public std::runtime_error {
 public:
  explicit UnknownApp(std::string_view name);
};

// A plugin could not be loaded: missing file, missing symbol, ABI mismatch, or
// its factory threw. what() says which, with dlerror's text.
class AppLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True when `spec` names a plugin rather than a built-in app: it contains a '/'
// or its file part ends in ".so".
bool is_plugin_spec(std::string_view spec);

// Loads `spec`: a built-in app, or a plugin. A plugin's library stays loaded
// for the life of the process (its code backs the returned Application).
// Throws UnknownApp or AppLoadError.
Application load_app(std::string_view spec);

// Loads the plugin at `path` through its entry point `symbol`
// (plugin::default_symbol when empty). Throws AppLoadError.
Application load_plugin(const std::string& path, const std::string& symbol = {});

}  // namespace csgi::apps
