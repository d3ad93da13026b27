// Runtime: everything a call needs that a config reload replaces as a whole —
// the access policy, client rate limits, the adapter instances with the
// protections in front of each national system, and the routes. Calls hold
// a reference until their last attempt has answered (which may be after the
// call itself was answered), so adapters outlive the calls using them.
#ifndef LIENTHONG_GATEWAY_SERVER_RUNTIME_H_
#define LIENTHONG_GATEWAY_SERVER_RUNTIME_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/registry.h"
#include "gateway/policy/policy.h"
#include "gateway/resilience/rate_limiter.h"
#include "gateway/resilience/retry.h"
#include "gateway/resilience/timer.h"
#include "gateway/server/resilient_call.h"
#include "gateway/server/server_metrics.h"
#include "gateway/validation/records.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::server {

inline constexpr char kVerifyIdentity[] =
    "lienthong.v1.IdentityService/VerifyIdentity";
inline constexpr char kLookupCitizen[] =
    "lienthong.v1.PopulationService/LookupCitizen";
inline constexpr char kSignInWithVneid[] =
    "lienthong.v1.IdentityService/SignInWithVneid";
inline constexpr char kGetRecord[] = "lienthong.v1.RecordService/GetRecord";

struct Route {
  adapters::IdentityAdapter* identity = nullptr;
  adapters::PopulationAdapter* population = nullptr;
  adapters::CitizenSignInAdapter* sign_in = nullptr;
  adapters::RecordAdapter* records = nullptr;
  std::string adapter_name;
  absl::Duration timeout = absl::Seconds(10);
  UpstreamGuard* guard = nullptr;
  std::unique_ptr<resilience::Retrier> retrier;
};

// Where records of one type come from.
struct RecordRoute {
  // The type as its adapter declares it, patterns compiled.
  std::unique_ptr<const validation::RecordSchema> schema;
  // The GetRecord route of the adapter instance that declares the type.
  const Route* route = nullptr;
};

class Runtime {
 public:
  std::shared_ptr<const policy::Policy> policy;
  // Shared with the runtime a reload replaces when the limits are
  // unchanged, so a reload does not refill every client's bucket.
  std::shared_ptr<resilience::ClientRateLimiter> rate_limiter;
  std::string rate_limit_settings;  // what rate_limiter was built from
  std::vector<std::unique_ptr<adapters::Adapter>> adapters;
  // The instances above by their config names.
  std::map<std::string, adapters::Adapter*, std::less<>> adapters_by_name;
  // Shared with the runtime a reload replaces when the instance's settings
  // are unchanged (see BuildRuntime).
  std::map<std::string, std::shared_ptr<UpstreamGuard>, std::less<>> guards;
  std::map<std::string, Route, std::less<>> routes;
  // GetRecord's routes, one per adapter instance that serves records, by
  // instance name (a route entry for GetRecord tunes its timeout and
  // retries; defaults otherwise).
  std::map<std::string, Route, std::less<>> record_routes;
  // Every record type served, each by the one instance declaring it.
  std::map<std::string, RecordRoute, std::less<>> record_types;

  const Route* FindRoute(absl::string_view method) const {
    auto it = routes.find(method);
    return it == routes.end() ? nullptr : &it->second;
  }
  const RecordRoute* FindRecordType(absl::string_view type) const {
    auto it = record_types.find(type);
    return it == record_types.end() ? nullptr : &it->second;
  }
};

// What runtimes share for the whole life of the process.
struct RuntimeResources {
  const adapters::AdapterRegistry* registry = nullptr;
  adapters::HttpClient* http = nullptr;
  resilience::TimerQueue* timers = nullptr;
  ServerMetrics* metrics = nullptr;  // may be null
};

// Builds the runtime a config describes: the policy, client rate limits,
// every adapter through its factory with its breaker, in-flight cap and
// retry budget, and a route for each method. Owns the rules only building
// can check: which methods can be routed and to adapters offering what,
// the adapters' own settings, the resilience settings as defaults fill
// them in; each record type served by exactly one adapter instance, and
// record grants naming served types and their fields. Fails with
// INVALID_ARGUMENT marked with the config field it is
// about (config::AtConfigField: "routes[0].adapter: adapter 'vneid' ...
// cannot serve ..."), INTERNAL when `config` was not validated.
// `previous`, the runtime a reload replaces (null at start): an adapter
// instance whose settings (type, config, breaker, in-flight cap) and the
// retry budget are unchanged keeps its protections, so a reload neither
// closes an open breaker nor lets a second cap's worth of calls through
// beside those still in flight under the first; unchanged client rate
// limits keep their buckets.
// REQUIRES: config::ValidateConfig(config) passed; `resources` outlive it.
absl::StatusOr<std::shared_ptr<const Runtime>> BuildRuntime(
    const lienthong::config::v1::GatewayConfig& config,
    const RuntimeResources& resources, const Runtime* previous = nullptr);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_RUNTIME_H_
