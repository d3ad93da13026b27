// What /readyz tells whoever asks when the gateway is not ready: a fixed
// text naming the failing component, never the readiness check's message.
// That message may carry internal detail (a PostgreSQL error naming its host
// and user, a file path) and goes to the log instead. A readiness check
// names the component by marking the status it returns; the mark is a
// status payload, so it travels through LIENTHONG_RETURN_IF_ERROR and copies.
//
//   LIENTHONG_RETURN_IF_ERROR(
//       admin::MarkNotReadyComponent(index->Ready(), "audit index"));
//   // /readyz: 503 "not ready: audit index unavailable"
//
// A library of its own (no libevent), for the code that builds the check.
#ifndef LIENTHONG_GATEWAY_ADMIN_READINESS_H_
#define LIENTHONG_GATEWAY_ADMIN_READINESS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lienthong::admin {

inline constexpr absl::string_view kNotReadyComponentTypeUrl =
    "lienthong/not-ready-component";

// Returns `status` marked as the failure of `component`, a fixed name such
// as "audit index" or "national system population" (shown to the network:
// no detail, secrets or personal data). An OK status is returned unchanged;
// a later mark replaces an earlier one. Thread-compatible.
absl::Status MarkNotReadyComponent(absl::Status status,
                                   absl::string_view component);

// Returns the /readyz body for the failed check `status`: "not ready:
// <component> unavailable" when it is marked with a component of at most 64
// letters, digits, spaces and ".-_", else "not ready" (an unmarked status,
// or a mark that could carry more than a name). Thread-safe.
// REQUIRES: !status.ok().
std::string NotReadyText(const absl::Status& status);

}  // namespace lienthong::admin

#endif  // LIENTHONG_GATEWAY_ADMIN_READINESS_H_
