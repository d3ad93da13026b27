#include "gateway/validation/officer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/codes.h"

namespace lienthong::validation {

absl::Status ValidateOfficerId(absl::string_view id, absl::string_view field,
                               absl::Time now) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (IsOldIdCard(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field,
                     " must be the officer's 12-digit personal identification "
                     "number, not an old ID card number"));
  }
  absl::Status status = ValidateCitizenId(id, nullptr, now);
  if (status.ok()) return status;
  // The rule's messages begin with "citizen_id"; name the officer's field.
  constexpr absl::string_view kSubject = "citizen_id";
  absl::string_view message = status.message();
  if (absl::StartsWith(message, kSubject)) {
    message.remove_prefix(kSubject.size());
    return absl::InvalidArgumentError(absl::StrCat(field, message));
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

absl::Status ValidateOfficer(bool has_officer,
                             const lienthong::v1::Officer& officer,
                             absl::Time now) {
  if (!has_officer) {
    return absl::InvalidArgumentError(
        "officer is required: the population database answers only on "
        "behalf of a named officer (citizen_id, unit_code, account)");
  }
  if (absl::Status s =
          ValidateOfficerId(officer.citizen_id(), "officer.citizen_id", now);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateUnitCode(officer.unit_code(), "officer.unit_code");
      !s.ok()) {
    return s;
  }
  return ValidateAccount(officer.account(), "officer.account");
}

}  // namespace lienthong::validation
