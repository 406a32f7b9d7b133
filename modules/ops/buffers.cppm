// Memory an operation reads from or writes into, as (pointer, size) views that convert from any
// contiguous range of trivially copyable elements whose memory outlives the expression: an lvalue
// (array, string literal, container variable) or a view of memory owned elsewhere (string_view,
// span). They never own: the memory must stay valid until the operation's completion arrives, so
// a temporary container (std::string, std::vector, std::array) is refused at compile time, with
// the reason as the diagnostic.
module;
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <type_traits>
export module urine.ops:buffers;

namespace urine::detail {
template <class R>
concept byte_range = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                     std::is_trivially_copyable_v<std::ranges::range_value_t<R>>;

/// Memory that outlives the expression naming it: an lvalue, or a view (borrowed range).
template <class R>
concept lasting_byte_range = byte_range<R> && std::ranges::borrowed_range<R>;

/// A temporary that owns its elements: destroyed at the end of the statement, before the kernel
/// reads or writes the memory.
template <class R>
concept temporary_byte_owner = byte_range<R> && !std::ranges::borrowed_range<R>;

/// False for every type, but only known once R is: a static_assert on it fires only in the
/// overload that is actually chosen.
template <class R>
inline constexpr bool refused = false;

template <class R>
concept writable_byte_range =
    !std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>;
}  // namespace urine::detail

export namespace urine {

/// Writable memory: where a read or receive puts its bytes.
class buffer {
 public:
  constexpr buffer() noexcept = default;
  constexpr buffer(void* data, std::size_t size) noexcept
      : data_(static_cast<std::byte*>(data)), size_(size) {}
  template <detail::lasting_byte_range R>
    requires detail::writable_byte_range<R>
  constexpr buffer(R&& range) noexcept
      : data_(reinterpret_cast<std::byte*>(std::ranges::data(range))),
        size_(std::ranges::size(range) * sizeof(std::ranges::range_value_t<R>)) {}
  // Refused by a static_assert rather than `= delete`: a deleted constructor makes class template
  // argument deduction of an operation (ops::read{fd, temporary}) fail with no reason given.
  template <detail::temporary_byte_owner R>
  buffer(R&&) noexcept {
    static_assert(detail::refused<R>,
                  "buffer: this temporary container is destroyed at the end of the statement, "
                  "before the kernel writes into it; keep it in a variable that lives until the "
                  "completion");
  }

  [[nodiscard]] constexpr std::byte* data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] inline std::uint64_t address() const noexcept {
    return reinterpret_cast<std::uintptr_t>(data_);
  }
  [[nodiscard]] inline std::span<std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Read-only memory: what a write or send takes its bytes from.
class const_buffer {
 public:
  constexpr const_buffer() noexcept = default;
  constexpr const_buffer(const void* data, std::size_t size) noexcept
      : data_(static_cast<const std::byte*>(data)), size_(size) {}
  constexpr const_buffer(buffer b) noexcept : data_(b.data()), size_(b.size()) {}
  template <detail::lasting_byte_range R>
  constexpr const_buffer(R&& range) noexcept
      : data_(reinterpret_cast<const std::byte*>(std::ranges::data(range))),
        size_(std::ranges::size(range) * sizeof(std::ranges::range_value_t<R>)) {}
  template <detail::temporary_byte_owner R>
  const_buffer(R&&) noexcept {
    static_assert(detail::refused<R>,
                  "const_buffer: this temporary container is destroyed at the end of the "
                  "statement, before the kernel reads it; keep it in a variable that lives until "
                  "the completion");
  }

  [[nodiscard]] constexpr const std::byte* data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] inline std::uint64_t address() const noexcept {
    return reinterpret_cast<std::uintptr_t>(data_);
  }
  [[nodiscard]] inline std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace urine
