#include "adapters/ministry_rest_json/json_pointer.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gateway/validation/text.h"

namespace lienthong::adapters::ministry_rest_json {
namespace {

// An array index as RFC 6901 writes one: "0" or digits without a leading
// zero.
std::optional<size_t> ArrayIndex(absl::string_view token) {
  if (token.empty() || token.size() > 9) return std::nullopt;
  if (token.size() > 1 && token[0] == '0') return std::nullopt;
  size_t index = 0;
  for (char c : token) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
    index = index * 10 + static_cast<size_t>(c - '0');
  }
  return index;
}

constexpr double kTwoTo53 = 9007199254740992.0;

// `number` as the shortest of %.15g, %.16g and %.17g that reads back as
// the same double (%.17g always does): 0.1 is "0.1", not
// "0.10000000000000001".
std::string ShortestText(double number) {
  for (int precision : {15, 16}) {
    std::string text = absl::StrFormat("%.*g", precision, number);
    double back = 0;
    if (absl::SimpleAtod(text, &back) && back == number) return text;
  }
  return absl::StrFormat("%.17g", number);
}

}  // namespace

absl::StatusOr<JsonPointer> JsonPointer::Parse(absl::string_view text) {
  JsonPointer pointer;
  pointer.text_ = std::string(text);
  if (text.empty()) return pointer;
  if (text[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON pointer '", text, "' must start with /"));
  }
  for (absl::string_view raw : absl::StrSplit(text.substr(1), '/')) {
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token.push_back(raw[i]);
      } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token.push_back(raw[i + 1] == '0' ? '~' : '/');
        ++i;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "JSON pointer '", text, "': '~' must be followed by 0 or 1"));
      }
    }
    pointer.tokens_.push_back(std::move(token));
  }
  return pointer;
}

const google::protobuf::Value* JsonPointer::Resolve(
    const google::protobuf::Value& root) const {
  const google::protobuf::Value* at = &root;
  for (const std::string& token : tokens_) {
    if (at->has_struct_value()) {
      const auto& fields = at->struct_value().fields();
      auto it = fields.find(token);
      if (it == fields.end()) return nullptr;
      at = &it->second;
    } else if (at->has_list_value()) {
      std::optional<size_t> index = ArrayIndex(token);
      const auto& values = at->list_value().values();
      if (!index.has_value() || *index >= static_cast<size_t>(values.size())) {
        return nullptr;
      }
      at = &values.Get(static_cast<int>(*index));
    } else {
      return nullptr;
    }
  }
  return at;
}

absl::StatusOr<std::optional<std::string>> ScalarText(
    const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue: {
      // The JSON parser decodes \u0000 and \u001b into the text: a NUL
      // would cut an ID short where it is read as a C string, an escape
      // sequence would reach a terminal.
      const std::string& text = value.string_value();
      if (!validation::ValidateText(text, kMaxScalarTextBytes,
                                    /*multiline=*/true)
               .ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "a string that is not text (control characters, invalid UTF-8 "
            "or over ",
            kMaxScalarTextBytes, " bytes)"));
      }
      return std::optional<std::string>(text);
    }
    case google::protobuf::Value::kNumberValue: {
      const double number = value.number_value();
      if (std::trunc(number) == number) {
        // From 2^53 on, doubles skip integers: the parser may already have
        // changed the digits the system sent.
        if (std::fabs(number) >= kTwoTo53) {
          return absl::InvalidArgumentError(
              "an integer of 2^53 or more, which cannot be carried exactly");
        }
        return std::optional<std::string>(absl::StrFormat("%.0f", number));
      }
      return std::optional<std::string>(ShortestText(number));
    }
    case google::protobuf::Value::kBoolValue:
      return std::optional<std::string>(value.bool_value() ? "true" : "false");
    case google::protobuf::Value::kNullValue:
    case google::protobuf::Value::KIND_NOT_SET:
      return std::optional<std::string>();
    case google::protobuf::Value::kStructValue:
      return absl::InvalidArgumentError("an object, not a scalar");
    case google::protobuf::Value::kListValue:
      return absl::InvalidArgumentError("an array, not a scalar");
  }
  return absl::InvalidArgumentError("an unknown JSON kind");
}

}  // namespace lienthong::adapters::ministry_rest_json
