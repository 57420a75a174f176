# Sanitizer builds for the test suite (scripts/test.sh runs both):
#   SC_SANITIZE  AddressSanitizer + UndefinedBehaviorSanitizer
#   SC_TSAN      ThreadSanitizer: the event writer, the pool threads, the live feed and the
#                caches share memory, and this build is what proves they do so safely
if(SC_SANITIZE AND SC_TSAN)
  message(FATAL_ERROR "SC_SANITIZE and SC_TSAN cannot be combined: build them apart")
endif()
if(SC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(SC_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
