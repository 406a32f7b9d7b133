// Provided-buffer rings under a multishot receive: many messages through few buffers, drained
// and refilled through leases with every byte checked; the ring running dry and ENOBUFS saying
// so; kernel-allocated rings and PBUF_STATUS; incremental consumption packing messages into one
// buffer; completions held in order through their buffers; and the refusals.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iostream>
#include <set>
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
using urine::test::raw_sqe;

constexpr std::uint64_t recv_tag = 1;

TEST(buffer_ring, multishot_receive_drains_and_refills_with_every_byte_checked) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_ring); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(16);
  ASSERT_TRUE(ring);
  auto br = register_buffer_ring(*ring, {.group = 3, .entries = 8, .buffer_size = 64});
  ASSERT_TRUE(br) << br.error().message();
  auto [receiver, sender] = urine::test::unix_pair();

  const std::string stream = urine::test::pattern(std::size_t{64} * 400, 5);
  std::string received;
  std::set<std::uint16_t> ids;
  std::deque<provided_buffer> held;  // some leases are kept a while, as a slow consumer would
  std::size_t sent = 0, completions = 0, rearms = 0;
  bool armed = false;
  while (received.size() < stream.size()) {
    if (!armed) {
      // The typed operation: a multishot receive selecting from group 3.
      ASSERT_TRUE(ring->push(ops::recv{.file = receiver.get(),
                                       .into = buffer_group{br->group()},
                                       .io_flags = recvsend_flags::recv_multishot},
                             recv_tag));
      ASSERT_TRUE(ring->submit());
      armed = true;
      ++rearms;
    }
    if (sent < stream.size()) {
      const std::size_t chunk = std::min<std::size_t>(1 + (sent * 7) % 300, stream.size() - sent);
      urine::test::send_all(sender.get(), std::string_view(stream).substr(sent, chunk));
      sent += chunk;
    }
    // A chunk may already have been delivered with the previous batch: a timeout is no failure.
    (void)ring->wait_for(1, std::chrono::milliseconds(200));
    ring->for_each_cqe([&](auto c) {
      ++completions;
      auto lease = br->take(c);
      if (!c.more()) armed = false;
      if (!lease) {
        // Only running dry may stop the receive; the next round re-arms it.
        ASSERT_EQ(lease.error(), std::errc::no_buffer_space) << lease.error().message();
        return;
      }
      ids.insert(lease->id());
      received.append(lease->text());
      held.push_back(std::move(*lease));
      if (held.size() > 3) held.pop_front();  // releasing gives the buffer back
    });
  }
  held.clear();
  EXPECT_EQ(received.size(), stream.size());
  EXPECT_TRUE(received == stream) << "every byte, in order";
  EXPECT_EQ(ids.size(), 8u) << "all buffers went round";
  EXPECT_GT(completions, 400u * 64 / 64 / 2);
  EXPECT_EQ(br->available(), 8u) << "every buffer is back in the kernel's hands";
  std::cout << completions << " completions, " << rearms << " arms\n";
}

