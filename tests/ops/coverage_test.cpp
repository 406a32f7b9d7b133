// The proof that the suite makes every opcode of kernel 6.18 succeed at least once: run the whole
// suite (all other tests) in a child process that records, at exit, every opcode whose completion
// succeeded, and require 0 ... 62 — less RECV_ZC, which needs a zero-copy-capable NIC, and less
// whatever the running kernel lacks (reported).
#include <gtest/gtest.h>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
import urine;
import urine.test_support;

using namespace urine;

TEST(coverage, every_opcode_of_6_18_completes_successfully) {
  test::temp_dir dir;
  const std::string record = (dir / "opcodes").string();
  EXPECT_EQ(test::rerun_self("URINE_OPS_COVERAGE_FILE", record, "-coverage.*"), 0)
      << "some operation tests failed; see their own results";

  std::set<unsigned> succeeded, unreachable;
  std::ifstream in(record);
  for (std::string word; in >> word;) {
    unsigned op = 0;
    if (word == "unreachable" && in >> op)
      unreachable.insert(op);
    else
      succeeded.insert(static_cast<unsigned>(std::stoul(word)));
  }
  std::string missing, lacking;
  for (unsigned i = 0; i < opcode_count_6_18; ++i) {
    const auto op = static_cast<opcode>(i);
    if (op == opcode::recv_zc || succeeded.contains(i)) continue;
    if (!test::kernel_has(op) || unreachable.contains(i))
      lacking += " " + std::string(name(op));
    else
      missing += " " + std::string(name(op));
  }
  if (!lacking.empty()) std::cout << "skipped, the kernel lacks:" << lacking << '\n';
  EXPECT_TRUE(missing.empty()) << "opcodes that never completed successfully:" << missing;
  std::cout << succeeded.size() << " opcodes completed successfully\n";
}
