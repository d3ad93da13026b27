#include "gateway/validation/dates.h"

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace lienthong::validation {
namespace {

TEST(DatesTest, LeapYears) {
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_TRUE(IsLeapYear(2000));   // divisible by 400
  EXPECT_FALSE(IsLeapYear(1900));  // by 100, not by 400
  EXPECT_FALSE(IsLeapYear(2025));
}

TEST(DatesTest, DaysInMonth) {
  EXPECT_EQ(DaysInMonth(2025, 1), 31);
  EXPECT_EQ(DaysInMonth(2025, 2), 28);
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2025, 4), 30);
  EXPECT_EQ(DaysInMonth(2025, 12), 31);
}

TEST(DatesTest, CalendarDatesAgreeWithAbseil) {
  // Every day of two years (one leap) exists, and nothing past a month's
  // end does, as absl::CivilDay (which normalises 02-30 to 03-02) says.
  for (int year : {2024, 2025}) {
    for (int month = 1; month <= 12; ++month) {
      for (int day = 1; day <= 32; ++day) {
        const absl::CivilDay civil(year, month, day);
        EXPECT_EQ(IsCalendarDate(year, month, day),
                  civil.month() == month && civil.day() == day)
            << year << "-" << month << "-" << day;
      }
    }
  }
  EXPECT_FALSE(IsCalendarDate(2025, 0, 1));
  EXPECT_FALSE(IsCalendarDate(2025, 13, 1));
  EXPECT_FALSE(IsCalendarDate(2025, 1, 0));
  EXPECT_FALSE(IsCalendarDate(2025, 1, -1));
}

TEST(DatesTest, IsoDatesAreExactlyDigitsAndADayThatExists) {
  EXPECT_EQ(ParseIsoDate("2024-02-29"), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(ParseIsoDate("0001-01-01"), absl::CivilDay(1, 1, 1));
  EXPECT_EQ(ParseIsoDate("9999-12-31"), absl::CivilDay(9999, 12, 31));
  for (const char* text :
       {"", "2025-02-29", "2025-04-31", "2025-13-01", "2025-00-10",
        "2025-01-00", "0000-01-01", "2025-2-28", "2025-02-8", "25-02-28",
        "2025-+2-28", "2025- 2-28", "+025-02-28", "2025-02-2x", "2025/02/28",
        "2025-02-28 ", " 2025-02-28", "20250228", "2025-02-28T00"}) {
    EXPECT_EQ(ParseIsoDate(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(DatesTest, IsoDateTextWritesTheNumbersAsGiven) {
  EXPECT_EQ(IsoDateText(2024, 2, 29), "2024-02-29");
  EXPECT_EQ(IsoDateText(1, 1, 1), "0001-01-01");
  // Not normalised: an impossible date stays one ParseIsoDate refuses.
  EXPECT_EQ(IsoDateText(2025, 2, 30), "2025-02-30");
  EXPECT_EQ(IsoDateText(0, 0, 0), "0000-00-00");
  EXPECT_EQ(ParseIsoDate(IsoDateText(2025, 2, 30)), std::nullopt);
  for (absl::CivilDay day = absl::CivilDay(2023, 12, 25);
       day < absl::CivilDay(2025, 1, 10); day += 17) {
    EXPECT_EQ(ParseIsoDate(IsoDateText(day)), day);
    EXPECT_EQ(IsoDateText(day),
              IsoDateText(day.year(), day.month(), day.day()));
  }
}

TEST(DatesTest, VietnamIsSevenHoursAheadOfUtcAllYear) {
  for (int month : {1, 7}) {
    const absl::Time noon_utc = absl::FromCivil(
        absl::CivilSecond(2025, month, 15, 12, 0, 0), absl::UTCTimeZone());
    EXPECT_EQ(absl::FormatTime("%H:%M %z", noon_utc, VietnamTimeZone()),
              "19:00 +0700");
  }
}

}  // namespace
}  // namespace lienthong::validation
