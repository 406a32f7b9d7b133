# urine-async-echo-server: the coroutine echo server, under the load client of echo_load.cmake,
# with one runtime and with four runtimes sharing the port (SO_REUSEPORT).
urine_add_example(urine-async-echo-server async_echo_server.cpp)
urine_add_example_test(async_echo_server_help
  "$<TARGET_FILE:urine-async-echo-server> --help | grep -q 'Usage: urine-async-echo-server'")
set(echo_server $<TARGET_FILE:urine-async-echo-server>)
urine_add_echo_test(async_echo_load_small_and_4k_messages
  "load --connections 200 --seconds 2 --size 64; load --connections 200 --seconds 2 --size 4096")
urine_add_echo_test(async_echo_load_messages_larger_than_socket_buffers
  "load --connections 4 --seconds 1 --size 1000000")
set(echo_server "$<TARGET_FILE:urine-async-echo-server> --threads 4")
urine_add_echo_test(async_echo_load_four_runtimes_one_port
  "load --connections 400 --seconds 2 --size 100")
