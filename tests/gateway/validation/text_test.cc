// Free text, person names, e-mail addresses and phone numbers, as tables.
#include "gateway/validation/text.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::validation {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FindInvalidUtf8Test, Table) {
  struct Case {
    std::string text;
    size_t want;
  };
  const Case kCases[] = {
      {"", 0},
      {"Nguyễn Văn An", std::string("Nguyễn Văn An").size()},
      {"ab\xff", 2},                 // not a lead byte
      {"a\xc3", 1},                  // truncated
      {"\xc0\xaf", 0},               // overlong '/'
      {"x\xed\xa0\x80", 1},          // a surrogate
      {"\xf4\x90\x80\x80", 0},       // above U+10FFFF
      {"\xf0\x9f\x98\x80 ok", 7},    // an emoji is fine: the size
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(FindInvalidUtf8(c.text), c.want) << c.text;
  }
}

TEST(ValidateTextTest, Table) {
  struct Case {
    std::string text;
    size_t max;
    bool multiline;
    const char* error;  // nullptr: OK
  };
  const Case kCases[] = {
      {"Phòng Tư pháp", 100, false, nullptr},
      {"", 10, false, nullptr},
      {"0123456789", 10, false, nullptr},
      {"01234567890", 10, false, "longer than 10 bytes"},
      {"ệ", 2, false, "longer than 2 bytes"},
      {"a\xffz", 10, false, "not valid UTF-8"},
      {"line\nbreak", 20, false, "control characters"},
      {"line\nbreak\ttab\r", 20, true, nullptr},
      {std::string("nul\0x", 5), 20, true, "control characters"},
      {"esc\x1b[0m", 20, true, "control characters"},
      {"del\x7f", 20, true, "control characters"},
      // C1: CSI (U+009B) starts a terminal escape as ESC [ does.
      {"KS\xc2\x9b"
       "31m",
       20, true, "control characters"},
      {"NEL\xc2\x85", 20, true, "control characters"},
      // Bidirectional overrides and isolates make text read reversed.
      {"KS-\xe2\x80\xae"
       "321",
       20, false, "control characters"},
      {"a\xe2\x80\xaa"
       "b",
       20, true, "control characters"},
      {"a\xe2\x81\xa6"
       "b",
       20, true, "control characters"},
      {"a\xe2\x81\xa9"
       "b",
       20, true, "control characters"},
      // Their neighbours are text: U+00A0, U+2029, U+202F, U+2065, U+206A.
      {"\xc2\xa0\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa", 20, false,
       nullptr},
  };
  for (const Case& c : kCases) {
    absl::Status s = ValidateText(c.text, c.max, c.multiline);
    if (c.error == nullptr) {
      EXPECT_THAT(s, IsOk()) << c.text;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr(c.error)))
          << c.text;
      EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr(c.text)));
    }
  }
}

TEST(FindControlCharacterTest, GivesTheCodePointAndItsPlaceInCharacters) {
  EXPECT_FALSE(FindControlCharacter("Tên mới").has_value());
  auto found = FindControlCharacter("Tên\xe2\x80\xaemới");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->code_point, 0x202Eu);
  EXPECT_EQ(found->position, 4);
  found = FindControlCharacter("T\xc2\x85n");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->code_point, 0x85u);
  EXPECT_EQ(found->position, 2);
  // Allowed ASCII controls are passed over, others still found.
  EXPECT_FALSE(FindControlCharacter("a\tb\nc", "\t\n").has_value());
  found = FindControlCharacter("a\tb\rc", "\t\n");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->code_point, 0x0Du);
  EXPECT_EQ(found->position, 4);
}

TEST(AsciiRulesTest, VisibleRefusesSpacesControlsAndOtherScripts) {
  EXPECT_TRUE(IsVisibleAscii(""));
  EXPECT_TRUE(IsVisibleAscii("!Key~09"));
  EXPECT_FALSE(IsVisibleAscii("a b"));
  EXPECT_FALSE(IsVisibleAscii("a\tb"));
  EXPECT_FALSE(IsVisibleAscii("a\r\nX-Injected: 1"));
  EXPECT_FALSE(IsVisibleAscii("a\x7f"));
  EXPECT_FALSE(IsVisibleAscii("\xc4\x90"));  // Đ
  EXPECT_FALSE(IsVisibleAscii(absl::string_view("a\0b", 3)));
}

