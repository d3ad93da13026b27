// The holiday file (gateway/calendar/holiday_file.h), an operator's file
// the gateway re-reads while it runs: any text gives a calendar or
// INVALID_ARGUMENT "h.yaml...", never a crash. A calendar that loads keeps
// the rules: every year it covers was listed, a working day is a weekend day
// the file names, a listed day off is never a working day, and deadlines
// move forward.
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gateway/calendar/holiday_file.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using lienthong::calendar::WorkingCalendar;

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

void CheckCalendar(const WorkingCalendar& calendar) {
  for (int year : calendar.years()) {
    FUZZ_CHECK(calendar.Covers(year));
    FUZZ_CHECK(year >= 1900 && year <= 2199);
    // Each day of the year: a listed weekend working day, a listed day
    // off, or what the weekday says.
    for (absl::CivilDay day(year, 1, 1); day.year() == year; ++day) {
      const bool listed = calendar.Describe(day).has_value();
      if (calendar.IsWorkingDay(day)) {
        FUZZ_CHECK(!IsWeekend(day) || listed);
      } else {
        FUZZ_CHECK(IsWeekend(day) || listed);
      }
    }
    const absl::Time start =
        absl::FromCivil(absl::CivilSecond(year, 6, 15, 10, 0, 0),
                        lienthong::calendar::VietnamTime());
    const absl::Time three = calendar.Deadline(start, 3);
    const absl::Time five = calendar.Deadline(start, 5);
    FUZZ_CHECK(start < three && three < five);
    FUZZ_CHECK(calendar.WorkingDaysBetween(start, three - absl::Seconds(1)) ==
               3);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view yaml(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<WorkingCalendar> calendar =
      lienthong::calendar::ParseHolidayYaml(yaml, "h.yaml");
  if (!calendar.ok()) {
    FUZZ_CHECK(calendar.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(absl::StartsWith(calendar.status().message(), "h.yaml"));
    return 0;
  }
  CheckCalendar(*calendar);
  return 0;
}
