# urine-echo-server: run under load by the tests in echo_load.cmake, with one runtime and with four
# runtimes sharing the port (SO_REUSEPORT).
urine_add_example(urine-echo-server echo_server.cpp)
urine_add_example_test(echo_server_help "$<TARGET_FILE:urine-echo-server> --help | grep -q 'Usage: urine-echo-server'")
urine_add_example_test(echo_server_bad_argument
  "if $<TARGET_FILE:urine-echo-server> --port 70000 2> '${data}/echo_bad.err'; then exit 1; fi; grep -q 'bad argument' '${data}/echo_bad.err'")
