// The configuring registrations on the real kernel, each checked by its effect: the eventfd
// counter, the probe against a request, the personality's uid on a created file, EACCES under
// restrictions, the io-wq limits read back and a worker's CPU mask, a request reached through a
// registered ring index, a pending read canceled synchronously, a wait on the registered clock,
// a CQE posted without a ring, NAPI settings read back, and zero-copy receive refused clearly.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>
import urine;
import urine.test_support;
import urine.registration_test_helpers;

namespace {

using namespace urine;
// gtest brings the C++ ABI's `abi` namespace into the global scope; this one is meant.
namespace abi = urine::abi;
using plain_ring = urine::ring<>;
using urine::test::raw_sqe;
using urine::test::submit_and_reap;

std::uint64_t eventfd_value(int fd) {
  std::uint64_t v = 0;
  return ::read(fd, &v, sizeof v) == sizeof v ? v : 0;
}

TEST(eventfd, counts_completions) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  urine::test::unique_fd efd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  auto reg = register_eventfd(*ring, efd.get());
  ASSERT_TRUE(reg) << reg.error().message();
  raw_sqe(*ring, 1, urine::test::prep_nop);
  submit_and_reap(*ring, 1);
  EXPECT_GE(eventfd_value(efd.get()), 1u);

  auto twice = register_eventfd(*ring, efd.get());
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("already has an eventfd"), std::string::npos)
      << twice.error().message();

  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  urine::test::unique_fd rd(p[0]), wr(p[1]);
  auto not_an_eventfd = register_eventfd(*ring, rd.get());
  ASSERT_FALSE(not_an_eventfd);
  EXPECT_NE(not_an_eventfd.error().message().find("REGISTER_EVENTFD (fd "), std::string::npos);

  ASSERT_TRUE(reg->unregister().has_value());
  raw_sqe(*ring, 2, urine::test::prep_nop);
  submit_and_reap(*ring, 1);
  EXPECT_EQ(eventfd_value(efd.get()), 0u) << "unregistered: no more signals";
}

TEST(eventfd, async_only_ignores_inline_completions) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  urine::test::unique_fd efd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  auto reg = register_eventfd(*ring, efd.get(), eventfd_mode::async_only);
  ASSERT_TRUE(reg) << reg.error().message();
  raw_sqe(*ring, 1, urine::test::prep_nop);
  submit_and_reap(*ring, 1);
  EXPECT_EQ(eventfd_value(efd.get()), 0u) << "a NOP completes inline";
  raw_sqe(*ring, 2, [](abi::sqe& s) {
    urine::test::prep_nop(s);
    s.flags = bits(sqe_flags::async);
  });
  submit_and_reap(*ring, 1);
  EXPECT_EQ(eventfd_value(efd.get()), 1u) << "a NOP sent to io-wq completes out of line";
}

TEST(probe, agrees_with_the_kernel) {
  auto ring = plain_ring::create(4);
  ASSERT_TRUE(ring);
  auto p = probe_ring(*ring);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_TRUE(p->supports(opcode::nop));
  EXPECT_TRUE(p->supports(opcode::read_fixed));
  EXPECT_FALSE(p->supports(static_cast<opcode>(250)));
  EXPECT_GE(p->last_op(), static_cast<std::uint8_t>(opcode::read_fixed));
  // The probe's word checked against a request: what it calls supported is accepted.
  raw_sqe(*ring, 1, urine::test::prep_nop);
  raw_sqe(*ring, 2, [&](abi::sqe& s) { s.opcode = static_cast<std::uint8_t>(p->last_op() + 1); });
  const auto cqes = submit_and_reap(*ring, 2);
  EXPECT_EQ(urine::test::find(cqes, 1)->res, 0);
  EXPECT_EQ(urine::test::find(cqes, 2)->res, -EINVAL) << "one past the last opcode is unknown";
}

