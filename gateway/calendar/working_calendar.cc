#include "gateway/calendar/working_calendar.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/validation/dates.h"

namespace lienthong::calendar {
namespace {

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday weekday = absl::GetWeekday(day);
  return weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday;
}

}  // namespace

absl::TimeZone VietnamTime() { return validation::VietnamTimeZone(); }

absl::StatusOr<WorkingCalendar> WorkingCalendar::Create(
    std::vector<CalendarYear> years) {
  WorkingCalendar calendar;
  for (CalendarYear& year : years) {
    if (std::find(calendar.years_.begin(), calendar.years_.end(), year.year) !=
        calendar.years_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("year ", year.year, " is listed twice"));
    }
    calendar.years_.push_back(year.year);
    for (bool off : {true, false}) {
      for (CalendarDay& day : off ? year.days_off : year.working_days) {
        const std::string where = absl::StrCat(
            "year ", year.year, ": ", validation::IsoDateText(day.date));
        if (day.date.year() != year.year) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, " is not in ", year.year));
        }
        if (!off && !IsWeekend(day.date)) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, " is listed as a working day but is not a Saturday or "
                     "Sunday (weekdays are working days already)"));
        }
        if (!calendar.listed_
                 .emplace(day.date, std::make_pair(off, std::move(day.name)))
                 .second) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, " is listed twice"));
        }
      }
    }
  }
  std::sort(calendar.years_.begin(), calendar.years_.end());
  return calendar;
}

bool WorkingCalendar::IsWorkingDay(absl::CivilDay day) const {
  auto it = listed_.find(day);
  if (it != listed_.end()) return !it->second.first;
  return !IsWeekend(day);
}

absl::Time WorkingCalendar::Deadline(absl::Time start, int working_days) const {
  if (working_days <= 0) return start;
  const absl::TimeZone zone = VietnamTime();
  absl::CivilDay day = absl::ToCivilDay(start, zone);
  int counted = 0;
  while (counted < std::min(working_days, kMaxWorkingDays)) {
    ++day;
    if (IsWorkingDay(day)) ++counted;
  }
  return absl::FromCivil(day + 1, zone);
}

int WorkingCalendar::WorkingDaysBetween(absl::Time from, absl::Time to) const {
  const absl::TimeZone zone = VietnamTime();
  const absl::CivilDay last = absl::ToCivilDay(to, zone);
  int counted = 0;
  for (absl::CivilDay day = absl::ToCivilDay(from, zone) + 1; day <= last;
       ++day) {
    if (IsWorkingDay(day)) ++counted;
  }
  return counted;
}

std::optional<std::string> WorkingCalendar::Describe(absl::CivilDay day) const {
  auto it = listed_.find(day);
  if (it == listed_.end()) return std::nullopt;
  return it->second.second;
}

bool WorkingCalendar::Covers(int year) const {
  return std::binary_search(years_.begin(), years_.end(), year);
}

std::vector<int> WorkingCalendar::years() const { return years_; }

}  // namespace lienthong::calendar
