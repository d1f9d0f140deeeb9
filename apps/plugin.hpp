// The plugin ABI: how a shared library hands `csgi serve path/to/lib.so` an app.
//
// A plugin author writes a factory returning the app and one line:
//
//   csgi::Application make_app() { return csgi::Application::from_async("mine", ...); }
//   CSGI_PLUGIN(make_app)
//
// which exports the entry point `csgi_app`, found by `csgi serve lib.so`. A
// library with several apps names the others with CSGI_PLUGIN_AS(symbol, factory)
// and is served as `csgi serve lib.so:symbol`.
//
// Contract: the library is built against the same csgi headers as the host
// (plugin::abi_version guards the layout of Application; a plugin of another
// ABI is refused with a message naming both csgi releases), with the host's
// Asio definitions (they fix the layout of Asio's per-thread state, which host
// and plugin share), and links none of csgi's libraries itself: the symbols it
// uses (Application::from_async, the wsgi types...) resolve against the host
// executable, which exports them. The CMake target csgi::plugin (csgi_plugin
// in this tree, cmake/plugin.cmake) builds a plugin that way:
//
//   find_package(csgi CONFIG REQUIRED)
//   add_library(app MODULE app.cpp)
//   target_link_libraries(app PRIVATE csgi::plugin)
// The factory runs on the thread that loads the plugin: once before the server
// starts, again in each worker process the supervisor forks, and on each
// reload (apps/reload.hpp), from the thread that watches the file. It may
// throw (the load fails with its message). A build replaced by --reload is
// unloaded after its last request has ended.
#pragma once

#include <cstdint>

#include "csgi/version.hpp"
#include "gateway/app.hpp"

#if !defined(BOOST_ASIO_SEPARATE_COMPILATION) || \
    BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE != CSGI_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE
#error "A csgi plugin needs csgi's Asio definitions: link the CMake target csgi::plugin, \
or compile with `pkg-config --cflags csgi`."
#endif

namespace csgi::plugin {

// Bumped whenever Application or the types it holds change layout or
// signature (2: asgi::App takes its Scope as an rvalue; 3: web::Request and
// web::Response gained fields; 4: asgi::Scope gained subprotocols, and the
// events WebSocket's; 5: asgi::Scope::spec_version became static and the
// scope's one-byte fields moved to its end).
inline constexpr std::uint32_t abi_version = 5;

// The entry point `csgi serve lib.so` looks up when no symbol is given.
inline constexpr const char* default_symbol = "csgi_app";

// An entry point: when `host_abi_version` equals the plugin's abi_version it
// stores the app in `*out`; either way it returns the plugin's abi_version, so
// the host can report a mismatch without touching an object of another layout.
using Entry = std::uint32_t (*)(std::uint32_t host_abi_version, Application* out);

// The symbol naming the csgi release a plugin was built against (a C string),
// which the host reports when the ABIs differ. Plugins built before it
// existed lack it.
inline constexpr const char* release_symbol = "csgi_plugin_release";

}  // namespace csgi::plugin

// One definition per plugin, however many of its files include this header.
extern "C" {
[[gnu::visibility("default"), gnu::used]] inline constexpr char csgi_plugin_release[] =
    CSGI_RELEASE;
}

#define CSGI_PLUGIN_AS(symbol, factory)                                                    \
  extern "C" __attribute__((visibility("default"))) std::uint32_t symbol(                  \
      std::uint32_t host_abi_version, ::csgi::Application* out) {                          \
    if (host_abi_version == ::csgi::plugin::abi_version) *out = factory();                 \
    return ::csgi::plugin::abi_version;                                                    \
  }

#define CSGI_PLUGIN(factory) CSGI_PLUGIN_AS(csgi_app, factory)