TEST(AsciiRulesTest, PrintableAllowsSpacesOnly) {
  EXPECT_TRUE(IsPrintableAscii("Bearer abc"));
  EXPECT_TRUE(IsPrintableAscii(" "));
  EXPECT_FALSE(IsPrintableAscii("a\tb"));
  EXPECT_FALSE(IsPrintableAscii("a\nb"));
  EXPECT_FALSE(IsPrintableAscii("a\x7f"));
  EXPECT_FALSE(IsPrintableAscii("\xc2\x85"));  // NEL, a C1 control
}

TEST(ValidatePersonNameTest, Table) {
  struct Case {
    std::string name;
    const char* error;  // nullptr: OK
  };
  const Case kCases[] = {
      {"Nguyễn Thị Ánh", nullptr},
      {"Đặng Văn O'Neil-Trần", nullptr},
      {"Lê Văn A.", nullptr},
      {"H'Hen Niê", nullptr},
      {"  Nguyễn   Văn \t An\n", nullptr},  // white space folds to spaces
      {"Nguyễn\u00a0Văn", nullptr},         // no-break space
      // NFD: e + circumflex (U+0302) + tilde (U+0303); u + horn + acute.
      {"Nguye\xcc\x82\xcc\x83n \xc4\x90u\xcc\x9b\xcc\x81"
       "c",
       nullptr},
      {"Søren Müller", nullptr},
      {"", "full_name is required"},
      {" \t ", "full_name is required"},
      {"...", "full_name must contain a letter"},
      {"Nguyen Van 3", "full_name may contain only letters, spaces and ' - ."},
      {"Nguyễn Văn An3", "may contain only letters"},
      {"Ａn１", "may contain only letters"},  // full-width digit
      {"Nguyễn/Văn", "may contain only letters"},
      {"An <b>", "may contain only letters"},
      {"An \xF0\x9F\x98\x80", "may contain only letters"},  // emoji
      {"Trần\x01"
       "An",
       "may contain only letters"},
      {std::string("An\0Binh", 7), "may contain only letters"},
      {"Trần\x1b[0m", "may contain only letters"},
      {"Trần\x7f", "may contain only letters"},
      {"Trần\xc2\x80", "may contain only letters"},  // C1 control U+0080
      {"Nguy\xc3", "full_name is not valid UTF-8"},
      {"Trần\xed\xa0\x80", "not valid UTF-8"},  // a surrogate
      {std::string(101, 'A'), "full_name is longer than 100 characters"},
      {std::string(5000, 'A'), "longer than 100 characters"},
  };
  for (const Case& c : kCases) {
    absl::Status s = ValidatePersonName(c.name, "full_name");
    if (c.error == nullptr) {
      EXPECT_THAT(s, IsOk()) << c.name;
    } else {
      EXPECT_THAT(
          s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)))
          << c.name;
      if (c.name.size() >= 3) {
        EXPECT_THAT(std::string(s.message()),
                    ::testing::Not(HasSubstr(c.name)));
      }
    }
  }
}

