// Every legal policy combination, with a user-defined memory-order strategy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "combinations.hpp"
import urine;
import urine.test_support;

// A memory-order policy written outside the library, as a user would: relaxed accesses with
// explicit fences. It proves that ring<> takes any type modelling urine::memory_order_policy.
namespace urine::test {

struct fenced_order {
  using axis = urine::axis::memory_order;
  static std::uint32_t load_kernel_index(const std::uint32_t* p) noexcept {
    const std::uint32_t v =
        std::atomic_ref(*const_cast<std::uint32_t*>(p)).load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    return v;
  }
  static std::uint32_t load_word(const std::uint32_t* p) noexcept {
    return std::atomic_ref(*const_cast<std::uint32_t*>(p)).load(std::memory_order_relaxed);
  }
  static void publish(std::uint32_t* p, std::uint32_t v) noexcept {
    std::atomic_thread_fence(std::memory_order_release);
    std::atomic_ref(*p).store(v, std::memory_order_relaxed);
  }
  static void store_load_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }
};
static_assert(urine::memory_order_policy<fenced_order>);

}  // namespace urine::test

// A policy of one's own gets its name in reports by specialising urine::policy_name.
template <>
inline constexpr std::string_view urine::policy_name<urine::test::fenced_order> = "fenced_order";

#define URINE_MEMORY_ORDER urine::test::fenced_order
#define URINE_SUITE ring_combinations_user_order
#include "combinations_test.inc"
