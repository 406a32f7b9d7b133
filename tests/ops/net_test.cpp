// Sockets on loopback: the socket lifecycle through the ring, data both ways (plain, vectored,
// zero-copy, multishot with provided buffers), socket commands, and the errors of bad input.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <span>
#include <string>
#include <vector>
import urine;
import urine.test_support;
import urine.ops_test_harness;

using namespace urine;
using namespace urine::test;

namespace {
std::uint16_t port_of(int fd, bool peer = false) {
  ::sockaddr_in a{};
  ::socklen_t len = sizeof a;
  if (peer)
    ::getpeername(fd, reinterpret_cast<::sockaddr*>(&a), &len);
  else
    ::getsockname(fd, reinterpret_cast<::sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}
::sockaddr_in loopback(std::uint16_t port = 0) {
  ::sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}
}  // namespace

TEST(net, socket_bind_listen_connect_accept) {
  auto ring = open_ring();
  unique_fd listener;
  if (const auto why = lacks(opcode::bind); why.empty()) {
    auto l = perform(ring, ops::socket{AF_INET, SOCK_STREAM, 0, sock_flags::cloexec});
    ASSERT_GE(l.res, 0) << l.error().message();
    listener.reset(l.res);
    const ::sockaddr_in any_port = loopback();
    ASSERT_EQ(perform(ring, ops::bind{listener.get(), &any_port}).res, 0);
    ASSERT_EQ(perform(ring, ops::listen{listener.get(), 8}).res, 0);
  } else {
    std::cout << why << ": the listener is made by system calls\n";
    listener = tcp_listener().first;
  }
  const std::uint16_t port = port_of(listener.get());
  ASSERT_NE(port, 0);
  int so_accepting = 0;
  ::socklen_t sl = sizeof so_accepting;
  ::getsockopt(listener.get(), SOL_SOCKET, SO_ACCEPTCONN, &so_accepting, &sl);
  EXPECT_EQ(so_accepting, 1);

  unique_fd client;
  if (const auto why = lacks(opcode::socket); why.empty()) {
    auto c = perform(ring, ops::socket{AF_INET, SOCK_STREAM});
    ASSERT_GE(c.res, 0) << c.error().message();
    client.reset(c.res);
  } else {
    std::cout << why << ": the client is made by a system call\n";
    client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(client);
  }
  const ::sockaddr_in to = loopback(port);
  ::sockaddr_in peer{};
  ::socklen_t peer_len = sizeof peer;
  push(ring, ops::accept{listener.get(), reinterpret_cast<::sockaddr*>(&peer), &peer_len}, 1);
  push(ring, ops::connect{client.get(), &to}, 2);
  ASSERT_TRUE(ring.submit());
  auto done = reap_n(ring, 2);
  ASSERT_EQ(done[2].res, 0) << done[2].error().message();
  ASSERT_GE(done[1].res, 0) << done[1].error().message();
  unique_fd accepted(done[1].res);
  // The accepted socket's peer is the client, and accept reported that address.
  EXPECT_EQ(port_of(accepted.get(), true), port_of(client.get()));
  EXPECT_EQ(ntohs(peer.sin_port), port_of(client.get()));
  EXPECT_EQ(peer_len, sizeof peer);
}

template <class R>
using net_io = on_rings<R>;
TYPED_TEST_SUITE(net_io, ring_configs);

TYPED_TEST(net_io, send_recv_sendmsg_recvmsg_shutdown) {
  auto ring = open_ring<TypeParam>();
  auto [client, server] = tcp_pair();
  ASSERT_TRUE(client && server);
  const std::string hello = "hello";
  ASSERT_EQ(perform(ring, ops::send{client.get(), hello}).res, 5);
  std::array<char, 16> in{};
  ASSERT_EQ(perform(ring, ops::recv{server.get(), in}).res, 5);
  EXPECT_EQ(std::string(in.data(), 5), hello);

  std::string p1 = "gather-", p2 = "write";
  std::array<::iovec, 2> out{{{p1.data(), p1.size()}, {p2.data(), p2.size()}}};
  ::msghdr sm{};
  sm.msg_iov = out.data();
  sm.msg_iovlen = out.size();
  ASSERT_EQ(perform(ring, ops::sendmsg{client.get(), &sm}).res, 12);
  std::array<char, 7> a{};
  std::array<char, 5> b{};
  std::array<::iovec, 2> iv{{{a.data(), a.size()}, {b.data(), b.size()}}};
  ::msghdr rm{};
  rm.msg_iov = iv.data();
  rm.msg_iovlen = iv.size();
  ASSERT_EQ(perform(ring, ops::recvmsg{server.get(), &rm, msg_flags::waitall}).res, 12);
  EXPECT_EQ(std::string(a.data(), 7) + std::string(b.data(), 5), "gather-write");

  ASSERT_EQ(perform(ring, ops::shutdown{client.get(), shutdown_how::write}).res, 0);
  EXPECT_EQ(perform(ring, ops::recv{server.get(), in}).res, 0);  // the peer sees end of stream
}

TEST(net, recv_multishot_with_provided_buffers) {
  if (const auto why = predates({6, 0}, "a multishot receive (IORING_RECV_MULTISHOT)");
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [client, server] = tcp_pair();
  provided_pool<8, 64> pool;
  ASSERT_EQ(perform(ring, pool.provide(5)).res, 0);
  push(ring,
       ops::recv{server.get(), buffer_group{5}, msg_flags::none, recvsend_flags::recv_multishot},
       9);
  ASSERT_TRUE(ring.submit());
  for (const std::string chunk : {"one", "three"}) {
    ASSERT_EQ(::send(client.get(), chunk.data(), chunk.size(), 0),
              static_cast<ssize_t>(chunk.size()));
    auto c = reap(ring);
    ASSERT_EQ(c.res, static_cast<int>(chunk.size())) << c.error().message();
    ASSERT_TRUE(c.has_buffer());
    EXPECT_TRUE(c.more());
    EXPECT_EQ(pool.contents(c.buffer_id(), chunk.size()), chunk);
  }
  client.reset();  // the peer closes: a final completion without F_MORE ends the stream
  auto end = reap(ring);
  EXPECT_EQ(end.res, 0);
  EXPECT_FALSE(end.more());
}

TEST(net, incremental_buffer_ring_reports_buf_more) {
  if (const auto why = predates({6, 12}, "IOU_PBUF_RING_INC (incremental buffer rings)");
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [client, server] = tcp_pair();
  void* ring_memory =
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(ring_memory, MAP_FAILED);
  std::array<char, 1024> data{};
  ASSERT_EQ(install_buf_ring(ring, ring_memory, 1, 12, 2 /* IOU_PBUF_RING_INC */), 0);
  buf_ring_add(ring_memory, 0, data, 5, 1);
  for (const std::string chunk : {"hello", "world!"}) {
    ASSERT_EQ(::send(client.get(), chunk.data(), chunk.size(), 0),
              static_cast<ssize_t>(chunk.size()));
    auto c = perform(ring, ops::recv{server.get(), buffer_group{12}});
    ASSERT_EQ(c.res, static_cast<int>(chunk.size())) << c.error().message();
    ASSERT_TRUE(c.has_buffer());
    EXPECT_EQ(c.buffer_id(), 5);
    EXPECT_NE(c.flags & bits(cqe_flags::buf_more), 0u);  // the same buffer will be used again
  }
  // Consumed incrementally: the second receive continued where the first stopped.
  EXPECT_EQ(std::string(data.data(), 11), "helloworld!");
  ::munmap(ring_memory, 4096);
}

TEST(net, recv_reports_socket_nonempty) {
  if (const auto why = predates({5, 19}, "IORING_CQE_F_SOCK_NONEMPTY"); !why.empty())
    GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [client, server] = tcp_pair();
  ASSERT_EQ(::send(client.get(), "0123456789", 10, 0), 10);
  std::array<char, 4> small{};
  auto c = perform(ring, ops::recv{server.get(), small});
  ASSERT_EQ(c.res, 4);
  EXPECT_NE(c.flags & bits(cqe_flags::sock_nonempty), 0u);  // six bytes still queued
}

TEST(net, recvmsg_multishot_parses_source_and_payload) {
  if (const auto why = predates({6, 0}, "a multishot receive (IORING_RECV_MULTISHOT)");
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [receiver, raddr] = udp_socket();
  auto [sender, saddr] = udp_socket();
  provided_pool<4, 256> pool;
  ASSERT_EQ(perform(ring, pool.provide(6)).res, 0);
  ::msghdr shape{};
  shape.msg_namelen = sizeof(::sockaddr_in);
  const ::msghdr layout = shape;  // what the kernel is given, and so how it lays out each message
  push(ring,
       ops::recvmsg{receiver.get(), &shape, msg_flags::none, recvsend_flags::recv_multishot,
                    buffer_group{6}},
       11);
  ASSERT_TRUE(ring.submit());
  for (const std::string dgram : {"datagram-1", "dg-2"}) {
    // sendto through the ring: SEND with a destination.
    auto sent = perform(ring, ops::send{.file = sender.get(), .from = dgram, .to = &raddr});
    ASSERT_EQ(sent.res, static_cast<int>(dgram.size())) << sent.error().message();
    auto c = reap(ring);
    ASSERT_GT(c.res, 0) << c.error().message();
    ASSERT_TRUE(c.has_buffer());
    EXPECT_TRUE(c.more());
    const auto received = pool.contents(c.buffer_id(), static_cast<std::size_t>(c.res));
    recvmsg_out_view view(std::as_bytes(std::span(received.data(), received.size())), layout);
    ASSERT_TRUE(view.valid());
    EXPECT_FALSE(view.payload_truncated());
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(view.payload().data()), view.payload().size()),
        dgram);
    ASSERT_EQ(view.name().size(), sizeof(::sockaddr_in));
    ::sockaddr_in from{};
    std::memcpy(&from, view.name().data(), sizeof from);
    EXPECT_EQ(from.sin_port, saddr.sin_port);  // the datagram's source is the sender
  }
  ASSERT_EQ(perform(ring, ops::async_cancel{ops::cancel_match::of(11)}).res, 0);
  auto end = reap(ring);
  EXPECT_EQ(end.error(), std::errc::operation_canceled);
  EXPECT_FALSE(end.more());
}

TEST(net, send_zc_and_sendmsg_zc_notify) {
  if (auto why = lacks(opcode::sendmsg_zc); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [client, server] = tcp_pair();
  const std::string data = pattern(3000);
  push(ring, ops::send_zc{client.get(), data}, 20);
  ASSERT_TRUE(ring.submit());
  auto first = reap(ring);
  ASSERT_EQ(first.res, 3000) << first.error().message();
  EXPECT_TRUE(first.more());  // a notification follows
  auto notif = reap(ring);
  EXPECT_EQ(notif.user_data, 20u);
  EXPECT_TRUE(notif.notification());
  EXPECT_FALSE(notif.more());
  std::string got(3000, '\0');
  ASSERT_EQ(::recv(server.get(), got.data(), got.size(), MSG_WAITALL), 3000);
  EXPECT_EQ(got, data);

  std::string part = "zero-copy msg";
  ::iovec iov{part.data(), part.size()};
  ::msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  push(ring, ops::sendmsg_zc{client.get(), &m}, 21);
  ASSERT_TRUE(ring.submit());
  auto r1 = reap(ring);
  ASSERT_EQ(r1.res, 13) << r1.error().message();
  EXPECT_TRUE(r1.more());
  EXPECT_TRUE(reap(ring).notification());
  std::string got2(13, '\0');
  ASSERT_EQ(::recv(server.get(), got2.data(), got2.size(), MSG_WAITALL), 13);
  EXPECT_EQ(got2, part);
}

TEST(net, socket_commands) {
  if (auto why = lacks(opcode::uring_cmd); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [client, server] = tcp_pair();
  ASSERT_EQ(::send(client.get(), "12345", 5, 0), 5);
  auto inq = perform(ring, ops::socket_queue{server.get(), socket_cmd::siocinq});
  if (inq.error() == std::errc::operation_not_supported) {
    record_unreachable(opcode::uring_cmd);  // nothing else here takes a command
    GTEST_SKIP() << "kernel lacks URING_CMD on sockets (since 6.7): " << inq.error().message();
  }
  ASSERT_EQ(inq.res, 5) << inq.error().message();
  int expected_outq = -1;
  ::ioctl(client.get(), SIOCOUTQ, &expected_outq);
  EXPECT_EQ(perform(ring, ops::socket_queue{client.get(), socket_cmd::siocoutq}).res,
            expected_outq);

  const int one = 1;
  ASSERT_EQ(perform(ring, ops::setsockopt{server.get(), IPPROTO_TCP, TCP_NODELAY,
                                          const_buffer(&one, sizeof one)})
                .res,
            0);
  int nodelay = 0;
  ::socklen_t len = sizeof nodelay;
  ::getsockopt(server.get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len);
  EXPECT_EQ(nodelay, 1);
  int type = 0;
  auto g =
      perform(ring, ops::getsockopt{server.get(), SOL_SOCKET, SO_TYPE, buffer(&type, sizeof type)});
  ASSERT_EQ(g.res, static_cast<int>(sizeof type)) << g.error().message();
  EXPECT_EQ(type, SOCK_STREAM);
  // Not a socket: the kernel refuses the command.
  auto [r, w] = make_pipe();
  EXPECT_EQ(perform(ring, ops::socket_queue{r.get()}).error(), std::errc::operation_not_supported);
}

TEST(net, accept_multishot_and_direct) {
  if (const auto why = predates({5, 19}, "a multishot accept (IORING_ACCEPT_MULTISHOT)");
      !why.empty())
    GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [listener, addr] = tcp_listener();
  push(ring, ops::accept{.file = listener.get(), .mode = accept_flags::multishot}, 30);
  ASSERT_TRUE(ring.submit());
  std::vector<unique_fd> clients, accepted;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(
        ::connect(clients.back().get(), reinterpret_cast<const ::sockaddr*>(&addr), sizeof addr),
        0);
    auto c = reap(ring);
    ASSERT_GE(c.res, 0) << c.error().message();
    EXPECT_TRUE(c.more());
    accepted.emplace_back(c.res);
    EXPECT_EQ(port_of(accepted.back().get(), true), port_of(clients.back().get()));
  }
  ASSERT_EQ(perform(ring, ops::async_cancel{ops::cancel_match::of(30)}).res, 0);
  EXPECT_FALSE(reap(ring).more());

  ASSERT_EQ(install_sparse_files(ring, 4), 0);
  push(ring, ops::accept{.file = listener.get(), .install = direct_alloc}, 31);
  ASSERT_TRUE(ring.submit());
  unique_fd c3(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(c3.get(), reinterpret_cast<const ::sockaddr*>(&addr), sizeof addr), 0);
  auto slot = reap(ring);
  ASSERT_GE(slot.res, 0) << slot.error().message();
  ASSERT_EQ(::send(c3.get(), "direct", 6, 0), 6);
  std::array<char, 6> got{};
  ASSERT_EQ(perform(ring, ops::recv{fixed_file{static_cast<std::uint32_t>(slot.res)}, got,
                                    msg_flags::waitall})
                .res,
            6);
  EXPECT_EQ(std::string(got.data(), 6), "direct");
}

TEST(net, socket_into_a_direct_slot_connects_through_it) {
  if (auto why = lacks(opcode::bind); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [listener, addr] = tcp_listener();
  ASSERT_EQ(install_sparse_files(ring, 4), 0);
  auto s =
      perform(ring, ops::socket{.domain = AF_INET, .type = SOCK_STREAM, .install = direct_slot{3}});
  ASSERT_EQ(s.res, 0) << s.error().message();
  ASSERT_EQ(perform(ring, ops::connect{fixed_file{3}, &addr}).res, 0);
  unique_fd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(peer);
  const std::string msg = "from a direct socket";
  ASSERT_EQ(perform(ring, ops::send{fixed_file{3}, msg}).res, static_cast<int>(msg.size()));
  std::string got(msg.size(), '\0');
  ASSERT_EQ(::recv(peer.get(), got.data(), got.size(), MSG_WAITALL),
            static_cast<ssize_t>(msg.size()));
  EXPECT_EQ(got, msg);
  // A direct descriptor cannot be close-on-exec.
  EXPECT_EQ(perform(ring, ops::socket{AF_INET, SOCK_STREAM, 0, sock_flags::cloexec, direct_alloc})
                .error(),
            std::errc::invalid_argument);
}

TEST(net, recv_zc_is_refused_without_a_zero_copy_queue) {
  if (auto why = lacks(opcode::recv_zc); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring<urine::ring<cqe32>>();
  auto [client, server] = tcp_pair();
  auto r = perform(ring, ops::recv_zc{server.get()});
  ASSERT_LT(r.res, 0);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  const std::string why = ops::recv_zc::explain(r.error());
  EXPECT_NE(why.find("IORING_REGISTER_ZCRX_IFQ"), std::string::npos) << why;
  std::cout << "recv_zc: " << why << '\n';
}

TEST(net, bad_input_surfaces_as_error_codes) {
  if (const auto why = lacks(opcode::socket); !why.empty()) GTEST_SKIP() << why;
  auto ring = open_ring();
  auto [client, server] = tcp_pair();
  const std::string x = "x";
  std::array<char, 4> in{};
  EXPECT_EQ(perform(ring, ops::send{9999, x}).error(), std::errc::bad_file_descriptor);
  EXPECT_EQ(perform(ring, ops::recv{server.get(), buffer_group{99}}).error(),
            std::errc::no_buffer_space);
  EXPECT_EQ(
      perform(ring, ops::send{client.get(), const_buffer(reinterpret_cast<void*>(8), 8)}).error(),
      std::errc::bad_address);
  EXPECT_EQ(perform(ring, ops::accept{.file = server.get(), .mode = accept_flags(0x80)}).error(),
            std::errc::invalid_argument);
  EXPECT_EQ(perform(ring, ops::socket{12345, SOCK_STREAM}).error(),
            std::errc::address_family_not_supported);
  auto [r, w] = make_pipe();
  EXPECT_EQ(perform(ring, ops::recv{r.get(), in}).error(), std::errc::not_a_socket);
}
