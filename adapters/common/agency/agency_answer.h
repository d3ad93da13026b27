// The answers of the agencies of interconnected procedures (civil status,
// residence, social insurance, labour and social affairs) in the assumed
// JSON-over-HTTPS exchange of docs/wire-formats.md, "Agencies of
// interconnected procedures":
//
//   HTTP 200 {"error_code": "0", "message": "...", "data": {...},
//             "reference": "..."}           applied; `data` holds the results
//   HTTP 200 {"error_code": "<other>", "message": "<reason>"}
//                                           refused for good, as sent
//
// error_code may be a non-empty JSON string or a whole number ("0", 0 and
// "00" are success); `data` absent or null is no results.
// All functions are thread-safe and keep no state. No status message
// carries the answer's body.
#ifndef LIENTHONG_ADAPTERS_COMMON_AGENCY_AGENCY_ANSWER_H_
#define LIENTHONG_ADAPTERS_COMMON_AGENCY_AGENCY_ANSWER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace lienthong::adapters::agency {

// Longest refusal reason kept, in bytes (cut at a UTF-8 boundary).
inline constexpr size_t kMaxReasonBytes = 500;

struct AgencyAnswer {
  bool refused = false;
  // Refused: the agency's reason, control characters (C0, DEL, C1) made
  // spaces, at most kMaxReasonBytes.
  std::string reason;
  // Applied: the result object (empty when the agency sent none).
  google::protobuf::Struct data;
  // The agency's reference for the exchange, if it gave one.
  std::string reference;
};

// Returns the answer of an exchange that ended with HTTP status
// `http_status`, body `body` and Retry-After header `retry_after` (may be
// empty), with `agency` naming the agency in messages:
//
//   HTTP 200 with the JSON above          the answer (applied or refused)
//   HTTP 200 with anything else           UNAVAILABLE, retriable: unreadable,
//                                         the step may have been applied
//   HTTP 400, 409, 422                    INVALID_ARGUMENT: the agency cannot
//                                         take the request as sent (409: the
//                                         key was used with other content)
//   HTTP 401, 403, 404, 405               UNAVAILABLE, retriable: credentials
//                                         or a path an operator must fix
//   HTTP 408, 425, 429, 5xx and others    UNAVAILABLE, retriable, with the
//                                         Retry-After wait when given
absl::StatusOr<AgencyAnswer> ParseAgencyAnswer(absl::string_view agency,
                                               long http_status,
                                               absl::string_view body,
                                               absl::string_view retry_after);

// Returns the text of member `key` of `data`: a string as it is, a number
// without a fractional part as an integer ("1500000"); nullopt when
// absent, empty or of another type.
std::optional<std::string> DataText(const google::protobuf::Struct& data,
                                    const std::string& key);

}  // namespace lienthong::adapters::agency

#endif  // LIENTHONG_ADAPTERS_COMMON_AGENCY_AGENCY_ANSWER_H_
