// Memory an operation reads from or writes into, as (pointer, size) views that convert from any
// contiguous lvalue range of trivially copyable elements. They never own: the memory must stay
// valid until the operation's completion arrives.
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
}  // namespace urine::detail

export namespace urine {

/// Writable memory: where a read or receive puts its bytes.
class buffer {
 public:
  constexpr buffer() noexcept = default;
  constexpr buffer(void* data, std::size_t size) noexcept : data_(static_cast<std::byte*>(data)), size_(size) {}
  template <detail::byte_range R>
    requires(!std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>)
  constexpr buffer(R& range) noexcept
      : data_(reinterpret_cast<std::byte*>(std::ranges::data(range))),
        size_(std::ranges::size(range) * sizeof(std::ranges::range_value_t<R>)) {}

  [[nodiscard]] constexpr std::byte* data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] inline std::uint64_t address() const noexcept { return reinterpret_cast<std::uintptr_t>(data_); }
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
  template <detail::byte_range R>
  constexpr const_buffer(const R& range) noexcept
      : data_(reinterpret_cast<const std::byte*>(std::ranges::data(range))),
        size_(std::ranges::size(range) * sizeof(std::ranges::range_value_t<R>)) {}

  [[nodiscard]] constexpr const std::byte* data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] inline std::uint64_t address() const noexcept { return reinterpret_cast<std::uintptr_t>(data_); }
  [[nodiscard]] inline std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace urine
