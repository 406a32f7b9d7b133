// A sleep on a runtime whose ring is IOPOLL: the kernel refuses TIMEOUT there, so urine does not
// compile it.
#include <chrono>
#include <coroutine>
import urine;

urine::async::task<void> nap(urine::async::runtime<urine::ring<urine::iopoll>>& rt) {
  (void)co_await urine::async::sleep_for(rt, std::chrono::milliseconds(1));
}

int main() { return 0; }