TEST(probe, query_and_capability_report) {
  auto q = query();
  if (!q) GTEST_SKIP() << q.error().message();
  EXPECT_GE(q->request_opcodes, opcode_count_6_18);
  EXPECT_GE(q->register_opcodes, register_opcode_count_6_18);
  EXPECT_TRUE(has(q->setup, setup_flags::sqpoll | setup_flags::defer_taskrun));
  auto report = capabilities();
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->queried);
  EXPECT_FALSE(report->kernel_release.empty());
  EXPECT_TRUE(report->supports(opcode::read));
  EXPECT_TRUE(report->supports(register_opcode::register_query));
  EXPECT_TRUE(report->supports(feature_flags::nodrop));
  EXPECT_TRUE(report->supports(setup_flags::cqsize));
  // Probe and query agree on the opcode count.
  EXPECT_EQ(report->ops.last_op() + 1u, q->request_opcodes);
}

TEST(personality, an_id_lives_until_unregistered) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  auto own = register_personality(*ring);
  ASSERT_TRUE(own) << own.error().message();
  ASSERT_TRUE(ring->push(ops::nop{}, 1, own->options()));
  EXPECT_EQ(submit_and_reap(*ring, 1)[0].res, 0);
  const auto id = own->id();
  ASSERT_TRUE(own->unregister().has_value());
  ASSERT_TRUE(ring->push(ops::nop{}, 2, {.personality = id}));
  EXPECT_EQ(submit_and_reap(*ring, 1)[0].res, -EINVAL) << "the id is gone";
}

TEST(personality, requests_run_with_the_saved_credentials) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching to another uid needs root";
  constexpr uid_t other = 65534;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  // The files are created relative to a directory descriptor opened here, as root: uid `other`
  // needs write access to that directory alone, not to every directory on the way to it (the
  // checkout, its temporary files, even the root of a chroot may be closed to it).
  urine::test::temp_dir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  const urine::test::unique_fd dir_fd(
      ::open(dir.path().c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  ASSERT_GE(dir_fd.get(), 0) << std::strerror(errno);

  ASSERT_EQ(::seteuid(other), 0);
  auto who = register_personality(*ring);
  ASSERT_EQ(::seteuid(0), 0);
  ASSERT_TRUE(who) << who.error().message();
  ASSERT_EQ(::geteuid(), 0u);

  const std::string paths[2] = {(dir.path() / "as_other").string(),
                                (dir.path() / "as_root").string()};
  // The personality rides in the SQE through push()'s options.
  ASSERT_TRUE(ring->push(ops::openat{.dir = dir_fd.get(),
                                     .path = "as_other",
                                     .flags = O_CREAT | O_WRONLY | O_CLOEXEC,
                                     .mode = 0644},
                         0, who->options()));
  ASSERT_TRUE(ring->push(ops::openat{.dir = dir_fd.get(),
                                     .path = "as_root",
                                     .flags = O_CREAT | O_WRONLY | O_CLOEXEC,
                                     .mode = 0644},
                         1));
  const auto cqes = submit_and_reap(*ring, 2);
  for (const auto& c : cqes) {
    ASSERT_GE(c.res, 0) << std::strerror(-c.res);
    ::close(c.res);
  }
  struct stat st{};
  ASSERT_EQ(::stat(paths[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, other) << "created with the registered credentials";
  ASSERT_EQ(::stat(paths[1].c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "created with the task's own";

  const auto id = who->id();
  ASSERT_TRUE(who->unregister().has_value());
  raw_sqe(*ring, 3, [&](abi::sqe& s) {
    urine::test::prep_nop(s);
    s.personality = id;
  });
  EXPECT_EQ(submit_and_reap(*ring, 1)[0].res, -EINVAL) << "the id is gone";
  auto again = who->unregister();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("nothing is registered"), std::string::npos);
}

TEST(restrictions, only_the_allowed_runs) {
  if (const auto why = urine::test::lacks(setup_flags::submit_all | setup_flags::r_disabled);
      !why.empty())
    GTEST_SKIP() << why;
  // SUBMIT_ALL: the refused SQEs must not stop the batch.
  auto ring = plain_ring::create(setup{.entries = 8, .disabled = true, .submit_all = true});
  ASSERT_TRUE(ring) << ring.error().message();
  restrictions allowed;
  allowed.allow(opcode::nop)
      .allow(register_opcode::register_probe)
      .allow(register_opcode::register_eventfd)
      .allow_sqe_flags(sqe_flags::io_link);
  EXPECT_TRUE(allowed.allows(opcode::nop));
  EXPECT_FALSE(allowed.allows(opcode::read));
  ASSERT_TRUE(allowed.apply(*ring).has_value());
  auto second = allowed.apply(*ring);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("already has restrictions"), std::string::npos)
      << second.error().message();
  ASSERT_TRUE(enable_rings(*ring).has_value());

  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  urine::test::unique_fd rd(p[0]), wr(p[1]);
  char byte = 0;
  raw_sqe(*ring, 1, urine::test::prep_nop);
  raw_sqe(*ring, 2, [&](abi::sqe& s) {
    s.opcode = static_cast<std::uint8_t>(opcode::read);
    s.fd = rd.get();
    s.addr = reinterpret_cast<std::uintptr_t>(&byte);
    s.len = 1;
  });
  raw_sqe(*ring, 3, [&](abi::sqe& s) {
    urine::test::prep_nop(s);
    s.flags = bits(sqe_flags::async);
  });
  raw_sqe(*ring, 4, [&](abi::sqe& s) {
    urine::test::prep_nop(s);
    s.flags = bits(sqe_flags::io_link);
  });
  raw_sqe(*ring, 5, urine::test::prep_nop);
  const auto cqes = submit_and_reap(*ring, 5);
  EXPECT_EQ(urine::test::find(cqes, 1)->res, 0);
  EXPECT_EQ(urine::test::find(cqes, 2)->res, -EACCES) << "READ is not allowed";
  EXPECT_EQ(urine::test::find(cqes, 3)->res, -EACCES) << "IOSQE_ASYNC is not allowed";
  EXPECT_EQ(urine::test::find(cqes, 4)->res, 0);

  // Register calls: the allowed work, the others are refused.
  EXPECT_TRUE(probe_ring(*ring).has_value());
  urine::test::unique_fd efd(::eventfd(0, EFD_CLOEXEC));
  EXPECT_TRUE(register_eventfd(*ring, efd.get()).has_value());
  auto refused = register_personality(*ring);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), std::errc::permission_denied);
  EXPECT_NE(refused.error().message().find("REGISTER_PERSONALITY"), std::string::npos)
      << refused.error().message();
}

TEST(restrictions, a_running_ring_refuses_them) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  auto r = restrictions{}.allow(opcode::nop).apply(*ring);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("setup::disabled"), std::string::npos) << r.error().message();
  auto e = enable_rings(*ring);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("not disabled"), std::string::npos) << e.error().message();
  auto empty = restrictions{}.apply(*ring);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("empty"), std::string::npos);
}

