# The Debian package: what `cmake --install` installs (the library, the module sources, the CMake
# package), under /usr, as liburine-dev (Debian's name for a library's development files).
#   cmake --workflow --preset package     (or `cpack -G DEB` in any configured build tree)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME liburine-dev)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "urine <urine@invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# Nothing is needed to install it; building against it needs the module toolchain.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "clang-19, clang-tools-19, cmake (>= 3.28), ninja-build")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
include(CPack)
