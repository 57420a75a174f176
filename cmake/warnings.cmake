# Warnings as STYLE.md asks; -Werror when SC_WERROR is on (CI); hardening in release builds.
function(sc_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef
    -Wno-unused-parameter)
  if(SC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # Release builds are hardened: checked libc calls, stack canaries, read-only relocations
  # resolved at start, no executable stack (and PIE, set for the whole project).
  if(CMAKE_BUILD_TYPE STREQUAL "Release" OR CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
    if(NOT SC_SANITIZE AND NOT SC_TSAN)
      target_compile_options(${target} PRIVATE -D_FORTIFY_SOURCE=2 -fstack-protector-strong)
    endif()
    target_link_options(${target} PRIVATE -Wl,-z,relro,-z,now -Wl,-z,noexecstack)
  endif()
endfunction()
