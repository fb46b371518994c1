# Names one variant of the native kernel library: copies INPUT to OUTPUT with
# every entry point kiln_NAME renamed kiln_NAME__VARIANT (the generated table
# and trampolines, cmake/kernel_symbols.cmake, pick among them), then checks
# that no other global symbol could clash with another variant's: the rest
# must carry the variant's namespace (compiled with -Dkiln=kiln_variant_VARIANT).
include(${CMAKE_CURRENT_LIST_DIR}/defined_symbols.cmake)

defined_symbols(${NM} ${INPUT} names)
set(renames "")
foreach(name ${names})
  if(name MATCHES "^kiln_[a-z0-9_]+$")
    string(APPEND renames "${name} ${name}__${VARIANT}\n")
  endif()
endforeach()
if(renames STREQUAL "")
  message(FATAL_ERROR "${INPUT} defines no kiln_ entry point")
endif()
file(WRITE ${OUTPUT}.renames "${renames}")
execute_process(COMMAND ${OBJCOPY} --redefine-syms=${OUTPUT}.renames ${INPUT} ${OUTPUT}
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${OBJCOPY} failed on ${INPUT}")
endif()

defined_symbols(${NM} ${OUTPUT} names)
foreach(name ${names})
  if(NOT name MATCHES "__${VARIANT}$" AND NOT name MATCHES "kiln_variant_${VARIANT}")
    file(REMOVE ${OUTPUT})
    message(FATAL_ERROR "${INPUT} defines '${name}', which other variants may define too")
  endif()
endforeach()
