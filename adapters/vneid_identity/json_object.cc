#include "adapters/vneid_identity/json_object.h"

#include "absl/strings/str_cat.h"
#include "adapters/common/json_reply.h"

namespace lienthong::adapters::vneid {
namespace {

using google::protobuf::Value;

// The member `name`, or null when absent or JSON null.
const Value* Member(const JsonObject& o, const std::string& name) {
  auto it = o.fields().find(name);
  if (it == o.fields().end() || it->second.kind_case() == Value::kNullValue) {
    return nullptr;
  }
  return &it->second;
}

}  // namespace

absl::StatusOr<JsonObject> ParseJsonObject(absl::string_view json) {
  // Struct's parser takes any JSON value for a Struct only when it is an
  // object; a leading '{' keeps arrays and scalars out explicitly.
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == absl::string_view::npos || json[first] != '{') {
    return absl::InvalidArgumentError("not a JSON object");
  }
  JsonObject object;
  if (!ParseJsonReply(json, &object).ok()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return object;
}

bool ParseJsonInto(absl::string_view json, google::protobuf::Message* message) {
  if (json.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return false;
  }
  return ParseJsonReply(json, message, /*ignore_unknown_fields=*/true).ok();
}

absl::StatusOr<std::optional<std::string>> StringMember(
    const JsonObject& o, const std::string& name) {
  const Value* value = Member(o, name);
  if (value == nullptr) return std::optional<std::string>();
  if (value->kind_case() != Value::kStringValue) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not a string"));
  }
  return std::optional<std::string>(value->string_value());
}

absl::StatusOr<std::optional<double>> NumberMember(const JsonObject& o,
                                                   const std::string& name) {
  const Value* value = Member(o, name);
  if (value == nullptr) return std::optional<double>();
  if (value->kind_case() != Value::kNumberValue) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not a number"));
  }
  return std::optional<double>(value->number_value());
}

}  // namespace lienthong::adapters::vneid
