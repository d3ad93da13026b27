#include "gateway/calendar/holiday_file.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/calendar/lunar_calendar.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/dates.h"
#include "gateway/yaml/yaml_documents.h"

namespace lienthong::calendar {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;
// The years a file may hold (1900..2199), and the days of one.
constexpr size_t kMaxYears = 300;
constexpr size_t kMaxDaysOfAYear = 366;

class Parser {
 public:
  explicit Parser(absl::string_view source) : source_(source) {}

  absl::StatusOr<WorkingCalendar> Parse(const YAML::Node& root) {
    if (!root.IsMap()) {
      return Error(root, "expected a map with the key 'years'");
    }
    LIENTHONG_RETURN_IF_ERROR(CheckKeys(root, {"years"}));
    const YAML::Node years = root["years"];
    if (!years || !years.IsSequence()) {
      return Error(years ? years : root, "years: expected a list of years");
    }
    // Each year once (Create refuses repeats): longer lists are repeats, and
    // YAML aliases could make them endless without making the file longer.
    if (years.size() > kMaxYears) {
      return Error(years, absl::StrCat("years: more than ", kMaxYears,
                                       " (each year at most once)"));
    }
    std::vector<CalendarYear> parsed;
    for (const YAML::Node& year : years) {
      LIENTHONG_ASSIGN_OR_RETURN(CalendarYear one, ParseYear(year));
      parsed.push_back(std::move(one));
    }
    absl::StatusOr<WorkingCalendar> calendar =
        WorkingCalendar::Create(std::move(parsed));
    if (!calendar.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ": ", calendar.status().message()));
    }
    return calendar;
  }

 private:
  absl::Status Error(const YAML::Node& node, absl::string_view what) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.line < 0) {
      return absl::InvalidArgumentError(absl::StrCat(source_, ": ", what));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        source_, ":", mark.line + 1, ":", mark.column + 1, ": ", what));
  }

  absl::Status CheckKeys(const YAML::Node& map,
                         std::initializer_list<absl::string_view> known) {
    std::set<std::string> seen;
    for (const auto& entry : map) {
      const std::string key = entry.first.as<std::string>("");
      bool ok = false;
      for (absl::string_view k : known) ok = ok || k == key;
      if (!ok) {
        return Error(entry.first, absl::StrCat("unknown key '", key, "'"));
      }
      if (!seen.insert(key).second) {
        return Error(entry.first, absl::StrCat("duplicate key '", key, "'"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<CalendarYear> ParseYear(const YAML::Node& node) {
    if (!node.IsMap()) {
      return Error(node, "expected a year: {year, days_off, working_days}");
    }
    LIENTHONG_RETURN_IF_ERROR(
        CheckKeys(node, {"year", "days_off", "working_days"}));
    CalendarYear year;
    const YAML::Node number = node["year"];
    if (!number || !number.IsScalar() ||
        !absl::SimpleAtoi(number.Scalar(), &year.year) || year.year < 1900 ||
        year.year > 2199) {
      return Error(number ? number : node, "year: expected a year 1900..2199");
    }
    for (const char* key : {"days_off", "working_days"}) {
      const YAML::Node list = node[key];
      if (!list || list.IsNull()) continue;
      if (!list.IsSequence()) {
        return Error(list, absl::StrCat(key, ": expected a list of days"));
      }
      if (list.size() > kMaxDaysOfAYear) {  // as years above
        return Error(list, absl::StrCat(key, ": more than ", kMaxDaysOfAYear,
                                        " days (each day at most once)"));
      }
      for (const YAML::Node& day : list) {
        LIENTHONG_ASSIGN_OR_RETURN(CalendarDay parsed, ParseDay(day));
        (std::string(key) == "days_off" ? year.days_off : year.working_days)
            .push_back(std::move(parsed));
      }
    }
    return year;
  }

  absl::StatusOr<CalendarDay> ParseDay(const YAML::Node& node) {
    if (!node.IsMap()) return Error(node, "expected {date, name[, lunar]}");
    LIENTHONG_RETURN_IF_ERROR(CheckKeys(node, {"date", "name", "lunar"}));
    CalendarDay day;
    const YAML::Node date = node["date"];
    std::optional<absl::CivilDay> parsed;
    if (date && date.IsScalar()) {
      parsed = validation::ParseIsoDate(date.Scalar());
    }
    if (!parsed) {
      return Error(date ? date : node, "date: expected a real date yyyy-MM-dd");
    }
    day.date = *parsed;
    const YAML::Node name = node["name"];
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      return Error(name ? name : node, "name: required (what the day is)");
    }
    day.name = name.Scalar();
    if (const YAML::Node lunar = node["lunar"]; lunar) {
      LIENTHONG_RETURN_IF_ERROR(CheckLunar(lunar, day.date));
    }
    return day;
  }

  // "MM-DD": the date must be that day of a (non-leap) lunar month.
  absl::Status CheckLunar(const YAML::Node& node, absl::CivilDay date) {
    std::vector<std::string> parts =
        absl::StrSplit(node.IsScalar() ? node.Scalar() : "", '-');
    // Two ASCII digits each (SimpleAtoi alone takes "+1" and " 1").
    auto two_digits = [](const std::string& s) {
      return s.size() == 2 && absl::ascii_isdigit(s[0]) &&
             absl::ascii_isdigit(s[1]);
    };
    int month = 0, day = 0;
    if (parts.size() != 2 || !two_digits(parts[0]) || !two_digits(parts[1]) ||
        !absl::SimpleAtoi(parts[0], &month) ||
        !absl::SimpleAtoi(parts[1], &day) || month < 1 || month > 12 ||
        day < 1 || day > 30) {
      return Error(node, "lunar: expected the lunar month and day as MM-DD");
    }
    const LunarDate actual = ToLunar(date);
    if (actual.month != month || actual.day != day || actual.leap_month) {
      return Error(
          node, absl::StrCat("lunar: ", validation::IsoDateText(date),
                             " is lunar day ", actual.day, " of month ",
                             actual.month, actual.leap_month ? " (leap)" : "",
                             ", not ", node.Scalar()));
    }
    return absl::OkStatus();
  }

  const std::string source_;
};

absl::Status ReadError(const std::string& path, int error_number) {
  return absl::Status(
      absl::ErrnoToStatusCode(error_number),
      absl::StrCat(
          "cannot read holiday file '", path, "': ",
          std::error_code(error_number, std::generic_category()).message()));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return ReadError(path, errno);
  std::string content;
  char buffer[16 * 1024];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    content.append(buffer, n);
    if (content.size() > kMaxFileBytes) {
      std::fclose(file);
      return absl::InvalidArgumentError(
          absl::StrCat("holiday file '", path,
                       "' is larger than 1 MiB; is it the right file?"));
    }
  }
  const bool failed = std::ferror(file) != 0;
  const int error_number = errno;
  std::fclose(file);
  if (failed) return ReadError(path, error_number);
  return content;
}

}  // namespace

absl::StatusOr<WorkingCalendar> ParseHolidayYaml(absl::string_view yaml,
                                                 absl::string_view source) {
  try {
    const std::string text(yaml);
    const yaml::DocumentScan scan = yaml::ScanDocuments(text);
    if (absl::string_view problem = yaml::DocumentProblem(scan.documents);
        !problem.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", scan.where.line + 1, ":",
                       scan.where.column + 1, ": ", problem));
    }
    YAML::Node root = YAML::Load(text);
    return Parser(source).Parse(root);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": cannot read the YAML: ", e.what()));
  }
}

