// Asio's echo server, written the way an Asio user writes one: one io_context on one thread, an
// acceptor, and per connection async_read_some into the connection's buffer followed by
// async_write of what came in, in completion handlers. Compiled twice (bench/CMakeLists.txt): with
// Asio's default epoll reactor, and with its io_uring backend (ASIO_HAS_IO_URING and
// ASIO_DISABLE_EPOLL, over liburing) — each into a library of its own with hidden symbols, since
// the two configurations of the header-only library must not meet in one link.
#include <unistd.h>

#include <asio.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <utility>
#include <vector>

#include "echo.hpp"
#include "harness.hpp"

namespace {

namespace echo = bench::echo;
using asio::ip::tcp;

#if defined(ASIO_HAS_IO_URING) && defined(ASIO_DISABLE_EPOLL)
constexpr const char* backend = "uring";
#else
constexpr const char* backend = "epoll";
#endif

class session {
 public:
  session(asio::io_context& context, tcp::socket s, std::size_t buffer_size, echo::tally& t)
      : context_(context), socket_(std::move(s)), buffer_(buffer_size), tally_(t) {}
  void read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [this](const asio::error_code& ec, std::size_t n) {
                              if (ec == asio::error::eof) {
                                socket_.close();
                                ++tally_.closed;
                              } else if (ec) {
                                tally_.fail("read", -ec.value());
                              } else {
                                return write(n);
                              }
                              if (!tally_.running()) context_.stop();
                            });
  }

 private:
  void write(std::size_t n) {
    asio::async_write(
        socket_, asio::buffer(buffer_.data(), n),
        [this, n](const asio::error_code& ec, std::size_t sent) {
          if (tally_.sent(static_cast<std::uint32_t>(n), ec ? -ec.value() : static_cast<int>(sent)))
            read();
          else
            context_.stop();
        });
  }
  asio::io_context& context_;
  tcp::socket socket_;
  std::vector<std::byte> buffer_;
  echo::tally& tally_;
};

bench::outcome asio_echo(const bench::params& prm) {
  asio::io_context context(1);  // one thread: Asio's hint that it may skip some locking
  tcp::acceptor acceptor(context);
  asio::error_code ec;
  acceptor.assign(tcp::v4(), ::dup(prm.listen_fd), ec);
  if (ec) return bench::failed("acceptor: " + ec.message());
  echo::tally t(prm.connections);
  std::list<session> sessions;  // stable addresses: the handlers hold `this`
  std::function<void()> accept_next = [&] {
    acceptor.async_accept([&](const asio::error_code& error, tcp::socket s) {
      if (error) {
        t.fail("accept", -error.value());
        return context.stop();
      }
      ++t.accepted;
      sessions.emplace_back(context, std::move(s), echo::buffer_size(prm), t).read();
      if (t.accepted < t.connections) accept_next();
    });
  };
  return echo::serve(t, [&] {
    accept_next();
    context.run();
  });
}

const bench::registrar echo_case{{"echo", "asio", backend, "regfd", asio_echo}};

}  // namespace
