// urine's echo server written with coroutines (urine.async), in the configuration of the fastest
// hand-written one (urine_echo.cpp's `sized`): a deferred-task-run ring with its descriptor
// registered, accepted sockets as direct descriptors, a buffer ring of two buffers per
// connection. One multishot accept is a sequence of connections; each connection is a task that
// awaits the next completion of its multishot receive, sends the buffer back and gives it to the
// ring again when the send has completed.
//
//   async         the coroutine server; compare with urine:sized (the same kernel work by hand)
//   async-single  the same with one single-shot receive per message, for what multishot saves
#include <cerrno>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

#include "echo.hpp"
#include "harness.hpp"

import urine;

namespace {

using namespace urine;
namespace echo = bench::echo;
using async::task;
using runtime = async::runtime<ring<registered_ring_fd, defer_task_run<>>>;

/// Completions of one connection's receive that wait in the sequence's own storage: one message
/// is in flight per connection, so at most one arrives while the echo before it is being sent
/// (more would wait in the buffer ring, and the receive would pause).
constexpr std::size_t receives_buffered = 8;

/// A connection's receives through one multishot request: next() yields each completion.
class multishot_receives {
 public:
  multishot_receives(runtime& rt, fixed_file socket, buffer_ring& buffers)
      : receives_(rt,
                  ops::recv{.file = socket,
                            .into = buffer_group{echo::group},
                            .io_flags = recvsend_flags::recv_multishot},
                  {.mode = async::rearm::always, .buffers = &buffers}) {}
  auto next() noexcept { return receives_.next(); }
  /// Cancel the request and release what nobody took; completions dropped for want of room
  /// would have lost bytes.
  task<void> close(echo::tally& t) {
    co_await receives_.close();
    if (receives_.overruns() != 0) t.fail("recv (completions dropped)", -EOVERFLOW);
  }

 private:
  async::sequence<runtime, ops::recv, receives_buffered> receives_;
};

/// A connection's receives one single-shot request at a time: next() awaits the next one.
class single_receives {
 public:
  single_receives(runtime& rt, fixed_file socket, buffer_ring&) : rt_(rt), socket_(socket) {}
  /// The receive, yielding its result as a sequence's next() does (never the end: a receive of 0
  /// bytes says that).
  struct awaiter : async::operation<runtime, ops::recv> {
    std::optional<runtime::result_type> await_resume() noexcept {
      return async::operation<runtime, ops::recv>::await_resume();
    }
  };
  awaiter next() noexcept {
    return {rt_.op(ops::recv{.file = socket_, .into = buffer_group{echo::group}})};
  }
  task<void> close(echo::tally&) { co_return; }

 private:
  runtime& rt_;
  fixed_file socket_;
};

/// One connection: each received message is sent back from its provided buffer, which goes back
/// to the ring when the send has completed (the lease going out of scope).
template <class Receives>
task<void> connection(runtime& rt, buffer_ring& buffers, fixed_file socket, echo::tally& t) {
  Receives receives(rt, socket, buffers);
  while (auto received = co_await receives.next()) {
    if (!*received) {
      // The ring ran dry (a multishot request re-arms at the next next()), or a real failure.
      if (received->error() == std::errc::no_buffer_space) continue;
      t.fail("recv", received->raw());
      break;
    }
    if (**received == 0) break;  // end of stream
    auto data = buffers.take(received->raw(), received->flags());
    if (!data) {
      t.fail("recv (buffer)", -EINVAL);
      break;
    }
    const auto len = static_cast<std::uint32_t>(data->size());
    const auto sent = co_await rt.op(ops::send{
        .file = socket, .from = const_buffer(data->data()), .flags = msg_flags::nosignal});
    if (!t.sent(len, sent.raw())) break;
  }
  co_await receives.close(t);
  if (const auto closed = co_await rt.op(ops::close{socket}); !closed)
    t.fail("close", closed.raw());
  ++t.closed;
}

using connection_fn = task<void> (*)(runtime&, buffer_ring&, fixed_file, echo::tally&);

template <connection_fn Connection>
task<void> server(runtime& rt, buffer_ring& buffers, int listener, echo::tally& t) {
  {
    auto accepts = async::multishot(
        rt, ops::accept{.file = listener, .mode = accept_flags::multishot, .install = direct_alloc},
        {.mode = async::rearm::always});
    while (t.accepted < t.connections) {
      auto conn = co_await accepts.next();
      if (!conn || !*conn) {
        t.fail("accept", conn ? conn->raw() : -ECANCELED);
        break;
      }
      ++t.accepted;
      rt.spawn(Connection(rt, buffers, fixed_file{static_cast<std::uint32_t>(**conn)}, t));
    }
    co_await accepts.close();
  }
  co_await rt.join();
}

template <connection_fn Connection>
bench::outcome async_echo(const bench::params& prm) {
  auto made = runtime::ring_type::create(echo::ring_entries(prm));
  if (!made) return bench::failed(made.error().message());
  auto buffers = register_buffer_ring(*made, {.group = echo::group,
                                              .entries = echo::buffers_for(prm),
                                              .buffer_size = echo::buffer_size(prm)});
  if (!buffers) return bench::failed(buffers.error().message());
  auto files = register_sparse_files(*made, prm.connections);
  if (!files) return bench::failed(files.error().message());
  echo::tally t(prm.connections);
  // Declared after the buffer ring and the file table, the runtime goes first: its destructor
  // drains what still selects from them.
  runtime rt(std::move(*made));
  return echo::serve(t, [&] {
    rt.run(server<Connection>(rt, *buffers, prm.listen_fd, t));
    t.cq_overflows = rt.ring().cq_overflow();
  });
}

const bench::registrar echo_cases[] = {
    bench::registrar{
        {"echo", "urine", "async", "regfd", async_echo<connection<multishot_receives>>}},
    bench::registrar{
        {"echo", "urine", "async-single", "regfd", async_echo<connection<single_receives>>}},
};

}  // namespace
