# defined_symbols(NM OBJECT OUT): the global symbols OBJECT defines, read off
# its symbol table with NM (cmake/kernel_variant.cmake, kernel_symbols.cmake).
function(defined_symbols nm object out)
  execute_process(COMMAND ${nm} --defined-only --extern-only --format=posix ${object}
                  OUTPUT_VARIABLE listing RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${nm} failed on ${object}")
  endif()
  string(REGEX MATCHALL "[^\n ]+ [A-Za-z] " entries "${listing}")
  set(names)
  foreach(entry ${entries})
    string(REGEX REPLACE " [A-Za-z] $" "" name "${entry}")
    list(APPEND names ${name})
  endforeach()
  set(${out} ${names} PARENT_SCOPE)
endfunction()
