// urine-echo-server: a TCP echo server on 127.0.0.1 in one thread and one io_uring. One
// multishot accept yields every connection; one multishot recv per connection fills buffers the
// kernel takes from a provided-buffer ring; each buffer is sent back and returned to the ring
// when its send is done. SIGINT/SIGTERM arrive through a signalfd read in the same ring: the
// server stops accepting and receiving, finishes sending what it received, and exits 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server_setup.hpp"
import urine;

using namespace urine;

namespace {

// 4096 buffers of 4 KiB: each connection usually holds one buffer while its echo is being sent,
// so thousands of connections fit; when the ring runs dry a receive stops and is re-armed later.
constexpr std::uint16_t group = 1;
constexpr std::uint32_t buffer_count = 4096;
constexpr std::uint32_t buffer_size = 4096;

// One thread submits and reaps, so the kernel may defer its work on our requests until we wait
// (SINGLE_ISSUER | DEFER_TASKRUN): received data is turned into completions in batches, inside the
// io_uring_enter that waits, instead of interrupting the thread once per arrival. The ring's
// descriptor is registered, which spares each io_uring_enter a descriptor lookup. Both cost
// nothing to write; docs/network.md has the measurements behind this choice and those left out.
using echo_ring = ring<defer_task_run<>, registered_ring_fd>;

enum class kind : std::uint64_t { accept = 1, recv, send, signal, cancel, deadline };
std::uint64_t tag(kind k, int fd = 0) {
  return static_cast<std::uint64_t>(k) << 32 | static_cast<std::uint32_t>(fd);
}

struct connection {
  std::deque<provided_buffer> queue;  // received and not yet sent back; the front is being sent
  std::size_t front_sent = 0;
  bool sending = false;
  bool receiving = false;  // the multishot recv is armed
  bool starved = false;    // the recv stopped because the buffer ring ran dry
  bool peer_done = false;  // end of file or an error: close once everything is sent
};

class server {
 public:
  server(echo_ring& r, buffer_ring& buffers, int listen_fd, int signal_fd)
      : ring_(r), buffers_(buffers), listen_fd_(listen_fd), signal_fd_(signal_fd) {}

  int run() {
    push(ops::accept{.file = listen_fd_, .mode = accept_flags::multishot}, tag(kind::accept));
    push(ops::read{signal_fd_, buffer(&signal_, sizeof signal_)}, tag(kind::signal));
    while (!stopping_ || accepting_ || !connections_.empty()) {
      if (auto s = ring_.submit_and_wait(1); !s && s.error() != std::errc::interrupted) {
        std::fprintf(stderr, "urine-echo-server: io_uring_enter: %s\n",
                     s.error().message().c_str());
        return 1;
      }
      ring_.for_each_cqe([&](auto c) { handle(c); });
      rearm_starved();
    }
    std::printf("signal %u: stopped after %llu connections\n", signal_.ssi_signo, accepted_);
    return 0;
  }

 private:
  // The SQ is flushed to the kernel when full, so a push never fails for long.
  template <class Op>
  void push(const Op& op, std::uint64_t ud) {
    while (!ring_.push(op, ud)) (void)ring_.submit();
  }

  void arm_recv(int fd, connection& c) {
    c.receiving = true;
    c.starved = false;
    push(
        ops::recv{
            .file = fd, .into = buffer_group{group}, .io_flags = recvsend_flags::recv_multishot},
        tag(kind::recv, fd));
  }

  template <class Completion>
  void handle(const Completion& cqe) {
    const std::uint64_t ud = cqe.user_data().value();
    const int fd = static_cast<int>(ud & 0xffffffff);
    const int res = cqe.result();
    switch (static_cast<kind>(ud >> 32)) {
      case kind::accept:
        if (res >= 0) {
          ++accepted_;
          // After the stop began, a recv armed now would come after the cancel: refuse instead.
          if (stopping_) {
            ::close(res);
          } else {
            arm_recv(res, connections_[res]);
          }
        } else if (res != -ECANCELED) {
          std::fprintf(stderr, "urine-echo-server: accept: %s\n", std::strerror(-res));
        }
        if (!cqe.more()) {
          if (stopping_) {
            accepting_ = false;
          } else {
            push(ops::accept{.file = listen_fd_, .mode = accept_flags::multishot},
                 tag(kind::accept));
          }
        }
        return;
      case kind::recv:
        return received(fd, connections_.at(fd), cqe);
      case kind::send:
        return sent(fd, connections_.at(fd), res);
      case kind::signal:
        return stop();
      case kind::cancel:
        return;
      case kind::deadline:
        // A peer that never reads would keep its send pending forever: give up on all of them.
        if (res == -ETIME)
          push(ops::async_cancel{ops::cancel_match::any(), true}, tag(kind::cancel));
        return;
    }
  }

  template <class Completion>
  void received(int fd, connection& c, const Completion& cqe) {
    auto data = buffers_.take(cqe);
    if (!cqe.more()) c.receiving = false;
    if (data && !data->empty()) {
      c.queue.push_back(std::move(*data));
      if (!c.sending) send_front(fd, c);
    } else if (!data && data.error().code() == std::errc::no_buffer_space) {
      // Nothing is lost: the bytes wait in the socket until the recv is re-armed.
      if (!stopping_) c.starved = true, starved_.push_back(fd);
    } else {
      c.peer_done = true;  // end of file, a reset, or our own cancel at the stop
    }
    if (!c.receiving && !c.starved && !c.peer_done && !stopping_) arm_recv(fd, c);
    close_if_done(fd, c);
  }

