# The SDK that `cmake --install` puts under a prefix P:
#
#   P/include/csgi/...           the public headers, included as <csgi/dir/file.hpp>
#   P/lib/libcsgi_*.a            the libraries
#   P/bin/csgi                   the server, which loads plugins
#   P/lib/cmake/csgi/            find_package(csgi CONFIG): csgi::embed,
#                                csgi::plugin, csgi::testing
#   P/lib/pkgconfig/csgi.pc      the same for pkg-config
#
# The tree includes its headers as "dir/file.hpp"; the installed copies are
# rewritten to include each other as <csgi/dir/file.hpp> (stage_headers.cmake),
# so no source file has to spell the prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CSGI_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/csgi)

# What an app author may include: the contract, its framework, the in-process
# test clients, the HTTP client, the plugin entry point and the embedding
# entry point. The headers these include are installed with them (the Asio
# foundations and HTTP vocabulary of runtime/, protocol/limits.hpp), and
# nothing else: the servers and the wire protocol stay private.
set(CSGI_PUBLIC_HEADERS
  gateway/*.hpp gateway/testing/*.hpp web/*.hpp
  client/async_client.hpp client/client.hpp client/gather.hpp
  apps/plugin.hpp cli/embed.hpp servers/config.hpp)

# The targets an app author links, named by what they are for.
# csgi::embed: serve an app from your own main() (cli/embed.hpp, cli/CMakeLists.txt).
# csgi::testing: an app's own GoogleTest suite (gateway/testing/).
add_library(csgi_app_testing INTERFACE)
target_link_libraries(csgi_app_testing INTERFACE csgi_testing csgi_web csgi_client)
# csgi::plugin is cmake/plugin.cmake's csgi_plugin.
# The same names for a project that adds csgi with add_subdirectory or FetchContent.
add_library(csgi::embed ALIAS csgi_embed)
add_library(csgi::plugin ALIAS csgi_plugin)
add_library(csgi::testing ALIAS csgi_app_testing)

set(CSGI_EXPORTED_LIBRARIES
  csgi_asio csgi_json llhttp csgi_runtime csgi_gateway csgi_testing csgi_web csgi_protocol
  csgi_client csgi_servers csgi_apps csgi_scenario csgi_cli csgi_embed)
foreach(library IN LISTS CSGI_EXPORTED_LIBRARIES)
  string(REGEX REPLACE "^csgi_" "" export_name ${library})
  set_target_properties(${library} PROPERTIES EXPORT_NAME ${export_name})
  if(CMAKE_INTERPROCEDURAL_OPTIMIZATION)
    # Machine code beside the bitcode: programs built against the SDK link
    # these without LTO (cmake/toolchain.cmake).
    target_compile_options(${library} PRIVATE -ffat-lto-objects)
  endif()
endforeach()
set_target_properties(csgi_testing PROPERTIES EXPORT_NAME gateway_testing)
set_target_properties(csgi_app_testing PROPERTIES EXPORT_NAME testing)
set_target_properties(csgi_plugin PROPERTIES EXPORT_NAME plugin)

install(TARGETS ${CSGI_EXPORTED_LIBRARIES} csgi_app_testing csgi_plugin csgi
  EXPORT csgi-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT csgi-targets NAMESPACE csgi:: DESTINATION ${CSGI_CMAKE_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/csgi-config.cmake.in
  ${PROJECT_BINARY_DIR}/sdk/csgi-config.cmake INSTALL_DESTINATION ${CSGI_CMAKE_DIR})
# 0.x: a minor release may change the interfaces, so only 0.y.* satisfies 0.y.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sdk/csgi-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sdk/csgi-config.cmake
              ${PROJECT_BINARY_DIR}/sdk/csgi-config-version.cmake
  DESTINATION ${CSGI_CMAKE_DIR})

string(REPLACE ";" " -D" CSGI_PC_DEFINITIONS "-D${CSGI_ASIO_DEFINITIONS}")
# The prefix as seen from the .pc file, so that the installed tree can move.
file(RELATIVE_PATH CSGI_PC_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${CMAKE_CURRENT_LIST_DIR}/csgi.pc.in ${PROJECT_BINARY_DIR}/sdk/csgi.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/sdk/csgi.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The public headers, staged at every build for the install and for a project
# that adds csgi as a subproject (whose includes are then the same).
set(CSGI_STAGE_DIR ${PROJECT_BINARY_DIR}/sdk/include)
string(REPLACE ";" "|" public_headers "${CSGI_PUBLIC_HEADERS}")
add_custom_target(csgi_public_headers ALL
  COMMAND ${CMAKE_COMMAND} -DCSGI_SOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DCSGI_GENERATED_DIR=${PROJECT_BINARY_DIR}/generated -DCSGI_STAGE_DIR=${CSGI_STAGE_DIR}
    -DCSGI_PUBLIC_HEADERS=${public_headers} -P ${CMAKE_CURRENT_LIST_DIR}/stage_headers.cmake
  COMMENT "Staging csgi's public headers" VERBATIM)
foreach(target csgi_plugin csgi_embed csgi_app_testing)
  target_include_directories(${target} INTERFACE $<BUILD_INTERFACE:${CSGI_STAGE_DIR}>)
  add_dependencies(${target} csgi_public_headers)
endforeach()
install(DIRECTORY ${CSGI_STAGE_DIR}/csgi DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