TEST(buffer_ring, running_dry_surfaces_as_enobufs) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_status); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(16);
  ASSERT_TRUE(ring);
  auto br = register_buffer_ring(*ring, {.group = 1, .entries = 4, .buffer_size = 16});
  ASSERT_TRUE(br) << br.error().message();
  auto [receiver, sender] = urine::test::unix_pair();
  const std::string stream = urine::test::pattern(200, 9);
  urine::test::send_all(sender.get(), stream);

  raw_sqe(*ring, recv_tag,
          [&](abi::sqe& s) { urine::test::prep_recv_multishot(s, receiver.get(), 1); });
  ASSERT_TRUE(ring->submit());
  std::vector<provided_buffer> kept;
  std::string received;
  bool dry = false;
  while (!dry) {
    ASSERT_TRUE(ring->wait(1));
    ring->for_each_cqe([&](auto c) {
      auto lease = br->take(c);
      if (!lease) {
        EXPECT_EQ(lease.error(), std::errc::no_buffer_space);
        EXPECT_NE(lease.error().message().find("buffer group 1 ran dry"), std::string::npos)
            << lease.error().message();
        EXPECT_FALSE(c.more()) << "the multishot receive has stopped";
        dry = true;
        return;
      }
      received.append(lease->text());
      kept.push_back(std::move(*lease));  // never given back: the ring must run dry
    });
  }
  EXPECT_EQ(kept.size(), 4u);
  EXPECT_EQ(received, stream.substr(0, 64));
  EXPECT_EQ(br->available(), 0u);
  auto head = br->kernel_head();
  ASSERT_TRUE(head) << head.error().message();
  EXPECT_EQ(*head, 4u) << "PBUF_STATUS: the kernel consumed all four";

  kept.clear();  // all four go back
  EXPECT_EQ(br->available(), 4u);
  while (received.size() < stream.size()) {
    raw_sqe(*ring, recv_tag,
            [&](abi::sqe& s) { urine::test::prep_recv_multishot(s, receiver.get(), 1); });
    ASSERT_TRUE(ring->submit());
    bool stopped = false;
    while (!stopped && received.size() < stream.size()) {
      (void)ring->wait_for(1, std::chrono::milliseconds(200));
      ring->for_each_cqe([&](auto c) {
        if (!c.more()) stopped = true;
        if (auto lease = br->take(c)) received.append(lease->text());
      });
    }
  }
  EXPECT_EQ(received, stream);
}

TEST(buffer_ring, kernel_allocated_ring_delivers_ids_and_bytes) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_ring); !why.empty())
    GTEST_SKIP() << why;
  if (const auto why =
          urine::test::predates({6, 4}, "a kernel-allocated buffer ring (IOU_PBUF_RING_MMAP)");
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(16);
  ASSERT_TRUE(ring);
  auto br = register_buffer_ring(
      *ring, {.group = 9, .entries = 4, .buffer_size = 32, .memory = buffer_ring_memory::kernel});
  ASSERT_TRUE(br) << br.error().message();
  auto [receiver, sender] = urine::test::tcp_pair();
  for (int i = 0; i < 3; ++i) {
    const std::string msg = "message " + std::to_string(i);
    urine::test::send_all(sender.get(), msg);
    raw_sqe(*ring, 10 + i, [&](abi::sqe& s) {
      s.opcode = static_cast<std::uint8_t>(opcode::recv);
      s.fd = receiver.get();
      s.flags = bits(sqe_flags::buffer_select);
      s.buf_group = 9;
      s.len = 32;
    });
    const auto cqes = urine::test::submit_and_reap(*ring, 1);
    auto lease = br->take(cqes[0].res, cqe_flags(cqes[0].flags));
    ASSERT_TRUE(lease) << lease.error().message();
    EXPECT_EQ(lease->id(), i) << "buffers are handed out in ring order";
    EXPECT_EQ(lease->text(), msg);
    EXPECT_EQ(lease->data().data(), br->buffer(lease->id()).data());
  }
  auto head = br->kernel_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(*head, 3u);
}

TEST(buffer_ring, held_completions_come_back_in_order_with_their_result_and_flags) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_ring); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(16);
  ASSERT_TRUE(ring);
  auto br = register_buffer_ring(*ring, {.group = 4, .entries = 8, .buffer_size = 16});
  ASSERT_TRUE(br) << br.error().message();
  auto [receiver, sender] = urine::test::unix_pair();
  ASSERT_TRUE(ring->push(ops::recv{.file = receiver.get(),
                                   .into = buffer_group{br->group()},
                                   .io_flags = recvsend_flags::recv_multishot},
                         recv_tag));
  ASSERT_TRUE(ring->submit());

  held_completions queue;
  std::vector<std::string> messages;
  std::vector<held_completion> delivered;
  for (unsigned i = 0; i < 3; ++i) {
    messages.push_back(urine::test::pattern(5 + i, i));
    urine::test::send_all(sender.get(), messages.back());
    auto cqes = urine::test::reap(*ring, 1);
    ASSERT_EQ(cqes.size(), 1u);
    delivered.push_back({cqes[0].res, cqe_flags(cqes[0].flags)});
    ASSERT_TRUE(br->hold(queue, cqes[0].res, cqe_flags(cqes[0].flags)));
  }
  EXPECT_EQ(queue.count, 3u);
  EXPECT_FALSE(br->hold(queue, 0, cqe_flags::more)) << "a completion without a buffer";
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const held_completion c = br->unhold(queue);
    EXPECT_EQ(c.res, delivered[i].res);
    EXPECT_EQ(bits(c.flags), bits(delivered[i].flags));
    auto lease = br->take(c.res, c.flags);
    ASSERT_TRUE(lease) << lease.error().message();
    EXPECT_EQ(lease->text(), messages[i]);
  }
  EXPECT_EQ(queue.count, 0u);
  EXPECT_EQ(br->available(), 8u) << "every buffer is back in the kernel's hands";
}

