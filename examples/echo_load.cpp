// urine-echo-load: load for an echo server on 127.0.0.1. N connections in one io_uring, each
// sending a B-byte message, reading the echo back, checking it byte for byte and sending the
// next, for S seconds. Reports requests per second and the p50/p99 round-trip latency; any
// connection error, early close or wrong byte makes the exit status 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>
import urine;

using namespace urine;
using clock_type = std::chrono::steady_clock;

namespace {

enum class kind : std::uint64_t { connect = 1, send, recv };
std::uint64_t tag(kind k, std::size_t i) { return static_cast<std::uint64_t>(k) << 32 | i; }

struct connection {
  int fd = -1;
  std::vector<unsigned char> out, in;
  std::size_t sent = 0, got = 0;
  std::uint64_t request = 0;
  clock_type::time_point start;
  bool open = false;
};

// A message differs per connection (its bytes) and per request (the request number stamped over
// its first bytes), so an echo delivered to the wrong connection or out of order does not match.
// Stamping, not refilling, keeps the client's work per request small next to the server's.
void fill(std::vector<unsigned char>& out, std::size_t i) {
  for (std::size_t k = 0; k < out.size(); ++k)
    out[k] = static_cast<unsigned char>(i * 131 + k * 7 + (k >> 8));
}
void stamp(std::vector<unsigned char>& out, std::uint64_t request) {
  std::memcpy(out.data(), &request, std::min(out.size(), sizeof request));
}

class load {
 public:
  load(ring<>& r, std::size_t connections, std::size_t size, ::sockaddr_in server)
      : ring_(r), connections_(connections), size_(size), server_(server) {}

  int run(std::chrono::duration<double> seconds) {
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      connection& c = connections_[i];
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c.fd < 0)
        return std::fprintf(stderr, "urine-echo-load: socket: %s\n", std::strerror(errno)), 1;
      // Latency is the point here: no waiting for more bytes to fill a segment (Nagle).
      const int on = 1;
      (void)::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      c.out.resize(size_);
      fill(c.out, i);
      c.in.resize(size_);
      c.open = true;
      ++open_;
      push(ops::connect{c.fd, &server_}, tag(kind::connect, i));
    }
    const auto begin = clock_type::now();
    end_ = begin + std::chrono::duration_cast<clock_type::duration>(seconds);
    // Requests in flight at the end may take a moment; a server that stops answering may not.
    const auto give_up = end_ + std::chrono::seconds(5);
    while (open_ > 0) {
      if (clock_type::now() > give_up) {
        std::fprintf(stderr,
                     "urine-echo-load: %zu connections still waiting for an echo, giving up\n",
                     open_);
        return 1;
      }
      auto s = ring_.submit_and_wait_for(1, std::chrono::milliseconds(100));
      if (!s && s.error() != std::errc::stream_timeout && s.error() != std::errc::interrupted) {
        std::fprintf(stderr, "urine-echo-load: io_uring_enter: %s\n", s.error().message().c_str());
        return 1;
      }
      ring_.for_each_cqe([&](auto c) { handle(c.user_data().value(), c.result()); });
    }
    report(std::chrono::duration<double>(clock_type::now() - begin).count());
    for (const connection& c : connections_) ::close(c.fd);
    return errors_ == 0 && !latencies_.empty() ? 0 : 1;
  }

 private:
  template <class Op>
  void push(const Op& op, std::uint64_t ud) {
    while (!ring_.push(op, ud)) (void)ring_.submit();
  }

  void start_request(std::size_t i) {
    connection& c = connections_[i];
    stamp(c.out, c.request);
    c.sent = c.got = 0;
    c.start = clock_type::now();
    // Send and receive together: a message larger than the socket buffers is echoed while it is
    // still being sent.
    push(
        ops::send{
            .file = c.fd, .from = const_buffer(c.out.data(), size_), .flags = msg_flags::nosignal},
        tag(kind::send, i));
    push(ops::recv{.file = c.fd, .into = buffer(c.in.data(), size_)}, tag(kind::recv, i));
  }

  void fail(std::size_t i, const char* what, int error) {
    if (errors_++ < 5)
      std::fprintf(stderr, "urine-echo-load: connection %zu: %s: %s\n", i, what,
                   std::strerror(error));
    finish(i);
  }

  void finish(std::size_t i) {
    connection& c = connections_[i];
    if (!c.open) return;
    // Shutdown first ends whatever of ours is still pending on the socket.
    ::shutdown(c.fd, SHUT_RDWR);
    c.open = false;
    --open_;
  }

  void handle(std::uint64_t ud, int res) {
    const std::size_t i = ud & 0xffffffff;
    connection& c = connections_[i];
    if (!c.open) return;
    switch (static_cast<kind>(ud >> 32)) {
      case kind::connect:
        if (res < 0) return fail(i, "connect", -res);
        return start_request(i);
      case kind::send:
        if (res < 0) return fail(i, "send", -res);
        c.sent += static_cast<std::size_t>(res);
        if (c.sent < size_)
          push(ops::send{.file = c.fd,
                         .from = const_buffer(c.out.data() + c.sent, size_ - c.sent),
                         .flags = msg_flags::nosignal},
               tag(kind::send, i));
        break;
      case kind::recv:
        if (res < 0) return fail(i, "recv", -res);
        if (res == 0) return fail(i, "recv", ECONNRESET);  // the server closed the connection
        c.got += static_cast<std::size_t>(res);
        if (c.got < size_)
          push(ops::recv{.file = c.fd, .into = buffer(c.in.data() + c.got, size_ - c.got)},
               tag(kind::recv, i));
        break;
    }
    // The send's completion may come after the echo's: a request is done when both are.
    if (c.sent < size_ || c.got < size_) return;
    const auto now = clock_type::now();
    if (std::memcmp(c.in.data(), c.out.data(), size_) != 0) {
      const auto k = std::mismatch(c.in.begin(), c.in.end(), c.out.begin()).first;
      if (errors_++ < 5)
        std::fprintf(stderr, "urine-echo-load: connection %zu, request %llu: wrong byte at %zu\n",
                     i, static_cast<unsigned long long>(c.request),
                     static_cast<std::size_t>(k - c.in.begin()));
      return finish(i);
    }
    latencies_.push_back(std::chrono::duration<double, std::micro>(now - c.start).count());
    ++c.request;
    if (now < end_) return start_request(i);
    finish(i);
  }

  void report(double seconds) {
    double p50 = 0, p99 = 0;
    if (!latencies_.empty()) {
      std::sort(latencies_.begin(), latencies_.end());
      p50 = latencies_[latencies_.size() / 2];
      p99 = latencies_[std::min(latencies_.size() - 1, latencies_.size() * 99 / 100)];
    }
    std::printf(
        "%zu connections, %zu-byte messages: %zu requests in %.2f s, %.0f requests/s, "
        "latency p50 %.0f us, p99 %.0f us, errors: %zu\n",
        connections_.size(), size_, latencies_.size(), seconds,
        static_cast<double>(latencies_.size()) / seconds, p50, p99, errors_);
  }

  ring<>& ring_;
  std::vector<connection> connections_;
  std::size_t size_;
  ::sockaddr_in server_;
  clock_type::time_point end_;
  std::size_t open_ = 0, errors_ = 0;
  std::vector<double> latencies_;
};