  void send_front(int fd, connection& c) {
    const auto bytes = c.queue.front().data();
    c.sending = true;
    push(ops::send{.file = fd,
                   .from = const_buffer(bytes.data() + c.front_sent, bytes.size() - c.front_sent),
                   .flags = msg_flags::nosignal},
         tag(kind::send, fd));
  }

  void sent(int fd, connection& c, int res) {
    c.sending = false;
    if (res < 0) {
      // The peer went away: drop what it will never read, and end the recv if it is armed.
      c.queue.clear();
      c.peer_done = true;
      if (c.receiving) ::shutdown(fd, SHUT_RDWR);
    } else {
      c.front_sent += static_cast<std::size_t>(res);
      if (c.front_sent == c.queue.front().size()) {
        c.queue.pop_front();  // the lease ends: the buffer goes back to the ring
        c.front_sent = 0;
      }
    }
    if (!c.queue.empty()) send_front(fd, c);
    close_if_done(fd, c);
  }

  void close_if_done(int fd, connection& c) {
    if (c.receiving || c.sending || !c.queue.empty() || !(c.peer_done || stopping_)) return;
    if (c.starved && !stopping_) return;
    ::close(fd);
    connections_.erase(fd);
  }

  // Receives that ran dry resume once sends have given buffers back.
  void rearm_starved() {
    if (starved_.empty() || buffers_.available() == 0) return;
    for (const int fd : std::exchange(starved_, {})) {
      auto it = connections_.find(fd);
      if (it != connections_.end() && it->second.starved && !stopping_) arm_recv(fd, it->second);
    }
  }

  // Stop accepting and receiving; what was received is still sent (for up to 2 s), then each
  // connection closes.
  void stop() {
    stopping_ = true;
    push(ops::timeout{&grace_}, tag(kind::deadline));
    push(ops::async_cancel{ops::cancel_match::of_opcode(opcode::accept), true}, tag(kind::cancel));
    push(ops::async_cancel{ops::cancel_match::of_opcode(opcode::recv), true}, tag(kind::cancel));
    std::vector<int> idle;
    for (auto& [fd, c] : connections_)
      if (c.starved) c.starved = false, idle.push_back(fd);
    for (const int fd : idle) close_if_done(fd, connections_.at(fd));
  }

  echo_ring& ring_;
  buffer_ring& buffers_;
  int listen_fd_, signal_fd_;
  ::signalfd_siginfo signal_{};
  const abi::kernel_timespec grace_ = to_timespec(std::chrono::seconds(2));
  std::unordered_map<int, connection> connections_;
  std::vector<int> starved_;
  bool stopping_ = false, accepting_ = true;
  unsigned long long accepted_ = 0;
};

int fail(const char* what, int error) {
  std::fprintf(stderr, "urine-echo-server: %s: %s\n", what, std::strerror(error));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") {
      std::puts(
          "Usage: urine-echo-server [--port P]\n"
          "Echo every byte received on TCP 127.0.0.1:P back to its sender, through io_uring.\n"
          "Port 0 (the default) picks a free port; the port is printed as\n"
          "\"listening on 127.0.0.1:PORT\". SIGINT or SIGTERM stops the server.");
      return 0;
    }
    if (arg == "--port" && i + 1 < argc) {
      char* end = nullptr;
      port = std::strtol(argv[++i], &end, 10);
      if (*end == '\0' && port >= 0 && port <= 65535) continue;
    }
    std::fprintf(stderr, "urine-echo-server: bad argument '%s'\nTry 'urine-echo-server --help'.\n",
                 argv[i]);
    return 1;
  }

  example::raise_descriptor_limit();
  const int signal_fd = example::stop_signal_fd();
  if (signal_fd < 0) return fail("signalfd", errno);

  const int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) return fail("socket", errno);
  const int on = 1;
  (void)::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  // Accepted sockets inherit this: an echo split over two sends must not wait for a delayed ACK.
  (void)::setsockopt(listen_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  ::sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd, reinterpret_cast<const ::sockaddr*>(&address), sizeof address) != 0)
    return fail("bind", errno);
  if (::listen(listen_fd, SOMAXCONN) != 0) return fail("listen", errno);
  ::socklen_t length = sizeof address;
  if (::getsockname(listen_fd, reinterpret_cast<::sockaddr*>(&address), &length) != 0)
    return fail("getsockname", errno);

  auto r = echo_ring::create(setup{.entries = 1024, .cq_entries = 16384});
  if (!r) return std::fprintf(stderr, "urine-echo-server: %s\n", r.error().message().c_str()), 1;
  auto buffers = register_buffer_ring(
      *r, {.group = group, .entries = buffer_count, .buffer_size = buffer_size});
  if (!buffers)
    return std::fprintf(stderr, "urine-echo-server: %s\n", buffers.error().message().c_str()), 1;

  // Printed only now, when connections will be served: a script may start its client on it.
  std::printf("listening on 127.0.0.1:%u\n", ntohs(address.sin_port));
  std::fflush(stdout);
  server s(*r, *buffers, listen_fd, signal_fd);
  return s.run();
}
