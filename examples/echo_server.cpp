// urine-echo-server: a TCP echo server written with coroutines (urine.async). One multishot
// accept is a sequence of connections; each connection is one task over a multishot receive into
// provided buffers: it awaits the next buffer, sends it back, and the buffer goes back. The ring
// is the async layer's default, with deferred task work: completions are produced when the
// runtime waits, not by interrupting it from the CPU that received the bytes (docs/network.md
// measures it). With --threads N, N threads each run their own runtime (one ring per thread) with
// a listener of their own on the same port (SO_REUSEPORT), and the kernel spreads connections
// over them. SIGINT/SIGTERM stop every runtime: accepting ends, and each runtime's destructor
// cancels what is still in the kernel.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "server_setup.hpp"
import urine;

using namespace urine;
using async::task;

namespace {

constexpr std::uint16_t group = 1;
constexpr std::uint32_t buffer_count = 4096;
constexpr std::uint32_t buffer_size = 4096;

using runtime = async::runtime<>;

/// A descriptor closed when the task that owns it ends (or its frame is destroyed).
struct owned_fd {
  int fd;
  ~owned_fd() { ::close(fd); }
};

// One connection: a multishot receive is a sequence of provided buffers, each sent back whole and
// then released to the ring. It keeps receiving while an echo is being sent; when completions
// pile up (a peer that sends and does not read its echoes, so the sends wait), it pauses after a
// few and re-arms once they were taken: one connection never takes the buffers that every
// connection shares, and nothing received is dropped.
task<void> serve(runtime& rt, buffer_ring& buffers, int fd) {
  owned_fd conn{fd};
  async::sequence<runtime, ops::recv, 4> receives(
      rt,
      ops::recv{
          .file = fd, .into = buffer_group{group}, .io_flags = recvsend_flags::recv_multishot},
      {.mode = async::rearm::always, .buffers = &buffers});
  bool open = true;
  while (open) {
    auto received = co_await receives.next();
    if (!received) break;  // the runtime is going away
    if (!*received) {
      // Every buffer is out being echoed: they come back as sends complete, and the next next()
      // arms the receive again.
      if (received->error() == std::errc::no_buffer_space) {
        (void)co_await async::sleep_for(rt, std::chrono::milliseconds(1));
        continue;
      }
      break;  // a reset
    }
    auto data = buffers.take(received->raw(), received->flags());
    if (!data || data->empty()) break;  // end of stream
    for (std::size_t sent = 0; open && sent < data->size();) {
      auto n = co_await rt.op(
          ops::send{.file = fd,
                    .from = const_buffer(data->data().data() + sent, data->size() - sent),
                    .flags = msg_flags::nosignal});
      open = n.has_value();  // or the peer went away
      if (open) sent += static_cast<std::size_t>(*n);
    }
  }
  co_await receives.close();  // what is still buffered goes back to the ring
}

// Accept until the stop eventfd becomes readable.
task<void> accept_loop(runtime& rt, buffer_ring& buffers, int listener, int stop_fd,
                       std::atomic<unsigned long long>& accepted) {
  // Room for a burst of 4096 connections arriving between two turns of the loop below.
  async::sequence<runtime, ops::accept, 4096> accepts(
      rt,
      ops::accept{.file = listener, .flags = sock_flags::cloexec, .mode = accept_flags::multishot},
      {.mode = async::rearm::always});
  rt.spawn([](runtime& rt, int stop_fd, auto& accepts) -> task<void> {
    (void)co_await rt.op(ops::poll_add{.file = stop_fd});
    accepts.cancel();
  }(rt, stop_fd, accepts));
  while (auto conn = co_await accepts.next()) {
    if (!*conn) continue;
    ++accepted;
    rt.spawn(serve(rt, buffers, **conn));
  }
}

// The thread that also owns the signals: it waits for one, then tells every runtime to stop.
task<void> watch_signals(runtime& rt, int signal_fd, int stop_fd, unsigned& signal) {
  ::signalfd_siginfo info{};
  auto r = co_await rt.op(ops::read{signal_fd, buffer(&info, sizeof info)});
  if (r) signal = info.ssi_signo;
  const std::uint64_t one = 1;
  (void)::write(stop_fd, &one, sizeof one);
}

int fail(const char* what, int error) {
  std::fprintf(stderr, "urine-echo-server: %s: %s\n", what, std::strerror(error));
  return 1;
}

/// A listener on 127.0.0.1:port shared with the other threads' listeners (SO_REUSEPORT).
int make_listener(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int on = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  ::sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const ::sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::uint16_t port_of(int fd) {
  ::sockaddr_in address{};
  ::socklen_t length = sizeof address;
  (void)::getsockname(fd, reinterpret_cast<::sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

}  // namespace

int main(int argc, char** argv) {
  long port = 0, threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") {
      std::puts(
          "Usage: urine-echo-server [--port P] [--threads N]\n"
          "Echo every byte received on TCP 127.0.0.1:P back to its sender, with coroutines on\n"
          "urine.async: N threads (default 1), each with its own ring and a listener on the same\n"
          "port. Port 0 (the default) picks a free port; the port is printed as\n"
          "\"listening on 127.0.0.1:PORT\". SIGINT or SIGTERM stops the server.");
      return 0;
    }
    long* target = arg == "--port" ? &port : arg == "--threads" ? &threads : nullptr;
    if (target != nullptr && i + 1 < argc) {
      char* end = nullptr;
      *target = std::strtol(argv[++i], &end, 10);
      if (*end == '\0' && port >= 0 && port <= 65535 && threads >= 1 && threads <= 1024) continue;
    }
    std::fprintf(stderr, "urine-echo-server: bad argument '%s'\nTry 'urine-echo-server --help'.\n",
                 argv[i]);
    return 1;
  }

  example::raise_descriptor_limit();
  // Blocked in every thread started from here on, so the signals queue on the signalfd.
  const int signal_fd = example::stop_signal_fd();
  if (signal_fd < 0) return fail("signalfd", errno);
  const int stop_fd = ::eventfd(0, EFD_CLOEXEC);
  if (stop_fd < 0) return fail("eventfd", errno);

  std::vector<int> listeners;
  for (long t = 0; t < threads; ++t) {
    const int fd = make_listener(t == 0 ? static_cast<std::uint16_t>(port) : port_of(listeners[0]));
    if (fd < 0) return fail("bind/listen", errno);
    listeners.push_back(fd);
  }

  std::atomic<unsigned long long> accepted{0};
  std::atomic<int> ready{0}, failed{0};
  unsigned signal = 0;
  {
    std::vector<std::jthread> workers;
    for (long t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        const auto refuse = [&](const error& e) {
          std::fprintf(stderr, "urine-echo-server: %s\n", e.message().c_str());
          ++failed, ++ready;
        };
        // The ring is created on the thread that uses it: it is a single-issuer ring.
        auto r = async::default_ring::create(setup{.entries = 1024, .cq_entries = 16384});
        if (!r) return refuse(r.error());
        auto buffers = register_buffer_ring(
            *r, {.group = group, .entries = buffer_count, .buffer_size = buffer_size});
        if (!buffers) return refuse(buffers.error());
        runtime rt(std::move(*r));
        ++ready;
        if (t == 0) rt.spawn(watch_signals(rt, signal_fd, stop_fd, signal));
        // Declared after the buffer ring, the runtime is destroyed first: its destructor drains
        // the operations that select from the buffer ring and gives their buffers back.
        rt.run(
            accept_loop(rt, *buffers, listeners[static_cast<std::size_t>(t)], stop_fd, accepted));
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    if (failed.load() > 0) {
      const std::uint64_t one = 1;
      (void)::write(stop_fd, &one, sizeof one);
    } else {
      // Printed only now, when connections will be served: a script may start its client on it.
      std::printf("listening on 127.0.0.1:%u\n", port_of(listeners[0]));
      std::fflush(stdout);
    }
  }
  if (failed.load() > 0) return 1;
  std::printf("signal %u: stopped after %llu connections\n", signal, accepted.load());
  return 0;
}
