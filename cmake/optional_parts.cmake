# The parts of urine beyond the library, each switched by a cache variable: ON, OFF or AUTO.
#
#   urine_optional_part(<variable> <what it builds> <what it needs, or "">)
#
# declares <variable> (AUTO when urine is the top-level project, OFF when it is a subproject) and
# resolves it to ON or OFF in the caller's scope: AUTO becomes ON when the part's dependency is
# found and OFF (with a note saying what to install) when it is not; ON with the dependency
# missing is an error naming it.

# Whether the dependency of <variable>'s part is there; each part's finder is its own branch.
function(urine_part_dependency_found variable out)
  if(variable STREQUAL "URINE_BUILD_TESTS")
    find_package(GTest QUIET)
    set(found ${GTest_FOUND})
  elseif(variable STREQUAL "URINE_BUILD_BENCHMARKS")
    find_package(PkgConfig QUIET)
    set(found FALSE)
    if(PkgConfig_FOUND)
      # A probe under a name of its own: bench/ makes the imported target itself.
      pkg_check_modules(URINE_LIBURING_PROBE QUIET liburing)
      set(found ${URINE_LIBURING_PROBE_FOUND})
    endif()
  else()
    set(found TRUE)
  endif()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

function(urine_optional_part variable what needs)
  if(PROJECT_IS_TOP_LEVEL)
    set(default AUTO)
  else()
    set(default OFF)
  endif()
  set(${variable} ${default} CACHE STRING "Build ${what}: ON, OFF, or AUTO (when its dependencies are found)")
  set_property(CACHE ${variable} PROPERTY STRINGS ON OFF AUTO)

  set(wanted ${${variable}})
  if(NOT wanted)
    set(${variable} OFF PARENT_SCOPE)
    return()
  endif()
  urine_part_dependency_found(${variable} found)
  if(found)
    set(${variable} ON PARENT_SCOPE)
  elseif(wanted STREQUAL "AUTO")
    message(STATUS "urine: not building ${what}: it needs ${needs} (or set ${variable}=OFF to silence this)")
    set(${variable} OFF PARENT_SCOPE)
  else()
    message(FATAL_ERROR "${variable} is ON, but ${what} needs ${needs}, which is not found: install it (toolchains/bootstrap.sh does) or set ${variable}=OFF.")
  endif()
endfunction()
