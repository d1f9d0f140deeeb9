# csgi_add_plugin(name source...): a plugin (apps/plugin.hpp) that
# `csgi serve path/to/libname.so` loads.
#
# The plugin links none of csgi's libraries: the symbols it uses resolve
# against the host that loads it (the csgi executable, or a program built
# with ENABLE_EXPORTS). What it must share with that host is compiled in:
# the csgi headers and the Asio definitions of csgi_asio
# (cmake/dependencies.cmake), which fix the layout of the per-thread state
# that Asio keeps in the host and the plugin uses (the recycling allocator's
# cache size among them). Every plugin target in the tree is made by this
# function, and an installed csgi package is to export it, so that a plugin
# built the documented way cannot disagree with its host.
function(csgi_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE Boost::headers)
  target_compile_definitions(${name} PRIVATE
    $<TARGET_PROPERTY:csgi_asio,INTERFACE_COMPILE_DEFINITIONS>)
  csgi_warnings(${name})
endfunction()
