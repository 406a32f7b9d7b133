// What every implementation of every scenario shares: the parameters of one measured run, what a
// run reports, the registry the implementations add their cases to, and the measuring helper that
// brackets the loop with a clock and the allocation counter. Plain C++ (no import), so that the
// liburing and raw implementations compile without urine and urine's without liburing.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

/// Heap allocations made by the calling thread so far (counted by the malloc hooks).
std::uint64_t allocations() noexcept;

/// send(2) until all of `data` is gone, retrying a non-blocking socket that is momentarily full.
bool send_all(int fd, const std::byte* data, std::size_t size);

/// A file prepared for the read scenario, and the order in which to read it.
struct read_source {
  int fd = -1;                             ///< opened for this run (O_DIRECT with --direct)
  const std::uint64_t* offsets = nullptr;  ///< block-aligned, pseudo-random, same for every impl
  std::size_t offset_mask = 0;             ///< offsets has offset_mask + 1 entries
  std::byte* buffers = nullptr;            ///< depth × block_size, page aligned
};

inline constexpr std::uint32_t block_size = 4096;

/// The first 8 bytes of every block of the read file hold the block's index: how a read is checked.
inline bool block_ok(const std::byte* buffer, std::uint64_t offset) noexcept {
  std::uint64_t stored;
  __builtin_memcpy(&stored, buffer, sizeof stored);
  return stored == offset / block_size;
}

/// A read completion is right when it read a whole block and the block is the one asked for:
/// slot `slot` of the batch that started at operation `first` (its buffer is slot × block_size).
inline bool read_ok(const read_source& src, std::uint64_t first, std::uint64_t slot,
                    int res) noexcept {
  return res == static_cast<int>(block_size) &&
         block_ok(src.buffers + slot * block_size, src.offsets[(first + slot) & src.offset_mask]);
}

/// The parameters of one measured run.
struct params {
  std::uint64_t ops = 0;       ///< operations (NOPs, reads, echoed messages) to complete
  unsigned batch = 1;          ///< nop: NOPs per submit; read: reads per submit (queue depth)
  unsigned connections = 1;    ///< echo
  unsigned msg_size = 64;      ///< echo: bytes per message
  bool fixed_files = false;    ///< read: the file as a registered file
  bool fixed_buffers = false;  ///< read: READ_FIXED into registered buffers
  read_source read{};
  int listen_fd = -1;  ///< echo: a listening socket on 127.0.0.1
};

/// What a run reports. The harness fills `seconds` for echo (the client measures).
struct outcome {
  std::uint64_t ops = 0;          ///< operations completed and verified
  double seconds = 0;             ///< wall time of the measured loop
  std::uint64_t allocations = 0;  ///< heap allocations during the measured loop
  long long cq_overflows = -1;    ///< echo: the kernel's CQ overflow count (-1: no CQ)
  std::string error;              ///< set when setup failed or a result was wrong
};

using case_fn = outcome (*)(const params&);

/// One implementation of one scenario. `peer` names the liburing/raw variant it is compared with.
struct bench_case {
  std::string scenario;  ///< nop, read, echo
  std::string impl;      ///< urine, liburing, raw, epoll
  std::string variant;   ///< policy set or configuration (regfd, plain, sqe128, ...)
  std::string peer;      ///< the variant of liburing/raw to compute ratios against
  case_fn run;
};

std::vector<bench_case>& registry();

/// Registers a case at static-initialisation time: `static bench::registrar r{{...}};`.
struct registrar {
  explicit registrar(bench_case c) { registry().push_back(std::move(c)); }
};

/// User and system CPU time, in seconds.
struct cpu_time {
  double user = 0;
  double sys = 0;
};

/// getrusage(2) of `who` (RUSAGE_THREAD: the calling thread; RUSAGE_SELF: the process). Read
/// around a whole run, outside the measured loop: a field more in `outcome` was enough to change
/// the compiler's register choices in the loops being counted.
inline cpu_time cpu_now(int who) noexcept {
  rusage ru{};
  getrusage(who, &ru);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}

/// Runs `loop` (which returns the number of operations it completed and verified) between two
/// clock readings and two allocation-counter readings.
template <class Loop>
outcome measure(Loop&& loop) {
  outcome out;
  const std::uint64_t allocs = allocations();
  const auto start = std::chrono::steady_clock::now();
  out.ops = loop();
  const auto stop = std::chrono::steady_clock::now();
  out.allocations = allocations() - allocs;
  out.seconds = std::chrono::duration<double>(stop - start).count();
  return out;
}

/// An outcome carrying only an error: what a case returns when its setup fails.
inline outcome failed(std::string why) {
  outcome out;
  out.error = std::move(why);
  return out;
}

}  // namespace bench
