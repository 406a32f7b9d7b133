// The floor: a ring set up and driven by hand on the three system calls and mmap, with no
// abstraction at all — what any library's NOP and read loops are measured against. Layouts come
// from the system's <linux/io_uring.h>; the one newer flag it lacks (NO_SQARRAY, 6.6) is spelled
// out, because without it every submission would also write the SQ index array.
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/uio.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>

#include "echo.hpp"
#include "harness.hpp"

namespace {

constexpr std::uint32_t setup_no_sqarray = 1u << 16;

// One `syscall` instruction, as a hand-written loop would issue it (libc's syscall() is an
// out-of-line variadic function that also writes errno).
inline long sys6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) noexcept {
  long ret;
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}

inline std::uint32_t load_acquire(const std::uint32_t* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
inline void store_release(std::uint32_t* p, std::uint32_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

struct raw_ring {
  int fd = -1;
  int enter_fd = -1;
  std::uint32_t enter_flags = 0;  // IORING_ENTER_REGISTERED_RING when the fd is registered
  io_uring_params p{};
  void* ring_map = MAP_FAILED;
  std::size_t ring_size = 0;
  void* sqe_map = MAP_FAILED;
  std::size_t sqe_size = 0;
  std::uint32_t* sq_ktail = nullptr;
  std::uint32_t sq_mask = 0;
  io_uring_sqe* sqes = nullptr;
  std::uint32_t sq_tail = 0;
  std::uint32_t* cq_khead = nullptr;
  std::uint32_t* cq_ktail = nullptr;
  std::uint32_t cq_mask = 0;
  io_uring_cqe* cqes = nullptr;

  raw_ring() = default;
  raw_ring(const raw_ring&) = delete;
  raw_ring& operator=(const raw_ring&) = delete;
  ~raw_ring() {
    // A registered ring fd pins the ring (and its task's 16 slots) until it is unregistered.
    if (enter_flags != 0) {
      io_uring_rsrc_update up{};
      up.offset = static_cast<std::uint32_t>(enter_fd);
      reg(IORING_UNREGISTER_RING_FDS, &up, 1);
    }
    if (sqe_map != MAP_FAILED) munmap(sqe_map, sqe_size);
    if (ring_map != MAP_FAILED) munmap(ring_map, ring_size);
    if (fd >= 0) close(fd);
  }

  /// Set the ring up; false, with `why` saying what failed, when it cannot be.
  bool init(unsigned entries, bool register_fd, std::string& why) {
    const auto failed = [&](std::string text) {
      why = std::move(text);
      return false;
    };
    p.flags = setup_no_sqarray;
    fd = static_cast<int>(
        sys6(__NR_io_uring_setup, entries, reinterpret_cast<long>(&p), 0, 0, 0, 0));
    if (fd < 0) return failed("io_uring_setup: " + std::string(std::strerror(-fd)));
    if (!(p.features & IORING_FEAT_SINGLE_MMAP))
      return failed("kernel lacks IORING_FEAT_SINGLE_MMAP");
    // One mapping holds both rings; it must cover the larger of the two.
    ring_size = std::max<std::size_t>(p.sq_off.array + p.sq_entries * sizeof(std::uint32_t),
                                      p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe));
    ring_map = mmap(nullptr, ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                    IORING_OFF_SQ_RING);
    sqe_size = p.sq_entries * sizeof(io_uring_sqe);
    sqe_map = mmap(nullptr, sqe_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                   IORING_OFF_SQES);
    if (ring_map == MAP_FAILED || sqe_map == MAP_FAILED) return failed("mmap of the rings failed");
    auto* base = static_cast<std::byte*>(ring_map);
    sq_ktail = reinterpret_cast<std::uint32_t*>(base + p.sq_off.tail);
    sq_mask = *reinterpret_cast<std::uint32_t*>(base + p.sq_off.ring_mask);
    sq_tail = *reinterpret_cast<std::uint32_t*>(base + p.sq_off.head);
    sqes = static_cast<io_uring_sqe*>(sqe_map);
    cq_khead = reinterpret_cast<std::uint32_t*>(base + p.cq_off.head);
    cq_ktail = reinterpret_cast<std::uint32_t*>(base + p.cq_off.tail);
    cq_mask = *reinterpret_cast<std::uint32_t*>(base + p.cq_off.ring_mask);
    cqes = reinterpret_cast<io_uring_cqe*>(base + p.cq_off.cqes);
    enter_fd = fd;
    if (register_fd) {
      io_uring_rsrc_update up{};
      up.offset = -1u;  // any free slot
      up.data = static_cast<std::uint64_t>(fd);
      const long ret = reg(IORING_REGISTER_RING_FDS, &up, 1);
      if (ret != 1)
        return failed("IORING_REGISTER_RING_FDS: " +
                      std::string(std::strerror(static_cast<int>(-ret))));
      enter_fd = static_cast<int>(up.offset);
      enter_flags = IORING_ENTER_REGISTERED_RING;
    }
    return true;
  }

  long reg(unsigned op, const void* arg, unsigned nr) const {
    return sys6(__NR_io_uring_register, fd, op, reinterpret_cast<long>(arg), nr, 0, 0);
  }

  /// A cleared SQE at the local tail.
  io_uring_sqe* next_sqe() {
    io_uring_sqe* sqe = &sqes[sq_tail++ & sq_mask];
    std::memset(sqe, 0, sizeof *sqe);
    return sqe;
  }

  /// Publish the tail, submit `n` and wait for `n` completions.
  long submit_and_wait(unsigned n) { return submit_and_wait(n, n); }

  /// Publish the tail, submit `n` and wait for `wait` completions.
  long submit_and_wait(unsigned n, unsigned wait) {
    store_release(sq_ktail, sq_tail);
    return sys6(__NR_io_uring_enter, enter_fd, n, wait, IORING_ENTER_GETEVENTS | enter_flags, 0,
                _NSIG / 8);
  }

  /// Walk the CQ from head to tail, then publish the head once. Returns how many completions
  /// passed `ok` (every implementation checks every completion of a batch the same way).
  template <class Ok>
  unsigned reap(Ok ok) {
    std::uint32_t head = *cq_khead;
    const std::uint32_t tail = load_acquire(cq_ktail);
    unsigned passed = 0;
    for (; head != tail; ++head) passed += ok(cqes[head & cq_mask]);
    store_release(cq_khead, head);
    return passed;
  }
};

/// The measured loop of NOP and read: `prep(sqe, i, done)` fills each SQE of a batch of
/// prm.batch, one submit-and-wait for the batch, `ok(cqe, done)` checks each completion, and the
/// first failed check ends the run.
template <class Prep, class Ok>
bench::outcome raw_batches(raw_ring& ring, const bench::params& prm, Prep prep, Ok ok) {
  const unsigned batch = prm.batch;
  return bench::measure([&]() -> std::uint64_t {
    std::uint64_t done = 0;
    while (done < prm.ops) {
      for (unsigned i = 0; i < batch; ++i) prep(*ring.next_sqe(), i, done);
      if (ring.submit_and_wait(batch) != batch) return done;
      const unsigned passed = ring.reap([&](const io_uring_cqe& cqe) { return ok(cqe, done); });
      done += passed;
      if (passed != batch) return done;
    }
    return done;
  });
}

bench::outcome raw_nop(const bench::params& prm, bool register_fd) {
  raw_ring ring;
  if (std::string why; !ring.init(prm.batch, register_fd, why)) return bench::failed(why);
  return raw_batches(
      ring, prm,
      [](io_uring_sqe& sqe, unsigned i, std::uint64_t) {
        sqe.opcode = IORING_OP_NOP;
        sqe.user_data = i;
      },
      [](const io_uring_cqe& cqe, std::uint64_t) { return cqe.res == 0; });
}

bench::outcome raw_read(const bench::params& prm) {
  raw_ring ring;
  if (std::string why; !ring.init(prm.batch, true, why)) return bench::failed(why);
  const unsigned depth = prm.batch;
  const bench::read_source& src = prm.read;
  int fd = src.fd;
  std::uint8_t sqe_flags = 0;
  if (prm.fixed_files) {
    if (ring.reg(IORING_REGISTER_FILES, &src.fd, 1) < 0)
      return bench::failed("IORING_REGISTER_FILES failed");
    fd = 0;
    sqe_flags = IOSQE_FIXED_FILE;
  }
  if (prm.fixed_buffers) {
    const iovec iov{src.buffers, std::size_t{depth} * bench::block_size};
    if (ring.reg(IORING_REGISTER_BUFFERS, &iov, 1) < 0)
      return bench::failed("IORING_REGISTER_BUFFERS failed");
  }
  const std::uint8_t opcode = prm.fixed_buffers ? IORING_OP_READ_FIXED : IORING_OP_READ;
  return raw_batches(
      ring, prm,
      [&](io_uring_sqe& sqe, unsigned i, std::uint64_t done) {
        sqe.opcode = opcode;
        sqe.flags = sqe_flags;
        sqe.fd = fd;
        sqe.addr =
            reinterpret_cast<std::uint64_t>(src.buffers + std::size_t{i} * bench::block_size);
        sqe.len = bench::block_size;
        sqe.off = src.offsets[(done + i) & src.offset_mask];
        sqe.user_data = i;
      },
      [&](const io_uring_cqe& cqe, std::uint64_t done) {
        return bench::read_ok(src, done, cqe.user_data, cqe.res);
      });
}

namespace echo = bench::echo;

/// The echo server by hand: the SQEs written field by field, the buffer ring's entries and tail
/// stored directly.
bench::outcome raw_echo(const bench::params& prm) {
  raw_ring ring;
  if (std::string why; !ring.init(echo::ring_entries(prm), true, why)) return bench::failed(why);
  echo::buffer_memory mem(prm);
  auto* bufs = static_cast<io_uring_buf*>(mem.ring());
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(bufs);
  reg.ring_entries = echo::buffer_count;
  reg.bgid = echo::group;
  if (!mem.ok() || ring.reg(IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
    return bench::failed("IORING_REGISTER_PBUF_RING failed");
  // The ring's tail overlays the first entry's reserved field.
  auto* buf_tail = &reinterpret_cast<io_uring_buf_ring*>(bufs)->tail;
  std::uint16_t tail = 0;
  auto give_back = [&](std::uint16_t bid) {
    io_uring_buf& b = bufs[tail & (echo::buffer_count - 1)];
    b.addr = reinterpret_cast<std::uint64_t>(mem.buffer(bid));
    b.len = mem.buffer_size();
    b.bid = bid;
    __atomic_store_n(buf_tail, ++tail, __ATOMIC_RELEASE);
  };
  for (unsigned bid = 0; bid < echo::buffer_count; ++bid)
    give_back(static_cast<std::uint16_t>(bid));

  echo::tally t(prm.connections);
  std::uint32_t submitted = ring.sq_tail;
  auto arm = [&](std::uint8_t op, int fd, std::uint16_t ioprio, std::uint64_t ud) {
    io_uring_sqe* sqe = ring.next_sqe();
    sqe->opcode = op;
    sqe->fd = fd;
    sqe->ioprio = ioprio;
    sqe->user_data = ud;
    return sqe;
  };
  auto arm_recv = [&](int fd) {
    io_uring_sqe* sqe =
        arm(IORING_OP_RECV, fd, IORING_RECV_MULTISHOT, echo::tag(echo::kind::recv, fd));
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = echo::group;
  };
  return echo::serve(t, [&] {
    arm(IORING_OP_ACCEPT, prm.listen_fd, IORING_ACCEPT_MULTISHOT,
        echo::tag(echo::kind::accept, prm.listen_fd));
    while (t.running()) {
      const long ret = ring.submit_and_wait(ring.sq_tail - submitted, 1);
      if (ret < 0) {
        t.fail("io_uring_enter", static_cast<int>(ret));
        break;
      }
      submitted += static_cast<std::uint32_t>(ret);
      ring.reap([&](const io_uring_cqe& cqe) {
        const std::uint64_t ud = cqe.user_data;
        const int fd = echo::fd_of(ud);
        const bool more = cqe.flags & IORING_CQE_F_MORE;
        switch (echo::kind_of(ud)) {
          case echo::kind::accept:
            if (cqe.res < 0) {
              t.fail("accept", cqe.res);
              break;
            }
            ++t.accepted;
            arm_recv(cqe.res);
            if (!more && t.accepted < t.connections)
              arm(IORING_OP_ACCEPT, fd, IORING_ACCEPT_MULTISHOT, ud);
            break;
          case echo::kind::recv:
            if (cqe.res > 0) {
              const auto bid = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
              const auto len = static_cast<std::uint32_t>(cqe.res);
              io_uring_sqe* sqe =
                  arm(IORING_OP_SEND, fd, 0, echo::tag(echo::kind::send, fd, bid, len));
              sqe->addr = reinterpret_cast<std::uint64_t>(mem.buffer(bid));
              sqe->len = len;
              sqe->msg_flags = MSG_NOSIGNAL;
            } else if (cqe.res == 0) {
              close(fd);
              ++t.closed;
              break;
            } else if (cqe.res != -ENOBUFS) {
              t.fail("recv", cqe.res);
              break;
            }
            if (!more) arm_recv(fd);
            break;
          case echo::kind::send:
            if (t.sent(echo::len_of(ud), cqe.res)) give_back(echo::bid_of(ud));
            break;
        }
        return true;
      });
    }
    t.cq_overflows = *reinterpret_cast<const std::uint32_t*>(
        static_cast<const std::byte*>(ring.ring_map) + ring.p.cq_off.overflow);
  });
}

const bench::registrar nop_regfd{
    {"nop", "raw", "regfd", "regfd", [](const bench::params& p) { return raw_nop(p, true); }}};
const bench::registrar nop_plain{
    {"nop", "raw", "plain", "plain", [](const bench::params& p) { return raw_nop(p, false); }}};
const bench::registrar read_regfd{{"read", "raw", "regfd", "regfd", raw_read}};
const bench::registrar echo_regfd{{"echo", "raw", "regfd", "regfd", raw_echo}};

}  // namespace
