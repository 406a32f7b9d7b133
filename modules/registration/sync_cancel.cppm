// Synchronous cancellation (REGISTER_SYNC_CANCEL): cancel requests and wait, in the call, until
// they are gone, with an optional timeout; the canceled requests still post their completions.
module;
#include <chrono>
#include <cstdint>
#include <optional>
export module urine.registration:sync_cancel;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// Which requests to cancel. By default: the one with `data` as user data. Set `file` to match
/// by file (a plain descriptor or a fixed_file), `op` to match by opcode, `any` for every
/// request, `all` to cancel every match rather than the first.
struct cancel_request {
  user_data data{};
  std::optional<file_target> file = {};
  opcode op = opcode::nop;
  bool match_op = false;
  bool any = false;
  bool all = false;
  /// How long to wait for the canceled requests to finish (max(): as long as it takes).
  std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max();
};

/// Cancel and wait (IORING_REGISTER_SYNC_CANCEL). Returns how many requests were canceled
/// (1 unless `all`); ENOENT when none matched, ETIME when the timeout passed first.
result<unsigned> sync_cancel(ring_ref ring, const cancel_request& request);

}  // namespace urine
