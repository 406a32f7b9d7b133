// ASYNC_CANCEL: cancel in-flight requests matched by user data, by file (plain or registered),
// by opcode, or any request at all; one match or all of them.
module;
#include <cstdint>
export module urine.ops:cancel;
import urine.abi;
import :prep;

export namespace urine::ops {

/// What a cancellation matches. Criteria combine with `&&` (user data and opcode, file and
/// opcode); `any()` matches every request and combines with nothing.
class cancel_match {
 public:
  [[nodiscard]] static constexpr cancel_match of(user_data u) noexcept {
    return {cancel_flags::userdata, u.value(), 0, 0};
  }
  [[nodiscard]] static constexpr cancel_match of_file(int fd) noexcept {
    return {cancel_flags::fd, 0, fd, 0};
  }
  [[nodiscard]] static constexpr cancel_match of_file(fixed_file f) noexcept {
    return {cancel_flags::fd | cancel_flags::fd_fixed, 0, static_cast<std::int32_t>(f.index), 0};
  }
  [[nodiscard]] static constexpr cancel_match of_opcode(opcode op) noexcept {
    return {cancel_flags::op, 0, 0, static_cast<std::uint32_t>(op)};
  }
  [[nodiscard]] static constexpr cancel_match any() noexcept {
    return {cancel_flags::any, 0, 0, 0};
  }

  [[nodiscard]] friend constexpr cancel_match operator&&(cancel_match a, cancel_match b) noexcept {
    return {a.flags_ | b.flags_, a.data_ | b.data_, a.fd_ | b.fd_, a.op_ | b.op_};
  }

  [[nodiscard]] constexpr cancel_flags flags() const noexcept { return flags_; }
  [[nodiscard]] constexpr std::uint64_t data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::int32_t fd() const noexcept { return fd_; }
  [[nodiscard]] constexpr std::uint32_t op() const noexcept { return op_; }

 private:
  constexpr cancel_match(cancel_flags f, std::uint64_t d, std::int32_t fd,
                         std::uint32_t op) noexcept
      : flags_(f), data_(d), fd_(fd), op_(op) {}
  cancel_flags flags_;
  std::uint64_t data_;
  std::int32_t fd_;
  std::uint32_t op_;
};

/// ASYNC_CANCEL: cancel the request(s) `match` selects (each completes -ECANCELED, or -EINTR if
/// it was already running and interrupted). Result: 0 (one found), the number cancelled with
/// `all`, -ENOENT when nothing matched, -EALREADY when the match was already running.
struct async_cancel {
  static constexpr opcode code = opcode::async_cancel;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  cancel_match match;
  bool all = false;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, match.fd(), match.data(), match.op(), 0);
    s.cancel_flags = bits(sent_flags());
  }

  /// The cancel flags the request carries. A plain user-data match is the kernel's default and
  /// goes without IORING_ASYNC_CANCEL_USERDATA: kernels before 5.19 refuse any flag (EINVAL), and
  /// the flag is needed only beside other criteria, which those kernels lack anyway.
  [[nodiscard]] constexpr cancel_flags sent_flags() const noexcept {
    const cancel_flags criteria =
        match.flags() == cancel_flags::userdata ? cancel_flags::none : match.flags();
    return criteria | (all ? cancel_flags::all : cancel_flags::none);
  }
};

}  // namespace urine::ops
