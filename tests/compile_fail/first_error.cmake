# Builds one compile-fail target and passes when the build fails and its FIRST error matches
# REGEX. A match anywhere would let the sentence hide behind a wall of template diagnostics; what
# a user reads first is what must say what went wrong.
#   cmake -DBUILD_DIR=<dir> -DTARGET=<target> -DREGEX=<regex> -P first_error.cmake
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output
  RESULT_VARIABLE status)
if(status EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, and must not")
endif()
string(REGEX MATCH "error: [^\n]*" first_error "${output}")
if(NOT first_error)
  message(FATAL_ERROR "${TARGET} failed without a compiler error:\n${output}")
endif()
if(NOT first_error MATCHES "${REGEX}")
  message(FATAL_ERROR "the first error of ${TARGET} does not match '${REGEX}':\n${output}")
endif()
message(STATUS "${first_error}")
