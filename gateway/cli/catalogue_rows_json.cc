// Catalogue rows from JSON (RFC 8259): an array of objects, or
// {"procedures": [...]} (declared in catalogue_rows.h). The parser keeps
// string bytes as they are, so that bad UTF-8 spoils one value of one row
// rather than the whole file.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/cli/catalogue_rows.h"

namespace lienthong::cli::catalogue_internal {
namespace {

// Catalogues are two levels deep; the bound only stops a hostile file from
// exhausting the stack.
constexpr int kMaxJsonDepth = 32;
// A procedure has a dozen fields; the bound stops a hostile file of one
// object with millions of keys (each held, and each an "unknown key"
// problem) from taking gigabytes.
constexpr size_t kMaxObjectMembers = 100;

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  // The string's bytes (escapes decoded) or the number's text.
  std::string text;
  // An array other than the rows keeps only what a list keeps (see
  // KeepListItem): not its empty strings, at most kMaxListEntries items.
  std::vector<JsonValue> items;
  // The items of such an array past those kept, empty strings not counted.
  size_t dropped_items = 0;
  std::vector<std::pair<std::string, JsonValue>> members;
  int line = 0;
  // An array item's place in its array, from 1.
  size_t position = 0;
};

const char* JsonTypeName(JsonValue::Type type) {
  switch (type) {
    case JsonValue::Type::kNull:
      return "null";
    case JsonValue::Type::kBool:
      return "a boolean";
    case JsonValue::Type::kNumber:
      return "a number";
    case JsonValue::Type::kString:
      return "a string";
    case JsonValue::Type::kArray:
      return "an array";
    case JsonValue::Type::kObject:
      return "an object";
  }
  return "a value";
}

void AppendUtf8(uint32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    // A lone surrogate escape (\uD800) comes out as the ill-formed three-byte
    // sequence, which FindInvalidUtf8 then reports against its row.
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

class JsonParser {
 public:
  explicit JsonParser(absl::string_view text) : text_(text) {}

  absl::Status Parse(JsonValue& value) {
    SkipSpace();
    if (!ParseValue(value, 0, /*holds_rows=*/true)) return error_;
    SkipSpace();
    if (pos_ < text_.size()) {
      Fail("unexpected text after the end of the JSON value");
      return error_;
    }
    return absl::OkStatus();
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  // Columns count characters, not bytes.
  int Column() const {
    return 1 + CodePointCount(text_.substr(line_start_, pos_ - line_start_));
  }

  bool Fail(absl::string_view what) {
    error_ = absl::InvalidArgumentError(
        absl::StrCat("line ", line_, ", column ", Column(), ": ", what));
    return false;
  }

  bool FailUnexpected(absl::string_view expected) {
    if (AtEnd()) {
      return Fail(absl::StrCat("unexpected end of file; expected ", expected));
    }
    const unsigned char c = static_cast<unsigned char>(Peek());
    std::string found = c >= 0x21 && c < 0x7F
                            ? absl::StrCat("'", std::string(1, Peek()), "'")
                            : absl::StrFormat("byte 0x%02X", c);
    return Fail(absl::StrCat("unexpected ", found, "; expected ", expected));
  }

  void SkipSpace() {
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  // `holds_rows`: an array here is the procedures (the top level, or the
  // top-level object's "procedures"), at most kMaxCatalogueRows of them.
  bool ParseValue(JsonValue& value, int depth, bool holds_rows = false) {
    if (depth > kMaxJsonDepth) return Fail("nested too deeply");
    if (AtEnd()) return FailUnexpected("a value");
    value.line = line_;
    const char c = Peek();
    switch (c) {
      case '{':
        return ParseObject(value, depth);
      case '[':
        return ParseArray(value, depth, holds_rows);
      case '"':
        value.type = JsonValue::Type::kString;
        return ParseString(value.text);
      case 't':
        value.type = JsonValue::Type::kBool;
        return ParseLiteral("true");
      case 'f':
        value.type = JsonValue::Type::kBool;
        return ParseLiteral("false");
      case 'n':
        value.type = JsonValue::Type::kNull;
        return ParseLiteral("null");
      default:
        if (c == '-' || absl::ascii_isdigit(static_cast<unsigned char>(c))) {
          value.type = JsonValue::Type::kNumber;
          return ParseNumber(value.text);
        }
        return FailUnexpected("a value");
    }
  }

  bool ParseLiteral(absl::string_view literal) {
    if (!absl::StartsWith(text_.substr(pos_), literal)) {
      return FailUnexpected("a value");
    }
    pos_ += literal.size();
    return true;
  }

  bool ParseNumber(std::string& out) {
    const size_t start = pos_;
    auto digits = [this] {
      const size_t from = pos_;
      while (!AtEnd() &&
             absl::ascii_isdigit(static_cast<unsigned char>(Peek())))
        ++pos_;
      return pos_ - from;
    };
    if (Peek() == '-') ++pos_;
    if (!AtEnd() && Peek() == '0') {
      ++pos_;
    } else if (digits() == 0) {
      return FailUnexpected("a digit");
    }
    if (!AtEnd() && Peek() == '.') {
      ++pos_;
      if (digits() == 0) return FailUnexpected("a digit");
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (digits() == 0) return FailUnexpected("a digit");
    }
    out = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  bool ParseHex4(uint32_t& out) {
    if (text_.size() - pos_ < 4) return Fail("incomplete \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_ + i];
      uint32_t digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return Fail("\\u must be followed by 4 hexadecimal digits");
      }
      out = out * 16 + digit;
    }
    pos_ += 4;
    return true;
  }

  // REQUIRES: Peek() == '"'.
  bool ParseString(std::string& out) {
    ++pos_;
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Fail(
            "control character or line break inside a string (write it as "
            "an escape such as \\n)");
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (AtEnd()) break;
      if (!ParseEscape(out)) return false;
    }
    return Fail("unterminated string");
  }

  // The escape after a backslash, appended to `out` decoded.
  // REQUIRES: !AtEnd().
  bool ParseEscape(std::string& out) {
    const char escape = Peek();
    ++pos_;
    switch (escape) {
      case '"':
      case '\\':
      case '/':
        out.push_back(escape);
        return true;
      case 'b':
        out.push_back('\b');
        return true;
      case 'f':
        out.push_back('\f');
        return true;
      case 'n':
        out.push_back('\n');
        return true;
      case 'r':
        out.push_back('\r');
        return true;
      case 't':
        out.push_back('\t');
        return true;
      case 'u':
        return ParseUnicodeEscape(out);
      default:
        --pos_;
        return FailUnexpected(
            "an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
            "or \\uXXXX");
    }
  }

  // \uXXXX, or a surrogate pair \uD83D\uDE00, appended to `out` as UTF-8.
  bool ParseUnicodeEscape(std::string& out) {
    uint32_t c1 = 0;
    if (!ParseHex4(c1)) return false;
    if (c1 >= 0xD800 && c1 <= 0xDBFF &&
        absl::StartsWith(text_.substr(pos_), "\\u")) {
      const size_t before = pos_;
      pos_ += 2;
      uint32_t c2 = 0;
      if (!ParseHex4(c2)) return false;
      if (c2 >= 0xDC00 && c2 <= 0xDFFF) {
        c1 = 0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00);
      } else {
        pos_ = before;  // a lone high surrogate; c2 stands alone
      }
    }
    AppendUtf8(c1, out);
    return true;
  }

  bool ParseArray(JsonValue& value, int depth, bool holds_rows) {
    value.type = JsonValue::Type::kArray;
    ++pos_;
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return true;
    }
    size_t position = 0;
    while (true) {
      SkipSpace();
      // Stopped here, before the tree holds millions of tiny rows.
      if (holds_rows &&
          value.items.size() >= static_cast<size_t>(kMaxCatalogueRows)) {
        return Fail(TooManyRows());
      }
      value.items.emplace_back();
      if (!ParseValue(value.items.back(), depth + 1)) return false;
      value.items.back().position = ++position;
      if (!holds_rows) KeepListItem(value);
      SkipSpace();
      if (AtEnd()) return FailUnexpected("',' or ']'");
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      if (Peek() != ',') return FailUnexpected("',' or ']'");
      ++pos_;
    }
  }

  // Any array but the rows may be a list: its last item, just parsed, is
  // dropped when it is an empty string (as AddListEntry drops it), or
  // counted in dropped_items and dropped when kMaxListEntries are kept, so
  // that an array of millions of items takes no more memory than a full
  // list; JsonRow reports the count.
  static void KeepListItem(JsonValue& array) {
    const JsonValue& item = array.items.back();
    if (item.type == JsonValue::Type::kString && IsEmptyListEntry(item.text)) {
      array.items.pop_back();
    } else if (array.items.size() > static_cast<size_t>(kMaxListEntries)) {
      array.items.pop_back();
      ++array.dropped_items;
    }
  }

  bool ParseObject(JsonValue& value, int depth) {
    value.type = JsonValue::Type::kObject;
    ++pos_;
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (value.members.size() >= kMaxObjectMembers) {
        return Fail(absl::StrCat("an object with more than ", kMaxObjectMembers,
                                 " keys"));
      }
      if (AtEnd() || Peek() != '"') return FailUnexpected("a key in quotes");
      std::string key;
      if (!ParseString(key)) return false;
      SkipSpace();
      if (AtEnd() || Peek() != ':') return FailUnexpected("':'");
      ++pos_;
      SkipSpace();
      const bool holds_rows = depth == 0 && key == "procedures";
      value.members.emplace_back(std::move(key), JsonValue());
      if (!ParseValue(value.members.back().second, depth + 1, holds_rows)) {
        return false;
      }
      SkipSpace();
      if (AtEnd()) return FailUnexpected("',' or '}'");
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      if (Peek() != ',') return FailUnexpected("',' or '}'");
      ++pos_;
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  absl::Status error_;
};

RawRow JsonRow(const JsonValue& object, int row) {
  RawRow raw;
  raw.row = row;
  raw.line = object.line;
  if (object.type != JsonValue::Type::kObject) {
    raw.errors.push_back(
        absl::StrCat("expected an object, got ", JsonTypeName(object.type)));
    raw.unusable = true;
    return raw;
  }
  std::map<FieldId, std::string> seen;  // field -> key that set it
  for (const auto& [key, value] : object.members) {
    const FieldSpec* spec = FindField(key, /*ignore_case=*/false);
    if (spec == nullptr) {
      raw.errors.push_back(absl::StrCat("unknown key ", Quoted(key)));
      continue;
    }
    if (auto it = seen.find(spec->id); it != seen.end()) {
      raw.errors.push_back(
          it->second == key
              ? absl::StrCat("key ", Quoted(key), " appears twice")
              : absl::StrCat("keys ", Quoted(it->second), " and ", Quoted(key),
                             " are the same field"));
      continue;
    }
    seen.emplace(spec->id, key);
    if (value.type == JsonValue::Type::kNull) continue;
    RawValue& out = raw.values[spec->id];
    if (!spec->list) {
      if (value.type != JsonValue::Type::kString) {
        raw.errors.push_back(absl::StrCat(
            spec->key, ": expected a string, got ", JsonTypeName(value.type)));
        out.wrong_type = true;
        continue;
      }
      out.scalar = value.text;
      continue;
    }
    if (value.type != JsonValue::Type::kArray) {
      raw.errors.push_back(absl::StrCat(spec->key,
                                        ": expected an array of strings, got ",
                                        JsonTypeName(value.type)));
      out.wrong_type = true;
      continue;
    }
    for (const JsonValue& item : value.items) {
      if (item.type != JsonValue::Type::kString) {
        raw.errors.push_back(absl::StrCat(spec->key, " entry ", item.position,
                                          ": expected a string, got ",
                                          JsonTypeName(item.type)));
        ++out.list_entries;  // an entry, if not a good one
        continue;
      }
      AddListEntry(item.text, item.position, out);
    }
    out.list_entries += value.dropped_items;
  }
  return raw;
}

}  // namespace

absl::Status ReadJsonRows(absl::string_view text, std::vector<RawRow>& rows) {
  JsonValue root;
  if (absl::Status status = JsonParser(text).Parse(root); !status.ok()) {
    return status;
  }
  const JsonValue* array = nullptr;
  constexpr absl::string_view kShape =
      "expected an array of procedures, or {\"procedures\": [...]}";
  if (root.type == JsonValue::Type::kArray) {
    array = &root;
  } else if (root.type == JsonValue::Type::kObject) {
    for (const auto& [key, value] : root.members) {
      if (key != "procedures") {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", value.line, ": unknown top-level key ",
                         Quoted(key), "; ", kShape));
      }
      if (value.type != JsonValue::Type::kArray) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", value.line, ": \"procedures\" is ",
                         JsonTypeName(value.type), "; ", kShape));
      }
      if (array != nullptr) {  // one list would be read, the other not
        return absl::InvalidArgumentError(absl::StrCat(
            "line ", value.line, ": \"procedures\" appears twice; ", kShape));
      }
      array = &value;
    }
  }
  if (array == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", root.line, ": the file holds ",
                     JsonTypeName(root.type), "; ", kShape));
  }
  for (size_t i = 0; i < array->items.size(); ++i) {
    rows.push_back(JsonRow(array->items[i], static_cast<int>(i) + 1));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::cli::catalogue_internal
