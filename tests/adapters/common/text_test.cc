#include "adapters/common/text.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"

namespace lienthong::adapters {
namespace {

using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Not;

// The NFD form of `nfc`, made with ICU independently of the code under test.
std::string ToNfd(const std::string& nfc) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  icu::UnicodeString out =
      nfd->normalize(icu::UnicodeString::fromUTF8(nfc), status);
  std::string utf8;
  out.toUTF8String(utf8);
  return utf8;
}

struct FoldCase {
  const char* input;
  const char* folded;
};

constexpr FoldCase kFoldCases[] = {
    {"Nguyễn Thị Ánh", "NGUYEN THI ANH"},
    {"Đặng Đình Đức", "DANG DINH DUC"},
    {"đặng đình đức", "DANG DINH DUC"},
    {"Lê Hữu Phước", "LE HUU PHUOC"},
    {"Trương Mỹ Ưng", "TRUONG MY UNG"},
    {"Phạm Quỳnh Hương", "PHAM QUYNH HUONG"},
    {"Vũ Thị Ngọc Ẩn", "VU THI NGOC AN"},
    {"Hoàng Ỷ Lan", "HOANG Y LAN"},
    {"Bùi Thị Xuân", "BUI THI XUAN"},
    {"nGUYỄN vĂn an", "NGUYEN VAN AN"},
    {"NGUYEN VAN AN", "NGUYEN VAN AN"},
    {"  Nguyễn   Văn \t An  ", "NGUYEN VAN AN"},
    {"Nguyễn\u00a0Văn\u3000An\n", "NGUYEN VAN AN"},  // NBSP, ideographic space
    {"H'Hen Niê", "H'HEN NIE"},
    {"Nguyễn-Trần Bảo", "NGUYEN-TRAN BAO"},
    {"Lê Văn A.", "LE VAN A."},
    {"Straße", "STRASSE"},  // full upper-case mapping
    {"Müller", "MULLER"},
    {"Søren", "SØREN"},  // Ø has no decomposition: kept, as documented
};

TEST(FoldNameTest, NfcAndNfdInput) {
  for (const FoldCase& c : kFoldCases) {
    EXPECT_THAT(FoldName(c.input), IsOkAndHolds(Eq(c.folded)))
        << "NFC input \"" << c.input << "\"";
    const std::string nfd = ToNfd(c.input);
    EXPECT_THAT(FoldName(nfd), IsOkAndHolds(Eq(c.folded)))
        << "NFD input of \"" << c.input << "\"";
  }
}

TEST(FoldNameTest, HandWrittenNfd) {
  // "Nguyễn" as N g u y e + circumflex (U+0302) + tilde (U+0303) n, and
  // "Đức" as Đ u + horn (U+031B) + acute (U+0301) c: no ICU involved.
  EXPECT_THAT(FoldName("Nguye\xcc\x82\xcc\x83n \xc4\x90u\xcc\x9b\xcc\x81"
                       "c"),
              IsOkAndHolds(Eq("NGUYEN DUC")));
}

struct FoldErrorCase {
  std::string input;
  const char* error;
};

TEST(FoldNameTest, Errors) {
  const FoldErrorCase kCases[] = {
      {"", "required"},
      {"   \t ", "required"},
      {"...", "must contain a letter"},
      {"Nguyễn Văn 2", "only letters"},
      {"Nguyễn Văn An3", "only letters"},
      {"An@mail", "only letters"},
      {"Nguyễn/Văn", "only letters"},
      {"An <b>", "only letters"},
      {"An\x01", "only letters"},
      {"An \xF0\x9F\x98\x80", "only letters"},  // emoji
      {"Ａn１", "only letters"},                // full-width digit
      {"Nguy\xc3", "UTF-8"},                    // truncated sequence
      {"Nguy\xe1\xbb", "UTF-8"},                // truncated 3-byte sequence
      {"\xff\xfe", "UTF-8"},
      {"\xc0\xaf", "UTF-8"},      // overlong '/'
      {"\xed\xa0\x80", "UTF-8"},  // surrogate
      {std::string("An\0Binh", 7), "only letters"},
      {std::string(101, 'A'), "longer than 100"},
      {std::string(5000, 'A'), "longer than 100"},
  };
  for (const FoldErrorCase& c : kCases) {
    const absl::StatusOr<std::string> folded = FoldName(c.input);
    EXPECT_THAT(folded, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr(c.error)))
        << "input \"" << c.input << "\"";
    if (c.input.size() >= 3) {
      EXPECT_THAT(std::string(folded.status().message()),
                  Not(HasSubstr(c.input)));
    }
  }
}

TEST(FoldNameTest, LengthLimitCountsCharacters) {
  // 100 characters: 50 "Ư" (2 bytes NFC, 3+ bytes NFD) and 49 spaces, 1 'A'.
  std::string name;
  for (int i = 0; i < 50; ++i) name += "Ư ";
  name.back() = 'A';
  ASSERT_EQ(name.size(), 150u);
  EXPECT_THAT(
      FoldName(name),
      IsOkAndHolds(Eq(std::string("U U U U U U U U U U U U U U U U U U U U U U "
                                  "U U U U U U U U U U U U U U U U U U U U U U "
                                  "U U U U U UA"))));
  EXPECT_THAT(FoldName(ToNfd(name)).status().ok(), true);
  EXPECT_THAT(FoldName(name + "B"), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("longer than 100")));
}

