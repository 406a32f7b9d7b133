// Installed urine, imported module by module: write a file through the ring and read it back.
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <string>
import urine.ring;
import urine.ops;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto ring = urine::ring<urine::sqe128, urine::cqe32>::create(8);
  if (!ring) {
    std::fprintf(stderr, "ring: %s\n", ring.error().message().c_str());
    return 1;
  }
  const std::string path = std::string(argv[1]) + "/file";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const char text[] = "installed urine";
  char back[sizeof text] = {};
  (void)ring->push(urine::ops::write{fd, urine::const_buffer(text, sizeof text), 0}, 1,
                   {.flags = urine::sqe_flags::io_link});
  (void)ring->push(urine::ops::read{fd, urine::buffer(back, sizeof back), 0}, 2);
  if (!ring->submit_and_wait(2)) return 1;
  unsigned ok = 0;
  ring->for_each_cqe([&](auto c) { ok += c.result() == static_cast<int>(sizeof text); });
  ::close(fd);
  const bool same = ok == 2 && std::memcmp(text, back, sizeof text) == 0;
  std::printf("%s\n", same ? "read back what was written" : "MISMATCH");
  return same ? 0 : 1;
}
