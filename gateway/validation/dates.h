// Calendar rules, one home for each: Vietnam's time zone, leap years, the
// days of a month, whether a day exists and the day a "yyyy-MM-dd" names.
// Used by the date and ID rules of this folder, the dossier code's date,
// the CLI's date options, the holiday file and the bundles' and agencies'
// dates. All functions are thread-safe and keep no state.
#ifndef LIENTHONG_GATEWAY_VALIDATION_DATES_H_
#define LIENTHONG_GATEWAY_VALIDATION_DATES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace lienthong::validation {

// Returns Vietnam's time zone: UTC+7 all year (no daylight saving since
// 1975), a fixed zone that needs no tz database.
absl::TimeZone VietnamTimeZone();

// Returns true when `year` of the Gregorian calendar is a leap year.
bool IsLeapYear(int year);

// Returns the number of days of `month` in `year`, 28 to 31.
// REQUIRES: 1 <= month <= 12.
int DaysInMonth(int year, int month);

// Returns true when `year`-`month`-`day` is a day of the Gregorian calendar:
// month 1..12 and day 1..DaysInMonth (2025-02-29 and 2025-04-31 are not).
bool IsCalendarDate(int year, int month, int day);

// Returns the day `text` writes as "yyyy-MM-dd" (exactly four, two and two
// ASCII digits) when it is a day of the calendar from year 1; nullopt
// otherwise ("2025-2-28", "2025-+2-28", "2025-02-29" and "0000-01-01" are
// not days).
std::optional<absl::CivilDay> ParseIsoDate(absl::string_view text);

// Returns "yyyy-MM-dd" with the numbers as given, zero-padded: nothing is
// normalised, so an impossible date ("2025-02-30") stays one that
// ParseIsoDate refuses. The inverse of ParseIsoDate for the days it accepts.
std::string IsoDateText(int64_t year, int month, int day);
std::string IsoDateText(absl::CivilDay day);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_DATES_H_
