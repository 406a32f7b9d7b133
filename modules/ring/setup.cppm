// Ring creation: the run-time setup parameters, validation with clear errors, io_uring_setup(2),
// mapping the rings (or adopting caller memory under NO_MMAP), and registering the ring fd. None
// of this is on the hot path, so it lives in one compiled unit rather than in every ring type.
module;
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <utility>
export module urine.ring:setup;
import urine.abi;

export namespace urine {

/// Whether the SQ keeps its index array (IORING_SETUP_NO_SQARRAY drops it, 6.6+).
enum class sq_array_mode : std::uint8_t {
  omit_if_supported,  ///< drop the array where the kernel allows (the default)
  omit,               ///< require NO_SQARRAY
  keep,               ///< keep the array
};

/// Caller-provided memory for an IORING_SETUP_NO_MMAP ring. Both areas must be page-aligned and
/// at least as large as ring_memory_size() says; they must outlive the ring.
struct ring_memory {
  std::span<std::byte> rings;  ///< SQ and CQ ring headers, CQEs and the SQ array
  std::span<std::byte> sqes;   ///< the SQE array
  [[nodiscard]] bool empty() const noexcept { return rings.empty() && sqes.empty(); }
};

/// The run-time part of a ring's setup: numbers and resources. What is fixed for a ring type
/// (SQE/CQE size, polling, task run, ring-fd registration) is its policies.
struct setup {
  /// SQ entries, 1 ... 32768; the kernel rounds up to a power of two.
  std::uint32_t entries = 128;
  /// CQ entries (IORING_SETUP_CQSIZE), up to 65536; 0 means the kernel's default of 2 × entries.
  std::uint32_t cq_entries = 0;
  /// Cap too-large entry counts at the kernel maximum instead of failing (IORING_SETUP_CLAMP).
  bool clamp = false;
  /// Share this ring's io-wq worker pool with the ring whose fd is given (IORING_SETUP_ATTACH_WQ).
  int attach_wq = -1;
  /// Create the ring disabled; it accepts restrictions and starts with enable() (R_DISABLED).
  bool disabled = false;
  /// Keep submitting a batch after an SQE fails to prepare (IORING_SETUP_SUBMIT_ALL).
  bool submit_all = false;
  sq_array_mode sq_array = sq_array_mode::omit_if_supported;
  /// Non-empty: build the rings in this memory (IORING_SETUP_NO_MMAP).
  ring_memory memory{};
  /// The ring exists only as a registered index, never as an fd (IORING_SETUP_REGISTERED_FD_ONLY);
  /// needs the registered_ring_fd policy and caller memory.
  bool registered_fd_only = false;
  /// sqpoll rings: how long the SQ thread polls without work before it sleeps (0: the kernel's
  /// default, one second), and the CPU it is pinned to (IORING_SETUP_SQ_AFF; -1: any).
  std::uint32_t sq_thread_idle_ms = 0;
  int sq_thread_cpu = -1;
};

/// Bytes a NO_MMAP ring needs for its two areas, before page rounding by the caller is needed:
/// both results are already multiples of the page size.
struct ring_memory_size {
  std::size_t rings;
  std::size_t sqes;
};
[[nodiscard]] ring_memory_size no_mmap_size(std::uint32_t sq_entries, std::uint32_t cq_entries,
                                            std::size_t sqe_size, std::size_t cqe_size);

/// "SQPOLL|SQ_AFF": kernel names of the flags in a set.
[[nodiscard]] std::string describe(setup_flags flags);

/// What the running kernel supports: the answer of IORING_REGISTER_QUERY with
/// IO_URING_QUERY_OPCODES (6.18+).
struct kernel_support {
  bool known = false;                  ///< the kernel answered; everything below is zero otherwise
  std::uint32_t request_opcodes = 0;   ///< opcodes 0 ... n-1 exist
  std::uint32_t register_opcodes = 0;  ///< register opcodes 0 ... n-1 exist
  setup_flags setup{};
  enter_flags enter{};
  feature_flags features{};
  sqe_flags sqe{};
  std::uint32_t query_opcodes = 0;  ///< query ops the kernel answers
};
/// The same query, answered or not: empty (known == false) when the kernel cannot say.
[[nodiscard]] kernel_support query_kernel_support() noexcept;

}  // namespace urine

