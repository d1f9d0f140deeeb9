#include "apps/loader.hpp"

#include <dlfcn.h>

#include <exception>

#include "apps/plugin.hpp"
#include "apps/registry.hpp"
#include "apps/reload.hpp"

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
std::string abi_mismatch(const std::string& name, void* library, std::uint32_t plugin_abi) {
  const auto* release = static_cast<const char*>(dlsym(library, plugin::release_symbol));
  std::string plugin_release = release ? "csgi " + std::string(release) : "an older csgi";
  std::string host_release = "csgi " + std::string(csgi::release);
  return "plugin " + name + " was built against " + plugin_release + " (plugin ABI " +
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

PluginSpec parse_plugin_spec(std::string_view spec) {
  PluginSpec parsed{std::string(spec), {}};
  if (std::size_t colon = spec.rfind(':');
      colon != std::string_view::npos && is_symbol_name(spec.substr(colon + 1))) {
    parsed.path = spec.substr(0, colon);
    parsed.symbol = spec.substr(colon + 1);
  }
  if (parsed.path.find('/') == std::string::npos) parsed.path = "./" + parsed.path;
  return parsed;
}

Application load_app(std::string_view spec, const ReloadOptions& options) {
  if (const BuiltinApp* app = find_builtin_app(spec)) return app->make();
  if (!is_plugin_spec(spec)) throw UnknownApp(spec);
  return plugin_app(parse_plugin_spec(spec), options);
}

LoadedPlugin open_plugin(const std::string& file, const std::string& symbol,
                         const std::string& name) {
  std::string entry_name = symbol.empty() ? plugin::default_symbol : symbol;
  // RTLD_NOW: an unresolved symbol fails here, with its name, rather than
  // when the first request reaches the code that uses it.
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw AppLoadError("cannot load plugin " + name + ": " + last_dl_error(file));
  LoadedPlugin loaded{std::shared_ptr<void>(handle, [](void* library) { dlclose(library); }), {}};
  dlerror();
  auto entry = reinterpret_cast<plugin::Entry>(dlsym(handle, entry_name.c_str()));
  if (!entry) {
    std::string reason = last_dl_error(entry_name + " is null");
    throw AppLoadError("plugin " + name + " has no entry point '" + entry_name + "' (declare it "
                       "with CSGI_PLUGIN or CSGI_PLUGIN_AS): " + reason);
  }
  std::uint32_t plugin_abi = 0;
  try {
    plugin_abi = entry(plugin::abi_version, &loaded.app);
  } catch (const std::exception& error) {
    throw AppLoadError("plugin " + name + ": " + entry_name + " failed: " + error.what());
  }
  if (plugin_abi != plugin::abi_version) {
    throw AppLoadError(abi_mismatch(name, handle, plugin_abi));
  }
  if (!loaded.app.as_async && !loaded.app.as_sync) {
    throw AppLoadError("plugin " + name + ": " + entry_name + " returned an empty Application");
  }
  if (loaded.app.name.empty()) loaded.app.name = name;
  return loaded;
}

}  // namespace csgi::apps
