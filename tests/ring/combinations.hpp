// Every legal combination of ring policies, as a type list for typed tests: the cartesian product
// of the axes, less what the kernel refuses (an SQPOLL ring with a cooperative or deferred task-run
// mode). Included by the combination suites, each of which takes one memory-order strategy.
#pragma once
#include <gtest/gtest.h>
#include <cstdint>
#include <string>
#include <type_traits>

namespace urine::test::combos {

template <class... Ts>
struct list {};

template <class... Ls>
struct concat;
template <>
struct concat<> {
  using type = list<>;
};
template <class... A>
struct concat<list<A...>> {
  using type = list<A...>;
};
template <class... A, class... B, class... Rest>
struct concat<list<A...>, list<B...>, Rest...> {
  using type = typename concat<list<A..., B...>, Rest...>::type;
};

/// The product of axis lists: each result is a list with one policy per axis.
template <class Prefix, class... Axes>
struct product;
template <class... Chosen>
struct product<list<Chosen...>> {
  using type = list<list<Chosen...>>;
};
template <class... Chosen, class... Options, class... Rest>
struct product<list<Chosen...>, list<Options...>, Rest...> {
  using type = typename concat<typename product<list<Chosen..., Options>, Rest...>::type...>::type;
};

/// Keep the lists whose policies the kernel accepts together, as ring types.
template <class Combos, template <class...> class Ring, template <class...> class Legal>
struct to_rings;
template <template <class...> class Ring, template <class...> class Legal, class... Combos>
struct to_rings<list<Combos...>, Ring, Legal> {
  // Naming Ring<P...> resolves the configuration, so only legal lists may be named at all.
  template <bool Keep, class... P>
  struct keep {
    using type = list<>;
  };
  template <class... P>
  struct keep<true, P...> {
    using type = list<Ring<P...>>;
  };
  template <class C>
  struct one;
  template <class... P>
  struct one<list<P...>> {
    using type = typename keep<Legal<P...>::value, P...>::type;
  };
  using type = typename concat<typename one<Combos>::type...>::type;
};

template <class L>
struct to_gtest;
template <class... T>
struct to_gtest<list<T...>> {
  using type = ::testing::Types<T...>;
};

}  // namespace urine::test::combos
