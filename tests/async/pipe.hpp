// A pipe for the async tests: something to block a read on, and to complete it by writing.
#pragma once
#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <system_error>
#include <utility>

namespace urine::test {

/// {read end, write end}; throws when the pipe cannot be made.
template <class Fd>
std::pair<Fd, Fd> make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category(), "pipe2");
  return {Fd(p[0]), Fd(p[1])};
}

}  // namespace urine::test
