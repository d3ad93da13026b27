#include "gateway/tls/revocation.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/log/log.h"
#include "gateway/tls/openssl_util.h"

namespace lienthong::tls {
namespace {

// The certificate of `cas` whose subject is `crl`'s issuer and whose key
// verifies its signature; null when none does.
X509* FindIssuer(X509_CRL* crl, const std::vector<X509Ptr>& cas) {
  const X509_NAME* issuer = X509_CRL_get_issuer(crl);
  for (const X509Ptr& ca : cas) {
    if (X509_NAME_cmp(X509_get_subject_name(ca.get()), issuer) != 0) continue;
    EVP_PKEY* key = X509_get0_pubkey(ca.get());
    if (key != nullptr && X509_CRL_verify(crl, key) == 1) return ca.get();
  }
  ERR_clear_error();
  return nullptr;
}

}  // namespace

RevocationLists::~RevocationLists() {
  for (X509_CRL* crl : crls_) X509_CRL_free(crl);
}

absl::StatusOr<std::shared_ptr<const RevocationLists>> RevocationLists::Parse(
    absl::string_view crl_pem, absl::string_view ca_pem) {
  std::vector<X509Ptr> cas = ParseCertificates(ca_pem);
  std::shared_ptr<RevocationLists> lists(new RevocationLists());
  auto bio = MemoryBio(crl_pem);
  while (X509_CRL* crl =
             PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    lists->crls_.push_back(crl);
  }
  const unsigned long last_error = ERR_peek_last_error();
  ERR_clear_error();
  // Reading ends with "no start line" after the last CRL; anything else
  // is a damaged CRL.
  if (last_error != 0 && ERR_GET_REASON(last_error) != PEM_R_NO_START_LINE) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CRL ", lists->crls_.size() + 1, " cannot be parsed"));
  }
  if (lists->crls_.empty()) {
    return absl::InvalidArgumentError("holds no PEM CRL (X509 CRL)");
  }
  for (size_t i = 0; i < lists->crls_.size(); ++i) {
    X509_CRL* crl = lists->crls_[i];
    if (FindIssuer(crl, cas) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CRL ", i + 1,
          " is not signed by a certificate of the client CA file"));
    }
    lists->next_update_ = std::min(
        lists->next_update_, Asn1TimeToTime(X509_CRL_get0_nextUpdate(crl)));
  }
  lists->cas_ = std::move(cas);
  return std::shared_ptr<const RevocationLists>(std::move(lists));
}

bool RevocationLists::IsRevoked(X509* cert) const {
  const X509_NAME* issuer = X509_get_issuer_name(cert);
  for (X509_CRL* crl : crls_) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), issuer) != 0) continue;
    X509_REVOKED* entry = nullptr;
    // 1: listed; 2: listed as removeFromCRL (a delta CRL's "no longer
    // revoked"), which does not revoke.
    if (X509_CRL_get0_by_cert(crl, &entry, cert) == 1) return true;
  }
  return false;
}

bool RevocationLists::IsPathRevoked(
    X509* leaf, const std::vector<X509Ptr>& presented) const {
  // The certificate of cas_ or `presented` that issued `cert`: named as its
  // issuer and with the key that verifies its signature (a name alone can
  // be copied into a certificate the client makes); null when none did.
  auto issuer_of = [&](X509* cert) -> X509* {
    for (const std::vector<X509Ptr>* certs : {&cas_, &presented}) {
      for (const X509Ptr& candidate : *certs) {
        if (candidate.get() != cert &&
            X509_check_issued(candidate.get(), cert) == X509_V_OK &&
            X509_verify(cert, X509_get0_pubkey(candidate.get())) == 1) {
          return candidate.get();
        }
        // A failed verification leaves its reason on the thread's error
        // queue, where the TLS code that runs next would find it.
        ERR_clear_error();
      }
    }
    return nullptr;
  };
  // A root of the CA file (self-signed) is a trust anchor: a CA does not
  // revoke itself in its own list. Bounded, as a chain cannot be longer in
  // practice.
  auto is_anchor = [&](X509* cert) {
    if (X509_check_issued(cert, cert) != X509_V_OK) return false;
    for (const X509Ptr& ca : cas_) {
      if (ca.get() == cert) return true;
    }
    return false;
  };
  X509* cert = leaf;
  for (int depth = 0; cert != nullptr && depth < 16; ++depth) {
    if (is_anchor(cert)) return false;
    if (IsRevoked(cert)) return true;
    cert = issuer_of(cert);
  }
  return false;
}

