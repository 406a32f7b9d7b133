// SQPOLL: a kernel thread polls the submission queue, so while it is awake, submit() only
// publishes the new tail — no system call. After `idle` without work the thread sleeps and sets
// the need-wakeup flag; the next submit() then makes one io_uring_enter to wake it.
#include <chrono>
#include <cstdio>
#include <string_view>
#include <thread>
import urine;

using namespace std::chrono_literals;
using namespace urine;

namespace {

using sqpoll_ring = ring<sqpoll>;

// Reap `n` completions by watching the CQ (no system call either); false on a failed one.
bool reap(sqpoll_ring& r, unsigned n) {
  bool ok = true;
  for (unsigned seen = 0; seen < n;) {
    if (auto c = r.peek_cqe()) {
      ok = ok && c.result() >= 0;
      r.cqe_seen(c);
      ++seen;
    } else {
      std::this_thread::yield();
    }
  }
  return ok;
}

}  // namespace

int main() {
  auto made = sqpoll_ring::create({.entries = 64, .sq_thread_idle_ms = 20});
  if (!made) return std::fprintf(stderr, "sqpoll ring: %s\n", made.error().message().c_str()), 1;
  auto& r = *made;

  // The first submit() may have to wake the thread; once it has work it stays awake for 20 ms,
  // so the batches that follow are picked up without entering the kernel.
  for (int i = 0; i < 32; ++i) (void)r.push(ops::nop{}, i);
  if (!r.submit() || !reap(r, 32)) return std::fputs("nops failed\n", stderr), 1;
  std::puts("32 NOPs submitted and completed");
  std::printf("thread just busy, needs_wakeup() = %d\n", r.needs_wakeup());

  // Writes work the same way; the buffer must stay valid until the thread has consumed the SQE.
  constexpr std::string_view line = "written by the SQPOLL thread\n";
  std::fflush(stdout);  // the ring writes to fd 1 directly, past stdio's buffer
  (void)r.push(ops::write{1, const_buffer(line.data(), line.size())}, 100);
  if (!r.submit() || !reap(r, 1)) return std::fputs("write failed\n", stderr), 1;

  // Idle longer than 20 ms: the thread goes to sleep and asks to be woken.
  std::this_thread::sleep_for(100ms);
  // On a busy machine the thread may need a little longer to be scheduled and fall asleep.
  for (int i = 0; i < 100 && !r.needs_wakeup(); ++i) std::this_thread::sleep_for(20ms);
  std::printf("after 100 ms idle, needs_wakeup() = %d\n", r.needs_wakeup());
  (void)r.push(ops::nop{}, 200);
  if (!r.submit() || !reap(r, 1)) return std::fputs("nop after wakeup failed\n", stderr), 1;
  std::puts(
      "submit() woke the thread (one io_uring_enter with IORING_ENTER_SQ_WAKEUP); NOP completed");
  return 0;
}
