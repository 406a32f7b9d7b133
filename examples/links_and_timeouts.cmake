# links_and_timeouts: a linked chain and a link_timeout that fires, then one that does not.
urine_add_example(links_and_timeouts links_and_timeouts.cpp)
urine_add_example_test(links_and_timeouts
  "$<TARGET_FILE:links_and_timeouts> > '${data}/links.out'; cat '${data}/links.out';
   grep -q 'read back \"linked, synced, read back\"' '${data}/links.out';
   grep -Eq 'read .empty pipe. +-125 Operation canceled' '${data}/links.out';
   grep -Eq 'its link_timeout +-62 Timer expired' '${data}/links.out';
   grep -Eq 'read .pipe with data. +1$' '${data}/links.out'")
