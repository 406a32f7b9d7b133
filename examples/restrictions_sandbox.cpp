// A sandboxed ring: created disabled, given one file, then restricted before it starts to READ on
// registered files only. Every request must carry IOSQE_FIXED_FILE, so plain descriptors are out
// of reach, and no register call is allowed, so the file table cannot change either: code handed
// this ring can read that one file and do nothing else. The file is opened read-write, so the
// refused write below is the sandbox's doing, not the file's mode.
#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
import urine;

using namespace urine;

namespace {

// Run one request to completion: its result, bytes or -errno.
template <class Op>
int run(ring<>& r, const Op& op) {
  if (!r.push(op, 0) || !r.submit()) return -EIO;
  const auto c = r.wait_cqe();
  if (!c) return -c.error().value();
  const int res = c->result();
  r.cqe_seen(*c);
  return res;
}

// A forbidden request must come back EACCES; say how it came back.
bool refused(const char* what, int res) {
  std::printf("refused: %s: %s\n", what, res < 0 ? std::strerror(-res) : "it ran");
  return res == -EACCES;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::string_view(argv[1]) == "--help") {
    std::fputs(
        "Usage: restrictions_sandbox FILE\n"
        "Read FILE through a ring restricted to READ on its registered file, and show that\n"
        "writes, plain descriptors and changes to the file table are refused (EACCES).\n",
        argc == 2 ? stdout : stderr);
    return argc == 2 ? 0 : 2;
  }
  const int fd = ::open(argv[1], O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::fprintf(stderr, "%s: %s\n", argv[1], std::strerror(errno)), 1;

  auto made = ring<>::create(setup{.entries = 4, .disabled = true});
  if (!made) return std::fprintf(stderr, "ring: %s\n", made.error().message().c_str()), 1;
  auto& r = *made;
  const int table[] = {fd};
  auto files = register_files(r, table);  // now: once the ring runs, the sandbox forbids it
  if (!files) return std::fprintf(stderr, "%s\n", files.error().message().c_str()), 1;
  const auto policy = restrictions{}.allow(opcode::read).require_sqe_flags(sqe_flags::fixed_file);
  if (auto ok = policy.apply(r); !ok)
    return std::fprintf(stderr, "%s\n", ok.error().message().c_str()), 1;
  if (auto ok = enable_rings(r); !ok)
    return std::fprintf(stderr, "%s\n", ok.error().message().c_str()), 1;

  const fixed_file sandboxed = (*files)[0];
  char text[256];
  const int n = run(r, ops::read{sandboxed, buffer(text, sizeof text), 0});
  if (n < 0) return std::fprintf(stderr, "the allowed READ failed: %s\n", std::strerror(-n)), 1;
  const std::string_view got(text, static_cast<std::size_t>(n));
  const std::string first_line(got.substr(0, got.find('\n')));
  std::printf("allowed: READ of registered file 0: %d bytes, \"%s\"\n", n, first_line.c_str());

  constexpr std::string_view scribble = "overwritten";
  const const_buffer bytes(scribble.data(), scribble.size());
  bool ok = refused("WRITE to registered file 0", run(r, ops::write{sandboxed, bytes, 0}));
  ok &= refused("READ of descriptor (not registered)",
                run(r, ops::read{fd, buffer(text, sizeof text), 0}));
  const int replacement[] = {STDIN_FILENO};
  const auto update = files->update(0, replacement);
  std::printf("refused: %s\n",
              update ? "IORING_REGISTER_FILES_UPDATE: it ran" : update.error().message().c_str());
  ok &= !update && update.error() == std::errc::permission_denied;
  return ok ? 0 : 1;
}
