// Trust in the client CAs as the client CA file (listener.tls.client_ca_file)
// says now: whether a client certificate still chains to one of its CAs,
// with the file re-read when it changes.
//
// Why: gRPC re-reads the file for new handshakes, but a connection it
// admitted keeps its trust until the listener's maximum connection age (an
// hour by default). An operator who removes a compromised CA from the file
// wants that CA's clients refused at their next call, which RecheckCaller
// (handshake_verifier.h) does with this watcher.
//
//   auto cas = ClientCaWatcher::Create(ca_file, absl::Seconds(60));
//   ...
//   if (!(*cas)->IsCallerTrusted(fingerprint, leaf_pem, chain_pem)) {
//     /* refuse a call on a connection admitted before the CA left */
//   }
#ifndef LIENTHONG_GATEWAY_TLS_CLIENT_CA_H_
#define LIENTHONG_GATEWAY_TLS_CLIENT_CA_H_

#include <openssl/x509.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"
#include "gateway/tls/certificate_answers.h"
#include "gateway/tls/file_version.h"
#include "gateway/tls/openssl_util.h"

namespace lienthong::tls {

// The CA certificates of one client CA file, as an OpenSSL trust store.
// Immutable.
class ClientCaSet {
 public:
  // Reads the certificates of `ca_pem` as gRPC reads the file for the
  // handshake: every PEM certificate up to the first one that does not
  // parse. Fails with INVALID_ARGUMENT when there is none, INTERNAL when
  // OpenSSL cannot make the store. Thread-safe.
  static absl::StatusOr<std::shared_ptr<const ClientCaSet>> Parse(
      absl::string_view ca_pem);

  ~ClientCaSet();
  ClientCaSet(const ClientCaSet&) = delete;
  ClientCaSet& operator=(const ClientCaSet&) = delete;

  // Returns true when `leaf` chains to a CA of this set at `now`, checked
  // as the handshake checks a client (X509_verify_cert, purpose sslclient,
  // gRPC's partial-chain and trusted-first flags; no CRLs: revocation.h
  // checks those), with `presented` (the certificates the client sent
  // besides its own) as untrusted intermediates. When true, `*valid_until`
  // (may be null) gets the earliest notAfter of the chain found: from then
  // on the answer no longer holds. Thread-safe. REQUIRES: leaf != nullptr.
  bool Verifies(X509* leaf, const std::vector<X509Ptr>& presented,
                absl::Time now, absl::Time* valid_until = nullptr) const;

  // How many CA certificates the set holds.
  size_t ca_count() const { return ca_count_; }

 private:
  ClientCaSet() = default;

  X509_STORE* store_ = nullptr;  // owned
  size_t ca_count_ = 0;
};

// The current CAs of the client CA file, re-read when the file changes.
class ClientCaWatcher {
 public:
  // Reads `ca_file` now. Fails with INVALID_ARGUMENT naming the file when
  // it cannot be read or fails ClientCaSet::Parse. `clock` (may be null:
  // the real clock) paces the re-reads and is the time certificates are
  // checked at. Thread-safe.
  static absl::StatusOr<std::unique_ptr<ClientCaWatcher>> Create(
      std::string ca_file, absl::Duration refresh,
      resilience::Clock* clock = nullptr);

  // Returns the current CAs. At most once per `refresh`, first checks
  // whether the file changed (FileVersion) and, if so, re-reads it; a file
  // that no longer reads or holds no certificate is logged (error) and the
  // last good CAs are kept. Thread-safe; the re-read happens on the calling
  // thread.
  std::shared_ptr<const ClientCaSet> Current();

  // Returns true when the certificate `leaf_pem` (whose SHA-256 is
  // `fingerprint`) chains to a Current() CA now (ClientCaSet::Verifies,
  // `chain_pem` the certificates the client sent besides it); false too
  // when `leaf_pem` holds no certificate. The answer is kept per
  // certificate and chain sent (CertificateAnswers) until the CAs change
  // or, for a trusted certificate, its chain expires: a connection's calls
  // verify its chain once per version of the file, not on every call.
  // Thread-safe.
  bool IsCallerTrusted(const std::string& fingerprint,
                       absl::string_view leaf_pem, absl::string_view chain_pem);

  const std::string& ca_file() const { return ca_file_; }

 private:
  struct Answer {
    bool trusted = false;
    absl::Time until;  // when the answer must be found again
  };
  ClientCaWatcher(std::string ca_file, absl::Duration refresh,
                  resilience::Clock* clock);
  // Reads the file; `version` is its version before reading.
  absl::StatusOr<std::shared_ptr<const ClientCaSet>> Load(
      FileVersion* version) const;

  const std::string ca_file_;
  const absl::Duration refresh_;
  resilience::Clock* const clock_;
  absl::Mutex mu_;
  std::shared_ptr<const ClientCaSet> current_ ABSL_GUARDED_BY(mu_);
  FileVersion version_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_at_ ABSL_GUARDED_BY(mu_);
  CertificateAnswers<Answer> answers_;
};

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_CLIENT_CA_H_