TEST(buffer_ring, incremental_consumption_packs_messages_into_one_buffer) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_ring); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(16);
  ASSERT_TRUE(ring);
  auto br = register_buffer_ring(
      *ring, {.group = 2, .entries = 2, .buffer_size = 1024, .incremental = true});
  if (!br && br.error() == std::errc::invalid_argument) GTEST_SKIP() << br.error().message();
  ASSERT_TRUE(br) << br.error().message();
  auto [receiver, sender] = urine::test::unix_pair();
  raw_sqe(*ring, recv_tag,
          [fd = receiver.get()](abi::sqe& s) { urine::test::prep_recv_multishot(s, fd, 2); });
  ASSERT_TRUE(ring->submit());

  std::vector<provided_buffer> leases;
  std::string received, stream;
  for (int i = 0; i < 10; ++i) {
    const std::string msg = urine::test::pattern(100, static_cast<unsigned>(i));
    stream += msg;
    urine::test::send_all(sender.get(), msg);
    auto cqes = urine::test::reap(*ring, 1);
    for (const auto& c : cqes) {
      held_completions queue;
      EXPECT_FALSE(br->hold(queue, c.res, cqe_flags(c.flags)))
          << "one buffer may be in many completions: they cannot be chained through it";
      auto lease = br->take(c.res, cqe_flags(c.flags));
      ASSERT_TRUE(lease) << lease.error().message();
      received.append(lease->text());
      leases.push_back(std::move(*lease));
    }
  }
  EXPECT_EQ(received, stream);
  // All ten in buffer 0, back to back, with the kernel keeping it for more.
  for (std::size_t i = 0; i < leases.size(); ++i) {
    EXPECT_EQ(leases[i].id(), 0u);
    EXPECT_TRUE(leases[i].kernel_continues());
    if (i > 0)
      EXPECT_EQ(leases[i].data().data(), leases[i - 1].data().data() + leases[i - 1].size());
  }
  leases.clear();
  EXPECT_EQ(br->available(), 2u) << "the partly filled buffer still belongs to the kernel";
}

