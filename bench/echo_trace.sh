#!/bin/sh
# The kernel's work per echoed message, counted by tracepoints: for each server and each cell
# (connections x message size), one fixed-count run of urine-bench under `perf record -a`, the
# server pinned to one CPU and the load client to another, and per message:
#
#   enter     io_uring_enter calls             (syscalls of the thread, by number)
#   sysc      all system calls
#   sleep     times the thread blocked         (sched_switch away in state S)
#   ipi       interrupts from the other side's CPU (ipi_send_cpu raised by the other process:
#                                               a wake-up or a task-work kick reaching this one)
#   tadd      task work queued to the ring     (io_uring_task_add, raised by whoever woke it)
#   twrun     task work runs                   (io_uring_task_work_run in the thread,
#                                               io_uring_local_work_run for DEFER_TASKRUN)
#   parm      poll handlers armed              (io_uring_poll_arm)
#   iowq      requests punted to io-wq         (io_uring_queue_async_work)
#   cqe       completions posted               (io_uring_complete)
#   short     sends that sent less than asked  (a send completion below its length)
#   nobufs    receives that found the buffer ring empty (ENOBUFS completions)
#   rearm     multishot receives re-armed      (receive completions without F_MORE)
#
# Each io_uring event is charged to the ring it concerns (the tracepoint's ring pointer, mapped to
# its process by io_uring_create), not to the CPU or task that happened to raise it: on loopback
# the sender's system call runs the receiver's TCP receive and queues the receiver's task work.
# Then, without tracing, CPU per message of the server process and of the client (urine-bench's
# usr+sys and client columns: the processes' summed run time, what /proc/PID/task/*/schedstat
# adds up). Tracing slows the run, so its wall clock is not reported; the counts do not depend
# on it.
#
# With --profile, each row is followed by where the server's CPU went, from cpu-clock samples of
# the server's process on its CPU during one more run: the share of each part of the kernel, and
# that share of the server's CPU per message in ns. (In a VM without a PMU the samples land
# where interrupts are enabled again, so a spin_unlock_irqrestore stands for the section before.)
#
# usage: bench/echo_trace.sh [--bench PATH] [--servers "urine:regfd epoll:default"]
#                            [--connections "16"] [--msg-size "64 4096"] [--ops N] [--pin S,C]
#                            [--profile]
set -eu

bench=build/net/bench/urine-bench
servers="urine:regfd urine:coop urine:defer urine:direct urine:sized urine:minwait urine:pollfirst liburing:regfd raw:regfd epoll:default"
connections="16"
sizes="64 4096"
ops=20000
pin=0,1
profile=false
while [ $# -gt 0 ]; do
  case $1 in
    --bench) bench=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --msg-size) sizes=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    --profile) profile=true; shift ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  esac
