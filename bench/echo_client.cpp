// The echo load client, the same for every server. It has to cost less per message than the
// servers it measures, or it would be what is measured: so it batches too — one io_uring_enter per
// round, multishot receives into a provided-buffer ring (liburing, as a neutral tool; the client
// never uses urine). Each connection has one message in flight; every byte that comes back is
// compared with what was sent.
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "echo.hpp"
#include "harness.hpp"

namespace bench::echo {

namespace {
constexpr std::uint16_t client_group = 1;
}

outcome run_client(std::uint16_t port, const params& prm) {
  outcome out;
  const unsigned conns = prm.connections;
  const std::size_t msg = prm.msg_size;
  std::vector<int> fds;
  for (unsigned i = 0; i < conns; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      if (fd >= 0) close(fd);
      for (int f : fds) close(f);
      return failed("client connect failed");
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fds.push_back(fd);
  }
  auto close_all = [&] {
    for (int fd : fds) close(fd);  // the servers stop when every connection has closed
  };

  io_uring ring;
  if (io_uring_queue_init(ring_entries(prm), &ring, 0) < 0) {
    close_all();
    return failed("client io_uring_queue_init failed");
  }
  buffer_memory mem(prm);
  auto* br = static_cast<io_uring_buf_ring*>(mem.ring());
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(br);
  reg.ring_entries = buffer_count;
  reg.bgid = client_group;
  const int mask = io_uring_buf_ring_mask(buffer_count);
  if (!mem.ok() || io_uring_register_buf_ring(&ring, &reg, 0) < 0) {
    io_uring_queue_exit(&ring);
    close_all();
    return failed("client buffer ring failed");
  }
  io_uring_buf_ring_init(br);
  for (unsigned bid = 0; bid < buffer_count; ++bid)
    io_uring_buf_ring_add(br, mem.buffer(bid), mem.buffer_size(), static_cast<unsigned short>(bid),
                          mask, static_cast<int>(bid));
  io_uring_buf_ring_advance(br, static_cast<int>(buffer_count));

  std::vector<std::byte> tx(msg);
  for (std::size_t i = 0; i < msg; ++i) tx[i] = static_cast<std::byte>(i * 7 + 1);
  std::vector<std::size_t> got(conns);
  std::uint64_t issued = 0, completed = 0;

  // user_data: the connection index in the low 32 bits, kind above (recv or send).
  auto arm_recv = [&](unsigned i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv_multishot(sqe, fds[i], nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = client_group;
    io_uring_sqe_set_data64(sqe, tag(kind::recv, static_cast<int>(i)));
  };
  auto send_one = [&](unsigned i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_send(sqe, fds[i], tx.data(), msg, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, tag(kind::send, static_cast<int>(i)));
    ++issued;
  };

  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(60);
  for (unsigned i = 0; i < conns; ++i) {
    arm_recv(i);
    if (issued < prm.ops) send_one(i);
  }
  while (out.error.empty() && completed < prm.ops) {
    __kernel_timespec ts{1, 0};
    io_uring_cqe* first;
    const int ret = io_uring_submit_and_wait_timeout(&ring, &first, 1, &ts, nullptr);
    if (std::chrono::steady_clock::now() > deadline) out.error = "echo timed out";
    if (ret < 0 && ret != -ETIME && ret != -EINTR) out.error = "client wait failed";
    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const unsigned i = static_cast<unsigned>(fd_of(cqe->user_data));
      const int res = cqe->res;
      if (kind_of(cqe->user_data) == kind::send) {
        if (res != static_cast<int>(msg)) out.error = "client send failed";
        continue;
      }
      if (res == -ENOBUFS) {
        if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(i);
        continue;
      }
      if (res <= 0 || got[i] + static_cast<std::size_t>(res) > msg) {
        out.error = res <= 0 ? "server closed or failed" : "server sent more than was asked";
        continue;
      }
      const auto bid = static_cast<std::uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
      if (std::memcmp(mem.buffer(bid), tx.data() + got[i], static_cast<std::size_t>(res)) != 0)
        out.error = "echo came back corrupted";
      io_uring_buf_ring_add(br, mem.buffer(bid), mem.buffer_size(), bid, mask, 0);
      io_uring_buf_ring_advance(br, 1);
      if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(i);
      got[i] += static_cast<std::size_t>(res);
      if (got[i] < msg) continue;
      got[i] = 0;
      ++completed;
      if (issued < prm.ops) send_one(i);
    }
    io_uring_cq_advance(&ring, seen);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.ops = completed;
  close_all();
  io_uring_queue_exit(&ring);
  return out;
}

}  // namespace bench::echo
