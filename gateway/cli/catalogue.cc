#include "gateway/cli/catalogue.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gateway/validation/text.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"
#include "unicode/utf8.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::Procedure;
using ::lienthong::v1::ServiceLevel;

constexpr size_t kMaxFileBytes = size_t{64} << 20;
// Catalogues are two levels deep; the bound only stops a hostile file from
// exhausting the stack.
constexpr int kMaxJsonDepth = 32;
// How much of a bad value a message repeats.
constexpr int kMaxQuotedLength = 60;

// ---------------------------------------------------------------------------
// Keys and columns.

enum FieldId : int {
  kCode,
  kName,
  kField,
  kAuthorityLevel,
  kLevel,
  kAgency,
  kProcessingTime,
  kFees,
  kRequiredDocuments,
  kLegalBasis,
  kFieldCount,
};

struct FieldSpec {
  FieldId id;
  const char* key;
  // The national portal's name of the same field.
  const char* portal_key;
  bool list;
  // May hold line breaks (and tabs): free text copied from legal documents.
  bool multiline;
  int max_length;
};

constexpr FieldSpec kFields[kFieldCount] = {
    {kCode, "code", "MaTTHC", false, false, kMaxProcedureCodeLength},
    {kName, "name", "TenTTHC", false, false, kMaxProcedureNameLength},
    {kField, "field", "LinhVuc", false, false, kMaxShortTextLength},
    {kAuthorityLevel, "authority_level", "CapThucHien", false, false,
     kMaxShortTextLength},
    {kLevel, "level", "MucDo", false, false, kMaxShortTextLength},
    {kAgency, "implementing_agency", "CoQuanThucHien", false, false,
     kMaxLongTextLength},
    {kProcessingTime, "processing_time", "ThoiHanGiaiQuyet", false, true,
     kMaxLongTextLength},
    {kFees, "fees", "PhiLePhi", false, true, kMaxLongTextLength},
    {kRequiredDocuments, "required_documents", "ThanhPhanHoSo", true, true,
     kMaxListEntryLength},
    {kLegalBasis, "legal_basis", "CanCuPhapLy", true, true,
     kMaxListEntryLength},
};

constexpr FieldId kRequiredFields[] = {kCode, kName, kLevel};

// JSON keys are matched exactly, CSV columns without regard to case.
const FieldSpec* FindField(absl::string_view name, bool ignore_case) {
  for (const FieldSpec& spec : kFields) {
    if (ignore_case ? (absl::EqualsIgnoreCase(name, spec.key) ||
                       absl::EqualsIgnoreCase(name, spec.portal_key))
                    : (name == spec.key || name == spec.portal_key)) {
      return &spec;
    }
  }
  return nullptr;
}

std::string KnownNames() {
  std::vector<std::string> names;
  for (const FieldSpec& spec : kFields) names.push_back(spec.key);
  return absl::StrJoin(names, ", ");
}

// ---------------------------------------------------------------------------
// Text.

constexpr size_t kValid = absl::string_view::npos;

// Returns the offset of the first byte of the first ill-formed UTF-8
// sequence, or kValid.
size_t FindInvalidUtf8(absl::string_view s) {
  const size_t at = validation::FindInvalidUtf8(s);
  return at == s.size() ? kValid : at;
}

// Returns `s` in double quotes for a message: control characters and bytes
// that are not UTF-8 escaped as \xNN, cut after kMaxQuotedLength characters.
std::string Quoted(absl::string_view s) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t length = static_cast<int32_t>(s.size());
  std::string out = "\"";
  int32_t i = 0;
  int characters = 0;
  while (i < length) {
    if (++characters > kMaxQuotedLength) {
      absl::StrAppend(&out, "…");
      break;
    }
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02X", bytes[start]));
      i = start + 1;
    } else if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
      absl::StrAppend(&out, c == '"'    ? "\\\""
                            : c == '\\' ? "\\\\"
                                        : absl::StrFormat("\\x%02X", c));
    } else {
      out.append(s.data() + start, static_cast<size_t>(i - start));
    }
  }
  out.push_back('"');
  return out;
}

