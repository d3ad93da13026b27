// Making JSON Web Tokens and Keys with OpenSSL for the simulated VNeID and
// for tests: RSA key generation, RS256 / HS256 / unsigned ("none") compact
// JWS, and an RSA public key as a JWK. Written apart from the gateway's
// verifier (adapters/vneid_identity/jws.h) so that the two check each other.
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_JWT_SIGNER_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_JWT_SIGNER_H_

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::sim {

using RsaKey = std::shared_ptr<EVP_PKEY>;

// `bytes` as base64url without padding.
std::string Base64Url(absl::string_view bytes);

// A fresh RSA key pair of `bits` bits (public exponent 65537). Fails with
// INTERNAL when OpenSSL does. Thread-safe.
absl::StatusOr<RsaKey> GenerateRsaKey(int bits = 2048);

// BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(RS256 signature).
// `header_json` and `payload_json` are used as given. Fails with INTERNAL
// when OpenSSL does. Thread-safe.
absl::StatusOr<std::string> SignRs256(absl::string_view header_json,
                                      absl::string_view payload_json,
                                      EVP_PKEY* key);

// The same with an HMAC-SHA256 signature keyed with `secret` (alg HS256).
std::string SignHs256(absl::string_view header_json,
                      absl::string_view payload_json, absl::string_view secret);

// The same with an empty signature (alg "none").
std::string Unsigned(absl::string_view header_json,
                     absl::string_view payload_json);

// The public half of `key` as one JWK JSON object: {"kid","kty":"RSA",
// "alg":"RS256","use":"sig","n","e"}. Fails with INTERNAL when OpenSSL
// cannot export the key. REQUIRES: `kid` needs no JSON escaping.
absl::StatusOr<std::string> RsaPublicJwk(EVP_PKEY* key, absl::string_view kid);

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_JWT_SIGNER_H_
