// urine-bench: runs each scenario's implementations in alternation, several times, and prints
// medians and the ratios urine/liburing, urine/raw (and urine/epoll for echo). Everything shared
// by the implementations lives here: options, the read file, running echo, the output.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "echo.hpp"
#include "harness.hpp"

namespace bench {

std::vector<bench_case>& registry() {
  static std::vector<bench_case> cases;
  return cases;
}

bool send_all(int fd, const std::byte* data, std::size_t size) {
  for (unsigned spins = 0; size > 0 && spins < 1'000'000; ++spins) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
  }
  return size == 0;
}

namespace {

// ---- options -----------------------------------------------------------------------------------

struct options {
  std::vector<std::string> scenarios{"nop", "read", "echo"};
  std::vector<std::string> impls;     // empty: all
  std::vector<std::string> variants;  // empty: all
  std::vector<unsigned> batches{1, 32, 128};
  std::vector<unsigned> depths{1, 32, 128};
  std::vector<std::string> fixed{"none", "both"};  // read: none, files, buffers, both
  std::vector<unsigned> connections{16};
  std::vector<unsigned> msg_sizes{64, 4096};
  std::uint64_t ops = 0;  // fixed count; 0: calibrate to `duration`
  double duration = 0.3;
  unsigned runs = 5;
  std::string format = "table";
  std::string file = "urine-bench-read.dat";
  bool direct = false;
  int server_cpu = -1;  // --pin: this program (and the echo server in it) on one CPU,
  int client_cpu = -1;  // the echo load client on another; -1: not pinned
};

constexpr std::string_view usage = R"(usage: urine-bench [options]
  --scenario=nop,read,echo     scenarios to run (default: all)
  --impl=urine,liburing,raw,epoll   implementations (default: all)
  --variant=regfd,plain,...    urine policy sets / peer variants (default: all)
  --batch=1,32,128             nop: NOPs per submit-and-wait
  --depth=1,32,128             read: reads per submit-and-wait (queue depth)
  --fixed=none,files,buffers,both   read: registered files and/or buffers
  --connections=16             echo: client connections
  --msg-size=64,4096           echo: bytes per message
  --ops=N                      fixed operation count per run (for instruction counting)
  --duration=0.3               seconds per run when --ops is not given
  --runs=5                     runs per implementation (medians are printed)
  --format=table|csv|json
  --file=PATH                  read: the 64 MiB file (ext4, not tmpfs; created if missing)
  --direct                     read: open the file with O_DIRECT
  --pin=S,C                    run on CPU S, the echo load client on CPU C (default: unpinned)
)";

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return out;
}

std::vector<unsigned> split_numbers(std::string_view s) {
  std::vector<unsigned> out;
  for (const std::string& part : split(s)) out.push_back(static_cast<unsigned>(std::stoul(part)));
  return out;
}

std::optional<options> parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const std::size_t eq = arg.find('=');
    const std::string_view key = arg.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
    if (key == "--scenario")
      o.scenarios = split(value);
    else if (key == "--impl")
      o.impls = split(value);
    else if (key == "--variant")
      o.variants = split(value);
    else if (key == "--batch")
      o.batches = split_numbers(value);
    else if (key == "--depth")
      o.depths = split_numbers(value);
    else if (key == "--fixed")
      o.fixed = split(value);
    else if (key == "--connections")
      o.connections = split_numbers(value);
    else if (key == "--msg-size")
      o.msg_sizes = split_numbers(value);
    else if (key == "--ops")
      o.ops = std::stoull(std::string(value));
    else if (key == "--duration")
      o.duration = std::stod(std::string(value));
    else if (key == "--runs")
      o.runs = static_cast<unsigned>(std::stoul(std::string(value)));
    else if (key == "--format")
      o.format = value;
    else if (key == "--file")
      o.file = value;
    else if (key == "--direct")
      o.direct = true;
    else if (key == "--pin" && split_numbers(value).size() == 2) {
      const std::vector<unsigned> cpus = split_numbers(value);
      o.server_cpu = static_cast<int>(cpus[0]);
      o.client_cpu = static_cast<int>(cpus[1]);
    } else {
      std::fprintf(stderr, "%.*s", static_cast<int>(usage.size()), usage.data());
      return std::nullopt;
    }
  }
  if (o.runs == 0) o.runs = 1;
  return o;
}

