// What the running kernel supports: REGISTER_PROBE (request opcodes, per ring), REGISTER_QUERY
// (6.18: opcode counts and the setup, enter, feature and SQE flags it knows, no ring needed), and
// a capability report combining both with the name/first-kernel tables of urine.abi.
module;
#include <array>
#include <cstdint>
#include <string>
export module urine.registration:probe;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// The answer of IORING_REGISTER_PROBE: which request opcodes the kernel implements.
class probe {
 public:
  /// The highest opcode the kernel knows.
  [[nodiscard]] std::uint8_t last_op() const noexcept { return last_op_; }
  [[nodiscard]] bool supports(opcode op) const noexcept {
    return supported_[static_cast<std::uint8_t>(op)];
  }

 private:
  friend result<probe> probe_ring(ring_ref);
  std::uint8_t last_op_ = 0;
  std::array<bool, 256> supported_{};
};

/// Probe through an existing ring (IORING_REGISTER_PROBE).
[[nodiscard]] result<probe> probe_ring(ring_ref ring);
/// Probe through a throwaway one-entry ring.
[[nodiscard]] result<probe> probe_kernel();

/// The answer of IORING_REGISTER_QUERY with IO_URING_QUERY_OPCODES (6.18): what the ring module's
/// query_kernel_support() answers, here with the reason when the kernel cannot say.
using query_result = kernel_support;
/// IORING_REGISTER_QUERY, asked without a ring (fd -1).
[[nodiscard]] result<query_result> query();

/// Everything the running kernel supports, for skips, feature switches and reports.
struct capability_report {
  std::string kernel_release;          ///< uname's release string
  probe ops;                           ///< request opcodes (PROBE)
  feature_flags features{};            ///< what a fresh ring reports
  bool queried = false;                ///< REGISTER_QUERY answered (6.18+)
  setup_flags setup{};                 ///< known only when queried
  enter_flags enter{};                 ///< known only when queried
  sqe_flags sqe{};                     ///< known only when queried
  std::uint32_t register_opcodes = 0;  ///< known only when queried

  [[nodiscard]] bool supports(opcode op) const noexcept { return ops.supports(op); }
  [[nodiscard]] bool supports(feature_flags f) const noexcept { return has(features, f); }
  /// Without QUERY, a setup flag counts as supported when a ring with it can be created.
  [[nodiscard]] bool supports(setup_flags f) const noexcept { return has(setup, f); }
  [[nodiscard]] bool supports(register_opcode op) const noexcept {
    return static_cast<std::uint32_t>(op) < register_opcodes;
  }
};

/// Probe, query and trial: the full report (needs io_uring to be enabled at all).
[[nodiscard]] result<capability_report> capabilities();

}  // namespace urine
