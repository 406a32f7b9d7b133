// A first program with coroutines: write a file and read it back, each operation awaited.
#include <fcntl.h>
#include <coroutine>  // a coroutine needs std::coroutine_traits visible where it is defined
#include <cstdio>
#include <string_view>
import urine;

using namespace urine;

async::task<bool> write_and_read(async::runtime<>& rt, int fd) {
  std::string_view text = "hello, io_uring\n";
  char back[32] = {};
  auto written = co_await rt.op(ops::write{fd, text, 0});
  if (!written)
    co_return std::fprintf(stderr, "write: %s\n", written.error().message().c_str()), false;
  auto read = co_await rt.op(ops::read{fd, back, 0});
  if (!read) co_return std::fprintf(stderr, "read: %s\n", read.error().message().c_str()), false;
  std::printf("wrote %d bytes, read back %d: %s", *written, *read, back);
  co_return text == back;
}

int main() {
  async::runtime<> rt;  // or async::runtime<ring<sqpoll>>, any ring<...>
  const int fd = ::open("/tmp/urine-async-first-program", O_RDWR | O_CREAT | O_TRUNC, 0600);
  return rt.run(write_and_read(rt, fd)) ? 0 : 1;
}
