# Warnings for our own targets (not for llhttp's generated C).
function(csgi_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# Headers are included as "folder/file.hpp" from the source root, and the
# generated ones (csgi/version.hpp) from the build's generated/ folder. The
# installed copies are included as <csgi/folder/file.hpp> (cmake/install.cmake).
function(csgi_include_root target scope)
  target_include_directories(${target} ${scope}
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>)
endfunction()

# csgi_library(NAME DIR DEPS...): one static library of every .cpp directly in DIR.
function(csgi_library name dir)
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  add_library(${name} STATIC ${sources})
  csgi_include_root(${name} PUBLIC)
  target_link_libraries(${name} PUBLIC ${ARGN})
  # Also for a program built against the installed library.
  target_compile_features(${name} PUBLIC cxx_std_20)
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  csgi_warnings(${name})
endfunction()

# csgi_test(NAME DIR DEPS...): one GoogleTest executable of every .cpp in DIR,
# each test registered with ctest.
include(GoogleTest)
function(csgi_test name dir)
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources})
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest GTest::gmock GTest::gtest_main)
  # Without LTO: a test needs no whole-program optimisation, and each LTO
  # link would compile the libraries again (cmake/toolchain.cmake).
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests
                                           INTERPROCEDURAL_OPTIMIZATION OFF)
  csgi_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 30)
endfunction()
