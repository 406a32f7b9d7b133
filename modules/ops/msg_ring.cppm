// MSG_RING: post a completion into another ring (a message between rings/threads), or pass one
// of this ring's registered files into the other ring's registered file table.
module;
#include <cstdint>
export module urine.ops:msg_ring;
import urine.abi;
import :prep;

export namespace urine::detail {

inline void prep_msg_ring(abi::sqe& s, file_target target, msg_ring_command cmd, std::uint32_t len,
                          user_data data, msg_ring_flags flags) noexcept {
  prep_rw(s, opcode::msg_ring, target, static_cast<std::uint64_t>(cmd), len, data.value());
  s.msg_ring_flags = bits(flags);
}

}  // namespace urine::detail

export namespace urine::ops {

/// MSG_RING data: the ring `target` (its fd, or a registered file holding it) gets a completion
/// with user data `data` and result `value`; with `cqe_flags` (msg_ring_flags::flags_pass is set
/// for you) that completion carries those flags. This ring's result: 0, or -EOVERFLOW when the
/// target's CQ was full.
struct msg_ring {
  static constexpr opcode code = opcode::msg_ring;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target target;
  std::int32_t value = 0;
  user_data data = {};
  std::uint32_t cqe_flags = 0;

  inline void prepare(abi::sqe& s) const noexcept {
    const msg_ring_flags f = cqe_flags != 0 ? msg_ring_flags::flags_pass : msg_ring_flags::none;
    detail::prep_msg_ring(s, target, msg_ring_command::data, static_cast<std::uint32_t>(value),
                          data, f);
    s.file_index = cqe_flags;
  }
};

/// MSG_RING send-fd: install this ring's registered file `source` into `target`'s registered
/// table at `slot` (or a free one); the target gets a completion with user data `data` and the
/// slot (direct_alloc) or 0 as result, unless `skip_target_cqe`.
struct msg_ring_fd {
  static constexpr opcode code = opcode::msg_ring;
  static constexpr bool iopoll_capable = accepts_iopoll(code);
  file_target target;
  fixed_file source;
  direct_target slot;
  user_data data = {};
  bool skip_target_cqe = false;

  inline void prepare(abi::sqe& s) const noexcept {
    detail::prep_msg_ring(s, target, msg_ring_command::send_fd, 0, data,
                          skip_target_cqe ? msg_ring_flags::cqe_skip : msg_ring_flags::none);
    s.addr3 = source.index;
    s.file_index = slot.file_index();
  }
};

}  // namespace urine::ops
