// The population database's SOAP replies (adapters/c06_population): any body
// is answered, errors are UNAVAILABLE and never carry the body or the ID
// asked, and a record found is the one asked for.
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "adapters/c06_population/lookup_response.h"
#include "adapters/c06_population/verify_response.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr char kAsked[] = "026092001234";

void CheckError(const absl::Status& status, absl::string_view body) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable);
  FUZZ_CHECK(!absl::StrContains(status.message(), kAsked));
  lienthong::fuzz::CheckNoIdEcho(status.message(), body);
  FUZZ_CHECK(status.message().size() < 256);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks the HTTP status (most inputs are 200s).
  if (size < 1) return 0;
  const long http_status = data[0] < 200 ? 200 : (data[0] < 230 ? 500 : 400);
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);

  using namespace lienthong::adapters::c06;
  const absl::StatusOr<LookupReply> lookup =
      ParseLookupResponse(http_status, body, kAsked);
  if (lookup.ok()) {
    FUZZ_CHECK(http_status == 200);
    if (lookup->found) FUZZ_CHECK(lookup->citizen.citizen_id() == kAsked);
  } else {
    CheckError(lookup.status(), body);
  }
  const absl::StatusOr<bool> verify = ParseVerifyResponse(http_status, body);
  if (verify.ok()) {
    FUZZ_CHECK(http_status == 200);
  } else {
    CheckError(verify.status(), body);
  }
  return 0;
}
