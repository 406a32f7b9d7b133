// A completion as the application reads it: a view of one CQE in the ring (valid until the ring's
// head moves past it), with the result as a value or a std::error_code, the flags decoded, and the
// 32-byte extras only on rings whose CQE layout has them.
module;
#include <cstdint>
#include <cstring>
#include <span>
#include <system_error>
#include <type_traits>
export module urine.ring:completion;
import urine.abi;
import :policies;

export namespace urine {

template <class CqeLayout>
class completion {
 public:
  using entry = typename CqeLayout::entry;

  constexpr completion() noexcept = default;
  explicit constexpr completion(const entry* e) noexcept : e_(e) {}

  /// False for the empty completion a peek returns when nothing is ready.
  [[nodiscard]] explicit constexpr operator bool() const noexcept { return e_ != nullptr; }

  [[nodiscard]] urine::user_data user_data() const noexcept { return e_->user_data; }
  /// The operation's result: >= 0 on success (bytes, an fd, ...), -errno on failure.
  [[nodiscard]] std::int32_t result() const noexcept { return e_->res; }
  [[nodiscard]] bool ok() const noexcept { return e_->res >= 0; }
  /// The failure as an error code (empty when result() >= 0).
  [[nodiscard]] std::error_code error() const noexcept { return result_code(e_->res); }
  [[nodiscard]] cqe_flags flags() const noexcept { return cqe_flags(e_->flags); }

  /// F_MORE: a multishot operation will post further completions.
  [[nodiscard]] bool more() const noexcept { return any(flags(), cqe_flags::more); }
  /// F_BUFFER: a provided buffer was used; its id is buffer_id().
  [[nodiscard]] bool has_buffer() const noexcept { return any(flags(), cqe_flags::buffer); }
  [[nodiscard]] std::uint16_t buffer_id() const noexcept {
    return static_cast<std::uint16_t>(e_->flags >> cqe_buffer_shift);
  }
  /// F_SOCK_NONEMPTY: the socket had more data after this receive.
  [[nodiscard]] bool socket_nonempty() const noexcept {
    return any(flags(), cqe_flags::sock_nonempty);
  }
  /// F_NOTIF: a zero-copy send's notification that the buffer is free again.
  [[nodiscard]] bool notification() const noexcept { return any(flags(), cqe_flags::notif); }
  /// F_BUF_MORE: an incrementally consumed buffer still has room; the same id comes again.
  [[nodiscard]] bool buffer_more() const noexcept { return any(flags(), cqe_flags::buf_more); }

  /// On a cqe_mixed ring: whether this entry is a 32-byte one (F_32).
  [[nodiscard]] bool big() const noexcept {
    static_assert(CqeLayout::mixed,
                  "completion::big(): only a cqe_mixed ring has entries of two sizes");
    return any(flags(), cqe_flags::big);
  }

  /// The 16 extra bytes of a 32-byte CQE (on a cqe_mixed ring: only where big() is true).
  [[nodiscard]] std::span<const std::uint64_t, 2> extra() const noexcept {
    static_assert(CqeLayout::has_big,
                  "completion::extra(): 32-byte CQE fields need a cqe32 or cqe_mixed ring");
    return std::span<const std::uint64_t, 2>(reinterpret_cast<const abi::cqe32*>(e_)->big_cqe, 2);
  }

  /// The raw entry (16 bytes, or 32 on a cqe32 ring).
  [[nodiscard]] const entry& raw() const noexcept { return *e_; }

 private:
  const entry* e_ = nullptr;
};

/// A completion copied out of the ring, detached from its slot (see ring::copy_cqes).
template <class CqeLayout>
using copied_cqe = std::conditional_t<CqeLayout::has_big, abi::cqe32, abi::cqe>;

}  // namespace urine