TEST(iowq, max_workers_read_back) {
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  raw_sqe(*ring, 1, urine::test::prep_nop);  // the thread's io-wq exists after its first submission
  submit_and_reap(*ring, 1);
  auto previous = set_iowq_max_workers(*ring, {3, 5});
  ASSERT_TRUE(previous) << previous.error().message();
  EXPECT_GT(previous->unbounded, 0u);
  auto now = iowq_max_workers(*ring);
  ASSERT_TRUE(now) << now.error().message();
  EXPECT_EQ(now->bounded, 3u);
  EXPECT_EQ(now->unbounded, 5u);
  ASSERT_TRUE(set_iowq_max_workers(*ring, *previous).has_value());
  auto bad = set_iowq_max_workers(*ring, {0x80000000u, 0});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("INT_MAX"), std::string::npos);
}

// The CPUs a thread of this process may run on, from /proc.
std::string cpus_allowed(const std::filesystem::path& task) {
  std::ifstream status(task / "status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Cpus_allowed_list:", 0) == 0)
      return line.substr(line.find_first_not_of(" \t", 18));
  return {};
}

TEST(iowq, affinity_reaches_the_workers) {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs two CPUs to tell masks apart";
  // A fresh thread has a fresh io-wq, whose workers are created under the registered mask.
  std::string seen;
  std::string failure;
  std::thread([&] {
    auto ring = plain_ring::create(8);
    if (!ring) return void(failure = ring.error().message());
    ::cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(1, &cpus);
    if (auto r = set_iowq_affinity(*ring, cpus); !r) return void(failure = r.error().message());
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return void(failure = "pipe");
    urine::test::unique_fd rd(p[0]), wr(p[1]);
    char byte = 0;
    // A read forced to io-wq blocks in a worker until the pipe has data.
    raw_sqe(*ring, 1, [&](abi::sqe& s) {
      s.opcode = static_cast<std::uint8_t>(opcode::read);
      s.fd = rd.get();
      s.addr = reinterpret_cast<std::uintptr_t>(&byte);
      s.len = 1;
      s.flags = bits(sqe_flags::async);
    });
    (void)ring->submit();
    for (int tries = 0; tries < 100 && seen.empty(); ++tries) {
      for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        if (name.rfind("iou-wrk-" + std::to_string(::gettid()), 0) == 0)
          seen = cpus_allowed(task.path());
      }
      if (seen.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    (void)::write(wr.get(), "x", 1);
    urine::test::reap(*ring, 1);
    if (auto r = clear_iowq_affinity(*ring); !r) failure = r.error().message();
  }).join();
  ASSERT_TRUE(failure.empty()) << failure;
  EXPECT_EQ(seen, "1") << "the io-wq worker runs only on the registered CPU";
}

TEST(ring_fds, a_registered_index_reaches_the_ring) {
  if (const auto why = urine::test::lacks(register_opcode::register_ring_fds); !why.empty())
    GTEST_SKIP() << why;
  if (const auto why = urine::test::predates(
          {6, 3}, "reaching a ring by its registered index (IORING_REGISTER_USE_REGISTERED_RING)");
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  auto index = register_ring_fd(*ring);
  ASSERT_TRUE(index) << index.error().message();
  const auto probe_through = [](int fd, std::uint32_t extra) {
    struct {
      abi::probe header;
      abi::probe_op ops[256];
    } p{};
    return abi::io_uring_register(
        fd, static_cast<std::uint32_t>(register_opcode::register_probe) | extra, &p, 256);
  };
  EXPECT_EQ(probe_through(static_cast<int>(index->index()), register_use_registered_ring), 0);
  const auto i = index->index();
  ASSERT_TRUE(index->unregister().has_value());
  EXPECT_LT(probe_through(static_cast<int>(i), register_use_registered_ring), 0)
      << "the slot is empty again";

  auto bad = register_ring_fd(*ring, -1, max_registered_ring_fds);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("slots 0 ... 15"), std::string::npos)
      << bad.error().message();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  urine::test::unique_fd rd(p[0]), wr(p[1]);
  auto not_a_ring = register_ring_fd(*ring, rd.get());
  ASSERT_FALSE(not_a_ring);
  EXPECT_NE(not_a_ring.error().message().find("REGISTER_RING_FDS"), std::string::npos);
}

TEST(sync_cancel, cancels_a_pending_read) {
  if (const auto why = urine::test::lacks(register_opcode::register_sync_cancel); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  urine::test::unique_fd rd(p[0]), wr(p[1]);
  char bytes[2] = {};
  for (std::uint64_t u : {99u, 100u})
    raw_sqe(*ring, u, [&](abi::sqe& s) {
      s.opcode = static_cast<std::uint8_t>(opcode::read);
      s.fd = rd.get();
      s.addr = reinterpret_cast<std::uintptr_t>(&bytes[u - 99]);
      s.len = 1;
    });
  ASSERT_TRUE(ring->submit());
  EXPECT_EQ(ring->cq_ready(), 0u) << "both reads wait for data";

  auto one = sync_cancel(*ring, {.data = 99});
  ASSERT_TRUE(one) << one.error().message();
  EXPECT_EQ(*one, 1u);
  auto timed = sync_cancel(*ring, {.data = 100, .timeout = std::chrono::seconds(1)});
  ASSERT_TRUE(timed) << timed.error().message();
  const auto cqes = urine::test::reap(*ring, 2);
  EXPECT_EQ(urine::test::find(cqes, 99)->res, -ECANCELED);
  EXPECT_EQ(urine::test::find(cqes, 100)->res, -ECANCELED);

  auto none = sync_cancel(*ring, {.data = 12345});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), std::errc::no_such_file_or_directory);
  EXPECT_NE(none.error().message().find("no pending request matched"), std::string::npos)
      << none.error().message();
}

