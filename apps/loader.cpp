#include "apps/loader.hpp"

#include <dlfcn.h>

#include <exception>

#include "apps/plugin.hpp"
#include "apps/registry.hpp"

namespace csgi::apps {
namespace {

std::string builtin_names() {
  std::string names;
  for (const BuiltinApp& app : builtin_apps()) {
    if (!names.empty()) names += ", ";
    names += app.name;
  }
  return names;
}

bool is_symbol_name(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_';
    if (!ok) return false;
  }
  return true;
}

// dlerror() describes the last failure and clears it; a null result without
// one (a symbol defined as null) still deserves a message.
std::string last_dl_error(std::string_view fallback) {
  const char* text = dlerror();
  return text ? text : std::string(fallback);
}

// One line naming both releases and both ABIs, read before the library closes.
std::string abi_mismatch(const std::string& path, void* library, std::uint32_t plugin_abi) {
  const auto* release = static_cast<const char*>(dlsym(library, plugin::release_symbol));
  std::string plugin_release = release ? "csgi " + std::string(release) : "an older csgi";
  std::string host_release = "csgi " + std::string(csgi::release);
  return "plugin " + path + " was built against " + plugin_release + " (plugin ABI " +
         std::to_string(plugin_abi) + "), but this is " + host_release + " (plugin ABI " +
         std::to_string(plugin::abi_version) + "): rebuild it against " + host_release;
}

}  // namespace

UnknownApp::UnknownApp(std::string_view name)
    : std::runtime_error("unknown app '" + std::string(name) + "'; built-in apps: " +
                         builtin_names() + " (or a plugin: path/to/lib.so[:symbol])") {}

bool is_plugin_spec(std::string_view spec) {
  std::string_view path = spec.substr(0, spec.rfind(':'));
  return spec.find('/') != std::string_view::npos || path.ends_with(".so");
}

Application load_app(std::string_view spec) {
  if (const BuiltinApp* app = find_builtin_app(spec)) return app->make();
  if (!is_plugin_spec(spec)) throw UnknownApp(spec);

  std::string path(spec), symbol;
  if (std::size_t colon = spec.rfind(':');
      colon != std::string_view::npos && is_symbol_name(spec.substr(colon + 1))) {
    path = spec.substr(0, colon);
    symbol = spec.substr(colon + 1);
  }
  // dlopen searches the library path for a bare name; a user typing `lib.so`
  // means the file in the current directory.
  if (path.find('/') == std::string::npos) path = "./" + path;
  return load_plugin(path, symbol);
}

Application load_plugin(const std::string& path, const std::string& symbol) {
  std::string entry_name = symbol.empty() ? plugin::default_symbol : symbol;
  // RTLD_NOW: an unresolved symbol fails here, with its name, rather than
  // when the first request reaches the code that uses it.
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    throw AppLoadError("cannot load plugin: " + last_dl_error(path));
  }
  dlerror();
  auto entry = reinterpret_cast<plugin::Entry>(dlsym(library, entry_name.c_str()));
  if (!entry) {
    std::string reason = last_dl_error(entry_name + " is null");
    dlclose(library);
    throw AppLoadError("plugin " + path + " has no entry point '" + entry_name + "' (declare it "
                       "with CSGI_PLUGIN or CSGI_PLUGIN_AS): " + reason);
  }

  Application app;
  std::uint32_t plugin_abi = 0;
  try {
    plugin_abi = entry(plugin::abi_version, &app);
  } catch (const std::exception& error) {
    throw AppLoadError("plugin " + path + ": " + entry_name + " failed: " + error.what());
  }
  if (plugin_abi != plugin::abi_version) {
    std::string message = abi_mismatch(path, library, plugin_abi);
    dlclose(library);
    throw AppLoadError(message);
  }
  if (!app.as_async && !app.as_sync) {
    throw AppLoadError("plugin " + path + ": " + entry_name + " returned an empty Application");
  }
  if (app.name.empty()) app.name = path;
  // The library is deliberately never closed: `app` runs its code.
  return app;
}

}  // namespace csgi::apps
