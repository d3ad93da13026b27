#include "gateway/admin/http_request.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace lienthong::admin {
namespace {

ParseResult Bad(int status, const char* reason) {
  ParseResult result;
  result.status = ParseStatus::kBad;
  result.http_status = status;
  result.reason = reason;
  return result;
}

// RFC 9110 token characters (method and field names).
bool IsToken(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (absl::ascii_isalnum(c)) continue;
    if (absl::string_view("!#$%&'*+-.^_`|~").find(c) ==
        absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Visible ASCII, spaces and tabs only: no control characters, no bytes
// above 0x7e in anything the endpoint reads.
bool IsFieldValue(absl::string_view text) {
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u != '\t' && (u < 0x20 || u > 0x7e)) return false;
  }
  return true;
}

bool ParseRequestLine(absl::string_view line, HttpRequest* request,
                      ParseResult* bad) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || !IsToken(parts[0]) || parts[1].empty() ||
      parts[1][0] != '/' || !IsFieldValue(parts[1])) {
    *bad = Bad(400, "malformed request line");
    return false;
  }
  if (parts[2] == "HTTP/1.1") {
    request->http10 = false;
  } else if (parts[2] == "HTTP/1.0") {
    request->http10 = true;
  } else {
    *bad = Bad(505, "HTTP version not supported");
    return false;
  }
  request->method = std::string(parts[0]);
  absl::string_view target = parts[1];
  request->path = std::string(target.substr(0, target.find('?')));
  request->keep_alive = !request->http10;
  return true;
}

bool ParseField(absl::string_view line, bool* saw_length, HttpRequest* request,
                ParseResult* bad) {
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos || !IsToken(line.substr(0, colon))) {
    *bad = Bad(400, "malformed header field");
    return false;
  }
  const std::string name = absl::AsciiStrToLower(line.substr(0, colon));
  const absl::string_view value =
      absl::StripAsciiWhitespace(line.substr(colon + 1));
  if (!IsFieldValue(value)) {
    *bad = Bad(400, "header field value with control characters");
    return false;
  }
  if (name == "content-length") {
    size_t length = 0;
    if (*saw_length || value.empty() || !absl::SimpleAtoi(value, &length) ||
        !absl::ascii_isdigit(value[0])) {
      *bad = Bad(400, "bad Content-Length");
      return false;
    }
    *saw_length = true;
    request->content_length = length;
  } else if (name == "transfer-encoding") {
    request->has_transfer_encoding = true;
  } else if (name == "connection") {
    for (absl::string_view option : absl::StrSplit(value, ',')) {
      option = absl::StripAsciiWhitespace(option);
      if (absl::EqualsIgnoreCase(option, "close")) request->keep_alive = false;
      if (absl::EqualsIgnoreCase(option, "keep-alive") && request->http10) {
        request->keep_alive = true;
      }
    }
  } else if (name == "authorization") {
    request->authorization = std::string(value);
  }
  return true;
}

}  // namespace

ParseResult ParseRequestHead(absl::string_view data, size_t max_head_bytes,
                             HttpRequest* request) {
  // Find the blank line that ends the head, within the bound.
  size_t end = absl::string_view::npos;
  size_t head_bytes = 0;
  for (size_t pos = data.find('\n'); pos != absl::string_view::npos;
       pos = data.find('\n', pos + 1)) {
    if (pos + 1 > max_head_bytes) break;
    const bool blank = pos + 1 < data.size() && data[pos + 1] == '\n';
    const bool blank_crlf = pos + 2 < data.size() && data[pos + 1] == '\r' &&
                            data[pos + 2] == '\n';
    if (blank || blank_crlf) {
      end = pos + 1;
      head_bytes = pos + (blank ? 2 : 3);
      break;
    }
  }
  if (end == absl::string_view::npos || head_bytes > max_head_bytes) {
    if (data.size() > max_head_bytes) {
      return Bad(431, "request head too large");
    }
    return ParseResult{};  // incomplete
  }
  *request = HttpRequest();
  ParseResult bad;
  bool first = true;
  bool saw_length = false;
  for (absl::string_view line : absl::StrSplit(data.substr(0, end), '\n')) {
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (first) {
      first = false;
      if (!ParseRequestLine(line, request, &bad)) return bad;
      continue;
    }
    if (line.empty()) continue;  // the split's last, empty piece
    if (line[0] == ' ' || line[0] == '\t') return Bad(400, "obsolete line folding");
    if (!ParseField(line, &saw_length, request, &bad)) return bad;
  }
  ParseResult result;
  result.status = ParseStatus::kComplete;
  result.head_bytes = head_bytes;
  return result;
}

}  // namespace lienthong::admin
