# csgi_plugin, exported as csgi::plugin: what a plugin (apps/plugin.hpp) that
# `csgi serve path/to/libname.so` loads is compiled with.
#
# A plugin links none of csgi's libraries: the symbols it uses resolve
# against the host that loads it (the csgi executable, or a program built
# with ENABLE_EXPORTS). What it must share with that host is compiled in:
# the csgi headers and the Asio definitions of csgi_asio
# (cmake/dependencies.cmake), which fix the layout of the per-thread state
# that Asio keeps in the host and the plugin uses (the recycling allocator's
# cache size among them). The plugins in the tree and those built against the
# installed package get them from this one target.
add_library(csgi_plugin INTERFACE)
csgi_include_root(csgi_plugin INTERFACE)
target_compile_definitions(csgi_plugin INTERFACE ${CSGI_ASIO_DEFINITIONS})
target_compile_features(csgi_plugin INTERFACE cxx_std_20)
# spdlog's definitions (an external fmt, the compiled library) for the headers
# that include it; the library is the one the host loaded.
target_link_libraries(csgi_plugin INTERFACE Boost::headers spdlog::spdlog)

# csgi_add_plugin(name source...): a plugin in this tree.
function(csgi_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE csgi_plugin)
  csgi_warnings(${name})
endfunction()
