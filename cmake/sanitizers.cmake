# CSGI_SANITIZE=address,undefined builds everything with those sanitizers.
set(CSGI_SANITIZE "" CACHE STRING "Comma-separated sanitizers (address,undefined,thread)")
if(CSGI_SANITIZE)
  add_compile_options(-fsanitize=${CSGI_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${CSGI_SANITIZE})
endif()
