# kiln_add_model(<target> MODEL <file.kiln>
#                [NAME <c identifier>] [FETCH <node>...] [TARGETS <node>...]
#                [TRAIN_FETCH <node>...] [BATCH <n>] [CHECKPOINT <file>]
#                [ALLOW_EXTRA_VARIABLES] [EMBED_WEIGHTS] [DATA_PARALLEL] [TARGET_CPU <cpu>])
#
# Runs `kiln compile` at build time (again whenever the model or checkpoint
# changes) and makes <target> a static library of the compiled model that
# links kiln::runtime; its header NAME.h is on the target's include path. The
# weights (unless embedded) are in the target's KILN_WEIGHTS property, a path
# in the build folder. NAME defaults to <target>. As tfcompile's tf_library.
# The compile is quiet in build logs; its memory report is NAME.memory.txt.
function(kiln_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "ALLOW_EXTRA_VARIABLES;EMBED_WEIGHTS;DATA_PARALLEL"
                        "MODEL;NAME;BATCH;CHECKPOINT;TARGET_CPU" "FETCH;TARGETS;TRAIN_FETCH")
  if(NOT arg_MODEL)
    message(FATAL_ERROR "kiln_add_model(${target}): MODEL is required")
  endif()
  if(NOT arg_NAME)
    set(arg_NAME ${target})
  endif()
  if(NOT arg_BATCH)
    set(arg_BATCH 1)
  endif()
  get_filename_component(model ${arg_MODEL} ABSOLUTE)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${target}.kiln)
  set(args ${model} -o ${dir}/${arg_NAME} --batch ${arg_BATCH})
  set(depends ${model})
  foreach(f ${arg_FETCH})
    list(APPEND args --fetch ${f})
  endforeach()
  foreach(t ${arg_TARGETS})
    list(APPEND args --target ${t})
  endforeach()
  foreach(f ${arg_TRAIN_FETCH})
    list(APPEND args --train-fetch ${f})
  endforeach()
  if(arg_CHECKPOINT)
    get_filename_component(checkpoint ${arg_CHECKPOINT} ABSOLUTE)
    list(APPEND args --checkpoint ${checkpoint})
    list(APPEND depends ${checkpoint})
  endif()
  if(arg_ALLOW_EXTRA_VARIABLES)
    list(APPEND args --allow-extra-variables)
  endif()
  if(arg_DATA_PARALLEL)
    list(APPEND args --data-parallel)
  endif()
  if(arg_TARGET_CPU)
    list(APPEND args --target-cpu ${arg_TARGET_CPU})
  endif()
  set(outputs ${dir}/${arg_NAME}.o ${dir}/${arg_NAME}.h)
  if(arg_EMBED_WEIGHTS)
    list(APPEND args --embed-weights)
  else()
    list(APPEND outputs ${dir}/${arg_NAME}.weights)
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND $<TARGET_FILE:kiln::cli> compile --quiet ${args}
    DEPENDS ${depends} kiln::cli
    COMMENT "Compiling the kiln model ${arg_NAME} ahead of time"
    VERBATIM)
  set_source_files_properties(${dir}/${arg_NAME}.o PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${target} STATIC ${dir}/${arg_NAME}.o ${dir}/${arg_NAME}.h)
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE CXX)
  target_include_directories(${target} PUBLIC ${dir})
  target_link_libraries(${target} PUBLIC kiln::runtime)
  if(NOT arg_EMBED_WEIGHTS)
    set_target_properties(${target} PROPERTIES KILN_WEIGHTS ${dir}/${arg_NAME}.weights)
  endif()
endfunction()
