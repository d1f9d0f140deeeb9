// Turns the APP argument of `csgi serve` into an Application: a built-in name
// from apps/registry.hpp, or a plugin `path/to/lib.so[:symbol]` built with
// apps/plugin.hpp and loaded with dlopen.
#pragma once

#include <chrono>
#include <memory>
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

// A plugin spec split into its file and its entry point: "lib.so:make" ->
// {"./lib.so", "make"}. A bare file name means the file in the current
// directory (dlopen would search the library path for it).
struct PluginSpec {
  std::string path;
  std::string symbol;  // empty: plugin::default_symbol
};
PluginSpec parse_plugin_spec(std::string_view spec);

// How a plugin is kept up to date (apps/reload.hpp).
struct ReloadOptions {
  bool watch = false;  // --reload: load the file again whenever it changes
  std::chrono::milliseconds poll_interval{100};
  // How long the file must stay unchanged before it is loaded: a build being
  // written is left alone until the writer is done.
  std::chrono::milliseconds settle{300};
};

// Loads `spec`: a built-in app, or a plugin (apps/reload.hpp's plugin_app,
// with `options`). Throws UnknownApp or AppLoadError.
Application load_app(std::string_view spec, const ReloadOptions& options = {});

// A plugin's app together with the library whose code backs it. The library
// is closed when the last copy of `library` is released: keep it for as long
// as the app, or anything the app made (a body, a coroutine frame), lives.
struct LoadedPlugin {
  std::shared_ptr<void> library;  // declared first: released after `app`
  Application app;
};

// Loads the library `file` and builds the app of its entry point `symbol`.
// `name` stands for the plugin in errors and is the app's default name (the
// path the user gave, when `file` is a copy of it). Throws AppLoadError.
LoadedPlugin open_plugin(const std::string& file, const std::string& symbol,
                         const std::string& name);

}  // namespace csgi::apps
