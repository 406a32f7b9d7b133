// The fixture of the tests on async::runtime<>: each skips, with the reason, where the kernel
// refuses the default ring (SINGLE_ISSUER|DEFER_TASKRUN came in 6.1, registered ring fds in
// 5.18). Included after `import urine.test_support;`.
#pragma once
#include <gtest/gtest.h>
#include <string>

namespace urine::test {

class default_runtime_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = lacks_default_runtime(); !why.empty()) GTEST_SKIP() << why;
  }
};

}  // namespace urine::test
