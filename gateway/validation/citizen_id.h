// Validation of citizen identifiers and birth dates before any upstream call:
// ValidateCitizenId (12-digit personal ID or 9-digit old ID card),
// ValidateDate, MaskCitizenId for logs and metrics, and IsOldIdCard.
//
// Error messages reach the caller and logs: they never contain the ID or any
// part of it. All functions are thread-safe and keep no state.
#ifndef LIENTHONG_GATEWAY_VALIDATION_CITIZEN_ID_H_
#define LIENTHONG_GATEWAY_VALIDATION_CITIZEN_ID_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/type/date.pb.h"

namespace lienthong::validation {

// Checks that `id` is a 12-digit personal identification number (số định
// danh cá nhân: province-of-birth code, gender/century digit, two digits of
// the birth year, six digits) or a 9-digit old ID card number (CMND, digits
// only).
//
// For a 12-digit ID: the province code must be one of the 63 real codes; the
// gender/century digit must be 0..3 (4..9 belong to births after 2099); the
// implied birth year must not be after the current year in Vietnam (UTC+7)
// at `now`; when `birth_date` is given with a non-zero year, that year must
// equal the implied year. `birth_date` itself is not validated here (see
// ValidateDate) and is ignored for a 9-digit ID.
//
// Returns OK, or INVALID_ARGUMENT with a reason that does not echo the ID.
absl::Status ValidateCitizenId(absl::string_view id,
                               const google::type::Date* birth_date,
                               absl::Time now);

// For a 12-digit ID (see ValidateCitizenId), checks that its gender/century
// digit is one given to a woman (odd: 1, 3, ...) when `female`, else to a
// man (even). Any other `id` is INVALID_ARGUMENT; the reason does not echo
// the ID.
absl::Status CheckIdGender(absl::string_view id, bool female);

// Checks that `date` is a real calendar date (leap years included) or a
// year-only date (month = day = 0), with year >= 1900 and not after today in
// Vietnam (UTC+7) at `now`.
//
// Returns OK, or INVALID_ARGUMENT with the reason, naming the date as
// `field` ("birth_date's day does not exist in its month").
absl::Status ValidateDate(const google::type::Date& date, absl::Time now,
                          absl::string_view field = "date");

// Returns `id` masked for logs, metrics and audit records, the one place
// the rule lives: a 12-digit number keeps its 3-digit province code and last
// two digits ("033*******45"), a 9-digit one only its last two
// ("*******45"); anything else is "***", so malformed input is never echoed.
std::string MaskCitizenId(absl::string_view id);

// Returns `text` with every ID in it masked as MaskCitizenId masks it: a
// run of exactly 9 or 12 digits (an ID's length, not part of a longer
// number), also when written in groups joined by single '.', '-' or ' '
// ("033.085.012.345") or in full-width digits; from each group the most
// groups that make 9 or 12 digits are taken. For free text (an agency's
// refusal, an officer's reason) on its way to another system. Names, dates
// and other numbers cannot be told and stay; a sum of 9 or 12 digits
// ("150.000.000") is masked as an ID would be.
std::string MaskCitizenIdsInText(absl::string_view text);

// Returns true when `id` is exactly 9 ASCII digits (an old ID card number).
bool IsOldIdCard(absl::string_view id);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_CITIZEN_ID_H_
