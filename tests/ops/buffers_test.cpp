// Which memory an operation may name: lvalues and views convert to buffers (temporary containers,
// which die before the kernel touches their bytes, are refused: see compile_fail/); and the views
// that do convert carry exactly their bytes to the kernel.
#include <gtest/gtest.h>
#include <unistd.h>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>
import urine;
import urine.test_support;
import urine.ops_test_harness;

using namespace urine;
using namespace urine::test;

namespace {

// Read-only memory: literals, lvalues and views, whether the view itself is a temporary or not.
static_assert(std::constructible_from<const_buffer, const char (&)[4]>);
static_assert(std::constructible_from<const_buffer, std::string&>);
static_assert(std::constructible_from<const_buffer, const std::string&>);
static_assert(std::constructible_from<const_buffer, std::vector<char>&>);
static_assert(std::constructible_from<const_buffer, std::string_view>);
static_assert(std::constructible_from<const_buffer, std::span<const char>>);
static_assert(std::constructible_from<const_buffer, std::span<char>>);

// Writable memory: the same, and the elements must be writable.
static_assert(std::constructible_from<buffer, std::string&>);
static_assert(std::constructible_from<buffer, std::array<char, 4>&>);
static_assert(std::constructible_from<buffer, std::span<char>>);
static_assert(!std::constructible_from<buffer, const std::string&>);
static_assert(!std::constructible_from<buffer, std::string_view>);
static_assert(std::constructible_from<read_buffer, std::span<char>>);
static_assert(std::constructible_from<read_buffer, std::vector<char>&>);

TEST(buffers, views_made_in_the_call_carry_exactly_their_bytes) {
  auto ring = open_ring();
  auto [in, out] = make_pipe();
  const std::string text = "0123456789";

  // A string_view and a subspan, each a temporary made in the call: only their bytes go.
  ASSERT_EQ(perform(ring, ops::write{out.get(), std::string_view(text).substr(2, 3)}).res, 3);
  ASSERT_EQ(perform(ring, ops::write{out.get(), std::span(text).last(2)}).res, 2);
  std::array<char, 8> got{};
  ASSERT_EQ(::read(in.get(), got.data(), got.size()), 5);
  EXPECT_EQ(std::string_view(got.data(), 5), "23489");

  // A read into a temporary span lands in the array it views, and nowhere past it.
  std::array<char, 6> into{'-', '-', '-', '-', '-', '-'};
  ASSERT_EQ(::write(out.get(), "abcdef", 6), 6);
  ASSERT_EQ(perform(ring, ops::read{in.get(), std::span(into).subspan(1, 3)}).res, 3);
  EXPECT_EQ(std::string_view(into.data(), into.size()), "-abc--");
}

// A single-shot read or receive selecting a provided buffer, with no cap of its own, must ask
// for more than any buffer holds: every kernel clamps the length to the selected buffer, and
// kernels before 5.19 read nothing for length 0. A multishot receive must send 0.
TEST(buffers, selected_buffers_without_a_cap_take_the_whole_buffer) {
  const auto prepared = [](const auto& op) {
    urine::abi::sqe s{};
    op.prepare(s);
    return s;
  };
  const buffer_group group{.id = 3};
  const std::uint32_t whole = prepared(ops::read{0, group}).len;
  EXPECT_EQ(whole, 0x7fff'f000u);
  EXPECT_EQ(prepared(ops::read{0, group}).buf_group, 3);
  EXPECT_EQ(prepared(ops::recv{0, group}).len, whole);
  EXPECT_EQ(
      prepared(ops::recv{.file = 0, .into = group, .io_flags = recvsend_flags::recv_multishot}).len,
      0u);
  EXPECT_EQ(prepared(ops::read_multishot{0, group}).len, 0u);
  // A cap is sent as given.
  EXPECT_EQ(prepared(ops::read{0, buffer_group{.id = 3, .max_len = 100}}).len, 100u);
}

}  // namespace
