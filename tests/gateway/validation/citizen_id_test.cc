#include "gateway/validation/citizen_id.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::validation {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::TimeZone kVietnam = absl::FixedTimeZone(7 * 60 * 60);
// 27 November 2025, noon in Hanoi.
const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 11, 27, 12, 0, 0), kVietnam);

google::type::Date MakeDate(int year, int month, int day) {
  google::type::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

struct IdCase {
  const char* id;
  bool has_date;
  int year, month, day;
  const char* error;  // nullptr: valid; otherwise a substring of the message.
};

constexpr IdCase kIdCases[] = {
    // Valid 12-digit IDs, with and without an agreeing birth date.
    {"033085012345", false, 0, 0, 0, nullptr},
    {"033085012345", true, 1985, 3, 12, nullptr},
    {"033185012345", true, 1985, 0, 0, nullptr},    // female 1900s
    {"001205012345", true, 2005, 1, 1, nullptr},    // male 2000s
    {"079325012345", true, 2025, 11, 27, nullptr},  // female, this year
    {"096099000000", false, 0, 0, 0, nullptr},      // highest code, 1999
    {"001000000001", false, 0, 0, 0, nullptr},      // 1900
    {"033085012345", true, 0, 0, 0, nullptr},       // year unknown
    // Old ID cards: digits only, no further structure to check.
    {"145123456", false, 0, 0, 0, nullptr},
    {"000000000", true, 1985, 3, 12, nullptr},
    // Lengths, counted in characters.
    {"", false, 0, 0, 0, "citizen_id is required"},
    {"03308501234", false, 0, 0, 0, "got 11 characters"},
    {"0330850123456", false, 0, 0, 0, "got 13 characters"},
    {"14512345", false, 0, 0, 0, "got 8 characters"},
    {"0330850123ấ", false, 0, 0, 0, "got 11 characters"},
    // Not digits.
    {"03308501234a", false, 0, 0, 0, "only digits"},
    {" 33085012345", false, 0, 0, 0, "only digits"},
    {"03308501234\n", false, 0, 0, 0, "only digits"},
    {"14512345x", false, 0, 0, 0, "only digits"},
    {"-33085012345", false, 0, 0, 0, "only digits"},
    // Full-width digits: 12 characters, not ASCII digits.
    {"０３３０８５０１２３４５", false, 0, 0, 0, "only digits"},
    // Province codes: zero, gaps between real codes, beyond the last.
    {"000085012345", false, 0, 0, 0, "unknown province code"},
    {"003085012345", false, 0, 0, 0, "unknown province code"},
    {"005085012345", false, 0, 0, 0, "unknown province code"},
    {"032085012345", false, 0, 0, 0, "unknown province code"},
    {"078085012345", false, 0, 0, 0, "unknown province code"},
    {"090085012345", false, 0, 0, 0, "unknown province code"},
    {"097085012345", false, 0, 0, 0, "unknown province code"},
    {"100085012345", false, 0, 0, 0, "unknown province code"},
    {"999085012345", false, 0, 0, 0, "unknown province code"},
    // Birth years after now: in this century, and centuries 2100+.
    {"079226012345", false, 0, 0, 0, "birth year in the future"},
    {"079399012345", false, 0, 0, 0, "birth year in the future"},
    {"079400012345", false, 0, 0, 0, "gender/century digit implies"},
    {"079500012345", false, 0, 0, 0, "gender/century digit implies"},
    {"079985012345", false, 0, 0, 0, "gender/century digit implies"},
    // Birth date disagreeing with the digits.
    {"033085012345", true, 1986, 3, 12, "birth year digits do not agree"},
    {"033085012345", true, 2085, 0, 0, "gender/century digit does not agree"},
    {"033205012345", true, 1905, 1, 1, "gender/century digit does not agree"},
    {"033105012345", true, 2005, 1, 1, "gender/century digit does not agree"},
    {"033305012345", true, 1905, 0, 0, "gender/century digit does not agree"},
};

TEST(ValidateCitizenIdTest, Table) {
  for (const IdCase& c : kIdCases) {
    SCOPED_TRACE(absl::StrCat("id=\"", c.id, "\" year=", c.year));
    const google::type::Date date = MakeDate(c.year, c.month, c.day);
    const absl::Status status =
        ValidateCitizenId(c.id, c.has_date ? &date : nullptr, kNow);
    if (c.error == nullptr) {
      EXPECT_THAT(status, IsOk());
      continue;
    }
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr(c.error)));
    // The message never echoes the ID or any three characters of it.
    const std::string id = c.id;
    for (size_t i = 0; i + 3 <= id.size(); ++i) {
      EXPECT_THAT(std::string(status.message()),
                  Not(HasSubstr(id.substr(i, 3))));
    }
  }
}

