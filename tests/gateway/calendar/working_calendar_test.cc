#include "gateway/calendar/working_calendar.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::calendar {
namespace {

using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

// A time in Vietnam (UTC+7).
absl::Time Vn(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), VietnamTime());
}

CalendarDay Day(int y, int m, int d, std::string name = "x") {
  return {absl::CivilDay(y, m, d), std::move(name)};
}

// The 2025-2026 days that matter to the cases below, as in
// deploy/examples/holidays.yaml.
WorkingCalendar Calendar() {
  CalendarYear y2025{2025,
                     {Day(2025, 4, 30), Day(2025, 5, 1), Day(2025, 5, 2),
                      Day(2025, 9, 1), Day(2025, 9, 2)},
                     {Day(2025, 4, 26)}};
  CalendarYear y2026{2026,
                     {Day(2026, 1, 1), Day(2026, 1, 2), Day(2026, 2, 16),
                      Day(2026, 2, 17), Day(2026, 2, 18), Day(2026, 2, 19),
                      Day(2026, 2, 20), Day(2026, 4, 26), Day(2026, 4, 27),
                      Day(2026, 4, 30), Day(2026, 5, 1)},
                     {Day(2026, 1, 10)}};
  auto calendar = WorkingCalendar::Create({y2025, y2026});
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  return *calendar;
}

struct DeadlineCase {
  const char* what;
  absl::Time start;
  int working_days;
  absl::Time deadline;  // 00:00 of the day after the last working day
};

TEST(WorkingCalendarTest, Deadlines) {
  const DeadlineCase kCases[] = {
      {"Friday afternoon, 3 days: Mon, Tue, Wed", Vn(2025, 7, 18, 15),
       3, Vn(2025, 7, 24)},
      {"received on a Saturday: the same three", Vn(2025, 7, 19, 9), 3,
       Vn(2025, 7, 24)},
      {"Thursday 23:59 Vietnam time: Fri, Mon, Tue", Vn(2025, 7, 17, 23, 59),
       3, Vn(2025, 7, 23)},
      {"Friday 00:01 Vietnam time (Thursday in UTC): Mon, Tue, Wed",
       Vn(2025, 7, 18, 0, 1), 3, Vn(2025, 7, 24)},
      {"5 days when verification is needed", Vn(2025, 7, 18, 15), 5,
       Vn(2025, 7, 26)},
      {"across Tết Bính Ngọ: Fri 13/2, then Mon 23 and Tue 24",
       Vn(2026, 2, 12, 10), 3, Vn(2026, 2, 25)},
      {"the Monday before Tết: Tue 10 .. Fri 13, no more", Vn(2026, 2, 9, 8),
       4, Vn(2026, 2, 14)},
      {"make-up Saturday 26/4/2025 counts, 30/4-2/5 do not",
       Vn(2025, 4, 25, 16), 3, Vn(2025, 4, 30)},
      {"4 days over the 30/4 bridge: Sat 26, Mon 28, Tue 29, Mon 5/5",
       Vn(2025, 4, 25, 16), 4, Vn(2025, 5, 6)},
      {"Hùng Kings on Sunday 26/4/2026, Monday off, then 30/4 and 1/5",
       Vn(2026, 4, 24, 9), 3, Vn(2026, 5, 5)},
      {"New Year 2026: Fri 2/1 swapped for Sat 10/1", Vn(2025, 12, 31, 9),
       3, Vn(2026, 1, 8)},
      {"Sat 10/1/2026 is a working day", Vn(2026, 1, 9, 9), 1,
       Vn(2026, 1, 11)},
      {"2 days for a step", Vn(2025, 8, 29, 11), 2, Vn(2025, 9, 5)},
      {"0 days: no limit of its own", Vn(2025, 7, 18, 15), 0,
       Vn(2025, 7, 18, 15)},
  };
  const WorkingCalendar calendar = Calendar();
  for (const DeadlineCase& c : kCases) {
    EXPECT_EQ(calendar.Deadline(c.start, c.working_days), c.deadline)
        << c.what << ": got "
        << absl::FormatTime("%Y-%m-%d %H:%M",
                            calendar.Deadline(c.start, c.working_days),
                            VietnamTime());
  }
}

TEST(WorkingCalendarTest, WeekendsOnlyWithoutAHolidayFile) {
  WorkingCalendar weekends;
  // 30/4/2025 counts then.
  EXPECT_EQ(weekends.Deadline(Vn(2025, 4, 25, 16), 3), Vn(2025, 5, 1));
  EXPECT_FALSE(weekends.Covers(2025));
  EXPECT_TRUE(Calendar().Covers(2026));
  EXPECT_FALSE(Calendar().Covers(2027));
}

TEST(WorkingCalendarTest, WorkingDaysBetween) {
  const WorkingCalendar calendar = Calendar();
  // From Thursday 12/2/2026 to Tuesday 24/2: Fri 13, Mon 23, Tue 24.
  EXPECT_EQ(calendar.WorkingDaysBetween(Vn(2026, 2, 12, 10),
                                        Vn(2026, 2, 24, 8)),
            3);
  EXPECT_EQ(calendar.WorkingDaysBetween(Vn(2026, 2, 12, 10),
                                        Vn(2026, 2, 12, 23)),
            0);
  EXPECT_EQ(calendar.WorkingDaysBetween(Vn(2026, 2, 12, 10),
                                        Vn(2026, 2, 1)),
            0);
  // Consistent with Deadline: the period's last day is day N.
  const absl::Time start = Vn(2026, 4, 24, 9);
  const absl::Time due = calendar.Deadline(start, 3);
  EXPECT_EQ(calendar.WorkingDaysBetween(start, due - absl::Seconds(1)), 3);
}

TEST(WorkingCalendarTest, DescribesListedDays) {
  auto calendar = WorkingCalendar::Create(
      {{2026, {Day(2026, 2, 17, "Tết Nguyên đán (mùng 1)")},
        {Day(2026, 1, 10, "Làm bù")}}});
  ASSERT_TRUE(calendar.ok());
  EXPECT_EQ(calendar->Describe(absl::CivilDay(2026, 2, 17)),
            "Tết Nguyên đán (mùng 1)");
  EXPECT_EQ(calendar->Describe(absl::CivilDay(2026, 2, 18)), std::nullopt);
  EXPECT_TRUE(calendar->IsWorkingDay(absl::CivilDay(2026, 1, 10)));
  EXPECT_FALSE(calendar->IsWorkingDay(absl::CivilDay(2026, 1, 11)));
  EXPECT_FALSE(calendar->IsWorkingDay(absl::CivilDay(2026, 2, 17)));
  EXPECT_EQ(calendar->years(), std::vector<int>{2026});
}

TEST(WorkingCalendarTest, RefusesInconsistentYears) {
  EXPECT_THAT(WorkingCalendar::Create({{2026, {}, {Day(2026, 1, 12)}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("2026-01-12 is listed as a working day but "
                                 "is not a Saturday or Sunday")));
  EXPECT_THAT(WorkingCalendar::Create({{2026, {Day(2025, 12, 31)}, {}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("2025-12-31 is not in 2026")));
  EXPECT_THAT(
      WorkingCalendar::Create({{2026, {Day(2026, 1, 1), Day(2026, 1, 1)}, {}}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listed twice")));
  EXPECT_THAT(WorkingCalendar::Create({{2026, {}, {}}, {2026, {}, {}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("year 2026 is listed twice")));
}

}  // namespace
}  // namespace lienthong::calendar