// REQUIRES: `utf8` is valid UTF-8.
absl::StatusOr<std::string> ToNfc(absl::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  // A singleton owned by ICU; its const methods are thread-safe.
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) {
    return absl::InternalError("the ICU NFC normaliser is not available");
  }
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  if (nfc->isNormalized(source, status) && U_SUCCESS(status)) {
    return std::string(utf8);
  }
  status = U_ZERO_ERROR;
  const icu::UnicodeString normal = nfc->normalize(source, status);
  if (U_FAILURE(status)) {
    return absl::InternalError(
        absl::StrCat("ICU NFC normalisation failed: ", u_errorName(status)));
  }
  std::string out;
  normal.toUTF8String(out);
  return out;
}

// REQUIRES: `utf8` is valid UTF-8.
int CodePointCount(absl::string_view utf8) {
  return static_cast<int>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// Returns the first C0 or C1 control character (line feed and tab allowed
// when `multiline`) and its position in characters from 1, if any.
// REQUIRES: `utf8` is valid UTF-8.
std::optional<std::pair<UChar32, int>> FindControl(absl::string_view utf8,
                                                   bool multiline) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  const int32_t length = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  int position = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    ++position;
    if (multiline && (c == '\n' || c == '\t')) continue;
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
      return std::make_pair(c, position);
    }
  }
  return std::nullopt;
}

// Checks and normalises one value (a scalar, or one list entry). Returns
// the clean text, or nullopt after adding the problem to `errors`.
std::optional<std::string> CleanText(absl::string_view raw,
                                     const FieldSpec& spec,
                                     absl::string_view label,
                                     std::vector<std::string>& errors) {
  if (size_t bad = FindInvalidUtf8(raw); bad != kValid) {
    errors.push_back(
        absl::StrFormat("%s: invalid UTF-8 at byte %d of the value (0x%02X)",
                        label, bad + 1, static_cast<unsigned char>(raw[bad])));
    return std::nullopt;
  }
  std::string text(raw);
  if (spec.multiline) text = absl::StrReplaceAll(text, {{"\r\n", "\n"}});
  absl::StatusOr<std::string> nfc = ToNfc(text);
  if (!nfc.ok()) {
    errors.push_back(absl::StrCat(label, ": ", nfc.status().message()));
    return std::nullopt;
  }
  text = std::string(absl::StripAsciiWhitespace(*nfc));
  if (auto control = FindControl(text, spec.multiline)) {
    errors.push_back(absl::StrFormat(
        "%s: control character U+%04X at character %d", label,
        static_cast<uint32_t>(control->first), control->second));
    return std::nullopt;
  }
  if (const int length = CodePointCount(text); length > spec.max_length) {
    errors.push_back(absl::StrCat(label, ": too long, ", length,
                                  " characters (at most ", spec.max_length,
                                  ")"));
    return std::nullopt;
  }
  if (text.size() > static_cast<size_t>(kMaxValueBytes)) {
    errors.push_back(absl::StrCat(label, ": too long, ", text.size(),
                                  " bytes in UTF-8 (at most ", kMaxValueBytes,
                                  ")"));
    return std::nullopt;
  }
  return text;
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// ---------------------------------------------------------------------------
// Rows as read, before validation.

struct RawValue {
  // Had the wrong JSON type (already reported): not "missing" as well.
  bool wrong_type = false;
  std::string scalar;
  std::vector<std::string> list;
};

struct RawRow {
  int row = 0;
  int line = 0;
  RawValue values[kFieldCount];
  // Problems found while reading (keys, types, CSV syntax).
  std::vector<std::string> errors;
  // The values are not usable (a CSV record with the wrong number of fields
  // or an unclosed quote): report `errors` only.
  bool unusable = false;
};

// ---------------------------------------------------------------------------
// JSON (RFC 8259), parsed into a tree that keeps string bytes as they are, so
// that bad UTF-8 spoils one value of one row rather than the whole file.

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  // The string's bytes (escapes decoded) or the number's text.
  std::string text;
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;
  int line = 0;
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
    if (!ParseValue(value, 0)) return error_;
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

  bool ParseValue(JsonValue& value, int depth) {
    if (depth > kMaxJsonDepth) return Fail("nested too deeply");
    if (AtEnd()) return FailUnexpected("a value");
    value.line = line_;
    const char c = Peek();
    switch (c) {
      case '{':
        return ParseObject(value, depth);
      case '[':
        return ParseArray(value, depth);
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
      const char escape = Peek();
      ++pos_;
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          out.push_back(escape);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
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
          break;
        }
        default:
          --pos_;
          return FailUnexpected(
              "an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
              "or \\uXXXX");
      }
    }
    return Fail("unterminated string");
  }

  bool ParseArray(JsonValue& value, int depth) {
    value.type = JsonValue::Type::kArray;
    ++pos_;
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      value.items.emplace_back();
      if (!ParseValue(value.items.back(), depth + 1)) return false;
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
      if (AtEnd() || Peek() != '"') return FailUnexpected("a key in quotes");
      std::string key;
      if (!ParseString(key)) return false;
      SkipSpace();
      if (AtEnd() || Peek() != ':') return FailUnexpected("':'");
      ++pos_;
      SkipSpace();
      value.members.emplace_back(std::move(key), JsonValue());
      if (!ParseValue(value.members.back().second, depth + 1)) return false;
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
    for (size_t i = 0; i < value.items.size(); ++i) {
      const JsonValue& item = value.items[i];
      if (item.type != JsonValue::Type::kString) {
        raw.errors.push_back(absl::StrCat(spec->key, " entry ", i + 1,
                                          ": expected a string, got ",
                                          JsonTypeName(item.type)));
        continue;
      }
      out.list.push_back(item.text);
    }
  }
  return raw;
}

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

