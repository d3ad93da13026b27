// VNeID's ID tokens and signing keys (adapters/vneid_identity): the compact
// JWS reader, the JWK Set reader and the claims check take any input, fail
// with their documented codes, and never echo a claim's value.
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "adapters/vneid_identity/id_token.h"
#include "adapters/vneid_identity/jwk.h"
#include "adapters/vneid_identity/jws.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool Is(const absl::Status& status, absl::StatusCode a,
        absl::StatusCode b = absl::StatusCode::kOk) {
  return status.code() == a ||
         (b != absl::StatusCode::kOk && status.code() == b);
}

// What the seeds' tokens were made for.
lienthong::adapters::vneid::IdTokenExpectations Want() {
  using lienthong::adapters::vneid::IdTokenExpectations;
  IdTokenExpectations want;
  want.issuer = "https://127.0.0.1:9443/vneid/realms/citizen";
  want.client_id = "lienthong-dev";
  want.nonce = "n-0123456789abcdef";
  want.now = absl::FromUnixSeconds(1752537600);
  return want;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace lienthong::adapters::vneid;
  switch (data[0] % 3) {
    case 0: {  // a token as received
      const absl::StatusOr<Jws> jws = ParseJwsCompact(input);
      if (!jws.ok()) {
        FUZZ_CHECK(Is(jws.status(), absl::StatusCode::kUnavailable));
        break;
      }
      FUZZ_CHECK(absl::StartsWith(input, jws->signing_input));
      const IdTokenExpectations want = Want();
      const auto citizen = CheckIdTokenClaims(jws->payload, want);
      if (!citizen.ok()) {
        FUZZ_CHECK(Is(citizen.status(), absl::StatusCode::kUnavailable,
                      absl::StatusCode::kUnauthenticated) ||
                   Is(citizen.status(), absl::StatusCode::kFailedPrecondition));
      }
      break;
    }
    case 1: {  // the claims alone
      const IdTokenExpectations want = Want();
      const auto citizen = CheckIdTokenClaims(input, want);
      if (citizen.ok()) {
        FUZZ_CHECK(citizen->response.citizen_id().size() == 12);
      } else {
        FUZZ_CHECK(Is(citizen.status(), absl::StatusCode::kUnavailable,
                      absl::StatusCode::kUnauthenticated) ||
                   Is(citizen.status(), absl::StatusCode::kFailedPrecondition));
        // Names the rule, never a value: no run of 24 bytes of the input
        // in it. The messages' own text is letters, digits, spaces and
        // ":-_" ("preferred_username", "yyyy-MM-dd"; the fuzzer found "a
        // malformed id token: claims are not a J" as an input).
        lienthong::fuzz::CheckNoEcho(
            citizen.status().message(), input, 24,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "0123456789 :-_");
        lienthong::fuzz::CheckNoIdEcho(citizen.status().message(), input);
      }
      break;
    }
    default: {  // a JWK Set
      const absl::StatusOr<KeySet> keys = ParseJwkSet(input);
      if (keys.ok()) {
        FUZZ_CHECK(keys->size() <= static_cast<size_t>(kMaxJwksKeys));
        for (const auto& [kid, key] : *keys) FUZZ_CHECK(!kid.empty() && key);
      } else {
        FUZZ_CHECK(Is(keys.status(), absl::StatusCode::kUnavailable));
      }
      break;
    }
  }
  return 0;
}
