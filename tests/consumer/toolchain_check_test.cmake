# urine_toolchain_problem (what urine-config.cmake and urine's own configure ask) on the builds a
# newcomer has: Debian's g++ 12 with Makefiles must be told, in one sentence, each thing it lacks;
# clang 19 with clang-scan-deps and Ninja must pass.
#   cmake -D SOURCE_DIR=<urine's source> -P toolchain_check_test.cmake
cmake_minimum_required(VERSION 3.28)
include(${SOURCE_DIR}/cmake/toolchain_check.cmake)

function(expect_problem description expected_regex)
  urine_toolchain_problem(problem)
  if(NOT problem MATCHES "${expected_regex}")
    message(FATAL_ERROR "toolchain check (${description}): expected /${expected_regex}/, got \"${problem}\"")
  endif()
  # One sentence: a single full stop, at the end.
  string(REGEX MATCHALL "\\.( |$)" stops "${problem}")
  list(LENGTH stops sentences)
  if(problem AND NOT sentences EQUAL 1)
    message(FATAL_ERROR "toolchain check (${description}): not one sentence: \"${problem}\"")
  endif()
endfunction()

set(CMAKE_GENERATOR "Unix Makefiles")
set(CMAKE_CXX_COMPILER_ID GNU)
set(CMAKE_CXX_COMPILER_VERSION 12.2.0)
set(CMAKE_CXX_COMPILER_CLANG_SCAN_DEPS "")
set(CMAKE_CXX_COMPILE_FEATURES cxx_std_17 cxx_std_20)
expect_problem("g++ 12, Makefiles"
  "^urine.s C\\+\\+ modules need clang >= 19 with clang-scan-deps, the Ninja generator, CMake >= 3.28 and C\\+\\+23, and this build lacks the Ninja generator .*clang >= 19 \\(this is GNU 12.2.0.*C\\+\\+23\\.$")

set(CMAKE_GENERATOR Ninja)
set(CMAKE_CXX_COMPILER_ID Clang)
set(CMAKE_CXX_COMPILER_VERSION 19.1.7)
set(CMAKE_CXX_COMPILE_FEATURES cxx_std_20 cxx_std_23)
expect_problem("clang 19 without clang-scan-deps" "lacks clang-scan-deps beside clang \\(install clang-tools-19\\)\\.$")

set(CMAKE_CXX_COMPILER_CLANG_SCAN_DEPS /usr/bin/clang-scan-deps-19)
expect_problem("clang 19, clang-scan-deps, Ninja" "^$")
message(STATUS "toolchain check: ok")
