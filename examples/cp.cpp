// urine-cp: copy a file, like cp(1), through one io_uring. Each of 8 slots owns a 128 KiB
// registered buffer and copies one chunk at a time as a linked pair READ_FIXED -> WRITE_FIXED,
// so up to 8 reads and writes are in flight and the kernel starts each write by itself as soon
// as its read is done. Registered buffers are pinned once, not on every request.
#include <sys/stat.h>
#include <sys/uio.h>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
import urine;

using namespace urine;

namespace {

constexpr unsigned slots = 8;
constexpr std::size_t chunk = std::size_t{128} * 1024;
alignas(4096) char memory[slots][chunk];

int fail(const std::string& what, int error) {
  std::fprintf(stderr, "urine-cp: %s: %s\n", what.c_str(), std::strerror(error));
  return 1;
}

// One slot: the chunk [offset, offset + length) of the file. `have` bytes of it are in the
// buffer, `done` of those are written. A linked write runs only if its read returned everything
// asked for; after a short read the kernel cancels the write (-ECANCELED) and the slot goes on
// from where the read stopped.
struct slot {
  std::uint64_t offset = 0;
  std::size_t length = 0, have = 0, done = 0;
  unsigned in_flight = 0;
  bool end_of_file = false;  // a read found the end of the file
};

class copier {
 public:
  copier(ring<>& r, int in, int out, std::uint64_t size)
      : ring_(r), in_(in), out_(out), size_(size) {}

  // Run until every chunk is written; 0, or an errno.
  int run() {
    for (std::uint16_t i = 0; i < slots; ++i) next_chunk(i);
    while (busy_ > 0 && error_ == 0) {
      if (auto s = ring_.submit_and_wait(1); !s && s.error() != std::errc::interrupted)
        return s.error().value();
      ring_.for_each_cqe([&](auto c) { complete(c.user_data().value(), c.result()); });
    }
    // After an error, let what is in flight finish: the kernel still uses the buffers.
    while (std::any_of(slot_, slot_ + slots, [](const slot& s) { return s.in_flight > 0; })) {
      if (auto c = ring_.wait_cqe()) {
        complete(c->user_data().value(), c->result());
        ring_.cqe_seen(*c);
      } else if (c.error() != std::errc::interrupted) {
        break;
      }
    }
    return error_;
  }
  bool read_failed() const { return read_error_; }

 private:
  // User data: the slot index times two, plus one for a write.
  void complete(std::uint64_t ud, int res) {
    slot& s = slot_[ud / 2];
    const bool is_write = ud % 2;
    --s.in_flight;
    if (res == -ECANCELED && is_write) {
      // The read before it was short; the slot resumes below.
    } else if (res < 0) {
      if (error_ == 0) error_ = -res, read_error_ = !is_write;
    } else if (is_write) {
      s.done += static_cast<std::size_t>(res);
    } else {
      s.have += static_cast<std::size_t>(res);
      s.end_of_file = res == 0;
    }
    if (s.in_flight == 0 && error_ == 0) advance(static_cast<std::uint16_t>(ud / 2));
  }

  void advance(std::uint16_t i) {
    slot& s = slot_[i];
    if (s.done < s.have) {
      push_write(i);  // after a short write, or the part a short read did deliver
    } else if (s.have < s.length && !s.end_of_file) {
      push_pair(i);
    } else {
      --busy_;
      if (s.end_of_file) end_of_file_ = true;
      if (s.offset >= size_) tail_busy_ = false;
      next_chunk(i);
    }
  }

  // Chunks up to the size fstat reported go out 8 at a time. The size may be wrong (a file that
  // grows, or one of /proc, which says 0): past it, one chunk at a time until a read finds the end.
  void next_chunk(std::uint16_t i) {
    if (end_of_file_ || (next_ >= size_ && tail_busy_)) return;
    const std::uint64_t length =
        next_ < size_ ? std::min<std::uint64_t>(chunk, size_ - next_) : chunk;
    tail_busy_ = next_ >= size_;
    slot_[i] = {.offset = next_, .length = static_cast<std::size_t>(length)};
    next_ += slot_[i].length;
    ++busy_;
    push_pair(i);
  }

