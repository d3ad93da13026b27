// A message's bytes as the same content always gives them: protobuf's plain
// serialization writes a map's entries in hash order, which differs from one
// instance (and process) to the next. For bytes that are compared, hashed
// or sent again under an idempotency key.
#ifndef LIENTHONG_GATEWAY_PROTO_UTIL_DETERMINISTIC_H_
#define LIENTHONG_GATEWAY_PROTO_UTIL_DETERMINISTIC_H_

#include <string>

#include "google/protobuf/message.h"

namespace lienthong::proto_util {

// Appends `message` serialized deterministically (map entries in key order)
// to `*out`. Returns false when protobuf cannot serialize it (a message
// over 2 GiB). Thread-safe as far as `message` is.
bool AppendDeterministic(const google::protobuf::Message& message,
                         std::string* out);

}  // namespace lienthong::proto_util

#endif  // LIENTHONG_GATEWAY_PROTO_UTIL_DETERMINISTIC_H_
