# urine-probe: the kernel's io_uring capabilities as a table.
urine_add_example(urine-probe probe.cpp)
set(probe $<TARGET_FILE:urine-probe>)
# Every kernel urine supports has READ; REGISTER_QUERY is listed whether or not it is present.
urine_add_example_test(probe_table
  "${probe} > '${data}/probe.out'; grep -q 'REGISTER_QUERY' '${data}/probe.out'; grep -Eq '^ +(IORING_OP_)?READ +' '${data}/probe.out'")
urine_add_example_test(probe_help "${probe} --help | grep -q 'Usage: urine-probe'")
