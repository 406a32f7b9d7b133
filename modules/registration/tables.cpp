// The register funnel and the registered tables: buffers, files, eventfd, personalities and
// ring fds (declared in core, buffers, files, eventfd, personality and ring_fds).
module;
#include <sys/resource.h>
#include <sys/uio.h>
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>
module urine.registration;
import urine.abi;
import urine.ring;

namespace urine {

namespace {

std::string count_of(std::size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string slots(std::uint32_t offset, std::size_t n) {
  return "slots " + std::to_string(offset) + "..." + std::to_string(offset + n - 1);
}

}  // namespace

namespace detail {

std::string memlock_refusal() {
  ::rlimit limit{};
  const bool known = ::getrlimit(RLIMIT_MEMLOCK, &limit) == 0;
  if (known && limit.rlim_cur == RLIM_INFINITY)
    return ": out of memory (RLIMIT_MEMLOCK is unlimited for this process)";
  const std::string value =
      known ? std::to_string(limit.rlim_cur) + " bytes for this process" : "its value unknown";
  return ": the memory would take the user who created the ring over RLIMIT_MEMLOCK (" + value +
         "; the kernel counts all that user's rings have pinned), a limit that does not apply "
         "when the ring's creator held CAP_IPC_LOCK: raise the limit (setrlimit, ulimit -l) or "
         "create the ring with CAP_IPC_LOCK";
}

std::string asked(register_opcode op, const std::string& what) {
  std::string text = "IORING_" + std::string(name(op));
  if (!what.empty()) text += " (" + what + ")";
  return text;
}

std::unexpected<error> refused(register_opcode op, int ret, std::string text) {
  const kernel_version needed = since(op);
  const kernel_version running = running_kernel();
  if (ret != -EINVAL || running == kernel_version{} || !(running < needed))
    return fail(ret, std::move(text));
  // What was asked stays (asked() never holds ": "); the explanation after it would mislead.
  text.resize(std::min(text.size(), text.find(": ")));
  return fail(ret, std::move(text) + ": needs kernel " + to_string(needed) + " (this kernel is " +
                       to_string(running) + ")");
}

}  // namespace detail

// Through the fd where the ring has one: any thread may use it, and reaching a ring by its
// registered index (IORING_REGISTER_USE_REGISTERED_RING) came only in 6.3. A REGISTERED_FD_ONLY
// ring has nothing but its index (in its creating thread's table).
int ring_ref::call(register_opcode op, const void* arg, std::uint32_t nr) const noexcept {
  const auto code = static_cast<std::uint32_t>(op);
  return fd_ < 0 && index_ >= 0
             ? abi::io_uring_register(index_, code | register_use_registered_ring, arg, nr)
             : abi::io_uring_register(fd_, code, arg, nr);
}

// ---- buffers -----------------------------------------------------------------------------------

namespace {

// What the kernel would refuse with a bare EINVAL, said with the numbers.
result<void> check_buffers(std::span<const ::iovec> iov, std::span<const std::uint64_t> tags,
                           register_opcode op) {
  if (iov.empty()) return fail(std::errc::invalid_argument, detail::asked(op, "no buffers given"));
  if (iov.size() > registered_buffers::max_entries)
    return fail(std::errc::invalid_argument,
                detail::asked(op, count_of(iov.size(), "buffer")) + ": a table holds at most " +
                    std::to_string(registered_buffers::max_entries) + " buffers");
  if (!tags.empty() && tags.size() != iov.size())
    return fail(
        std::errc::invalid_argument,
        detail::asked(op, count_of(iov.size(), "buffer") + ", " + count_of(tags.size(), "tag")) +
            ": give one tag per buffer");
  for (std::size_t i = 0; i < iov.size(); ++i) {
    if (iov[i].iov_len > registered_buffers::max_buffer_size)
      return fail(std::errc::invalid_argument,
                  detail::asked(op) + ": buffer " + std::to_string(i) + " has " +
                      std::to_string(iov[i].iov_len) +
                      " bytes, more than the 1 GiB the kernel pins at once");
    if (iov[i].iov_base == nullptr && iov[i].iov_len != 0)
      return fail(std::errc::invalid_argument, detail::asked(op) + ": buffer " + std::to_string(i) +
                                                   " has a length but no address");
  }
  return {};
}

std::unexpected<error> buffers_refused(int ret, register_opcode op, std::size_t n) {
  std::string text = detail::asked(op, count_of(n, "buffer"));
  if (ret == -EBUSY) text += ": the ring already has a buffer table (unregister it first)";
  if (ret == -ENOMEM) text += detail::memlock_refusal();
  if (ret == -EOPNOTSUPP) text += ": file-backed memory cannot be registered";
  return detail::refused(op, ret, std::move(text));
}

}  // namespace

result<fixed_buffer> registered_buffers::at(std::uint32_t i) const {
  if (i >= size())
    return fail(std::errc::invalid_argument, "registered buffer " + std::to_string(i) +
                                                 " is out of range: the table has " +
                                                 count_of(size(), "slot"));
  return fixed_buffer(static_cast<std::uint16_t>(i));
}

result<void> registered_buffers::update(std::uint32_t offset, std::span<const ::iovec> iov,
                                        std::span<const std::uint64_t> tags) {
  constexpr auto op = register_opcode::register_buffers_update;
  if (!ring_)
    return fail(std::errc::bad_file_descriptor,
                detail::asked(op) + ": the table is not registered");
  if (iov.empty()) return {};
  if (offset > size() || iov.size() > size() - offset)
    return fail(std::errc::invalid_argument, detail::asked(op, slots(offset, iov.size())) +
                                                 ": out of range, the table has " +
                                                 count_of(size(), "slot"));
  if (auto ok = check_buffers(iov, tags, op); !ok) return ok;
  abi::rsrc_update2 up{};
  up.offset = offset;
  up.data = reinterpret_cast<std::uintptr_t>(iov.data());
  up.tags = reinterpret_cast<std::uintptr_t>(tags.data());
  up.nr = static_cast<std::uint32_t>(iov.size());
  const int ret = ring_->call(op, &up, sizeof up);
  if (ret < 0) return detail::refused(op, ret, detail::asked(op, slots(offset, iov.size())));
  return {};
}

result<void> registered_buffers::unregister_from(ring_ref ring, std::uint32_t size) {
  const int ret = ring.call(unregister_opcode, nullptr, 0);
  if (ret < 0)
    return detail::refused(unregister_opcode, ret,
                           detail::asked(unregister_opcode, count_of(size, "slot")));
  return {};
}

result<registered_buffers> register_buffers(ring_ref ring, std::span<const ::iovec> iov) {
  constexpr auto op = register_opcode::register_buffers;
  if (auto ok = check_buffers(iov, {}, op); !ok) return std::unexpected(std::move(ok.error()));
  const int ret = ring.call(op, iov.data(), static_cast<std::uint32_t>(iov.size()));
  if (ret < 0) return buffers_refused(ret, op, iov.size());
  return registered_buffers(detail::handle_key{}, ring, static_cast<std::uint32_t>(iov.size()));
}

namespace {
int register_rsrc2(ring_ref ring, register_opcode op, std::uint32_t nr, const void* data,
                   const std::uint64_t* tags, bool sparse) {
  abi::rsrc_register reg{};
  reg.nr = nr;
  reg.flags = bits(sparse ? rsrc_register_flags::sparse : rsrc_register_flags::none);
  reg.data = reinterpret_cast<std::uintptr_t>(data);
  reg.tags = reinterpret_cast<std::uintptr_t>(tags);
  return ring.call(op, &reg, sizeof reg);
}
}  // namespace

result<registered_buffers> register_buffers(ring_ref ring, std::span<const ::iovec> iov,
                                            std::span<const std::uint64_t> tags) {
  constexpr auto op = register_opcode::register_buffers2;
  if (auto ok = check_buffers(iov, tags, op); !ok) return std::unexpected(std::move(ok.error()));
  const int ret = register_rsrc2(ring, op, static_cast<std::uint32_t>(iov.size()), iov.data(),
                                 tags.empty() ? nullptr : tags.data(), false);
  if (ret < 0) return buffers_refused(ret, op, iov.size());
  return registered_buffers(detail::handle_key{}, ring, static_cast<std::uint32_t>(iov.size()));
}

result<registered_buffers> register_sparse_buffers(ring_ref ring, std::uint32_t count) {
  constexpr auto op = register_opcode::register_buffers2;
  if (count == 0 || count > registered_buffers::max_entries)
    return fail(std::errc::invalid_argument,
                detail::asked(op, count_of(count, "sparse slot")) + ": a table has 1 ... " +
                    std::to_string(registered_buffers::max_entries) + " slots");
  const int ret = register_rsrc2(ring, op, count, nullptr, nullptr, true);
  if (ret < 0) return buffers_refused(ret, op, count);
  return registered_buffers(detail::handle_key{}, ring, count);
}

result<registered_buffers> clone_buffers(ring_ref ring, const registered_buffers& source,
                                         clone_range range) {
  constexpr auto op = register_opcode::register_clone_buffers;
  if (!source.registered())
    return fail(std::errc::invalid_argument,
                detail::asked(op) + ": the source table is not registered");
  const std::uint32_t count =
      range.count != 0 ? range.count : source.size() - std::min(range.source_offset, source.size());
  if (range.source_offset > source.size() || count > source.size() - range.source_offset ||
      count == 0)
    return fail(std::errc::invalid_argument, detail::asked(op, slots(range.source_offset, count)) +
                                                 ": out of range, the source table has " +
                                                 count_of(source.size(), "slot"));
  if (range.offset > registered_buffers::max_entries - count)
    return fail(std::errc::invalid_argument, detail::asked(op) + ": destination " +
                                                 slots(range.offset, count) + " exceed " +
                                                 std::to_string(registered_buffers::max_entries));
  if (*source.ring() == ring)
    return fail(std::errc::invalid_argument,
                detail::asked(op) + ": source and destination are the same ring");
  abi::clone_buffers arg{};
  const ring_ref& src = *source.ring();
  // A source ring without an fd is named by its registered index (which this thread registered).
  if (src.fd() >= 0) {
    arg.src_fd = static_cast<std::uint32_t>(src.fd());
  } else {
    arg.src_fd = static_cast<std::uint32_t>(src.registered_index());
    arg.flags = bits(clone_buffers_flags::src_registered);
  }
  // A whole table goes without a range: 6.12 takes src_off, dst_off and nr for padding that
  // must be zero, and later kernels read nr 0 as the whole source table.
  if (range.source_offset != 0 || range.offset != 0 || count != source.size()) {
    arg.src_off = range.source_offset;
    arg.dst_off = range.offset;
    arg.nr = count;
  }
  const int ret = ring.call(op, &arg, 1);
  if (ret < 0) {
    std::string text = detail::asked(op, count_of(count, "buffer"));
    if (ret == -EBUSY) text += ": the destination ring already has a buffer table";
    return detail::refused(op, ret, std::move(text));
  }
  return registered_buffers(detail::handle_key{}, ring, range.offset + count);
}

// ---- files -------------------------------------------------------------------------------------

namespace {

result<void> check_files(std::size_t n, std::span<const std::uint64_t> tags, register_opcode op) {
  if (n == 0) return fail(std::errc::invalid_argument, detail::asked(op, "no files given"));
  if (n > registered_files::max_entries)
    return fail(std::errc::invalid_argument,
                detail::asked(op, count_of(n, "file")) + ": a table holds at most " +
                    std::to_string(registered_files::max_entries) + " files");
  ::rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      n > limit.rlim_cur)
    return fail(std::errc::too_many_files_open, detail::asked(op, count_of(n, "file")) +
                                                    ": more than RLIMIT_NOFILE (" +
                                                    std::to_string(limit.rlim_cur) + ") allows");
  if (!tags.empty() && tags.size() != n)
    return fail(std::errc::invalid_argument,
                detail::asked(op, count_of(n, "file") + ", " + count_of(tags.size(), "tag")) +
                    ": give one tag per file");
  return {};
}

std::unexpected<error> files_refused(int ret, register_opcode op, std::size_t n) {
  std::string text = detail::asked(op, count_of(n, "file"));
  if (ret == -EBUSY) text += ": the ring already has a file table (unregister it first)";
  if (ret == -EBADF) text += ": one of the descriptors is not open";
  return detail::refused(op, ret, std::move(text));
}

}  // namespace

result<fixed_file> registered_files::at(std::uint32_t i) const {
  if (i >= size())
    return fail(std::errc::invalid_argument, "registered file " + std::to_string(i) +
                                                 " is out of range: the table has " +
                                                 count_of(size(), "slot"));
  return fixed_file(i);
}

result<unsigned> registered_files::update(std::uint32_t offset, std::span<const int> fds) {
  return update(offset, fds, {});
}

result<unsigned> registered_files::update(std::uint32_t offset, std::span<const int> fds,
                                          std::span<const std::uint64_t> tags) {
  const auto op = tags.empty() ? register_opcode::register_files_update
                               : register_opcode::register_files_update2;
  if (!ring_)
    return fail(std::errc::bad_file_descriptor,
                detail::asked(op) + ": the table is not registered");
  if (fds.empty()) return 0u;
  if (offset > size() || fds.size() > size() - offset)
    return fail(std::errc::invalid_argument, detail::asked(op, slots(offset, fds.size())) +
                                                 ": out of range, the table has " +
                                                 count_of(size(), "slot"));
  if (!tags.empty() && tags.size() != fds.size())
    return fail(std::errc::invalid_argument, detail::asked(op) + ": give one tag per file");
  int ret;
  if (tags.empty()) {
    abi::files_update up{};
    up.offset = offset;
    up.fds = reinterpret_cast<std::uintptr_t>(fds.data());
    ret = ring_->call(op, &up, static_cast<std::uint32_t>(fds.size()));
  } else {
    abi::rsrc_update2 up{};
    up.offset = offset;
    up.data = reinterpret_cast<std::uintptr_t>(fds.data());
    up.tags = reinterpret_cast<std::uintptr_t>(tags.data());
    up.nr = static_cast<std::uint32_t>(fds.size());
    ret = ring_->call(op, &up, sizeof up);
  }
  if (ret < 0) {
    std::string text = detail::asked(op, slots(offset, fds.size()));
    if (ret == -EBADF) text += ": one of the descriptors is not open";
    return detail::refused(op, ret, std::move(text));
  }
  return static_cast<unsigned>(ret);
}

result<void> registered_files::set_alloc_range(std::uint32_t offset, std::uint32_t count) {
  constexpr auto op = register_opcode::register_file_alloc_range;
  if (!ring_)
    return fail(std::errc::bad_file_descriptor,
                detail::asked(op) + ": the table is not registered");
  if (count == 0 || offset > size() || count > size() - offset)
    return fail(std::errc::invalid_argument, detail::asked(op, slots(offset, count)) +
                                                 ": not inside the table of " +
                                                 count_of(size(), "slot"));
  abi::file_index_range range{};
  range.off = offset;
  range.len = count;
  // The kernel wants the range struct and nr_args = 0.
  const int ret = ring_->call(op, &range, 0);
  if (ret < 0) return detail::refused(op, ret, detail::asked(op, slots(offset, count)));
  return {};
}

result<void> registered_files::unregister_from(ring_ref ring, std::uint32_t size) {
  const int ret = ring.call(unregister_opcode, nullptr, 0);
  if (ret < 0)
    return detail::refused(unregister_opcode, ret,
                           detail::asked(unregister_opcode, count_of(size, "slot")));
  return {};
}

result<registered_files> register_files(ring_ref ring, std::span<const int> fds) {
  constexpr auto op = register_opcode::register_files;
  if (auto ok = check_files(fds.size(), {}, op); !ok) return std::unexpected(std::move(ok.error()));
  const int ret = ring.call(op, fds.data(), static_cast<std::uint32_t>(fds.size()));
  if (ret < 0) return files_refused(ret, op, fds.size());
  return registered_files(detail::handle_key{}, ring, static_cast<std::uint32_t>(fds.size()));
}

result<registered_files> register_files(ring_ref ring, std::span<const int> fds,
                                        std::span<const std::uint64_t> tags) {
  constexpr auto op = register_opcode::register_files2;
  if (auto ok = check_files(fds.size(), tags, op); !ok)
    return std::unexpected(std::move(ok.error()));
  const int ret = register_rsrc2(ring, op, static_cast<std::uint32_t>(fds.size()), fds.data(),
                                 tags.empty() ? nullptr : tags.data(), false);
  if (ret < 0) return files_refused(ret, op, fds.size());
  return registered_files(detail::handle_key{}, ring, static_cast<std::uint32_t>(fds.size()));
}

result<registered_files> register_sparse_files(ring_ref ring, std::uint32_t count) {
  constexpr auto op = register_opcode::register_files2;
  if (auto ok = check_files(count, {}, op); !ok) return std::unexpected(std::move(ok.error()));
  int ret = register_rsrc2(ring, op, count, nullptr, nullptr, true);
  // Before 5.19 (no SPARSE flag) the same table is -1 in every slot through REGISTER_FILES, which
  // every kernel since 5.5 takes.
  constexpr kernel_version sparse_flag_since{5, 19};  // IORING_RSRC_REGISTER_SPARSE
  if (ret == -EINVAL && running_kernel() < sparse_flag_since) {
    const std::vector<int> empty(count, -1);
    ret = ring.call(register_opcode::register_files, empty.data(), count);
    if (ret < 0) return files_refused(ret, register_opcode::register_files, count);
  } else if (ret < 0) {
    return files_refused(ret, op, count);
  }
  return registered_files(detail::handle_key{}, ring, count);
}

// ---- eventfd -----------------------------------------------------------------------------------

result<void> registered_eventfd::unregister_from(ring_ref ring, int fd) {
  const int ret = ring.call(unregister_opcode, nullptr, 0);
  if (ret < 0)
    return detail::refused(unregister_opcode, ret,
                           detail::asked(unregister_opcode, "eventfd " + std::to_string(fd)));
  return {};
}

result<registered_eventfd> register_eventfd(ring_ref ring, int eventfd, eventfd_mode mode) {
  const auto op = mode == eventfd_mode::async_only ? register_opcode::register_eventfd_async
                                                   : register_opcode::register_eventfd;
  if (eventfd < 0)
    return fail(std::errc::bad_file_descriptor, detail::asked(op, "fd " + std::to_string(eventfd)));
  const int ret = ring.call(op, &eventfd, 1);
  if (ret < 0) {
    std::string text = detail::asked(op, "fd " + std::to_string(eventfd));
    if (ret == -EBUSY) text += ": the ring already has an eventfd (unregister it first)";
    if (ret == -EINVAL || ret == -EBADF) text += ": not an eventfd";
    return detail::refused(op, ret, std::move(text));
  }
  return registered_eventfd(detail::handle_key{}, ring, eventfd);
}

// ---- personality -------------------------------------------------------------------------------

result<void> personality::unregister_from(ring_ref ring, std::uint16_t id) {
  const int ret = ring.call(unregister_opcode, nullptr, id);
  if (ret < 0)
    return detail::refused(unregister_opcode, ret,
                           detail::asked(unregister_opcode, "id " + std::to_string(id)));
  return {};
}

result<personality> register_personality(ring_ref ring) {
  constexpr auto op = register_opcode::register_personality;
  const int ret = ring.call(op, nullptr, 0);
  if (ret < 0) return detail::refused(op, ret, detail::asked(op));
  return personality(detail::handle_key{}, ring, static_cast<std::uint16_t>(ret));
}

// ---- ring fds ----------------------------------------------------------------------------------

result<void> registered_ring_index::unregister_from(ring_ref ring, std::uint32_t index) {
  const std::string what = "index " + std::to_string(index);
  abi::rsrc_update up{};
  up.offset = index;
  const int ret = ring.call(unregister_opcode, &up, 1);
  if (ret < 0)
    return detail::refused(unregister_opcode, ret, detail::asked(unregister_opcode, what));
  if (ret != 1)
    return fail(std::errc::invalid_argument,
                detail::asked(unregister_opcode, what) + ": the slot was empty");
  return {};
}

result<registered_ring_index> register_ring_fd(ring_ref ring, int fd, std::uint32_t slot) {
  constexpr auto op = register_opcode::register_ring_fds;
  if (fd < 0) fd = ring.fd();
  if (fd < 0)
    return fail(std::errc::bad_file_descriptor,
                detail::asked(op) + ": the ring has no fd (REGISTERED_FD_ONLY)");
  if (slot != any_ring_slot && slot >= max_registered_ring_fds)
    return fail(std::errc::invalid_argument, detail::asked(op, "slot " + std::to_string(slot)) +
                                                 ": a thread has slots 0 ... " +
                                                 std::to_string(max_registered_ring_fds - 1));
  abi::rsrc_update up{};
  up.offset = slot;
  up.data = static_cast<std::uint64_t>(fd);
  const int ret = ring.call(op, &up, 1);
  if (ret < 0) {
    std::string text = detail::asked(op, "fd " + std::to_string(fd));
    if (ret == -EBUSY) text += ": that slot is taken";
    if (ret == -EOPNOTSUPP) text += ": not an io_uring fd";
    return detail::refused(op, ret, std::move(text));
  }
  if (ret != 1)
    return fail(std::errc::no_buffer_space,
                detail::asked(op, "fd " + std::to_string(fd)) + ": no free slot");
  return registered_ring_index(detail::handle_key{}, ring, up.offset);
}

}  // namespace urine

namespace urine::detail {

result<ring_ref> ring_bound::release_for(register_opcode op) {
  if (!ring_)
    return fail(
        std::errc::invalid_argument,
        asked(op) +
            ": nothing is registered through this handle (already unregistered, or moved from)");
  const ring_ref ring = *ring_;
  ring_.reset();
  return ring;
}

}  // namespace urine::detail
