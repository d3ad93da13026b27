#include "gateway/calendar/lunar_calendar.h"

#include "gtest/gtest.h"

namespace lienthong::calendar {
namespace {

struct MovingHoliday {
  int year;
  absl::CivilDay tet;    // mùng 1 Tết
  absl::CivilDay hung;   // 10/3 lunar
};

// As Vietnam celebrated (or will celebrate) them.
constexpr MovingHoliday kMovingHolidays[] = {
    {2020, absl::CivilDay(2020, 1, 25), absl::CivilDay(2020, 4, 2)},
    {2021, absl::CivilDay(2021, 2, 12), absl::CivilDay(2021, 4, 21)},
    {2022, absl::CivilDay(2022, 2, 1), absl::CivilDay(2022, 4, 10)},
    {2023, absl::CivilDay(2023, 1, 22), absl::CivilDay(2023, 4, 29)},
    {2024, absl::CivilDay(2024, 2, 10), absl::CivilDay(2024, 4, 18)},
    {2025, absl::CivilDay(2025, 1, 29), absl::CivilDay(2025, 4, 7)},
    {2026, absl::CivilDay(2026, 2, 17), absl::CivilDay(2026, 4, 26)},
    {2027, absl::CivilDay(2027, 2, 6), absl::CivilDay(2027, 4, 16)},
};

TEST(LunarCalendarTest, TetAndHungKingsFallOnTheirKnownDays) {
  for (const MovingHoliday& h : kMovingHolidays) {
    SCOPED_TRACE(h.year);
    EXPECT_EQ(FromLunar(h.year, 1, 1), h.tet);
    EXPECT_EQ(FromLunar(h.year, 3, 10), h.hung);
    EXPECT_EQ(ToLunar(h.tet), (LunarDate{h.year, 1, 1, false}));
    // The day before Tết is the last day of the previous lunar year.
    LunarDate eve = ToLunar(h.tet - 1);
    EXPECT_EQ(eve.year, h.year - 1);
    EXPECT_EQ(eve.month, 12);
    EXPECT_GE(eve.day, 29);
  }
}

TEST(LunarCalendarTest, VietnamTimeDecidesTheDayNotChinaTime) {
  // The new moon of January 1985 fell just after midnight in China (UTC+8)
  // and before it in Vietnam: Tết Ất Sửu was a month apart.
  EXPECT_EQ(ToLunar(absl::CivilDay(1985, 1, 21), 7),
            (LunarDate{1985, 1, 1, false}));
  EXPECT_EQ(ToLunar(absl::CivilDay(1985, 2, 20), 8),
            (LunarDate{1985, 1, 1, false}));
  EXPECT_NE(ToLunar(absl::CivilDay(1985, 1, 21), 8).month, 1);
  // 2007: Vietnam 17 February, China 18 February.
  EXPECT_EQ(ToLunar(absl::CivilDay(2007, 2, 17), 7).day, 1);
  EXPECT_EQ(ToLunar(absl::CivilDay(2007, 2, 17), 8).month, 12);
}

TEST(LunarCalendarTest, LeapMonthsAreMarked) {
  // 2020 repeated the 4th month, 2023 the 2nd.
  EXPECT_EQ(ToLunar(absl::CivilDay(2020, 4, 23)), (LunarDate{2020, 4, 1, false}));
  EXPECT_EQ(ToLunar(absl::CivilDay(2020, 5, 23)), (LunarDate{2020, 4, 1, true}));
  EXPECT_EQ(ToLunar(absl::CivilDay(2023, 3, 22)), (LunarDate{2023, 2, 1, true}));
  // FromLunar names the ordinary month, never the leap one.
  EXPECT_EQ(FromLunar(2023, 2, 1), absl::CivilDay(2023, 2, 20));
}

TEST(LunarCalendarTest, ShortMonthHasNoThirtiethDay) {
  // The 12th month of lunar year 2025 (Ất Tỵ) has 29 days: Tết Bính Ngọ
  // follows its 29th.
  EXPECT_EQ(FromLunar(2025, 12, 29), absl::CivilDay(2026, 2, 16));
  EXPECT_EQ(FromLunar(2025, 12, 30), std::nullopt);
  EXPECT_EQ(FromLunar(2023, 12, 30), absl::CivilDay(2024, 2, 9));
}

// Every day of the supported years is day 1 to 30 of its month, one more
// than the day before or the first of the next month. 2054-05-07 and
// 2062-04-09 read as day 0 when the estimate of the new moon was late.
TEST(LunarCalendarTest, EveryDayFollowsTheOneBefore) {
  LunarDate before = ToLunar(absl::CivilDay(1900, 1, 1));
  int months = 0;
  for (absl::CivilDay d(1900, 1, 2); d < absl::CivilDay(2200, 1, 1); ++d) {
    const LunarDate today = ToLunar(d);
    if (today.day != before.day + 1) {
      ASSERT_EQ(today.day, 1) << d;
      ASSERT_GE(before.day, 29) << d;
      ++months;
    }
    ASSERT_LE(today.day, 30) << d;
    before = today;
  }
  EXPECT_GT(months, 3700);  // 300 years of ~12.37 lunations
  EXPECT_EQ(ToLunar(absl::CivilDay(2054, 5, 7)).day, 30);
  EXPECT_EQ(ToLunar(absl::CivilDay(2062, 4, 9)).day, 30);
}

TEST(LunarCalendarTest, TheLastDayOfTheYearIsFoundWhenItFallsLate) {
  EXPECT_EQ(FromLunar(1919, 12, 30), absl::CivilDay(1920, 2, 19));
  EXPECT_EQ(FromLunar(2128, 12, 30), absl::CivilDay(2129, 2, 18));
  EXPECT_EQ(FromLunar(2166, 12, 30), absl::CivilDay(2167, 2, 19));
}

}  // namespace
}  // namespace lienthong::calendar
