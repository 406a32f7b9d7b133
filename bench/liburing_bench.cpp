// The peer: liburing, used the way its documentation recommends — io_uring_get_sqe and the
// io_uring_prep_* helpers, io_uring_submit_and_wait, then io_uring_for_each_cqe with one
// io_uring_cq_advance per batch; the ring fd registered with io_uring_register_ring_fd.
#include <liburing.h>

#include <sys/uio.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "harness.hpp"

namespace {

/// The documented reaping idiom: io_uring_for_each_cqe, then one io_uring_cq_advance for the
/// batch. Returns how many completions passed `ok`.
template <class Ok>
unsigned reap(io_uring* ring, Ok ok) {
  unsigned head;
  unsigned seen = 0;
  unsigned passed = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(ring, head, cqe) {
    passed += ok(*cqe);
    ++seen;
  }
  io_uring_cq_advance(ring, seen);
  return passed;
}

struct uring {
  io_uring ring{};
  bool live = false;
  uring() = default;
  uring(const uring&) = delete;
  uring& operator=(const uring&) = delete;
  ~uring() {
    if (live) io_uring_queue_exit(&ring);
  }
  std::string init(unsigned entries, bool register_fd) {
    if (int ret = io_uring_queue_init(entries, &ring, 0); ret < 0)
      return "io_uring_queue_init: " + std::string(std::strerror(-ret));
    live = true;
    if (register_fd && io_uring_register_ring_fd(&ring) != 1)
      return "io_uring_register_ring_fd failed";
    return {};
  }
};

bench::outcome liburing_nop(const bench::params& prm, bool register_fd) {
  uring u;
  if (auto why = u.init(prm.batch, register_fd); !why.empty()) return bench::failed(why);
  io_uring* ring = &u.ring;
  const unsigned batch = prm.batch;
  return bench::measure([&]() -> std::uint64_t {
    std::uint64_t done = 0;
    while (done < prm.ops) {
      for (unsigned i = 0; i < batch; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(ring);
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data64(sqe, i);
      }
      if (io_uring_submit_and_wait(ring, batch) != static_cast<int>(batch)) return done;
      const unsigned passed = reap(ring, [](const io_uring_cqe& cqe) { return cqe.res == 0; });
      done += passed;
      if (passed != batch) return done;
    }
    return done;
  });
}

template <bool FixedFiles, bool FixedBuffers>
bench::outcome liburing_read(const bench::params& prm) {
  uring u;
  if (auto why = u.init(prm.batch, true); !why.empty()) return bench::failed(why);
  io_uring* ring = &u.ring;
  const unsigned depth = prm.batch;
  const bench::read_source& src = prm.read;
  int fd = src.fd;
  if (FixedFiles) {
    if (io_uring_register_files(ring, &src.fd, 1) < 0)
      return bench::failed("io_uring_register_files failed");
    fd = 0;
  }
  if (FixedBuffers) {
    const iovec iov{src.buffers, std::size_t{depth} * bench::block_size};
    if (io_uring_register_buffers(ring, &iov, 1) < 0)
      return bench::failed("io_uring_register_buffers failed");
  }
  return bench::measure([&]() -> std::uint64_t {
    std::uint64_t done = 0;
    while (done < prm.ops) {
      for (unsigned i = 0; i < depth; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(ring);
        std::byte* buf = src.buffers + std::size_t{i} * bench::block_size;
        const std::uint64_t off = src.offsets[(done + i) & src.offset_mask];
        if constexpr (FixedBuffers)
          io_uring_prep_read_fixed(sqe, fd, buf, bench::block_size, off, 0);
        else
          io_uring_prep_read(sqe, fd, buf, bench::block_size, off);
        if constexpr (FixedFiles) sqe->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(sqe, i);
      }
      if (io_uring_submit_and_wait(ring, depth) != static_cast<int>(depth)) return done;
      const unsigned passed = reap(ring, [&](const io_uring_cqe& cqe) {
        return bench::read_ok(src, done, cqe.user_data, cqe.res);
      });
      done += passed;
      if (passed != depth) return done;
    }
    return done;
  });
}

const bench::registrar nop_regfd{{"nop", "liburing", "regfd", "regfd",
                                  [](const bench::params& p) { return liburing_nop(p, true); }}};
const bench::registrar nop_plain{{"nop", "liburing", "plain", "plain",
                                  [](const bench::params& p) { return liburing_nop(p, false); }}};
// Registered files and buffers are compile-time choices here as they are in urine's op types.
bench::outcome liburing_read_any(const bench::params& p) {
  if (p.fixed_files)
    return p.fixed_buffers ? liburing_read<true, true>(p) : liburing_read<true, false>(p);
  return p.fixed_buffers ? liburing_read<false, true>(p) : liburing_read<false, false>(p);
}
const bench::registrar read_regfd{{"read", "liburing", "regfd", "regfd", liburing_read_any}};

}  // namespace
