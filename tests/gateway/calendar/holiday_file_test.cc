#include "gateway/calendar/holiday_file.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/calendar/lunar_calendar.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::calendar {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::ScratchDir;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

absl::Time Vn(int y, int m, int d, int hh = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), VietnamTime());
}

std::string ExampleFile() {
  const char* source = std::getenv("LIENTHONG_SOURCE_DIR");
  EXPECT_NE(source, nullptr) << "run through ctest, which sets it";
  return absl::StrCat(source == nullptr ? "." : source,
                      "/deploy/examples/holidays.yaml");
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

TEST(HolidayFileTest, ExampleFileListsEveryMovingHolidayOnItsLunarDay) {
  auto calendar = LoadHolidayFile(ExampleFile());
  ASSERT_THAT(calendar, IsOk());
  EXPECT_EQ(calendar->years(), (std::vector<int>{2025, 2026, 2027}));
  for (int year : {2025, 2026, 2027}) {
    SCOPED_TRACE(year);
    // Computed, not copied: mùng 1 to mùng 4 (those on a weekday are days
    // off; listed either way), the last day of the old year, 10/3.
    std::optional<absl::CivilDay> tet = FromLunar(year, 1, 1);
    ASSERT_TRUE(tet.has_value());
    for (int d = -1; d < 3; ++d) {
      EXPECT_TRUE(calendar->Describe(*tet + d).has_value())
          << "Tết day " << d << " not listed";
      EXPECT_FALSE(calendar->IsWorkingDay(*tet + d));
    }
    std::optional<absl::CivilDay> hung = FromLunar(year, 3, 10);
    ASSERT_TRUE(hung.has_value());
    EXPECT_THAT(calendar->Describe(*hung),
                ::testing::Optional(HasSubstr("Hùng")));
    // The fixed holidays.
    for (auto [m, d] : {std::pair{1, 1}, {4, 30}, {5, 1}, {9, 2}}) {
      EXPECT_TRUE(calendar->Describe(absl::CivilDay(year, m, d)).has_value())
          << m << "/" << d;
    }
    // 2 September comes with the day before or after.
    EXPECT_TRUE(calendar->Describe(absl::CivilDay(year, 9, 1)).has_value() ||
                calendar->Describe(absl::CivilDay(year, 9, 3)).has_value());
  }
}

struct BadFile {
  const char* yaml;
  const char* error;  // what the message holds, position included
};

TEST(HolidayFileTest, RefusesBadFilesNamingTheLine) {
  const BadFile kBad[] = {
      {"years:\n  - year: 2026\n    holidays: []\n",
       "h.yaml:3:5: unknown key 'holidays'"},
      {"years:\n  - year: 2026\n    days_off:\n      - {date: 2026-02-30, "
       "name: x}\n",
       "h.yaml:4:16: date: expected a real date yyyy-MM-dd"},
      {"years:\n  - year: 2026\n    days_off:\n      - {date: 2026-+2-16, "
       "name: x}\n",
       "h.yaml:4:16: date: expected a real date yyyy-MM-dd"},
      {"years:\n  - year: 2026\n    days_off:\n      - {date: 2026-02-16, "
       "name: Tết, lunar: 01-01}\n",
       "h.yaml:4:48: lunar: 2026-02-16 is lunar day 29 of month 12, not 01-01"},
      {"years:\n  - year: 2026\n    days_off:\n      - {date: 2026-02-17, "
       "name: Tết, lunar: +1-01}\n",
       "h.yaml:4:48: lunar: expected the lunar month and day as MM-DD"},
      {"years:\n  - year: 2026\n    days_off:\n      - {date: 2026-02-17}\n",
       "h.yaml:4:9: name: required"},
      {"years:\n  - year: 2026\n    working_days:\n      - {date: 2026-01-12, "
       "name: x}\n",
       "h.yaml: year 2026: 2026-01-12 is listed as a working day but is not"},
      {"years:\n  - year: 26\n", "h.yaml:2:11: year: expected a year"},
      {"years: [", "h.yaml:1:"},
      {"- 2026\n", "h.yaml:1:1: expected a map with the key 'years'"},
      // A second document was ignored: its year's holidays missed.
      {"years: []\n---\nyears:\n  - year: 2027\n",
       "h.yaml:3:1: only one YAML document is allowed"},
      {"years: []\n,\n", "h.yaml:2:"},
  };
  for (const BadFile& bad : kBad) {
    absl::StatusOr<WorkingCalendar> parsed =
        ParseHolidayYaml(bad.yaml, "h.yaml");
    EXPECT_THAT(parsed.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr(bad.error)))
        << bad.yaml << "\n"
        << parsed.status();
  }
  EXPECT_THAT(LoadHolidayFile("/nonexistent/holidays.yaml"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("cannot read holiday file")));
}

