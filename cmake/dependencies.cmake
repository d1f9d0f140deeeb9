# Every dependency is a Debian package (see the Makefile's `deps`).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)
find_package(spdlog REQUIRED)   # its CMake config links the external fmt it was built with
find_package(CLI11 REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark QUIET)

# llhttp: Debian's node-llhttp ships the C sources and the header; build them here.
find_path(LLHTTP_INCLUDE_DIR llhttp.h PATHS /usr/share/include/llhttp /usr/include/llhttp REQUIRED)
find_path(LLHTTP_SOURCE_DIR llhttp.c PATHS /usr/share/llhttp REQUIRED)
add_library(llhttp STATIC
  ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c ${LLHTTP_SOURCE_DIR}/llhttp.c)
target_include_directories(llhttp SYSTEM PUBLIC $<BUILD_INTERFACE:${LLHTTP_INCLUDE_DIR}>)
# Installed as libcsgi_llhttp.a, beside (not instead of) a system llhttp.
set_target_properties(llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON OUTPUT_NAME csgi_llhttp)
# llhttp scans header values and targets 16 bytes at a time when built for
# SSE 4.2, which every x86-64 processor since 2008 has; CSGI_LLHTTP_SSE42=OFF
# builds the byte-at-a-time scanner for older ones.
include(CheckCCompilerFlag)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  check_c_compiler_flag(-msse4.2 CSGI_HAVE_MSSE42)
endif()
include(CMakeDependentOption)
cmake_dependent_option(CSGI_LLHTTP_SSE42 "Build llhttp's SSE 4.2 scanners" ON "CSGI_HAVE_MSSE42" OFF)
if(CSGI_LLHTTP_SSE42)
  target_compile_options(llhttp PRIVATE -msse4.2)
endif()

# Asio, compiled once (BOOST_ASIO_SEPARATE_COMPILATION), with coroutine support.
# Each thread keeps 16 freed blocks per purpose instead of 2 for reuse: a
# request on the loop nests about eight coroutine frames (connection, app,
# send, flush), and with 2 most of them went back to malloc every request.
# The value sets the layout of Asio's per-thread state, which a plugin shares
# with its host: the csgi_plugin target (cmake/plugin.cmake) builds plugins
# with it, and csgi/version.hpp records it for apps/plugin.hpp to check.
set(CSGI_ASIO_RECYCLING_CACHE_SIZE 16)
set(CSGI_ASIO_DEFINITIONS
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE
  BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=${CSGI_ASIO_RECYCLING_CACHE_SIZE})
add_library(csgi_asio STATIC ${CMAKE_CURRENT_LIST_DIR}/asio.cpp)
target_compile_definitions(csgi_asio PUBLIC ${CSGI_ASIO_DEFINITIONS})
target_link_libraries(csgi_asio PUBLIC Boost::headers Threads::Threads)
set_target_properties(csgi_asio PROPERTIES POSITION_INDEPENDENT_CODE ON)

# Boost.JSON, header-only mode compiled in one translation unit.
add_library(csgi_json STATIC ${CMAKE_CURRENT_LIST_DIR}/json.cpp)
target_link_libraries(csgi_json PUBLIC Boost::headers)
set_target_properties(csgi_json PROPERTIES POSITION_INDEPENDENT_CODE ON)

# csgi/version.hpp: the release and the Asio layout, for the headers and plugins.
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.hpp.in
               ${PROJECT_BINARY_DIR}/generated/csgi/version.hpp @ONLY)

include(${CMAKE_CURRENT_LIST_DIR}/plugin.cmake)
