// JSON Web Signatures as VNeID's ID tokens use them: the compact
// serialization (RFC 7515 section 7.1) split and decoded, and RS256
// (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3) verified with
// OpenSSL. Nothing here trusts a token: ParseJwsCompact only decodes, and
// only VerifyRs256 says whether the realm signed it.
//
// Error messages never contain the token or any part of it. All functions
// are thread-safe and keep no state.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWS_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWS_H_

#include <openssl/evp.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::adapters::vneid {

// The largest ID token accepted, bytes. Keycloak's are 1-3 KiB.
inline constexpr size_t kMaxIdTokenBytes = 16 * 1024;

// Returns the bytes of base64url text without padding (RFC 7515 section 2):
// only A-Z a-z 0-9 '-' '_', no '=', and never a length that leaves a lone
// sextet. Fails with INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> DecodeBase64Url(absl::string_view text);

// A decoded, unverified JWS.
struct Jws {
  // "header.payload" exactly as received: what the signature covers.
  std::string signing_input;
  // The protected header's "alg" and "kid" ("" when absent).
  std::string alg;
  std::string kid;
  // The decoded payload (the claims' JSON) and signature bytes.
  std::string payload;
  std::string signature;
};

// Splits and decodes `token` = BASE64URL(header) "." BASE64URL(payload) "."
// BASE64URL(signature). The header must be a JSON object whose "alg" is a
// string and "kid", when present, a string; a header with "crit" is refused
// (RFC 7515 section 4.1.11: no extension is understood here).
//
// Fails with UNAVAILABLE "VNeID sent a malformed id token: <what>" for a
// token that is longer than kMaxIdTokenBytes, has other than three parts,
// bad base64url, or a header that is not such an object.
absl::StatusOr<Jws> ParseJwsCompact(absl::string_view token);

// Checks that `jws.alg` is "RS256" and that `jws.signature` is the RS256
// signature of `jws.signing_input` under `key` (an RSA public key).
//
// Fails with UNAUTHENTICATED "id token alg must be RS256" for any other alg
// ("none", "HS256", "RS512", ...), and "id token signature invalid" when the
// signature does not verify (wrong key, altered token, wrong length).
absl::Status VerifyRs256(const Jws& jws, EVP_PKEY* key);

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWS_H_
