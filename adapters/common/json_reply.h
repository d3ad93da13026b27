// Another system's JSON reply read into a protobuf message (a Struct, a
// Value, or a message of the reply's own shape). Protobuf's JSON parser
// takes time far beyond linear in a reply's nesting (two replies of 20,000
// nested arrays took 22 s), on the HTTP client's one event thread that
// every national system's calls share; so a reply nested deeper than any
// real one is refused first, in one pass over its bytes.
#ifndef LIENTHONG_ADAPTERS_COMMON_JSON_REPLY_H_
#define LIENTHONG_ADAPTERS_COMMON_JSON_REPLY_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace lienthong::adapters {

// Deepest nesting of arrays and objects a reply may have: about what a
// google.protobuf.Struct holds (protobuf refuses a Struct nested over ~33
// deep, but only once it has parsed it all). The national systems' replies
// nest a few levels.
inline constexpr int kMaxJsonReplyDepth = 32;

// Returns whether `json` has arrays or objects nested more than `max_depth`
// deep. Brackets inside strings (double- or single-quoted: protobuf's
// parser takes both) do not count, nor closing brackets beyond the opened
// ones. Thread-safe.
bool NestedDeeperThan(absl::string_view json, int max_depth);

// Parses `json` into `message`, cleared first. INVALID_ARGUMENT "nested
// more than 32 deep" (NestedDeeperThan) or "not JSON" (nor of the message's
// shape; protobuf's reason is not kept: it quotes the reply); unknown
// members are refused unless `ignore_unknown_fields`. Thread-safe.
absl::Status ParseJsonReply(absl::string_view json,
                            google::protobuf::Message* message,
                            bool ignore_unknown_fields = false);

}  // namespace lienthong::adapters

#endif  // LIENTHONG_ADAPTERS_COMMON_JSON_REPLY_H_
