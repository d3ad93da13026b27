// Fields a message's type does not declare, which proto3 keeps when it
// parses: the gateway passes on only what it knows.
#ifndef LIENTHONG_GATEWAY_PROTO_UTIL_UNKNOWN_FIELDS_H_
#define LIENTHONG_GATEWAY_PROTO_UTIL_UNKNOWN_FIELDS_H_

#include "google/protobuf/message.h"

namespace lienthong::proto_util {

// True when `message`, or a message inside it, holds unknown fields. Does
// not look into google.protobuf.Any's bytes (nor does protobuf's
// DiscardUnknownFields).
bool HasUnknownFields(const google::protobuf::Message& message);

// message->DiscardUnknownFields(), which walks every set field by
// reflection, only when there is something to discard: the usual message
// costs one look at each message-typed field.
void DiscardUnknownFields(google::protobuf::Message* message);

}  // namespace lienthong::proto_util

#endif  // LIENTHONG_GATEWAY_PROTO_UTIL_UNKNOWN_FIELDS_H_
