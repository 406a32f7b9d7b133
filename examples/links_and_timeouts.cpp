// Links and timeouts: a linked chain write -> fsync -> read back, where each step starts only
// after the one before it succeeded; then a read bounded by a link_timeout, once on an empty pipe
// (the timeout fires) and once on a pipe with data (it does not).
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
import urine;

using namespace std::chrono_literals;
using namespace urine;

namespace {

const char* names[] = {"write",
                       "fsync",
                       "read back",
                       "read (empty pipe)",
                       "its link_timeout",
                       "read (pipe with data)",
                       "its link_timeout"};

// Wait for `n` completions and print each one's result, by the name its user data indexes.
bool report(ring<>& r, unsigned n) {
  if (auto w = r.wait(n); !w)
    return std::fprintf(stderr, "wait: %s\n", w.error().message().c_str()), false;
  r.for_each_cqe([](auto c) {
    const int res = c.result();
    std::printf("  %-22s %d%s%s\n", names[c.user_data().value()], res, res < 0 ? " " : "",
                res < 0 ? std::strerror(-res) : "");
  });
  return true;
}

}  // namespace

int main() {
  auto made = ring<>::create(8);
  if (!made) return std::fprintf(stderr, "ring: %s\n", made.error().message().c_str()), 1;
  auto& r = *made;

  // 1. A chain: had the write failed, fsync and read would complete -ECANCELED without running.
  // A temporary file, deleted by the system when it is closed (at any return below).
  struct closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  const std::unique_ptr<std::FILE, closer> file(std::tmpfile());
  if (!file) return std::perror("tmpfile"), 1;
  const int fd = fileno(file.get());
  constexpr std::string_view text = "linked, synced, read back";
  char back[text.size()] = {};
  std::puts("chain write -> fsync -> read:");
  if (!submit_chain(r, linked{ops::write{fd, const_buffer(text.data(), text.size()), 0}, 0},
                    linked{ops::fsync{fd}, 1},
                    linked{ops::read{fd, buffer(back, sizeof back), 0}, 2}) ||
      !report(r, 3))
    return 1;
  std::printf("  read back \"%.*s\"\n", static_cast<int>(sizeof back), back);

  // 2. A read on an empty pipe would wait forever; the link_timeout after it cancels it after
  //    50 ms: the read completes -ECANCELED and the timeout -ETIME.
  int p[2];
  if (::pipe(p) != 0) return std::perror("pipe"), 1;
  char byte = 0;
  const auto limit = to_timespec(50ms);
  std::puts("read on an empty pipe, bounded by 50 ms:");
  if (!submit_chain(r, linked{ops::read{p[0], buffer(&byte, 1)}, 3},
                    linked{ops::link_timeout{&limit}, 4}) ||
      !report(r, 2))
    return 1;

  // 3. With a byte waiting, the read completes at once and the timeout is cancelled (-ECANCELED).
  if (::write(p[1], "x", 1) != 1) return std::perror("write"), 1;
  std::puts("read on a pipe with data, bounded by 50 ms:");
  if (!submit_chain(r, linked{ops::read{p[0], buffer(&byte, 1)}, 5},
                    linked{ops::link_timeout{&limit}, 6}) ||
      !report(r, 2))
    return 1;
  return std::string_view(back, sizeof back) == text ? 0 : 1;
}
