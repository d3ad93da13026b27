#include "gateway/cli/args.h"

#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/validation/dates.h"
#include "gateway/validation/text.h"
#include "google/protobuf/util/field_mask_util.h"

namespace lienthong::cli {
namespace {

bool AllDigits(absl::string_view s) {
  return !s.empty() && absl::c_all_of(s, [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// The value is not echoed: a birth date is personal data, and stderr of a
// script may end up in a log.
absl::Status DateError(absl::string_view option, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(option, ": ", why));
}

}  // namespace

absl::StatusOr<google::type::Date> ParseDate(absl::string_view text,
                                             absl::string_view option) {
  constexpr absl::string_view kFormats =
      "expected yyyy-MM-dd, dd/MM/yyyy or yyyy";
  std::vector<absl::string_view> parts;
  bool year_first = true;
  if (text.find('-') != absl::string_view::npos) {
    parts = absl::StrSplit(text, '-');
  } else if (text.find('/') != absl::string_view::npos) {
    parts = absl::StrSplit(text, '/');
    year_first = false;
  } else {
    parts = {text};
  }
  if (parts.size() != 1 && parts.size() != 3) {
    return DateError(option, kFormats);
  }
  absl::string_view year_text = year_first ? parts.front() : parts.back();
  if (year_text.size() != 4 || !AllDigits(year_text)) {
    return DateError(option,
                     absl::StrCat(kFormats, " (the year has 4 digits)"));
  }
  int year = 0;
  if (!absl::SimpleAtoi(year_text, &year)) return DateError(option, kFormats);
  if (year < 1) return DateError(option, "year 0000 does not exist");
  google::type::Date date;
  date.set_year(year);
  if (parts.size() == 1) return date;

  absl::string_view month_text = parts[1];
  absl::string_view day_text = year_first ? parts[2] : parts[0];
  if (month_text.size() != 2 || day_text.size() != 2 ||
      !AllDigits(month_text) || !AllDigits(day_text)) {
    return DateError(option,
                     absl::StrCat(kFormats, " (month and day have 2 digits)"));
  }
  int month = 0;
  int day = 0;
  if (!absl::SimpleAtoi(month_text, &month) ||
      !absl::SimpleAtoi(day_text, &day)) {
    return DateError(option, kFormats);
  }
  if (month < 1 || month > 12) {
    return DateError(option,
                     absl::StrCat("month ", month_text, " is not 01..12"));
  }
  const int days = validation::DaysInMonth(year, month);
  if (day < 1 || day > days) {
    return DateError(option, absl::StrCat("day ", day_text, " is not 01..",
                                          days, " in that month"));
  }
  date.set_month(month);
  date.set_day(day);
  return date;
}

absl::Status CheckCitizenId(absl::string_view id, absl::string_view option) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(option, " is empty"));
  }
  // Says what is wrong without echoing the ID (personal data).
  if (!AllDigits(id) || (id.size() != 12 && id.size() != 9)) {
    return absl::InvalidArgumentError(absl::StrCat(
        option,
        ": expected a 12-digit personal ID number or a 9-digit old ID card "
        "number, got ",
        id.size(), " characters", AllDigits(id) ? "" : " (not all digits)"));
  }
  return absl::OkStatus();
}

std::vector<std::string> SplitFieldList(absl::string_view list) {
  std::vector<std::string> fields;
  for (absl::string_view piece : absl::StrSplit(list, ',')) {
    piece = absl::StripAsciiWhitespace(piece);
    if (piece.empty() || absl::c_linear_search(fields, piece)) continue;
    fields.emplace_back(piece);
  }
  return fields;
}

absl::StatusOr<google::protobuf::FieldMask> ParseFieldMask(
    absl::string_view list, const google::protobuf::Descriptor& message,
    absl::string_view option) {
  google::protobuf::FieldMask mask;
  for (std::string& path : SplitFieldList(list)) {
    if (!google::protobuf::util::FieldMaskUtil::GetFieldDescriptors(
            &message, path, nullptr)) {
      std::vector<std::string> known;
      for (int i = 0; i < message.field_count(); ++i) {
        known.push_back(message.field(i)->name());
      }
      return absl::InvalidArgumentError(
          absl::StrCat(option, ": unknown field \"", path,
                       "\"; known: ", absl::StrJoin(known, ",")));
    }
    mask.add_paths(std::move(path));
  }
  return mask;
}

namespace {

// Where protobuf's JSON parser stopped, as "line L, column C: " (columns in
// characters, from 1), or "" when it cannot be told. A syntax error's
// message ends in the file's text around that place (at most 20 bytes each
// side, line breaks included) and a line of spaces ending in '^' under it;
// that text is looked up in `json`, and must occur there once.
std::string JsonErrorPlace(absl::string_view message, absl::string_view json) {
  const size_t first = message.find('\n');
  const size_t last = message.rfind('\n');
  if (first == absl::string_view::npos || first == last) return "";
  const absl::string_view context = message.substr(first + 1, last - first - 1);
  const absl::string_view marker = message.substr(last + 1);
  if (context.empty() || marker.empty() || marker.back() != '^' ||
      marker.find_first_not_of(' ') != marker.size() - 1 ||
      marker.size() - 1 > context.size()) {
    return "";
  }
  const size_t at = json.find(context);
  if (at == absl::string_view::npos ||
      json.find(context, at + 1) != absl::string_view::npos) {
    return "";
  }
  const absl::string_view before = json.substr(0, at + marker.size() - 1);
  const size_t line_start = before.rfind('\n') + 1;  // npos + 1 == 0
  return absl::StrCat(
      "line ", 1 + absl::c_count(before, '\n'), ", column ",
      1 + validation::CountCodePoints(before.substr(line_start)), ": ");
}

}  // namespace

std::string JsonParseReason(absl::string_view protobuf_message,
                            absl::string_view json) {
  absl::string_view line =
      protobuf_message.substr(0, protobuf_message.find('\n'));
  std::string unquoted;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      unquoted += quoted ? "...\"" : "\"";
      quoted = !quoted;
    } else if (!quoted) {
      unquoted += c;
    }
  }
  if (quoted) unquoted += "...\"";
  // A wrongly typed value that is not a string stands unquoted: "invalid
  // value 912345678 for type TYPE_STRING" for a phone number given as a
  // number.
  constexpr absl::string_view kValue = "invalid value ";
  constexpr absl::string_view kType = " for type";
  size_t at = 0;
  while ((at = absl::string_view(unquoted).find(kValue, at)) !=
         absl::string_view::npos) {
    at += kValue.size();
    const size_t end = absl::string_view(unquoted).find(kType, at);
    unquoted.replace(
        at, end == absl::string_view::npos ? std::string::npos : end - at,
        "...");
  }
  // Whatever else protobuf may quote bare: a run of digits as long as a
  // phone number's or an ID's tail is not kept, wherever it stands.
  constexpr size_t kMaskedDigits = 6;
  std::string reason = JsonErrorPlace(protobuf_message, json);
  for (size_t i = 0; i < unquoted.size();) {
    size_t end = i;
    while (end < unquoted.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(unquoted[end]))) {
      ++end;
    }
    if (end == i) {
      reason += unquoted[i++];
      continue;
    }
    if (end - i >= kMaskedDigits) {
      reason += "...";
    } else {
      reason.append(unquoted, i, end - i);
    }
    i = end;
  }
  return reason;
}

}  // namespace lienthong::cli
