#include "tests/national_sim/sim_json.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/log/log.h"

namespace lienthong::sim {
namespace {

using google::protobuf::Value;

std::string ValueText(const Value& v) {
  switch (v.kind_case()) {
    case Value::kStringValue:
      return v.string_value();
    case Value::kNumberValue: {
      double d = v.number_value();
      if (std::floor(d) == d && std::fabs(d) < 1e15) {
        return absl::StrCat(static_cast<int64_t>(d));
      }
      return absl::StrCat(d);
    }
    case Value::kBoolValue:
      return v.bool_value() ? "true" : "false";
    default:
      return "";
  }
}

}  // namespace

std::string JsonQuote(absl::string_view s) {
  return absl::StrCat("\"", log::JsonEscape(s), "\"");
}

absl::StatusOr<JsonObject> ParseJsonObject(absl::string_view json) {
  JsonObject object;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json),
                                                            &object, options);
  if (!status.ok())
    return absl::InvalidArgumentError("body is not a JSON object");
  return object;
}

bool JsonHas(const JsonObject& o, const std::string& key) {
  auto it = o.fields().find(key);
  return it != o.fields().end() && it->second.kind_case() != Value::kNullValue;
}

std::string JsonText(const JsonObject& o, const std::string& key) {
  auto it = o.fields().find(key);
  return it == o.fields().end() ? "" : ValueText(it->second);
}

std::optional<double> JsonNumber(const JsonObject& o, const std::string& key) {
  auto it = o.fields().find(key);
  if (it == o.fields().end()) return std::nullopt;
  if (it->second.kind_case() == Value::kNumberValue) {
    return it->second.number_value();
  }
  double d;
  if (it->second.kind_case() == Value::kStringValue &&
      absl::SimpleAtod(it->second.string_value(), &d)) {
    return d;
  }
  return std::nullopt;
}

std::optional<bool> JsonBool(const JsonObject& o, const std::string& key) {
  auto it = o.fields().find(key);
  if (it == o.fields().end() || it->second.kind_case() != Value::kBoolValue) {
    return std::nullopt;
  }
  return it->second.bool_value();
}

std::vector<std::string> JsonTexts(const JsonObject& o,
                                   const std::string& key) {
  std::vector<std::string> out;
  auto it = o.fields().find(key);
  if (it == o.fields().end()) return out;
  if (it->second.kind_case() != Value::kListValue) {
    if (JsonHas(o, key)) out.push_back(ValueText(it->second));
    return out;
  }
  for (const Value& v : it->second.list_value().values()) {
    out.push_back(ValueText(v));
  }
  return out;
}

std::optional<std::vector<JsonObject>> JsonObjects(const JsonObject& o,
                                                   const std::string& key) {
  auto it = o.fields().find(key);
  if (it == o.fields().end() || it->second.kind_case() != Value::kListValue) {
    return std::nullopt;
  }
  std::vector<JsonObject> out;
  for (const Value& v : it->second.list_value().values()) {
    if (v.kind_case() != Value::kStructValue) return std::nullopt;
    out.push_back(v.struct_value());
  }
  return out;
}

std::string ToJson(const JsonObject& o) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(o, &json).ok()) return "{}";
  return json;
}

}  // namespace lienthong::sim
