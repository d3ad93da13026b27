#include "gateway/sync/dossier_status.h"

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/text.h"

namespace lienthong::sync {
namespace {

using lienthong::v1::DossierStatus;
using lienthong::v1::DossierStatus_IsValid;
using lienthong::v1::DossierStatus_Name;

// Row `from` lists the statuses that may follow it; see the header for why.
struct TransitionRow {
  DossierStatus from;
  std::vector<DossierStatus> to;
};
constexpr DossierStatus kNew = lienthong::v1::NEW;
constexpr DossierStatus kAccepted = lienthong::v1::ACCEPTED;
constexpr DossierStatus kRefused = lienthong::v1::REFUSED;
constexpr DossierStatus kProcessing = lienthong::v1::PROCESSING;
constexpr DossierStatus kMoreDocuments = lienthong::v1::MORE_DOCUMENTS_NEEDED;
constexpr DossierStatus kPayment = lienthong::v1::PAYMENT_REQUIRED;
constexpr DossierStatus kWithdrawn = lienthong::v1::WITHDRAWN;
constexpr DossierStatus kStopped = lienthong::v1::STOPPED;
constexpr DossierStatus kFinished = lienthong::v1::FINISHED;
constexpr DossierStatus kResultReturned = lienthong::v1::RESULT_RETURNED;

const std::vector<TransitionRow>& Table() {
  static const auto* const kTable = new std::vector<TransitionRow>{
      {kNew, {kAccepted, kRefused, kWithdrawn}},
      {kAccepted, {kProcessing, kWithdrawn}},
      {kProcessing,
       {kProcessing, kMoreDocuments, kPayment, kFinished, kStopped,
        kWithdrawn}},
      {kMoreDocuments, {kProcessing, kStopped, kWithdrawn}},
      {kPayment, {kProcessing, kFinished, kStopped, kWithdrawn}},
      {kFinished, {kResultReturned}},
      {kRefused, {}},
      {kWithdrawn, {}},
      {kStopped, {}},
      {kResultReturned, {}},
  };
  return *kTable;
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status CheckText(absl::string_view field, absl::string_view text,
                       size_t limit, bool multiline = false) {
  if (absl::Status s = validation::ValidateText(text, limit, multiline);
      !s.ok()) {
    return Invalid(field, s.message());
  }
  return absl::OkStatus();
}

absl::Status CheckRequiredText(absl::string_view field, absl::string_view text,
                               size_t limit) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return Invalid(field, "required");
  }
  return CheckText(field, text, limit);
}

// A time the caller reports: a valid timestamp after 2000-01-01 and at most
// `ahead` after `now`.
absl::Status CheckTime(absl::string_view field,
                       const google::protobuf::Timestamp& t, absl::Time now,
                       absl::Duration ahead) {
  if (t.nanos() < 0 || t.nanos() > 999999999) {
    return Invalid(field, "nanos out of range");
  }
  static const absl::Time kEarliest = absl::FromCivil(
      absl::CivilSecond(2000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  const absl::Time time =
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  if (time < kEarliest) return Invalid(field, "before 2000-01-01");
  if (time > now + ahead) {
    return Invalid(field, ahead <= absl::Hours(24)
                              ? "more than a day in the future"
                              : "more than ten years in the future");
  }
  return absl::OkStatus();
}

constexpr absl::Duration kClockDrift = absl::Hours(24);
constexpr absl::Duration kTenYears = absl::Hours(24 * 3653);

// Field codes, applicant ids: visible ASCII; ids letters, digits and
// ".-_/" only.
absl::Status CheckCode(absl::string_view field, absl::string_view code,
                       bool id) {
  if (code.size() > kMaxCodeBytes) {
    return Invalid(field,
                   absl::StrCat("longer than ", kMaxCodeBytes, " bytes"));
  }
  for (char c : code) {
    const bool ok = id ? (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                          c == '.' || c == '-' || c == '_' || c == '/')
                       : (c > 0x20 && c < 0x7f);
    if (!ok) {
      return Invalid(field, id ? "only letters, digits and .-_/ are allowed"
                               : "only visible ASCII characters are allowed");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckList(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& list) {
  if (list.size() > kMaxProcedureListItems) {
    return Invalid(
        field, absl::StrCat("more than ", kMaxProcedureListItems, " items"));
  }
  for (int i = 0; i < list.size(); ++i) {
    std::string item_field = absl::StrCat(field, "[", i, "]");
    if (absl::StripAsciiWhitespace(list[i]).empty()) {
      return Invalid(item_field, "empty");
    }
    if (absl::Status s = CheckText(item_field, list[i], kMaxProcedureTextBytes,
                                   /*multiline=*/true);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string DossierStatusName(int status) {
  if (!IsKnownDossierStatus(status))
    return absl::StrCat("UNKNOWN(", status, ")");
  return DossierStatus_Name(static_cast<DossierStatus>(status));
}

bool IsKnownDossierStatus(int status) {
  return DossierStatus_IsValid(status) &&
         status != lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
}

bool IsTerminalDossierStatus(DossierStatus status) {
  for (const TransitionRow& row : Table()) {
    if (row.from == status) return row.to.empty();
  }
  return false;
}

bool IsAllowedTransition(DossierStatus from, DossierStatus to) {
  for (const TransitionRow& row : Table()) {
    if (row.from != from) continue;
    for (DossierStatus next : row.to) {
      if (next == to) return true;
    }
    return false;
  }
  return false;
}

absl::Status CheckTransition(absl::string_view dossier_code,
                             std::optional<DossierStatus> last,
                             DossierStatus to) {
  if (!last.has_value() || IsAllowedTransition(*last, to)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("dossier ", dossier_code, " cannot go from ",
                   DossierStatusName(*last), " to ", DossierStatusName(to)));
}

absl::Status ValidateDossierUpdate(
    const lienthong::v1::DossierStatusUpdate& update, absl::Time now) {
  if (absl::Status s = validation::ValidateDossierCode(update.dossier_code(),
                                                       "dossier_code");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = validation::ValidateProcedureCode(
          update.procedure_code(), "procedure_code");
      !s.ok()) {
    return s;
  }
  if (!IsKnownDossierStatus(update.status())) {
    return Invalid("status", "must be one of the statuses 1..10");
  }
  if (!update.has_time()) return Invalid("time", "required");
  if (absl::Status s = CheckTime("time", update.time(), now, kClockDrift);
      !s.ok()) {
    return s;
  }
  if (update.has_step_start()) {
    if (absl::Status s =
            CheckTime("step_start", update.step_start(), now, kClockDrift);
        !s.ok()) {
      return s;
    }
  }
  if (update.has_step_due()) {
    if (absl::Status s =
            CheckTime("step_due", update.step_due(), now, kTenYears);
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [field, text] :
       {std::pair<const char*, const std::string&>{"handler", update.handler()},
        {"handler_title", update.handler_title()},
        {"department", update.department()}}) {
    if (absl::Status s = CheckText(field, text, kMaxHandlerBytes); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckText("note", update.note(), kMaxNoteBytes,
                                 /*multiline=*/true);
      !s.ok()) {
    return s;
  }
  if (!update.has_registration()) return absl::OkStatus();
  return ValidateDossierRegistration(update.registration(), now);
}

absl::Status ValidateDossierRegistration(
    const lienthong::v1::DossierRegistration& r, absl::Time now) {
  auto in = [](const absl::Status& s) {
    return absl::InvalidArgumentError(
        absl::StrCat("registration.", s.message()));
  };
  for (const auto& [field, text, limit] :
       {std::tuple<const char*, const std::string&, size_t>{
            "procedure_name", r.procedure_name(), kMaxRegistrationTextBytes},
        {"field_name", r.field_name(), kMaxRegistrationTextBytes},
        {"summary", r.summary(), kMaxNoteBytes},
        {"handling_unit", r.handling_unit(), kMaxRegistrationTextBytes},
        {"applicant.name", r.applicant().name(), kMaxHandlerBytes}}) {
    if (absl::Status s = CheckRequiredText(field, text, limit); !s.ok()) {
      return in(s);
    }
  }
  if (r.field_code().empty()) return in(Invalid("field_code", "required"));
  if (absl::Status s = CheckCode("field_code", r.field_code(), false);
      !s.ok()) {
    return in(s);
  }
  if (r.applicant().type() != lienthong::v1::APPLICANT_CITIZEN &&
      r.applicant().type() != lienthong::v1::APPLICANT_ORGANISATION) {
    return in(
        Invalid("applicant.type", "must be a citizen or an organisation"));
  }
  if (absl::Status s = CheckCode("applicant.id", r.applicant().id(), true);
      !s.ok()) {
    return in(s);
  }
  if (!r.applicant().email().empty()) {
    if (absl::Status s = validation::ValidateEmail(r.applicant().email());
        !s.ok()) {
      return in(Invalid("applicant.email", s.message()));
    }
  }
  if (!r.applicant().phone().empty()) {
    if (absl::Status s = validation::ValidatePhoneNumber(r.applicant().phone());
        !s.ok()) {
      return in(Invalid("applicant.phone", s.message()));
    }
  }
  if (absl::Status s = CheckText("note", r.note(), kMaxNoteBytes, true);
      !s.ok()) {
    return in(s);
  }
  if (!r.has_received()) return in(Invalid("received", "required"));
  for (const auto& [field, set, time, ahead] :
       {std::tuple<const char*, bool, const google::protobuf::Timestamp&,
                   absl::Duration>{"received", true, r.received(), kClockDrift},
        {"due", r.has_due(), r.due(), kTenYears},
        {"returned", r.has_returned(), r.returned(), kClockDrift},
        {"finished", r.has_finished(), r.finished(), kClockDrift}}) {
    if (!set) continue;
    if (absl::Status s = CheckTime(field, time, now, ahead); !s.ok()) {
      return in(s);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateProcedure(const lienthong::v1::Procedure& procedure) {
  if (absl::Status s =
          validation::ValidateProcedureCode(procedure.code(), "code");
      !s.ok()) {
    return s;
  }
  if (absl::StripAsciiWhitespace(procedure.name()).empty()) {
    return Invalid("name", "required");
  }
  if (procedure.level() != lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE &&
      procedure.level() != lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE) {
    return Invalid("level", "must be fully or partly online");
  }
  for (const auto& [field, text] :
       {std::pair<const char*, const std::string&>{"name", procedure.name()},
        {"field", procedure.field()},
        {"authority_level", procedure.authority_level()},
        {"implementing_agency", procedure.implementing_agency()},
        {"processing_time", procedure.processing_time()},
        {"fees", procedure.fees()}}) {
    if (absl::Status s = CheckText(field, text, kMaxProcedureTextBytes,
                                   /*multiline=*/true);
        !s.ok()) {
      return s;
    }
  }
  if (!procedure.national_code().empty() &&
      !validation::IsNationalProcedureCode(procedure.national_code())) {
    return Invalid("national_code",
                   "must be a national code <digit>.<6 digits>, e.g. 1.001193");
  }
  if (absl::Status s =
          CheckList("required_documents", procedure.required_documents());
      !s.ok()) {
    return s;
  }
  return CheckList("legal_basis", procedure.legal_basis());
}

}  // namespace lienthong::sync
