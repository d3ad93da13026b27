// The holiday file (gateway/calendar/holiday_file.h), an operator's file
// the gateway re-reads while it runs: any text gives a calendar or
// INVALID_ARGUMENT "h.yaml...", never a crash. A calendar that loads keeps
// the rules for every day of every year it covers (a weekday is worked
// unless listed as a day off, a weekend day is not unless listed as worked),
// and a deadline of N working days is N working days away.
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
    // Each day of the year: a weekday is a working day unless the file
    // lists it (then it is a day off: only weekend days can be listed as
    // working days); a weekend day is not, unless the file lists it.
    for (absl::CivilDay day(year, 1, 1); day.year() == year; ++day) {
      const bool listed = calendar.Describe(day).has_value();
      if (!IsWeekend(day)) {
        FUZZ_CHECK(calendar.IsWorkingDay(day) == !listed);
      } else if (!listed) {
        FUZZ_CHECK(!calendar.IsWorkingDay(day));
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
    FUZZ_CHECK(calendar.WorkingDaysBetween(start, five - absl::Seconds(1)) ==
               5);
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
