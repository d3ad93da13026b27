// What the per-call checks (RecheckCaller: the client CA file, the CRLs)
// found for a certificate, kept so that a connection's calls parse and
// verify its certificates once, not on every call. An answer depends on the
// leaf (its SHA-256 fingerprint) and on the chain the client sent with it,
// which two connections of one certificate need not send alike (a resumed
// TLS session may carry none): it is kept for both, and for one version of
// what it was found against (a CA set, the CRLs), all forgotten when that
// version changes.
//
//   CertificateAnswers<bool> answers;
//   if (auto kept = answers.Find(lists, fingerprint, chain_pem)) return *kept;
//   const bool revoked = ...;
//   answers.Keep(lists, fingerprint, chain_pem, revoked);
#ifndef LIENTHONG_GATEWAY_TLS_CERTIFICATE_ANSWERS_H_
#define LIENTHONG_GATEWAY_TLS_CERTIFICATE_ANSWERS_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace lienthong::tls {

template <typename Answer>
class CertificateAnswers {
 public:
  // At most this many certificates' answers are kept, and this many chains
  // per certificate: all are forgotten when one more would not fit, so a
  // flood of distinct certificates or chains costs verifications, not
  // memory. A gateway has far fewer client certificates.
  static constexpr size_t kMaxCertificates = 1024;
  static constexpr size_t kMaxChainsPerCertificate = 4;

  // The answer kept for the certificate `fingerprint` sent with
  // `chain_pem`, found against `version`; none when there is none.
  // Thread-safe.
  std::optional<Answer> Find(const std::shared_ptr<const void>& version,
                             const std::string& fingerprint,
                             absl::string_view chain_pem) {
    absl::MutexLock lock(&mu_);
    if (version != version_) return std::nullopt;
    auto it = answers_.find(fingerprint);
    if (it == answers_.end()) return std::nullopt;
    for (const auto& [chain, answer] : it->second) {
      if (chain == chain_pem) return answer;
    }
    return std::nullopt;
  }

  // Keeps `answer` for the certificate `fingerprint` sent with `chain_pem`,
  // found against `version`; the answers found against another version
  // are forgotten. Thread-safe.
  void Keep(const std::shared_ptr<const void>& version,
            const std::string& fingerprint, absl::string_view chain_pem,
            Answer answer) {
    absl::MutexLock lock(&mu_);
    if (version != version_) {
      version_ = version;
      answers_.clear();
    }
    if (answers_.size() >= kMaxCertificates &&
        answers_.find(fingerprint) == answers_.end()) {
      answers_.clear();
    }
    std::vector<std::pair<std::string, Answer>>& chains = answers_[fingerprint];
    for (auto& [chain, kept] : chains) {
      if (chain == chain_pem) {
        kept = std::move(answer);
        return;
      }
    }
    if (chains.size() >= kMaxChainsPerCertificate) chains.clear();
    chains.emplace_back(std::string(chain_pem), std::move(answer));
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<const void> version_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::pair<std::string, Answer>>>
      answers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_CERTIFICATE_ANSWERS_H_
