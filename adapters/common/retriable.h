// Marks a failure as worth retrying (MarkRetriable) or as decided without
// calling the national system (MarkNotSent), and reads the marks back. Adapters
// decide what is transient (a busy upstream, HTTP 503); the resilience layer
// reads the mark instead of re-deriving it from status codes. The mark is a
// status payload under kRetriableTypeUrl, so it travels with the status through
// StatusOr and copies.
#ifndef LIENTHONG_ADAPTERS_COMMON_RETRIABLE_H_
#define LIENTHONG_ADAPTERS_COMMON_RETRIABLE_H_

#include "absl/status/status.h"
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lienthong::adapters {

inline constexpr absl::string_view kRetriableTypeUrl = "lienthong/retriable";

// Returns `status` with the retriable mark added. An OK status is returned
// unchanged (absl drops payloads on OK). Thread-compatible.
absl::Status MarkRetriable(absl::Status status);

// Returns true when `status` is not OK and carries the retriable mark.
bool IsRetriable(const absl::Status& status);

// Returns `status` marked retriable, with the wait the national system asked
// for (its Retry-After header: seconds, as text) when `retry_after` parses
// as a number of seconds in 0..3600; otherwise just marked. Thread-compatible.
absl::Status MarkRetriableAfter(absl::Status status,
                                absl::string_view retry_after);

// The wait a national system asked for with a retriable failure, if any.
std::optional<absl::Duration> RetryAfter(const absl::Status& status);

// Returns `status` marked as decided by the adapter without sending anything
// to the national system (a request it cannot put into the system's format
// or that names nothing it serves): such a refusal says nothing about the
// system's health, so the circuit breaker records nothing for it. An OK
// status is returned unchanged. Thread-compatible.
absl::Status MarkNotSent(absl::Status status);

// Returns true when `status` is not OK and carries the not-sent mark.
bool WasNotSent(const absl::Status& status);

}  // namespace lienthong::adapters

#endif  // LIENTHONG_ADAPTERS_COMMON_RETRIABLE_H_
