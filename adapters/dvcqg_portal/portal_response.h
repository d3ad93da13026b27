// Translation of the national portal's answers (docs/wire-formats.md,
// "National Public Service Portal"): the envelope every answer shares
// ({"error_code", "message", ...}, error_code a number or a string, "0",
// 0 or "00" meaning success), the sign-in's session, the outcome of a
// change, what a dossier lookup (TraCuuHoSo) shows, and the national
// catalogue's lists.
//
// All functions are thread-safe and keep no state. No status message
// carries the answer's body or the portal's own message: those go only
// into PortalOutcome::reason, for the dead-letter list.
#ifndef LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_RESPONSE_H_
#define LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_RESPONSE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "adapters/adapter.h"
#include "google/protobuf/struct.pb.h"

namespace lienthong::adapters::dvcqg {

// Longest portal reason kept, in bytes (cut at a UTF-8 boundary).
inline constexpr size_t kMaxReasonBytes = 500;

// Returns true for an error_code that means success: the number 0, or a
// string of one to four '0' digits ("0", "00"). The public source compares
// with 0 after reading the code as a number or a string, and with "00".
bool IsSuccessCode(const google::protobuf::Value& error_code);

// One answer of the integration endpoint.
struct PortalAnswer {
  enum class Kind {
    kSuccess,         // error_code means success; `json` is the whole answer
    kSessionRefused,  // HTTP 401/403, or an error_code in the session codes
    kError,           // any other error_code
  };
  Kind kind = Kind::kError;
  // kError: the code as text and the portal's message (control characters
  // made spaces, cut to kMaxReasonBytes; empty when it gave none).
  std::string error_code;
  std::string message;
  google::protobuf::Struct json;
};

// Returns the answer to a call with HTTP status `http_status`, body `body`
// and Retry-After `retry_after` (may be empty). `session_codes` are the
// error_code values meaning the session was refused. Fails, retriable
// (Retry-After kept), with UNAVAILABLE for HTTP 408, 429, 5xx and other
// statuses outside 200..299 except 401/403 (a 404/405 names the configured
// endpoint as the likely fault), and for a body that is not a JSON object
// with an error_code.
absl::StatusOr<PortalAnswer> ParsePortalAnswer(
    long http_status, absl::string_view body, absl::string_view retry_after,
    absl::Span<const std::string> session_codes);

// Returns the session of a successful sign-in answer. Fails, retriable,
// with UNAVAILABLE "the portal refused the gateway's sign-in ..." for an
// error_code other than success (marked CredentialsRefused) or a missing or
// unusable session (1 to 4096 visible ASCII characters), and as
// ParsePortalAnswer for the rest.
// `status` marked as the portal refusing the gateway's credentials at
// sign-in, not being unreachable (SessionCache pauses its sign-ins then).
absl::Status CredentialsRefused(absl::Status status);
bool AreCredentialsRefused(const absl::Status& status);

absl::StatusOr<std::string> ParseSignIn(long http_status,
                                        absl::string_view body,
                                        absl::string_view retry_after);

// Returns the outcome of a change the portal answered with `answer`:
// kSuccess -> kApplied; kError with error_code "-1" -> kAlreadyExists when
// `create` (a registration or publication sent as new), else kRejected;
// another kError -> kRejected with the message (or "error_code <code>") as
// reason, except error_codes starting with "5" (the portal's internal
// errors), which fail retriable with UNAVAILABLE. REQUIRES: answer.kind is
// not kSessionRefused.
absl::StatusOr<PortalOutcome> ToOutcome(const PortalAnswer& answer,
                                        bool create);

// What TraCuuHoSo shows of a dossier.
struct DossierLookup {
  // "result" has an entry about the dossier: an object whose "MaHoSo" is
  // its code, or that names no dossier (the public source reads only
  // whether "result" is empty).
  bool found = false;
  // That entry lists the dossier's progress ("QuaTrinhXuLy", assumed).
  bool shows_progress = false;
  struct Step {
    std::string status;  // TrangThai, as sent ("4")
    std::string time;    // ThoiDiemXuLy, yyyyMMddHHmmss
    // PhongBanXuLy, NoiDungXuLy and NguoiXuLy; empty when the portal does
    // not show them.
    std::string department;
    std::string content;
    std::string handler;
  };
  std::vector<Step> progress;

  // True when `progress` has a step with the status and time of `step`
  // and, where the portal shows them, its department, content and handler:
  // the time has whole seconds, and one dossier can have two steps of one
  // status in a second (two agencies of a bundle finishing together, a
  // dossier handed to another officer).
  bool HasStep(const Step& step) const;
};

// Returns what a successful TraCuuHoSo answer for `dossier_code` shows. A
// missing or empty "result" is not found; entries that are not objects, or
// that name another dossier's "MaHoSo", are skipped. Fails with
// UNAVAILABLE, retriable, when "result" is not an array or has two entries
// about the dossier.
absl::StatusOr<DossierLookup> ParseLookup(const google::protobuf::Struct& json,
                                          absl::string_view dossier_code);

}  // namespace lienthong::adapters::dvcqg

#endif  // LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_RESPONSE_H_