bool wanted(const std::vector<std::string>& filter, const std::string& name) {
  return filter.empty() || std::ranges::find(filter, name) != filter.end();
}

// ---- the read file -----------------------------------------------------------------------------

constexpr std::size_t read_file_size = std::size_t{64} << 20;
constexpr std::size_t offset_count = std::size_t{1} << 16;

/// Creates the file if it is missing or the wrong size: every block starts with its index.
bool prepare_read_file(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) == 0 && static_cast<std::size_t>(st.st_size) == read_file_size)
    return true;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  std::vector<std::byte> chunk(std::size_t{1} << 20);
  bool ok = true;
  for (std::size_t at = 0; ok && at < read_file_size; at += chunk.size()) {
    for (std::size_t b = 0; b < chunk.size(); b += block_size) {
      const std::uint64_t index = (at + b) / block_size;
      std::memcpy(chunk.data() + b, &index, sizeof index);
    }
    ok = pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(at)) ==
         static_cast<ssize_t>(chunk.size());
  }
  close(fd);
  return ok;
}

/// Reads the whole file so it is in the page cache (the VM hands cache back to the host slowly,
/// so this runs right before every measured run), and returns the resident fraction (mincore).
double warm_read_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return 0;
  std::vector<std::byte> chunk(std::size_t{1} << 20);
  for (std::size_t at = 0; at < read_file_size; at += chunk.size())
    if (pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(at)) <= 0) break;
  double resident = 0;
  if (void* map = mmap(nullptr, read_file_size, PROT_READ, MAP_SHARED, fd, 0); map != MAP_FAILED) {
    const std::size_t pages = read_file_size / static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> in_core(pages);
    if (mincore(map, read_file_size, in_core.data()) == 0)
      resident = static_cast<double>(
                     std::ranges::count_if(in_core, [](unsigned char c) { return c & 1; })) /
                 static_cast<double>(pages);
    munmap(map, read_file_size);
  }
  close(fd);
  return resident;
}

std::vector<std::uint64_t> random_offsets() {
  std::vector<std::uint64_t> out(offset_count);
  std::uint64_t x = 0x9e3779b97f4a7c15u;  // fixed seed: every implementation reads the same blocks
  for (std::uint64_t& off : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    off = (x % (read_file_size / block_size)) * block_size;
  }
  return out;
}

// ---- the echo load client ----------------------------------------------------------------------

