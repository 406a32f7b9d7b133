// A first program: write a file and read it back through one ring, the two linked.
#include <fcntl.h>
#include <cstdio>
#include <string_view>
import urine;

int main() {
  auto ring = urine::ring<>::create(8);  // or ring<sqpoll>, ring<defer_task_run<>>, ...
  if (!ring) return std::fprintf(stderr, "%s\n", ring.error().message().c_str()), 1;

  const int fd = ::open("/tmp/urine-first-program", O_RDWR | O_CREAT | O_TRUNC, 0600);
  std::string_view text = "hello, io_uring\n";
  char back[32] = {};
  (void)ring->push(urine::ops::write{fd, text, 0}, 1, {.flags = urine::sqe_flags::io_link});
  (void)ring->push(urine::ops::read{fd, back, 0}, 2);
  (void)ring->submit_and_wait(2);

  ring->for_each_cqe([](auto c) {
    std::printf("request %llu: %d bytes\n", (unsigned long long)c.user_data().value(), c.result());
  });
  std::printf("read back: %s", back);
  return text == back ? 0 : 1;
}
