# One static library per layer of the tree, dependencies only downward. Each
# compiles with an include path holding only the folders it may use, so an
# upward include does not build: build/layers/<layer>/ holds symlinks to the
# layer's own folder, those of the layers below it and kernels/ (kernel_abi.h
# is everyone's). Headers are included by root-relative paths ("ir/graph.h"),
# which no source folder resolves by itself.

set(KILN_LAYERS_DIR ${PROJECT_BINARY_DIR}/layers)
set_property(GLOBAL PROPERTY KILN_LAYERS)

# kiln_layer(<target> <folder> [DEPENDS <layer targets>...] [SOURCES <files>...])
# SOURCES defaults to <folder>/*.cpp.
function(kiln_layer target folder)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "DEPENDS;SOURCES")
  set(folders ${folder} kernels)
  foreach(dep ${arg_DEPENDS})
    get_property(below GLOBAL PROPERTY KILN_LAYER_FOLDERS_${dep})
    list(APPEND folders ${below})
  endforeach()
  list(REMOVE_DUPLICATES folders)
  set_property(GLOBAL PROPERTY KILN_LAYER_FOLDERS_${target} ${folders})
  set_property(GLOBAL APPEND PROPERTY KILN_LAYERS ${target})

  set(root ${KILN_LAYERS_DIR}/${target})
  file(GLOB stale_links ${root}/*)
  if(stale_links)
    file(REMOVE ${stale_links}) # the links, not what they point to
  endif()
  file(MAKE_DIRECTORY ${root})
  foreach(f ${folders})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${f} ${root}/${f} SYMBOLIC)
  endforeach()

  if(NOT arg_SOURCES)
    file(GLOB arg_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${folder}/*.cpp)
  endif()
  add_library(${target} STATIC ${arg_SOURCES})
  set_target_properties(${target} PROPERTIES KILN_LAYER_FOLDER ${folder})
  target_include_directories(${target} PRIVATE ${root})
  target_link_libraries(${target} PUBLIC ${arg_DEPENDS})
endfunction()

# The targets `target` links, itself included, following CMake's link
# properties (PRIVATE dependencies of static libraries too).
function(kiln_link_closure target out)
  set(closure ${target})
  set(queue ${target})
  while(queue)
    list(POP_FRONT queue t)
    get_target_property(libs ${t} LINK_LIBRARIES)
    get_target_property(interface_libs ${t} INTERFACE_LINK_LIBRARIES)
    foreach(lib IN LISTS libs interface_libs)
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
      if(TARGET ${lib} AND NOT lib IN_LIST closure)
        list(APPEND closure ${lib})
        list(APPEND queue ${lib})
      endif()
    endforeach()
  endwhile()
  set(${out} ${closure} PARENT_SCOPE)
endfunction()

# Per layer, the tests that prove the layering:
# - layer_includes_<layer>: every header of the layer preprocesses with its
#   include path, a header of each folder it may not use does not, and no
#   source of it includes around the path with "../";
# - layer_symbols_<layer>: every kiln symbol its objects and those it links
#   use is defined among them (nothing calls up), and below kiln_compiler
#   nothing links LLVM, by target or by symbol.
# Two more tests show that the symbol check detects what it forbids.
function(kiln_layer_tests)
  get_property(layers GLOBAL PROPERTY KILN_LAYERS)
  set(all_folders)
  foreach(layer ${layers})
    get_target_property(folder ${layer} KILN_LAYER_FOLDER)
    list(APPEND all_folders ${folder})
  endforeach()
  list(JOIN all_folders "," all_folders)
  set(scripts ${PROJECT_SOURCE_DIR}/cmake)

  foreach(layer ${layers})
    get_target_property(folder ${layer} KILN_LAYER_FOLDER)
    add_test(NAME layer_includes_${layer}
      COMMAND bash ${scripts}/check_layer_includes.sh ${CMAKE_CXX_COMPILER} ${PROJECT_SOURCE_DIR}
              ${folder} ${KILN_LAYERS_DIR}/${layer} ${all_folders}
              "-I$<JOIN:$<TARGET_PROPERTY:${layer},INCLUDE_DIRECTORIES>,;-I>"
      COMMAND_EXPAND_LISTS)

    kiln_link_closure(${layer} closure)
    if(layer STREQUAL "kiln_ir")
      # ops follows ir on link lines (CMakeLists.txt), which does not let ir
      # use more of it than the one symbol allowed below.
      list(REMOVE_ITEM closure kiln_ops)
    endif()
    set(archives)
    foreach(t ${closure})
      get_target_property(type ${t} TYPE)
      get_target_property(imported ${t} IMPORTED)
      if(type STREQUAL "STATIC_LIBRARY" AND NOT imported)
        list(APPEND archives $<TARGET_FILE:${t}>)
      endif()
    endforeach()
    # LLVM only from the compiler up; ir calls one function of ops, declared
    # in ir/op.h (OpRegistry::get, see docs/decisions.md).
    set(forbid "LLVM")
    if(kiln_compiler IN_LIST closure)
      set(forbid "")
    endif()
    set(allow "")
    if(layer STREQUAL "kiln_ir")
      set(allow "kiln::OpRegistry::get()")
    endif()
    list(JOIN closure "," targets)
    add_test(NAME layer_symbols_${layer}
      COMMAND bash ${scripts}/check_layer_symbols.sh ${CMAKE_NM} "${targets}" "${forbid}"
              "${allow}" ${archives})
    set(archives_${layer} ${archives})
    set(targets_${layer} ${targets})
  endforeach()

  add_test(NAME layer_symbols_detect_llvm
    COMMAND bash ${scripts}/check_layer_symbols.sh ${CMAKE_NM} "${targets_kiln_compiler}" LLVM
            "" ${archives_kiln_compiler})
  set_tests_properties(layer_symbols_detect_llvm PROPERTIES
    PASS_REGULAR_EXPRESSION "links LLVM.*uses llvm::")
  add_test(NAME layer_symbols_detect_upward_calls
    COMMAND bash ${scripts}/check_layer_symbols.sh ${CMAKE_NM} "${targets_kiln_ir}" LLVM ""
            ${archives_kiln_ir})
  set_tests_properties(layer_symbols_detect_upward_calls PROPERTIES
    PASS_REGULAR_EXPRESSION "defined in no library it links:.*kiln::OpRegistry::get\\(\\)")
endfunction()
