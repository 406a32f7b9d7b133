# urine-echo-load against urine-echo-server, as a user would run them: the server in the
# background on a port it picks, the load client on that port, then SIGTERM, which must stop the
# server with exit status 0.
urine_add_example(urine-echo-load echo_load.cpp)
set(echo_server $<TARGET_FILE:urine-echo-server>)
set(echo_load $<TARGET_FILE:urine-echo-load>)

# urine_add_echo_test(<name> <shell commands>): run the commands while a server is running; they
# see its port as $port, a file prefix as $out, `load ARGS...`, which runs the client and fails
# unless it reports more than zero requests and no errors (the client checks every echoed byte and
# exits 1 on any mismatch or connection error), and `stop SIGNAL NUMBER`, which signals the server
# and fails unless it exits 0 saying so. Without an earlier `stop`, SIGTERM stops it at the end.
# The server's output file is removed before it starts: the background job truncates it only when
# it gets to run, and the previous run's port must not be read meanwhile.
function(urine_add_echo_test name commands)
  urine_add_example_test(${name}
    "out='${data}/${name}';
     load() { st=0; ${echo_load} --port $port \"$@\" > \"$out.load\" || st=$?; cat \"$out.load\"; test $st = 0; grep -Eq ' [1-9][0-9]* requests in .* errors: 0$' \"$out.load\"; };
     stop() { kill -$1 $pid; wait $pid; pid=; grep -q \"signal $2: stopped\" \"$out.server\"; };
     rm -f \"$out.server\"; ${echo_server} > \"$out.server\" & pid=$!; trap 'kill $pid 2>/dev/null || true' EXIT;
     for i in $(seq 50); do grep -qs '^listening on' \"$out.server\" && break; sleep 0.1; done;
     port=$(sed -n 's/^listening on 127.0.0.1://p' \"$out.server\" 2>/dev/null); test -n \"$port\" || { echo 'the server printed no port' >&2; exit 1; };
     ${commands};
     test -z \"$pid\" || stop TERM 15")
endfunction()

urine_add_echo_test(echo_load_small_and_4k_messages
  "load --connections 200 --seconds 2 --size 64; load --connections 200 --seconds 2 --size 4096")
# 3000 connections, or as many as the descriptor limit allows (both programs raise their soft
# limit to the hard one; a few descriptors are left for the rest).
urine_add_echo_test(echo_load_thousands_of_connections
  "n=$(ulimit -Hn); if [ \"$n\" = unlimited ] || [ \"$n\" -gt 3064 ]; then n=3064; fi;
   load --connections $((n - 64)) --seconds 1 --size 100")
urine_add_echo_test(echo_load_messages_larger_than_socket_buffers "load --connections 4 --seconds 1 --size 1000000")
urine_add_example_test(echo_load_connection_refused
  "if ${echo_load} --port 1 --connections 2 --seconds 1 2> '${data}/refused.err'; then exit 1; fi;
   grep -q 'connect: Connection refused' '${data}/refused.err'")
urine_add_example_test(echo_load_help "${echo_load} --help | grep -q 'Usage: urine-echo-load'")
# SIGINT while 500 connections are busy: the server stops at once and exits 0; the client then
# sees its connections closed and says so (exit status 1, which is expected here).
urine_add_echo_test(echo_server_stops_on_sigint_under_load
  "(set +e; ${echo_load} --port $port --connections 500 --seconds 5 > \"$out.load\" 2>&1; echo $? > \"$out.status\") &
   sleep 1; stop INT 2; wait;
   cat \"$out.load\"; test \"$(cat \"$out.status\")\" = 1")
set(echo_server "$<TARGET_FILE:urine-echo-server> --threads 4")
urine_add_echo_test(echo_load_four_runtimes_one_port
  "load --connections 400 --seconds 2 --size 100")
