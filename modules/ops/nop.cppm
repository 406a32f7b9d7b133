// NOP: completes without doing anything, the measure of a ring's own cost; optionally with a
// result the kernel injects, or (nop32) a 32-byte completion carrying two values; NOP128 (6.19)
// is the 128-byte-SQE form.
module;
#include <cstdint>
export module urine.ops:nop;
import urine.abi;

export namespace urine::detail {

inline void prep_nop(abi::sqe& s, opcode op, bool inject, std::int32_t result) noexcept {
  s.opcode = static_cast<std::uint8_t>(op);
  if (inject) {
    s.nop_flags = bits(nop_flags::inject_result);
    s.len = static_cast<std::uint32_t>(result);
  }
}

}  // namespace urine::detail

export namespace urine::ops {

/// NOP. Result: 0, or `inject_result` when `inject` is set (a way to test error paths).
struct nop {
  static constexpr opcode code = opcode::nop;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  bool inject = false;
  std::int32_t inject_result = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_nop(s, code, inject, inject_result);
  }
};

/// NOP posting a 32-byte CQE whose extra words are `extra1` and `extra2` (IORING_NOP_CQE32, 6.18):
/// needs a cqe32 or cqe_mixed ring.
struct nop32 {
  static constexpr opcode code = opcode::nop;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  static constexpr bool needs_big_cqe = true;
  std::uint64_t extra1 = 0;
  std::uint64_t extra2 = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    s.opcode = static_cast<std::uint8_t>(code);
    s.nop_flags = bits(nop_flags::cqe32);
    s.off = extra1;
    s.addr = extra2;
  }
};

/// NOP128 (6.19): a NOP in a 128-byte SQE, only on a ring<sqe128>; a 6.18 kernel refuses the
/// opcode (-EINVAL).
struct nop128 {
  static constexpr opcode code = opcode::nop128;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  static constexpr bool needs_sqe128 = true;
  bool inject = false;
  std::int32_t inject_result = 0;

  inline void prepare(abi::sqe128& s) const noexcept {
    detail::prep_nop(s.base, code, inject, inject_result);
  }
};

}  // namespace urine::ops
