# Installation: the library, its module sources (consumers build their own BMIs from them), and a
# CMake package (urine-config.cmake + version file) so that find_package(urine) just works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(URINE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/urine)

install(TARGETS urine
  EXPORT urine-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET CXX_MODULES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/urine)

install(EXPORT urine-targets
  NAMESPACE urine::
  DESTINATION ${URINE_CMAKE_DIR}
  CXX_MODULES_DIRECTORY modules)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/urine-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/urine-config.cmake
  INSTALL_DESTINATION ${URINE_CMAKE_DIR})
# Until 1.0, a minor version may change the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/urine-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/urine-config.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/urine-config-version.cmake
  DESTINATION ${URINE_CMAKE_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/toolchain_check.cmake
  RENAME urine-toolchain-check.cmake
  DESTINATION ${URINE_CMAKE_DIR})
