# restrictions_sandbox: a ring restricted to READ on its one registered file; the rest is EACCES.
urine_add_example(restrictions_sandbox restrictions_sandbox.cpp)
set(sandbox $<TARGET_FILE:restrictions_sandbox>)
# The refused write must leave the file as it was.
urine_add_example_test(restrictions_sandbox
  "printf 'only this may be read\\nand this\\n' > '${data}/sandboxed'; cp '${data}/sandboxed' '${data}/sandboxed.before';
   ${sandbox} '${data}/sandboxed' > '${data}/sandbox.out'; cat '${data}/sandbox.out';
   grep -q 'allowed: READ of registered file 0: 31 bytes, \"only this may be read\"' '${data}/sandbox.out';
   grep -q 'refused: WRITE to registered file 0: Permission denied' '${data}/sandbox.out';
   grep -q 'refused: READ of descriptor (not registered): Permission denied' '${data}/sandbox.out';
   grep -q 'refused: IORING_REGISTER_FILES_UPDATE.*Permission denied' '${data}/sandbox.out';
   cmp '${data}/sandboxed' '${data}/sandboxed.before'")
urine_add_example_test(restrictions_sandbox_help "${sandbox} --help | grep -q 'Usage: restrictions_sandbox FILE'")
urine_add_example_test(restrictions_sandbox_missing_file
  "if ${sandbox} '${data}/no-such-file' 2> '${data}/sandbox.err'; then exit 1; fi;
   grep -q 'no-such-file: No such file or directory' '${data}/sandbox.err'")
