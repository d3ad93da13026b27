// The admin endpoint's HTTP/1.1 request-head parser: request line and
// header fields up to the blank line, with the few fields the endpoint
// needs. Strict and bounded, since anyone who reaches the port can send it
// anything; incremental, so that a slow client costs a re-parse, never a
// thread.
#ifndef LIENTHONG_GATEWAY_ADMIN_HTTP_REQUEST_H_
#define LIENTHONG_GATEWAY_ADMIN_HTTP_REQUEST_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::admin {

struct HttpRequest {
  std::string method;  // as sent (methods are case-sensitive)
  std::string path;    // the target without its query string
  bool http10 = false;
  // Content-Length (0 when absent).
  size_t content_length = 0;
  // Transfer-Encoding present (the endpoint takes no chunked bodies).
  bool has_transfer_encoding = false;
  // After the answer: keep the connection (HTTP/1.1 unless "Connection:
  // close"; HTTP/1.0 only with "Connection: keep-alive").
  bool keep_alive = true;
  // The Authorization field's value, as sent.
  std::string authorization;
};

enum class ParseStatus { kIncomplete, kComplete, kBad };

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  // kComplete: the head's length in bytes, blank line included.
  size_t head_bytes = 0;
  // kBad: the HTTP status to answer (400, 431, 501, 505) and why.
  int http_status = 0;
  const char* reason = "";
};

// Parses the request head at the start of `data` into `*request`.
// kIncomplete: no blank line yet, and `data` is within `max_head_bytes`;
// kComplete: the head is whole; kBad: a malformed request line or field
// (400), a head longer than `max_head_bytes` (431), a bad or repeated
// Content-Length (400), an unsupported version (505). Lines end in CRLF or
// LF. Thread-safe (no state).
ParseResult ParseRequestHead(absl::string_view data, size_t max_head_bytes,
                             HttpRequest* request);

}  // namespace lienthong::admin

#endif  // LIENTHONG_GATEWAY_ADMIN_HTTP_REQUEST_H_