absl::StatusOr<WorkingCalendar> LoadHolidayFile(const std::string& path) {
  LIENTHONG_ASSIGN_OR_RETURN(std::string content, ReadFile(path));
  return ParseHolidayYaml(content, path);
}

CalendarSource::CalendarSource(WorkingCalendar calendar)
    : CalendarSource("", "", std::move(calendar)) {}

CalendarSource::CalendarSource(std::string path, std::string content,
                               WorkingCalendar calendar)
    : path_(std::move(path)),
      content_(std::move(content)),
      calendar_(std::make_shared<const WorkingCalendar>(std::move(calendar))) {}

absl::StatusOr<std::unique_ptr<CalendarSource>> CalendarSource::Open(
    std::string path) {
  LIENTHONG_ASSIGN_OR_RETURN(std::string content, ReadFile(path));
  LIENTHONG_ASSIGN_OR_RETURN(WorkingCalendar calendar,
                             ParseHolidayYaml(content, path));
  return std::unique_ptr<CalendarSource>(new CalendarSource(
      std::move(path), std::move(content), std::move(calendar)));
}

std::shared_ptr<const WorkingCalendar> CalendarSource::current() const {
  absl::MutexLock lock(&mu_);
  return calendar_;
}

absl::StatusOr<bool> CalendarSource::Refresh() {
  if (path_.empty()) return false;
  absl::MutexLock refreshing(&refresh_mu_);
  LIENTHONG_ASSIGN_OR_RETURN(std::string content, ReadFile(path_));
  {
    absl::MutexLock lock(&mu_);
    if (content == content_) return false;
  }
  LIENTHONG_ASSIGN_OR_RETURN(WorkingCalendar calendar,
                             ParseHolidayYaml(content, path_));
  auto fresh = std::make_shared<const WorkingCalendar>(std::move(calendar));
  absl::MutexLock lock(&mu_);
  content_ = std::move(content);
  calendar_.swap(fresh);
  return true;
}

}  // namespace lienthong::calendar
