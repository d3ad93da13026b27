#include "gateway/validation/citizen_id.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gateway/validation/dates.h"
#include "gateway/validation/text.h"

namespace lienthong::validation {
namespace {

// Province-of-birth codes of the 63 provinces and cities (Circular
// 59/2021/TT-BCA), sorted for binary search. The 2025 mergers did not
// reissue IDs, so the old codes stay valid.
constexpr std::array<int, 63> kProvinceCodes = {
    1,  2,  4,  6,  8,  10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25,
    26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44, 45, 46, 48,
    49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75,
    77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96};

// Vietnam has kept UTC+7 without daylight saving since 1975; a fixed zone
// needs no tzdata.
bool AllDigits(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

int DigitsValue(absl::string_view s) {
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

absl::Status ValidateCitizenId(absl::string_view id,
                               const google::type::Date* birth_date,
                               absl::Time now) {
  if (id.empty()) {
    return absl::InvalidArgumentError("citizen_id is required");
  }
  const size_t characters = CountCodePoints(id);
  if (characters != 12 && characters != 9) {
    return absl::InvalidArgumentError(
        absl::StrCat("citizen_id must have 12 digits (or 9 for an old ID "
                     "card), got ",
                     characters, " characters"));
  }
  // Also rejects multi-byte characters, such as full-width digits.
  if (!AllDigits(id)) {
    return absl::InvalidArgumentError("citizen_id must contain only digits");
  }
  if (id.size() == 9) return absl::OkStatus();

  if (!std::binary_search(kProvinceCodes.begin(), kProvinceCodes.end(),
                          DigitsValue(id.substr(0, 3)))) {
    return absl::InvalidArgumentError(
        "citizen_id has an unknown province code");
  }
  // 0/1: 1900s, 2/3: 2000s, 4/5: 2100s, ... (even male, odd female).
  const int century = 1900 + (id[3] - '0') / 2 * 100;
  const int implied_year = century + DigitsValue(id.substr(4, 2));
  const int current_year =
      static_cast<int>(absl::ToCivilYear(now, VietnamTimeZone()).year());
  if (implied_year > current_year) {
    return absl::InvalidArgumentError(
        century > 2000 ? "citizen_id's gender/century digit implies a birth "
                         "year in the future"
                       : "citizen_id implies a birth year in the future");
  }
  if (birth_date != nullptr && birth_date->year() != 0 &&
      birth_date->year() != implied_year) {
    if (birth_date->year() / 100 * 100 != century) {
      return absl::InvalidArgumentError(
          "citizen_id's gender/century digit does not agree with "
          "birth_date's year");
    }
    return absl::InvalidArgumentError(
        "citizen_id's birth year digits do not agree with birth_date's year");
  }
  return absl::OkStatus();
}

absl::Status ValidateDate(const google::type::Date& date, absl::Time now,
                          absl::string_view field) {
  const int year = date.year();
  const int month = date.month();
  const int day = date.day();
  const auto invalid = [field](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, why));
  };
  if (year < 1900) return invalid("'s year must be 1900 or later");
  if (month == 0 && day != 0) return invalid(" has a day but no month");
  if (month < 0 || month > 12) return invalid("'s month must be 1..12");
  if (month != 0 && day == 0) {
    return invalid(
        " must have a day, or neither month nor day for a year-only date");
  }
  if (month != 0 && !IsCalendarDate(year, month, day)) {
    return invalid("'s day does not exist in its month");
  }
  const absl::CivilDay today = absl::ToCivilDay(now, VietnamTimeZone());
  const bool future = month == 0 ? year > today.year()
                                 : absl::CivilDay(year, month, day) > today;
  if (future) return invalid(" is in the future");
  return absl::OkStatus();
}

std::string MaskCitizenId(absl::string_view id) {
  if ((id.size() != 12 && id.size() != 9) || !AllDigits(id)) return "***";
  // Seven digits hidden either way: with the province code, the last two
  // and the fields of a record beside it, 10^7 candidates remain (fewer
  // once the gender/century digit and birth year are constrained), and
  // the record's digests are keyed, so none can be tested offline.
  const absl::string_view prefix = id.size() == 12 ? id.substr(0, 3) : "";
  return absl::StrCat(prefix, "*******", id.substr(id.size() - 2));
}

namespace {

// A group of digits in free text: where it starts and ends, its digits.
struct DigitGroup {
  size_t begin = 0;
  size_t end = 0;
  std::string digits;
};

// Reads the group starting at `i` (a digit). Sets `*joined` when a single
// '.', '-' or ' ' and a digit follow it, as in "033.085.012.345".
DigitGroup ReadGroup(absl::string_view text, size_t i, bool* joined) {
  DigitGroup group;
  group.begin = i;
  char digit;
  for (size_t n; (n = DigitAt(text, i, &digit)) > 0; i += n) {
    group.digits.push_back(digit);
  }
  group.end = i;
  *joined = i < text.size() &&
            (text[i] == '.' || text[i] == '-' || text[i] == ' ') &&
            DigitAt(text, i + 1, &digit) > 0;
  return group;
}

}  // namespace

std::string MaskCitizenIdsInText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  char digit;
  while (i < text.size()) {
    if (DigitAt(text, i, &digit) == 0) {
      out.push_back(text[i++]);
      continue;
    }
    // The groups joined here, as one number may be written.
    std::vector<DigitGroup> groups;
    for (bool joined = true; joined;) {
      groups.push_back(ReadGroup(text, i, &joined));
      i = groups.back().end + (joined ? 1 : 0);
    }
    // From each group on, the most groups that make an ID's length (9 or
    // 12 digits) are one ID, masked; a group that starts none is kept.
    for (size_t first = 0; first < groups.size();) {
      size_t last = groups.size();
      std::string digits;
      std::string id;
      for (size_t g = first; g < groups.size() && digits.size() <= 12; ++g) {
        digits += groups[g].digits;
        if (digits.size() == 9 || digits.size() == 12) {
          last = g;
          id = digits;
        }
      }
      const size_t upto = last == groups.size() ? first : last;
      const size_t span_end =
          upto + 1 < groups.size() ? groups[upto + 1].begin : groups[upto].end;
      if (last == groups.size()) {
        absl::StrAppend(&out, text.substr(groups[first].begin,
                                          span_end - groups[first].begin));
      } else {
        out += MaskCitizenId(id);
        // The separator after the ID stays.
        if (upto + 1 < groups.size()) {
          absl::StrAppend(
              &out, text.substr(groups[upto].end,
                                groups[upto + 1].begin - groups[upto].end));
        }
      }
      first = upto + 1;
    }
  }
  return out;
}

absl::Status CheckIdGender(absl::string_view id, bool female) {
  if (id.size() != 12 || !AllDigits(id)) {
    return absl::InvalidArgumentError(
        "citizen_id must have 12 digits to give a gender");
  }
  if (((id[3] - '0') % 2 == 1) != female) {
    return absl::InvalidArgumentError(absl::StrCat(
        "citizen_id's gender/century digit is a ", female ? "man's" : "woman's",
        ", not a ", female ? "woman's" : "man's"));
  }
  return absl::OkStatus();
}

bool IsOldIdCard(absl::string_view id) {
  return id.size() == 9 && AllDigits(id);
}

}  // namespace lienthong::validation
