// What every registration shares: a reference to the ring a registration is made on, the one
// funnel every io_uring_register(2) call on a ring goes through, the shape of a handle, and the
// lifetime rule of registered resources.
//
// The lifetime rule. A registered resource (a file or buffer table, a buffer ring, a personality,
// an eventfd, ...) is a handle that refers to its ring by the ring's fd (or registered index),
// not by the ring object's address: the ring object may move (`auto b = std::move(a)`) and the
// handles go on working. A handle must not outlive the ring's fd: declare handles after the ring,
// so that they are destroyed first, and never return a handle out of the scope that owns its
// ring. A handle binds only to a ring lvalue (binding a temporary ring does not compile), it is
// move-only, and its destructor unregisters quietly; call unregister() to see the kernel's
// answer. When the ring fd is closed the kernel drops everything registered on it anyway, so the
// early release is the handle's whole job.
module;
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
export module urine.registration:core;
import urine.abi;
import urine.ring;

export namespace urine {

/// A non-owning reference to a ring of any configuration, for registration calls: what
/// io_uring_register(2) needs to reach it (the fd, or the index under which the ring registered
/// it) and what the ring was created with. Registration is not on the hot path, so one compiled
/// implementation serves every ring type through it. It copies no address, so it stays valid
/// when the ring object moves, as long as the ring's fd is open.
class ring_ref {
 public:
  /// Refer to `ring` (its fd must stay open while the reference and what is made through it live).
  template <class Config>
  ring_ref(const basic_ring<Config>& ring) noexcept  // NOLINT: implicit on purpose
      : fd_(ring.fd()),
        index_(ring.registered_index()),
        flags_(ring.flags()),
        features_(ring.features()) {}
  /// A temporary ring would be closed before anything registered through it could be used.
  /// Chosen for rvalue rings only to stop the build with a sentence, where a deleted overload
  /// would leave a bare "invokes a deleted function".
  template <class Config>
  ring_ref(const basic_ring<Config>&&) noexcept {  // NOLINT: implicit to be chosen, then refused
    static_assert(false,
                  "a registration needs a ring that outlives it, and a temporary ring closes at "
                  "the end of the statement: create the ring in a variable, then register on it");
  }

  /// io_uring_register(2) on the ring; the kernel's result.
  /// Through the registered index when the ring has one (valid on the thread that registered
  /// it, as for the ring's own calls), else through the fd.
  [[nodiscard]] int call(register_opcode op, const void* arg, std::uint32_t nr) const noexcept;

  /// The ring's fd (-1 for a REGISTERED_FD_ONLY ring).
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// The ring's registered index, -1 when its fd is not registered.
  [[nodiscard]] int registered_index() const noexcept { return index_; }
  [[nodiscard]] setup_flags flags() const noexcept { return flags_; }
  [[nodiscard]] feature_flags features() const noexcept { return features_; }
  /// Whether two references name the same ring (the same fd and registered index).
  friend bool operator==(const ring_ref& a, const ring_ref& b) noexcept {
    return a.fd_ == b.fd_ && a.index_ == b.index_;
  }

 private:
  int fd_;
  int index_;
  setup_flags flags_;
  feature_flags features_;
};

/// The kernel name of a register opcode ("REGISTER_BUFFERS").
[[nodiscard]] constexpr std::string_view name(register_opcode op) noexcept {
  const auto i = static_cast<unsigned>(op);
  return i < register_opcode_count ? register_opcode_table[i].name : std::string_view{"UNKNOWN"};
}

/// The first kernel that implements a register opcode.
[[nodiscard]] constexpr kernel_version since(register_opcode op) noexcept {
  const auto i = static_cast<unsigned>(op);
  return i < register_opcode_count ? register_opcode_table[i].since : kernel_version{255, 255};
}

}  // namespace urine

namespace urine::detail {

/// The key to a handle's constructor: not exported, so only this module's units, which make a
/// handle once the kernel has accepted a registration, can name it.
struct handle_key {
  explicit handle_key() = default;
};

}  // namespace urine::detail

