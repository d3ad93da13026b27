// The codes a request carries besides the citizen ID, one rule each:
//   unit codes         ValidateUnitCode          "000.00.31.H31"
//   procedure codes    ValidateProcedureCode, IsNationalProcedureCode,
//                      ValidateProvincialProcedureCode (the strict form a
//                      province publishes), and the purpose of a call,
//                      which is a procedure code (ValidatePurpose,
//                      NationalProcedureCode)
//   dossier codes      ValidateDossierCode "000.00.01.H31-250715-00123", and
//                      the optional dossier_id of a lookup (ValidateDossierId)
//   accounts           ValidateAccount           "can.bo@hungyen.gov.vn"
// The one home of these rules: the server, the sync service, the bundles,
// the adapters and the CLI all use them from here.
//
// Error messages reach the caller and name the field. Codes are not
// personal data, but only the dossier code's date is ever repeated (the
// message says which date does not exist). All functions are thread-safe
// and keep no state.
#ifndef LIENTHONG_GATEWAY_VALIDATION_CODES_H_
#define LIENTHONG_GATEWAY_VALIDATION_CODES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::validation {

// Longest unit code and account accepted, in characters.
inline constexpr size_t kMaxUnitCodeLength = 40;
inline constexpr size_t kMaxAccountLength = 64;

// Checks an administrative unit code (the national portal's unit codes, the
// officer's unit, the unit part of dossier and procedure codes): 1 to
// kMaxUnitCodeLength ASCII letters and digits in groups separated by '.',
// e.g. "000.00.31.H31". Returns OK, or INVALID_ARGUMENT "<field> is
// required" when empty, "<field> must be 1 to 40 ASCII letters and digits
// in groups separated by '.', like 000.00.31.H31" otherwise.
absl::Status ValidateUnitCode(absl::string_view code, absl::string_view field);

// Checks a procedure code (MaTTHC): the national base code "<digit>.<6
// digits>" (e.g. "1.001193"), optionally followed by "." and a unit code
// as for ValidateUnitCode (a province's form, e.g.
// "1.001193.000.00.00.H31"). Returns OK, or INVALID_ARGUMENT
// "<field>: procedure code must be <digit>.<6 digits>, ..." (also when
// empty: where a code may be left out, the caller checks first).
absl::Status ValidateProcedureCode(absl::string_view code,
                                   absl::string_view field);

// Returns ValidateProcedureCode(code, ...).ok(): for callers that only
// choose (e.g. whether a code may be repeated in a message).
bool IsProcedureCode(absl::string_view code);

// Returns true when `code` is a national procedure code, "<digit>.<6
// digits>" (e.g. "1.001193"), and nothing more.
bool IsNationalProcedureCode(absl::string_view code);

// Checks that `code` is a province's procedure code exactly (no surrounding
// spaces), the subset of ValidateProcedureCode that a province publishes in
// its catalogue:
//   G.NNNNNN.UUU.UU.UU.HPP      e.g. 1.001193.000.00.00.H31
//   G       the national group: one digit, 1 to 9;
//   NNNNNN  the procedure's number in the national catalogue, 6 digits
//           (G.NNNNNN is the national base code, e.g. 1.001193);
//   UUU.UU.UU  unit segments of 3, 2 and 2 digits ("000.00.00" when the
//           province publishes the procedure as a whole);
//   HPP     'H' and the province's 2-digit unit number, 01..99 (Hưng Yên
//           H31).
// Returns OK, or INVALID_ARGUMENT "<label>: <what is wrong>" (e.g.
// "--procedure: a national base code; give the province's form, ...");
// the message does not repeat the code.
absl::Status ValidateProvincialProcedureCode(absl::string_view code,
                                             absl::string_view label);

// Checks the purpose of a call: the procedure code (ValidateProcedureCode)
// of the administrative procedure it serves. Returns OK, or
// INVALID_ARGUMENT "purpose is required" when empty, "purpose: procedure
// code must be ..." otherwise.
absl::Status ValidatePurpose(absl::string_view purpose);

// Returns the national procedure code of `purpose`: its first eight
// characters, "1.001193" for both "1.001193" and "1.001193.000.00.00.H31".
// The population database's MaDVC and the policy's grants use this form.
// Fails like ValidatePurpose.
absl::StatusOr<std::string> NationalProcedureCode(absl::string_view purpose);

// Checks a dossier code (MaHoSo) "<unit code>-<yyMMdd>-<sequence>", e.g.
// "000.00.01.H31-250715-00123": the receiving unit's code as for
// ValidateUnitCode, the day the dossier was received as yyMMdd (a real
// calendar date of 2000..2099), and a sequence of 1 to 10 digits. Returns
// OK, or INVALID_ARGUMENT "<field>: <what is wrong>", e.g. "<field>: the
// date 250230 does not exist" or "<field>: expected <unit>-<yyMMdd>-
// <sequence>, e.g. 000.00.01.H31-250715-00123".
absl::Status ValidateDossierCode(absl::string_view code,
                                 absl::string_view field);

// Returns ValidateDossierCode(code, ...).ok().
bool IsDossierCode(absl::string_view code);

// Checks the dossier_id of a lookup or a record request: empty (whether a
// caller must name its dossier is policy, not syntax), or a dossier code as
// ValidateDossierCode with the field "dossier_id".
absl::Status ValidateDossierId(absl::string_view dossier_id);

// Checks an account name in a provincial system (e.g. "nguyenvana" or
// "can.bo@hungyen.gov.vn"): 1 to kMaxAccountLength ASCII letters, digits,
// '.', '-', '_' or '@', starting and ending with a letter or digit. Returns
// OK or INVALID_ARGUMENT whose message names `field`.
absl::Status ValidateAccount(absl::string_view account,
                             absl::string_view field);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_CODES_H_