constexpr const char* usage =
    "Usage: urine-echo-load --port P [--connections N] [--seconds S] [--size B]\n"
    "Load an echo server on 127.0.0.1:P with N connections (default 100) for S seconds\n"
    "(default 2, at most 60: every latency is kept), each sending B-byte messages (default 64,\n"
    "at most 1 MiB) and checking every echoed byte.\n"
    "Prints requests per second and p50/p99 latency; exits 1 on any error or mismatch.\n";

}  // namespace

int main(int argc, char** argv) {
  long port = -1, connections = 100, size = 64;
  double seconds = 2;
  for (int i = 1; i < argc; i += 2) {  // --option value pairs
    const std::string_view arg = argv[i];
    if (arg == "--help") return std::fputs(usage, stdout), 0;
    char* end = nullptr;
    const char* value = i + 1 < argc ? argv[i + 1] : "";
    bool ok = *value != '\0';
    if (arg == "--port") {
      port = std::strtol(value, &end, 10), ok = ok && port > 0 && port <= 65535;
    } else if (arg == "--connections") {
      connections = std::strtol(value, &end, 10),
      ok = ok && connections > 0 && connections <= 100000;
    } else if (arg == "--size") {
      size = std::strtol(value, &end, 10), ok = ok && size > 0 && size <= (1 << 20);
    } else if (arg == "--seconds") {
      seconds = std::strtod(value, &end), ok = ok && seconds > 0 && seconds <= 60;
    } else {
      ok = false;
    }
    if (!ok || *end != '\0') {
      std::fprintf(stderr, "urine-echo-load: bad argument '%s %s'\n%s", argv[i], value, usage);
      return 1;
    }
  }
  if (port < 0) return std::fprintf(stderr, "urine-echo-load: --port is required\n%s", usage), 1;

  // One descriptor per connection: more than the usual soft limit of 1024 may be asked for.
  if (::rlimit limit{};
      ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }

  ::sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<std::uint16_t>(port));
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto r = ring<>::create(setup{.entries = 1024, .cq_entries = 16384});
  if (!r) return std::fprintf(stderr, "urine-echo-load: %s\n", r.error().message().c_str()), 1;
  load l(*r, static_cast<std::size_t>(connections), static_cast<std::size_t>(size), server);
  return l.run(std::chrono::duration<double>(seconds));
}
