// The input layout of the fuzz targets of HTTP reply parsers: two bytes of
// HTTP status (100..599), one of Retry-After length (0..15), then the
// Retry-After header and the body.
#ifndef LIENTHONG_TESTS_FUZZ_HTTP_REPLY_INPUT_H_
#define LIENTHONG_TESTS_FUZZ_HTTP_REPLY_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

struct HttpReplyInput {
  long status = 0;
  std::string retry_after;
  std::string body;
};

// Splits a fuzz input; nullopt when it is too short for its own layout.
inline std::optional<HttpReplyInput> SplitHttpReplyInput(const uint8_t* data,
                                                         size_t size) {
  if (size < 3) return std::nullopt;
  const size_t retry_size = data[2] % 16;
  if (size < 3 + retry_size) return std::nullopt;
  const char* text = reinterpret_cast<const char*>(data);
  HttpReplyInput input;
  input.status = 100 + ((data[0] << 8 | data[1]) % 500);
  input.retry_after.assign(text + 3, retry_size);
  input.body.assign(text + 3 + retry_size, size - 3 - retry_size);
  return input;
}

#endif  // LIENTHONG_TESTS_FUZZ_HTTP_REPLY_INPUT_H_
