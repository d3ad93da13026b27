#include "gateway/status/bounded_text.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong {
namespace {

TEST(TruncateUtf8Test, NeverCutsInsideACharacter) {
  const std::string text = "aĐb";  // 'Đ' is two bytes
  EXPECT_EQ(TruncateUtf8(text, 10), text);
  EXPECT_EQ(TruncateUtf8(text, 3), "aĐ");
  EXPECT_EQ(TruncateUtf8(text, 2), "a");
  EXPECT_EQ(TruncateUtf8(text, 1), "a");
  EXPECT_EQ(TruncateUtf8(text, 0), "");
  const std::string four = "\xF0\x9F\x98\x80x";  // U+1F600
  for (size_t n = 0; n < 4; ++n) EXPECT_EQ(TruncateUtf8(four, n), "") << n;
  EXPECT_EQ(TruncateUtf8(four, 4), "\xF0\x9F\x98\x80");
  // Stray continuation bytes only: nothing is left rather than half.
  EXPECT_EQ(TruncateUtf8("\x80\x80\x80", 2), "");
}

TEST(CutWithEllipsisTest, StaysWithinTheLimitWithTheEllipsis) {
  EXPECT_EQ(CutWithEllipsis("short", 5), "short");
  EXPECT_EQ(CutWithEllipsis("abcdefgh", 7), "abcd…");
  // "Đ" (2 bytes) would end at byte 5: cut before it.
  EXPECT_EQ(CutWithEllipsis("abcĐefgh", 7), "abc…");
  for (size_t limit = 3; limit < 40; ++limit) {
    const std::string cut = CutWithEllipsis(std::string(100, 'x'), limit);
    EXPECT_EQ(cut.size(), limit);
    EXPECT_EQ(cut.substr(cut.size() - 3), "…");
  }
}

TEST(BoundStatusMessageTest, BoundsTheEncodedSize) {
  EXPECT_EQ(BoundStatusMessage("short", 100), "short");
  const std::string ascii(200, 'x');
  std::string bounded = BoundStatusMessage(ascii, 100);
  EXPECT_EQ(bounded, std::string(88, 'x') + " [truncated]");
  // '%' and non-ASCII take three bytes each when sent.
  bounded = BoundStatusMessage(std::string(50, '%'), 100);
  EXPECT_EQ(bounded, std::string(29, '%') + " [truncated]");
  std::string vietnamese;
  for (int i = 0; i < 100; ++i) vietnamese += "Đ";
  bounded = BoundStatusMessage(vietnamese, 100);
  // 88 bytes of budget: 29 bytes encoded, cut back to 14 letters.
  EXPECT_EQ(bounded.size(), 28 + 12u);
}

TEST(CappedListTest, NamesTheFirstFewAndCountsTheRest) {
  EXPECT_EQ(CappedList({}), "");
  EXPECT_EQ(CappedList({"a", "b"}), "a, b");
  std::vector<std::string> many;
  for (int i = 0; i < 10000; ++i) many.push_back("p" + std::to_string(i));
  EXPECT_EQ(CappedList(many, 3), "p0, p1, p2 and 9997 more");
  EXPECT_EQ(CappedList({std::string(1000, 'z')}).size(), 128u);
}

}  // namespace
}  // namespace lienthong