TEST(ValidateCitizenIdTest, CurrentYearIsTakenInVietnam) {
  // 31 Dec 2025 18:00 UTC is already 2026 in Hanoi.
  const absl::Time new_year_in_hanoi = absl::FromCivil(
      absl::CivilSecond(2025, 12, 31, 18, 0, 0), absl::UTCTimeZone());
  EXPECT_THAT(ValidateCitizenId("001226012345", nullptr, new_year_in_hanoi),
              IsOk());
  EXPECT_THAT(
      ValidateCitizenId("001226012345", nullptr,
                        new_year_in_hanoi - absl::Hours(7)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("future")));
}

struct DateCase {
  int year, month, day;
  const char* error;
};

constexpr DateCase kDateCases[] = {
    {1985, 3, 12, nullptr},
    {1985, 0, 0, nullptr},  // year only
    {1900, 1, 1, nullptr},
    {2024, 2, 29, nullptr},  // leap: divisible by 4
    {2000, 2, 29, nullptr},  // leap: divisible by 400
    {1996, 12, 31, nullptr},
    {2025, 11, 27, nullptr},  // today
    {2025, 0, 0, nullptr},    // this year
    {2023, 2, 29, "does not exist"},
    {1900, 2, 29, "does not exist"},  // not leap: divisible by 100
    {2100, 2, 29, "does not exist"},
    {1985, 4, 31, "does not exist"},
    {1985, 1, 32, "does not exist"},
    {1985, 1, -1, "does not exist"},
    {1985, 13, 1, "month must be 1..12"},
    {1985, -1, 1, "month must be 1..12"},
    {1985, 0, 5, "day but no month"},
    {1985, 3, 0, "must have a day"},
    {1899, 12, 31, "1900 or later"},
    {0, 0, 0, "1900 or later"},
    {-5, 1, 1, "1900 or later"},
    {2025, 11, 28, "in the future"},
    {2025, 12, 1, "in the future"},
    {2026, 0, 0, "in the future"},
    {9999, 12, 31, "in the future"},
};

// The gender/century digit: 0 and 2 (men born in the 1900s, 2000s), 1 and
// 3 (women); only a 12-digit ID has one, and no reason echoes the ID.
// Runs of exactly 9 or 12 digits are IDs; longer or shorter numbers, and
// digits within codes, are left as they are.
TEST(MaskCitizenIdsInTextTest, MasksRunsOfAnIdsLengthOnly) {
  EXPECT_EQ(MaskCitizenIdsInText("mẹ 033190012345, cha 123456789."),
            "mẹ 033*******45, cha *******89.");
  EXPECT_EQ(MaskCitizenIdsInText("033190012345"), "033*******45");
  for (const char* kept :
       {"", "không khớp", "KS.033.2026.000123", "000.00.31.H31-260105-00001",
        "0912345678", "0331900123456", "12345678", "0912 345 678",
        "ngày 01/02/1985", "18.000.000 đồng"}) {
    EXPECT_EQ(MaskCitizenIdsInText(kept), kept);
  }
}