TEST(ValidatePersonNameTest, LengthCountsCharactersNotBytes) {
  // 100 "ễ": 300 bytes in NFC, 500 in NFD, 100 characters either way.
  std::string nfc;
  std::string nfd;
  for (int i = 0; i < 100; ++i) {
    nfc += "ễ";
    nfd += "e\xcc\x82\xcc\x83";
  }
  EXPECT_THAT(ValidatePersonName(nfc, "full_name"), IsOk());
  EXPECT_THAT(ValidatePersonName(nfd, "full_name"), IsOk());
  EXPECT_THAT(ValidatePersonName(nfc + "a", "full_name"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("longer than 100 characters")));
  EXPECT_THAT(ValidatePersonName(nfd + "a", "full_name"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("longer than 100 characters")));
  // A run of white space between words counts as one space; at the ends,
  // not at all: 49 + 1 + 50 characters.
  EXPECT_THAT(ValidatePersonName("  " + std::string(49, 'A') + " \t  " +
                                     std::string(50, 'B') + "  ",
                                 "full_name"),
              IsOk());
  EXPECT_THAT(
      ValidatePersonName(std::string(50, 'A') + " " + std::string(50, 'B'),
                         "full_name"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("longer than 100 characters")));
}

TEST(ValidateEmailTest, Table) {
  struct Case {
    std::string email;
    bool ok;
  };
  const Case kCases[] = {
      {"mai@example.vn", true},
      {"tran.thi.mai+hoso@mail.hungyen.gov.vn", true},
      {"a@b.co", true},
      {"o'neil@x-y.example", true},
      {"", false},
      {"mai", false},
      {"mai@", false},
      {"@example.vn", false},
      {"mai@example", false},          // one label
      {"mai@@example.vn", false},
      {"mai@exa mple.vn", false},
      {"mai@-example.vn", false},
      {"mai@example-.vn", false},
      {"mai@example..vn", false},
      {".mai@example.vn", false},
      {"mai.@example.vn", false},
      {"m..ai@example.vn", false},
      {"mai@ví-dụ.vn", false},          // not ASCII
      {"\"quoted\"@example.vn", false},
      {std::string(65, 'a') + "@example.vn", false},
      {"a@" + std::string(64, 'b') + ".vn", false},
      {"a@" + std::string(250, 'b'), false},
      {"mai@example.vn\n", false},
  };
  for (const Case& c : kCases) {
    absl::Status s = ValidateEmail(c.email);
    EXPECT_EQ(s.ok(), c.ok) << c.email;
    if (!s.ok()) {
      EXPECT_EQ(s.message(), "not an e-mail address");
    }
  }
}

TEST(ValidatePhoneNumberTest, Table) {
  struct Case {
    const char* phone;
    bool ok;
  };
  const Case kCases[] = {
      {"0912345678", true},      {"024 3825 1234", true},
      {"+84 912 345 678", true}, {"+84912345678", true},
      {"0221.3862.551", true},   {"091-234-5678", true},
      {"12345678", true},        {"", false},
      {"+", false},              {"1234567", false},
      {"1234567890123456", false}, {"0912 345 678 ", false},
      {" 0912345678", false},    {"0912  345678", false},
      {"09-.12345678", false},   {"(024) 38251234", false},
      {"0912345678 ext 2", false}, {"++84912345678", false},
      {"84+912345678", false},   {"０９１２３４５６７８", false},
  };
  for (const Case& c : kCases) {
    absl::Status s = ValidatePhoneNumber(c.phone);
    EXPECT_EQ(s.ok(), c.ok) << c.phone;
    if (!s.ok()) {
      EXPECT_EQ(s.message(), "not a phone number");
    }
  }
}

TEST(CountCodePointsTest, CountsCharactersNotBytes) {
  EXPECT_EQ(CountCodePoints(""), 0u);
  EXPECT_EQ(CountCodePoints("abc"), 3u);
  EXPECT_EQ(CountCodePoints("Đăng ký"), 7u);  // 11 bytes
  EXPECT_EQ(CountCodePoints("\xF0\x9F\x98\x80"), 1u);
  // A stray continuation byte is not a character; a lone lead byte is.
  EXPECT_EQ(CountCodePoints("a\x80"), 1u);
  EXPECT_EQ(CountCodePoints("a\xC3"), 2u);
}

TEST(IsLoopbackHostTest, OnlyAddressesOfThisMachine) {
  for (const char* host :
       {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "[::]", "10.0.0.1", "128.0.0.1",
                           "localhost.example", "", "1.127.0.0"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

}  // namespace
}  // namespace lienthong::validation
