#include "gateway/config/yaml_to_proto.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gateway/config/yaml_text.h"
#include "gateway/proto_util/deterministic.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/text.h"
#include "gateway/yaml/yaml_documents.h"
#include "google/protobuf/descriptor.h"

namespace lienthong::config::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

// Deeper than any sane config; also stops a self-referencing YAML alias.
constexpr int kMaxDepth = 32;
// More values than any config holds: YAML aliases repeat what they name
// without repeating its bytes, so a small file (under the loader's 4 MiB)
// could otherwise ask for billions of values and hold a reload for good.
constexpr int64_t kMaxValues = 500000;
// More text than any config holds, for the same reason: an alias of a
// megabyte string used a few hundred times, or a ${credential:...} of 64 KiB
// used thousands of times, would otherwise be copied for each use.
constexpr int64_t kMaxTextBytes = 16 << 20;
// Longest number echoed back in an out-of-range message.
constexpr size_t kMaxEchoedNumber = 32;

// Longest unknown key quoted in an error.
constexpr size_t kMaxQuotedKey = 64;

constexpr absl::string_view kAnyFullName = "google.protobuf.Any";
constexpr absl::string_view kAnyTypeUrlPrefix = "type.googleapis.com/";

// How many of `name`'s first bytes an error may show: letters, digits and
// the characters in `also`, at most kMaxQuotedKey. A key is shown up to its
// first other character, so that a value run into its key by a missing
// space (`secret:hunter2` is one plain scalar in YAML) never reaches an
// error message or a log.
size_t ShownKeyLength(const std::string& name, absl::string_view also) {
  size_t n = 0;
  while (n < name.size() && n < kMaxQuotedKey &&
         (absl::ascii_isalnum(static_cast<unsigned char>(name[n])) ||
          absl::StrContains(also, name[n]))) {
    ++n;
  }
  return n;
}

// An unknown key as an error quotes it. Field names are letters, digits
// and '_'.
std::string QuotedUnknownKey(const std::string& name) {
  const size_t n = ShownKeyLength(name, "_");
  if (n == name.size()) return absl::StrCat("'", name, "'");
  std::string quoted = absl::StrCat("'", name.substr(0, n), "...'");
  if (name[n] == ':') absl::StrAppend(&quoted, " (a space missing after ':'?)");
  return quoted;
}

// A map's key as paths and errors show it (`inputs[mother_id]`,
// `headers[X-Api-Key]`): cut, as an unknown key is, at the first character
// not in a name or header name, so `headers: {X-Api-Key:s3cret}` shows as
// `headers[X-Api-Key...]`.
std::string ShownMapKey(const std::string& key) {
  const size_t n = ShownKeyLength(key, "_-.");
  return n == key.size() ? key : absl::StrCat(key.substr(0, n), "...");
}

class Converter {
 public:
  Converter(const YamlToProtoOptions& options, PositionMap* positions)
      : options_(options), positions_(positions) {}

  absl::Status Root(const YAML::Node& root, Message* message) {
    if (KindOf(root) == Kind::kNull) return absl::OkStatus();
    return ParseMessage(root, message, "", 0);
  }

