// Resizing a created ring's queues (declared in setup.cppm). A unit of its own, so that a program
// that never resizes links none of it from the static library.
module;
#include <cerrno>
#include <cstdint>
#include <expected>
#include <string>
#include <system_error>
module urine.ring;
import urine.abi;

namespace urine::detail {

result<void> ring_core::resize(std::uint32_t sq_entries, std::uint32_t cq_entries,
                               const ring_shape& shape) {
  const auto flags = setup_flags(params_.flags);
  if (!is_open())
    return fail(std::errc::bad_file_descriptor, "IORING_REGISTER_RESIZE_RINGS: the ring is closed");
  if (has(flags, setup_flags::no_mmap))
    return fail(std::errc::operation_not_supported,
                "IORING_REGISTER_RESIZE_RINGS of a NO_MMAP ring: the new rings would need new "
                "caller memory");
  if (sq_entries == 0 || sq_entries > max_sq_entries)
    return fail(std::errc::invalid_argument, "IORING_REGISTER_RESIZE_RINGS: SQ entries " +
                                                 std::to_string(sq_entries) + " not in 1 ... " +
                                                 std::to_string(max_sq_entries));
  if (cq_entries > max_cq_entries || (cq_entries != 0 && cq_entries < sq_entries))
    return fail(std::errc::invalid_argument, "IORING_REGISTER_RESIZE_RINGS: CQ entries " +
                                                 std::to_string(cq_entries) + " not in " +
                                                 std::to_string(sq_entries) + " ... " +
                                                 std::to_string(max_cq_entries));
  abi::params p{};
  p.sq_entries = sq_entries;
  if (cq_entries != 0) {
    p.flags = bits(setup_flags::cqsize);
    p.cq_entries = cq_entries;
  }
  const std::string asked =
      "IORING_REGISTER_RESIZE_RINGS to " + std::to_string(sq_entries) + " SQ / " +
      std::to_string(cq_entries == 0 ? 2 * sq_entries : cq_entries) + " CQ entries";
  const int ret = do_register(register_opcode::register_resize_rings, &p, 1);
  if (ret < 0) {
    if (ret == -EOVERFLOW)
      return fail(ret, asked + ": more entries are in flight than the new rings hold");
    if (ret == -EINVAL)
      return fail(ret, asked + ": refused (the kernel resizes only DEFER_TASKRUN rings)");
    return fail(ret, asked);
  }
  // The kernel now serves the new rings at the same mmap offsets; the old mappings only keep
  // dead pages alive. The new ones are mapped first, so a failure leaves nothing half-replaced.
  p.flags = params_.flags;
  p.features = params_.features;
  auto mapped = map_areas(p, flags, shape.sqe_size, shape.cqe_size);
  if (!mapped) {
    release();
    return std::unexpected(
        error(mapped.error().code(),
              asked + ": the kernel resized the rings but " + mapped.error().context() +
                  " failed, so the ring is closed (its old rings are no longer served)"));
  }
  unmap(areas_);
  areas_ = *mapped;
  params_.sq_entries = p.sq_entries;
  params_.cq_entries = p.cq_entries;
  params_.sq_off = p.sq_off;
  params_.cq_off = p.cq_off;
  // The new SQ index array starts zeroed; the kernel copied SQEs by slot, so identity again.
  fill_sq_array(areas_.sq_ring, params_, flags);
  return {};
}

}  // namespace urine::detail
