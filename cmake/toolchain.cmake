# ccache and lld when available; clang-19 is the supported compiler.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  find_program(LLD_PROGRAM NAMES ld.lld-19 ld.lld)
  if(LLD_PROGRAM)
    add_link_options(-fuse-ld=lld)
  endif()
elseif(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  message(WARNING "g++ miscompiles coroutine code (double destruction of temporaries "
                  "in co_await expressions); build with clang++-19.")
endif()

# ThinLTO for optimised builds: the request path crosses the protocol,
# servers, gateway and app libraries, and inlining across them saves about
# 4% of its instructions (bench/README.md). It needs lld and LLVM's own
# archiver, which reads clang-19's bitcode (binutils' ar does not).
# Off by default when csgi is a subproject: the check below sets the
# archiver in the cache, which the including project shares.
option(CSGI_LTO "Link-time optimisation (ThinLTO) in optimised clang builds" ${PROJECT_IS_TOP_LEVEL})
if(CSGI_LTO AND LLD_PROGRAM AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang"
   AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  find_program(CSGI_LLVM_AR NAMES llvm-ar-19)
  find_program(CSGI_LLVM_RANLIB NAMES llvm-ranlib-19)
  if(CSGI_LLVM_AR AND CSGI_LLVM_RANLIB)
    # In the cache, so that the check's own test project uses them too.
    foreach(lang C CXX)
      set(CMAKE_${lang}_COMPILER_AR ${CSGI_LLVM_AR} CACHE FILEPATH "LTO archiver" FORCE)
      set(CMAKE_${lang}_COMPILER_RANLIB ${CSGI_LLVM_RANLIB} CACHE FILEPATH "LTO ranlib" FORCE)
    endforeach()
    if(NOT CSGI_IPO_SUPPORTED)
      # The check's project is kept between runs with the archiver it was
      # first configured with: start it afresh.
      file(REMOVE_RECURSE ${PROJECT_BINARY_DIR}/CMakeFiles/_CMakeLTOTest-C
                          ${PROJECT_BINARY_DIR}/CMakeFiles/_CMakeLTOTest-CXX)
      include(CheckIPOSupported)
      check_ipo_supported(RESULT ipo_supported OUTPUT ipo_output LANGUAGES C CXX)
      set(CSGI_IPO_SUPPORTED ${ipo_supported} CACHE INTERNAL "LTO works with llvm-ar-19")
    endif()
  endif()
  if(CSGI_IPO_SUPPORTED)
    set(CMAKE_INTERPROCEDURAL_OPTIMIZATION ON)
    # The installed libraries are fat objects (cmake/install.cmake): bitcode
    # and machine code, so that a program built against the SDK links them
    # with any linker and without LTO. Our own optimised links take the
    # bitcode; the test executables (csgi_test) are built without LTO and
    # link the machine code, which halves the build of `make check`.
    add_link_options("$<$<BOOL:$<TARGET_PROPERTY:INTERPROCEDURAL_OPTIMIZATION>>:-Wl,--fat-lto-objects>")
  else()
    message(STATUS "CSGI_LTO: no llvm-ar-19, or no LTO with it; building without LTO")
  endif()
endif()