size_t RevocationLists::revoked_count() const {
  size_t count = 0;
  for (X509_CRL* crl : crls_) {
    const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
    if (revoked != nullptr) count += sk_X509_REVOKED_num(revoked);
  }
  return count;
}

CrlFileWatcher::CrlFileWatcher(std::string crl_file, std::string ca_file,
                               absl::Duration refresh,
                               resilience::Clock* clock)
    : crl_file_(std::move(crl_file)),
      ca_file_(std::move(ca_file)),
      refresh_(refresh),
      clock_(clock != nullptr ? clock : resilience::RealClock()) {}

absl::StatusOr<std::shared_ptr<const RevocationLists>> CrlFileWatcher::Load(
    Versions* versions) const {
  *versions = StatBoth();
  auto crl_pem = ReadPemFile("listener.tls.client_crl_file", crl_file_);
  if (!crl_pem.ok()) return crl_pem.status();
  auto ca_pem = ReadPemFile("listener.tls.client_ca_file", ca_file_);
  if (!ca_pem.ok()) return ca_pem.status();
  auto lists = RevocationLists::Parse(*crl_pem, *ca_pem);
  if (!lists.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listener.tls.client_crl_file '", crl_file_,
                     "': ", lists.status().message()));
  }
  if ((*lists)->next_update() < clock_->Now()) {
    log::Warning(
        "client CRL is past its nextUpdate; still enforced, publish a newer one",
        {{"file", crl_file_}});
  }
  return lists;
}

absl::StatusOr<std::unique_ptr<CrlFileWatcher>> CrlFileWatcher::Create(
    std::string crl_file, std::string ca_file, absl::Duration refresh,
    resilience::Clock* clock) {
  std::unique_ptr<CrlFileWatcher> watcher(new CrlFileWatcher(
      std::move(crl_file), std::move(ca_file), refresh, clock));
  Versions state;
  auto lists = watcher->Load(&state);
  if (!lists.ok()) return lists.status();
  absl::MutexLock lock(&watcher->mu_);
  watcher->current_ = *std::move(lists);
  watcher->state_ = state;
  watcher->checked_at_ = watcher->clock_->Now();
  log::Info("client CRLs loaded",
            {{"file", watcher->crl_file_},
             {"lists", absl::StrCat(watcher->current_->list_count())},
             {"revoked", absl::StrCat(watcher->current_->revoked_count())}});
  return watcher;
}

std::shared_ptr<const RevocationLists> CrlFileWatcher::Current() {
  Versions seen;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    if (!resilience::Elapsed(checked_at_, now, refresh_)) return current_;
    // One caller re-checks; the others go on with the current lists.
    checked_at_ = now;
    seen = StatBoth();
    if (seen == state_) return current_;
  }
  Versions loaded;
  auto lists = Load(&loaded);
  absl::MutexLock lock(&mu_);
  // Remember the failed version too: it is logged once, not per check.
  state_ = lists.ok() ? loaded : seen;
  if (!lists.ok()) {
    log::Error(
        "client CRL or CA file changed but the CRLs cannot be used; "
        "the last good lists stay",
        {{"reason", lists.status().message()}});
    return current_;
  }
  current_ = *std::move(lists);
  log::Info("client CRLs reloaded",
            {{"file", crl_file_},
             {"lists", absl::StrCat(current_->list_count())},
             {"revoked", absl::StrCat(current_->revoked_count())}});
  return current_;
}

bool CrlFileWatcher::IsCallerRevoked(const std::string& fingerprint,
                                     absl::string_view leaf_pem,
                                     absl::string_view chain_pem) {
  std::shared_ptr<const RevocationLists> lists = Current();
  if (std::optional<bool> kept = answers_.Find(lists, fingerprint, chain_pem)) {
    return *kept;
  }
  // Fails closed: the handshake parsed this certificate, so one that does
  // not parse here is not let through.
  X509Ptr leaf = ParseFirstCertificate(leaf_pem);
  const bool revoked =
      leaf == nullptr ||
      lists->IsPathRevoked(leaf.get(), ParseCertificates(chain_pem));
  answers_.Keep(lists, fingerprint, chain_pem, revoked);
  return revoked;
}

}  // namespace lienthong::tls