export namespace urine::detail {

/// IORING_REGISTER_QUERY (IO_URING_QUERY_OPCODES) asked without a ring: the kernel's answer, or
/// the negative errno of the call or of the query. The one place the answer is decoded.
[[nodiscard]] std::expected<kernel_support, int> query_opcodes() noexcept;

/// What a ring type fixes at compile time, passed to the shared creation code.
struct ring_shape {
  setup_flags flags;
  std::uint32_t sqe_size;
  std::uint32_t cqe_size;
  bool register_fd;
};

/// A created ring: its fd (or registered index) and mappings, released exactly once.
class ring_core {
 public:
  ring_core() = default;
  ring_core(ring_core&& o) noexcept { swap(o); }
  ring_core& operator=(ring_core&& o) noexcept {
    ring_core(std::move(o)).swap(*this);
    return *this;
  }
  ring_core(const ring_core&) = delete;
  ring_core& operator=(const ring_core&) = delete;
  ~ring_core() { release(); }

  static constexpr std::uint32_t max_sq_entries = 32768;  // IORING_MAX_ENTRIES
  static constexpr std::uint32_t max_cq_entries = 65536;  // IORING_MAX_CQ_ENTRIES

  static result<ring_core> create(const setup& s, const ring_shape& shape);

  /// The ring's file descriptor, or -1 for a REGISTERED_FD_ONLY ring.
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// The registered ring index, or -1 when the fd is not registered.
  [[nodiscard]] int registered_index() const noexcept { return registered_index_; }
  /// Whether there is a ring at all (not moved from, not closed by a failed resize).
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0 || registered_index_ >= 0; }
  [[nodiscard]] const abi::params& params() const noexcept { return params_; }
  [[nodiscard]] std::byte* sq_ring() const noexcept { return areas_.sq_ring; }
  [[nodiscard]] std::byte* cq_ring() const noexcept { return areas_.cq_ring; }
  [[nodiscard]] std::byte* sqes() const noexcept { return areas_.sqes; }

  /// IORING_REGISTER_RESIZE_RINGS (6.13): the kernel moves pending SQEs and CQEs into rings of
  /// the new sizes; the new rings are mapped, the old mappings dropped, and params() updated.
  /// The owner must publish its SQ tail and CQ head first and re-read every pointer afterwards
  /// (detail::resize_ring does both). Rings in caller memory (NO_MMAP) are refused. When the
  /// kernel has resized but the new rings cannot be mapped, the ring is closed (is_open() turns
  /// false) and the error says so: the old rings are dead and the new ones out of reach.
  result<void> resize(std::uint32_t sq_entries, std::uint32_t cq_entries, const ring_shape& shape);

  /// io_uring_register(2) on this ring: through its fd, which any thread may use, or through the
  /// registered index when the ring has no fd (REGISTERED_FD_ONLY).
  [[nodiscard]] int do_register(register_opcode op, const void* arg,
                                std::uint32_t nr) const noexcept {
    return fd_ < 0 && registered_index_ >= 0
               ? abi::io_uring_register(
                     registered_index_,
                     static_cast<std::uint32_t>(op) | register_use_registered_ring, arg, nr)
               : abi::io_uring_register(fd_, static_cast<std::uint32_t>(op), arg, nr);
  }

 private:
  void release() noexcept;
  void swap(ring_core& o) noexcept;
  /// The three mapped areas of a ring and their sizes (0: not mapped by us, as under NO_MMAP).
  struct areas {
    std::byte* sq_ring = nullptr;
    std::byte* cq_ring = nullptr;
    std::byte* sqes = nullptr;
    std::size_t sq_ring_size = 0;
    std::size_t cq_ring_size = 0;
    std::size_t sqes_size = 0;
  };
  /// Map the three areas described by `p` through fd_ (shared by create and resize); on failure
  /// nothing stays mapped.
  [[nodiscard]] result<areas> map_areas(const abi::params& p, setup_flags flags,
                                        std::uint32_t sqe_size, std::uint32_t cqe_size) const;
  static void unmap(areas& a) noexcept;
  /// Identity mapping in the SQ index array (when the ring has one), so submission never touches
  /// the array again (shared by create and resize).
  static void fill_sq_array(std::byte* sq_ring, const abi::params& p, setup_flags flags) noexcept;

  int fd_ = -1;
  int registered_index_ = -1;
  /// The thread whose registered-ring table holds registered_index_ (see release()).
  std::uint64_t owner_thread_ = 0;
  abi::params params_{};
  areas areas_{};
};

/// A number for the calling thread, unique for the life of the process (thread ids are reused).
[[nodiscard]] std::uint64_t this_thread_number() noexcept;

}  // namespace urine::detail
