# Stages the public headers as the SDK has them: run at every build (the
# csgi_public_headers target of install.cmake), installed from the stage.
#
# Input: CSGI_SOURCE_DIR, CSGI_GENERATED_DIR (csgi/version.hpp),
# CSGI_PUBLIC_HEADERS (globs relative to the source root, separated by '|')
# and CSGI_STAGE_DIR.
# Writes those headers and every header of ours they include to
# CSGI_STAGE_DIR/csgi/, with each `#include "dir/file.hpp"` of ours rewritten
# to `#include <csgi/dir/file.hpp>`. A file is written only when its text
# changed, so that what includes it is not rebuilt for nothing.
cmake_policy(PUSH)
cmake_policy(VERSION 3.25)

set(pending csgi/version.hpp)
string(REPLACE "|" ";" patterns "${CSGI_PUBLIC_HEADERS}")
foreach(pattern IN LISTS patterns)
  file(GLOB matches RELATIVE ${CSGI_SOURCE_DIR} ${CSGI_SOURCE_DIR}/${pattern})
  if(NOT matches)
    message(FATAL_ERROR "csgi: no public header matches ${pattern}")
  endif()
  list(APPEND pending ${matches})
endforeach()

set(staged "")
while(pending)
  list(POP_FRONT pending header)
  set(target csgi/${header})
  if(header MATCHES "^csgi/")
    set(target ${header})
  endif()
  if(target IN_LIST staged)
    continue()
  endif()
  list(APPEND staged ${target})
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
  set(old_text "")
  if(EXISTS ${CSGI_STAGE_DIR}/${target})
    file(READ ${CSGI_STAGE_DIR}/${target} old_text)
  endif()
  if(NOT text STREQUAL old_text)
    file(WRITE ${CSGI_STAGE_DIR}/${target} "${text}")
  endif()
endwhile()

# A header that is no longer public leaves the stage too.
file(GLOB_RECURSE present RELATIVE ${CSGI_STAGE_DIR} ${CSGI_STAGE_DIR}/*)
foreach(file IN LISTS present)
  if(NOT file IN_LIST staged)
    file(REMOVE ${CSGI_STAGE_DIR}/${file})
  endif()
endforeach()

cmake_policy(POP)
