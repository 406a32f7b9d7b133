// What the echo server does before it serves: descriptors for thousands of connections, and the
// stop signals as a descriptor it can await.
#pragma once

#include <pthread.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <csignal>

namespace example {

/// One descriptor per connection: thousands need more than the usual soft limit of 1024, so the
/// soft limit is raised to the hard one.
inline void raise_descriptor_limit() {
  if (::rlimit limit{};
      ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

/// SIGINT and SIGTERM as a descriptor that becomes readable when one arrives, or -1 (errno set).
/// The signals are blocked in this thread and every thread it starts afterwards, so that they
/// queue on the signalfd instead of killing the process. Their default action is restored first:
/// a shell starts background jobs with SIGINT ignored, and an ignored signal is dropped, never
/// queued.
inline int stop_signal_fd() {
  sigset_t signals;
  sigemptyset(&signals);
  for (const int s : {SIGINT, SIGTERM}) {
    std::signal(s, SIG_DFL);
    sigaddset(&signals, s);
  }
  if (::pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) return -1;
  return ::signalfd(-1, &signals, SFD_CLOEXEC);
}

}  // namespace example
