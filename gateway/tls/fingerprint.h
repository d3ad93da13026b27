// The one rule for how an operator writes a certificate fingerprint in the
// config (clients[].certificate_sha256), shared by config validation and
// the handshake check.
#ifndef LIENTHONG_GATEWAY_TLS_FINGERPRINT_H_
#define LIENTHONG_GATEWAY_TLS_FINGERPRINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::tls {

// Returns the SHA-256 fingerprint `text` as 64 lower-case hex digits.
// Accepts upper or lower case, with or without ':' between bytes (as
// `openssl x509 -noout -fingerprint -sha256` prints it, with or without its
// "sha256 Fingerprint=" prefix). Fails with INVALID_ARGUMENT saying what is
// wrong (never echoing `text`). Thread-safe.
absl::StatusOr<std::string> NormalizeFingerprint(absl::string_view text);

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_FINGERPRINT_H_
