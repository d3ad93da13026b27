#include "gateway/validation/codes.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/validation/dates.h"

namespace lienthong::validation {
namespace {

// Length of a national procedure code: "1.001193".
constexpr size_t kNationalCodeLength = 8;
// Longest dossier sequence number, in digits.
constexpr size_t kMaxSequenceDigits = 10;

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

bool AllAlnum(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c));
  });
}

bool IsUnitCode(absl::string_view code) {
  if (code.empty() || code.size() > kMaxUnitCodeLength) return false;
  for (absl::string_view group : absl::StrSplit(code, '.')) {
    if (!AllAlnum(group)) return false;
  }
  return true;
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// Letters, digits and `extra`, starting and ending with a letter or digit,
// 1..`max_length` characters.
bool IsCodeLike(absl::string_view text, absl::string_view extra,
                size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  if (!absl::ascii_isalnum(static_cast<unsigned char>(text.front())) ||
      !absl::ascii_isalnum(static_cast<unsigned char>(text.back()))) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [extra](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           extra.find(c) != absl::string_view::npos;
  });
}

// yyMMdd, a real day of 2000..2099; `field` as for ValidateDossierCode.
absl::Status CheckDossierDate(absl::string_view date, absl::string_view field,
                              absl::string_view form) {
  int yy = 0;
  int mm = 0;
  int dd = 0;
  if (date.size() != 6 || !AllDigits(date) ||
      !absl::SimpleAtoi(date.substr(0, 2), &yy) ||
      !absl::SimpleAtoi(date.substr(2, 2), &mm) ||
      !absl::SimpleAtoi(date.substr(4, 2), &dd)) {
    return Invalid(field,
                   absl::StrCat("the date must be 6 digits yyMMdd; ", form));
  }
  if (!IsCalendarDate(2000 + yy, mm, dd)) {
    return Invalid(field, absl::StrCat("the date ", date, " does not exist"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateUnitCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (!IsUnitCode(code)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be 1 to ", kMaxUnitCodeLength,
        " ASCII letters and digits in groups separated by '.', like "
        "000.00.31.H31"));
  }
  return absl::OkStatus();
}

absl::Status ValidateProcedureCode(absl::string_view code,
                                   absl::string_view field) {
  const absl::string_view national = code.substr(0, kNationalCodeLength);
  const absl::string_view rest = code.substr(national.size());
  if (!IsNationalProcedureCode(national) ||
      (!rest.empty() && (rest[0] != '.' || !IsUnitCode(rest.substr(1))))) {
    return Invalid(field,
                   "procedure code must be <digit>.<6 digits>, optionally "
                   "followed by \".\" and a unit code");
  }
  return absl::OkStatus();
}

bool IsProcedureCode(absl::string_view code) {
  return ValidateProcedureCode(code, "").ok();
}

bool IsNationalProcedureCode(absl::string_view code) {
  return code.size() == kNationalCodeLength &&
         absl::ascii_isdigit(static_cast<unsigned char>(code[0])) &&
         code[1] == '.' && AllDigits(code.substr(2));
}

absl::Status ValidateProvincialProcedureCode(absl::string_view code,
                                             absl::string_view label) {
  constexpr absl::string_view kForm =
      "expected G.NNNNNN.UUU.UU.UU.HPP, e.g. 1.001193.000.00.00.H31";
  if (code.empty()) return Invalid(label, "empty code");
  const std::vector<absl::string_view> parts = absl::StrSplit(code, '.');
  if (parts.size() == 2 && AllDigits(parts[0]) && AllDigits(parts[1])) {
    return Invalid(
        label, absl::StrCat("a national base code; give the province's form, ",
                            kForm));
  }
  if (parts.size() != 6) {
    return Invalid(
        label,
        absl::StrCat(parts.size(), " parts separated by '.', not 6; ", kForm));
  }
  if (parts[0].size() != 1 || !AllDigits(parts[0]) || parts[0] == "0") {
    return Invalid(
        label,
        absl::StrCat("the group (part 1) must be one digit, 1 to 9; ", kForm));
  }
  if (!AllDigits(parts[1]) || parts[1].size() != 6) {
    return Invalid(
        label, absl::StrCat("the procedure number (part 2) must be 6 digits; ",
                            kForm));
  }
  if (!AllDigits(parts[2]) || parts[2].size() != 3 || !AllDigits(parts[3]) ||
      parts[3].size() != 2 || !AllDigits(parts[4]) || parts[4].size() != 2) {
    return Invalid(
        label,
        absl::StrCat(
            "the unit segments (parts 3 to 5) must be 3, 2 and 2 digits; ",
            kForm));
  }
  const absl::string_view suffix = parts[5];
  if (suffix.size() != 3 || suffix[0] != 'H' || !AllDigits(suffix.substr(1))) {
    return Invalid(
        label,
        absl::StrCat("the province suffix (part 6) must be 'H' and 2 digits; ",
                     kForm));
  }
  if (suffix == "H00") {
    return Invalid(label,
                   "the province suffix H00 names no province (H01 to H99)");
  }
  return absl::OkStatus();
}

absl::Status ValidatePurpose(absl::string_view purpose) {
  if (purpose.empty()) return absl::InvalidArgumentError("purpose is required");
  return ValidateProcedureCode(purpose, "purpose");
}

absl::StatusOr<std::string> NationalProcedureCode(absl::string_view purpose) {
  if (absl::Status status = ValidatePurpose(purpose); !status.ok()) {
    return status;
  }
  return std::string(purpose.substr(0, kNationalCodeLength));
}

absl::Status ValidateDossierCode(absl::string_view code,
                                 absl::string_view field) {
  constexpr absl::string_view kForm =
      "expected <unit>-<yyMMdd>-<sequence>, e.g. 000.00.01.H31-250715-00123";
  if (code.empty()) return Invalid(field, "empty");
  const std::vector<absl::string_view> parts = absl::StrSplit(code, '-');
  if (parts.size() != 3) return Invalid(field, kForm);
  if (absl::Status s = ValidateUnitCode(parts[0], "the unit code"); !s.ok()) {
    return Invalid(field, absl::StrCat(s.message(), "; ", kForm));
  }
  if (absl::Status s = CheckDossierDate(parts[1], field, kForm); !s.ok()) {
    return s;
  }
  if (parts[2].size() > kMaxSequenceDigits || !AllDigits(parts[2])) {
    return Invalid(field, absl::StrCat("the sequence must be 1 to ",
                                       kMaxSequenceDigits, " digits; ", kForm));
  }
  return absl::OkStatus();
}

bool IsDossierCode(absl::string_view code) {
  return ValidateDossierCode(code, "").ok();
}

absl::Status ValidateDossierId(absl::string_view dossier_id) {
  if (dossier_id.empty()) return absl::OkStatus();
  return ValidateDossierCode(dossier_id, "dossier_id");
}

absl::Status ValidateAccount(absl::string_view account,
                             absl::string_view field) {
  if (account.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (!IsCodeLike(account, ".-_@", kMaxAccountLength)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be 1 to ", kMaxAccountLength,
        " ASCII letters, digits, '.', '-', '_' or '@', starting and ending "
        "with a letter or digit"));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::validation
