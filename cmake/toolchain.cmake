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
