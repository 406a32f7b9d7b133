// Small value types every layer shares: the user data an SQE carries to its CQE, and the indices
// of a registered ("fixed") file and a registered buffer, which are different things from a file
// descriptor and a pointer and so different types. A plain descriptor is an `int`, as everywhere
// in POSIX.
module;
#include <bit>
#include <concepts>
#include <cstdint>
export module urine.abi:handles;

export namespace urine {

/// The 64 bits an SQE carries to its CQE: an integer or a pointer, round-tripped without casts.
class user_data {
 public:
  constexpr user_data() noexcept = default;
  template <std::integral I>
  constexpr user_data(I value) noexcept : value_(static_cast<std::uint64_t>(value)) {}
  template <class T>
  user_data(T* pointer) noexcept : value_(reinterpret_cast<std::uintptr_t>(pointer)) {}

  [[nodiscard]] constexpr std::uint64_t value() const noexcept { return value_; }
  template <class T>
  [[nodiscard]] T* pointer() const noexcept {
    return reinterpret_cast<T*>(static_cast<std::uintptr_t>(value_));
  }
  friend constexpr bool operator==(user_data, user_data) noexcept = default;

 private:
  std::uint64_t value_ = 0;
};

/// An index into the ring's registered file table. Operations given one set IOSQE_FIXED_FILE.
struct fixed_file {
  std::uint32_t index;
  constexpr explicit fixed_file(std::uint32_t i) noexcept : index(i) {}
  friend constexpr bool operator==(fixed_file, fixed_file) noexcept = default;

  /// Never converts: a registered index where the kernel reads a plain descriptor (a directory
  /// of the *at family, epoll_ctl, an eventfd, a ring to message by system call) would be taken
  /// for whatever descriptor has that number. The build stops with a sentence saying what to
  /// pass, where without this conversion it would report "no viable conversion" and a list of
  /// candidates. A template, so that the assertion fires only when the conversion is chosen.
  template <std::same_as<int> Int>
  constexpr operator Int() const noexcept {
    static_assert(false,
                  "fixed_file: a registered-file index is not a descriptor, and here the kernel "
                  "takes only a plain descriptor; pass the int the file was opened as (a "
                  "registered file gets one with ops::fixed_fd_install)");
    return 0;
  }
};

/// An index into the ring's registered buffer table (sqe->buf_index of READ_FIXED, WRITE_FIXED,
/// SEND_ZC with IORING_RECVSEND_FIXED_BUF, ...). The memory an operation names must lie inside
/// the registered buffer with this index.
struct fixed_buffer {
  std::uint16_t index;
  constexpr explicit fixed_buffer(std::uint16_t i) noexcept : index(i) {}
  friend constexpr bool operator==(fixed_buffer, fixed_buffer) noexcept = default;
};

/// What an operation's file field accepts: a plain descriptor (`int`) or a registered index
/// (`fixed_file`, sent with IOSQE_FIXED_FILE). A value rather than a template parameter, so that
/// every operation is a plain aggregate: a misspelt field in `ops::read{.fd = ...}` is then named
/// by the compiler, where deducing a class template would only say that no constructor fits.
class file_target {
 public:
  constexpr file_target(int fd) noexcept : value_(fd) {}
  constexpr file_target(fixed_file f) noexcept
      : value_(static_cast<std::int32_t>(f.index)), fixed_(true) {}

  /// The descriptor, or the registered index: what sqe->fd carries.
  [[nodiscard]] constexpr std::int32_t value() const noexcept { return value_; }
  /// Whether it is a registered index (sent with IOSQE_FIXED_FILE).
  [[nodiscard]] constexpr bool fixed() const noexcept { return fixed_; }

  friend constexpr bool operator==(file_target, file_target) noexcept = default;

 private:
  std::int32_t value_;
  bool fixed_ = false;
};

}  // namespace urine
