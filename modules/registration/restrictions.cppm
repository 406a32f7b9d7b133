// Restrictions (REGISTER_RESTRICTIONS, ENABLE_RINGS): a ring created disabled is limited to a
// set of request opcodes, SQE flags and register opcodes before it starts; anything else fails
// with EACCES. The typed builder makes the allow-list read like a policy.
module;
#include <bitset>
#include <cstdint>
export module urine.registration:restrictions;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// An allow-list for a ring. Register it on a ring created with setup{.disabled = true}, then
/// start the ring with enable_rings(). A ring takes restrictions once.
class restrictions {
 public:
  restrictions& allow(opcode op) noexcept {
    ops_.set(static_cast<std::uint8_t>(op));
    return *this;
  }
  restrictions& allow(register_opcode op) noexcept {
    register_ops_.set(static_cast<std::uint8_t>(op));
    return *this;
  }
  /// SQE flags a request may carry (without this, none is allowed).
  restrictions& allow_sqe_flags(sqe_flags flags) noexcept {
    allowed_flags_ |= flags;
    return *this;
  }
  /// SQE flags every request must carry.
  restrictions& require_sqe_flags(sqe_flags flags) noexcept {
    required_flags_ |= flags;
    return *this;
  }

  [[nodiscard]] bool allows(opcode op) const noexcept {
    return ops_.test(static_cast<std::uint8_t>(op));
  }
  [[nodiscard]] bool allows(register_opcode op) const noexcept {
    return register_ops_.test(static_cast<std::uint8_t>(op));
  }

  /// IORING_REGISTER_RESTRICTIONS on `ring`, which must still be disabled.
  result<void> apply(ring_ref ring) const;

 private:
  std::bitset<256> ops_;
  std::bitset<256> register_ops_;
  sqe_flags allowed_flags_ = sqe_flags::none;
  sqe_flags required_flags_ = sqe_flags::none;
};

/// Start a ring created disabled (IORING_REGISTER_ENABLE_RINGS).
result<void> enable_rings(ring_ref ring);

}  // namespace urine
