// Composition: a chain of linked operations pushed (and submitted) as one unit. Every SQE but the
// last carries IOSQE_IO_LINK, so each starts only after the previous one succeeded; a failure
// completes the rest with -ECANCELED. A link_timeout as the last element bounds the one before it.
module;
#include <cstddef>
#include <expected>
#include <system_error>
export module urine.ops:chain;
import urine.abi;
import urine.ring;

export namespace urine {

/// One element of a chain: the operation, the user data its completion carries, and its own
/// SQE options (a hard link, drain, async ... are kept; the link flag is added by the chain).
template <class Op>
struct linked {
  Op op;
  user_data data = {};
  sqe_options options = {};
};
template <class Op>
linked(Op) -> linked<Op>;
template <class Op>
linked(Op, user_data) -> linked<Op>;
template <class Op>
linked(Op, user_data, sqe_options) -> linked<Op>;

namespace detail {
[[nodiscard]] constexpr sqe_options chained_options(sqe_options o, bool last) noexcept {
  if (!last && !any(o.flags, sqe_flags::io_hardlink)) o.flags |= sqe_flags::io_link;
  return o;
}
}  // namespace detail

/// Push `links` as one chain. False, and nothing pushed, when the SQ lacks room for all of them:
/// half a chain would run its first part unlinked from the rest.
template <class Ring, class... Ops>
[[nodiscard]] inline bool push_chain(Ring& ring, const linked<Ops>&... links) noexcept {
  constexpr std::size_t n = sizeof...(Ops);
  static_assert(n > 0, "push_chain(): a chain needs at least one operation");
  if (ring.sq_space_left() < n) return false;
  std::size_t i = 0;
  // Room was checked above, so no push can fail (on SQPOLL the kernel only ever frees entries).
  ((void)ring.push(links.op, links.data, detail::chained_options(links.options, ++i == n)), ...);
  return true;
}

/// Push `links` as one chain and submit. Fails with EBUSY (nothing pushed) when the SQ lacks room.
template <class Ring, class... Ops>
inline std::expected<unsigned, std::error_code> submit_chain(Ring& ring,
                                                             const linked<Ops>&... links) noexcept {
  if (!push_chain(ring, links...))
    return std::unexpected(std::make_error_code(std::errc::device_or_resource_busy));
  return ring.submit();
}

}  // namespace urine