export namespace urine::detail {

/// Why the kernel refuses to pin memory with ENOMEM, said with the numbers: ": over
/// RLIMIT_MEMLOCK (65536 bytes for this process): ..." naming the limit in force and the
/// CAP_IPC_LOCK rule, for the refusal's sentence (buffer tables, buffer rings).
[[nodiscard]] std::string memlock_refusal();

/// "IORING_REGISTER_BUFFERS (8 buffers)": the opcode's kernel name and what was asked.
[[nodiscard]] std::string asked(register_opcode op, const std::string& what = {});

/// The failure of `op` that the kernel answered with `ret`, said by `text` — unless the kernel
/// refused with EINVAL and is older than the opcode's first kernel (by uname), when any other
/// explanation would mislead: then what was asked (`text` up to its explanation, which starts
/// with ": ") and ": needs kernel 6.13 (this kernel is 6.1)".
[[nodiscard]] std::unexpected<error> refused(register_opcode op, int ret, std::string text);

/// The handle state every registered resource shares: the ring it belongs to, or none once
/// released or moved from.
class ring_bound {
 public:
  ring_bound(const ring_bound&) = delete;
  ring_bound& operator=(const ring_bound&) = delete;

  /// Whether the handle still holds its registration.
  [[nodiscard]] bool registered() const noexcept { return ring_.has_value(); }
  explicit operator bool() const noexcept { return registered(); }
  /// The ring it is registered on; none once unregistered or moved from.
  [[nodiscard]] const std::optional<ring_ref>& ring() const noexcept { return ring_; }

 protected:
  explicit ring_bound(ring_ref r) noexcept : ring_(r) {}
  ring_bound(ring_bound&& o) noexcept : ring_(std::exchange(o.ring_, std::nullopt)) {}
  ring_bound& operator=(ring_bound&& o) noexcept {
    ring_ = std::exchange(o.ring_, std::nullopt);
    return *this;
  }
  ~ring_bound() = default;

  /// Give up the ring for an unregister call: the ring, or an error naming `op` when the
  /// handle holds nothing (already unregistered, or moved from).
  result<ring_ref> release_for(register_opcode op);

  std::optional<ring_ref> ring_;
};

/// The shape of every handle to a registration the kernel holds until told otherwise: `Handle`
/// (deriving from it) states only what differs, as
///
///   static constexpr register_opcode unregister_opcode;   // what undoes it
///   static result<Unregistered> unregister_from(ring_ref, const Payload&);
///
/// and a `friend registration;` so that this reaches them. `Payload` names the registration (a
/// table size, an id, a group); `Unregistered` is what undoing it reports. Handles are move-only
/// (moving hands over the duty to unregister; the source keeps its payload but holds nothing),
/// unregister on destruction, and are made only by this module (handle_key).
template <class Handle, class Payload, class Unregistered = void>
class registration : public ring_bound {
 public:
  registration(handle_key, ring_ref ring, const Payload& payload) noexcept
      : ring_bound(ring), payload_(payload) {}
  registration(registration&&) noexcept = default;
  registration& operator=(registration&& o) noexcept {
    if (this != &o) {
      (void)unregister();
      ring_bound::operator=(std::move(o));
      payload_ = o.payload_;
    }
    return *this;
  }
  // A static hook on the handle's payload, so it is safe to call once Handle's part is gone.
  ~registration() { (void)unregister(); }

  /// Undo the registration now and return the kernel's answer; the handle holds nothing
  /// afterwards (unregistering again is an error that says so).
  result<Unregistered> unregister() {
    const auto ring = release_for(Handle::unregister_opcode);
    if (!ring) return std::unexpected(ring.error());
    return Handle::unregister_from(*ring, payload_);
  }

 protected:
  [[nodiscard]] const Payload& payload() const noexcept { return payload_; }

 private:
  Payload payload_;
};

}  // namespace urine::detail
