// Posting a completion into a ring without a ring of one's own (REGISTER_SEND_MSG_RING, 6.13):
// the synchronous, ring-less form of IORING_OP_MSG_RING's data message. Any thread can wake or
// message a ring's owner this way.
module;
#include <cstdint>
export module urine.registration:send_msg_ring;
import urine.abi;
import urine.ring;
import :core;

export namespace urine {

/// Post a CQE with user data `data`, result `res` (and, with `flags`, those CQE flags) into the
/// ring whose fd is `target_fd`.
result<void> send_msg_ring(int target_fd, user_data data, std::int32_t res,
                           cqe_flags flags = cqe_flags::none);
/// The same for a ring object (it must have an fd, not only a registered index).
result<void> send_msg_ring(ring_ref target, user_data data, std::int32_t res,
                           cqe_flags flags = cqe_flags::none);

}  // namespace urine
