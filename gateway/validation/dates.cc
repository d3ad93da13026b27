#include "gateway/validation/dates.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace lienthong::validation {

absl::TimeZone VietnamTimeZone() {
  // Looked up once: FixedTimeZone takes a process-wide lock and formats the
  // zone's name on every call, and this is asked on every call's path.
  static const absl::TimeZone zone = absl::FixedTimeZone(7 * 60 * 60);
  return zone;
}

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

bool IsCalendarDate(int year, int month, int day) {
  return month >= 1 && month <= 12 && day >= 1 &&
         day <= DaysInMonth(year, month);
}

std::optional<absl::CivilDay> ParseIsoDate(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  int parts[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8};
  const size_t lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (char c : text.substr(starts[i], lengths[i])) {
      if (!absl::ascii_isdigit(c)) return std::nullopt;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  if (parts[0] < 1 || !IsCalendarDate(parts[0], parts[1], parts[2])) {
    return std::nullopt;
  }
  return absl::CivilDay(parts[0], parts[1], parts[2]);
}

std::string IsoDateText(int64_t year, int month, int day) {
  return absl::StrFormat("%04d-%02d-%02d", year, month, day);
}

std::string IsoDateText(absl::CivilDay day) {
  return IsoDateText(day.year(), day.month(), day.day());
}

}  // namespace lienthong::validation