done
[ -x "$bench" ] || { echo "no urine-bench at $bench (build the urine-bench target)" >&2; exit 1; }
command -v perf > /dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 1; }
bench=$(cd "$(dirname "$bench")" && pwd)/$(basename "$bench")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The tracepoints. System calls and context switches only of the two processes (a tracepoint
# filter, so that other work on the machine fills no buffer); io_uring events of every ring,
# sorted out afterwards by ring.
ours='comm == "urine-bench" || comm == "echo-client" || comm ~ "iou-*"'
events="-e raw_syscalls:sys_enter --filter '$ours'
  -e sched:sched_switch --filter 'prev_comm == \"urine-bench\" || prev_comm == \"echo-client\"'
  -e ipi:ipi_send_cpu --filter '$ours'
  -e io_uring:io_uring_create -e io_uring:io_uring_complete -e io_uring:io_uring_task_add
  -e io_uring:io_uring_task_work_run -e io_uring:io_uring_local_work_run
  -e io_uring:io_uring_poll_arm -e io_uring:io_uring_queue_async_work"

# Reads `perf script -F comm,pid,event,trace` and prints the per-message counts of the server
# (pid $server) and of the client (comm echo-client).
count() {
  awk -v server="$1" -v ops="$2" '
    function side(comm, pid) { return pid == server ? "s" : comm == "echo-client" ? "c" : "" }
    function field(name,   i) {  # the value after "name" in the trace text
      for (i = 1; i < NF; ++i) if ($i == name) { v = $(i + 1); sub(/,$/, "", v); return v }
      return ""
    }
    function hexval(h,   i, n) {  # mawk has no strtonum
      n = 0; h = tolower(h); sub(/^0x/, "", h)
      for (i = 1; i <= length(h); ++i) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
      return n
    }
    {
      split($2, p, "/"); pid = p[1]; ev = $3; sub(/:$/, "", ev)
      if (ev == "io_uring:io_uring_create") { ring_of[field("ring")] = side($1, pid); next }
      if (ev == "raw_syscalls:sys_enter") {
        who = side($1, pid); if (who == "") next
        n[who, "sysc"]++
        if (field("NR") == 426) n[who, "enter"]++
        next
      }
      if (ev == "ipi:ipi_send_cpu") {  # charged to the side that receives it
        who = side($1, pid)  # io-wq workers carry the pid of their process
        if (who != "") n[who == "s" ? "c" : "s", "ipi"]++
        next
      }
      if (ev == "sched:sched_switch") {
        who = side($1, pid)
        if (who != "" && $0 ~ /prev_state=S/) n[who, "sleep"]++
        next
      }
      if (ev == "io_uring:io_uring_task_work_run") {
        who = side($1, pid)  # io-wq workers carry the pid of their process
        if (who != "") n[who, "twrun"]++
        next
      }
      who = ring_of[field("ring")]; if (who == "") next
      if (ev == "io_uring:io_uring_task_add") n[who, "tadd"]++
      else if (ev == "io_uring:io_uring_local_work_run") n[who, "twrun"]++
      else if (ev == "io_uring:io_uring_poll_arm") n[who, "parm"]++
      else if (ev == "io_uring:io_uring_queue_async_work") n[who, "iowq"]++
      else if (ev == "io_uring:io_uring_complete") {
        n[who, "cqe"]++
        if (who != "s") next
        ud = field("user_data"); sub(/^0x/, "", ud)
        while (length(ud) < 16) ud = "0" ud
        kind = substr(ud, 1, 1); res = field("result") + 0
        if (kind == "3" && res != hexval(substr(ud, 2, 5))) n[who, "short"]++
        if (kind == "2" && res == -105) n[who, "nobufs"]++
        if (kind == "2" && int(hexval(field("cflags")) / 2) % 2 == 0) n[who, "rearm"]++
      }
    }
    END {
      split("enter sysc sleep ipi tadd twrun parm iowq cqe short nobufs rearm", k, " ")
      for (s = 1; s <= 2; ++s) {
        who = s == 1 ? "s" : "c"
        line = ""
        for (i = 1; i <= 12; ++i) line = line sprintf(" %6.3f", n[who, k[i]] / ops)
        printf "%s |", line
      }
    }'
}

# Reads `perf report --sort sym` lines ("12.5%  [k] symbol") and sums them by part of the kernel.
where_it_went() {
  awk -v ns="$1" '
    $1 ~ /%$/ {
      share = $1; sub(/%/, "", share); sym = $NF
      if ($2 == "[.]") part = "user space"
      else if (sym ~ /io_uring|^_*io_|^io[a-z]*_/) part = "io_uring"
      else if (sym ~ /^ep_|poll|^do_epoll/) part = "epoll, poll"
      else if (sym ~ /^entry_|syscall|^__x64_sys|^__sys_|fdget|^fput|^__fget|^sockfd_lookup/)
        part = "syscall entry, fd lookup"
      else if (sym ~ /sched|wake|^ttwu|enqueue|dequeue|update_curr|pick_next|switch_|finish_task/)
        part = "scheduler, wake-ups"
      else if (sym ~ /^_*tcp|^_*skb|^_*ip_|^_*inet|^_*dev_|^_*net|^_*sk_|^_*sock|^__release_sock|bbr|iter|copy_|^_*napi|^_*do_softirq|^loopback|^_*alloc_skb|^__kfree_skb|^kfree_skbmem|^__local_bh|^_*neigh/)
        part = "TCP/IP and copies"
      else if (sym ~ /spin_unlock_irq|spin_unlock_irqrestore/) part = "irq-enable points"
      else if (sym ~ /slab|kmem|alloc|free|memcg|page_/) part = "memory"
      else part = "other"
      sum[part] += share
    }
    END {
      for (p in sum) printf "      %-26s %5.1f %%  %6.0f ns/msg\n", p, sum[p], sum[p] * ns / 100 | "sort -k1,1"
    }'
}

printf '%-6s %-5s %-18s | %-90s | %-90s | %6s %6s %6s\n' conns msg server \
  "server, per message" "client, per message" "srv ns" "cli ns" lost
printf '%-6s %-5s %-18s |' "" "" ""
for side in s c; do
  for k in enter sysc sleep ipi tadd twrun parm iowq cqe short nobufs rearm; do printf ' %6s' "$k"; done
  printf ' |'
done
printf '\n'
for c in $connections; do
  for m in $sizes; do
    for s in $servers; do
      impl=${s%%:*} variant=${s#*:}
      args="--scenario=echo --impl=$impl --variant=$variant --runs=1 --ops=$ops --connections=$c --msg-size=$m --pin=$pin"
      eval perf record -q -a -m 16M $events -o "$scratch/trace.data" -- \
        sh -c "'echo \$\$ > $scratch/server.pid; exec $bench $args'" > "$scratch/traced.out" 2>&1 ||
        { echo "traced run failed: $(cat "$scratch/traced.out")" >&2; exit 1; }
      lost=$(perf report -i "$scratch/trace.data" --stats 2> /dev/null |
        awk '/LOST(_SAMPLES)? events/ { n += $3 } END { print n + 0 }')
      counts=$(perf script -i "$scratch/trace.data" -F comm,pid,event,trace 2> /dev/null |
        count "$(cat "$scratch/server.pid")" "$ops")
      # CPU per message, untraced: the median of three runs (urine-bench's usr, sys and client).
      cpu=$("$bench" $args --runs=3 --format=csv | awk -F, 'NR > 1 { print $13 + $14, $15 }')
      printf '%-6s %-5s %-18s |%s %6.0f %6.0f %6s\n' "$c" "$m" "$s" "$counts" ${cpu:-0 0} "$lost"
      if $profile; then
        # Five times the messages, for enough samples; untraced, so no event is lost.
        # By pid: the samples taken before perf learns the exec'd name carry perf's own.
        perf record -q -F 20000 -e cpu-clock -C "${pin%%,*}" -o "$scratch/profile.data" -- \
          sh -c "echo \$\$ > $scratch/server.pid; exec $bench $args --ops=$((ops * 5))" > /dev/null 2>&1
        perf report -i "$scratch/profile.data" --pid "$(cat "$scratch/server.pid")" --percentage relative \
          --sort sym --stdio -q 2> /dev/null | where_it_went "${cpu%% *}"
      fi
    done
  done
done
