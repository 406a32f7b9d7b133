// Bitwise operators for the scoped enums that model kernel flag sets, so that flags combine with
// `|` while staying distinct types: a setup flag can never be passed where an SQE flag belongs.
module;
#include <type_traits>
#include <utility>
export module urine.abi:bitmask;

export namespace urine {

/// Opt-in: specialise to true for a scoped enum whose values are bits.
template <class E>
inline constexpr bool is_bitmask = false;

template <class E>
concept bitmask = std::is_enum_v<E> && is_bitmask<E>;

template <bitmask E>
[[nodiscard]] constexpr E operator|(E a, E b) noexcept {
  return E(std::to_underlying(a) | std::to_underlying(b));
}
template <bitmask E>
[[nodiscard]] constexpr E operator&(E a, E b) noexcept {
  return E(std::to_underlying(a) & std::to_underlying(b));
}
template <bitmask E>
[[nodiscard]] constexpr E operator^(E a, E b) noexcept {
  return E(std::to_underlying(a) ^ std::to_underlying(b));
}
template <bitmask E>
[[nodiscard]] constexpr E operator~(E a) noexcept {
  return E(~std::to_underlying(a));
}
template <bitmask E>
constexpr E& operator|=(E& a, E b) noexcept {
  return a = a | b;
}
template <bitmask E>
constexpr E& operator&=(E& a, E b) noexcept {
  return a = a & b;
}

/// True when every bit of `wanted` is set in `set`.
template <bitmask E>
[[nodiscard]] constexpr bool has(E set, E wanted) noexcept {
  return (std::to_underlying(set) & std::to_underlying(wanted)) == std::to_underlying(wanted);
}

/// True when `set` and `other` share at least one bit.
template <bitmask E>
[[nodiscard]] constexpr bool any(E set, E other) noexcept {
  return (std::to_underlying(set) & std::to_underlying(other)) != 0;
}

template <bitmask E>
[[nodiscard]] constexpr auto bits(E set) noexcept {
  return std::to_underlying(set);
}

}  // namespace urine
