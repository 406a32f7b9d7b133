# Builds and runs the consumer project against urine in one of three ways (MODE):
#   find_package      install the built urine to a staging prefix, then find_package(urine)
#   add_subdirectory  the consumer adds urine's source tree
#   fetch_content     the consumer declares urine with FetchContent from its local path
# Usage: cmake -D MODE=... -D URINE_SOURCE_DIR=... -D URINE_BINARY_DIR=... -D WORK_DIR=...
#              -D CONSUMER_DIR=... -D CXX_COMPILER=... -D CLANG_SCAN_DEPS=...
#              [-D CXX_FLAGS=... -D LINKER_FLAGS=...] -P run_consumer.cmake
# The flags are the build's own (a sanitizer build's library needs them at link time too).
cmake_minimum_required(VERSION 3.28)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(JOIN " " line ${ARGN})
    message(FATAL_ERROR "consumer (${MODE}): failed (${rc}): ${line}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
set(args -S ${CONSUMER_DIR} -B ${build} -G Ninja
  -D CMAKE_CXX_COMPILER=${CXX_COMPILER}
  -D CMAKE_CXX_COMPILER_CLANG_SCAN_DEPS=${CLANG_SCAN_DEPS}
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
  -D URINE_CONSUMER_MODE=${MODE}
  -D URINE_SOURCE_DIR=${URINE_SOURCE_DIR})

if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${URINE_BINARY_DIR} --prefix ${prefix})
  list(APPEND args -D CMAKE_PREFIX_PATH=${prefix})
endif()

run(${CMAKE_COMMAND} ${args})
run(${CMAKE_COMMAND} --build ${build})
run(${build}/consumer ${WORK_DIR})
message(STATUS "consumer: ok (${MODE})")
