// Time: sleep_for / sleep_until as one TIMEOUT each, and with_timeout, which bounds a single
// operation by a LINK_TIMEOUT linked to it (IOSQE_IO_LINK): both SQEs go in one submit, and
// no timer thread exists anywhere. The kernel copies the timespec when it prepares the SQE; until
// then it lives in the awaiter, in the frame.
module;
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <utility>
export module urine.async:time;
import urine.abi;
import urine.ops;
import :core;
import :runtime;
import :stop;

export namespace urine::async::detail {

/// TIMEOUT with its timespec inside the operation, so the awaiter (in the frame) holds it.
struct sleep_op {
  static constexpr opcode code = opcode::timeout;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  abi::kernel_timespec at;
  timeout_flags flags = timeout_flags::none;
  std::uint32_t count = 0;  ///< multishot: how many times (0: until cancelled)

  inline void prepare(abi::sqe& s) const noexcept {
    ops::timeout{.after = &at, .count = count, .flags = flags}.prepare(s);
  }
};

template <class Clock>
[[nodiscard]] constexpr timeout_flags clock_flags() noexcept {
  if constexpr (std::is_same_v<Clock, std::chrono::system_clock>)
    return timeout_flags::abs | timeout_flags::realtime;
  else {
    static_assert(std::is_same_v<Clock, std::chrono::steady_clock>,
                  "sleep_until(): the kernel's timeouts run on the steady (CLOCK_MONOTONIC) or "
                  "the system (CLOCK_REALTIME) clock");
    return timeout_flags::abs;
  }
}

/// An absolute TIMEOUT at `t`.
template <class Clock, class Duration>
[[nodiscard]] inline sleep_op until(std::chrono::time_point<Clock, Duration> t) noexcept {
  return sleep_op{
      .at = to_timespec(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch())),
      .flags = clock_flags<Clock>()};
}

}  // namespace urine::async::detail

export namespace urine::async {

/// A sleep: resumes with no error when the time has come, ECANCELED when a stop request
/// cancelled it first.
template <class Runtime, class Token = void>
class sleep_awaiter : public operation<Runtime, detail::sleep_op, Token> {
 public:
  using operation<Runtime, detail::sleep_op, Token>::operation;
  inline std::error_code await_resume() noexcept {
    const auto r = operation<Runtime, detail::sleep_op, Token>::await_resume();
    return r.raw() == -ETIME ? std::error_code{} : r.error();
  }
};

/// Suspend for `d` (one TIMEOUT).
template <class Runtime>
[[nodiscard]] inline sleep_awaiter<Runtime> sleep_for(Runtime& rt,
                                                      std::chrono::nanoseconds d) noexcept {
  return sleep_awaiter<Runtime>(rt, detail::sleep_op{.at = to_timespec(d)});
}
/// The same, cut short (ECANCELED) by a stop request on `token`.
template <class Runtime, stop_token_kind Token>
[[nodiscard]] inline sleep_awaiter<Runtime, Token> sleep_for(Runtime& rt,
                                                             std::chrono::nanoseconds d,
                                                             Token token) noexcept {
  return sleep_awaiter<Runtime, Token>(rt, detail::sleep_op{.at = to_timespec(d)},
                                       std::move(token));
}

/// Suspend until `t` on the steady or the system clock (an absolute TIMEOUT).
template <class Runtime, class Clock, class Duration>
[[nodiscard]] inline sleep_awaiter<Runtime> sleep_until(
    Runtime& rt, std::chrono::time_point<Clock, Duration> t) noexcept {
  return sleep_awaiter<Runtime>(rt, detail::until(t));
}
/// The same, cut short (ECANCELED) by a stop request on `token`.
template <class Runtime, class Clock, class Duration, stop_token_kind Token>
[[nodiscard]] inline sleep_awaiter<Runtime, Token> sleep_until(
    Runtime& rt, std::chrono::time_point<Clock, Duration> t, Token token) noexcept {
  return sleep_awaiter<Runtime, Token>(rt, detail::until(t), std::move(token));
}

/// Await `op`, cancelled by the kernel if it has not completed within `d`: the operation and a
/// LINK_TIMEOUT linked to it, in one submit. Resumes once both have posted their completions, with
/// the operation's result, or ETIME when the timer cancelled it.
template <class Runtime, class Op>
[[nodiscard]] inline operation<Runtime, detail::timed<Op>> with_timeout(
    Runtime& rt, Op op, std::chrono::nanoseconds d) noexcept {
  return operation<Runtime, detail::timed<Op>>(rt,
                                               detail::timed<Op>{std::move(op), to_timespec(d)});
}
/// The same, also cancelled by a stop request on `token`.
template <class Runtime, class Op, stop_token_kind Token>
[[nodiscard]] inline operation<Runtime, detail::timed<Op>, Token> with_timeout(
    Runtime& rt, Op op, std::chrono::nanoseconds d, Token token) noexcept {
  return operation<Runtime, detail::timed<Op>, Token>(
      rt, detail::timed<Op>{std::move(op), to_timespec(d)}, std::move(token));
}

}  // namespace urine::async
