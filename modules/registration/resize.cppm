// Resizing a live ring (REGISTER_RESIZE_RINGS, 6.13): new SQ and CQ sizes without tearing the
// ring down. The kernel copies prepared SQEs and unreaped CQEs into the new rings, so nothing in
// flight is lost; the ring object re-maps and re-reads its pointers (detail::resize_ring).
module;
#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>
export module urine.registration:resize;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// Give `ring` `sq_entries` SQ entries and `cq_entries` CQ entries (0: twice the SQ). Pointers
/// into the old rings (SQEs from get_sqe(), unconsumed completions) are invalid afterwards.
/// Shrinking below what is in flight fails with EOVERFLOW and leaves the ring as it was.
template <class Config>
result<void> resize_rings(basic_ring<Config>& ring, std::uint32_t sq_entries,
                          std::uint32_t cq_entries = 0) {
  static_assert(
      basic_ring<Config>::is_deferred,
      "resize_rings(): the kernel resizes only DEFER_TASKRUN rings (ring<defer_task_run<>, ...>)");
  auto resized = detail::resize_ring(ring, sq_entries, cq_entries);
  // A kernel before 6.13 refuses the opcode itself with EINVAL: say that, not the ring's shape.
  if (!resized && resized.error().code() == std::errc::invalid_argument)
    return detail::refused(register_opcode::register_resize_rings, -EINVAL,
                           std::string(resized.error().context()));
  return resized;
}

}  // namespace urine
