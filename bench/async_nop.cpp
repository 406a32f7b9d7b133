// urine-async-bench: the cost of awaiting an operation. K tasks each await NOPs one after the
// other (K in flight), against urine's own reserve loop on the same ring type and setup (K NOPs
// reserved, pushed, submitted and reaped per batch). Every result is checked. Measured by
// bench/async_callgrind.sh (instructions per NOP, marginal); allocations per NOP are counted here.
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "harness.hpp"
import urine;

namespace {

using namespace urine;
using async::task;
using ring_type = async::default_ring;
using runtime = async::runtime<ring_type>;

const setup bench_setup{.entries = 256, .cq_entries = 512};

task<void> awaiter(runtime& rt, long n, long& bad) {
  for (long i = 0; i < n; ++i) {
    auto r = co_await rt.op(ops::nop{});
    bad += r.raw() != 0;
  }
}

task<void> spawn_all(runtime& rt, long per_task, unsigned tasks, long& bad) {
  for (unsigned t = 0; t < tasks; ++t) rt.spawn(awaiter(rt, per_task, bad));
  co_await rt.join();
}

long run_await(long ops, unsigned inflight) {
  runtime rt(bench_setup);
  long bad = 0;
  rt.run(spawn_all(rt, ops / inflight, inflight, bad));
  if (rt.overflow_events() != 0)
    std::fprintf(stderr, "CQ overflow events: %llu\n",
                 static_cast<unsigned long long>(rt.overflow_events()));
  return bad;
}

long run_reserve(long ops, unsigned inflight) {
  auto ring = ring_type::create(bench_setup);
  if (!ring) std::exit((std::fprintf(stderr, "%s\n", ring.error().message().c_str()), 1));
  long bad = 0;
  for (long done = 0; done < ops; done += inflight) {
    auto batch = ring->reserve(inflight);
    if (!batch) std::exit((std::fprintf(stderr, "reserve failed\n"), 1));
    for (unsigned i = 0; i < inflight; ++i) batch->push(ops::nop{}, user_data(i + 1));
    (void)ring->submit_and_wait(inflight);
    unsigned seen = 0;
    while (seen < inflight) {
      seen +=
          ring->for_each_cqe([&](auto c) { bad += c.result() != 0 || c.user_data().value() == 0; });
      if (seen < inflight) (void)ring->wait(inflight - seen);
    }
  }
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view impl = "await";
  long ops = 100000;
  unsigned inflight = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--impl="))
      impl = a.substr(7);
    else if (a.starts_with("--ops="))
      ops = std::atol(argv[i] + 6);
    else if (a.starts_with("--inflight="))
      inflight = static_cast<unsigned>(std::atol(argv[i] + 11));
    else {
      std::fprintf(stderr,
                   "usage: urine-async-bench [--impl=await|reserve] [--ops=N] [--inflight=K]\n");
      return 2;
    }
  }
  if (inflight == 0 || ops % inflight != 0)
    return std::fprintf(stderr, "ops must be a multiple of inflight\n"), 2;
  // A warm-up round, so frames and the ring's pages exist before the counted one.
  const long warm =
      impl == "await" ? run_await(inflight * 4, inflight) : run_reserve(inflight * 4, inflight);
  const std::uint64_t before = bench::allocations();
  const long bad = warm + (impl == "await" ? run_await(ops, inflight) : run_reserve(ops, inflight));
  const std::uint64_t allocations = bench::allocations() - before;
  std::printf("%.*s inflight=%u ops=%ld allocations/op=%.4f bad=%ld\n",
              static_cast<int>(impl.size()), impl.data(), inflight, ops,
              static_cast<double>(allocations) / static_cast<double>(ops), bad);
  return bad == 0 ? 0 : 1;
}
