#include "adapters/ministry_rest_json/record_template.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gateway/log/log.h"

namespace lienthong::adapters::ministry_rest_json {
namespace {

bool IsNameChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
}

// The length of the placeholder "{name}" starting at text[at], or 0 when
// there is none there.
size_t PlaceholderLength(absl::string_view text, size_t at) {
  if (text[at] != '{') return 0;
  size_t end = at + 1;
  while (end < text.size() && IsNameChar(text[end])) ++end;
  if (end == at + 1 || end >= text.size() || text[end] != '}') return 0;
  return end - at + 1;
}

}  // namespace

absl::StatusOr<RecordTemplate> RecordTemplate::Parse(
    absl::string_view text, const std::set<std::string>& parameters) {
  RecordTemplate result;
  std::string literal;
  for (size_t i = 0; i < text.size();) {
    const size_t length = PlaceholderLength(text, i);
    if (length == 0) {
      literal.push_back(text[i++]);
      continue;
    }
    std::string name(text.substr(i + 1, length - 2));
    if (parameters.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "placeholder {", name, "} names no parameter of the record type"));
    }
    if (!literal.empty()) {
      result.pieces_.push_back({std::exchange(literal, ""), false});
    }
    result.names_.insert(name);
    result.pieces_.push_back({std::move(name), true});
    i += length;
  }
  if (!literal.empty()) result.pieces_.push_back({std::move(literal), false});
  return result;
}

std::string RecordTemplate::ExpandJson(
    const std::map<std::string, std::string>& values) const {
  std::string out;
  for (const Piece& piece : pieces_) {
    if (!piece.placeholder) {
      out += piece.text;
      continue;
    }
    auto it = values.find(piece.text);
    if (it == values.end()) continue;
    out += log::JsonEscape(it->second);
  }
  return out;
}

// A brace the template's text has outside its placeholders.
constexpr char kStrayBrace[] =
    "has a { or } that is not a placeholder: write {name}, the name of a "
    "parameter in lower case letters, digits and _";

absl::Status RecordTemplate::CheckPath() const {
  for (const Piece& piece : pieces_) {
    if (!piece.placeholder &&
        piece.text.find_first_of("{}") != std::string::npos) {
      return absl::InvalidArgumentError(kStrayBrace);
    }
  }
  return absl::OkStatus();
}

absl::Status RecordTemplate::CheckJsonBody() const {
  bool in_string = false;
  bool escaped = false;
  for (const Piece& piece : pieces_) {
    if (piece.placeholder) {
      if (!in_string) {
        return absl::InvalidArgumentError(
            "puts a placeholder outside a double-quoted JSON string (values "
            "are escaped for the inside of one)");
      }
      // "\{x}": the backslash would escape the value's first character,
      // and a value starting with a quote (sent as \") would end the string.
      if (escaped) {
        return absl::InvalidArgumentError(
            "puts a placeholder right after a backslash (it would escape the "
            "value's first character)");
      }
      continue;
    }
    for (const char c : piece.text) {
      if (escaped) {
        escaped = false;
      } else if (in_string && c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = !in_string;
      } else if (!in_string && c == '\'') {
        return absl::InvalidArgumentError(
            "has a single quote outside a string (JSON strings take double "
            "quotes)");
      } else if (in_string && (c == '{' || c == '}')) {
        return absl::InvalidArgumentError(kStrayBrace);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RecordTemplate::ExpandPath(
    const std::map<std::string, std::string>& values) const {
  std::string out;
  bool in_path = true;
  // The segment being written: where it starts in `out`, and the
  // placeholders in it.
  size_t segment_start = 0;
  std::vector<absl::string_view> segment_names;
  auto end_segment = [&]() -> absl::Status {
    if (segment_names.empty()) return absl::OkStatus();
    const absl::string_view segment =
        absl::string_view(out).substr(segment_start);
    if (segment.empty() || segment == "." || segment == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          segment_names.size() == 1 ? "parameter '" : "parameters '",
          absl::StrJoin(segment_names, "', '"),
          "' would make a segment of the URL path empty, '.' or '..'"));
    }
    segment_names.clear();
    return absl::OkStatus();
  };
  for (const Piece& piece : pieces_) {
    if (piece.placeholder) {
      if (in_path) segment_names.push_back(piece.text);
      auto it = values.find(piece.text);
      if (it != values.end()) out += PercentEncode(it->second);
      continue;
    }
    for (char c : piece.text) {
      if (in_path && (c == '/' || c == '?' || c == '#')) {
        if (absl::Status s = end_segment(); !s.ok()) return s;
        segment_start = out.size() + 1;
        in_path = c == '/';
      }
      out.push_back(c);
    }
  }
  if (in_path) {
    if (absl::Status s = end_segment(); !s.ok()) return s;
  }
  return out;
}

std::string PercentEncode(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}


}  // namespace lienthong::adapters::ministry_rest_json
