// What the sync commands read from the command line: dossier statuses and
// times in Vietnam's time (declared in sync_commands.h).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gateway/cli/output.h"
#include "gateway/cli/sync_commands.h"
#include "gateway/validation/dates.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::DossierStatus;

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  const int64_t seconds = absl::ToUnixSeconds(time);
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return timestamp;
}

}  // namespace

absl::StatusOr<DossierStatus> ParseDossierStatus(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  int number = 0;
  DossierStatus status = lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
  if (AllDigits(text)) {
    if (absl::SimpleAtoi(text, &number) &&
        lienthong::v1::DossierStatus_IsValid(number)) {
      status = static_cast<DossierStatus>(number);
    }
  } else {
    std::string name = absl::AsciiStrToUpper(text);
    std::replace(name.begin(), name.end(), '-', '_');
    std::replace(name.begin(), name.end(), ' ', '_');
    lienthong::v1::DossierStatus_Parse(name, &status);
  }
  if (status != lienthong::v1::DOSSIER_STATUS_UNSPECIFIED) return status;
  std::vector<std::string> names;
  const auto* values = lienthong::v1::DossierStatus_descriptor();
  for (int i = 0; i < values->value_count(); ++i) {
    if (values->value(i)->number() == 0) continue;
    names.push_back(absl::StrCat(values->value(i)->number(), " ",
                                 values->value(i)->name()));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expected a number or name: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<google::protobuf::Timestamp> ParseVietnamTime(
    absl::string_view text) {
  std::string local(absl::StripAsciiWhitespace(text));
  if (local.size() == 14 && AllDigits(local)) {
    // The portal's yyyyMMddHHmmss: absl's %Y would take every digit.
    local = absl::StrCat(local.substr(0, 4), "-", local.substr(4, 2), "-",
                         local.substr(6, 2), " ", local.substr(8, 2), ":",
                         local.substr(10, 2), ":", local.substr(12, 2));
  }
  absl::Time time;
  std::string ignored;
  bool parsed = absl::ParseTime(absl::RFC3339_full, local, &time, &ignored);
  for (const char* format : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"}) {
    if (parsed) break;
    parsed = absl::ParseTime(format, local, validation::VietnamTimeZone(),
                             &time, &ignored);
  }
  if (!parsed) {
    return absl::InvalidArgumentError(
        "expected 2025-07-15T10:12:03+07:00, \"2025-07-15 10:12:03\" "
        "(Vietnam's time) or 20250715101203");
  }
  if (time < absl::FromCivil(absl::CivilSecond(2000, 1, 1),
                             validation::VietnamTimeZone())) {
    return absl::InvalidArgumentError("before the year 2000");
  }
  return ToTimestamp(time);
}

absl::StatusOr<google::protobuf::Timestamp> ParseStatusTime(
    absl::string_view text, absl::Time now) {
  text = absl::StripAsciiWhitespace(text);
  absl::Time time = now;
  if (!text.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> parsed = ParseVietnamTime(text);
    if (!parsed.ok()) return parsed.status();
    time = absl::FromUnixSeconds(parsed->seconds()) +
           absl::Nanoseconds(parsed->nanos());
    if (time > now + absl::Hours(1)) {
      return absl::InvalidArgumentError("more than an hour in the future");
    }
  }
  return ToTimestamp(time);
}

}  // namespace lienthong::cli