TEST(sync_cancel, matches_a_registered_file_and_a_plain_descriptor_apart) {
  if (const auto why = urine::test::lacks(register_opcode::register_sync_cancel); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  int a[2], b[2];
  ASSERT_EQ(::pipe2(a, O_CLOEXEC), 0);
  urine::test::unique_fd a_rd(a[0]), a_wr(a[1]);
  ASSERT_EQ(::pipe2(b, O_CLOEXEC), 0);
  urine::test::unique_fd b_rd(b[0]), b_wr(b[1]);
  const int table[1] = {a_rd.get()};
  auto files = register_files(*ring, table);
  ASSERT_TRUE(files) << files.error().message();
  char bytes[2] = {};
  // 1: reads pipe a through registered slot 0; 2: reads pipe b through its descriptor.
  ASSERT_TRUE(ring->push(ops::read{.file = (*files)[0], .into = buffer(&bytes[0], 1)}, 1));
  ASSERT_TRUE(ring->push(ops::read{.file = b_rd.get(), .into = buffer(&bytes[1], 1)}, 2));
  ASSERT_TRUE(ring->submit());
  EXPECT_EQ(ring->cq_ready(), 0u) << "both reads wait for data";

  auto by_slot = sync_cancel(*ring, {.file = (*files)[0], .all = true});
  ASSERT_TRUE(by_slot) << by_slot.error().message();
  EXPECT_EQ(*by_slot, 1u) << "only the read through the registered slot matches";
  const auto first = urine::test::reap(*ring, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].user_data, 1u);
  EXPECT_EQ(first[0].res, -ECANCELED);

  auto by_fd = sync_cancel(*ring, {.file = b_rd.get(), .all = true});
  ASSERT_TRUE(by_fd) << by_fd.error().message();
  EXPECT_EQ(*by_fd, 1u);
  const auto second = urine::test::reap(*ring, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].user_data, 2u);
  EXPECT_EQ(second[0].res, -ECANCELED);
}

