#include "gateway/tls/admission.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/tls/fingerprint.h"

namespace lienthong::tls {
namespace {

// An identity for a message: at most 128 bytes (the log escapes the rest).
std::string Shown(absl::string_view identity) {
  constexpr size_t kMax = 128;
  if (identity.size() <= kMax) return std::string(identity);
  return absl::StrCat(identity.substr(0, kMax), "...");
}

}  // namespace

absl::string_view ClientAdmission::Reason(Refusal refusal) {
  switch (refusal) {
    case Refusal::kUnknownIdentity: return "unknown_identity";
    case Refusal::kNotPinned: return "not_pinned";
    case Refusal::kRateLimited: return "rate_limited";
  }
  return "unknown";
}

ClientAdmission::ClientAdmission(Limits limits, resilience::Clock* clock)
    : limits_(limits),
      clock_(clock != nullptr ? clock : resilience::RealClock()),
      clients_(std::make_shared<const Clients>()) {}

absl::Status ClientAdmission::Update(
    const google::protobuf::RepeatedPtrField<config::v1::Client>& clients) {
  auto fresh = std::make_shared<Clients>();
  for (const config::v1::Client& client : clients) {
    Rule rule;
    for (const std::string& pin : client.certificate_sha256()) {
      auto fingerprint = NormalizeFingerprint(pin);
      if (!fingerprint.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("client '", Shown(client.id()),
                         "' certificate_sha256 ", fingerprint.status().message()));
      }
      rule.fingerprints.insert(*std::move(fingerprint));
    }
    auto& table = client.match_subject_cn() ? fresh->by_cn : fresh->by_uri;
    table[client.id()] = std::move(rule);
  }
  absl::MutexLock lock(&mu_);
  clients_ = std::move(fresh);
  // Buckets of identities no longer configured go; the others keep their
  // tokens, so a reload is no way around the rate.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (clients_->by_uri.count(it->first) == 0 &&
        clients_->by_cn.count(it->first) == 0) {
      buckets_.erase(it++);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

resilience::TokenBucket& ClientAdmission::BucketFor(
    const std::string& identity) {
  auto& bucket = buckets_[identity];
  if (bucket == nullptr) {
    bucket = std::make_unique<resilience::TokenBucket>(
        resilience::RateLimit{limits_.handshakes_per_second,
                              limits_.handshake_burst},
        clock_);
  }
  return *bucket;
}

absl::Status ClientAdmission::Check(const Clients& clients,
                                    const Presented& presented,
                                    Refusal* refusal) {
  const bool by_uri = !presented.first_uri.empty();
  const absl::string_view identity =
      by_uri ? presented.first_uri : presented.common_name;
  const auto& table = by_uri ? clients.by_uri : clients.by_cn;
  auto it = table.find(identity);
  if (identity.empty() || it == table.end()) {
    *refusal = Refusal::kUnknownIdentity;
    return absl::PermissionDeniedError(absl::StrCat(
        by_uri ? "SAN URI '" : "subject CN '", Shown(identity),
        "' is not a configured client",
        by_uri ? "" : " with match_subject_cn"));
  }
  const Rule& rule = it->second;
  if (!rule.fingerprints.empty() &&
      rule.fingerprints.count(presented.fingerprint) == 0) {
    *refusal = Refusal::kNotPinned;
    return absl::PermissionDeniedError(
        absl::StrCat("certificate of '", Shown(identity),
                     "' is not one of its certificate_sha256"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ClientAdmission::Admit(const Presented& presented,
                                                   Refusal* refusal) {
  Refusal ignored;
  if (refusal == nullptr) refusal = &ignored;
  absl::MutexLock lock(&mu_);
  if (absl::Status checked = Check(*clients_, presented, refusal);
      !checked.ok()) {
    return checked;
  }
  std::string admitted(presented.first_uri.empty() ? presented.common_name
                                                   : presented.first_uri);
  if (BucketFor(admitted).TryAcquire().has_value()) {
    *refusal = Refusal::kRateLimited;
    return absl::ResourceExhaustedError(
        absl::StrCat("'", Shown(admitted), "' opens connections faster than ",
                     limits_.handshakes_per_second, "/s (burst ",
                     limits_.handshake_burst, ")"));
  }
  return admitted;
}

absl::Status ClientAdmission::Recheck(const Presented& presented) const {
  std::shared_ptr<const Clients> clients;
  {
    absl::ReaderMutexLock lock(&mu_);
    clients = clients_;
  }
  Refusal ignored;
  absl::Status checked = Check(*clients, presented, &ignored);
  if (checked.ok()) return checked;
  // The handshake's refusal says UNAUTHENTICATED too (handshake_verifier.cc).
  return absl::UnauthenticatedError(
      absl::StrCat("client certificate refused: ", checked.message()));
}

}  // namespace lienthong::tls
