// Reading the JSON objects of JOSE (JWS headers, JWT claims) through
// protobuf's JSON parser into google.protobuf.Struct: the one JSON parser of
// the tree. A member is looked up with its expected type; a member of the
// wrong type is an error, an absent one is not.
//
// Thread-safe; keeps no state. Messages name the member, never its value.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_JSON_OBJECT_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_JSON_OBJECT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"

namespace lienthong::adapters::vneid {

using JsonObject = google::protobuf::Struct;

// Parses `json` as one JSON object. Fails with INVALID_ARGUMENT "not a JSON
// object" for anything else (bad UTF-8 and syntax errors included).
absl::StatusOr<JsonObject> ParseJsonObject(absl::string_view json);

// Parses `json` into `message` (a fixed-shape document such as the token
// answer), ignoring members the message does not know. Returns false for
// anything protobuf's parser refuses, including an empty text.
bool ParseJsonInto(absl::string_view json, google::protobuf::Message* message);

// The string member `name`: nullopt when absent or null; INVALID_ARGUMENT
// "<name> is not a string" when present with another type.
absl::StatusOr<std::optional<std::string>> StringMember(
    const JsonObject& o, const std::string& name);

// The number member `name`: nullopt when absent or null; INVALID_ARGUMENT
// "<name> is not a number" when present with another type.
absl::StatusOr<std::optional<double>> NumberMember(const JsonObject& o,
                                                   const std::string& name);

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_JSON_OBJECT_H_
