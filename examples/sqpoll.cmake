# sqpoll: submission without system calls while the kernel's SQ thread is awake.
urine_add_example(sqpoll sqpoll.cpp)
urine_add_example_test(sqpoll
  "$<TARGET_FILE:sqpoll> > '${data}/sqpoll.out'; cat '${data}/sqpoll.out';
   grep -q '32 NOPs submitted and completed' '${data}/sqpoll.out';
   grep -q 'written by the SQPOLL thread' '${data}/sqpoll.out';
   grep -q 'after 100 ms idle, needs_wakeup() = 1' '${data}/sqpoll.out'")
