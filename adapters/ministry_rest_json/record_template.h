// Request templates of the "ministry-rest-json" adapter: a URL path or a
// JSON body with "{parameter}" placeholders, parsed once from the config
// and expanded for each request with the values encoded for where they go.
#ifndef LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_RECORD_TEMPLATE_H_
#define LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_RECORD_TEMPLATE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::adapters::ministry_rest_json {

class RecordTemplate {
 public:
  // Parses `text`. A "{" followed by a name of [a-z0-9_] and "}" is a
  // placeholder; every other character is literal (so JSON's own braces
  // need no escaping). Fails with INVALID_ARGUMENT for a placeholder
  // naming something not in `parameters`.
  static absl::StatusOr<RecordTemplate> Parse(
      absl::string_view text, const std::set<std::string>& parameters);

  // Returns the text with each placeholder replaced by its parameter's
  // value in `values` (absent: empty), escaped for the inside of a JSON
  // string: a request body.
  std::string ExpandJson(
      const std::map<std::string, std::string>& values) const;

  // Expands the template as a URL path (and query), values percent-encoded
  // (PercentEncode), absent ones empty. Fails with INVALID_ARGUMENT
  // naming the parameter (never its value) when a value (or an absent one)
  // would make a segment of the path, before the template's first literal
  // "?" or "#", ".", ".." or empty: URL normalisation (RFC 3986, 5.2.4)
  // removes dot segments, so "/ho-so/{id}/chi-tiet" with id ".." would
  // reach "/chi-tiet". Segments the template's own text makes so are left
  // as configured.
  absl::StatusOr<std::string> ExpandPath(
      const std::map<std::string, std::string>& values) const;

  // OK when the template, read as a URL path, has no "{" or "}" but its
  // placeholders' (a URL has none; "{taxCode}" or "{tax_code" is a
  // mistyped placeholder, which would send every call to one URL).
  // INVALID_ARGUMENT otherwise.
  absl::Status CheckPath() const;

  // OK when, read as JSON, every placeholder is inside a double-quoted
  // string and not right after a backslash, nothing is single-quoted, and
  // no string has a "{" or "}" but its placeholders'. ExpandJson escapes values
  // for the inside of a double-quoted string only, so a value outside one
  // ({"a": '{x}'}, { {x}: 1 }, {"a": '"{x}"'}, which protobuf's lenient JSON
  // parser takes) could add members of the caller's choosing; a brace in a
  // string is a mistyped placeholder. INVALID_ARGUMENT otherwise, saying which.
  absl::Status CheckJsonBody() const;

  // The parameters the template names.
  const std::set<std::string>& names() const { return names_; }

 private:
  struct Piece {
    std::string text;
    bool placeholder = false;  // `text` is a parameter name
  };
  std::vector<Piece> pieces_;
  std::set<std::string> names_;
};

// Returns `value` percent-encoded (RFC 3986): every byte but A-Z a-z 0-9
// - . _ ~ as %XX.
std::string PercentEncode(absl::string_view value);

}  // namespace lienthong::adapters::ministry_rest_json

#endif  // LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_RECORD_TEMPLATE_H_
