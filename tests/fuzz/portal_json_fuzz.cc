// The National Public Service Portal's JSON answers
// (adapters/dvcqg_portal): any status and body give an outcome or a
// retriable UNAVAILABLE, and a rejection's reason stays bounded.
#include <cstdint>
#include <string>

#include "adapters/dvcqg_portal/portal_response.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Two bytes of HTTP status (100..599), one of Retry-After length, then
  // the Retry-After header and the body.
  if (size < 3) return 0;
  const long http_status = 100 + ((data[0] << 8 | data[1]) % 500);
  const size_t retry_size = data[2] % 16;
  if (size < 3 + retry_size) return 0;
  const std::string retry_after(reinterpret_cast<const char*>(data) + 3,
                                retry_size);
  const std::string body(reinterpret_cast<const char*>(data) + 3 + retry_size,
                         size - 3 - retry_size);
  const auto outcome = lienthong::adapters::dvcqg::ParsePortalAnswer(
      http_status, body, retry_after);
  if (!outcome.ok()) {
    FUZZ_CHECK(outcome.status().code() == absl::StatusCode::kUnavailable);
    FUZZ_CHECK(outcome.status().message().size() < 1024);
  }
  return 0;
}
