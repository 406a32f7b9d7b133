# Runs clang-tidy-19 over urine's own sources (modules, tests, examples, bench) with the checks in
# .clang-tidy, in parallel, and fails if it reports anything. Run through the `tidy` workflow,
# which builds first (clang-tidy reads the built module interfaces):
#   cmake --workflow --preset tidy
#
# CMake compiles modules with `@<file>.modmap` response files that clang-tidy does not expand, so
# this script first writes a compilation database of the project's own sources with them expanded,
# then hands it to run-clang-tidy.
#   cmake -D BUILD_DIR=<build> -D SOURCE_DIR=<source> -D CLANG_TIDY=<clang-tidy>
#         -D RUN_CLANG_TIDY=<run-clang-tidy> -P tidy.cmake
cmake_minimum_required(VERSION 3.28)

file(READ ${BUILD_DIR}/compile_commands.json db)
string(JSON count LENGTH "${db}")
set(tidy_dir ${BUILD_DIR}/tidy)
file(MAKE_DIRECTORY ${tidy_dir})
set(expanded "[]")
set(kept 0)
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
  # Only the project's own sources: not generated ones, not the consumer test projects' builds,
  # and not the compile-fail tests, which are meant not to compile.
  if(file MATCHES "^${SOURCE_DIR}/(modules|tests|examples|bench)/"
     AND NOT file MATCHES "/tests/consumer/" AND NOT file MATCHES "/compile_fail/")
    string(JSON entry SET "${entry}" command "\"${command}\"")
    string(JSON expanded SET "${expanded}" ${kept} "${entry}")
    math(EXPR kept "${kept} + 1")
  endif()
endforeach()
file(WRITE ${tidy_dir}/compile_commands.json "${expanded}")

message(STATUS "tidy: ${kept} sources")
cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
execute_process(
  COMMAND ${RUN_CLANG_TIDY} -p ${tidy_dir} -clang-tidy-binary ${CLANG_TIDY} -j ${jobs} -quiet
          -warnings-as-errors=*
  WORKING_DIRECTORY ${BUILD_DIR}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tidy: findings above")
endif()
message(STATUS "tidy: clean")
