#include "gateway/config/yaml_text.h"

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace lienthong::config::internal {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

bool IsIntegerText(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsSpecialFloatText(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    text.remove_prefix(1);
  return text == ".inf" || text == ".Inf" || text == ".INF" || text == ".nan" ||
         text == ".NaN" || text == ".NAN";
}

// [-+]? ( digits [. digits?] | . digits ) ( [eE] [-+]? digits )?
bool IsNumberText(absl::string_view text) {
  if (IsSpecialFloatText(text)) return true;
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(text[i])))
      ++i;
    return i - start;
  };
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  size_t mantissa = digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

// YAML 1.2 core schema booleans; yes/no/on/off are plain strings there.
std::optional<bool> BooleanFromText(absl::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

// Quoted and block scalars carry the non-specific tag "!"; plain ones "?".
bool IsQuoted(const YAML::Node& node) {
  return node.Tag() == "!" ||
         node.Tag() == absl::StrCat(kStandardTagPrefix, "str");
}

Kind KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return Kind::kMap;
    case YAML::NodeType::Sequence:
      return Kind::kList;
    case YAML::NodeType::Scalar:
      break;
    default:
      return Kind::kNull;
  }
  if (IsQuoted(node)) return Kind::kString;
  const std::string& text = node.Scalar();
  if (IsIntegerText(text)) return Kind::kInteger;
  if (IsNumberText(text)) return Kind::kNumber;
  if (BooleanFromText(text).has_value()) return Kind::kBoolean;
  return Kind::kString;
}

absl::string_view Describe(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kMap:
      return "a map";
    case Kind::kList:
      return "a list";
    case Kind::kString:
      return "a string";
    case Kind::kInteger:
      return "an integer";
    case Kind::kNumber:
      return "a number";
    case Kind::kBoolean:
      return "a boolean";
  }
  return "something else";
}

std::string Expected(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true or false";
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return "an integer";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "a number";
    case FieldDescriptor::CPPTYPE_ENUM:
      return absl::StrCat("a value of ", field->enum_type()->full_name());
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "a map";
  }
  return "a value";
}

std::string EnumValueNames(const EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    names.push_back(type->value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

std::string KnownKeys(const Descriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->field_count(); ++i) {
    names.push_back(type->field(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int extra;
    uint32_t code_point;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code_point = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code_point = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code_point = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[extra] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string JoinPath(absl::string_view base, absl::string_view relative) {
  if (absl::EndsWith(base, "/")) return absl::StrCat(base, relative);
  return absl::StrCat(base, "/", relative);
}

std::string ChildPath(absl::string_view parent, absl::string_view field) {
  return parent.empty() ? std::string(field) : absl::StrCat(parent, ".", field);
}

// "listener.tls" or, for the root, "the top level".
std::string PathName(absl::string_view path) {
  return path.empty() ? "the top level" : std::string(path);
}

std::optional<std::string> GetenvLookup(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

absl::StatusOr<std::string> SubstituteEnvironment(
    absl::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>&
        lookup) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t dollar = text.find('$', pos);
    if (dollar == absl::string_view::npos) break;
    out.append(text.data() + pos, dollar - pos);
    absl::string_view rest = text.substr(dollar);
    if (absl::StartsWith(rest, "$${")) {  // escaped: a literal "${"
      out.append("${");
      pos = dollar + 3;
      continue;
    }
    if (!absl::StartsWith(rest, "${")) {  // a lone '$' is just a character
      out.push_back('$');
      pos = dollar + 1;
      continue;
    }
    const size_t close = rest.find('}');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "'${' without a closing '}' (write '$${' for a literal '${')");
    }
    const std::string name(rest.substr(2, close - 2));
    bool valid = !name.empty() &&
                 !absl::ascii_isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
        valid = false;
      }
    }
    if (!valid) {
      return absl::InvalidArgumentError(
          "'${...}' must hold an environment variable name (letters, digits "
          "and '_'; write '$${' for a literal '${')");
    }
    std::optional<std::string> value = lookup(name);
    if (!value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable '", name, "' is not set"));
    }
    out.append(*value);
    pos = dollar + close + 1;
  }
  if (pos < text.size()) out.append(text.data() + pos, text.size() - pos);
  return out;
}

}  // namespace lienthong::config::internal
