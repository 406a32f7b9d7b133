// Turns ring<P...>'s policy list into one configuration: each axis takes the policy given for it
// or its default, order does not matter, and incoherent lists stop compilation with a sentence
// that says what is wrong (is_legal asks the same rules without failing). Because ring<P...> is an
// alias of basic_ring<config>, two lists naming the same choices in another order are the same
// type.
module;
#include <cstdint>
#include <string_view>
#include <type_traits>
export module urine.ring:config;
import urine.abi;
import :policies;

namespace urine::detail {

template <class Axis, class... P>
inline constexpr unsigned count_axis =
    (0u + ... + (std::is_same_v<typename P::axis, Axis> ? 1u : 0u));

template <class Axis, class Default, class... P>
struct pick_axis {
  using type = Default;
};
template <class Axis, class Default, class First, class... Rest>
struct pick_axis<Axis, Default, First, Rest...> {
  using type = std::conditional_t<std::is_same_v<typename First::axis, Axis>, First,
                                  typename pick_axis<Axis, Default, Rest...>::type>;
};

/// The policy chosen for an axis, or the axis's default.
template <class... P>
using sqe_layout_of = typename pick_axis<axis::sqe_layout, sqe64, P...>::type;
template <class... P>
using cqe_layout_of = typename pick_axis<axis::cqe_layout, cqe16, P...>::type;
template <class... P>
using polling_of = typename pick_axis<axis::polling, interrupt, P...>::type;
template <class... P>
using memory_order_of = typename pick_axis<axis::memory_order, acquire_release, P...>::type;
template <class... P>
using task_run_of = typename pick_axis<axis::task_run, default_task_run, P...>::type;
template <class... P>
using ring_fd_of = typename pick_axis<axis::ring_fd, plain_ring_fd, P...>::type;

// The rules of a policy list, each named once: resolve_config asserts them one by one (each with
// its sentence) and is_legal is their conjunction. The rules after all_policies read P::axis, so
// they are asked only of lists of policies.
template <class... P>
inline constexpr bool all_policies = (ring_policy<P> && ...);
template <class Axis, class... P>
inline constexpr bool at_most_one = count_axis<Axis, P...> <= 1;
template <class... P>
inline constexpr bool one_per_axis =
    at_most_one<axis::sqe_layout, P...> && at_most_one<axis::cqe_layout, P...> &&
    at_most_one<axis::polling, P...> && at_most_one<axis::memory_order, P...> &&
    at_most_one<axis::task_run, P...> && at_most_one<axis::ring_fd, P...>;
template <class... P>
inline constexpr bool memory_order_usable = memory_order_policy<memory_order_of<P...>>;
/// The kernel's SQ thread runs completion work itself: it refuses COOP_TASKRUN and DEFER_TASKRUN.
template <class... P>
inline constexpr bool task_run_fits_polling =
    !(polling_of<P...>::sq_thread && task_run_of<P...>::flags != setup_flags::none &&
      task_run_of<P...>::flags != setup_flags::single_issuer);

}  // namespace urine::detail

export namespace urine {

/// The resolved configuration of a ring: one policy per axis.
template <class SqeLayout, class CqeLayout, class Polling, class MemoryOrder, class TaskRun,
          class RingFd>
struct ring_config {
  using sqe_layout = SqeLayout;
  using cqe_layout = CqeLayout;
  using polling = Polling;
  using memory_order = MemoryOrder;
  using task_run = TaskRun;
  using ring_fd = RingFd;

