// The io-wq worker pool behind a ring: CPU affinity (REGISTER_IOWQ_AFF, UNREGISTER_IOWQ_AFF) and
// the most workers per NUMA node (REGISTER_IOWQ_MAX_WORKERS).
module;
#include <sched.h>
#include <cstdint>
export module urine.registration:iowq;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// Run the ring's io-wq workers only on `cpus` (IORING_REGISTER_IOWQ_AFF).
result<void> set_iowq_affinity(ring_ref ring, const ::cpu_set_t& cpus);
/// Let them run anywhere again (IORING_UNREGISTER_IOWQ_AFF).
result<void> clear_iowq_affinity(ring_ref ring);

/// Worker limits: bounded (regular file and block I/O) and unbounded (sockets, pipes, ...).
/// 0 means "leave as it is" when setting.
struct iowq_limits {
  std::uint32_t bounded = 0;
  std::uint32_t unbounded = 0;
  friend bool operator==(const iowq_limits&, const iowq_limits&) = default;
};

/// Set the limits (IORING_REGISTER_IOWQ_MAX_WORKERS); returns the previous ones. The previous
/// values read 0 until the thread's io-wq exists (after its first submission to any ring).
result<iowq_limits> set_iowq_max_workers(ring_ref ring, iowq_limits limits);
/// The current limits (the same call, changing nothing).
result<iowq_limits> iowq_max_workers(ring_ref ring);

}  // namespace urine
