// urine's echo server: multishot accept, multishot receive into a provided-buffer ring (urine's
// buffer_ring), send the bytes back, recycle the buffer when the send completes.
//
// One loop, several configurations of what the kernel offers, each a variant of its own so that
// echo_trace.sh and echo_matrix.sh can measure what each step costs or saves:
//   regfd          a plain ring with its descriptor registered for io_uring_enter
//   coop           regfd + COOP_TASKRUN: task work waits for the server's next entry into the
//                  kernel instead of interrupting it from another CPU (to compare with defer)
//   defer          regfd + SINGLE_ISSUER | DEFER_TASKRUN: completions are produced when the server
//                  waits
//   direct         + accepted sockets as direct descriptors (multishot accept into the file table,
//                  recv/send on the fixed file, no per-request descriptor lookup and reference)
//   sized          + a buffer ring of two buffers per connection (echo::buffers_for) instead of
//                  256 for any count
//   minwait        sized + reaping with a minimum wait (6.12): wait up to 20 µs for one completion
//                  per connection before taking what is there
//   pollfirst      sized + IORING_RECVSEND_POLL_FIRST on the receive: arm the poll without trying
//                  first
// docs/network.md has what each costs or saves.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "echo.hpp"
#include "harness.hpp"

import urine;

namespace {

using namespace urine;
namespace echo = bench::echo;

/// What a variant turns on beyond its ring's policies.
struct tuning {
  bool direct = false;    ///< accepted sockets in the ring's file table
  bool sized = false;     ///< the buffer ring matched to the connection count
  bool min_wait = false;  ///< reap with a minimum wait for a batch of one completion per connection
  recvsend_flags recv_extra = recvsend_flags::none;  ///< added to the multishot receive's flags
};

/// How long a min-wait reap waits for its batch before taking fewer; the whole wait is bounded
/// by a second, after which the loop simply waits again.
constexpr std::chrono::microseconds batch_wait{20};
constexpr std::chrono::seconds wait_bound{1};

/// The completion of closing a direct descriptor: a kind of this server's only, outside the
/// kinds every server shares.
constexpr std::uint64_t closing_tag = std::uint64_t{0xf} << 60;

template <class Ring, tuning T>
bench::outcome urine_echo(const bench::params& prm) {
  // With direct descriptors, a socket is a slot of the ring's file table; without, a descriptor.
  using socket_handle = std::conditional_t<T.direct, fixed_file, int>;
  auto made = Ring::create(echo::ring_entries(prm));
  if (!made) return bench::failed(made.error().message());
  auto& ring = *made;
  auto pbufs =
      register_buffer_ring(ring, {.group = echo::group,
                                  .entries = T.sized ? echo::buffers_for(prm) : echo::buffer_count,
                                  .buffer_size = echo::buffer_size(prm)});
  if (!pbufs) return bench::failed(pbufs.error().message());
  std::optional<registered_files> table;
  if constexpr (T.direct) {
    auto files = register_sparse_files(ring, prm.connections);
    if (!files) return bench::failed(files.error().message());
    table.emplace(std::move(*files));
  }
  const auto socket_of = [](int n) {
    if constexpr (T.direct)
      return fixed_file{static_cast<std::uint32_t>(n)};
    else
      return n;
  };
  const auto recv_on = [](socket_handle s) {
    return ops::recv{.file = s,
                     .into = buffer_group{echo::group},
                     .io_flags = recvsend_flags::recv_multishot | T.recv_extra};
  };
  const auto accept_on = [](int fd) {
    if constexpr (T.direct)
      return ops::accept{.file = fd, .mode = accept_flags::multishot, .install = direct_alloc};
    else
      return ops::accept{.file = fd, .mode = accept_flags::multishot};
  };

  echo::tally t(prm.connections);
  auto push = [&](const auto& op, std::uint64_t ud) {
    // The SQ is sized above what one batch of completions can ask for; full means a bug.
    if (!ring.push(op, ud)) t.fail("push", -EBUSY);
  };
  // Submits, waits, and returns 0 or the negative errno of io_uring_enter.
  auto wait = [&]() -> int {
    if constexpr (T.min_wait) {
      const auto r = ring.submit_and_wait_for(prm.connections, wait_bound, batch_wait);
      return r || r.error() == std::errc::stream_timeout ? 0 : -r.error().value();
    } else {
      const auto r = ring.submit_and_wait(1);
      return r ? 0 : -r.error().value();
    }
  };
  return echo::serve(t, [&] {
    push(accept_on(prm.listen_fd), echo::tag(echo::kind::accept, prm.listen_fd));
    while (t.running()) {
      if (const int err = wait(); err != 0) {
        t.fail("io_uring_enter", err);
        break;
      }
      ring.for_each_cqe([&](auto c) {
        const std::uint64_t ud = c.user_data().value();
        const int fd = echo::fd_of(ud);
        const int res = c.result();
        if constexpr (T.direct) {
          if (ud == closing_tag) {
            if (res < 0) t.fail("close", res);
            return;
          }
        }
        switch (echo::kind_of(ud)) {
          case echo::kind::accept:
            if (res < 0) return t.fail("accept", res);
            ++t.accepted;
            push(recv_on(socket_of(res)), echo::tag(echo::kind::recv, res));
            if (!c.more() && t.accepted < t.connections) push(accept_on(fd), ud);
            return;
          case echo::kind::recv:
            if (res > 0) {
              const std::uint16_t bid = c.buffer_id();
              const auto len = static_cast<std::uint32_t>(res);
              push(ops::send{.file = socket_of(fd),
                             .from = const_buffer(pbufs->buffer(bid).data(), len),
                             .flags = msg_flags::nosignal},
                   echo::tag(echo::kind::send, fd, bid, len));
            } else if (res == 0) {
              if constexpr (T.direct)
                push(ops::close{socket_of(fd)}, closing_tag);
              else
                ::close(fd);
              ++t.closed;
              return;
            } else if (res != -ENOBUFS) {
              return t.fail("recv", res);
            }
            if (!c.more()) push(recv_on(socket_of(fd)), ud);
            return;
          case echo::kind::send:
            if (t.sent(echo::len_of(ud), res)) pbufs->recycle(echo::bid_of(ud));
            return;
        }
      });
    }
    t.cq_overflows = ring.cq_overflow();
  });
}

using regfd_ring = ring<registered_ring_fd>;
using coop_ring = ring<registered_ring_fd, coop_task_run<>>;
using defer_ring = ring<registered_ring_fd, defer_task_run<>>;

constexpr tuning plain{};
constexpr tuning direct{.direct = true};
constexpr tuning sized{.direct = true, .sized = true};
constexpr tuning sized_min_wait{.direct = true, .sized = true, .min_wait = true};
constexpr tuning sized_poll_first{
    .direct = true, .sized = true, .recv_extra = recvsend_flags::poll_first};

const bench::registrar echo_cases[] = {
    bench::registrar{{"echo", "urine", "regfd", "regfd", urine_echo<regfd_ring, plain>}},
    bench::registrar{{"echo", "urine", "coop", "regfd", urine_echo<coop_ring, plain>}},
    bench::registrar{{"echo", "urine", "defer", "regfd", urine_echo<defer_ring, plain>}},
    bench::registrar{{"echo", "urine", "direct", "regfd", urine_echo<defer_ring, direct>}},
    bench::registrar{{"echo", "urine", "sized", "regfd", urine_echo<defer_ring, sized>}},
    bench::registrar{{"echo", "urine", "minwait", "regfd", urine_echo<defer_ring, sized_min_wait>}},
    bench::registrar{
        {"echo", "urine", "pollfirst", "regfd", urine_echo<defer_ring, sized_poll_first>}},
};

}  // namespace
