// The error model: the kernel speaks negative errno values; urine turns them into std::error_code
// (system category), and where the library knows what it asked for (setup, registration) it adds
// a sentence saying what was refused, so a failure reads as a diagnosis, not just "Invalid
// argument".
module;
#include <cerrno>
#include <expected>
#include <string>
#include <system_error>
#include <utility>
export module urine.abi:errors;

export namespace urine {

/// errno → std::error_code in the system category (compares equal to std::errc values).
[[nodiscard]] inline std::error_code errno_code(int errno_value) noexcept {
  return {errno_value, std::system_category()};
}

/// A kernel return value (-errno) → std::error_code; 0 and positive values give no error. The
/// kernel's internal restart codes (ERESTARTSYS 512 ... ERESTART_RESTARTBLOCK 516), which some
/// kernels (6.1, 6.12) post for a blocking request a signal or a cancel interrupted, read as
/// EINTR: they are no errno a program can name.
[[nodiscard]] inline std::error_code result_code(int kernel_result) noexcept {
  if (kernel_result >= 0) return {};
  if (kernel_result <= -512 && kernel_result >= -516) [[unlikely]]
    return errno_code(EINTR);
  return errno_code(-kernel_result);
}

/// What the ring refuses itself, before the kernel is asked, because the running kernel lacks
/// what the call needs. The message names the feature and the kernel that brought it.
enum class ring_errc {
  timed_wait_needs_ext_arg = 1,  ///< IORING_FEAT_EXT_ARG, 5.11
};

/// The category of ring_errc (its messages name the feature and the kernel; every value compares
/// equal to std::errc::function_not_supported). Cold code: defined in errors.cpp.
[[nodiscard]] const std::error_category& ring_category() noexcept;

/// A ring_errc as a std::error_code in ring_category().
[[nodiscard]] inline std::error_code make_error_code(ring_errc e) noexcept {
  return {static_cast<int>(e), ring_category()};
}

/// A failure of a setup or registration call: the kernel's error code plus what was asked.
class error {
 public:
  error() = default;
  inline error(std::error_code code, std::string context)
      : code_(code), context_(std::move(context)) {}
  explicit inline error(std::error_code code) : code_(code) {}

  [[nodiscard]] inline const std::error_code& code() const noexcept { return code_; }
  /// What urine asked the kernel for, in words ("IORING_SETUP_SQPOLL with sq_thread_cpu 7").
  [[nodiscard]] inline const std::string& context() const noexcept { return context_; }
  /// "<context>: <system message>", or the system message alone.
  [[nodiscard]] inline std::string message() const {
    return context_.empty() ? code_.message() : context_ + ": " + code_.message();
  }

  friend inline bool operator==(const error& e, std::errc c) noexcept { return e.code_ == c; }
  friend inline bool operator==(const error& e, const std::error_code& c) noexcept {
    return e.code_ == c;
  }

 private:
  std::error_code code_;
  std::string context_;
};

/// The result of a setup or registration call.
template <class T>
using result = std::expected<T, error>;

/// An error from a kernel result with context, for `return std::unexpected(...)`.
[[nodiscard]] inline std::unexpected<error> fail(int kernel_result, std::string context) {
  return std::unexpected(error(result_code(kernel_result), std::move(context)));
}
[[nodiscard]] inline std::unexpected<error> fail(std::errc code, std::string context) {
  return std::unexpected(error(std::make_error_code(code), std::move(context)));
}

}  // namespace urine
