# Builds and runs the consumer project against urine in one of three ways (MODE):
#   find_package      install the built urine to a staging prefix, then build the project README.md
#                     shows (its CMakeLists.txt and main.cpp, taken from the README) against it
#   deb               package the built urine with cpack -G DEB, unpack the .deb into a scratch root
#                     (dpkg-deb -x), then find_package(urine) there and import it module by module
#   add_subdirectory  the consumer adds urine's source tree
#   fetch_content     the consumer declares urine with FetchContent from its local path
# Usage: cmake -D MODE=... -D URINE_SOURCE_DIR=... -D URINE_BINARY_DIR=... -D WORK_DIR=...
#              -D CONSUMER_DIR=... -D CXX_COMPILER=... -D CLANG_SCAN_DEPS=...
#              [-D CPACK=... -D DPKG_DEB=...  (deb)]
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
set(source ${CONSUMER_DIR})
set(program consumer)
if(MODE STREQUAL "find_package")
  include(${CMAKE_CURRENT_LIST_DIR}/readme_files.cmake)
  set(source ${WORK_DIR}/project)
  readme_files(${URINE_SOURCE_DIR}/README.md ${source})
  # The executable the README's project defines.
  file(STRINGS ${source}/CMakeLists.txt program REGEX "^add_executable\\(")
  string(REGEX REPLACE "^add_executable\\(([^ )]+).*" "\\1" program "${program}")
endif()
set(args -S ${source} -B ${build} -G Ninja
  -D CMAKE_CXX_COMPILER=${CXX_COMPILER}
  -D CMAKE_CXX_COMPILER_CLANG_SCAN_DEPS=${CLANG_SCAN_DEPS}
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
  -D URINE_SOURCE_DIR=${URINE_SOURCE_DIR})

if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${URINE_BINARY_DIR} --prefix ${prefix})
  list(APPEND args -D CMAKE_PREFIX_PATH=${prefix})
elseif(MODE STREQUAL "deb")
  run(${CPACK} -G DEB --config ${URINE_BINARY_DIR}/CPackConfig.cmake -B ${WORK_DIR}/package)
  file(GLOB deb ${WORK_DIR}/package/*.deb)
  list(LENGTH deb debs)
  if(NOT debs EQUAL 1)
    message(FATAL_ERROR "consumer (deb): expected one .deb, cpack made: ${deb}")
  endif()
  run(${DPKG_DEB} -x ${deb} ${WORK_DIR}/root)
  set(prefix ${WORK_DIR}/root/usr)
  foreach(part IN ITEMS lib/liburine.a include/urine/urine.cppm lib/cmake/urine/urine-config.cmake)
    if(NOT EXISTS ${prefix}/${part})
      message(FATAL_ERROR "consumer (deb): the package lacks /usr/${part}")
    endif()
  endforeach()
  list(APPEND args -D CMAKE_PREFIX_PATH=${prefix} -D URINE_CONSUMER_MODE=find_package)
else()
  list(APPEND args -D URINE_CONSUMER_MODE=${MODE})
endif()

run(${CMAKE_COMMAND} ${args})
run(${CMAKE_COMMAND} --build ${build})
run(${build}/${program} ${WORK_DIR})
message(STATUS "consumer: ok (${MODE})")
