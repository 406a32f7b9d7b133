// urine's echo server: multishot accept, multishot receive into a provided-buffer ring (urine's
// buffer_ring), send the bytes back, recycle the buffer when the send completes.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "echo.hpp"
#include "harness.hpp"

import urine;

namespace {

using namespace urine;
namespace echo = bench::echo;

bench::outcome urine_echo(const bench::params& prm) {
  auto made = ring<registered_ring_fd>::create(echo::ring_entries(prm));
  if (!made) return bench::failed(made.error().message());
  auto& ring = *made;
  auto pbufs = register_buffer_ring(ring, {.group = echo::group,
                                           .entries = echo::buffer_count,
                                           .buffer_size = echo::buffer_size(prm)});
  if (!pbufs) return bench::failed(pbufs.error().message());
  const auto recv_on = [](int fd) {
    return ops::recv<>{.file = fd,
                       .into = buffer_group{echo::group},
                       .io_flags = recvsend_flags::recv_multishot};
  };
  const auto accept_on = [](int fd) { return ops::accept<>{.file = fd, .mode = accept_flags::multishot}; };

  echo::tally t(prm.connections);
  auto push = [&](const auto& op, std::uint64_t ud) {
    // The SQ is sized above what one batch of completions can ask for; full means a bug.
    if (!ring.push(op, ud)) t.fail("push", -EBUSY);
  };
  return echo::serve(t, [&] {
    push(accept_on(prm.listen_fd), echo::tag(echo::kind::accept, prm.listen_fd));
    while (t.running()) {
      if (auto r = ring.submit_and_wait(1); !r) {
        t.fail("submit_and_wait", -r.error().value());
        break;
      }
      ring.for_each_cqe([&](auto c) {
        const std::uint64_t ud = c.user_data().value();
        const int fd = echo::fd_of(ud);
        const int res = c.result();
        switch (echo::kind_of(ud)) {
          case echo::kind::accept:
            if (res < 0) return t.fail("accept", res);
            ++t.accepted;
            push(recv_on(res), echo::tag(echo::kind::recv, res));
            if (!c.more() && t.accepted < t.connections) push(accept_on(fd), ud);
            return;
          case echo::kind::recv:
            if (res > 0) {
              const std::uint16_t bid = c.buffer_id();
              const auto len = static_cast<std::uint32_t>(res);
              push(ops::send<>{.file = fd,
                               .from = const_buffer(pbufs->buffer(bid).data(), len),
                               .flags = msg_flags::nosignal},
                   echo::tag(echo::kind::send, fd, bid, len));
            } else if (res == 0) {
              ::close(fd);
              ++t.closed;
              return;
            } else if (res != -ENOBUFS) {
              return t.fail("recv", res);
            }
            if (!c.more()) push(recv_on(fd), ud);
            return;
          case echo::kind::send:
            if (t.sent(echo::len_of(ud), res)) pbufs->recycle(echo::bid_of(ud));
            return;
        }
      });
    }
  });
}

const bench::registrar echo_case{{"echo", "urine", "regfd", "regfd", urine_echo}};

}  // namespace
