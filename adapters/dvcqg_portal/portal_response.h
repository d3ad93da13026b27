// Translation of the national portal's answers (docs/wire-formats.md,
// "National Public Service Portal") into a typed outcome: applied, already
// exists, refused for good (with the portal's reason), or a retriable
// failure.
//
// All functions are thread-safe and keep no state. No status message
// carries the answer's body.
#ifndef LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_RESPONSE_H_
#define LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_RESPONSE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/adapter.h"

namespace lienthong::adapters::dvcqg {

// Longest portal reason kept, in bytes (cut at a UTF-8 boundary).
inline constexpr size_t kMaxReasonBytes = 500;

// Returns the outcome of an answer with HTTP status `http_status`, body
// `body` and Retry-After header `retry_after` (may be empty):
//
//   HTTP 200, error_code "0"         kApplied
//   HTTP 200, error_code "-1"        kAlreadyExists
//   HTTP 200 or 4xx (but 401, 403,
//     404, 405, 408, 429) with an
//     error_code other than those    kRejected, reason = the message
//     (error_code "5.." excepted)
//   error_code "5..", HTTP 408, 429, 5xx, or HTTP 200 whose body is not the
//     portal's JSON                  UNAVAILABLE, retriable (Retry-After kept)
//   HTTP 401, 403                    UNAVAILABLE, retriable: the portal
//                                    refused the gateway's API key, which an
//                                    operator must fix; no item is at fault
//   HTTP 404, 405                    UNAVAILABLE, retriable: a wrong path in
//                                    the config, likewise
//   other 4xx without the JSON       kRejected, reason "HTTP <status>"
//
// error_code may be a JSON string or number.
absl::StatusOr<PortalOutcome> ParsePortalAnswer(long http_status,
                                                absl::string_view body,
                                                absl::string_view retry_after);

}  // namespace lienthong::adapters::dvcqg

#endif  // LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_RESPONSE_H_