// ---------------------------------------------------------------------------
// CSV (RFC 4180, with LF or CRLF line ends).

struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
  std::vector<std::string> errors;
  // The rest of the file was swallowed by an unclosed quote.
  bool unclosed = false;
};

std::vector<CsvRecord> SplitCsv(absl::string_view text) {
  std::vector<CsvRecord> records;
  const size_t n = text.size();
  size_t pos = 0;
  int line = 1;
  auto at_line_end = [&](size_t p) {
    return p < n && (text[p] == '\n' ||
                     (text[p] == '\r' && p + 1 < n && text[p + 1] == '\n'));
  };
  while (pos < n) {
    CsvRecord record;
    record.line = line;
    while (true) {
      const size_t number = record.fields.size() + 1;
      std::string field;
      if (text[pos] == '"') {
        const int opened = line;
        ++pos;
        bool closed = false;
        while (pos < n) {
          const char c = text[pos];
          if (c == '"') {
            if (pos + 1 < n && text[pos + 1] == '"') {
              field.push_back('"');
              pos += 2;
              continue;
            }
            ++pos;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++pos;
        }
        if (!closed) {
          record.errors.push_back(absl::StrCat(
              "the quote that opens field ", number, " on line ", opened,
              " is never closed; it swallows the rest of the file"));
          record.unclosed = true;
          record.fields.push_back(std::move(field));
          records.push_back(std::move(record));
          return records;
        }
        if (pos < n && text[pos] != ',' && !at_line_end(pos)) {
          record.errors.push_back(absl::StrCat(
              "field ", number,
              ": text after the closing quote (a quote inside a quoted field "
              "is written twice: \"\")"));
          while (pos < n && text[pos] != ',' && !at_line_end(pos)) {
            field.push_back(text[pos++]);
          }
        }
      } else {
        bool stray_quote = false;
        while (pos < n && text[pos] != ',' && !at_line_end(pos)) {
          if (text[pos] == '"') stray_quote = true;
          field.push_back(text[pos++]);
        }
        if (stray_quote) {
          record.errors.push_back(absl::StrCat(
              "field ", number,
              ": a quote inside an unquoted field (quote the whole field and "
              "write the quote twice)"));
        }
      }
      record.fields.push_back(std::move(field));
      if (pos < n && text[pos] == ',') {
        ++pos;
        if (pos == n) {
          record.fields.emplace_back();
          break;
        }
        continue;
      }
      if (pos < n) {  // at a line end
        pos += text[pos] == '\r' ? 2 : 1;
        ++line;
      }
      break;
    }
    records.push_back(std::move(record));
  }
  return records;
}

bool IsBlank(const CsvRecord& record) {
  return record.errors.empty() &&
         std::all_of(record.fields.begin(), record.fields.end(),
                     [](const std::string& field) {
                       return absl::StripAsciiWhitespace(field).empty();
                     });
}

absl::Status ReadCsvRows(absl::string_view text, std::vector<RawRow>& rows) {
  std::vector<CsvRecord> records = SplitCsv(text);
  auto next = records.begin();
  while (next != records.end() && IsBlank(*next)) ++next;
  if (next == records.end()) {
    return absl::InvalidArgumentError(
        "the file is empty; the first line must name the columns, e.g. "
        "code,name,field,level");
  }
  const CsvRecord& header = *next++;
  if (!header.errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header.line, " (the header): ", header.errors.front()));
  }

  // Column -> field.
  std::vector<const FieldSpec*> columns;
  std::vector<std::string> problems;
  std::map<FieldId, std::string> seen;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const absl::string_view name = absl::StripAsciiWhitespace(header.fields[i]);
    const FieldSpec* spec = FindField(name, /*ignore_case=*/true);
    columns.push_back(spec);
    if (name.empty()) {
      problems.push_back(absl::StrCat("column ", i + 1, " has no name"));
    } else if (spec == nullptr) {
      problems.push_back(absl::StrCat("unknown column ", Quoted(name)));
    } else if (auto it = seen.find(spec->id); it != seen.end()) {
      problems.push_back(absl::StrCat("columns ", Quoted(it->second), " and ",
                                      Quoted(name), " are the same field"));
    } else {
      seen.emplace(spec->id, std::string(name));
    }
  }
  if (header.fields.size() == 1 && columns[0] == nullptr &&
      absl::StrContains(header.fields[0], ';')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header.line,
        " (the header): the columns must be separated by ',' (this file "
        "seems to use ';'); known columns: ",
        KnownNames()));
  }
  for (FieldId id : kRequiredFields) {
    if (seen.count(id) == 0) {
      problems.push_back(
          absl::StrCat("missing column \"", kFields[id].key, "\""));
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header.line, " (the header): ", absl::StrJoin(problems, "; "),
        "; known columns: ", KnownNames()));
  }

  for (; next != records.end(); ++next) {
    const CsvRecord& record = *next;
    if (IsBlank(record)) continue;
    RawRow raw;
    raw.row = record.line;
    raw.errors = record.errors;
    if (record.unclosed) {
      raw.unusable = true;
    } else if (record.fields.size() != columns.size()) {
      raw.errors.push_back(absl::StrCat("has ", record.fields.size(),
                                        " fields, the header has ",
                                        columns.size()));
      raw.unusable = true;
    } else {
      for (size_t i = 0; i < columns.size(); ++i) {
        const FieldSpec& spec = *columns[i];
        RawValue& value = raw.values[spec.id];
        if (!spec.list) {
          value.scalar = record.fields[i];
          continue;
        }
        for (absl::string_view entry : absl::StrSplit(record.fields[i], ';')) {
          value.list.emplace_back(entry);
        }
      }
    }
    rows.push_back(std::move(raw));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Validation, the same for both formats.

// Checks the values of `raw`, adding problems to raw.errors. Returns the
// procedure (meaningful only when raw.errors stays empty).
Procedure ValidateRow(RawRow& raw) {
  Procedure procedure;
  if (raw.unusable) return procedure;
  std::optional<std::string> text[kFieldCount];
  std::vector<std::string> lists[kFieldCount];
  bool clean[kFieldCount];
  for (const FieldSpec& spec : kFields) {
    const RawValue& value = raw.values[spec.id];
    clean[spec.id] = true;
    if (!spec.list) {
      text[spec.id] = CleanText(value.scalar, spec, spec.key, raw.errors);
      clean[spec.id] = text[spec.id].has_value() && !value.wrong_type;
      continue;
    }
    for (size_t i = 0; i < value.list.size(); ++i) {
      std::optional<std::string> entry =
          CleanText(value.list[i], spec,
                    absl::StrCat(spec.key, " entry ", i + 1), raw.errors);
      if (!entry.has_value()) {
        clean[spec.id] = false;
      } else if (!entry->empty()) {
        lists[spec.id].push_back(std::move(*entry));
      }
    }
    if (lists[spec.id].size() > static_cast<size_t>(kMaxListEntries)) {
      raw.errors.push_back(absl::StrCat(spec.key, ": ", lists[spec.id].size(),
                                        " entries (at most ", kMaxListEntries,
                                        ")"));
    }
  }

  if (clean[kCode]) {
    if (text[kCode]->empty()) {
      raw.errors.push_back("missing code");
    } else if (absl::Status status = CheckProcedureCode(*text[kCode]);
               !status.ok()) {
      raw.errors.push_back(absl::StrCat("malformed code ", Quoted(*text[kCode]),
                                        ": ", status.message()));
    } else {
      procedure.set_code(*text[kCode]);
    }
  }
  if (clean[kName] && text[kName]->empty()) {
    raw.errors.push_back("missing name");
  }
  if (clean[kLevel]) {
    if (text[kLevel]->empty()) {
      raw.errors.push_back("missing level (fully_online or partly_online)");
    } else if (auto level = ParseServiceLevel(*text[kLevel]); !level.ok()) {
      raw.errors.push_back(absl::StrCat("wrong level ", Quoted(*text[kLevel]),
                                        ": ", level.status().message()));
    } else {
      procedure.set_level(*level);
    }
  }
  auto set = [&](FieldId id, void (Procedure::*setter)(const std::string&)) {
    if (text[id].has_value()) (procedure.*setter)(*text[id]);
  };
  set(kName, &Procedure::set_name);
  set(kField, &Procedure::set_field);
  set(kAuthorityLevel, &Procedure::set_authority_level);
  set(kAgency, &Procedure::set_implementing_agency);
  set(kProcessingTime, &Procedure::set_processing_time);
  set(kFees, &Procedure::set_fees);
  for (std::string& entry : lists[kRequiredDocuments]) {
    procedure.add_required_documents(std::move(entry));
  }
  for (std::string& entry : lists[kLegalBasis]) {
    procedure.add_legal_basis(std::move(entry));
  }
  return procedure;
}

Catalogue Validate(CatalogueFormat format, std::vector<RawRow>& rows) {
  Catalogue catalogue;
  catalogue.format = format;
  catalogue.rows = static_cast<int>(rows.size());
  std::vector<Procedure> procedures;
  procedures.reserve(rows.size());
  for (RawRow& raw : rows) procedures.push_back(ValidateRow(raw));

  // Duplicates: every row with a well-formed code takes part, also when the
  // row has other problems, so that fixing those does not reveal new ones.
  std::unordered_map<std::string, int> first_row;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& code = procedures[i].code();
    if (code.empty()) continue;
    auto [it, inserted] = first_row.emplace(code, rows[i].row);
    if (!inserted) {
      rows[i].errors.push_back(absl::StrCat(
          "duplicate code ", code, " (first at row ", it->second, ")"));
    }
  }

  for (size_t i = 0; i < rows.size(); ++i) {
    RawRow& raw = rows[i];
    if (raw.errors.empty()) {
      catalogue.procedures.push_back(std::move(procedures[i]));
      catalogue.procedure_rows.push_back(raw.row);
      continue;
    }
    for (std::string& message : raw.errors) {
      catalogue.errors.push_back(
          {raw.row, format == CatalogueFormat::kJson ? raw.line : 0,
           std::move(message)});
    }
  }
  return catalogue;
}

}  // namespace

