# One interface unit per named module, merged from the module's partition units.
#
# The partitions are where urine is written (one concern per file); the merged unit is what is
# compiled, by urine's own build and by every consumer's. Each module unit a build compiles pays
# for re-reading the standard headers of its global module fragment and for writing them again
# into its BMI, so 6 merged units cost a consumer a fraction of what the ~60 partitions did.
#
# The merged unit of module M is
#   module;                      the union of the partitions' #includes, in first-seen order
#   export module M;
#   export import ...;           what the primary unit re-exports from other modules
#   import ...;                  what the partitions import from other modules
#   #line 1 "modules/<unit>"     each partition, in dependency order, then the primary unit
#   <the unit's text>            with its fragment, module declaration and imports blanked
# The #line directives keep the line numbers of the partitions, so a diagnostic names the
# partition file and line it comes from.
#
#   urine_merged_interface(<module> <output file> <units...>)
# <units> are the primary interface unit and the partitions, absolute paths, in any order.
# The output is rewritten only when its text changes (a rebuild follows only a real change).

# The parts of `unit`: the #includes of its global module fragment (unit_includes), the modules
# it imports and re-exports (unit_exported), those it imports alone (unit_imported), the
# partitions of its own module it imports (unit_partitions), its partition name (unit_partition,
# empty for the primary unit) and its text with the module preamble blanked (unit_body).
function(_urine_read_unit unit module)
  file(READ "${unit}" text)
  file(RELATIVE_PATH name "${PROJECT_SOURCE_DIR}" "${unit}")

  string(REGEX MATCH "(^|\n)export module ${module}(:[a-z_]+)?;" declaration "${text}")
  if(NOT declaration)
    message(FATAL_ERROR "${name}: no `export module ${module}` declaration")
  endif()
  string(REGEX REPLACE "^\n?export module ${module}:?([a-z_]*).*$" "\\1" partition "${declaration}")
  string(FIND "${text}" "${declaration}" declaration_at)
  string(SUBSTRING "${text}" 0 ${declaration_at} preamble)

  # The global module fragment holds #includes only; anything else (a macro, a declaration)
  # would change the meaning of the units merged after it.
  set(include_pattern "#include [<\"][^>\"\n]+[>\"]")
  string(REGEX MATCHALL "${include_pattern}" includes "${preamble}")
  string(REGEX MATCHALL "${include_pattern}" all_includes "${text}")
  string(REGEX REPLACE "${include_pattern}|//[^\n]*|(^|\n)module;" "" rest "${preamble}")
  if(NOT rest MATCHES "^[ \t\n]*$" OR NOT includes STREQUAL all_includes)
    message(FATAL_ERROR "${name}: a merged unit takes #includes in the global module fragment alone")
  endif()

  # The imports, each kept by name (a `;` would split the list).
  string(REGEX MATCHALL "\n(export )?import [a-z_.:]+" imports "${text}")
  set(exported)
  set(imported)
  set(partitions)
  foreach(line IN LISTS imports)
    string(REGEX REPLACE "^\n(export )?import :?" "" what "${line}")
    if(line MATCHES "import :")
      list(APPEND partitions "${what}")
    elseif(line MATCHES "^\nexport ")
      list(APPEND exported "${what}")
    else()
      list(APPEND imported "${what}")
    endif()
  endforeach()

  # Blank the fragment, the module declaration and the imports, keeping every newline, so that
  # the #line directive before the text keeps the unit's line numbers.
  string(REGEX REPLACE "${include_pattern}" "" text "${text}")
  string(REGEX REPLACE "(^|\n)module;\n" "\\1\n" text "${text}")
  string(REGEX REPLACE "(^|\n)export module [^\n]+" "\\1" text "${text}")
  string(REGEX REPLACE "\n(export )?import [a-z_.:]+;" "\n" text "${text}")

  set(unit_includes "${includes}" PARENT_SCOPE)
  set(unit_exported "${exported}" PARENT_SCOPE)
  set(unit_imported "${imported}" PARENT_SCOPE)
  set(unit_partitions "${partitions}" PARENT_SCOPE)
  set(unit_partition "${partition}" PARENT_SCOPE)
  set(unit_body "#line 1 \"${name}\"\n${text}" PARENT_SCOPE)
endfunction()

function(urine_merged_interface module output)
  # Read every unit; keep the partitions by name, the primary unit apart.
  set(names)
  set(primary)
  foreach(unit IN LISTS ARGN)
    _urine_read_unit("${unit}" "${module}")
    if(unit_partition STREQUAL "")
      set(primary "${unit}")
      set(key _primary)
    else()
      set(key "${unit_partition}")
      list(APPEND names "${key}")
    endif()
    foreach(part IN ITEMS includes exported imported partitions body)
      set(${key}_${part} "${unit_${part}}")
    endforeach()
  endforeach()
  if(NOT primary)
    message(FATAL_ERROR "${module}: no primary interface unit among ${ARGN}")
  endif()

  # Dependency order: a partition comes after every partition it imports.
  set(order)
  while(names)
    set(ready)
    foreach(key IN LISTS names)
      set(waiting OFF)
      foreach(dependency IN LISTS ${key}_partitions)
        if(NOT dependency IN_LIST order)
          set(waiting ON)
        endif()
      endforeach()
      if(NOT waiting)
        set(ready "${key}")
        break()
      endif()
    endforeach()
    if(NOT ready)
      message(FATAL_ERROR "${module}: its partitions import each other in a cycle: ${names}")
    endif()
    list(APPEND order "${ready}")
    list(REMOVE_ITEM names "${ready}")
  endwhile()
  list(APPEND order _primary)

  set(includes)
  set(exported)
  set(imported)
  set(bodies "")
  foreach(key IN LISTS order)
    list(APPEND includes ${${key}_includes})
    list(APPEND exported ${${key}_exported})
    list(APPEND imported ${${key}_imported})
    string(APPEND bodies "${${key}_body}\n")
  endforeach()
  list(REMOVE_DUPLICATES includes)
  list(REMOVE_DUPLICATES exported)
  list(REMOVE_DUPLICATES imported)
  if(exported)
    list(REMOVE_ITEM imported ${exported})
  endif()

  file(RELATIVE_PATH from "${PROJECT_SOURCE_DIR}" "${primary}")
  get_filename_component(from "${from}" DIRECTORY)
  set(merged "// ${module}: generated from the units of ${from}/ (edit those).\n")
  if(includes)
    string(APPEND merged "module;\n")
    foreach(include IN LISTS includes)
      string(APPEND merged "${include}\n")
    endforeach()
  endif()
  string(APPEND merged "export module ${module};\n")
  foreach(name IN LISTS exported)
    string(APPEND merged "export import ${name};\n")
  endforeach()
  foreach(name IN LISTS imported)
    string(APPEND merged "import ${name};\n")
  endforeach()
  string(APPEND merged "${bodies}")

  set(previous "")
  if(EXISTS "${output}")
    file(READ "${output}" previous)
  endif()
  if(NOT previous STREQUAL merged)
    file(WRITE "${output}" "${merged}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ARGN})
endfunction()
