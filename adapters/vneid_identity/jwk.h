// The realm's signing keys: a JSON Web Key Set (RFC 7517) parsed into the
// RSA public keys that can verify RS256 ID tokens, built with OpenSSL 3
// (EVP_PKEY_fromdata from the JWK's n and e).
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWK_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWK_H_

#include <openssl/evp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::adapters::vneid {

// An RSA public key. EVP_PKEY is safe to use from many threads at once for
// verification; the pointer keeps the key alive while a call uses it.
using PublicKey = std::shared_ptr<EVP_PKEY>;

// The largest JWK Set document accepted, bytes, and keys in it.
inline constexpr size_t kMaxJwksBytes = 64 * 1024;
inline constexpr int kMaxJwksKeys = 32;

// Signing keys by key id ("kid").
using KeySet = std::map<std::string, PublicKey, std::less<>>;

// Returns the RSA public key with modulus `n` and exponent `e` (big-endian
// bytes). Fails with INVALID_ARGUMENT when the modulus is not 2048..8192
// bits or the exponent is not odd, at least 3 and at most 2^32+1; INTERNAL
// when OpenSSL fails. Thread-safe.
absl::StatusOr<PublicKey> RsaPublicKeyFromComponents(absl::string_view n,
                                                     absl::string_view e);

// Returns the keys of `json` (a JWK Set) usable to verify RS256 signatures:
// kty "RSA", "use" absent or "sig", "alg" absent or "RS256", "key_ops"
// absent or containing "verify", a non-empty kid, and n and e that make a
// key RsaPublicKeyFromComponents accepts. Other keys (encryption keys, EC
// keys, weak or broken RSA keys) are skipped: Keycloak publishes an RSA-OAEP
// encryption key beside its signing keys.
//
// Fails with UNAVAILABLE "VNeID sent malformed signing keys: <what>" when
// `json` is larger than kMaxJwksBytes, is not a JWK Set, has more than
// kMaxJwksKeys keys, or two usable keys share a kid. Thread-safe.
absl::StatusOr<KeySet> ParseJwkSet(absl::string_view json);

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWK_H_
