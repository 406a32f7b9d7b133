// Registrations that share memory with the kernel: provided-buffer rings, wait regions and
// zero-copy receive queues (declared in buf_ring, mem_region and zcrx).
module;
#include <sys/mman.h>
#include <unistd.h>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <utility>
module urine.registration;
import urine.abi;
import urine.ring;

namespace urine {

namespace {

std::size_t page_size() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }
std::size_t round_to_pages(std::size_t n) noexcept {
  return (n + page_size() - 1) / page_size() * page_size();
}

// Zeroed, page-aligned memory of our own (the kernel reads it as the application's).
std::byte* map_anonymous(std::size_t size) noexcept {
  void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  return m == MAP_FAILED ? nullptr : static_cast<std::byte*>(m);
}

// Memory the kernel allocated for this ring, reached through the ring fd at `offset`.
std::byte* map_ring_memory(int ring_fd, std::size_t size, std::uint64_t offset) noexcept {
  void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd,
                   static_cast<off_t>(offset));
  return m == MAP_FAILED ? nullptr : static_cast<std::byte*>(m);
}

void unmap(void* p, std::size_t size) noexcept {
  if (p != nullptr && size != 0) ::munmap(p, size);
}

}  // namespace

// ---- provided-buffer rings ---------------------------------------------------------------------

buffer_ring::buffer_ring(buffer_ring&& o) noexcept
    // Moves only the registration part of `o`; its own members are taken one by one below.
    : registration(std::move(static_cast<registration&>(o))),
      ring_(std::exchange(o.ring_, nullptr)),
      ring_mapped_(std::exchange(o.ring_mapped_, 0)),
      storage_(std::exchange(o.storage_, nullptr)),
      storage_mapped_(std::exchange(o.storage_mapped_, 0)),
      mask_(o.mask_),
      buffer_size_(o.buffer_size_),
      tail_(o.tail_),
      staged_(o.staged_),
      available_(o.available_),
      incremental_(o.incremental_),
      states_(std::move(o.states_)) {}

buffer_ring::~buffer_ring() {
  // Unregistered before the memory goes, so the kernel never holds a ring that is unmapped.
  (void)unregister();
  unmap();
}

void buffer_ring::unmap() noexcept {
  urine::unmap(ring_, ring_mapped_);
  urine::unmap(storage_, storage_mapped_);
  ring_ = nullptr;
  storage_ = nullptr;
  ring_mapped_ = storage_mapped_ = 0;
}

result<void> buffer_ring::unregister_from(ring_ref ring, std::uint16_t group) {
  abi::buf_reg reg{};
  reg.bgid = group;
  const int ret = ring.call(unregister_opcode, &reg, 1);
  if (ret < 0)
    return detail::refused(unregister_opcode, ret,
                           detail::asked(unregister_opcode, "group " + std::to_string(group)));
  return {};
}

result<std::uint32_t> buffer_ring::kernel_head() const {
  constexpr auto op = register_opcode::register_pbuf_status;
  const std::string what = "group " + std::to_string(group());
  if (!registered())
    return fail(std::errc::invalid_argument,
                detail::asked(op, what) + ": not registered through this handle");
  abi::buf_status status{};
  status.buf_group = group();
  const int ret = ring()->call(op, &status, 1);
  if (ret < 0) return detail::refused(op, ret, detail::asked(op, what));
  return status.head;
}

std::expected<provided_buffer, error> buffer_ring::take_without_buffer(std::int32_t res) const {
  const std::string group = "buffer group " + std::to_string(this->group());
  if (res == -ENOBUFS)
    return std::unexpected(
        error(errno_code(ENOBUFS),
              group + " ran dry: all " + std::to_string(entries()) +
                  " buffers were handed out and none given back; release the provided_buffers (or "
                  "recycle ids) and re-arm the request, which has stopped"));
  if (res < 0)
    return std::unexpected(
        error(errno_code(-res), "a request selecting from " + group + " failed"));
  if (res == 0) return provided_buffer{};  // end of stream: nothing delivered, nothing taken
  return std::unexpected(error(errno_code(EINVAL), "a completion of " + std::to_string(res) +
                                                       " bytes carries no buffer of " + group +
                                                       " (was IOSQE_BUFFER_SELECT set?)"));
}

error buffer_ring::misdelivery(std::uint16_t id, std::uint32_t n) const {
  const std::string group = "buffer group " + std::to_string(this->group());
  if (id > mask_)
    return error(errno_code(EINVAL), "buffer id " + std::to_string(id) + " is not in " + group +
                                         " (" + std::to_string(entries()) + " buffers)");
  return error(errno_code(EINVAL), std::to_string(n) + " bytes at offset " +
                                       std::to_string(incremental_ ? states_[id].offset : 0) +
                                       " overrun buffer " + std::to_string(id) + " of " + group);
}

