# cmake/merged_interface.cmake on a module of three units given out of order: the merged unit
# takes the partitions in dependency order, each include once, one module declaration and no
# partition imports, and keeps each unit's line numbers; the compiler accepts it and reports a
# diagnostic at the partition's own file and line. A fragment holding anything but
# #includes is refused.
#   cmake -D SOURCE_DIR=<urine> -D WORK_DIR=<scratch> -D CXX=<clang++> -P merged_interface_test.cmake
cmake_minimum_required(VERSION 3.28)
include(${SOURCE_DIR}/cmake/merged_interface.cmake)
set(PROJECT_SOURCE_DIR ${WORK_DIR})
set(units ${WORK_DIR}/m)
set(merged ${WORK_DIR}/m.merged.cppm)
if(MERGE_ONLY)  # the refusal below, in a process of its own
  urine_merged_interface(m ${merged} ${units}/m.cppm ${units}/top.cppm ${units}/base.cppm)
  return()
endif()

file(REMOVE_RECURSE ${WORK_DIR})
file(WRITE ${units}/m.cppm "// the primary unit\nexport module m;\nexport import :top;\nexport import :base;\n")
file(WRITE ${units}/top.cppm [=[
// depends on :base
module;
#include <cstdint>
#include <string>
export module m:top;
import :base;

export std::string top_name() { return base_name() + "/top"; }
export constexpr std::uint32_t top_line = __LINE__;
]=])
file(WRITE ${units}/base.cppm [=[
module;
#include <string>
export module m:base;

export std::string base_name() { return "base"; }
]=])

urine_merged_interface(m ${merged} ${units}/m.cppm ${units}/top.cppm ${units}/base.cppm)
file(READ ${merged} text)
string(FIND "${text}" "#line 1 \"m/base.cppm\"" base_at)
string(FIND "${text}" "#line 1 \"m/top.cppm\"" top_at)
string(FIND "${text}" "#line 1 \"m/m.cppm\"" primary_at)
if(base_at EQUAL -1 OR NOT top_at GREATER base_at OR NOT primary_at GREATER top_at)
  message(FATAL_ERROR "merged interface: the units are not in dependency order:\n${text}")
endif()
string(REGEX MATCHALL "#include <string>" strings "${text}")
list(LENGTH strings count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "merged interface: <string> is included ${count} times:\n${text}")
endif()
string(REGEX MATCHALL "\n(export )?module [^\n;]*|\nimport :" declarations "${text}")
if(NOT declarations STREQUAL "\nexport module m")
  message(FATAL_ERROR "merged interface: the module lines are ${declarations}:\n${text}")
endif()

# The compiler takes it, and a unit's __LINE__ is its own line (the 9th of top.cppm).
execute_process(COMMAND ${CXX} -std=c++23 --precompile ${merged} -o ${WORK_DIR}/m.pcm
                RESULT_VARIABLE rc ERROR_VARIABLE errors)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "merged interface: clang refused it: ${errors}")
endif()
file(WRITE ${WORK_DIR}/line.cpp "import m;\nstatic_assert(top_line == 9);\nint main() {}\n")
execute_process(COMMAND ${CXX} -std=c++23 -fmodule-file=m=${WORK_DIR}/m.pcm -fsyntax-only
                        ${WORK_DIR}/line.cpp RESULT_VARIABLE rc ERROR_VARIABLE errors)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "merged interface: top.cppm's line numbers are lost: ${errors}")
endif()

# A diagnostic names the partition and its line.
file(APPEND ${units}/top.cppm "static_assert(false, \"line 10\");\n")
urine_merged_interface(m ${merged} ${units}/m.cppm ${units}/top.cppm ${units}/base.cppm)
execute_process(COMMAND ${CXX} -std=c++23 --precompile ${merged} -o ${WORK_DIR}/m.pcm
                RESULT_VARIABLE rc ERROR_VARIABLE errors)
if(NOT errors MATCHES "m/top.cppm:10:[0-9]+: error: static assertion failed")
  message(FATAL_ERROR "merged interface: the diagnostic does not name top.cppm:10: ${errors}")
endif()

# A macro in a fragment would reach the units merged after it: refused, naming the unit.
file(WRITE ${units}/base.cppm "module;\n#include <string>\n#define BASE 1\nexport module m:base;\n")
execute_process(COMMAND ${CMAKE_COMMAND} -D SOURCE_DIR=${SOURCE_DIR} -D WORK_DIR=${WORK_DIR}
                        -D MERGE_ONLY=ON -P ${CMAKE_CURRENT_LIST_FILE}
                RESULT_VARIABLE rc ERROR_VARIABLE errors)
if(rc EQUAL 0 OR NOT errors MATCHES "m/base.cppm: a merged unit takes #includes")
  message(FATAL_ERROR "merged interface: a #define in a fragment was not refused (${rc}): ${errors}")
endif()
message(STATUS "merged interface: ok")
