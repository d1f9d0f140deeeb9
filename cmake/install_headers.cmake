# Installs the public headers (run by `cmake --install`, from install.cmake).
#
# Input: CSGI_SOURCE_DIR, CSGI_GENERATED_DIR (csgi/version.hpp),
# CSGI_PUBLIC_HEADERS (globs relative to the source root), CSGI_STAGING_DIR
# and CSGI_INCLUDE_DESTINATION. Installs those headers and every header of
# ours they include, under csgi/, with each `#include "dir/file.hpp"` of ours
# rewritten to `#include <csgi/dir/file.hpp>`.

cmake_policy(PUSH)
cmake_policy(VERSION 3.25)

set(pending csgi/version.hpp)
foreach(pattern IN LISTS CSGI_PUBLIC_HEADERS)
  file(GLOB matches RELATIVE ${CSGI_SOURCE_DIR} ${CSGI_SOURCE_DIR}/${pattern})
  if(NOT matches)
    message(FATAL_ERROR "csgi: no public header matches ${pattern}")
  endif()
  list(APPEND pending ${matches})
endforeach()

file(REMOVE_RECURSE ${CSGI_STAGING_DIR})
set(installed "")
while(pending)
  list(POP_FRONT pending header)
  if(header IN_LIST installed)
    continue()
  endif()
  list(APPEND installed ${header})
  if(EXISTS ${CSGI_GENERATED_DIR}/${header})
    file(READ ${CSGI_GENERATED_DIR}/${header} text)
  elseif(EXISTS ${CSGI_SOURCE_DIR}/${header})
    file(READ ${CSGI_SOURCE_DIR}/${header} text)
  else()
    message(FATAL_ERROR "csgi: a public header includes \"${header}\", which does not exist")
  endif()
  # Our headers are included with quotes and a folder; system ones with <>.
  string(REGEX MATCHALL "#include \"[^\"]+/[^\"]+\"" includes "${text}")
  foreach(include IN LISTS includes)
    string(REGEX REPLACE "#include \"([^\"]+)\"" "\\1" included "${include}")
    list(APPEND pending ${included})
  endforeach()
  string(REGEX REPLACE "#include \"csgi/([^\"]+)\"" "#include <csgi/\\1>" text "${text}")
  string(REGEX REPLACE "#include \"([^\"]+/[^\"]+)\"" "#include <csgi/\\1>" text "${text}")
  string(REPLACE "<csgi/csgi/" "<csgi/" text "${text}")
  if(header MATCHES "^csgi/")
    file(WRITE ${CSGI_STAGING_DIR}/${header} "${text}")
  else()
    file(WRITE ${CSGI_STAGING_DIR}/csgi/${header} "${text}")
  endif()
endwhile()

file(INSTALL ${CSGI_STAGING_DIR}/csgi DESTINATION ${CSGI_INCLUDE_DESTINATION})

cmake_policy(POP)
