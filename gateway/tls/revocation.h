// Revocation of client certificates: the certificate revocation lists (CRLs)
// of the client CAs, read from one PEM file and checked by the gateway's own
// handshake verifier (gateway/tls/handshake_verifier.h).
//
// Why not gRPC's `set_crl_directory`: in 1.51 it hands the folder to
// OpenSSL's hashed-directory lookup, which caches a CRL once loaded and does
// not see a changed file until a new suffix (.r1, .r2 ...) appears; it also
// needs `c_rehash`-style names and fails every handshake of a CA without a
// CRL. Checking here lets a replaced file take effect without a restart, from
// one plain PEM file, and keeps the last good lists when an edit is broken.
//
//   auto crls = CrlFileWatcher::Create(crl_file, ca_file, absl::Seconds(60));
//   ...
//   if ((*crls)->Current()->IsRevoked(cert)) { /* refuse the handshake */ }
//   if ((*crls)->IsCallerRevoked(fingerprint, leaf_pem, chain_pem)) {
//     /* refuse a call on a connection admitted before the CRL changed */
//   }
#ifndef LIENTHONG_GATEWAY_TLS_REVOCATION_H_
#define LIENTHONG_GATEWAY_TLS_REVOCATION_H_

#include <openssl/x509.h>

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

// The CRLs of one file, each verified against its issuing CA. Immutable.
class RevocationLists {
 public:
  // Parses every CRL in `crl_pem` and checks that each is signed by the
  // certificate in `ca_pem` whose subject is the CRL's issuer.
  // Fails with INVALID_ARGUMENT when the text holds no CRL, a CRL cannot be
  // parsed, its issuer is not a certificate of `ca_pem`, or its signature
  // does not verify. Thread-safe.
  static absl::StatusOr<std::shared_ptr<const RevocationLists>> Parse(
      absl::string_view crl_pem, absl::string_view ca_pem);

  ~RevocationLists();
  RevocationLists(const RevocationLists&) = delete;
  RevocationLists& operator=(const RevocationLists&) = delete;

  // Returns true when the CRL of `cert`'s issuer lists `cert`'s serial
  // number. A certificate whose issuer has no CRL here is not revoked.
  // Thread-safe. REQUIRES: cert != nullptr.
  bool IsRevoked(X509* cert) const;

  // Returns true when `leaf` or a CA between it and its self-signed root is
  // revoked (IsRevoked). The path is followed issuer by issuer, each the
  // certificate whose key verifies the one before, among the client CA
  // file's and then `presented` (the certificates the client sent besides
  // its own): a client need not send an intermediate the CA file holds, and
  // a server learns of the client's chain without its leaf.
  // Thread-safe. REQUIRES: leaf != nullptr.
  bool IsPathRevoked(X509* leaf, const std::vector<X509Ptr>& presented) const;

  // How many CRLs, and how many revoked serials in all.
  size_t list_count() const { return crls_.size(); }
  size_t revoked_count() const;

  // The earliest nextUpdate of the lists (InfiniteFuture() when none says):
  // past it the issuer should have published a newer list.
  absl::Time next_update() const { return next_update_; }

 private:
  RevocationLists() = default;

  std::vector<X509_CRL*> crls_;  // owned
  std::vector<X509Ptr> cas_;     // the client CA file's certificates
  absl::Time next_update_ = absl::InfiniteFuture();
};

// The current lists of a CRL file, re-read when the file changes.
class CrlFileWatcher {
 public:
  // Reads and verifies `crl_file` against the CA bundle `ca_file` now.
  // Fails with INVALID_ARGUMENT naming the file when it cannot be read or
  // fails RevocationLists::Parse. `clock` may be null (the real clock).
  // Thread-safe.
  static absl::StatusOr<std::unique_ptr<CrlFileWatcher>> Create(
      std::string crl_file, std::string ca_file, absl::Duration refresh,
      resilience::Clock* clock = nullptr);

  // Returns the current lists. At most once per `refresh`, first checks
  // whether the CRL file or the CA file changed (modification or change
  // time, size or inode) and, if so, re-reads both; a file that no longer reads
  // or verifies is logged (error) and the last good lists are kept. Lists past
  // their nextUpdate are logged (warning) once per load and still enforced.
  // Thread-safe; the re-read happens on the calling thread.
  std::shared_ptr<const RevocationLists> Current();

  // Returns true when the Current() lists revoke the certificate `leaf_pem`
  // (whose SHA-256 is `fingerprint`) or a CA on its path (IsPathRevoked,
  // `chain_pem` the certificates the client sent besides it), or when
  // `leaf_pem` holds no certificate. The answer is kept per certificate
  // and chain sent (CertificateAnswers) until the lists change: a
  // connection's calls parse and verify its certificates once, not on
  // every call. Thread-safe.
  bool IsCallerRevoked(const std::string& fingerprint,
                       absl::string_view leaf_pem, absl::string_view chain_pem);

  const std::string& crl_file() const { return crl_file_; }

 private:
  // Both files': a CRL refused for want of its CA loads once the CA file
  // has it, and one that could not be read once its mode is fixed.
  struct Versions {
    bool operator==(const Versions& o) const {
      return crl == o.crl && ca == o.ca;
    }
    FileVersion crl;
    FileVersion ca;
  };
  CrlFileWatcher(std::string crl_file, std::string ca_file,
                 absl::Duration refresh, resilience::Clock* clock);
  Versions StatBoth() const {
    return {StatFileVersion(crl_file_), StatFileVersion(ca_file_)};
  }
  // Reads both files; `versions` are theirs before reading.
  absl::StatusOr<std::shared_ptr<const RevocationLists>> Load(
      Versions* versions) const;

  const std::string crl_file_;
  const std::string ca_file_;
  const absl::Duration refresh_;
  resilience::Clock* const clock_;
  absl::Mutex mu_;
  std::shared_ptr<const RevocationLists> current_ ABSL_GUARDED_BY(mu_);
  Versions state_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_at_ ABSL_GUARDED_BY(mu_);
  CertificateAnswers<bool> answers_;
};

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_REVOCATION_H_
