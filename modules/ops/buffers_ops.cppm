// Provided buffers, the legacy (non-ring) way: PROVIDE_BUFFERS hands the kernel a run of equal
// buffers for a group, REMOVE_BUFFERS takes them back. Operations with a buffer_group then let
// the kernel pick one per completion.
module;
#include <cstdint>
export module urine.ops:buffers_ops;
import urine.abi;
import :buffers;
import :prep;

export namespace urine::ops {

/// PROVIDE_BUFFERS: split `memory` into `count` buffers of `size` bytes each, ids `first_id`,
/// `first_id` + 1, ..., in group `group`. Result: 0 (older kernels: the count).
struct provide_buffers {
  static constexpr opcode code = opcode::provide_buffers;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  buffer memory;
  std::uint32_t size;
  std::uint32_t count;
  std::uint16_t group;
  std::uint16_t first_id = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, static_cast<int>(count), memory.address(), size, first_id);
    s.buf_group = group;
  }
};

/// REMOVE_BUFFERS: take back up to `count` unused buffers of group `group`. Result: how many.
struct remove_buffers {
  static constexpr opcode code = opcode::remove_buffers;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  std::uint32_t count;
  std::uint16_t group;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, static_cast<int>(count), 0, 0, 0);
    s.buf_group = group;
  }
};

}  // namespace urine::ops
