// urine-cat: concatenate files to standard output, like cat(1), through one io_uring. While one
// buffer is being written out, the next is already being read into the other.
#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>
import urine;

namespace {

constexpr std::size_t chunk = std::size_t{128} * 1024;
alignas(4096) char buffers[2][chunk];

using ring_type = urine::ring<>;

void complain(const char* what, int error) {
  std::fprintf(stderr, "urine-cat: %s: %s\n", what, std::strerror(error));
}

// At most one read (tag 1) and one write (tag 2) are in flight; a completion that arrives while
// waiting for the other is parked here until asked for.
struct parked {
  bool done = false;
  int result = 0;
} results[3];

// Wait for the completion tagged `tag` and return its result.
int wait_for(ring_type& ring, std::uint64_t tag) {
  while (!results[tag].done) {
    auto c = ring.wait_cqe();
    if (!c) {
      if (c.error() == std::errc::interrupted) continue;
      return -c.error().value();
    }
    results[c->user_data().value()] = {true, c->result()};
    ring.cqe_seen(*c);
  }
  results[tag].done = false;
  return results[tag].result;
}

// Write all `n` bytes of `data` to standard output, resubmitting after short writes.
bool write_all(ring_type& ring, const char* data, std::size_t n) {
  while (n > 0) {
    (void)ring.push(urine::ops::write{STDOUT_FILENO, urine::const_buffer(data, n)}, 2);
    (void)ring.submit();
    const int written = wait_for(ring, 2);
    if (written < 0) return complain("write error", -written), false;
    data += written;
    n -= static_cast<std::size_t>(written);
  }
  return true;
}

// Copy one descriptor to standard output: the read of buffer B overlaps the write of buffer A.
bool copy(ring_type& ring, int fd, const char* name) {
  int current = 0;
  (void)ring.push(urine::ops::read{fd, urine::buffer(buffers[current], chunk)}, 1);
  (void)ring.submit();
  for (;;) {
    const int got = wait_for(ring, 1);
    if (got < 0) return complain(name, -got), false;
    if (got == 0) return true;
    const int next = 1 - current;
    (void)ring.push(urine::ops::read{fd, urine::buffer(buffers[next], chunk)}, 1);
    (void)ring.submit();
    if (!write_all(ring, buffers[current], static_cast<std::size_t>(got))) {
      (void)wait_for(ring, 1);  // let the read in flight finish before its buffer goes away
      return false;
    }
    current = next;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--help") {
    std::puts(
        "Usage: urine-cat [FILE]...\n"
        "Concatenate FILEs to standard output through io_uring.\n"
        "With no FILE, or when FILE is -, read standard input.");
    return 0;
  }
  auto ring = ring_type::create(8);
  if (!ring) return std::fprintf(stderr, "urine-cat: %s\n", ring.error().message().c_str()), 1;

  int status = 0;
  if (argc < 2) return copy(*ring, STDIN_FILENO, "-") ? 0 : 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (name == "-") {
      if (!copy(*ring, STDIN_FILENO, "-")) status = 1;
      continue;
    }
    const int fd = ::open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      complain(argv[i], errno);
      status = 1;
      continue;
    }
    if (!copy(*ring, fd, argv[i])) status = 1;
    ::close(fd);
  }
  return status;
}
