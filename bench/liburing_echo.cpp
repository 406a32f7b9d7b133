// liburing's echo server, as its documentation and examples build one:
// io_uring_prep_multishot_accept, io_uring_prep_recv_multishot with IOSQE_BUFFER_SELECT on a ring
// registered with io_uring_register_buf_ring, io_uring_prep_send, buffers returned with
// io_uring_buf_ring_add.
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "echo.hpp"
#include "harness.hpp"

namespace {

namespace echo = bench::echo;

bench::outcome liburing_echo(const bench::params& prm) {
  io_uring ring;
  if (int ret = io_uring_queue_init(echo::ring_entries(prm), &ring, 0); ret < 0)
    return bench::failed("io_uring_queue_init: " + std::string(std::strerror(-ret)));
  struct exit_ring {
    io_uring* r;
    ~exit_ring() { io_uring_queue_exit(r); }
  } guard{&ring};
  if (io_uring_register_ring_fd(&ring) != 1)
    return bench::failed("io_uring_register_ring_fd failed");

  echo::buffer_memory mem(prm);
  if (!mem.ok()) return bench::failed("buffer memory");
  auto* br = static_cast<io_uring_buf_ring*>(mem.ring());
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(br);
  reg.ring_entries = echo::buffer_count;
  reg.bgid = echo::group;
  if (io_uring_register_buf_ring(&ring, &reg, 0) < 0)
    return bench::failed("io_uring_register_buf_ring failed");
  const int mask = io_uring_buf_ring_mask(echo::buffer_count);
  io_uring_buf_ring_init(br);
  for (unsigned bid = 0; bid < echo::buffer_count; ++bid)
    io_uring_buf_ring_add(br, mem.buffer(bid), mem.buffer_size(), static_cast<unsigned short>(bid),
                          mask, static_cast<int>(bid));
  io_uring_buf_ring_advance(br, static_cast<int>(echo::buffer_count));

  echo::tally t(prm.connections);
  auto sqe_for = [&] {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) {  // sized above what one batch can ask for: full means a bug
      t.fail("io_uring_get_sqe", -EBUSY);
      static io_uring_sqe scratch;
      sqe = &scratch;
    }
    return sqe;
  };
  auto arm_accept = [&](int fd) {
    io_uring_sqe* sqe = sqe_for();
    io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, 0);
    io_uring_sqe_set_data64(sqe, echo::tag(echo::kind::accept, fd));
  };
  auto arm_recv = [&](int fd) {
    io_uring_sqe* sqe = sqe_for();
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = echo::group;
    io_uring_sqe_set_data64(sqe, echo::tag(echo::kind::recv, fd));
  };
  return echo::serve(t, [&] {
    arm_accept(prm.listen_fd);
    while (t.running()) {
      if (int ret = io_uring_submit_and_wait(&ring, 1); ret < 0) {
        t.fail("io_uring_submit_and_wait", ret);
        break;
      }
      unsigned head;
      unsigned seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&ring, head, cqe) {
        ++seen;
        const std::uint64_t ud = cqe->user_data;
        const int fd = echo::fd_of(ud);
        const int res = cqe->res;
        const bool more = cqe->flags & IORING_CQE_F_MORE;
        switch (echo::kind_of(ud)) {
          case echo::kind::accept:
            if (res < 0) {
              t.fail("accept", res);
              break;
            }
            ++t.accepted;
            arm_recv(res);
            if (!more && t.accepted < t.connections) arm_accept(fd);
            break;
          case echo::kind::recv:
            if (res > 0) {
              const auto bid = static_cast<std::uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
              const auto len = static_cast<std::uint32_t>(res);
              const std::uint64_t send_ud = echo::tag(echo::kind::send, fd, bid, len);
              io_uring_sqe* sqe = sqe_for();
              io_uring_prep_send(sqe, fd, mem.buffer(bid), len, MSG_NOSIGNAL);
              io_uring_sqe_set_data64(sqe, send_ud);
            } else if (res == 0) {
              ::close(fd);
              ++t.closed;
              break;
            } else if (res != -ENOBUFS) {
              t.fail("recv", res);
              break;
            }
            if (!more) arm_recv(fd);
            break;
          case echo::kind::send:
            if (t.sent(echo::len_of(ud), res)) {
              const std::uint16_t bid = echo::bid_of(ud);
              io_uring_buf_ring_add(br, mem.buffer(bid), mem.buffer_size(), bid, mask, 0);
              io_uring_buf_ring_advance(br, 1);
            }
            break;
        }
      }
      io_uring_cq_advance(&ring, seen);
    }
    t.cq_overflows = *ring.cq.koverflow;
  });
}

const bench::registrar echo_case{{"echo", "liburing", "regfd", "regfd", liburing_echo}};

}  // namespace