// As people write them: in groups, in full-width digits; two IDs side by
// side are two.
TEST(MaskCitizenIdsInTextTest, MasksIdsWrittenInGroups) {
  EXPECT_EQ(MaskCitizenIdsInText("CCCD 033.085.012.345, Nguyễn Thị Bình"),
            "CCCD 033*******45, Nguyễn Thị Bình");
  EXPECT_EQ(MaskCitizenIdsInText("số 033-085-012-345."), "số 033*******45.");
  EXPECT_EQ(MaskCitizenIdsInText("033 085 012 345 và 123 456 789"),
            "033*******45 và *******89");
  EXPECT_EQ(MaskCitizenIdsInText("033085012345 033085012346"),
            "033*******45 033*******46");
  EXPECT_EQ(MaskCitizenIdsInText("ĐT 0912 345 678, CCCD 033085012345"),
            "ĐT 0912 345 678, CCCD 033*******45");
  // A sum of 9 digits written as one cannot be told from an ID.
  EXPECT_EQ(MaskCitizenIdsInText("150.000.000 đồng"), "*******00 đồng");
  // Full-width digits (U+FF10..U+FF19), alone or mixed with ASCII ones.
  EXPECT_EQ(MaskCitizenIdsInText("(\xEF\xBC\x90\xEF\xBC\x93\xEF\xBC\x93"
                                 "085012345)"),
            "(033*******45)");
}

TEST(CheckIdGenderTest, OddDigitsAreWomensEvenOnesMens) {
  EXPECT_THAT(CheckIdGender("001085004321", false), IsOk());
  EXPECT_THAT(CheckIdGender("001185004321", true), IsOk());
  EXPECT_THAT(CheckIdGender("033226000123", false), IsOk());
  EXPECT_THAT(CheckIdGender("033326000124", true), IsOk());
  EXPECT_THAT(CheckIdGender("033326000124", false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is a woman's, not a man's")));
  EXPECT_THAT(CheckIdGender("001085004321", true),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("is a man's, not a woman's"),
                             Not(HasSubstr("004321")))));
  for (const char* id : {"", "001085004", "00108500432X", "0010850043210"}) {
    EXPECT_THAT(CheckIdGender(id, false),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("must have 12 digits")))
        << id;
  }
}

TEST(ValidateDateTest, Table) {
  for (const DateCase& c : kDateCases) {
    SCOPED_TRACE(absl::StrCat(c.year, "-", c.month, "-", c.day));
    const absl::Status status =
        ValidateDate(MakeDate(c.year, c.month, c.day), kNow);
    if (c.error == nullptr) {
      EXPECT_THAT(status, IsOk());
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr(c.error)));
    }
  }
}

TEST(ValidateDateTest, TodayIsTakenInVietnam) {
  // 27 Nov 2025 17:30 UTC is 28 Nov 00:30 in Hanoi.
  const absl::Time after_midnight_in_hanoi = absl::FromCivil(
      absl::CivilSecond(2025, 11, 27, 17, 30, 0), absl::UTCTimeZone());
  EXPECT_THAT(ValidateDate(MakeDate(2025, 11, 28), after_midnight_in_hanoi),
              IsOk());
  EXPECT_THAT(
      ValidateDate(MakeDate(2025, 11, 29), after_midnight_in_hanoi),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("future")));
}

TEST(ValidateDateTest, ErrorsNameTheField) {
  EXPECT_THAT(ValidateDate(MakeDate(1985, 2, 30), kNow, "birth_date"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "birth_date's day does not exist in its month"));
  EXPECT_THAT(ValidateDate(MakeDate(2030, 1, 1), kNow, "birth_date"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "birth_date is in the future"));
  EXPECT_THAT(ValidateDate(MakeDate(1985, 13, 1), kNow),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "date's month must be 1..12"));
}

struct MaskCase {
  const char* id;
  const char* masked;
};

constexpr MaskCase kMaskCases[] = {
    {"033085012345", "033*******45"},
    {"145123456", "*******56"},
    {"", "***"},
    {"03308501234", "***"},
    {"0330850123456", "***"},
    {"03308501234a", "***"},
    {"14512345x", "***"},
    {"<script>", "***"},
    {"０３３０８５０１２３４５", "***"},
};

TEST(MaskCitizenIdTest, Table) {
  for (const MaskCase& c : kMaskCases) {
    EXPECT_EQ(MaskCitizenId(c.id), c.masked) << "id=\"" << c.id << "\"";
  }
}

TEST(IsOldIdCardTest, Table) {
  EXPECT_TRUE(IsOldIdCard("145123456"));
  EXPECT_FALSE(IsOldIdCard("033085012345"));
  EXPECT_FALSE(IsOldIdCard("14512345"));
  EXPECT_FALSE(IsOldIdCard("14512345a"));
  EXPECT_FALSE(IsOldIdCard(""));
}

}  // namespace
}  // namespace lienthong::validation