int Catalogue::BadRowCount() const {
  std::set<int> bad;
  for (const CatalogueRowError& error : errors) bad.insert(error.row);
  return static_cast<int>(bad.size());
}

absl::Status CheckProcedureCode(absl::string_view code) {
  constexpr absl::string_view kForm =
      "expected G.NNNNNN.UUU.UU.UU.HPP, e.g. 1.001193.000.00.00.H31";
  if (code.empty()) return absl::InvalidArgumentError("empty code");
  const std::vector<absl::string_view> parts = absl::StrSplit(code, '.');
  if (parts.size() == 2 && AllDigits(parts[0]) && AllDigits(parts[1])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a national base code; give the province's form, ", kForm));
  }
  if (parts.size() != 6) {
    return absl::InvalidArgumentError(
        absl::StrCat(parts.size(), " parts separated by '.', not 6; ", kForm));
  }
  if (parts[0].size() != 1 || !AllDigits(parts[0]) || parts[0] == "0") {
    return absl::InvalidArgumentError(
        absl::StrCat("the group (part 1) must be one digit, 1 to 9; ", kForm));
  }
  if (!AllDigits(parts[1]) || parts[1].size() != 6) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the procedure number (part 2) must be 6 digits; ", kForm));
  }
  if (!AllDigits(parts[2]) || parts[2].size() != 3 || !AllDigits(parts[3]) ||
      parts[3].size() != 2 || !AllDigits(parts[4]) || parts[4].size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the unit segments (parts 3 to 5) must be 3, 2 and 2 digits; ", kForm));
  }
  const absl::string_view suffix = parts[5];
  if (suffix.size() != 3 || suffix[0] != 'H' || !AllDigits(suffix.substr(1))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the province suffix (part 6) must be 'H' and 2 digits; ", kForm));
  }
  if (suffix == "H00") {
    return absl::InvalidArgumentError(
        "the province suffix H00 names no province (H01 to H99)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ServiceLevel> ParseServiceLevel(absl::string_view text) {
  constexpr absl::string_view kExpected =
      "expected fully_online, partly_online, TOAN_TRINH or MOT_PHAN";
  if (FindInvalidUtf8(text) != kValid) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid UTF-8; ", kExpected));
  }
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString folded = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_SUCCESS(status)) folded = nfc->normalize(folded, status);
  if (U_FAILURE(status)) return absl::InternalError("ICU NFC failed");
  folded.foldCase();
  std::string key;
  folded.toUTF8String(key);
  key = std::string(absl::StripAsciiWhitespace(key));
  std::replace(key.begin(), key.end(), '-', '_');
  std::replace(key.begin(), key.end(), ' ', '_');
  if (key == "fully_online" || key == "toan_trinh" || key == "toàn_trình") {
    return lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE;
  }
  if (key == "partly_online" || key == "mot_phan" || key == "một_phần") {
    return lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE;
  }
  return absl::InvalidArgumentError(std::string(kExpected));
}