  void push_pair(std::uint16_t i) {
    slot& s = slot_[i];
    const std::size_t n = s.length - s.have;
    char* at = memory[i] + s.have;
    // The ring has room for two SQEs per slot, so the chain always fits.
    (void)push_chain(
        ring_,
        linked{ops::read_fixed{in_, buffer(at, n), fixed_buffer{i}, s.offset + s.have}, 2u * i},
        linked{ops::write_fixed{out_, const_buffer(at, n), fixed_buffer{i}, s.offset + s.have},
               2u * i + 1});
    s.in_flight = 2;
  }

  void push_write(std::uint16_t i) {
    slot& s = slot_[i];
    (void)ring_.push(ops::write_fixed{out_, const_buffer(memory[i] + s.done, s.have - s.done),
                                      fixed_buffer{i}, s.offset + s.done},
                     2u * i + 1);
    s.in_flight = 1;
  }

  ring<>& ring_;
  int in_, out_;
  std::uint64_t size_, next_ = 0;
  slot slot_[slots];
  unsigned busy_ = 0;
  int error_ = 0;
  bool read_error_ = false;
  bool end_of_file_ = false, tail_busy_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--help") {
    std::puts(
        "Usage: urine-cp SOURCE DEST\n"
        "Copy the file SOURCE to DEST, or into DEST if it is a directory, through io_uring\n"
        "with linked read/write pairs on registered buffers.");
    return 0;
  }
  if (argc != 3) {
    std::fputs("urine-cp: expected SOURCE and DEST\nTry 'urine-cp --help' for more information.\n",
               stderr);
    return 1;
  }
  const std::string source = argv[1];
  std::string target = argv[2];

  struct stat in_stat{};
  if (::stat(source.c_str(), &in_stat) != 0) return fail("cannot stat '" + source + "'", errno);
  if (S_ISDIR(in_stat.st_mode)) {
    std::fprintf(stderr, "urine-cp: -r not supported; omitting directory '%s'\n", source.c_str());
    return 1;
  }
  // Like cp: a directory as DEST receives a file of SOURCE's name.
  struct stat out_stat{};
  if (::stat(target.c_str(), &out_stat) == 0 && S_ISDIR(out_stat.st_mode)) {
    const auto slash = source.find_last_of('/');
    target += "/" + source.substr(slash == std::string::npos ? 0 : slash + 1);
  }
  if (::stat(target.c_str(), &out_stat) == 0) {
    if (S_ISDIR(out_stat.st_mode)) {
      std::fprintf(stderr, "urine-cp: cannot overwrite directory '%s' with non-directory\n",
                   target.c_str());
      return 1;
    }
    if (out_stat.st_dev == in_stat.st_dev && out_stat.st_ino == in_stat.st_ino) {
      std::fprintf(stderr, "urine-cp: '%s' and '%s' are the same file\n", source.c_str(),
                   target.c_str());
      return 1;
    }
  }

  const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return fail("cannot open '" + source + "' for reading", errno);
  if (::fstat(in, &in_stat) != 0) return fail("cannot stat '" + source + "'", errno);
  if (!S_ISREG(in_stat.st_mode)) {
    std::fprintf(stderr, "urine-cp: '%s' is not a regular file\n", source.c_str());
    return 1;
  }
  const int out =
      ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, in_stat.st_mode & 07777);
  if (out < 0) return fail("cannot create regular file '" + target + "'", errno);

  auto r = ring<>::create(2 * slots);
  if (!r) return std::fprintf(stderr, "urine-cp: %s\n", r.error().message().c_str()), 1;
  ::iovec iov[slots];
  for (unsigned i = 0; i < slots; ++i) iov[i] = {memory[i], chunk};
  auto registered = register_buffers(*r, iov);
  if (!registered)
    return std::fprintf(stderr, "urine-cp: %s\n", registered.error().message().c_str()), 1;

  // Large files go the same way: the offsets are 64-bit and only 8 chunks are ever in flight.
  copier copy(*r, in, out, static_cast<std::uint64_t>(in_stat.st_size));
  if (const int error = copy.run(); error != 0)
    return fail(
        copy.read_failed() ? "error reading '" + source + "'" : "error writing '" + target + "'",
        error);
  if (::close(out) != 0) return fail("error writing '" + target + "'", errno);
  ::close(in);
  return 0;
}
