// Who is calling: the identity a provincial system proves with its client
// certificate, read from the connection's gRPC auth context.
#ifndef LIENTHONG_GATEWAY_TLS_CLIENT_IDENTITY_H_
#define LIENTHONG_GATEWAY_TLS_CLIENT_IDENTITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/server_credentials.h"

namespace lienthong::tls {

struct ClientIdentity {
  // The certificate's first SAN URI, else its subject CN.
  std::string id;
  // Lower-case hex SHA-256 of the leaf certificate (DER).
  std::string fingerprint_sha256;
};

// Returns the caller's identity, or UNAUTHENTICATED when the connection
// carries no verified client certificate. Thread-safe.
absl::StatusOr<ClientIdentity> IdentityFromAuthContext(
    const grpc::AuthContext& context);

// Returns the SHA-256 fingerprint (lower-case hex) of the first certificate
// in `pem`, or INVALID_ARGUMENT. Thread-safe.
absl::StatusOr<std::string> CertificateFingerprint(absl::string_view pem);

// Returns when the first certificate in the PEM file `path` expires, or
// INVALID_ARGUMENT. Thread-safe.
absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& path);

struct ServerTlsOptions {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  bool require_client_cert = true;
  // How often the files are re-read; changed files take effect for new
  // connections without a restart.
  int refresh_interval_seconds = 60;
};

// Returns server credentials that present `cert_file` and, unless
// require_client_cert is false, require and verify a client certificate
// chained to `client_ca_file` during the handshake. Fails with
// INVALID_ARGUMENT naming a missing or unreadable file, or a certificate
// that does not match its key. Thread-safe.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& options);

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_CLIENT_IDENTITY_H_