TEST(clock, waits_are_measured_on_the_registered_clock) {
  if (const auto why = urine::test::lacks(register_opcode::register_clock); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  ASSERT_TRUE(set_wait_clock(*ring, wait_clock::boottime).has_value());
  const auto start = std::chrono::steady_clock::now();
  auto w = ring->wait_for(1, std::chrono::milliseconds(30));
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), urine::errno_code(ETIME));
  EXPECT_GE(waited, std::chrono::milliseconds(25));
  EXPECT_TRUE(set_wait_clock(*ring, wait_clock::monotonic).has_value());
}

abi::kernel_timespec clock_now(clockid_t clock, std::chrono::nanoseconds ahead) {
  ::timespec now{};
  ::clock_gettime(clock, &now);
  const auto t = std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec) + ahead;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t);
  return {secs.count(), (t - secs).count()};
}

TEST(clock, absolute_deadlines_are_read_on_the_registered_clock) {
  if (const auto why = urine::test::lacks(register_opcode::register_clock); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  ASSERT_TRUE(set_wait_clock(*ring, wait_clock::boottime).has_value());
  // Wait until `ahead` from now on CLOCK_BOOTTIME; the stopwatch starts before the deadline is
  // read, so a slow machine cannot make the measured wait shorter than the deadline.
  const auto wait_for = [&](std::chrono::milliseconds ahead) {
    const auto start = std::chrono::steady_clock::now();
    abi::kernel_timespec deadline = clock_now(CLOCK_BOOTTIME, ahead);
    abi::getevents_arg arg{};
    arg.sigmask_sz = abi::kernel_sigset_size;
    arg.ts = reinterpret_cast<std::uintptr_t>(&deadline);
    const int ret = ring->enter(
        0, 1, bits(enter_flags::getevents | enter_flags::ext_arg | enter_flags::abs_timer), &arg,
        sizeof arg);
    EXPECT_EQ(ret, -ETIME);
    return std::chrono::steady_clock::now() - start;
  };
  // A deadline 40 ms ahead on CLOCK_BOOTTIME is waited for in full...
  EXPECT_GE(wait_for(std::chrono::milliseconds(40)), std::chrono::milliseconds(39));
  // ...and one already past on CLOCK_BOOTTIME returns at once.
  EXPECT_LT(wait_for(-std::chrono::milliseconds(1)), std::chrono::milliseconds(30));
  const auto boot = clock_now(CLOCK_BOOTTIME, {});
  const auto mono = clock_now(CLOCK_MONOTONIC, {});
  std::cout << "CLOCK_BOOTTIME is " << (boot.tv_sec - mono.tv_sec)
            << " s ahead of CLOCK_MONOTONIC here\n";
}

TEST(send_msg_ring, posts_into_a_ring_without_one) {
  if (const auto why = urine::test::lacks(register_opcode::register_send_msg_ring); !why.empty())
    GTEST_SKIP() << why;
  auto target = plain_ring::create(8);
  ASSERT_TRUE(target);
  ASSERT_TRUE(send_msg_ring(*target, 0xfeed, 77).has_value());
  const auto cqes = urine::test::reap(*target, 1);
  EXPECT_EQ(cqes[0].user_data, 0xfeedu);
  EXPECT_EQ(cqes[0].res, 77);

  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  urine::test::unique_fd rd(p[0]), wr(p[1]);
  auto not_a_ring = send_msg_ring(rd.get(), 1, 1);
  ASSERT_FALSE(not_a_ring);
  EXPECT_NE(not_a_ring.error().message().find("REGISTER_SEND_MSG_RING"), std::string::npos);
}

TEST(napi, settings_read_back_on_a_loopback_socket) {
  if (const auto why = urine::test::lacks(register_opcode::register_napi); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  auto [client, server] = urine::test::tcp_pair();
  auto napi = register_napi(*ring, {std::chrono::microseconds(50), true});
  if (!napi && napi.error() == std::errc::operation_not_supported)
    GTEST_SKIP() << napi.error().message();
  ASSERT_TRUE(napi) << napi.error().message();
  EXPECT_EQ(napi->previous(), napi_settings{});

  char buf[16] = {};
  raw_sqe(*ring, 1, [&, fd = server.get()](abi::sqe& s) {
    s.opcode = static_cast<std::uint8_t>(opcode::recv);
    s.fd = fd;
    s.addr = reinterpret_cast<std::uintptr_t>(buf);
    s.len = sizeof buf;
  });
  ASSERT_TRUE(ring->submit());
  urine::test::send_all(client.get(), "busy");
  const auto cqes = urine::test::reap(*ring, 1);
  EXPECT_EQ(cqes[0].res, 4);
  EXPECT_EQ(std::string(buf, 4), "busy");

  // A ring has one setting: registering again replaces it and reports what it replaced.
  auto replacing = register_napi(*ring, {std::chrono::microseconds(10), false});
  ASSERT_TRUE(replacing) << replacing.error().message();
  EXPECT_EQ(replacing->previous(), (napi_settings{std::chrono::microseconds(50), true}));
  auto in_force = replacing->unregister();
  ASSERT_TRUE(in_force) << in_force.error().message();
  EXPECT_EQ(*in_force, (napi_settings{std::chrono::microseconds(10), false}));
  auto off = napi->unregister();
  ASSERT_TRUE(off) << off.error().message();
  EXPECT_EQ(*off, napi_settings{}) << "already off";
}

TEST(zcrx, the_kernel_refusal_is_clear) {
  if (const auto why = urine::test::lacks(urine::ring<defer_task_run<>, cqe32>::config::flags);
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = urine::ring<defer_task_run<>, cqe32>::create(8);
  ASSERT_TRUE(ring) << ring.error().message();
  const std::size_t size = 16 * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* area = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(area, MAP_FAILED);
  auto ifq = register_zcrx_ifq(*ring, {.interface_index = ::if_nametoindex("lo"),
                                       .rx_queue = 0,
                                       .refill_entries = 64,
                                       .area = {static_cast<std::byte*>(area), size}});
  ::munmap(area, size);
  ASSERT_FALSE(ifq) << "the loopback device has no zero-copy receive queues";
  const std::string text = ifq.error().message();
  std::cout << "zcrx refusal: " << text << '\n';
  EXPECT_NE(text.find("IORING_REGISTER_ZCRX_IFQ (interface"), std::string::npos) << text;
  EXPECT_TRUE(ifq.error().code()) << text;

  auto unaligned = register_zcrx_ifq(*ring, {.interface_index = 1, .area = {}});
  ASSERT_FALSE(unaligned);
  EXPECT_NE(unaligned.error().message().find("aligned pages"), std::string::npos);
}

}  // namespace
