# `cmake --install`: headers under include/kiln/ (included as <kiln/session/session.h>
# or "session/session.h"; <kiln/kiln.h> includes the API),
# the layer libraries, the kiln CLI and a CMake package exporting kiln::kiln
# (builder, passes, JIT Session), kiln::runtime (what ahead-of-time compiled
# models link), kiln::cli and kiln_add_model().
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(KILN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
set(KILN_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/kiln)

get_property(kiln_layers GLOBAL PROPERTY KILN_LAYERS)
foreach(layer ${kiln_layers})
  get_target_property(folder ${layer} KILN_LAYER_FOLDER)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/ DESTINATION ${KILN_INSTALL_INCLUDEDIR}/${folder}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/proto/ir/kiln.pb.h DESTINATION ${KILN_INSTALL_INCLUDEDIR}/ir)
install(FILES ${PROJECT_SOURCE_DIR}/include/kiln/kiln.h DESTINATION ${KILN_INSTALL_INCLUDEDIR})

install(TARGETS ${kiln_layers} kiln_proto kiln_onnx_proto kiln kiln_aot_runtime kiln_cli
        EXPORT kilnTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${KILN_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kilnConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/kilnConfig.cmake
                              INSTALL_DESTINATION ${KILN_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/kilnModel.cmake
        DESTINATION ${KILN_INSTALL_CMAKEDIR})
