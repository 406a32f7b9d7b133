# What building urine's modules needs from the build that compiles them: urine's own configure
# and every consumer's find_package(urine) (consumers compile the module interfaces themselves).
# A missing piece is named in one sentence, before CMake's own module errors, which do not say
# what to change.
#
#   urine_toolchain_problem(<out-var>)  sets <out-var> to that sentence, or to "" when all is there

function(urine_toolchain_problem out)
  set(missing)
  if(CMAKE_VERSION VERSION_LESS 3.28)
    list(APPEND missing "CMake >= 3.28 (this is ${CMAKE_VERSION})")
  endif()
  if(NOT CMAKE_GENERATOR MATCHES "Ninja")
    list(APPEND missing "the Ninja generator (this is ${CMAKE_GENERATOR}: configure with -G Ninja)")
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
    list(APPEND missing
      "clang >= 19 (this is ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}: configure with -D CMAKE_CXX_COMPILER=clang++-19)")
  elseif(NOT CMAKE_CXX_COMPILER_CLANG_SCAN_DEPS)
    list(APPEND missing "clang-scan-deps beside clang (install clang-tools-19)")
  endif()
  if(NOT "cxx_std_23" IN_LIST CMAKE_CXX_COMPILE_FEATURES)
    list(APPEND missing "a compiler with C++23")
  endif()
  if(missing)
    list(JOIN missing ", " what)
    set(${out} "urine's C++ modules need clang >= 19 with clang-scan-deps, the Ninja generator, CMake >= 3.28 and C++23, and this build lacks ${what}." PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()
