# urine-cp: file copies compared with cmp. The large file is 200 MiB to keep the test quick;
# files of several GiB take the same path (64-bit offsets, 8 chunks in flight whatever the size).
urine_add_example(urine-cp cp.cpp)
set(cp $<TARGET_FILE:urine-cp>)
urine_add_example_test(cp_empty_and_small
  ": > '${data}/cp_empty'; ${cp} '${data}/cp_empty' '${data}/cp_empty.copy'; cmp '${data}/cp_empty' '${data}/cp_empty.copy';
   printf 'small\\n' > '${data}/cp_small'; ${cp} '${data}/cp_small' '${data}/cp_small.copy'; cmp '${data}/cp_small' '${data}/cp_small.copy';
   head -c 1000001 /dev/urandom > '${data}/cp_odd'; ${cp} '${data}/cp_odd' '${data}/cp_odd.copy'; cmp '${data}/cp_odd' '${data}/cp_odd.copy'")
urine_add_example_test(cp_large
  "head -c 209715200 /dev/urandom > '${data}/cp_large'; rm -f '${data}/cp_large.copy';
   ${cp} '${data}/cp_large' '${data}/cp_large.copy'; cmp '${data}/cp_large' '${data}/cp_large.copy';
   rm -f '${data}/cp_large' '${data}/cp_large.copy'")
urine_add_example_test(cp_sparse
  "rm -f '${data}/cp_sparse'; printf 'start' > '${data}/cp_sparse'; truncate -s 50M '${data}/cp_sparse';
   printf 'middle' >> '${data}/cp_sparse'; truncate -s 100M '${data}/cp_sparse';
   ${cp} '${data}/cp_sparse' '${data}/cp_sparse.copy'; cmp '${data}/cp_sparse' '${data}/cp_sparse.copy';
   rm -f '${data}/cp_sparse' '${data}/cp_sparse.copy'")
urine_add_example_test(cp_into_directory
  "rm -rf '${data}/cp_dir'; mkdir -p '${data}/cp_dir/cp_small'; printf 'into\\n' > '${data}/cp_into';
   ${cp} '${data}/cp_into' '${data}/cp_dir/'; cmp '${data}/cp_into' '${data}/cp_dir/cp_into';
   if ${cp} '${data}/cp_small' '${data}/cp_dir' 2> '${data}/cp_err'; then exit 1; fi;
   grep -q 'cannot overwrite directory' '${data}/cp_err';
   if ${cp} '${data}/cp_dir' '${data}/cp_dir2' 2> '${data}/cp_err'; then exit 1; fi;
   grep -q 'omitting directory' '${data}/cp_err'")
urine_add_example_test(cp_missing_source
  "if ${cp} '${data}/cp_missing' '${data}/cp_x' 2> '${data}/cp_err'; then exit 1; fi;
   grep -q 'cp_missing.: No such file or directory' '${data}/cp_err'; test ! -e '${data}/cp_x'")
urine_add_example_test(cp_help
  "${cp} --help | grep -q 'Usage: urine-cp';
   if ${cp} '${data}/cp_one' 2> '${data}/cp_err'; then exit 1; fi; grep -q 'urine-cp --help' '${data}/cp_err'")
# A sysfs attribute claims 4096 bytes and holds fewer: the read comes back short, the kernel
# cancels the linked write, and urine-cp writes what was read and reads on until end of file.
# /proc files claim 0 bytes: urine-cp reads past the claimed size until a read finds the end.
urine_add_example_test(cp_short_reads_and_wrong_sizes
  "for f in /sys/kernel/mm/transparent_hugepage/enabled /sys/power/state /sys/kernel/profiling /proc/version; do
     test -r $f || continue; ${cp} $f '${data}/cp_special'; cat $f | cmp - '${data}/cp_special'; done")
# A failing write (/dev/full: ENOSPC) is reported with the system's message, exit status 1.
urine_add_example_test(cp_write_error
  "head -c 3000000 /dev/urandom > '${data}/cp_full';
   if ${cp} '${data}/cp_full' /dev/full 2> '${data}/cp_err'; then exit 1; fi;
   grep -q \"error writing '/dev/full': No space left on device\" '${data}/cp_err'")
