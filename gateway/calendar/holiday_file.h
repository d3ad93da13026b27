// The holiday file: Vietnam's public holidays, compensatory days off and
// make-up working days, per year, in YAML (deploy/examples/holidays.yaml):
//
//   years:
//     - year: 2026
//       days_off:
//         - {date: 2026-01-01, name: Tết Dương lịch}
//         - {date: 2026-02-17, name: Tết Nguyên đán (mùng 1), lunar: 01-01}
//       working_days:
//         - {date: 2026-01-10, name: Làm bù cho thứ Sáu 02/01}
//
// `lunar: MM-DD` marks a day that follows the lunar calendar; the loader
// checks the date is that lunar day (lunar_calendar.h), so a typo in a
// moving holiday stops the load instead of shifting deadlines. Anything
// else (unknown keys, bad dates, a year twice, a weekday as a working day)
// is refused with "FILE:LINE:COLUMN: what is wrong".
//
// CalendarSource keeps the current calendar of one file and re-reads it on
// demand (the gateway does so on SIGHUP and when the file changes).
#ifndef LIENTHONG_GATEWAY_CALENDAR_HOLIDAY_FILE_H_
#define LIENTHONG_GATEWAY_CALENDAR_HOLIDAY_FILE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gateway/calendar/working_calendar.h"

namespace lienthong::calendar {

// Returns the calendar `yaml` describes; `source` prefixes messages. Fails
// with INVALID_ARGUMENT "SOURCE:LINE:COLUMN: what is wrong" (no position
// for errors about the whole file). Thread-safe.
absl::StatusOr<WorkingCalendar> ParseHolidayYaml(absl::string_view yaml,
                                                 absl::string_view source);

// Reads and parses the file at `path`. Fails as ParseHolidayYaml, or with
// NOT_FOUND / PERMISSION_DENIED / UNAVAILABLE "cannot read holiday file
// 'PATH': <reason>", or INVALID_ARGUMENT for a file over 1 MiB.
// Thread-safe.
absl::StatusOr<WorkingCalendar> LoadHolidayFile(const std::string& path);

// The calendar of one holiday file, replaced atomically when the file
// changes. Thread-safe.
class CalendarSource {
 public:
  // Loads `path`; fails as LoadHolidayFile.
  static absl::StatusOr<std::unique_ptr<CalendarSource>> Open(std::string path);

  // A source that never changes, for tests and for a config without a
  // holiday file (weekends only).
  explicit CalendarSource(WorkingCalendar calendar);

  // The calendar now. Callers keep the pointer for one computation.
  std::shared_ptr<const WorkingCalendar> current() const;

  // Re-reads the file. Returns true when its content changed and the new
  // calendar is in use, false when unchanged (or the source has no file);
  // on an error (as LoadHolidayFile's) the calendar in use stays.
  absl::StatusOr<bool> Refresh();

  const std::string& path() const { return path_; }

 private:
  CalendarSource(std::string path, std::string content,
                 WorkingCalendar calendar);

  const std::string path_;
  // One refresh at a time (the timer's and a reload's), so an older reading
  // of the file never replaces a newer one.
  absl::Mutex refresh_mu_;
  mutable absl::Mutex mu_;
  std::string content_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const WorkingCalendar> calendar_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::calendar

#endif  // LIENTHONG_GATEWAY_CALENDAR_HOLIDAY_FILE_H_
