# readme_files(<readme> <dir>): writes into <dir> every file README.md shows for a project of
# one's own. Each such code block follows a marker naming the file it is, invisible when rendered:
#   <!-- file: CMakeLists.txt -->
#   ```cmake
#   ...
#   ```
# Fails unless it finds at least one, so the consumer test cannot pass on an empty project.
function(readme_files readme dir)
  file(READ ${readme} text)
  set(written)
  while(TRUE)
    string(FIND "${text}" "<!-- file: " at)
    if(at EQUAL -1)
      break()
    endif()
    math(EXPR at "${at} + 11")
    string(SUBSTRING "${text}" ${at} -1 text)
    string(FIND "${text}" " -->" end)
    string(SUBSTRING "${text}" 0 ${end} name)
    # The block's body: from the line after its opening fence to its closing fence.
    string(FIND "${text}" "```" open)
    string(SUBSTRING "${text}" ${open} -1 text)
    string(FIND "${text}" "\n" body)
    math(EXPR body "${body} + 1")
    string(SUBSTRING "${text}" ${body} -1 text)
    string(FIND "${text}" "```" close)
    string(SUBSTRING "${text}" 0 ${close} contents)
    string(SUBSTRING "${text}" ${close} -1 text)
    file(WRITE ${dir}/${name} "${contents}")
    list(APPEND written ${name})
  endwhile()
  if(NOT written)
    message(FATAL_ERROR "consumer: ${readme} marks no file of a project (<!-- file: ... -->)")
  endif()
  message(STATUS "consumer: from the README: ${written}")
endfunction()
