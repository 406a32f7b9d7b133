# Runs clang-tidy-19 over urine's own sources (modules, tests, examples, bench) with the checks in
# .clang-tidy, and fails if it reports anything. Run through the `tidy` target of a configured
# build:  cmake --build --preset dev --target tidy
#
# CMake compiles modules with `@<file>.modmap` response files that clang-tidy does not expand, so
# this script first writes a copy of compile_commands.json with them expanded.
#   cmake -D BUILD_DIR=<build> -D SOURCE_DIR=<source> -D CLANG_TIDY=<clang-tidy> -P tidy.cmake
cmake_minimum_required(VERSION 3.28)

file(READ ${BUILD_DIR}/compile_commands.json db)
string(JSON count LENGTH "${db}")
set(tidy_dir ${BUILD_DIR}/tidy)
file(MAKE_DIRECTORY ${tidy_dir})
set(expanded "[]")
set(sources)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON entry GET "${db}" ${i})
  string(JSON command GET "${entry}" command)
  string(JSON file GET "${entry}" file)
  string(JSON directory GET "${entry}" directory)
  # Expand each @response file, relative to the entry's directory.
  string(REGEX MATCHALL "@[^ ]+\\.modmap" responses "${command}")
  foreach(response IN LISTS responses)
    string(SUBSTRING "${response}" 1 -1 path)
    if(NOT IS_ABSOLUTE "${path}")
      set(path "${directory}/${path}")
    endif()
    set(contents "")
    if(EXISTS "${path}")
      file(READ "${path}" contents)
      string(REPLACE "\n" " " contents "${contents}")
    endif()
    string(REPLACE "${response}" "${contents}" command "${command}")
  endforeach()
  string(JSON entry SET "${entry}" command "\"${command}\"")
  string(JSON expanded SET "${expanded}" ${i} "${entry}")
  # Only the project's own sources, not generated ones or the consumer test projects' builds.
  if(file MATCHES "^${SOURCE_DIR}/(modules|tests|examples|bench)/" AND NOT file MATCHES "/tests/consumer/")
    list(APPEND sources "${file}")
  endif()
endforeach()
file(WRITE ${tidy_dir}/compile_commands.json "${expanded}")

list(REMOVE_DUPLICATES sources)
list(LENGTH sources n)
message(STATUS "tidy: ${n} sources")
set(failed 0)
foreach(source IN LISTS sources)
  execute_process(COMMAND ${CLANG_TIDY} -p ${tidy_dir} --quiet --warnings-as-errors=* ${source}
    WORKING_DIRECTORY ${BUILD_DIR}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    file(RELATIVE_PATH shown ${SOURCE_DIR} ${source})
    message("tidy: ${shown}\n${out}")
    math(EXPR failed "${failed} + 1")
  endif()
endforeach()
if(failed GREATER 0)
  message(FATAL_ERROR "tidy: ${failed} of ${n} sources have findings")
endif()
message(STATUS "tidy: clean")
