// Proof that urine.registration reaches the whole of io_uring_register(2) as kernel 6.18 has it:
// one walk calls the facility behind every opcode 0 ... 35 through the public API, in an order
// that gives each what it needs (a table before its update, a pending request before a cancel),
// and records the answer it got. Every opcode must have been called, and each but ZCRX_IFQ (no
// zero-copy NIC here) must have succeeded. The other tests of the suite check the effects.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <vector>
import urine;
import urine.test_support;
import urine.registration_test_helpers;

namespace {

using namespace urine;
// gtest brings the C++ ABI's `abi` namespace into the global scope; this one is meant.
namespace abi = urine::abi;
using plain_ring = urine::ring<>;

// What each opcode's call answered: empty when it succeeded, else urine's sentence.
class answers {
 public:
  template <class T>
  void record(register_opcode op, const result<T>& r) {
    seen_[op] = r ? std::string() : r.error().message();
  }
  [[nodiscard]] const std::map<register_opcode, std::string>& seen() const { return seen_; }

 private:
  std::map<register_opcode, std::string> seen_;
};

// The tables, rings of buffers, eventfds, personalities and ring fds: each registered, changed
// where it can be, and unregistered, on `ring`; the buffer table is cloned into `other`.
void tables(plain_ring& ring, plain_ring& other, answers& a) {
  using op = register_opcode;
  std::vector<char> memory(4096);
  const ::iovec iov[] = {{memory.data(), memory.size()}};
  {
    auto buffers = register_buffers(ring, iov);
    a.record(op::register_buffers, buffers);
    if (buffers) a.record(op::unregister_buffers, buffers->unregister());
  }
  {
    auto sparse = register_sparse_buffers(ring, 2);
    a.record(op::register_buffers2, sparse);
    if (sparse) {
      a.record(op::register_buffers_update, sparse->update(0, iov));
      a.record(op::register_clone_buffers, clone_buffers(other, *sparse));
    }
  }
  const urine::test::unique_fd efd(::eventfd(0, EFD_CLOEXEC));
  const int fds[] = {efd.get()};
  {
    auto files = register_files(ring, fds);
    a.record(op::register_files, files);
    if (files) a.record(op::register_files_update, files->update(0, fds));
    if (files) a.record(op::unregister_files, files->unregister());
  }
  {
    auto sparse = register_sparse_files(ring, 4);
    a.record(op::register_files2, sparse);
    const std::uint64_t tags[] = {7};
    if (sparse) a.record(op::register_files_update2, sparse->update(0, fds, tags));
    if (sparse) a.record(op::register_file_alloc_range, sparse->set_alloc_range(0, 4));
  }
  for (const auto mode : {eventfd_mode::every_completion, eventfd_mode::async_only}) {
    auto signalled = register_eventfd(ring, efd.get(), mode);
    a.record(mode == eventfd_mode::async_only ? op::register_eventfd_async : op::register_eventfd,
             signalled);
    if (signalled) a.record(op::unregister_eventfd, signalled->unregister());
  }
  {
    auto who = register_personality(ring);
    a.record(op::register_personality, who);
    if (who) a.record(op::unregister_personality, who->unregister());
  }
  {
    auto index = register_ring_fd(ring);
    a.record(op::register_ring_fds, index);
    if (index) a.record(op::unregister_ring_fds, index->unregister());
  }
  {
    auto provided = register_buffer_ring(ring, {.group = 1, .entries = 2, .buffer_size = 64});
    a.record(op::register_pbuf_ring, provided);
    if (provided) a.record(op::register_pbuf_status, provided->kernel_head());
    if (provided) a.record(op::unregister_pbuf_ring, provided->unregister());
  }
}

// The configuring calls on a running ring: probe, io-wq, a synchronous cancel of a pending
// read, NAPI, the wait clock and a message posted without a ring.
void settings(plain_ring& ring, answers& a) {
  using op = register_opcode;
  a.record(op::register_probe, probe_ring(ring));
  ::cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (::sched_getaffinity(0, sizeof cpus, &cpus) == 0) {
    a.record(op::register_iowq_aff, set_iowq_affinity(ring, cpus));
    a.record(op::unregister_iowq_aff, clear_iowq_affinity(ring));
  }
  a.record(op::register_iowq_max_workers, iowq_max_workers(ring));

  std::array<int, 2> p{};
  if (::pipe2(p.data(), O_CLOEXEC) == 0) {
    const urine::test::unique_fd rd(p[0]), wr(p[1]);
    char byte = 0;
    urine::test::raw_sqe(ring, 1, [&](abi::sqe& s) {
      s.opcode = static_cast<std::uint8_t>(opcode::read);
      s.fd = rd.get();
      s.addr = reinterpret_cast<std::uintptr_t>(&byte);
      s.len = 1;
    });
    if (ring.submit()) a.record(op::register_sync_cancel, sync_cancel(ring, {.data = 1}));
    // Canceled, or (when the cancel failed) completed by this byte: either way it ends.
    (void)!::write(wr.get(), "x", 1);
    (void)urine::test::reap(ring, 1);
  }
  {
    auto napi = register_napi(ring, {});
    a.record(op::register_napi, napi);
    if (napi) a.record(op::unregister_napi, napi->unregister());
  }
  a.record(op::register_clock, set_wait_clock(ring, wait_clock::boottime));
  const auto posted = send_msg_ring(ring, 2, 0);
  a.record(op::register_send_msg_ring, posted);
  if (posted) (void)urine::test::reap(ring, 1);
  a.record(op::register_query, query());
}

// What needs a ring created disabled, or of another configuration.
void special_rings(answers& a) {
  using op = register_opcode;
  if (auto sandboxed = plain_ring::create(setup{.entries = 4, .disabled = true})) {
    a.record(op::register_restrictions, restrictions{}.allow(opcode::nop).apply(*sandboxed));
    a.record(op::register_enable_rings, enable_rings(*sandboxed));
  }
  if (auto waiting = plain_ring::create(setup{.entries = 4, .disabled = true}))
    a.record(op::register_mem_region, register_wait_region(*waiting, 1));
  if (auto deferred = urine::ring<defer_task_run<>>::create(4))
    a.record(op::register_resize_rings, resize_rings(*deferred, 8));
  if (auto big = urine::ring<defer_task_run<>, cqe32>::create(4)) {
    const std::size_t size = 16 * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* area = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area != MAP_FAILED) {
      a.record(op::register_zcrx_ifq,
               register_zcrx_ifq(*big, {.interface_index = ::if_nametoindex("lo"),
                                        .refill_entries = 64,
                                        .area = {static_cast<std::byte*>(area), size}}));
      ::munmap(area, size);
    }
  }
}

TEST(register_coverage, every_opcode_of_6_18_is_called_and_all_but_zcrx_succeed) {
  auto ring = plain_ring::create(8);
  auto other = plain_ring::create(8);
  ASSERT_TRUE(ring && other);
  answers a;
  tables(*ring, *other, a);
  settings(*ring, a);
  special_rings(a);

  // An opcode the running kernel does not have cannot be required.
  for (unsigned i = 0; i < register_opcode_count_6_18; ++i) {
    const auto code = static_cast<register_opcode>(i);
    if (const auto why = urine::test::lacks(code); !why.empty()) {
      std::cout << why << '\n';
      continue;
    }
    const auto it = a.seen().find(code);
    if (it == a.seen().end()) {
      ADD_FAILURE() << "IORING_" << name(code) << " was never called";
      continue;
    }
    if (code == register_opcode::register_zcrx_ifq)
      EXPECT_FALSE(it->second.empty()) << "ZCRX_IFQ succeeded: a zero-copy NIC is present, "
                                          "extend the test";
    else
      EXPECT_TRUE(it->second.empty()) << it->second;
    std::cout << "IORING_" << name(code) << ": " << (it->second.empty() ? "succeeded" : it->second)
              << '\n';
  }
}

}  // namespace
