// The codes a request carries besides the citizen ID: the administrative
// procedure a call serves (ValidatePurpose, NationalProcedureCode), the
// dossier (ValidateDossierId), and the calling officer's unit and account
// (ValidateUnitCode, ValidateAccount). The one home of these rules: the
// server, the adapters and the CLI all use them from here.
//
// Error messages reach the caller: they name the field, never echo the value.
// All functions are thread-safe and keep no state.
#ifndef LIENTHONG_GATEWAY_VALIDATION_CODES_H_
#define LIENTHONG_GATEWAY_VALIDATION_CODES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::validation {

// Longest purpose accepted, in characters.
inline constexpr size_t kMaxPurposeLength = 64;

// Checks that `purpose` is an administrative procedure code: the national
// code of the National Public Service Portal's procedure database, one digit,
// '.', six digits ("1.001193"), optionally followed by a province's suffix of
// dot-separated ASCII letters and digits ("1.001193.000.00.00.H31"), at most
// kMaxPurposeLength characters in all.
//
// Returns OK, or INVALID_ARGUMENT: "purpose is required" when empty, or
// "purpose must be a procedure code such as 1.001193 ..." otherwise.
absl::Status ValidatePurpose(absl::string_view purpose);

// Returns the national procedure code of `purpose`: its first eight
// characters, "1.001193" for both "1.001193" and "1.001193.000.00.00.H31".
// The population database's MaDVC and the policy's grants use this form.
// Fails like ValidatePurpose.
absl::StatusOr<std::string> NationalProcedureCode(absl::string_view purpose);

// Checks a dossier code such as "000.00.01.H31-250715-00123": at most 64
// characters, ASCII letters, digits, '.' and '-'. Empty is allowed (whether a
// caller must name its dossier is policy, not syntax).
// Returns OK or INVALID_ARGUMENT naming dossier_id.
absl::Status ValidateDossierId(absl::string_view dossier_id);

// Longest unit code and account accepted, in characters.
inline constexpr size_t kMaxUnitCodeLength = 40;
inline constexpr size_t kMaxAccountLength = 64;

// Checks an organisational unit code (the officer's unit, e.g.
// "000.00.31.H31" or "UBND-XA-12103"): 1 to kMaxUnitCodeLength ASCII
// letters, digits, '.', '-' or '_', starting and ending with a letter or
// digit. Returns OK or INVALID_ARGUMENT whose message names `field`.
absl::Status ValidateUnitCode(absl::string_view code, absl::string_view field);

// Checks an account name in a provincial system (e.g. "nguyenvana" or
// "can.bo@hungyen.gov.vn"): 1 to kMaxAccountLength ASCII letters, digits,
// '.', '-', '_' or '@', starting and ending with a letter or digit. Returns
// OK or INVALID_ARGUMENT whose message names `field`.
absl::Status ValidateAccount(absl::string_view account,
                             absl::string_view field);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_CODES_H_