result<buffer_ring> register_buffer_ring(ring_ref ring, const buffer_ring_options& o) {
  constexpr auto op = register_opcode::register_pbuf_ring;
  const std::string what = "group " + std::to_string(o.group) + ", " + std::to_string(o.entries) +
                           " × " + std::to_string(o.buffer_size) + " bytes";
  if (o.entries == 0 || o.entries > buffer_ring::max_entries || !std::has_single_bit(o.entries))
    return fail(std::errc::invalid_argument, detail::asked(op, what) +
                                                 ": entries must be a power of two, 1 ... " +
                                                 std::to_string(buffer_ring::max_entries));
  if (o.buffer_size == 0)
    return fail(std::errc::invalid_argument,
                detail::asked(op, what) + ": a buffer needs at least one byte");
  const std::size_t storage_size = std::size_t{o.entries} * o.buffer_size;
  if (!o.storage.empty() && o.storage.size() < storage_size)
    return fail(std::errc::invalid_argument, detail::asked(op, what) +
                                                 ": the storage given has only " +
                                                 std::to_string(o.storage.size()) + " bytes");
  if (o.memory == buffer_ring_memory::kernel && ring.fd() < 0)
    return fail(
        std::errc::bad_file_descriptor,
        detail::asked(op, what) +
            ": kernel-allocated rings are mapped through the ring fd, and this ring has none");

  buffer_ring br(ring, o.group);
  br.ring_bound::ring_.reset();  // nothing to unregister until the kernel says yes
  br.mask_ = o.entries - 1;
  br.buffer_size_ = o.buffer_size;
  br.incremental_ = o.incremental;
  if (o.storage.empty()) {
    br.storage_mapped_ = round_to_pages(storage_size);
    br.storage_ = map_anonymous(br.storage_mapped_);
    if (br.storage_ == nullptr) {
      br.storage_mapped_ = 0;
      return fail(-errno, detail::asked(op, what) + ": mapping the buffers' memory");
    }
  } else {
    br.storage_ = o.storage.data();
  }
  const std::size_t ring_size = round_to_pages(std::size_t{o.entries} * sizeof(abi::buf));
  abi::buf_reg reg{};
  reg.ring_entries = o.entries;
  reg.bgid = o.group;
  pbuf_ring_flags flags = o.incremental ? pbuf_ring_flags::incremental : pbuf_ring_flags::none;
  if (o.memory == buffer_ring_memory::application) {
    br.ring_ = reinterpret_cast<abi::buf*>(map_anonymous(ring_size));
    if (br.ring_ == nullptr)
      return fail(-errno, detail::asked(op, what) + ": mapping the ring's memory");
    br.ring_mapped_ = ring_size;
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(br.ring_);
  } else {
    flags |= pbuf_ring_flags::mmap;
  }
  reg.flags = bits(flags);
  const int ret = ring.call(op, &reg, 1);
  if (ret < 0) {
    std::string text = detail::asked(op, what);
    if (ret == -EEXIST) text += ": the group id is already in use on this ring";
    if (ret == -ENOMEM) text += detail::memlock_refusal();
    if (ret == -EINVAL && o.incremental) text += " (incremental consumption needs kernel 6.12)";
    return detail::refused(op, ret, std::move(text));
  }
  br.ring_bound::ring_ = ring;
  if (o.memory == buffer_ring_memory::kernel) {
    const std::uint64_t offset =
        abi::off_pbuf_ring | (std::uint64_t{o.group} << abi::off_pbuf_shift);
    br.ring_ = reinterpret_cast<abi::buf*>(map_ring_memory(ring.fd(), ring_size, offset));
    if (br.ring_ == nullptr)
      return fail(-errno, detail::asked(op, what) + ": mapping the kernel's ring");
    br.ring_mapped_ = ring_size;
  }
  br.states_.resize(o.entries);
  for (std::uint32_t id = 0; id < o.entries; ++id)
    br.add(br.buffer(static_cast<std::uint16_t>(id)), static_cast<std::uint16_t>(id));
  br.commit();
  return br;
}

// ---- wait regions ------------------------------------------------------------------------------

wait_region& wait_region::operator=(wait_region&& o) noexcept {
  if (this != &o) {
    unmap(slots_.data(), mapped_);
    slots_ = std::exchange(o.slots_, {});
    mapped_ = std::exchange(o.mapped_, 0);
  }
  return *this;
}

wait_region::~wait_region() { unmap(slots_.data(), mapped_); }

void wait_region::set_timeout(std::uint32_t i, std::chrono::nanoseconds timeout,
                              std::chrono::microseconds min_wait) const noexcept {
  abi::reg_wait& w = slots_[i];
  w = abi::reg_wait{};
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  w.ts = {secs.count(), (timeout - secs).count()};
  w.min_wait_usec = static_cast<std::uint32_t>(min_wait.count());
  w.flags = bits(reg_wait_flags::ts);
}