absl::StatusOr<CatalogueFormat> CatalogueFormatFromPath(
    absl::string_view path) {
  if (absl::EndsWithIgnoreCase(path, ".json")) return CatalogueFormat::kJson;
  if (absl::EndsWithIgnoreCase(path, ".csv")) return CatalogueFormat::kCsv;
  return absl::InvalidArgumentError(
      "a catalogue file must end in .json or .csv");
}

absl::StatusOr<Catalogue> ParseCatalogue(absl::string_view contents,
                                         CatalogueFormat format) {
  if (absl::StartsWith(contents, "\xFF\xFE") ||
      absl::StartsWith(contents, "\xFE\xFF")) {
    return absl::InvalidArgumentError(
        "the file is UTF-16; save it as UTF-8 (\"CSV UTF-8\" in a "
        "spreadsheet)");
  }
  absl::ConsumePrefix(&contents, "\xEF\xBB\xBF");
  std::vector<RawRow> rows;
  absl::Status status = format == CatalogueFormat::kJson
                            ? ReadJsonRows(contents, rows)
                            : ReadCsvRows(contents, rows);
  if (!status.ok()) return status;
  if (rows.empty()) {
    return absl::InvalidArgumentError("the file holds no procedures");
  }
  return Validate(format, rows);
}

absl::StatusOr<Catalogue> ReadCatalogueFile(const std::string& path) {
  absl::StatusOr<CatalogueFormat> format = CatalogueFormatFromPath(path);
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", format.status().message()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  std::string contents;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    contents.append(buffer, static_cast<size_t>(in.gcount()));
    if (contents.size() > kMaxFileBytes) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": larger than 64 MiB; is it a catalogue?"));
    }
  }
  if (in.bad()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  absl::StatusOr<Catalogue> catalogue = ParseCatalogue(contents, *format);
  if (!catalogue.ok()) {
    return absl::Status(catalogue.status().code(),
                        absl::StrCat(path, ": ", catalogue.status().message()));
  }
  return catalogue;
}

std::string FormatCatalogueRowError(const CatalogueRowError& error) {
  if (error.line > 0) {
    return absl::StrCat("row ", error.row, " (line ", error.line,
                        "): ", error.message);
  }
  return absl::StrCat("row ", error.row, ": ", error.message);
}

}  // namespace lienthong::cli
