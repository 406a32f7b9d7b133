// Turns ring<P...>'s policy list into one configuration: each axis takes the policy given for it
// or its default, order does not matter, and incoherent lists stop compilation with a sentence
// that says what is wrong. Because ring<P...> is an alias of basic_ring<config>, two lists naming
// the same choices in another order are the same type.
module;
#include <type_traits>
export module urine.ring:config;
import urine.abi;
import :policies;

namespace urine::detail {

template <class Axis, class... P>
inline constexpr unsigned count_axis = (0u + ... + (std::is_same_v<typename P::axis, Axis> ? 1u : 0u));

template <class Axis, class Default, class... P>
struct pick_axis {
  using type = Default;
};
template <class Axis, class Default, class First, class... Rest>
struct pick_axis<Axis, Default, First, Rest...> {
  using type = std::conditional_t<std::is_same_v<typename First::axis, Axis>, First,
                                  typename pick_axis<Axis, Default, Rest...>::type>;
};

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

template <class... P>
struct resolve_config {
  static_assert((ring_policy<P> && ...),
                "ring<...>: every argument must be a ring policy: sqe64, sqe128, cqe16, cqe32, "
                "cqe_mixed, interrupt, sqpoll<>, iopoll, hybrid_iopoll, acquire_release, "
                "sequentially_consistent, default_task_run, coop_task_run<>, single_issuer, "
                "defer_task_run<>, plain_ring_fd, registered_ring_fd, or your own memory-order "
                "policy");
  static_assert(detail::count_axis<axis::sqe_layout, P...> <= 1,
                "ring<...>: more than one SQE layout given; choose one of sqe64, sqe128");
  static_assert(detail::count_axis<axis::cqe_layout, P...> <= 1,
                "ring<...>: more than one CQE layout given; choose one of cqe16, cqe32, cqe_mixed");
  static_assert(detail::count_axis<axis::polling, P...> <= 1,
                "ring<...>: more than one polling mode given; choose one of interrupt, sqpoll<>, "
                "iopoll, hybrid_iopoll");
  static_assert(detail::count_axis<axis::memory_order, P...> <= 1,
                "ring<...>: more than one memory-order strategy given");
  static_assert(detail::count_axis<axis::task_run, P...> <= 1,
                "ring<...>: more than one task-run mode given; choose one of default_task_run, "
                "coop_task_run<>, single_issuer, defer_task_run<>");
  static_assert(detail::count_axis<axis::ring_fd, P...> <= 1,
                "ring<...>: both plain_ring_fd and registered_ring_fd given; choose one");

  using sqe_layout = typename detail::pick_axis<axis::sqe_layout, sqe64, P...>::type;
  using cqe_layout = typename detail::pick_axis<axis::cqe_layout, cqe16, P...>::type;
  using polling = typename detail::pick_axis<axis::polling, interrupt, P...>::type;
  using memory_order = typename detail::pick_axis<axis::memory_order, acquire_release, P...>::type;
  using task_run = typename detail::pick_axis<axis::task_run, default_task_run, P...>::type;
  using ring_fd = typename detail::pick_axis<axis::ring_fd, plain_ring_fd, P...>::type;

  static_assert(memory_order_policy<memory_order>,
                "ring<...>: the memory-order policy must provide noexcept static load_acquire, "
                "load_relaxed, store_release and full_fence (see urine::memory_order_policy)");
  static_assert(!(polling::sq_thread && task_run::flags != setup_flags::none &&
                  task_run::flags != setup_flags::single_issuer),
                "ring<...>: an sqpoll ring cannot take coop_task_run or defer_task_run: the "
                "kernel's SQ thread runs completion work itself, and refuses these flags");

  using type = ring_config<sqe_layout, cqe_layout, polling, memory_order, task_run, ring_fd>;
};

}  // namespace urine
