#include "gateway/tls/client_ca.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/log/log.h"

namespace lienthong::tls {
namespace {

struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};
// Frees the stack only: its certificates belong to the caller's vector.
struct CertStackDeleter {
  void operator()(STACK_OF(X509) * certs) const { sk_X509_free(certs); }
};

// The store's flags as gRPC 1.51 sets them on the handshake's store
// (ssl_ctx_load_verification_certs): a CA of the file need not be a root.
constexpr unsigned long kStoreFlags =
    X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_TRUSTED_FIRST;

}  // namespace

ClientCaSet::~ClientCaSet() { X509_STORE_free(store_); }

absl::StatusOr<std::shared_ptr<const ClientCaSet>> ClientCaSet::Parse(
    absl::string_view ca_pem) {
  const std::vector<X509Ptr> cas = ParseCertificates(ca_pem);
  if (cas.empty()) {
    return absl::InvalidArgumentError("holds no PEM certificate");
  }
  std::shared_ptr<ClientCaSet> set(new ClientCaSet());
  set->store_ = X509_STORE_new();
  if (set->store_ == nullptr ||
      X509_STORE_set_flags(set->store_, kStoreFlags) != 1) {
    ERR_clear_error();
    return absl::InternalError("cannot make a certificate store");
  }
  for (const X509Ptr& ca : cas) {
    // The store takes a reference of its own. A certificate the file
    // repeats is no error (OpenSSL 3 accepts it; older ones said so).
    if (X509_STORE_add_cert(set->store_, ca.get()) != 1) {
      const unsigned long error = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(error) != ERR_LIB_X509 ||
          ERR_GET_REASON(error) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        return absl::InternalError("cannot add a CA to the certificate store");
      }
    }
  }
  set->ca_count_ = cas.size();
  return std::shared_ptr<const ClientCaSet>(std::move(set));
}

bool ClientCaSet::Verifies(X509* leaf, const std::vector<X509Ptr>& presented,
                           absl::Time now, absl::Time* valid_until) const {
  // Made before the context, so that it outlives the context's use of it.
  std::unique_ptr<STACK_OF(X509), CertStackDeleter> untrusted(
      sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  bool verified = untrusted != nullptr && ctx != nullptr;
  for (size_t i = 0; verified && i < presented.size(); ++i) {
    verified = sk_X509_push(untrusted.get(), presented[i].get()) > 0;
  }
  if (verified) {
    verified =
        X509_STORE_CTX_init(ctx.get(), store_, leaf, untrusted.get()) == 1 &&
        X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT) == 1;
  }
  if (verified) {
    // At `now`, not the handshake's time: a certificate (or a CA) expired
    // since is refused.
    X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(now));
    verified = X509_verify_cert(ctx.get()) == 1;
  }
  if (verified && valid_until != nullptr) {
    *valid_until = absl::InfiniteFuture();
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
    const int length = chain != nullptr ? sk_X509_num(chain) : 0;
    for (int i = 0; i < length; ++i) {
      *valid_until =
          std::min(*valid_until,
                   Asn1TimeToTime(X509_get0_notAfter(sk_X509_value(chain, i))));
    }
  }
  // A failed verification leaves its reason on the thread's error queue,
  // where the TLS code that runs next would find it.
  ERR_clear_error();
  return verified;
}

ClientCaWatcher::ClientCaWatcher(std::string ca_file, absl::Duration refresh,
                                 resilience::Clock* clock)
    : ca_file_(std::move(ca_file)),
      refresh_(refresh),
      clock_(clock != nullptr ? clock : resilience::RealClock()) {}

absl::StatusOr<std::shared_ptr<const ClientCaSet>> ClientCaWatcher::Load(
    FileVersion* version) const {
  *version = StatFileVersion(ca_file_);
  auto ca_pem = ReadPemFile("listener.tls.client_ca_file", ca_file_);
  if (!ca_pem.ok()) return ca_pem.status();
  auto cas = ClientCaSet::Parse(*ca_pem);
  if (!cas.ok()) {
    return absl::Status(cas.status().code(),
                        absl::StrCat("listener.tls.client_ca_file '", ca_file_,
                                     "' ", cas.status().message()));
  }
  return cas;
}

absl::StatusOr<std::unique_ptr<ClientCaWatcher>> ClientCaWatcher::Create(
    std::string ca_file, absl::Duration refresh, resilience::Clock* clock) {
  std::unique_ptr<ClientCaWatcher> watcher(
      new ClientCaWatcher(std::move(ca_file), refresh, clock));
  FileVersion version;
  auto cas = watcher->Load(&version);
  if (!cas.ok()) return cas.status();
  absl::MutexLock lock(&watcher->mu_);
  watcher->current_ = *std::move(cas);
  watcher->version_ = version;
  watcher->checked_at_ = watcher->clock_->Now();
  return watcher;
}

std::shared_ptr<const ClientCaSet> ClientCaWatcher::Current() {
  FileVersion seen;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    if (!resilience::Elapsed(checked_at_, now, refresh_)) return current_;
    // One caller re-checks; the others go on with the current CAs.
    checked_at_ = now;
    seen = StatFileVersion(ca_file_);
    if (seen == version_) return current_;
  }
  FileVersion loaded;
  auto cas = Load(&loaded);
  absl::MutexLock lock(&mu_);
  // Remember the failed version too: it is logged once, not per check.
  version_ = cas.ok() ? loaded : seen;
  if (!cas.ok()) {
    log::Error(
        "client CA file changed but cannot be used; live connections are "
        "checked against the last good CAs",
        {{"reason", cas.status().message()}});
    return current_;
  }
  current_ = *std::move(cas);
  log::Info("client CAs reloaded for the calls of live connections",
            {{"file", ca_file_}, {"cas", absl::StrCat(current_->ca_count())}});
  return current_;
}

bool ClientCaWatcher::IsCallerTrusted(const std::string& fingerprint,
                                      absl::string_view leaf_pem,
                                      absl::string_view chain_pem) {
  std::shared_ptr<const ClientCaSet> cas = Current();
  const absl::Time now = clock_->Now();
  if (std::optional<Answer> kept = answers_.Find(cas, fingerprint, chain_pem);
      kept.has_value() && now < kept->until) {
    return kept->trusted;
  }
  // Fails closed: the handshake parsed this certificate, so one that does
  // not parse here is not let through.
  X509Ptr leaf = ParseFirstCertificate(leaf_pem);
  Answer answer;
  answer.trusted =
      leaf != nullptr && cas->Verifies(leaf.get(), ParseCertificates(chain_pem),
                                       now, &answer.until);
  // A refusal stands until the CAs change.
  if (!answer.trusted) answer.until = absl::InfiniteFuture();
  answers_.Keep(cas, fingerprint, chain_pem, answer);
  return answer.trusted;
}

}  // namespace lienthong::tls
