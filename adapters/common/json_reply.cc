#include "adapters/common/json_reply.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::adapters {

bool NestedDeeperThan(absl::string_view json, int max_depth) {
  int depth = 0;
  char quote = 0;  // the open string's quote, or 0
  bool escaped = false;
  for (char c : json) {
    if (quote != 0) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

absl::Status ParseJsonReply(absl::string_view json,
                            google::protobuf::Message* message,
                            bool ignore_unknown_fields) {
  message->Clear();
  if (NestedDeeperThan(json, kMaxJsonReplyDepth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("nested more than ", kMaxJsonReplyDepth, " deep"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = ignore_unknown_fields;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), message,
           options)
           .ok()) {
    return absl::InvalidArgumentError("not JSON");
  }
  return absl::OkStatus();
}

}  // namespace lienthong::adapters
