// Text the gateway sends or logs, kept to a stated size: status messages
// (at most kMaxStatusMessageBytes on the wire) and lists in error messages
// (the first few items and how many more).
#ifndef LIENTHONG_GATEWAY_STATUS_BOUNDED_TEXT_H_
#define LIENTHONG_GATEWAY_STATUS_BOUNDED_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace lienthong {

// Largest grpc-message the gateway sends, bytes as sent (percent-encoded):
// 7 KiB, so that the whole trailer block (grpc-status, grpc-message, the
// gateway's own trailers, each counted with HPACK's 32 bytes) stays under
// 8 KiB, the default limit of gRPC clients (C++ and grpc-js refuse a larger
// block: the caller would see no status at all).
inline constexpr size_t kMaxStatusMessageBytes = 7 * 1024;

// Returns the longest prefix of `text` of at most `max_bytes` bytes that does
// not end inside a UTF-8 sequence (a prefix of invalid UTF-8 is cut the
// same way, by lead bytes). Thread-safe.
absl::string_view TruncateUtf8(absl::string_view text, size_t max_bytes);

// Returns `text` when it has at most `max_bytes` bytes; otherwise its
// longest prefix that, followed by "…" (3 bytes), fits in `max_bytes`, cut
// at a UTF-8 boundary. Thread-safe. REQUIRES: max_bytes >= 3.
std::string CutWithEllipsis(absl::string_view text, size_t max_bytes);

// Returns `message` unchanged when gRPC's percent-encoding of it (every
// byte outside 0x20..0x7E, and '%', takes three) fits in `max_encoded_bytes`;
// otherwise its longest prefix that, followed by " [truncated]", fits, cut
// at a UTF-8 boundary. Thread-safe.
std::string BoundStatusMessage(absl::string_view message,
                               size_t max_encoded_bytes = kMaxStatusMessageBytes);

// Returns "a, b, c" for at most `shown` items, else the first `shown` and
// " and N more" ("a, b, c and 7 more"); each item cut to 128 bytes.
// Thread-safe.
std::string CappedList(absl::Span<const std::string> items, size_t shown = 5);

}  // namespace lienthong

#endif  // LIENTHONG_GATEWAY_STATUS_BOUNDED_TEXT_H_
