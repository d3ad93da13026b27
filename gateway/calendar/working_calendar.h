// Working days in Vietnam, for deadlines that the law counts in working
// days (ngày làm việc): a bundle's 3 (or 5) working days, each step's own
// limit. The one home of calendar rules in the gateway:
//
//   - time is Vietnam's, UTC+7 all year (no daylight saving);
//   - Saturdays and Sundays are not working days, except a weekend day
//     made a working day to make up for a bridge day off (ngày làm bù);
//   - public holidays and compensatory days off are not working days; they
//     come from the holiday file (holiday_file.h), which lists them per
//     year, since the lunar ones (Tết, Hùng Kings) move and the government
//     decides bridge days each year;
//   - a period of N working days that starts at time t does not count the
//     day of t (Civil Code 2015, art. 147: "the first day of a period is
//     not counted"), and ends at the end (24:00) of its N-th working day
//     (art. 148); a dossier received on a Friday afternoon with 3 working
//     days is due at the end of Wednesday.
//
// A year the file does not cover counts weekends only; Covers() says which
// years are known, so callers can warn.
#ifndef LIENTHONG_GATEWAY_CALENDAR_WORKING_CALENDAR_H_
#define LIENTHONG_GATEWAY_CALENDAR_WORKING_CALENDAR_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace lienthong::calendar {

// Vietnam's time zone: UTC+7, no daylight saving. Thread-safe.
absl::TimeZone VietnamTime();

// One listed day.
struct CalendarDay {
  absl::CivilDay date;
  // What it is, e.g. "Tết Nguyên đán (mùng 1)".
  std::string name;
};

// One year of the holiday file.
struct CalendarYear {
  int year = 0;
  // Days off: public holidays (those on a weekend may be listed too) and
  // compensatory days off.
  std::vector<CalendarDay> days_off;
  // Weekend days that are working days (make-up days for a bridge day).
  std::vector<CalendarDay> working_days;
};

// Most working days one deadline may span.
inline constexpr int kMaxWorkingDays = 365;

// Immutable once made; thread-safe.
class WorkingCalendar {
 public:
  // Weekends only, no year covered.
  WorkingCalendar() = default;

  // Returns the calendar of `years`. Fails with INVALID_ARGUMENT naming the
  // year and date when a year repeats, a date lies outside its year, a day
  // is listed twice, or a working day is not a Saturday or Sunday.
  static absl::StatusOr<WorkingCalendar> Create(std::vector<CalendarYear> years);

  // Returns true when `day` is a working day.
  bool IsWorkingDay(absl::CivilDay day) const;

  // Returns the end of a period of `working_days` working days starting at
  // `start` (see the rule above): 00:00 Vietnam time of the day after its
  // last working day. `working_days` 0 returns `start`.
  // REQUIRES: 0 <= working_days <= kMaxWorkingDays.
  absl::Time Deadline(absl::Time start, int working_days) const;

  // Returns the working days from the day after `from` to the day of `to`,
  // both in Vietnam time: how many working days of a period starting at
  // `from` have begun by `to` (0 when `to` is not after `from`'s day).
  int WorkingDaysBetween(absl::Time from, absl::Time to) const;

  // Returns the name of the holiday or make-up day `day` is, if listed.
  std::optional<std::string> Describe(absl::CivilDay day) const;

  // Returns true when the holiday file lists `year`.
  bool Covers(int year) const;

  // The years listed, ascending.
  std::vector<int> years() const;

 private:
  // Listed days: true = day off, false = working weekend day.
  std::map<absl::CivilDay, std::pair<bool, std::string>> listed_;
  std::vector<int> years_;
};

}  // namespace lienthong::calendar

#endif  // LIENTHONG_GATEWAY_CALENDAR_WORKING_CALENDAR_H_
