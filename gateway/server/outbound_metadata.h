// The one way a value from outside the gateway (a national system's reply,
// a caller's request) goes into the gRPC metadata the gateway sends. gRPC
// C++ 1.51 aborts the whole process on a header value it considers illegal
// (a tab, a non-ASCII letter), so every such value is checked here first,
// and one that does not pass is dropped and counted instead.
#ifndef LIENTHONG_GATEWAY_SERVER_OUTBOUND_METADATA_H_
#define LIENTHONG_GATEWAY_SERVER_OUTBOUND_METADATA_H_

#include "absl/strings/string_view.h"
#include "gateway/metrics/registry.h"
#include "grpcpp/server_context.h"

namespace lienthong::server {

// Longest metadata value the gateway passes on.
inline constexpr size_t kMaxMetadataValueBytes = 128;

// Returns true when `value` matches [A-Za-z0-9._:-]{1,128}: the only values
// the gateway puts into metadata it sends. Thread-safe.
bool IsSafeMetadataValue(absl::string_view value);

// Adds `key: value` to the call's trailing metadata when `value` is safe
// (IsSafeMetadataValue) and returns true; otherwise adds nothing, increments
// `dropped` (labels {key}; may be null) and returns false. `key` must be a
// constant of the gateway's own (lower case, no "-bin" suffix). Not for
// values the gateway made itself that are known to be safe, though those
// pass too. Thread-safe as far as `ctx` is (call before the call is
// finished).
bool AddCheckedTrailingMetadata(grpc::ServerContextBase& ctx,
                                absl::string_view key, absl::string_view value,
                                metrics::Family<metrics::Counter>* dropped);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_OUTBOUND_METADATA_H_
