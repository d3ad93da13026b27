// The Vietnamese lunisolar calendar (âm lịch), for the holidays that move
// with it: Tết (the first days of the first lunar month) and the Hùng Kings'
// Commemoration (10th day of the 3rd lunar month).
//
// Months begin on the day of the astronomical new moon in Vietnam's time
// (UTC+7); the 11th month is the one holding the winter solstice; a year
// with 13 months repeats (as a leap month) the first month after the 11th
// that holds no major solar term. This is the rule Vietnam's calendar has
// followed since 1967, and why some Vietnamese and Chinese (UTC+8) new
// years differ (1985: 21 January in Vietnam, 20 February in China). New
// moons and solar longitudes come from the abridged series of J. Meeus,
// "Astronomical Algorithms" (ch. 25 and 49), good to minutes, which decides
// the day except for a new moon within minutes of midnight.
//
// Pure functions: thread-safe, no state.
#ifndef LIENTHONG_GATEWAY_CALENDAR_LUNAR_CALENDAR_H_
#define LIENTHONG_GATEWAY_CALENDAR_LUNAR_CALENDAR_H_

#include <optional>

#include "absl/time/civil_time.h"

namespace lienthong::calendar {

struct LunarDate {
  int year = 0;   // the lunar year, named by the solar year it mostly covers
  int month = 0;  // 1..12
  int day = 0;    // 1..30
  bool leap_month = false;

  friend bool operator==(const LunarDate& a, const LunarDate& b) {
    return a.year == b.year && a.month == b.month && a.day == b.day &&
           a.leap_month == b.leap_month;
  }
};

// Returns the lunar date of `day` in the calendar of a zone `utc_offset_hours`
// east of UTC (7 for Vietnam, 8 for China). REQUIRES: 1900 <= year <= 2199.
LunarDate ToLunar(absl::CivilDay day, int utc_offset_hours = 7);

// Returns the solar day of lunar day `day` of (non-leap) month `month` of
// lunar year `lunar_year`, in Vietnam's calendar; nullopt when that month
// has no such day (a 29-day month has no 30th). REQUIRES: 1900 <
// lunar_year < 2199, 1 <= month <= 12, 1 <= day <= 30.
std::optional<absl::CivilDay> FromLunar(int lunar_year, int month, int day);

}  // namespace lienthong::calendar

#endif  // LIENTHONG_GATEWAY_CALENDAR_LUNAR_CALENDAR_H_
