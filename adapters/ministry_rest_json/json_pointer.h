// JSON pointers (RFC 6901) over google::protobuf::Value: parsed once from
// the config, resolved against each reply.
#ifndef LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_JSON_POINTER_H_
#define LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_JSON_POINTER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace lienthong::adapters::ministry_rest_json {

class JsonPointer {
 public:
  // Parses `text`: "" (the whole document) or "/"-separated reference
  // tokens with "~1" for "/" and "~0" for "~". Fails with INVALID_ARGUMENT
  // for text not starting with "/" or a "~" not followed by 0 or 1.
  static absl::StatusOr<JsonPointer> Parse(absl::string_view text);

  // Returns the value `root` holds at this pointer, or nullptr when there
  // is none: a missing member, an index that is not a decimal without
  // leading zeros, past the end, or "-", or a step into a scalar.
  const google::protobuf::Value* Resolve(
      const google::protobuf::Value& root) const;

  // The pointer as written, for messages.
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> tokens_;
};

// The longest string ScalarText takes.
inline constexpr size_t kMaxScalarTextBytes = 65536;

// Returns a scalar as record text: a string as it is, a number as an
// integer (no exponent, no decimals) when it is one, else the shortest
// decimal that reads back as the same double, true/false; nullopt for
// null. Fails with INVALID_ARGUMENT for an object or array, a string that
// is not text (validation::ValidateText, multi-line: control characters
// but tab and line breaks, or over kMaxScalarTextBytes), and for an
// integer of magnitude 2^53 or more (a double cannot hold every such
// integer, so the digits sent may already be lost).
absl::StatusOr<std::optional<std::string>> ScalarText(
    const google::protobuf::Value& value);

}  // namespace lienthong::adapters::ministry_rest_json

#endif  // LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_JSON_POINTER_H_