  /// The setup flags this configuration fixes at compile time.
  static constexpr setup_flags flags =
      SqeLayout::flags | CqeLayout::flags | Polling::flags | TaskRun::flags;
};

/// Whether ring<P...> compiles: every argument a policy, at most one per axis, a usable
/// memory-order policy, and a task-run mode the polling mode allows.
template <class... P>
concept is_legal = detail::all_policies<P...> && detail::one_per_axis<P...> &&
                   detail::memory_order_usable<P...> && detail::task_run_fits_polling<P...>;

template <class... P>
struct resolve_config {
  static_assert(detail::all_policies<P...>,
                "ring<...>: every argument must be a ring policy: sqe64, sqe128, cqe16, cqe32, "
                "cqe_mixed, interrupt, sqpoll, iopoll, hybrid_iopoll, acquire_release, "
                "sequentially_consistent, default_task_run, coop_task_run<>, single_issuer, "
                "defer_task_run<>, plain_ring_fd, registered_ring_fd, or your own memory-order "
                "policy");
  static_assert(detail::at_most_one<axis::sqe_layout, P...>,
                "ring<...>: more than one SQE layout given; choose one of sqe64, sqe128");
  static_assert(detail::at_most_one<axis::cqe_layout, P...>,
                "ring<...>: more than one CQE layout given; choose one of cqe16, cqe32, cqe_mixed");
  static_assert(detail::at_most_one<axis::polling, P...>,
                "ring<...>: more than one polling mode given; choose one of interrupt, sqpoll, "
                "iopoll, hybrid_iopoll");
  static_assert(detail::at_most_one<axis::memory_order, P...>,
                "ring<...>: more than one memory-order strategy given");
  static_assert(detail::at_most_one<axis::task_run, P...>,
                "ring<...>: more than one task-run mode given; choose one of default_task_run, "
                "coop_task_run<>, single_issuer, defer_task_run<>");
  static_assert(detail::at_most_one<axis::ring_fd, P...>,
                "ring<...>: both plain_ring_fd and registered_ring_fd given; choose one");
  static_assert(
      detail::memory_order_usable<P...>,
      "ring<...>: the memory-order policy must provide noexcept static load_kernel_index, "
      "load_word, publish and store_load_fence (see urine::memory_order_policy)");
  static_assert(detail::task_run_fits_polling<P...>,
                "ring<...>: an sqpoll ring cannot take coop_task_run or defer_task_run: the "
                "kernel's SQ thread runs completion work itself, and refuses these flags");
  // Every rule of is_legal has its sentence above; a rule added there without one still stops
  // compilation here.
  static_assert(!detail::all_policies<P...> || !detail::one_per_axis<P...> || is_legal<P...>);

  using type = ring_config<detail::sqe_layout_of<P...>, detail::cqe_layout_of<P...>,
                           detail::polling_of<P...>, detail::memory_order_of<P...>,
                           detail::task_run_of<P...>, detail::ring_fd_of<P...>>;
};

/// A policy's name as written in ring<...> ("sqpoll", "defer_task_run<true>"): for reports and
/// test names. A policy of your own can be named by specialising this variable.
template <class P>
inline constexpr std::string_view policy_name = "custom";
template <>
inline constexpr std::string_view policy_name<sqe64> = "sqe64";
template <>
inline constexpr std::string_view policy_name<sqe128> = "sqe128";
template <>
inline constexpr std::string_view policy_name<cqe16> = "cqe16";
template <>
inline constexpr std::string_view policy_name<cqe32> = "cqe32";
template <>
inline constexpr std::string_view policy_name<cqe_mixed> = "cqe_mixed";
template <>
inline constexpr std::string_view policy_name<interrupt> = "interrupt";
template <>
inline constexpr std::string_view policy_name<sqpoll> = "sqpoll";
template <>
inline constexpr std::string_view policy_name<iopoll> = "iopoll";
template <>
inline constexpr std::string_view policy_name<hybrid_iopoll> = "hybrid_iopoll";
template <>
inline constexpr std::string_view policy_name<acquire_release> = "acquire_release";
template <>
inline constexpr std::string_view policy_name<sequentially_consistent> = "sequentially_consistent";
template <>
inline constexpr std::string_view policy_name<default_task_run> = "default_task_run";
template <>
inline constexpr std::string_view policy_name<coop_task_run<false>> = "coop_task_run";
template <>
inline constexpr std::string_view policy_name<coop_task_run<true>> = "coop_task_run<true>";
template <>
inline constexpr std::string_view policy_name<single_issuer> = "single_issuer";
template <>
inline constexpr std::string_view policy_name<defer_task_run<false>> = "defer_task_run";
template <>
inline constexpr std::string_view policy_name<defer_task_run<true>> = "defer_task_run<true>";
template <>
inline constexpr std::string_view policy_name<plain_ring_fd> = "plain_ring_fd";
template <>
inline constexpr std::string_view policy_name<registered_ring_fd> = "registered_ring_fd";

}  // namespace urine
