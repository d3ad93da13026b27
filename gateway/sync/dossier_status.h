// Rules for what the portal synchronisation accepts: the allowed transitions
// between the ten dossier statuses of the national portal (TrangThaiHoSo),
// and the validation of one dossier status update and of one catalogue
// procedure. The shapes of dossier codes (MaHoSo) and procedure codes
// (MaTTHC) are gateway/validation/codes.h's.
// Pure functions: no state, thread-safe.
//
// The transition table, by the last status the gateway accepted for the
// dossier (rows) and the statuses that may follow it:
//
//   NEW                    -> ACCEPTED, REFUSED, WITHDRAWN
//   ACCEPTED               -> PROCESSING, WITHDRAWN
//   PROCESSING             -> PROCESSING, MORE_DOCUMENTS_NEEDED,
//                             PAYMENT_REQUIRED, FINISHED, STOPPED, WITHDRAWN
//   MORE_DOCUMENTS_NEEDED  -> PROCESSING, STOPPED, WITHDRAWN
//   PAYMENT_REQUIRED       -> PROCESSING, FINISHED, STOPPED, WITHDRAWN
//   FINISHED               -> RESULT_RETURNED
//   REFUSED, WITHDRAWN, STOPPED, RESULT_RETURNED: terminal, nothing follows.
//
// Why: a dossier is received (NEW), then either accepted for processing or
// refused at the counter (REFUSED ends it). Once accepted it goes to an
// official (PROCESSING); processing may pause to ask the citizen for more
// documents or for a fee, and resumes when they arrive (back to PROCESSING);
// a fee may also be the last step before the result (PAYMENT_REQUIRED ->
// FINISHED). Processing ends FINISHED (the result is ready) or STOPPED (the
// authority ends it, e.g. documents never came). The citizen may withdraw
// the dossier at any point before the work is finished. A finished result is
// then handed over (RESULT_RETURNED), which closes the dossier. PROCESSING
// may follow itself: the dossier moved to another official or department,
// a change the portal shows through NguoiXuLy. Nothing returns to an earlier
// stage (e.g. RESULT_RETURNED -> PROCESSING is refused): a correction of a
// closed dossier is a new dossier at the portal.
//
// The first status the gateway sees for a dossier may be any status: the
// provincial system may start synchronising dossiers already under way.
#ifndef LIENTHONG_GATEWAY_SYNC_DOSSIER_STATUS_H_
#define LIENTHONG_GATEWAY_SYNC_DOSSIER_STATUS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync {

// Returns the enum name ("PROCESSING"), or "UNKNOWN(<n>)" for a value out of
// range. Thread-safe.
std::string DossierStatusName(int status);

// Returns true when `status` is one of the ten statuses (1..10).
// Thread-safe.
bool IsKnownDossierStatus(int status);

// Returns true when no status may follow `status`. Thread-safe.
bool IsTerminalDossierStatus(lienthong::v1::DossierStatus status);

// Returns true when `to` may follow `from` per the table above.
// Thread-safe. REQUIRES: both are known statuses.
bool IsAllowedTransition(lienthong::v1::DossierStatus from,
                         lienthong::v1::DossierStatus to);

// Returns OK when `to` may follow the last accepted status `last` of
// dossier `dossier_code` (nullopt: none accepted yet, anything goes), else
// FAILED_PRECONDITION "dossier <code> cannot go from <LAST> to <TO>".
// Dossier codes are not personal data, so the message names the dossier.
// Thread-safe.
absl::Status CheckTransition(absl::string_view dossier_code,
                             std::optional<lienthong::v1::DossierStatus> last,
                             lienthong::v1::DossierStatus to);

// Limits on free text sent to the portal, in bytes of UTF-8.
inline constexpr size_t kMaxHandlerBytes = 256;  // names, titles, departments
inline constexpr size_t kMaxNoteBytes = 2000;    // notes, summaries
inline constexpr size_t kMaxRegistrationTextBytes = 1000;  // procedure, unit
inline constexpr size_t kMaxCodeBytes = 64;      // field codes, applicant ids
inline constexpr size_t kMaxProcedureTextBytes = 4000;
inline constexpr int kMaxProcedureListItems = 200;

// Returns OK when `update` is well formed: dossier and procedure codes valid
// (validation::ValidateDossierCode, ValidateProcedureCode),
// status 1..10, time set, valid, after 2000-01-01 and at most one day after
// `now` (clocks of provincial systems drift; a date years ahead is a bug);
// step_start likewise and step_due (a legal end, so in the future) at most
// ten years ahead, when set; handler, handler_title, department and note
// valid UTF-8 without control characters (a note may have line breaks)
// within their limits; and the registration, when present, as
// ValidateDossierRegistration. INVALID_ARGUMENT naming the field (e.g.
// "registration.applicant.phone: not a phone number") otherwise; messages
// never repeat the value. Thread-safe.
absl::Status ValidateDossierUpdate(const lienthong::v1::DossierStatusUpdate& update,
                                   absl::Time now);

// Returns OK when `registration` is well formed: procedure_name, field_code
// (visible ASCII), field_name, summary, handling_unit and the applicant's
// name and type (citizen or organisation) present; the applicant's id
// (letters, digits, ".-_/") , e-mail and phone well formed when given;
// `received` set and dated like a status time; due, returned and finished
// valid when set (due at most ten years ahead, the others at most a day);
// texts valid UTF-8 within their limits. INVALID_ARGUMENT
// "registration.<field>: ..." otherwise. Thread-safe.
absl::Status ValidateDossierRegistration(
    const lienthong::v1::DossierRegistration& registration, absl::Time now);

// Returns OK when `procedure` may be published: code valid (see
// validation::ValidateProcedureCode), national_code empty or national
// ("1.001193", validation::IsNationalProcedureCode),
// name set, level fully or partly online, texts valid UTF-8 and lists
// within the limits above, no empty list entries. INVALID_ARGUMENT naming
// the field otherwise. Thread-safe.
absl::Status ValidateProcedure(const lienthong::v1::Procedure& procedure);

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_DOSSIER_STATUS_H_
