// ClientAdmission: which client certificates may complete the TLS handshake,
// so that HTTP/2 is parsed only for configured provincial systems. It holds
// a thread-safe view of the configured clients that the server replaces on
// every reload, and a token bucket per client identity that bounds how fast
// one client opens connections.
//
// The identity rule (the same as IdentityFromAuthContext's): a certificate
// is its first SAN URI; only a certificate without a SAN URI is its subject
// CN, and that is admitted only for a client configured with
// `match_subject_cn: true`. A client with `certificate_sha256` set admits
// only those leaf certificates.
//
//   auto admission = std::make_shared<ClientAdmission>(limits);
//   admission->Update(config.clients());             // at start and reload
//   absl::StatusOr<std::string> id = admission->Admit(presented);
//   absl::Status still = admission->Recheck(presented);  // on every call
#ifndef LIENTHONG_GATEWAY_TLS_ADMISSION_H_
#define LIENTHONG_GATEWAY_TLS_ADMISSION_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gateway/resilience/clock.h"
#include "gateway/resilience/rate_limiter.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::tls {

class ClientAdmission {
 public:
  struct Limits {
    // New connections (handshakes) one client identity may make: steady
    // rate per second and burst.
    double handshakes_per_second = 10;
    int handshake_burst = 50;
  };

  // What the client certificate presents.
  struct Presented {
    absl::string_view first_uri;    // first SAN URI, or empty
    absl::string_view common_name;  // subject CN, or empty
    absl::string_view fingerprint;  // SHA-256 of the leaf, lower-case hex
  };

  // Why a certificate was refused; Reason() names it for metrics and logs.
  enum class Refusal { kUnknownIdentity, kNotPinned, kRateLimited };
  static absl::string_view Reason(Refusal refusal);

  // Admits nobody until Update(). `clock` may be null (the real clock).
  // Fails nothing; REQUIRES: resilience::ValidateRateLimit of the limits
  // is OK (the config validation checks them).
  explicit ClientAdmission(Limits limits, resilience::Clock* clock = nullptr);

  ClientAdmission(const ClientAdmission&) = delete;
  ClientAdmission& operator=(const ClientAdmission&) = delete;

  // Replaces the admitted clients with `clients`, atomically: a handshake
  // sees either the old or the new set. Fails with INVALID_ARGUMENT naming
  // the client whose certificate_sha256 is not a fingerprint (then nothing
  // changes). Thread-safe.
  absl::Status Update(
      const google::protobuf::RepeatedPtrField<config::v1::Client>& clients);

  // Returns the identity the certificate is admitted as. Otherwise fails
  // with PERMISSION_DENIED (identity not configured, or not one of its
  // pinned certificates) or RESOURCE_EXHAUSTED (the identity's handshake
  // rate is spent); `*refusal` (may be null) then says which. Messages
  // name the identity, shortened to 128 bytes. Thread-safe.
  absl::StatusOr<std::string> Admit(const Presented& presented,
                                    Refusal* refusal = nullptr);

  // Returns OK when a connection admitted earlier may go on calling under
  // the clients as they are now: Admit's identity and pin rules, without
  // its rate. A reload may have removed the identity or re-pinned it since
  // the handshake, and a connection lives up to the listener's maximum age.
  // Otherwise UNAUTHENTICATED "client certificate refused: " and Admit's
  // reason. Cheap (a lookup under a reader lock). Thread-safe.
  absl::Status Recheck(const Presented& presented) const;

 private:
  struct Rule {
    // Empty: any certificate. Transparent, so that a call's fingerprint is
    // looked up without a copy.
    std::set<std::string, std::less<>> fingerprints;
  };
  struct Clients {
    std::map<std::string, Rule, std::less<>> by_uri;
    std::map<std::string, Rule, std::less<>> by_cn;
  };

  // OK when `clients` admit `presented` (rate aside), else Admit's
  // PERMISSION_DENIED with `*refusal` saying why.
  static absl::Status Check(const Clients& clients, const Presented& presented,
                            Refusal* refusal);

  resilience::TokenBucket& BucketFor(const std::string& identity)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Limits limits_;
  resilience::Clock* const clock_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Clients> clients_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<resilience::TokenBucket>>
      buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_ADMISSION_H_