TEST(buffer_ring, a_buffer_goes_back_only_after_its_last_of_more_than_65536_leases) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_ring); !why.empty())
    GTEST_SKIP() << why;
  // One buffer of 65536 + 2 bytes, consumed a byte per receive: 65538 leases on one buffer, the
  // last delivery finishing it. Two leases released must not hand it back to the kernel.
  constexpr std::uint32_t extra = 2;
  constexpr std::uint32_t leases_on_one = 65536 + extra;
  constexpr std::uint32_t batch = 4096;
  auto ring = plain_ring::create(batch);
  ASSERT_TRUE(ring);
  auto br = register_buffer_ring(
      *ring, {.group = 6, .entries = 1, .buffer_size = leases_on_one, .incremental = true});
  if (!br && br.error() == std::errc::invalid_argument) GTEST_SKIP() << br.error().message();
  ASSERT_TRUE(br) << br.error().message();
  auto [receiver, sender] = urine::test::unix_pair();
  const std::string stream = urine::test::pattern(leases_on_one + 1, 3);
  urine::test::send_all(sender.get(), stream);

  const auto receive_one_byte = [&, fd = receiver.get()](std::uint64_t tag) {
    raw_sqe(*ring, tag, [fd](abi::sqe& s) {
      s.opcode = static_cast<std::uint8_t>(opcode::recv);
      s.fd = fd;
      s.flags = bits(sqe_flags::buffer_select);
      s.buf_group = 6;
      s.len = 1;
    });
  };
  std::vector<provided_buffer> leases;
  leases.reserve(leases_on_one);
  while (leases.size() < leases_on_one) {
    const auto n =
        std::min<std::uint32_t>(batch, leases_on_one - static_cast<std::uint32_t>(leases.size()));
    for (std::uint32_t i = 0; i < n; ++i) receive_one_byte(recv_tag);
    for (const auto& c : urine::test::submit_and_reap(*ring, n)) {
      auto lease = br->take(c.res, cqe_flags(c.flags));
      ASSERT_TRUE(lease) << lease.error().message();
      ASSERT_EQ(lease->text(), stream.substr(leases.size(), 1));
      leases.push_back(std::move(*lease));
    }
  }
  ASSERT_FALSE(leases.back().kernel_continues()) << "the last byte finished the buffer";
  ASSERT_EQ(br->available(), 0u);

  leases.resize(leases.size() - extra);
  EXPECT_EQ(br->available(), 0u) << "65536 leases still hold the buffer";
  // Were it back, this receive would land at its start, under the first lease.
  receive_one_byte(recv_tag + 1);
  const auto refused = urine::test::submit_and_reap(*ring, 1);
  EXPECT_EQ(refused[0].res, -ENOBUFS) << "the kernel must have no buffer to give";
  EXPECT_EQ(leases.front().text(), stream.substr(0, 1));

  leases.clear();
  EXPECT_EQ(br->available(), 1u) << "the last lease gave it back";
  receive_one_byte(recv_tag + 2);
  const auto accepted = urine::test::submit_and_reap(*ring, 1);
  auto lease = br->take(accepted[0].res, cqe_flags(accepted[0].flags));
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(lease->text(), stream.substr(leases_on_one, 1));
  EXPECT_EQ(lease->data().data(), br->buffer(0).data()) << "from the start of the returned buffer";
}

TEST(buffer_ring, refusals) {
  if (const auto why = urine::test::lacks(register_opcode::register_pbuf_ring); !why.empty())
    GTEST_SKIP() << why;
  auto ring = plain_ring::create(8);
  ASSERT_TRUE(ring);
  auto odd = register_buffer_ring(*ring, {.group = 1, .entries = 3});
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().message().find("power of two"), std::string::npos) << odd.error().message();
  auto huge = register_buffer_ring(*ring, {.group = 1, .entries = 65536});
  ASSERT_FALSE(huge);

  auto first = register_buffer_ring(*ring, {.group = 4, .entries = 2, .buffer_size = 16});
  ASSERT_TRUE(first) << first.error().message();
  auto same = register_buffer_ring(*ring, {.group = 4, .entries = 2, .buffer_size = 16});
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error(), std::errc::file_exists);
  EXPECT_NE(same.error().message().find("already in use"), std::string::npos)
      << same.error().message();

  // A completion without a buffer but with bytes is a misuse, said as such.
  auto stray = first->take(10, cqe_flags::none);
  ASSERT_FALSE(stray);
  EXPECT_NE(stray.error().message().find("IOSQE_BUFFER_SELECT"), std::string::npos);
  auto foreign = first->take(5, cqe_flags(bits(cqe_flags::buffer) | (9u << cqe_buffer_shift)));
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message().find("buffer id 9 is not in buffer group 4"),
            std::string::npos)
      << foreign.error().message();
  auto overrun = first->take(17, cqe_flags(bits(cqe_flags::buffer)));
  ASSERT_FALSE(overrun);
  EXPECT_NE(overrun.error().message().find("overrun"), std::string::npos)
      << overrun.error().message();
  auto eof = first->take(0, cqe_flags::none);
  ASSERT_TRUE(eof);
  EXPECT_FALSE(eof->holds_buffer());

  ASSERT_TRUE(first->unregister().has_value());
  auto again = first->unregister();
  ASSERT_FALSE(again);
  auto status = first->kernel_head();
  ASSERT_FALSE(status);
  // The group id is free again.
  EXPECT_TRUE(register_buffer_ring(*ring, {.group = 4, .entries = 2, .buffer_size = 16}));
}

}  // namespace
