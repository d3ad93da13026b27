// Who is calling: the identity a provincial system proves with its client
// certificate, read from the connection's gRPC auth context.
#ifndef LIENTHONG_GATEWAY_TLS_CLIENT_IDENTITY_H_
#define LIENTHONG_GATEWAY_TLS_CLIENT_IDENTITY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/tls/admission.h"
#include "gateway/tls/client_ca.h"
#include "gateway/tls/revocation.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/server_credentials.h"

namespace lienthong::tls {

struct ClientIdentity {
  // The certificate's first SAN URI, else its subject CN.
  std::string id;
  // Lower-case hex SHA-256 of the leaf certificate (DER).
  std::string fingerprint_sha256;
  // `id` is the subject CN (the certificate has no SAN URI): admission
  // matches it only against clients with match_subject_cn.
  bool id_is_subject_cn = false;
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
  // PEM CRLs of the client CAs (revocation.h); empty: no revocation checks.
  std::string client_crl_file;
  // The watcher of client_crl_file (WatchClientCrls), when the caller
  // shares it with its per-call checks; null: made from client_crl_file.
  std::shared_ptr<CrlFileWatcher> crls;
  // Which identities complete the handshake (admission.h); null: any
  // certificate the client CA signed. The server keeps it current.
  std::shared_ptr<ClientAdmission> admission;
  // Called with the reason of each refused client certificate; may be empty.
  std::function<void(absl::string_view reason)> on_refused;
};

// Returns server credentials that present `cert_file` and, unless
// require_client_cert is false, require and verify a client certificate
// chained to `client_ca_file` during the handshake, and check it there
// against `client_crl_file` and `admission` (handshake_verifier.h).
// TLS 1.2 and 1.3 only (gRPC 1.51's floor, not settable in its C++ API);
// cipher suites as SecureCipherSuites() says. Fails with INVALID_ARGUMENT
// naming a missing or unreadable file, a certificate that does not match
// its key, or a CRL file that does not load. Thread-safe.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& options);

// Returns the watcher of `options.client_crl_file` against client_ca_file,
// re-read every refresh interval, as MakeServerCredentials would make it;
// null when the options check no CRL (none set, or client certificates not
// required). Fails as CrlFileWatcher::Create. Thread-safe.
absl::StatusOr<std::shared_ptr<CrlFileWatcher>> WatchClientCrls(
    const ServerTlsOptions& options);

// Returns the watcher of `options.client_ca_file` for the calls' own check
// (RecheckCaller), re-read every refresh interval as gRPC re-reads the file
// for new handshakes; null when client certificates are not required.
// Fails as ClientCaWatcher::Create. Thread-safe.
absl::StatusOr<std::shared_ptr<ClientCaWatcher>> WatchClientCas(
    const ServerTlsOptions& options);

// The TLS 1.2 cipher suites the gateway's gRPC connections may use: ECDHE
// key exchange (forward secrecy) with an AEAD cipher (AES-GCM, ChaCha20-
// Poly1305), in gRPC's syntax for GRPC_SSL_CIPHER_SUITES, after the TLS 1.3
// names gRPC's own default lists (OpenSSL takes TLS 1.3 suites from its own
// defaults, all AEAD with forward secrecy).
inline constexpr char kCipherSuites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
    "TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

// gRPC 1.51 sets its TLS 1.2 suites only from the environment variable
// GRPC_SSL_CIPHER_SUITES, read once. Returns the value to set it to: the
// suites of `configured` (the variable's current value, null when unset)
// that are in kCipherSuites, or all of kCipherSuites when that leaves none;
// `*dropped` (may be null) gets the suites left out. Thread-safe.
std::string SecureCipherSuites(const char* configured,
                               std::vector<std::string>* dropped = nullptr);

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_CLIENT_IDENTITY_H_
