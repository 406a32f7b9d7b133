// Time: TIMEOUT (relative or absolute, three clocks, completion count, multishot),
// TIMEOUT_REMOVE (remove or update a timeout or a link timeout), LINK_TIMEOUT. The timespec is
// the caller's: the kernel copies it when it prepares the request, so it must outlive the push
// until the SQE is submitted (with SQPOLL: consumed).
module;
#include <cstdint>
export module urine.ops:time;
import urine.abi;
import :prep;

export namespace urine::detail {

inline void prep_timeout(abi::sqe& s, opcode op, std::uint64_t addr, std::uint64_t off,
                         timeout_flags flags) noexcept {
  prep_rw(s, op, -1, addr, op == opcode::timeout_remove ? 0 : 1, off);
  s.timeout_flags = bits(flags);
}

}  // namespace urine::detail

export namespace urine::ops {

/// TIMEOUT: complete with -ETIME when `*after` passes (timeout_flags::abs: at that time;
/// boottime/realtime: on that clock), or with 0 once `count` other completions have been posted
/// (0: time only). timeout_flags::multishot fires every `*after`, `count` times (0: until
/// removed), each completion with F_MORE but the last.
struct timeout {
  static constexpr opcode code = opcode::timeout;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  const abi::kernel_timespec* after;
  std::uint32_t count = 0;
  timeout_flags flags = timeout_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_timeout(s, code, detail::address_of(after), count, flags);
  }
};

/// LINK_TIMEOUT: pushed right after an operation with IOSQE_IO_LINK, cancel that operation
/// (-ECANCELED) if it has not completed by `*after`; this completion is then -ETIME, else
/// -ECANCELED. When the timer fires just as the operation finishes, the cancellation finds
/// nothing to cancel and this completion carries that attempt's result (-ENOENT, -EALREADY).
struct link_timeout {
  static constexpr opcode code = opcode::link_timeout;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  const abi::kernel_timespec* after;
  timeout_flags flags = timeout_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_timeout(s, code, detail::address_of(after), 0, flags);
  }
};

/// TIMEOUT_REMOVE: cancel the timeout whose user data is `target` (it completes -ECANCELED).
struct timeout_remove {
  static constexpr opcode code = opcode::timeout_remove;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  user_data target;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_timeout(s, code, target.value(), 0, timeout_flags::none);
  }
};

/// TIMEOUT_REMOVE as an update: re-arm timeout `target` (or, with `link`, a link timeout) to
/// `*after`; `flags` may add abs and a clock.
struct timeout_update {
  static constexpr opcode code = opcode::timeout_remove;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  user_data target;
  const abi::kernel_timespec* after;
  timeout_flags flags = timeout_flags::none;
  bool link = false;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_timeout(s, code, target.value(), detail::address_of(after),
                         // A link update still needs UPDATE: without it the kernel reads a removal.
                         flags | timeout_flags::update |
                             (link ? timeout_flags::link_timeout_update : timeout_flags::none));
  }
};

}  // namespace urine::ops