result<wait_region> register_wait_region(ring_ref ring, std::uint32_t count, region_memory memory) {
  constexpr auto op = register_opcode::register_mem_region;
  const std::string what = std::to_string(count) + " wait slots";
  if (count == 0 || count > (1u << 20))
    return fail(std::errc::invalid_argument, detail::asked(op, what) + ": 1 ... 1048576 slots");
  const std::size_t size = round_to_pages(std::size_t{count} * sizeof(abi::reg_wait));
  abi::region_desc rd{};
  rd.size = size;
  std::byte* mem = nullptr;
  if (memory == region_memory::application) {
    mem = map_anonymous(size);
    if (mem == nullptr) return fail(-errno, detail::asked(op, what) + ": mapping the region");
    rd.user_addr = reinterpret_cast<std::uintptr_t>(mem);
    rd.flags = bits(region_flags::type_user);
  } else if (ring.fd() < 0) {
    return fail(std::errc::bad_file_descriptor,
                detail::asked(op, what) +
                    ": kernel memory is mapped through the ring fd, and this ring has none");
  }
  abi::mem_region_reg reg{};
  reg.region_uptr = reinterpret_cast<std::uintptr_t>(&rd);
  reg.flags = bits(mem_region_reg_flags::reg_wait_arg);
  const int ret = ring.call(op, &reg, 1);
  if (ret < 0) {
    unmap(mem, size);
    std::string text = detail::asked(op, what);
    if (ret == -EINVAL)
      text +=
          ": wait arguments are registered on a ring created disabled (setup::disabled), before "
          "enable_rings()";
    if (ret == -EBUSY) text += ": the ring already has a wait region";
    return detail::refused(op, ret, std::move(text));
  }
  if (memory == region_memory::kernel) {
    mem = map_ring_memory(ring.fd(), size, rd.mmap_offset);
    if (mem == nullptr)
      return fail(-errno, detail::asked(op, what) + ": mapping the kernel's region");
  }
  return wait_region({reinterpret_cast<abi::reg_wait*>(mem), count}, size);
}

// ---- zero-copy receive -------------------------------------------------------------------------

zcrx_ifq::~zcrx_ifq() { unmap(refill_, refill_size_); }

result<zcrx_ifq> register_zcrx_ifq(ring_ref ring, const zcrx_request& req) {
  constexpr auto op = register_opcode::register_zcrx_ifq;
  const std::string what = "interface " + std::to_string(req.interface_index) + ", queue " +
                           std::to_string(req.rx_queue);
  if (req.area.empty() || reinterpret_cast<std::uintptr_t>(req.area.data()) % page_size() != 0 ||
      req.area.size() % page_size() != 0)
    return fail(std::errc::invalid_argument,
                detail::asked(op, what) + ": the area must be whole, aligned pages");
  if (req.refill_entries == 0 || !std::has_single_bit(req.refill_entries))
    return fail(std::errc::invalid_argument,
                detail::asked(op, what) + ": refill entries must be a power of two");
  // The refill ring: a head/tail header padded to a cache line, then the entries.
  const std::size_t refill_size =
      round_to_pages(64 + std::size_t{req.refill_entries} * sizeof(abi::zcrx_rqe));
  abi::region_desc rd{};
  rd.size = refill_size;
  abi::zcrx_area_reg area{};
  area.addr = reinterpret_cast<std::uintptr_t>(req.area.data());
  area.len = req.area.size();
  abi::zcrx_ifq_reg reg{};
  reg.if_idx = req.interface_index;
  reg.if_rxq = req.rx_queue;
  reg.rq_entries = req.refill_entries;
  reg.area_ptr = reinterpret_cast<std::uintptr_t>(&area);
  reg.region_ptr = reinterpret_cast<std::uintptr_t>(&rd);
  const int ret = ring.call(op, &reg, 1);
  if (ret < 0) {
    std::string text = detail::asked(op, what);
    switch (-ret) {
      case EPERM:
        text += ": needs CAP_NET_ADMIN";
        break;
      case EINVAL:
        text += ": refused (the ring needs DEFER_TASKRUN and 32-byte CQEs)";
        break;
      case ENODEV:
        text += ": no such network interface";
        break;
      case EOPNOTSUPP:
        text +=
            ": the interface cannot do zero-copy receive (it needs a NIC driver with queue "
            "management and header/data split)";
        break;
      default:
        text += ": the kernel or the NIC refused zero-copy receive";
        break;
    }
    return detail::refused(op, ret, std::move(text));
  }
  zcrx_ifq ifq;
  ifq.id_ = reg.zcrx_id;
  ifq.offsets_ = reg.offsets;
  ifq.area_token_ = area.rq_area_token;
  ifq.refill_ = map_ring_memory(ring.fd(), refill_size, rd.mmap_offset);
  if (ifq.refill_ == nullptr)
    return fail(-errno, detail::asked(op, what) + ": mapping the refill ring");
  ifq.refill_size_ = refill_size;
  return ifq;
}

}  // namespace urine
