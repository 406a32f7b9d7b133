// Readiness: POLL_ADD (one-shot or multishot), POLL_REMOVE (remove or update an armed poll),
// EPOLL_CTL and EPOLL_WAIT (6.15).
module;
#include <sys/epoll.h>
#include <cstdint>
#include <optional>
#include <span>
export module urine.ops:poll;
import urine.abi;
import :prep;

export namespace urine {

/// poll(2) events (POLL*), sqe->poll32_events.
enum class poll_events : std::uint32_t {
  none = 0,
  in = 0x001,
  pri = 0x002,
  out = 0x004,
  err = 0x008,
  hup = 0x010,
  nval = 0x020,
  rdnorm = 0x040,
  rdband = 0x080,
  wrnorm = 0x100,
  wrband = 0x200,
  rdhup = 0x2000,
};
template <>
inline constexpr bool is_bitmask<poll_events> = true;

/// epoll_ctl(2) operation.
enum class epoll_op : std::uint32_t { add = 1, del = 2, mod = 3 };

}  // namespace urine

export namespace urine::ops {

/// POLL_ADD: complete when `file` has one of `events` (result: the events that are ready). With
/// poll_flags::add_multi it stays armed, one completion per readiness with F_MORE; add_level
/// makes it level- rather than edge-triggered.
struct poll_add {
  static constexpr opcode code = opcode::poll_add;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target file;
  poll_events events = poll_events::in;
  poll_flags flags = poll_flags::none;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, file, 0, bits(flags), 0);
    s.poll32_events = bits(events);
  }
};

/// POLL_REMOVE: cancel the poll whose user data is `target` (result 0, and the poll completes
/// with -ECANCELED; -ENOENT when none matches).
struct poll_remove {
  static constexpr opcode code = opcode::poll_remove;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  user_data target;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, -1, target.value(), 0, 0);
  }
};

/// POLL_REMOVE as an update: change the armed poll `target` in place — new events and/or a new
/// user data (each only when given) — keeping it armed.
struct poll_update {
  static constexpr opcode code = opcode::poll_remove;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  user_data target;
  std::optional<poll_events> new_events = {};
  std::optional<user_data> new_user_data = {};

  inline void prepare(abi::sqe& s) const noexcept {
    // The armed poll keeps its one-shot or multishot nature: the kernel updates only the events.
    poll_flags f = poll_flags::none;
    if (new_events) f |= poll_flags::update_events;
    if (new_user_data) f |= poll_flags::update_user_data;
    detail::prep_rw(s, code, -1, target.value(), bits(f),
                    new_user_data ? new_user_data->value() : 0);
    s.poll32_events = new_events ? bits(*new_events) : 0;
  }
};

/// EPOLL_CTL: epoll_ctl(2) on epoll instance `epoll` (a plain descriptor): add, modify or delete
/// `target` with `*event` (null for del).
struct epoll_ctl {
  static constexpr opcode code = opcode::epoll_ctl;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  int epoll;
  epoll_op op;
  int target;
  const ::epoll_event* event = nullptr;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, epoll, detail::address_of(event), static_cast<std::uint32_t>(op),
                    static_cast<std::uint32_t>(target));
  }
};

/// EPOLL_WAIT (6.15): epoll_wait(2) into `events`. Result: how many events were stored.
struct epoll_wait {
  static constexpr opcode code = opcode::epoll_wait;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target epoll;
  std::span<::epoll_event> events;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_rw(s, code, epoll, detail::address_of(events.data()),
                    static_cast<std::uint32_t>(events.size()), 0);
  }
};

}  // namespace urine::ops
