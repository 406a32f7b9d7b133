// Proof that the suite exercises the whole of io_uring_register(2) as kernel 6.18 has it: this
// test runs every other test of the suite in a child process, which writes the per-opcode
// tallies of urine.registration (register_call_stats) when it ends. Every opcode 0 ... 35 must
// have been called, and each but ZCRX_IFQ (no NIC here) must have succeeded at least once.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
import urine;
import urine.test_support;

namespace {

using namespace urine;

constexpr const char* counts_env = "URINE_REGISTER_COUNTS_FILE";

// In the child, at the end of the run: one line "opcode calls successes" per register opcode.
class dump_counts : public ::testing::Environment {
 public:
  void TearDown() override {
    const char* path = std::getenv(counts_env);
    if (path == nullptr) return;
    const auto stats = register_call_stats();
    std::ofstream out(path);
    for (unsigned i = 0; i < register_opcode_count; ++i)
      out << i << ' ' << stats.calls[i] << ' ' << stats.successes[i] << '\n';
  }
};
[[maybe_unused]] const auto* const registered_environment =
    ::testing::AddGlobalTestEnvironment(new dump_counts);

TEST(register_coverage, every_opcode_of_6_18_is_called_and_all_but_zcrx_succeed) {
  if (std::getenv(counts_env) != nullptr) GTEST_SKIP() << "this is the child run";
  urine::test::temp_dir dir;
  const std::string counts = (dir / "counts").string();
  EXPECT_EQ(urine::test::rerun_self(counts_env, counts, "-register_coverage.*"), 0)
      << "the suite itself failed in the child run";

  // An opcode the running kernel does not have cannot be required (its tests skip).
  const auto q = query();
  const unsigned kernel_has = q ? q->register_opcodes : register_opcode_count_6_18;

  std::ifstream in(counts);
  ASSERT_TRUE(in) << "the child wrote no tallies";
  unsigned op = 0;
  std::uint64_t calls = 0, successes = 0;
  unsigned rows = 0;
  while (in >> op >> calls >> successes) {
    ++rows;
    if (op >= register_opcode_count_6_18 || op >= kernel_has) continue;
    const auto code = static_cast<register_opcode>(op);
    EXPECT_GT(calls, 0u) << "IORING_" << name(code) << " was never called";
    if (code == register_opcode::register_zcrx_ifq)
      EXPECT_EQ(successes, 0u) << "ZCRX_IFQ succeeded: a zero-copy NIC is present, extend the test";
    else
      EXPECT_GT(successes, 0u) << "IORING_" << name(code) << " never succeeded";
    std::cout << "IORING_" << name(code) << ": " << calls << " calls, " << successes << " succeeded\n";
  }
  EXPECT_EQ(rows, register_opcode_count);
}

}  // namespace
