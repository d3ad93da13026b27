// The admin endpoint's request-head parser (gateway/admin/http_request.h):
// bytes from whoever reaches the port.
#include <cstdint>
#include <string>

#include "gateway/admin/http_request.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMax = 1024;
  lienthong::admin::HttpRequest request;
  const auto result = lienthong::admin::ParseRequestHead(bytes, kMax, &request);
  switch (result.status) {
    case lienthong::admin::ParseStatus::kComplete:
      FUZZ_CHECK(result.head_bytes > 0 && result.head_bytes <= size);
      FUZZ_CHECK(result.head_bytes <= kMax);
      FUZZ_CHECK(!request.method.empty() && !request.path.empty());
      FUZZ_CHECK(request.path[0] == '/');
      FUZZ_CHECK(request.path.find('?') == std::string::npos);
      break;
    case lienthong::admin::ParseStatus::kIncomplete:
      FUZZ_CHECK(size <= kMax);
      break;
    case lienthong::admin::ParseStatus::kBad:
      FUZZ_CHECK(result.http_status >= 400 && result.http_status < 600);
      break;
  }
  return 0;
}
