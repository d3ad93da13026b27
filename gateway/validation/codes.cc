#include "gateway/validation/codes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace lienthong::validation {
namespace {

// Length of a national procedure code: "1.001193".
constexpr size_t kNationalCodeLength = 8;

bool IsNationalCode(absl::string_view code) {
  if (code.size() != kNationalCodeLength || code[1] != '.') return false;
  return absl::ascii_isdigit(code[0]) &&
         std::all_of(code.begin() + 2, code.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

// ".000.00.00.H31": dot-separated, non-empty runs of ASCII letters and
// digits.
bool IsProvincialSuffix(absl::string_view suffix) {
  if (suffix.empty()) return true;
  if (suffix.front() != '.' || suffix.back() == '.') return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    const char c = suffix[i];
    if (c == '.') {
      if (i + 1 < suffix.size() && suffix[i + 1] == '.') return false;
    } else if (!absl::ascii_isalnum(c)) {
      return false;
    }
  }
  return true;
}

// Letters, digits and `extra`, starting and ending with a letter or digit,
// 1..`max_length` characters.
bool IsCodeLike(absl::string_view text, absl::string_view extra,
                size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  if (!absl::ascii_isalnum(text.front()) || !absl::ascii_isalnum(text.back())) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [extra](char c) {
    return absl::ascii_isalnum(c) || extra.find(c) != absl::string_view::npos;
  });
}

// Required, and IsCodeLike; the message names `field` and says what
// `extra` allows (`extra_text`).
absl::Status ValidateCodeLike(absl::string_view text, absl::string_view field,
                              absl::string_view extra,
                              absl::string_view extra_text, size_t max_length) {
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (!IsCodeLike(text, extra, max_length)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be 1 to ", max_length, " ASCII letters, digits, ",
        extra_text, ", starting and ending with a letter or digit"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePurpose(absl::string_view purpose) {
  if (purpose.empty()) return absl::InvalidArgumentError("purpose is required");
  if (purpose.size() > kMaxPurposeLength ||
      purpose.size() < kNationalCodeLength ||
      !IsNationalCode(purpose.substr(0, kNationalCodeLength)) ||
      !IsProvincialSuffix(purpose.substr(kNationalCodeLength))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "purpose must be a procedure code such as 1.001193 (or a province's "
        "form such as 1.001193.000.00.00.H31), at most ",
        kMaxPurposeLength, " characters"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NationalProcedureCode(absl::string_view purpose) {
  if (absl::Status status = ValidatePurpose(purpose); !status.ok()) {
    return status;
  }
  return std::string(purpose.substr(0, kNationalCodeLength));
}

absl::Status ValidateDossierId(absl::string_view dossier) {
  if (dossier.size() > 64) {
    return absl::InvalidArgumentError(
        "dossier_id is longer than 64 characters");
  }
  for (char c : dossier) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-') {
      return absl::InvalidArgumentError(
          "dossier_id may hold only letters, digits, '.' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateUnitCode(absl::string_view code, absl::string_view field) {
  return ValidateCodeLike(code, field, ".-_", "'.', '-' or '_'",
                          kMaxUnitCodeLength);
}

absl::Status ValidateAccount(absl::string_view account,
                             absl::string_view field) {
  return ValidateCodeLike(account, field, ".-_@", "'.', '-', '_' or '@'",
                          kMaxAccountLength);
}

}  // namespace lienthong::validation
