// Validation of the officer a lookup or identity check is made for
// (lienthong.v1.Officer): the officer's own citizen ID, unit and account.
//
// Messages name the field and never echo the value. Thread-safe, stateless.
#ifndef LIENTHONG_GATEWAY_VALIDATION_OFFICER_H_
#define LIENTHONG_GATEWAY_VALIDATION_OFFICER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lienthong/v1/common.pb.h"

namespace lienthong::validation {

// Checks an officer's own ID: a valid 12-digit personal identification
// number by the citizen-ID rule (ValidateCitizenId, without a birth date);
// a 9-digit old ID card number is refused, since the population database
// takes the officer's CCCD number. Returns OK, or INVALID_ARGUMENT whose
// message begins with `field` ("officer.citizen_id", "--officer-id").
absl::Status ValidateOfficerId(absl::string_view id, absl::string_view field,
                               absl::Time now);

// Checks the request's officer: present (`has_officer`), then
// ValidateOfficerId on officer.citizen_id, ValidateUnitCode on
// officer.unit_code and ValidateAccount on officer.account (codes.h), each
// required. Returns OK, or INVALID_ARGUMENT: "officer is required (...)" or
// a message naming the field ("officer.unit_code ...").
absl::Status ValidateOfficer(bool has_officer,
                             const lienthong::v1::Officer& officer,
                             absl::Time now);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_OFFICER_H_
