#include "adapters/vneid_identity/nonce_store.h"

#include <openssl/sha.h>

#include "absl/base/const_init.h"
#include "absl/strings/str_cat.h"

namespace lienthong::adapters::vneid {
namespace {

std::string Digest(absl::string_view nonce) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

}  // namespace

std::shared_ptr<NonceStore> NonceStore::Shared(const std::string& issuer,
                                               const std::string& client_id) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* stores ABSL_GUARDED_BY(mu) =
      new absl::flat_hash_map<std::string, std::weak_ptr<NonceStore>>();
  const std::string key = absl::StrCat(issuer, "\n", client_id);
  absl::MutexLock lock(&mu);
  // Entries of stores no adapter holds any more go as they are met.
  for (auto it = stores->begin(); it != stores->end();) {
    if (it->second.expired()) {
      stores->erase(it++);
    } else {
      ++it;
    }
  }
  std::weak_ptr<NonceStore>& slot = (*stores)[key];
  std::shared_ptr<NonceStore> store = slot.lock();
  if (store == nullptr) {
    store = std::make_shared<NonceStore>();
    slot = store;
  }
  return store;
}

void NonceStore::ForgetExpired(absl::Time now) {
  while (!expiry_.empty() && expiry_.top().first <= now) {
    auto it = used_.find(expiry_.top().second);
    // A digest is in the queue once: it is only added when not in used_.
    if (it != used_.end() && it->second <= now) used_.erase(it);
    expiry_.pop();
  }
}

absl::Status NonceStore::Use(absl::string_view nonce, absl::Time forget_after,
                             absl::Time now, size_t capacity) {
  std::string digest = Digest(nonce);
  absl::MutexLock lock(&mu_);
  ForgetExpired(now);
  if (used_.contains(digest)) {
    return absl::UnauthenticatedError("nonce already used");
  }
  if (used_.size() >= capacity) {
    return absl::ResourceExhaustedError(
        "too many recent VNeID sign-ins remembered; try again later");
  }
  used_.emplace(digest, forget_after);
  expiry_.emplace(forget_after, std::move(digest));
  return absl::OkStatus();
}

size_t NonceStore::size() const {
  absl::MutexLock lock(&mu_);
  return used_.size();
}

}  // namespace lienthong::adapters::vneid