  absl::Status Error(const YAML::Mark& mark, absl::string_view what) const {
    if (mark.is_null() || mark.line < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.source_name, ": ", what));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(options_.source_name, ":", mark.line + 1, ":",
                     mark.column + 1, ": ", what));
  }

 private:
  absl::Status FieldError(const YAML::Mark& mark, absl::string_view path,
                          absl::string_view what) const {
    return Error(mark, absl::StrCat(PathName(path), ": ", what));
  }

  absl::Status TypeError(const YAML::Node& node, const YAML::Mark& mark,
                         absl::string_view path,
                         absl::string_view expected) const {
    return FieldError(
        mark, path,
        absl::StrCat("expected ", expected, ", got ", Describe(KindOf(node))));
  }

  void Remember(const std::string& path, const YAML::Mark& mark) {
    if (positions_ == nullptr || mark.is_null() || mark.line < 0) return;
    positions_->emplace(path, SourcePosition{mark.line + 1, mark.column + 1});
  }

  // Explicit tags other than the core schema's (!!str, !!int, ...) would
  // mean something to some other program; here they are a mistake. Never
  // quoted: an unquoted value that starts with '!' (`password: !S3cret`)
  // is read as a tag, and `!!S3cret` as the standard-looking
  // "tag:yaml.org,2002:S3cret".
  absl::Status CheckTag(const YAML::Node& node, const YAML::Mark& mark,
                        absl::string_view path) const {
    const std::string& tag = node.Tag();
    absl::string_view core = tag;
    if (tag.empty() || tag == "?" || tag == "!" ||
        (absl::ConsumePrefix(&core, kStandardTagPrefix) &&
         (core == "str" || core == "int" || core == "float" || core == "bool" ||
          core == "null" || core == "seq" || core == "map"))) {
      return absl::OkStatus();
    }
    return FieldError(mark, path,
                      "has a YAML tag ('!...'), which is not supported; quote "
                      "a value that starts with '!'");
  }

  // The mark to report for `value`: a null value (`key:`) has no useful
  // position of its own, so its key's is used.
  static YAML::Mark MarkOf(const YAML::Node& value, const YAML::Node& key) {
    if (value.IsNull() || value.Mark().is_null()) return key.Mark();
    return value.Mark();
  }

  absl::Status ParseMessage(const YAML::Node& node, Message* message,
                            const std::string& path, int depth) {
    return ParseMessageAt(node, node.Mark(), message, path, depth);
  }

  absl::Status ParseMessageAt(const YAML::Node& node, const YAML::Mark& mark,
                              Message* message, const std::string& path,
                              int depth) {
    if (depth > kMaxDepth) return FieldError(mark, path, "nested too deeply");
    LIENTHONG_RETURN_IF_ERROR(CountValue(mark, path));
    LIENTHONG_RETURN_IF_ERROR(CheckTag(node, mark, path));
    if (!node.IsMap()) return TypeError(node, mark, path, "a map");
    const Descriptor* descriptor = message->GetDescriptor();

    struct Entry {
      YAML::Node key;
      YAML::Node value;
      const FieldDescriptor* field;
    };
    std::vector<Entry> entries;
    std::map<std::string, YAML::Mark> seen;
    std::map<const OneofDescriptor*, std::string> oneof_member;
    for (YAML::const_iterator it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        return Error(key.Mark(), absl::StrCat("keys in ", PathName(path),
                                              " must be field names, got ",
                                              Describe(KindOf(key))));
      }
      const std::string& name = key.Scalar();
      const FieldDescriptor* field = descriptor->FindFieldByName(name);
      if (field == nullptr) {
        return Error(key.Mark(),
                     absl::StrCat("unknown key ", QuotedUnknownKey(name), " in ",
                                  PathName(path), " (known keys: ",
                                  KnownKeys(descriptor), ")"));
      }
      auto [previous, inserted] = seen.emplace(name, key.Mark());
      if (!inserted) {
        return Error(
            key.Mark(),
            absl::StrCat("duplicate key '", name, "' in ", PathName(path),
                         " (first at line ", previous->second.line + 1, ")"));
      }
      if (const OneofDescriptor* oneof = field->real_containing_oneof();
          oneof != nullptr && !value.IsNull()) {
        auto [other, first] = oneof_member.emplace(oneof, name);
        if (!first) {
          return Error(key.Mark(), absl::StrCat("'", other->second, "' and '",
                                                name, "' in ", PathName(path),
                                                " exclude each other (oneof ",
                                                oneof->name(), "): give one"));
        }
      }
      Remember(ChildPath(path, name), key.Mark());
      entries.push_back({key, value, field});
    }

    // Any fields last: they need the sibling `type` already read.
    for (const Entry& entry : entries) {
      if (IsAny(entry.field)) continue;
      LIENTHONG_RETURN_IF_ERROR(ParseField(entry.key, entry.value, message,
                                           entry.field, path, depth));
    }
    for (const Entry& entry : entries) {
      if (!IsAny(entry.field)) continue;
      const Entry* type_entry = nullptr;
      for (const Entry& e : entries) {
        if (e.field->name() == "type") type_entry = &e;
      }
      LIENTHONG_RETURN_IF_ERROR(ParseAny(
          entry.key, entry.value,
          type_entry == nullptr ? YAML::Mark::null_mark()
                                : MarkOf(type_entry->value, type_entry->key),
          message, entry.field, path, depth));
    }
    return absl::OkStatus();
  }

  static bool IsAny(const FieldDescriptor* field) {
    return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
           !field->is_repeated() &&
           field->message_type()->full_name() == kAnyFullName;
  }

  absl::Status ParseField(const YAML::Node& key, const YAML::Node& value,
                          Message* message, const FieldDescriptor* field,
                          const std::string& parent_path, int depth) {
    const std::string path = ChildPath(parent_path, field->name());
    const YAML::Mark mark = MarkOf(value, key);
    LIENTHONG_RETURN_IF_ERROR(CheckTag(value, mark, path));
    if (value.IsNull()) return absl::OkStatus();  // "key:" leaves it unset
    if (field->is_map())
      return ParseMapField(value, message, field, path, depth);
    if (field->is_repeated()) {
      if (!value.IsSequence()) {
        return TypeError(value, mark, path, "a list");
      }
      size_t index = 0;
      for (YAML::const_iterator it = value.begin(); it != value.end();
           ++it, ++index) {
        const YAML::Node item = *it;
        const std::string item_path = absl::StrCat(path, "[", index, "]");
        const YAML::Mark item_mark = item.Mark().is_null() ? mark : item.Mark();
        Remember(item_path, item_mark);
        LIENTHONG_RETURN_IF_ERROR(CheckTag(item, item_mark, item_path));
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          Message* child = message->GetReflection()->AddMessage(message, field);
          LIENTHONG_RETURN_IF_ERROR(
              ParseMessageAt(item, item_mark, child, item_path, depth + 1));
        } else {
          LIENTHONG_RETURN_IF_ERROR(
              ParseScalar(item, item_mark, message, field, item_path));
        }
      }
      return absl::OkStatus();
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Message* child = message->GetReflection()->MutableMessage(message, field);
      return ParseMessageAt(value, mark, child, path, depth + 1);
    }
    return ParseScalar(value, mark, message, field, path);
  }

  // A proto map<K, V> written as a YAML map.
  absl::Status ParseMapField(const YAML::Node& value, Message* message,
                             const FieldDescriptor* field,
                             const std::string& path, int depth) {
    if (!value.IsMap()) return TypeError(value, value.Mark(), path, "a map");
    const FieldDescriptor* key_field = field->message_type()->map_key();
    const FieldDescriptor* value_field = field->message_type()->map_value();
    std::map<std::string, YAML::Mark> seen;
    for (YAML::const_iterator it = value.begin(); it != value.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node item = it->second;
      if (!key.IsScalar()) {
        return TypeError(key, key.Mark(), path, "scalar keys");
      }
      auto [previous, inserted] = seen.emplace(key.Scalar(), key.Mark());
      const std::string shown = ShownMapKey(key.Scalar());
      if (!inserted) {
        return Error(key.Mark(), absl::StrCat("duplicate key '", shown, "' in ",
                                              path, " (first at line ",
                                              previous->second.line + 1, ")"));
      }
      const std::string item_path = absl::StrCat(path, "[", shown, "]");
      Remember(item_path, key.Mark());
      Message* entry = message->GetReflection()->AddMessage(message, field);
      LIENTHONG_RETURN_IF_ERROR(
          ParseScalar(key, key.Mark(), entry, key_field, item_path));
      const YAML::Mark item_mark = MarkOf(item, key);
      LIENTHONG_RETURN_IF_ERROR(CheckTag(item, item_mark, item_path));
      if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        Message* child =
            entry->GetReflection()->MutableMessage(entry, value_field);
        if (item.IsNull()) continue;
        LIENTHONG_RETURN_IF_ERROR(
            ParseMessageAt(item, item_mark, child, item_path, depth + 1));
      } else {
        LIENTHONG_RETURN_IF_ERROR(
            ParseScalar(item, item_mark, entry, value_field, item_path));
      }
    }
    return absl::OkStatus();
  }

  // A google.protobuf.Any: the message the resolver names for the sibling
  // `type`, written inline, then packed.
  absl::Status ParseAny(const YAML::Node& key, const YAML::Node& value,
                        const YAML::Mark& type_mark, Message* message,
                        const FieldDescriptor* field,
                        const std::string& parent_path, int depth) {
    const std::string path = ChildPath(parent_path, field->name());
    const YAML::Mark mark = MarkOf(value, key);
    LIENTHONG_RETURN_IF_ERROR(CheckTag(value, mark, path));
    if (value.IsNull()) return absl::OkStatus();
    const Descriptor* descriptor = message->GetDescriptor();
    const FieldDescriptor* type_field = descriptor->FindFieldByName("type");
    if (type_field == nullptr ||
        type_field->cpp_type() != FieldDescriptor::CPPTYPE_STRING ||
        type_field->is_repeated()) {
      return FieldError(key.Mark(), path,
                        absl::StrCat(descriptor->full_name(),
                                     " has no string field 'type' that "
                                     "names this field's message"));
    }
    const std::string type =
        message->GetReflection()->GetString(*message, type_field);
    const std::string type_path = ChildPath(parent_path, "type");
    if (type.empty()) {
      return FieldError(key.Mark(), path,
                        "needs a 'type' beside it naming the adapter type");
    }
    std::unique_ptr<Message> typed;
    if (options_.any_resolver) typed = options_.any_resolver(type);
    if (typed == nullptr) {
      return FieldError(type_mark.is_null() ? key.Mark() : type_mark, type_path,
                        absl::StrCat("unknown adapter type '", type, "'"));
    }
    LIENTHONG_RETURN_IF_ERROR(
        ParseMessageAt(value, mark, typed.get(), path, depth + 1));

    Message* any = message->GetReflection()->MutableMessage(message, field);
    const Descriptor* any_descriptor = any->GetDescriptor();
    const FieldDescriptor* type_url =
        any_descriptor->FindFieldByName("type_url");
    const FieldDescriptor* bytes = any_descriptor->FindFieldByName("value");
    // Deterministic (a map's entries in key order): the runtime tells an
    // unchanged adapter on a reload by these bytes, and keeps its breaker.
    std::string serialized;
    if (type_url == nullptr || bytes == nullptr ||
        !proto_util::AppendDeterministic(*typed, &serialized)) {
      return absl::InternalError(
          absl::StrCat(options_.source_name, ": ", path, ": cannot pack ",
                       typed->GetDescriptor()->full_name()));
    }
    any->GetReflection()->SetString(
        any, type_url,
        absl::StrCat(kAnyTypeUrlPrefix, typed->GetDescriptor()->full_name()));
    any->GetReflection()->SetString(any, bytes, std::move(serialized));
    return absl::OkStatus();
  }

  // One scalar: a singular field's value, or an item appended to a repeated
  // field (or a map entry's key or value).
  // Counts one more value read (aliases included), refusing past kMaxValues.
  absl::Status CountValue(const YAML::Mark& mark, const std::string& path) {
    if (++values_ <= kMaxValues) return absl::OkStatus();
    return FieldError(mark, path,
                      absl::StrCat("the config holds more than ", kMaxValues,
                                   " values (counting each use of a YAML "
                                   "alias)"));
  }

  // Counts `bytes` more of text read, refusing past kMaxTextBytes.
  absl::Status CountText(size_t bytes, const YAML::Mark& mark,
                         const std::string& path) {
    text_bytes_ += static_cast<int64_t>(bytes);
    if (text_bytes_ <= kMaxTextBytes) return absl::OkStatus();
    return FieldError(mark, path,
                      absl::StrCat("the config's text comes to more than ",
                                   kMaxTextBytes >> 20,
                                   " MiB (counting each use of a YAML alias "
                                   "and each ${...} substituted)"));
  }

  absl::Status ParseScalar(const YAML::Node& node, const YAML::Mark& mark,
                           Message* message, const FieldDescriptor* field,
                           const std::string& path) {
    LIENTHONG_RETURN_IF_ERROR(CountValue(mark, path));
    const Reflection* r = message->GetReflection();
    const bool repeated = field->is_repeated();
    const Kind kind = KindOf(node);
    if (kind == Kind::kNull || kind == Kind::kMap || kind == Kind::kList) {
      return TypeError(node, mark, path, Expected(field));
    }
    const std::string& text = node.Scalar();
    LIENTHONG_RETURN_IF_ERROR(CountText(text.size(), mark, path));
    auto out_of_range = [&](absl::string_view range) {
      std::string shown =
          text.size() > kMaxEchoedNumber
              ? absl::StrCat(text.substr(0, kMaxEchoedNumber), "...")
              : text;
      return FieldError(mark, path,
                        absl::StrCat(shown, " is out of range (", range, ")"));
    };

    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string value = text;
        if (field->type() == FieldDescriptor::TYPE_STRING) {
          auto substituted = SubstituteEnvironment(
              text, options_.getenv ? options_.getenv : GetenvLookup);
          if (!substituted.ok()) {
            return FieldError(mark, path, substituted.status().message());
          }
          value = *std::move(substituted);
          if (value.size() > text.size()) {
            LIENTHONG_RETURN_IF_ERROR(
                CountText(value.size() - text.size(), mark, path));
          }
          if (validation::FindInvalidUtf8(value) != value.size()) {
            return FieldError(mark, path, "is not valid UTF-8");
          }
          // Paths in *_file and *_dir fields are relative to the config
          // file. "off" turns a file off where a field allows it
          // (audit.anchor_file): not a path.
          if ((absl::EndsWith(field->name(), "_file") ||
               absl::EndsWith(field->name(), "_dir")) &&
              !value.empty() && value[0] != '/' && value != "off" &&
              !options_.base_dir.empty()) {
            value = JoinPath(options_.base_dir, value);
          }
        }
        repeated ? r->AddString(message, field, std::move(value))
                 : r->SetString(message, field, std::move(value));
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        if (kind != Kind::kBoolean) {
          return TypeError(node, mark, path, Expected(field));
        }
        const bool value = *BooleanFromText(text);
        repeated ? r->AddBool(message, field, value)
                 : r->SetBool(message, field, value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        if (kind != Kind::kInteger) {
          return TypeError(node, mark, path, Expected(field));
        }
        int64_t value;
        const bool is32 = field->cpp_type() == FieldDescriptor::CPPTYPE_INT32;
        const absl::string_view range =
            is32 ? "-2147483648 to 2147483647"
                 : "-9223372036854775808 to 9223372036854775807";
        if (!absl::SimpleAtoi(text, &value)) return out_of_range(range);
        if (is32) {
          if (value < std::numeric_limits<int32_t>::min() ||
              value > std::numeric_limits<int32_t>::max()) {
            return out_of_range(range);
          }
          repeated ? r->AddInt32(message, field, static_cast<int32_t>(value))
                   : r->SetInt32(message, field, static_cast<int32_t>(value));
        } else {
          repeated ? r->AddInt64(message, field, value)
                   : r->SetInt64(message, field, value);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        if (kind != Kind::kInteger) {
          return TypeError(node, mark, path, Expected(field));
        }
        const bool is32 = field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32;
        const absl::string_view range =
            is32 ? "0 to 4294967295" : "0 to 18446744073709551615";
        uint64_t value;
        if (text[0] == '-' || !absl::SimpleAtoi(text, &value)) {
          return out_of_range(range);
        }
        if (is32) {
          if (value > std::numeric_limits<uint32_t>::max()) {
            return out_of_range(range);
          }
          repeated ? r->AddUInt32(message, field, static_cast<uint32_t>(value))
                   : r->SetUInt32(message, field, static_cast<uint32_t>(value));
        } else {
          repeated ? r->AddUInt64(message, field, value)
                   : r->SetUInt64(message, field, value);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        if (kind != Kind::kInteger && kind != Kind::kNumber) {
          return TypeError(node, mark, path, Expected(field));
        }
        double value;
        if (IsSpecialFloatText(text)) {
          const bool negative = text[0] == '-';
          value = absl::StrContains(absl::AsciiStrToLower(text), "nan")
                      ? std::numeric_limits<double>::quiet_NaN()
                      : (negative ? -std::numeric_limits<double>::infinity()
                                  : std::numeric_limits<double>::infinity());
        } else if (!absl::SimpleAtod(text, &value) || std::isinf(value)) {
          return out_of_range("a double");
        }
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          repeated ? r->AddDouble(message, field, value)
                   : r->SetDouble(message, field, value);
        } else {
          if (std::isfinite(value) &&
              std::fabs(value) > std::numeric_limits<float>::max()) {
            return out_of_range("a float");
          }
          repeated ? r->AddFloat(message, field, static_cast<float>(value))
                   : r->SetFloat(message, field, static_cast<float>(value));
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const EnumDescriptor* type = field->enum_type();
        const EnumValueDescriptor* value =
            kind == Kind::kString ? type->FindValueByName(text) : nullptr;
        if (value == nullptr) {
          // The value is not echoed: it is a string, and strings can be
          // secrets pasted into the wrong line.
          return FieldError(
              mark, path,
              absl::StrCat(
                  "expected one of ", EnumValueNames(type), ", got ",
                  kind == Kind::kString ? "another string" : Describe(kind)));
        }
        repeated ? r->AddEnum(message, field, value)
                 : r->SetEnum(message, field, value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return TypeError(node, mark, path, Expected(field));
  }

  const YamlToProtoOptions& options_;
  PositionMap* positions_;
  int64_t values_ = 0;
  int64_t text_bytes_ = 0;
};

}  // namespace

absl::Status ParseYamlIntoMessage(absl::string_view yaml,
                                  const YamlToProtoOptions& options,
                                  google::protobuf::Message* message,
                                  PositionMap* positions) {
  message->Clear();
  if (positions != nullptr) positions->clear();
  Converter converter(options, positions);
  // yaml-cpp reports errors by exception; none may leave this function.
  try {
    const std::string text(yaml);
    const yaml::DocumentScan scan = yaml::ScanDocuments(text);
    if (scan.documents == yaml::Documents::kNone) return absl::OkStatus();
    if (absl::string_view problem = yaml::DocumentProblem(scan.documents);
        !problem.empty()) {
      return converter.Error(scan.where, problem);
    }
    return converter.Root(YAML::Load(text), message);
  } catch (const YAML::ParserException& e) {
    return converter.Error(e.mark, absl::StrCat("YAML syntax error: ", e.msg));
  } catch (const YAML::Exception& e) {
    return converter.Error(e.mark, absl::StrCat("YAML error: ", e.msg));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(
        options.source_name, ": unexpected error reading YAML: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat(options.source_name, ": unexpected error reading YAML"));
  }
}

}  // namespace lienthong::config::internal
