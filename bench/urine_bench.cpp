// urine's NOP and read loops, written as a user would write them: reserve SQ room for the batch,
// push typed operations into it, one submit_and_wait per batch, for_each_cqe to reap the batch. The
// NOP loop is instantiated for each policy set so that what each choice costs shows in the same
// table.
#include <sys/uio.h>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "harness.hpp"

import urine;

namespace {

using namespace urine;

/// Room for a batch. SQPOLL only: the kernel thread posts a NOP's completion before it moves the
/// SQ head, so a ring exactly as deep as the batch can look full right after a batch was reaped
/// (and a wait can return before the thread has posted the whole batch, see reap_batch). Other
/// rings never take these paths, and their loops are compiled without them.
template <class Ring>
auto reserve(Ring& ring, unsigned n) {
  auto sq = ring.reserve(n);
  if constexpr (Ring::is_sqpoll) {
    while (!sq && ring.wait_for_sq_space()) sq = ring.reserve(n);
  }
  return sq;
}

template <class Ring, class Fn>
unsigned reap_batch(Ring& ring, unsigned batch, Fn&& fn) {
  unsigned seen = ring.for_each_cqe(fn);
  if constexpr (Ring::is_sqpoll) {
    while (seen < batch && ring.wait(batch - seen)) seen += ring.for_each_cqe(fn);
  }
  return seen;
}

/// Each batch goes through a reservation (room tested once per batch), or, for the `push` variant,
/// through ring.push (room tested per SQE).
template <class Ring, bool Reserve = true>
bench::outcome urine_nop(const bench::params& prm) {
  auto made = Ring::create(prm.batch);
  if (!made) return bench::failed(made.error().message());
  Ring& ring = *made;
  const unsigned batch = prm.batch;
  return bench::measure([&]() -> std::uint64_t {
    std::uint64_t done = 0;
    while (done < prm.ops) {
      if constexpr (Reserve) {
        auto sq = reserve(ring, batch);
        if (!sq) return done;
        for (unsigned i = 0; i < batch; ++i) sq->push(ops::nop{}, i);
      } else {
        for (unsigned i = 0; i < batch; ++i)
          if (!ring.push(ops::nop{}, i)) return done;
      }
      if (auto r = ring.submit_and_wait(batch); !r || *r != batch) return done;
      unsigned passed = 0;
      reap_batch(ring, batch, [&](auto c) { passed += c.result() == 0; });
      done += passed;
      if (passed != batch) return done;
    }
    return done;
  });
}

template <class File, bool FixedBuffers>
bench::outcome urine_read(const bench::params& prm) {
  auto made = ring<registered_ring_fd>::create(prm.batch);
  if (!made) return bench::failed(made.error().message());
  auto& ring = *made;
  const unsigned depth = prm.batch;
  const bench::read_source& src = prm.read;
  constexpr bool fixed_files = std::same_as<File, fixed_file>;
  std::optional<registered_files> files;
  std::optional<registered_buffers> buffers;
  if constexpr (fixed_files) {
    auto r = register_files(ring, std::span(&src.fd, 1));
    if (!r) return bench::failed(r.error().message());
    files.emplace(std::move(*r));
  }
  if constexpr (FixedBuffers) {
    const iovec iov{src.buffers, std::size_t{depth} * bench::block_size};
    auto r = register_buffers(ring, std::span(&iov, 1));
    if (!r) return bench::failed(r.error().message());
    buffers.emplace(std::move(*r));
  }
  const File file = [&] {
    if constexpr (fixed_files)
      return fixed_file(0);
    else
      return src.fd;
  }();
  return bench::measure([&]() -> std::uint64_t {
    std::uint64_t done = 0;
    while (done < prm.ops) {
      auto sq = ring.reserve(depth);
      if (!sq) return done;
      for (unsigned i = 0; i < depth; ++i) {
        std::byte* buf = src.buffers + std::size_t{i} * bench::block_size;
        const std::uint64_t off = src.offsets[(done + i) & src.offset_mask];
        if constexpr (FixedBuffers)
          sq->push(
              ops::read_fixed{.file = file, .into = buffer{buf, bench::block_size}, .offset = off},
              i);
        else
          sq->push(ops::read{.file = file, .into = buffer{buf, bench::block_size}, .offset = off},
                   i);
      }
      if (auto r = ring.submit_and_wait(depth); !r || *r != depth) return done;
      unsigned passed = 0;
      ring.for_each_cqe(
          [&](auto c) { passed += bench::read_ok(src, done, c.user_data().value(), c.result()); });
      done += passed;
      if (passed != depth) return done;
    }
    return done;
  });
}

bench::outcome urine_read_any(const bench::params& p) {
  if (p.fixed_files)
    return p.fixed_buffers ? urine_read<fixed_file, true>(p) : urine_read<fixed_file, false>(p);
  return p.fixed_buffers ? urine_read<int, true>(p) : urine_read<int, false>(p);
}

// Each policy set next to the liburing/raw variant it is compared with (same ring-fd mode).
const bench::registrar nop_cases[] = {
    bench::registrar{{"nop", "urine", "regfd", "regfd", urine_nop<ring<registered_ring_fd>>}},
    bench::registrar{{"nop", "urine", "plain", "plain", urine_nop<ring<>>}},
    bench::registrar{
        {"nop", "urine", "push+regfd", "regfd", urine_nop<ring<registered_ring_fd>, false>}},
    bench::registrar{
        {"nop", "urine", "sqe128+regfd", "regfd", urine_nop<ring<sqe128, registered_ring_fd>>}},
    bench::registrar{
        {"nop", "urine", "cqe32+regfd", "regfd", urine_nop<ring<cqe32, registered_ring_fd>>}},
    bench::registrar{
        {"nop", "urine", "sqpoll+regfd", "regfd", urine_nop<ring<sqpoll, registered_ring_fd>>}},
    bench::registrar{{"nop", "urine", "defer+regfd", "regfd",
                      urine_nop<ring<defer_task_run<>, registered_ring_fd>>}},
    bench::registrar{{"nop", "urine", "seq_cst+regfd", "regfd",
                      urine_nop<ring<sequentially_consistent, registered_ring_fd>>}},
};
const bench::registrar read_regfd{{"read", "urine", "regfd", "regfd", urine_read_any}};

}  // namespace