TEST(FoldNameTest, ConcurrentUseAgrees) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 2000; ++i) {
        absl::StatusOr<std::string> folded = FoldName("Đặng Đình Đức");
        if (!folded.ok() || *folded != "DANG DINH DUC") ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(failures, ::testing::Each(0));
}

TEST(NormalizeNfcTest, ComposesAndValidates) {
  EXPECT_THAT(NormalizeNfc(ToNfd("Nguyễn Thị Ánh")),
              IsOkAndHolds(Eq("Nguyễn Thị Ánh")));
  EXPECT_THAT(NormalizeNfc("Thôn 3"), IsOkAndHolds(Eq("Thôn 3")));
  // Decomposed only in part: the NFC around it is kept as it is.
  EXPECT_THAT(NormalizeNfc("Thôn " + ToNfd("Đông Hải") + " ấp 3"),
              IsOkAndHolds(Eq("Thôn Đông Hải ấp 3")));
  EXPECT_THAT(NormalizeNfc(""), IsOkAndHolds(Eq("")));
  EXPECT_THAT(NormalizeNfc("Th\xc3"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UTF-8")));
}

struct SplitCase {
  const char* full;
  const char* family;
  const char* middle;
  const char* given;
};

constexpr SplitCase kSplitCases[] = {
    {"Nguyễn Văn Bình", "Nguyễn", "Văn", "Bình"},
    {"Nguyễn Thị Ngọc Ánh", "Nguyễn", "Thị Ngọc", "Ánh"},
    {"Tôn Nữ Thị Hồng Vân", "Tôn", "Nữ Thị Hồng", "Vân"},
    {"Lê An", "Lê", "", "An"},
    {"Sùng", "", "", "Sùng"},
    {"  Trần   Hưng  Đạo \t", "Trần", "Hưng", "Đạo"},
    {"", "", "", ""},
    {"   ", "", "", ""},
};

TEST(SplitVietnameseNameTest, Table) {
  for (const SplitCase& c : kSplitCases) {
    const NameParts parts = SplitVietnameseName(c.full);
    EXPECT_EQ(parts.family, c.family) << c.full;
    EXPECT_EQ(parts.middle, c.middle) << c.full;
    EXPECT_EQ(parts.given, c.given) << c.full;
  }
}

struct ControlCase {
  const char* what;
  std::string input;
  std::string output;
};

TEST(ReplaceControlCharactersTest, Table) {
  const ControlCase kCases[] = {
      {"Vietnamese kept", "Nguyễn Thị Ánh, Đức", "Nguyễn Thị Ánh, Đức"},
      {"empty", "", ""},
      {"C0 controls", "a\nb\tc\rd", "a b c d"},
      {"NUL", std::string("a\0b", 3), "a b"},
      {"ESC of an escape sequence", "\x1b[2J bad", " [2J bad"},
      {"DEL", "a\x7f", "a "},
      {"C1 NEL", "a\xc2\x85z", "a z"},
      {"C1 CSI", "\xc2\x9b[2J", " [2J"},
      {"no-break space is no control", "a\xc2\xa0z", "a\xc2\xa0z"},
      {"trail bytes 80..9F of other characters kept", "\xc3\x80\xe1\xba\x80",
       "\xc3\x80\xe1\xba\x80"},
      {"lone 8-bit CSI", "a\x9b[2J", "a\xef\xbf\xbd[2J"},
      {"truncated sequence", "Nguy\xe1\xbb", "Nguy\xef\xbf\xbd"},
      {"invalid byte", "\xffz", "\xef\xbf\xbdz"},
  };
  for (const ControlCase& c : kCases) {
    EXPECT_EQ(ReplaceControlCharacters(c.input), c.output) << c.what;
  }
}

TEST(MaskedForLogTest, MasksDigitsAndControlsAndBounds) {
  EXPECT_EQ(MaskedForLog("citizen 033085012345 not\tfound\n"),
            "citizen ************ not found ");
  // A right-to-left override would show the line reversed in a terminal.
  EXPECT_EQ(MaskedForLog("id \xe2\x80\xae"
                         "54321 \xc2\x9b[2J"),
            "id  *****  [*J");
  // Full-width digits (U+FF10..U+FF19), as an upstream could
  // write an ID, are masked too: each one '*'.
  std::string full_width;
  for (char d : std::string("033085012345")) {
    full_width += "\xef\xbc";
    full_width.push_back(static_cast<char>(0x90 + (d - '0')));
  }
  EXPECT_EQ(MaskedForLog("id " + full_width + " n\xc3\xa0y"),
            "id ************ n\xc3\xa0y");
  EXPECT_EQ(MaskedForLog(std::string(500, 'a')).size(), 200u);
  // Ill-formed bytes become U+FFFD (3 bytes each) and still fit.
  const std::string replaced = MaskedForLog(std::string(500, '\xff'), 200);
  EXPECT_LE(replaced.size(), 200u);
  EXPECT_EQ(replaced.size() % 3, 0u);
  EXPECT_EQ(replaced.substr(0, 3), "\xef\xbf\xbd");
}

}  // namespace
}  // namespace lienthong::adapters