// Aliases repeat a list without repeating its bytes: 2,000 uses of a year
// of 2,000 uses of a day would be four million days, each checked against
// the lunar calendar, from a file of a few KiB. Refused from the counts.
TEST(HolidayFileTest, AliasesCannotMultiplyDays) {
  std::string yaml =
      "years: [&y {year: 2026, days_off: [&d {date: 2026-02-17, name: T, "
      "lunar: 01-01}";
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&yaml, ", *d");
  absl::StrAppend(&yaml, "]}");
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&yaml, ", *y");
  absl::StrAppend(&yaml, "]\n");
  EXPECT_THAT(
      ParseHolidayYaml(yaml, "h.yaml").status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 300")));
  std::string days =
      "years: [{year: 2026, days_off: [&d {date: 2026-02-17, "
      "name: T, lunar: 01-01}";
  for (int i = 0; i < 400; ++i) absl::StrAppend(&days, ", *d");
  absl::StrAppend(&days, "]}]\n");
  EXPECT_THAT(ParseHolidayYaml(days, "h.yaml").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("days_off: more than 366 days")));
}

// The government declares an extra day off (or moves a bridge day): once
// the file changes, deadlines move with it; a broken edit changes nothing.
TEST(HolidayFileTest, DeadlinesFollowAChangedFile) {
  // Removed with its folder however the test ends.
  const ScratchDir dir("holidays");
  const std::string path = dir.File("holidays-change.yaml");
  const std::string before =
      "years:\n  - year: 2026\n    days_off:\n"
      "      - {date: 2026-02-17, name: Tết Nguyên đán (mùng 1), lunar: "
      "01-01}\n";
  WriteFile(path, before);
  auto source = CalendarSource::Open(path);
  ASSERT_THAT(source, IsOk());
  // Thursday 12/2/2026 + 3 working days: Fri 13, Mon 16, Wed 18.
  const absl::Time received = Vn(2026, 2, 12, 10);
  EXPECT_EQ((*source)->current()->Deadline(received, 3), Vn(2026, 2, 19));
  EXPECT_THAT((*source)->Refresh(), IsOkAndHolds(false));

  // The whole Tết holiday is announced: Mon 16 .. Fri 20 off.
  std::string after = before;
  for (auto [day, lunar] :
       {std::pair{16, "12-29"}, {18, "01-02"}, {19, "01-03"}, {20, "01-04"}}) {
    absl::StrAppend(&after, "      - {date: 2026-02-", day,
                    ", name: Tết, lunar: ", lunar, "}\n");
  }
  WriteFile(path, after);
  std::shared_ptr<const WorkingCalendar> held = (*source)->current();
  EXPECT_THAT((*source)->Refresh(), IsOkAndHolds(true));
  EXPECT_EQ((*source)->current()->Deadline(received, 3), Vn(2026, 2, 25));
  // A caller that took the old calendar keeps it for its computation.
  EXPECT_EQ(held->Deadline(received, 3), Vn(2026, 2, 19));

  // A typo: refused, the calendar in use stays.
  WriteFile(path,
            after + "      - {date: 2026-02-21, name: x, lunar: 01-01}\n");
  EXPECT_THAT(
      (*source)->Refresh(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("lunar: 2026-02-21 is lunar day 5 of month 1")));
  EXPECT_EQ((*source)->current()->Deadline(received, 3), Vn(2026, 2, 25));
}

}  // namespace
}  // namespace lienthong::calendar
