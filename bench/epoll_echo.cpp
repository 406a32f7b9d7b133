// The readiness baseline: a level-triggered epoll echo server on non-blocking sockets, one
// recv and one send per readable event.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "echo.hpp"
#include "harness.hpp"

namespace {

namespace echo = bench::echo;

bench::outcome epoll_echo(const bench::params& prm) {
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return bench::failed("epoll_create1 failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = prm.listen_fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, prm.listen_fd, &ev);
  std::vector<std::byte> buffer(echo::buffer_size(prm));
  echo::tally t(prm.connections);
  const bench::outcome out = echo::serve(t, [&] {
    epoll_event events[64];
    while (t.running()) {
      const int n = epoll_wait(ep, events, 64, -1);
      if (n < 0 && errno != EINTR) t.fail("epoll_wait", -errno);
      for (int e = 0; e < n; ++e) {
        const int fd = events[e].data.fd;
        if (fd == prm.listen_fd) {
          const int conn = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (conn < 0) {
            if (errno != EAGAIN) t.fail("accept", -errno);
            continue;
          }
          ++t.accepted;
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = conn;
          epoll_ctl(ep, EPOLL_CTL_ADD, conn, &cev);
          continue;
        }
        const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (got > 0) {
          if (!bench::send_all(fd, buffer.data(), static_cast<std::size_t>(got)) ||
              !t.sent(static_cast<std::uint32_t>(got), static_cast<int>(got)))
            t.fail("send", -errno);
        } else if (got == 0) {
          ::close(fd);  // also leaves the epoll set
          ++t.closed;
        } else if (errno != EAGAIN) {
          t.fail("recv", -errno);
        }
      }
    }
  });
  ::close(ep);
  return out;
}

const bench::registrar echo_case{{"echo", "epoll", "default", "regfd", epoll_echo}};

}  // namespace
