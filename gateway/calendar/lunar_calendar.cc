#include "gateway/calendar/lunar_calendar.h"

#include <cmath>

namespace lienthong::calendar {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadians = kPi / 180;
// Mean length of a synodic month, days.
constexpr double kSynodicMonth = 29.530588853;
// Julian day of the mean new moon numbered 0 (1900 January 0.76 TT).
constexpr double kNewMoonEpoch = 2415021.076998695;

// The Julian day number of `day` (proleptic Gregorian).
long JulianDay(absl::CivilDay day) {
  return 2451545 + static_cast<long>(day - absl::CivilDay(2000, 1, 1));
}

// The day (Julian day number, in the zone) of new moon number `k` counted
// from the epoch above (Meeus' abridged series).
long NewMoonDay(long k, int utc_offset_hours) {
  const double t = k / 1236.85;  // Julian centuries from 1900 January 0.5
  const double t2 = t * t;
  const double t3 = t2 * t;
  double jd = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 -
              0.000000155 * t3;
  jd += 0.00033 * std::sin((166.56 + 132.87 * t - 0.009173 * t2) * kRadians);
  // Mean anomalies of the sun and the moon, the moon's argument of latitude.
  const double m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 -
                   0.00000347 * t3;
  const double mp = 306.0253 + 385.81691806 * k + 0.0107306 * t2 +
                    0.00001236 * t3;
  const double f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 -
                   0.00000239 * t3;
  double c = (0.1734 - 0.000393 * t) * std::sin(m * kRadians) +
             0.0021 * std::sin(2 * m * kRadians);
  c += -0.4068 * std::sin(mp * kRadians) + 0.0161 * std::sin(2 * mp * kRadians);
  c += -0.0004 * std::sin(3 * mp * kRadians);
  c += 0.0104 * std::sin(2 * f * kRadians) -
       0.0051 * std::sin((m + mp) * kRadians);
  c += -0.0074 * std::sin((m - mp) * kRadians) +
       0.0004 * std::sin((2 * f + m) * kRadians);
  c += -0.0004 * std::sin((2 * f - m) * kRadians) -
       0.0006 * std::sin((2 * f + mp) * kRadians);
  c += 0.0010 * std::sin((2 * f - mp) * kRadians) +
       0.0005 * std::sin((2 * mp + m) * kRadians);
  // Dynamical time minus universal time, days.
  const double delta_t =
      t < -11 ? 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 -
                    0.000000081 * t * t3
              : -0.000278 + 0.000265 * t + 0.000262 * t2;
  const double new_moon = jd + c - delta_t;
  return static_cast<long>(
      std::floor(new_moon + 0.5 + utc_offset_hours / 24.0));
}

// Which twelfth of the ecliptic (0..11, each 30 degrees from the March
// equinox) the sun is in at the start of day `jdn` in the zone.
int SunLongitudeSector(long jdn, int utc_offset_hours) {
  const double t = (jdn - 2451545.5 - utc_offset_hours / 24.0) / 36525;
  const double t2 = t * t;
  const double m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 -
                   0.00000048 * t * t2;
  const double l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
  double dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * std::sin(m * kRadians);
  dl += (0.019993 - 0.000101 * t) * std::sin(2 * m * kRadians) +
        0.000290 * std::sin(3 * m * kRadians);
  double l = (l0 + dl) * kRadians;
  l -= 2 * kPi * std::floor(l / (2 * kPi));
  return static_cast<int>(std::floor(l / kPi * 6));
}

// The first day of the 11th lunar month (the one holding the winter
// solstice) that ends solar year `year`.
long Month11Start(int year, int utc_offset_hours) {
  const long off = JulianDay(absl::CivilDay(year, 12, 31)) - 2415021;
  const long k = static_cast<long>(std::floor(off / kSynodicMonth));
  long start = NewMoonDay(k, utc_offset_hours);
  // The sun past 270 degrees at that new moon: the solstice already fell in
  // the month before.
  if (SunLongitudeSector(start, utc_offset_hours) >= 9) {
    start = NewMoonDay(k - 1, utc_offset_hours);
  }
  return start;
}

// In a 13-month year starting at month 11 `a11`: how many months after it
// the leap month comes (the first month with no major solar term, i.e. in
// which the sun's sector does not change).
int LeapMonthOffset(long a11, int utc_offset_hours) {
  const long k = static_cast<long>(
      std::floor((a11 - kNewMoonEpoch) / kSynodicMonth + 0.5));
  int i = 1;
  int sector = SunLongitudeSector(NewMoonDay(k + i, utc_offset_hours),
                                  utc_offset_hours);
  int last;
  do {
    last = sector;
    ++i;
    sector = SunLongitudeSector(NewMoonDay(k + i, utc_offset_hours),
                                utc_offset_hours);
  } while (sector != last && i < 14);
  return i - 1;
}

}  // namespace

LunarDate ToLunar(absl::CivilDay day, int utc_offset_hours) {
  const long jdn = JulianDay(day);
  const long k = static_cast<long>(
      std::floor((jdn - kNewMoonEpoch) / kSynodicMonth));
  // The last new moon on or before the day. The estimate k can be one
  // lunation late (2054-05-07: both k and k + 1 fall after it).
  long lunation = k + 1;
  long month_start = NewMoonDay(lunation, utc_offset_hours);
  while (month_start > jdn) {
    month_start = NewMoonDay(--lunation, utc_offset_hours);
  }
  const int year = static_cast<int>(day.year());
  long a11 = Month11Start(year, utc_offset_hours);
  long b11 = a11;
  LunarDate lunar;
  if (a11 >= month_start) {
    lunar.year = year;
    a11 = Month11Start(year - 1, utc_offset_hours);
  } else {
    lunar.year = year + 1;
    b11 = Month11Start(year + 1, utc_offset_hours);
  }
  lunar.day = static_cast<int>(jdn - month_start + 1);
  const int diff = static_cast<int>(std::floor((month_start - a11) / 29.0));
  lunar.month = diff + 11;
  if (b11 - a11 > 365) {
    const int leap = LeapMonthOffset(a11, utc_offset_hours);
    if (diff >= leap) {
      lunar.month = diff + 10;
      lunar.leap_month = diff == leap;
    }
  }
  if (lunar.month > 12) lunar.month -= 12;
  if (lunar.month >= 11 && diff < 4) lunar.year -= 1;
  return lunar;
}

std::optional<absl::CivilDay> FromLunar(int lunar_year, int month, int day) {
  // Lunar year Y begins between 21 January and 20 February of solar year Y
  // and ends before the next one does (on 19 February of Y + 1 at the
  // latest: 2129-02-18, 2167-02-19 are the last days of 2128 and 2166).
  const LunarDate want{lunar_year, month, day, false};
  for (absl::CivilDay d(lunar_year, 1, 15), end(lunar_year + 1, 2, 21); d < end;
       ++d) {
    if (ToLunar(d) == want) return d;
  }
  return std::nullopt;
}

}  // namespace lienthong::calendar
