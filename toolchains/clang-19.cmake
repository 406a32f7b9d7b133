# Debian's clang 19 (installed by toolchains/bootstrap.sh): the oldest clang whose C++20 named
# modules and dependency scanning work with CMake's module support for this project.
set(CMAKE_CXX_COMPILER clang++-19)
set(CMAKE_CXX_COMPILER_CLANG_SCAN_DEPS clang-scan-deps-19)