int listen_loopback(std::uint16_t& port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(fd, 1024) < 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

/// The path of this program, read at start (under valgrind, the program's, not valgrind's).
std::string self_path;

/// The CPU the echo load client is pinned to (--pin), or -1.
int client_cpu_pin = -1;

/// Pins the calling thread (and what it forks) to `cpu`; false when the CPU cannot be used.
bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

/// One echo run: the server under test in this process, the load client in another — this
/// program again, exec'd with --echo-client — so that the client neither shares the server's
/// process nor, under callgrind (which does not follow exec by default), gets counted or slowed.
outcome run_echo(const bench_case& c, params prm, double& client_cpu) {
  std::uint16_t port = 0;
  prm.listen_fd = listen_loopback(port);
  if (prm.listen_fd < 0) return failed("cannot listen on 127.0.0.1");
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) return failed("pipe failed");
  const std::string args[] = {std::to_string(port), std::to_string(prm.connections),
                              std::to_string(prm.msg_size), std::to_string(prm.ops)};
  const pid_t child = fork();
  if (child == 0) {
    if (client_cpu_pin >= 0) pin_to(client_cpu_pin);
    dup2(report[1], STDOUT_FILENO);
    execl(self_path.c_str(), self_path.c_str(), "--echo-client", args[0].c_str(), args[1].c_str(),
          args[2].c_str(), args[3].c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(report[1]);
  alarm(120);  // a server that never sees its connections close must not hang the machine
  outcome server = c.run(prm);
  alarm(0);
  char text[512] = {};
  std::size_t got = 0;
  for (ssize_t n;
       got < sizeof text - 1 && (n = read(report[0], text + got, sizeof text - 1 - got)) > 0;)
    got += static_cast<std::size_t>(n);
  close(report[0]);
  int status = 0;
  if (child > 0) waitpid(child, &status, 0);
  close(prm.listen_fd);
  unsigned long long ops = 0;
  double seconds = 0;
  int used = 0;
  if (child < 0 || std::sscanf(text, "%llu %lf %lf %n", &ops, &seconds, &client_cpu, &used) < 3) {
    if (server.error.empty()) server.error = "the echo client did not report";
  } else if (server.error.empty() && text[used] != '\0') {
    server.error = text + used;
  }
  server.seconds = seconds;
  server.ops = server.error.empty() ? ops : 0;
  return server;
}

/// `urine-bench --echo-client PORT CONNECTIONS MSG_SIZE OPS`: the load client, reporting
/// "ops seconds cpu-seconds [error]" on stdout.
int echo_client_main(char** argv) {
  // Its own name, so that a trace of both processes (echo_trace.sh) can tell them apart.
  prctl(PR_SET_NAME, "echo-client");
  params prm;
  const auto port = static_cast<std::uint16_t>(std::stoul(argv[2]));
  prm.connections = static_cast<unsigned>(std::stoul(argv[3]));
  prm.msg_size = static_cast<unsigned>(std::stoul(argv[4]));
  prm.ops = std::stoull(argv[5]);
  const outcome out = echo::run_client(port, prm);
  const cpu_time cpu = cpu_now(RUSAGE_SELF);
  std::printf("%llu %.9f %.6f %s", static_cast<unsigned long long>(out.ops), out.seconds,
              cpu.user + cpu.sys, out.error.c_str());
  return out.error.empty() ? 0 : 1;
}

// ---- running and reporting ---------------------------------------------------------------------

/// One configuration of one scenario, e.g. nop at batch 32 or read at depth 1 with fixed files.
struct point {
  std::string scenario;
  std::string label;  // "B=32", "QD=1 fixed=both", "conns=16 msg=64"
  params prm;
};

struct row {
  const point* at;
  const bench_case* c;
  std::uint64_t ops = 0;
  std::vector<double> rates;                     // ops/s of each run
  std::vector<double> user_ns, sys_ns, peer_ns;  // CPU nanoseconds per op of each run
  double allocs_per_op = 0;
  long long cq_overflows = -1;  // echo: the most of any run (-1: the server has no CQ)
  double residency = 1;         // read: lowest page-cache residency seen before a run
  std::string error;
  static double median_of(std::vector<double> r) {
    std::ranges::sort(r);
    return r.empty()      ? 0
           : r.size() % 2 ? r[r.size() / 2]
                          : (r[r.size() / 2 - 1] + r[r.size() / 2]) / 2;
  }
  double median() const { return median_of(rates); }
};

/// One run. `cpu`: this thread's CPU time over the whole run (setup included, which is small
/// beside a run); for echo, the server process's (its io-wq workers too, should it punt requests
/// to them) and the load client's.
outcome run_once(const bench_case& c, const params& prm, cpu_time* cpu = nullptr,
                 double* client_cpu = nullptr) {
  const int who = c.scenario == "echo" ? RUSAGE_SELF : RUSAGE_THREAD;
  const cpu_time before = cpu_now(who);
  double client = 0;
  outcome out = c.scenario == "echo" ? run_echo(c, prm, client) : c.run(prm);
  const cpu_time after = cpu_now(who);
  if (cpu != nullptr) *cpu = {after.user - before.user, after.sys - before.sys};
  if (client_cpu != nullptr) *client_cpu = client;
  return out;
}

/// Operations for one run: the fixed count, or a count calibrated to take about `duration`.
std::uint64_t ops_for(const options& o, const bench_case& c, params prm) {
  const std::uint64_t unit = c.scenario == "echo" ? 1 : prm.batch;
  auto round = [&](std::uint64_t n) { return std::max(unit, n / unit * unit); };
  if (o.ops != 0) return round(o.ops);
  prm.ops = round(c.scenario == "echo" ? 2000 : std::uint64_t{20000});
  const outcome probe = run_once(c, prm);
  if (!probe.error.empty() || probe.seconds <= 0) return prm.ops;
  return round(
      static_cast<std::uint64_t>(static_cast<double>(probe.ops) / probe.seconds * o.duration));
}

std::vector<row> run_point(const options& o, const point& pt, const std::string& read_path) {
  std::vector<row> rows;
  for (const bench_case& c : registry())
    if (c.scenario == pt.scenario && wanted(o.impls, c.impl) && wanted(o.variants, c.variant))
      rows.push_back(row{.at = &pt,
                         .c = &c,
                         .rates = {},
                         .user_ns = {},
                         .sys_ns = {},
                         .peer_ns = {},
                         .error = {}});
  for (row& r : rows) r.ops = ops_for(o, *r.c, pt.prm);
  // Alternate implementations, and rotate which goes first, so drift hits all of them alike.
  for (unsigned run = 0; run < o.runs; ++run) {
    for (std::size_t k = 0; k < rows.size(); ++k) {
      row& r = rows[(k + run) % rows.size()];
      if (!r.error.empty()) continue;
      params prm = pt.prm;
      prm.ops = r.ops;
      if (pt.scenario == "read" && !o.direct)
        r.residency = std::min(r.residency, warm_read_file(read_path));
      cpu_time cpu;
      double client_cpu = 0;
      const outcome out = run_once(*r.c, prm, &cpu, &client_cpu);
      if (out.error.empty() && out.ops != r.ops) {
        r.error = "completed " + std::to_string(out.ops) + " of " + std::to_string(r.ops) +
                  " (a result was wrong)";
      } else if (!out.error.empty()) {
        r.error = out.error;
      } else {
        const double ops = static_cast<double>(out.ops);
        r.rates.push_back(ops / out.seconds);
        r.user_ns.push_back(cpu.user * 1e9 / ops);
        r.sys_ns.push_back(cpu.sys * 1e9 / ops);
        r.peer_ns.push_back(client_cpu * 1e9 / ops);
        r.allocs_per_op = std::max(
            r.allocs_per_op, static_cast<double>(out.allocations) / static_cast<double>(out.ops));
        r.cq_overflows = std::max(r.cq_overflows, out.cq_overflows);
      }
    }
  }
  return rows;
}

/// This urine row against the liburing/raw/epoll row it is compared with: the median of the
/// ratios of their runs taken in the same round (each round runs every implementation once, back
/// to back), so that a change of the machine's speed between rounds cancels out; 0 when there is
/// no such row.
double paired_ratio(const std::vector<row>& rows, const row& r, std::string_view impl) {
  for (const row& p : rows)
    if (p.c->impl == impl && (p.c->variant == r.c->peer || impl == "epoll") && !p.rates.empty() &&
        p.rates.size() == r.rates.size()) {
      std::vector<double> ratios;
      for (std::size_t i = 0; i < r.rates.size(); ++i) ratios.push_back(r.rates[i] / p.rates[i]);
      return row::median_of(std::move(ratios));
    }
  return 0;
}

/// The values of each run (the sums of `a` and `b`, if given), for a CSV cell: "a;b;c".
std::string joined(const std::vector<double>& a, const std::vector<double>& b = {}) {
  std::string out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char v[32];
    std::snprintf(v, sizeof v, "%s%.0f", i == 0 ? "" : ";", a[i] + (i < b.size() ? b[i] : 0));
    out += v;
  }
  return out;
}

void print(const options& o, const std::vector<row>& rows) {
  static bool header_done = false;
  const bool csv = o.format == "csv", json = o.format == "json";
  if (!header_done) {
    header_done = true;
    if (csv)
      std::printf(
          "scenario,point,impl,variant,ops_per_run,median_ops_per_s,min_ops_per_s,max_ops_per_s,"
          "allocs_per_op,vs_liburing,vs_raw,vs_epoll,user_ns_per_op,sys_ns_per_op,client_ns_per_op,"
          "residency,cq_overflows,run_ops_per_s,run_server_ns,error\n");
    else if (json)
      std::printf("[\n");
    else
      std::printf("%-6s %-22s %-9s %-15s %12s %12s %9s %6s %9s %9s %9s %8s %8s %8s %s\n", "scen",
                  "point", "impl", "variant", "median/s", "min..max%", "alloc/op", "cq ovf",
                  "x lib", "x raw", "x epoll", "usr ns", "sys ns", "client", "");
  }
  for (const row& r : rows) {
    const double med = r.median();
    double lo = med, hi = med;
    for (double v : r.rates) lo = std::min(lo, v), hi = std::max(hi, v);
    const bool is_urine = r.c->impl == "urine";
    auto ratio = [&](std::string_view impl) {
      return is_urine ? paired_ratio(rows, r, impl) : 0.0;
    };
    const double vl = ratio("liburing"), vr = ratio("raw"), ve = ratio("epoll");
    // CPU nanoseconds per operation: the measuring thread's user and system time, and for echo
    // the load client's (medians of the runs).
    const double usr = row::median_of(r.user_ns), sys = row::median_of(r.sys_ns),
                 client = row::median_of(r.peer_ns);
    if (csv) {
      std::printf(
          "%s,%s,%s,%s,%llu,%.0f,%.0f,%.0f,%.4f,%.3f,%.3f,%.3f,%.0f,%.0f,%.0f,%.3f,%lld,%s,%s,%s\n",
          r.at->scenario.c_str(), r.at->label.c_str(), r.c->impl.c_str(), r.c->variant.c_str(),
          static_cast<unsigned long long>(r.ops), med, lo, hi, r.allocs_per_op, vl, vr, ve, usr,
          sys, client, r.residency, r.cq_overflows, joined(r.rates).c_str(),
          joined(r.user_ns, r.sys_ns).c_str(), r.error.c_str());
    } else if (json) {
      static bool first = true;
      std::printf(
          "%s  "
          "{\"scenario\":\"%s\",\"point\":\"%s\",\"impl\":\"%s\",\"variant\":\"%s\",\"ops_per_"
          "run\":%llu,"
          "\"median_ops_per_s\":%.0f,\"min_ops_per_s\":%.0f,\"max_ops_per_s\":%.0f,\"allocs_per_"
          "op\":%.4f,"
          "\"vs_liburing\":%.3f,\"vs_raw\":%.3f,\"vs_epoll\":%.3f,\"user_ns_per_op\":%.0f,"
          "\"sys_ns_per_op\":%.0f,\"client_ns_per_op\":%.0f,\"residency\":%.3f,"
          "\"cq_overflows\":%lld,\"error\":\"%s\"}",
          first ? "" : ",\n", r.at->scenario.c_str(), r.at->label.c_str(), r.c->impl.c_str(),
          r.c->variant.c_str(), static_cast<unsigned long long>(r.ops), med, lo, hi,
          r.allocs_per_op, vl, vr, ve, usr, sys, client, r.residency, r.cq_overflows,
          r.error.c_str());
      first = false;
    } else {
      char spread[32];
      std::snprintf(spread, sizeof spread, "-%.0f..+%.0f", med > 0 ? (med - lo) / med * 100 : 0,
                    med > 0 ? (hi - med) / med * 100 : 0);
      auto cell = [](double v) {
        static char buf[4][16];
        static int k = 0;
        char* b = buf[k++ % 4];
        if (v > 0)
          std::snprintf(b, 16, "%.3f", v);
        else
          std::snprintf(b, 16, "-");
        return b;
      };
      char client_cell[16] = "-", overflow_cell[16] = "-";
      if (client > 0) std::snprintf(client_cell, sizeof client_cell, "%.0f", client);
      if (r.cq_overflows >= 0)
        std::snprintf(overflow_cell, sizeof overflow_cell, "%lld", r.cq_overflows);
      std::printf("%-6s %-22s %-9s %-15s %12.0f %12s %9.4f %6s %9s %9s %9s %8.0f %8.0f %8s %s%s\n",
                  r.at->scenario.c_str(), r.at->label.c_str(), r.c->impl.c_str(),
                  r.c->variant.c_str(), med, spread, r.allocs_per_op, overflow_cell, cell(vl),
                  cell(vr), cell(ve), usr, sys, client_cell,
                  r.residency < 0.999 ? "[file not fully cached] " : "", r.error.c_str());
    }
  }
  std::fflush(stdout);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  if (argc == 6 && std::string_view(argv[1]) == "--echo-client") return echo_client_main(argv);
  {
    char path[4096];
    const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    self_path.assign(path, n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  const std::optional<options> parsed = parse(argc, argv);
  if (!parsed) return 2;
  const options& o = *parsed;
  // Pinned to the client's CPU first only to learn that it can be used, then to the server's.
  if (o.server_cpu >= 0 && (!pin_to(o.client_cpu) || !pin_to(o.server_cpu))) {
    std::fprintf(stderr, "cannot pin to CPUs %d and %d\n", o.server_cpu, o.client_cpu);
    return 2;
  }
  client_cpu_pin = o.client_cpu;

  std::vector<point> points;
  for (const std::string& s : o.scenarios) {
    if (s == "nop") {
      for (unsigned b : o.batches)
        points.push_back({s, "B=" + std::to_string(b), params{.batch = b}});
    } else if (s == "read") {
      for (unsigned d : o.depths)
        for (const std::string& f : o.fixed)
          points.push_back({s, "QD=" + std::to_string(d) + " fixed=" + f,
                            params{.batch = d,
                                   .fixed_files = f == "files" || f == "both",
                                   .fixed_buffers = f == "buffers" || f == "both"}});
    } else if (s == "echo") {
      for (unsigned c : o.connections)
        for (unsigned m : o.msg_sizes)
          points.push_back({s, "conns=" + std::to_string(c) + " msg=" + std::to_string(m),
                            params{.connections = c, .msg_size = m}});
    } else {
      std::fprintf(stderr, "unknown scenario %s\n", s.c_str());
      return 2;
    }
  }

  // Read-scenario resources, made once: the file, the offsets and the buffers (page aligned, so
  // they also serve O_DIRECT and buffer registration).
  std::vector<std::uint64_t> offsets;
  std::byte* buffers = nullptr;
  int read_fd = -1;
  if (std::ranges::any_of(points, [](const point& p) { return p.scenario == "read"; })) {
    if (!prepare_read_file(o.file)) {
      std::fprintf(stderr, "cannot create %s\n", o.file.c_str());
      return 1;
    }
    read_fd = open(o.file.c_str(), O_RDONLY | (o.direct ? O_DIRECT : 0));
    if (read_fd < 0) {
      std::fprintf(stderr, "cannot open %s: %s\n", o.file.c_str(), std::strerror(errno));
      return 1;
    }
    offsets = random_offsets();
    const unsigned max_depth = *std::ranges::max_element(o.depths);
    buffers =
        static_cast<std::byte*>(std::aligned_alloc(4096, std::size_t{max_depth} * block_size));
    for (point& p : points)
      p.prm.read = read_source{read_fd, offsets.data(), offsets.size() - 1, buffers};
  }

  bool failed_any = false;
  for (const point& p : points) {
    const std::vector<row> rows = run_point(o, p, o.file);
    for (const row& r : rows) failed_any |= !r.error.empty();
    print(o, rows);
  }
  if (o.format == "json") std::printf("\n]\n");
  std::free(buffers);
  if (read_fd >= 0) close(read_fd);
  return failed_any ? 1 : 0;
}
