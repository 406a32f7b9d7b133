// urine through the umbrella module: a NOP and a read of a file written with plain POSIX calls.
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <string>
import urine;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto ring = urine::ring<>::create(4);
  if (!ring) {
    std::fprintf(stderr, "ring: %s\n", ring.error().message().c_str());
    return 1;
  }
  const std::string path = std::string(argv[1]) + "/file";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const char text[] = "umbrella module";
  if (::write(fd, text, sizeof text) != static_cast<ssize_t>(sizeof text)) return 1;
  char back[sizeof text] = {};
  (void)ring->push(urine::ops::nop{}, 1);
  (void)ring->push(urine::ops::read{fd, urine::buffer(back, sizeof back), 0}, 2);
  if (!ring->submit_and_wait(2)) return 1;
  int read_result = -1;
  ring->for_each_cqe([&](auto c) {
    if (c.user_data() == 2) read_result = c.result();
  });
  ::close(fd);
  const bool same =
      read_result == static_cast<int>(sizeof text) && std::memcmp(text, back, sizeof text) == 0;
  std::printf("%s\n", same ? "read what was written" : "MISMATCH");
  return same ? 0 : 1;
}
