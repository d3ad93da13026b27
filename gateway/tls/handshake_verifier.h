// The listener's own check of a client certificate during the TLS handshake,
// run by gRPC (as a grpc::experimental::ExternalCertificateVerifier) after
// OpenSSL has verified the chain to the client CA and before any HTTP/2
// frame of the connection is read. It refuses a certificate that its
// issuer's CRL lists (revocation.h), or whose identity is not a configured
// client, not a pinned certificate of it, or over its handshake rate
// (admission.h). A refused connection is closed; the client sees
// UNAVAILABLE. A connection lives for up to the listener's maximum
// connection age, so the same checks run again on every call
// (RecheckCaller) as they are then, together with OpenSSL's own: that the
// certificate still chains to a CA of the client CA file as it is then
// (client_ca.h). A CRL change, a reload, or a CA removed from the file
// refuses the next call of a live connection.
#ifndef LIENTHONG_GATEWAY_TLS_HANDSHAKE_VERIFIER_H_
#define LIENTHONG_GATEWAY_TLS_HANDSHAKE_VERIFIER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gateway/tls/admission.h"
#include "gateway/tls/client_ca.h"
#include "gateway/tls/client_identity.h"
#include "gateway/tls/revocation.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/tls_certificate_verifier.h"

namespace lienthong::tls {

struct HandshakeChecks {
  // Null: any certificate the client CA signed completes the handshake.
  std::shared_ptr<ClientAdmission> admission;
  // Null: no revocation checks.
  std::shared_ptr<CrlFileWatcher> crls;
  // The client CA file as it is now, for the calls (RecheckCaller); the
  // handshake leaves the chain to OpenSSL. Null: calls are not re-checked
  // against the file.
  std::shared_ptr<ClientCaWatcher> cas;
  // Called with the refusal's reason ("revoked", "unknown_identity",
  // "not_pinned", "rate_limited", "unreadable") on the handshake's thread;
  // may be empty. Must be thread-safe and quick (a metric).
  std::function<void(absl::string_view reason)> on_refused;
};

// What gRPC tells the verifier about the client certificate.
struct PeerCertificate {
  absl::string_view leaf_pem;
  // The other certificates the client sent (gRPC's full chain: on a server
  // OpenSSL leaves the leaf out); may be empty.
  absl::string_view chain_pem;
  absl::string_view first_uri;  // first SAN URI, or empty
  absl::string_view common_name;
};

// Returns OK when `peer` may complete the handshake, else PERMISSION_DENIED
// or RESOURCE_EXHAUSTED saying why (for the log: it names the identity, not
// personal data); `*reason` (may be null) gets the refusal's reason. Every
// certificate of the chain but the last is checked against the CRLs.
// Thread-safe.
absl::Status CheckClientCertificate(const HandshakeChecks& checks,
                                    const PeerCertificate& peer,
                                    std::string* reason = nullptr);

// Checks a call of `caller` (IdentityFromAuthContext(context)) on a
// connection the handshake admitted earlier against `checks` as they are
// now: its certificate's chain to the client CA file (ClientCaWatcher::
// IsCallerTrusted: "client certificate refused: its issuer is no longer a
// trusted client CA"), its path against the CRLs (CrlFileWatcher::
// IsCallerRevoked) and its identity and pin against the admission
// (ClientAdmission::Recheck). Returns OK, or UNAUTHENTICATED "client
// certificate refused: ..." naming at most the client identity. Cheap: the
// certificates are parsed once per certificate and version of the CA or
// CRL file, not per call. Thread-safe.
absl::Status RecheckCaller(const HandshakeChecks& checks,
                           const grpc::AuthContext& context,
                           const ClientIdentity& caller);

// Returns the verifier for TlsServerCredentialsOptions, which runs
// CheckClientCertificate synchronously, logs refusals (at most a few lines
// a second) and calls `checks.on_refused`. Thread-safe.
std::shared_ptr<grpc::experimental::CertificateVerifier> MakeHandshakeVerifier(
    HandshakeChecks checks);

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_HANDSHAKE_VERIFIER_H_
