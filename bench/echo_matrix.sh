#!/bin/sh
# Every echo server over a grid of connection counts and message sizes: urine-bench runs them
# alternated and rotated (server on one CPU, load client on another), and this prints, per cell
# and server, the median round trips per second with the spread of the runs, the server's and the
# client's CPU per message, and both against epoll's; then, per server, the geometric means over
# the cells and how many cells reach the targets (>= 1.10 x epoll's round trips per second and
# <= 0.90 x its server CPU per message), and the geometric means of round trips per second against
# the hand-written urine server (urine:sized) and Asio's io_uring backend (asio:uring). Every row
# shows the heap allocations per message and the CQ overflows the kernel counted (target 0 both;
# "-" for servers without a CQ).
#
# usage: bench/echo_matrix.sh [--bench PATH] [--runs 5] [--duration 0.3] [--pin 0,1]
#                             [--connections 16,64,256] [--msg-size 64,1024,4096]
#        bench/echo_matrix.sh --from FILE     (a saved `urine-bench --scenario=echo --format=csv`)
set -eu

bench=build/net/bench/urine-bench
runs=5 duration=0.3 pin=0,1 connections=16,64,256 sizes=64,1024,4096 from=
while [ $# -gt 0 ]; do
  case $1 in
    --bench) bench=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --msg-size) sizes=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  esac
done

if [ -z "$from" ]; then
  [ -x "$bench" ] || { echo "no urine-bench at $bench (build the urine-bench target)" >&2; exit 1; }
  from=$(mktemp)
  trap 'rm -f "$from"' EXIT
  "$bench" --scenario=echo --runs="$runs" --duration="$duration" --pin="$pin" \
    --connections="$connections" --msg-size="$sizes" --format=csv > "$from"
fi

# The CSV's columns by name, from its header line. Ratios between two servers are paired: the
# median of the ratios of their runs in the same round (every server runs once per round, back to
# back), so that the machine changing speed between rounds cancels out.
awk -F, '
  function median(v, n,   i, j, t) {  # sorts v[1..n] in place
    for (i = 2; i <= n; ++i) { t = v[i]; for (j = i - 1; j > 0 && v[j] > t; --j) v[j + 1] = v[j]; v[j + 1] = t }
    return n == 0 ? 0 : n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  # The paired ratio of a cell between two servers, of run rates ("ops") or server CPU ("cpu").
  function paired(what, cell, a, b,   x, y, n, i, r) {
    n = split(runs[what, cell, a], x, ";")
    if (n == 0 || split(runs[what, cell, b], y, ";") != n) return 0
    for (i = 1; i <= n; ++i) r[i] = y[i] > 0 ? x[i] / y[i] : 0
    return median(r, n)
  }
  NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
  $1 != "echo" { next }
  {
    cell = $col["point"]; name = $col["impl"] ":" $col["variant"]
    if (!(cell in seen)) { seen[cell] = 1; cells[++ncells] = cell }
    if (!((name) in known)) { known[name] = 1; names[++nnames] = name }
    rate[cell, name] = $col["median_ops_per_s"]; lo[cell, name] = $col["min_ops_per_s"]
    hi[cell, name] = $col["max_ops_per_s"]; err[cell, name] = $col["error"]
    srv[cell, name] = $col["user_ns_per_op"] + $col["sys_ns_per_op"]; cli[cell, name] = $col["client_ns_per_op"]
    alloc[cell, name] = $col["allocs_per_op"]
    ovf[cell, name] = "cq_overflows" in col ? $col["cq_overflows"] : -1
    # Without the runs (an older CSV), a ratio of medians stands in for the paired one.
    runs["ops", cell, name] = "run_ops_per_s" in col ? $col["run_ops_per_s"] : rate[cell, name]
    runs["cpu", cell, name] = "run_server_ns" in col ? $col["run_server_ns"] : srv[cell, name]
  }
  END {
    printf "%-22s %-18s %10s %12s %7s %8s %7s %8s %8s %6s\n", "cell", "server", "median/s", "spread %",
           "x epoll", "srv ns", "x epoll", "cli ns", "alloc/op", "cq ovf"
    for (c = 1; c <= ncells; ++c) {
      cell = cells[c]; base = "epoll:default"
      for (i = 1; i <= nnames; ++i) {
        name = names[i]
        if (!((cell, name) in rate)) continue
        if (rate[cell, name] == 0) { printf "%-22s %-18s failed: %s\n", cell, name, err[cell, name]; continue }
        xr = paired("ops", cell, name, base); xc = paired("cpu", cell, name, base)
        printf "%-22s %-18s %10.0f %5.0f..%+4.0f %7.3f %8.0f %7.3f %8.0f %8.4f %6s\n", cell, name, rate[cell, name],
               100 * (lo[cell, name] / rate[cell, name] - 1), 100 * (hi[cell, name] / rate[cell, name] - 1),
               xr, srv[cell, name], xc, cli[cell, name], alloc[cell, name], ovf[cell, name] < 0 ? "-" : ovf[cell, name]
        if (xr > 0 && xc > 0) {
          lr[name] += log(xr); lc[name] += log(xc); n[name]++
          if (xr >= 1.10 && xc <= 0.90) met[name]++
        }
        # Against the hand-written urine server and the Asio io_uring backend too: the comparisons
        # the coroutine server is held to.
        for (b = 1; b <= 2; ++b) {
          x = paired("ops", cell, name, b == 1 ? "urine:sized" : "asio:uring")
          if (x > 0) { lo2[name, b] += log(x); n2[name, b]++ }
        }
      }
    }
    printf "\n%-18s %15s %15s %12s %12s %12s\n", "server", "geomean x epoll", "srv CPU x epoll",
           "cells met", "x urine:sized", "x asio:uring"
    for (i = 1; i <= nnames; ++i) {
      name = names[i]
      if (!n[name]) continue
      printf "%-18s %15.3f %15.3f %8d of %d", name, exp(lr[name] / n[name]), exp(lc[name] / n[name]), met[name], n[name]
      for (b = 1; b <= 2; ++b)
        if (n2[name, b]) printf " %12.3f", exp(lo2[name, b] / n2[name, b]); else printf " %12s", "-"
      printf "\n"
    }
  }' "$from"
