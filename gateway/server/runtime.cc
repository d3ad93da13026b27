#include "gateway/server/runtime.h"

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/config/config_error.h"
#include "gateway/proto_util/deterministic.h"
#include "gateway/status/status_macros.h"

namespace lienthong::server {
namespace {

using lienthong::config::v1::GatewayConfig;

int OrDefault(int value, int fallback) { return value > 0 ? value : fallback; }

resilience::CircuitBreakerOptions BreakerOptions(
    const lienthong::config::v1::CircuitBreaker& c) {
  resilience::CircuitBreakerOptions o;
  if (c.consecutive_failures() > 0) o.consecutive_failures = c.consecutive_failures();
  if (c.failure_ratio() > 0) o.failure_ratio = c.failure_ratio();
  if (c.window_seconds() > 0) o.window = absl::Seconds(c.window_seconds());
  if (c.min_requests() > 0) o.min_requests = c.min_requests();
  if (c.open_seconds() > 0) o.open_duration = absl::Seconds(c.open_seconds());
  if (c.half_open_probes() > 0) o.half_open_probes = c.half_open_probes();
  return o;
}

resilience::RetryPolicy RetryPolicyOf(const lienthong::config::v1::Retry& r) {
  resilience::RetryPolicy p;
  if (r.max_attempts() > 0) p.max_attempts = r.max_attempts();
  if (r.initial_backoff_ms() > 0) {
    p.initial_backoff = absl::Milliseconds(r.initial_backoff_ms());
  }
  if (r.max_backoff_ms() > 0) p.max_backoff = absl::Milliseconds(r.max_backoff_ms());
  if (r.per_try_timeout_ms() > 0) {
    p.per_try_timeout = absl::Milliseconds(r.per_try_timeout_ms());
  }
  return p;
}

// The methods a route may name and what an adapter must offer to serve
// each: the one list to extend when the gateway relays a new method.
struct RoutableMethod {
  absl::string_view method;
  absl::string_view capability;  // for messages
  void (*bind)(adapters::Adapter& adapter, Route& route);
};
constexpr RoutableMethod kRoutable[] = {
    {kVerifyIdentity, "identity verification",
     [](adapters::Adapter& a, Route& r) { r.identity = a.identity(); }},
    {kLookupCitizen, "population lookups",
     [](adapters::Adapter& a, Route& r) { r.population = a.population(); }},
    {kSignInWithVneid, "citizen sign-in",
     [](adapters::Adapter& a, Route& r) { r.sign_in = a.sign_in(); }},
    // Routed by record type to the instance declaring it; a route entry
    // names the instance whose timeout and retries it sets.
    {kGetRecord, "records",
     [](adapters::Adapter& a, Route& r) { r.records = a.records(); }},
};

std::string RoutableNames() {
  std::string names;
  for (const RoutableMethod& m : kRoutable) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", m.method);
  }
  return names;
}

// Where in `path` (an adapters[i].config) a factory's refusal points:
// factories name the field first ("upstream.base_url must start with
// https://", "ca_file: cannot read ..."), so a leading field path of the
// adapter's config message refines it; anything else stays at `path`.
std::string FactoryErrorField(const google::protobuf::Message& empty_config,
                              absl::string_view message, std::string path) {
  const size_t end = message.find_first_of(": ");
  const google::protobuf::Descriptor* type = empty_config.GetDescriptor();
  std::string refined = path;
  for (absl::string_view part :
       absl::StrSplit(message.substr(0, end), '.')) {
    const google::protobuf::FieldDescriptor* field =
        type == nullptr ? nullptr : type->FindFieldByName(std::string(part));
    if (field == nullptr) return path;
    absl::StrAppend(&refined, ".", part);
    type = field->message_type();
  }
  return refined;
}

// Client rate limits, each checked by the resilience layer's rules;
// `previous`'s limiter when they are the same.
absl::Status AddRateLimits(const GatewayConfig& config, const Runtime* previous,
                           Runtime& runtime) {
  resilience::ClientRateLimiterOptions limits;
  for (int i = 0; i < config.clients_size(); ++i) {
    const auto& client = config.clients(i);
    if (!client.has_rate_limit()) continue;
    resilience::RateLimit limit;
    limit.per_second = client.rate_limit().requests_per_second();
    // The rate as the burst, within an int (a NaN or huge rate is refused
    // by the validation below).
    const double rate = limit.per_second;
    limit.burst =
        OrDefault(client.rate_limit().burst(),
                  rate >= 1 ? static_cast<int>(std::min<double>(
                                  rate, std::numeric_limits<int>::max()))
                            : 1);
    resilience::ClientRateLimiterOptions one;
    one.clients.emplace(client.id(), limit);
    LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
        absl::StrCat("clients[", i, "].rate_limit"),
        resilience::ValidateClientRateLimiterOptions(one)));
    limits.clients.emplace(client.id(), limit);
  }
  // Every other client: the listener's default, so that no client is
  // unlimited (config.proto, ListenerLimits.client_requests_per_second).
  const auto& listener = config.listener().limits();
  resilience::RateLimit fallback;
  fallback.per_second = listener.client_requests_per_second() > 0
                            ? listener.client_requests_per_second()
                            : 1000.0;
  fallback.burst = OrDefault(listener.client_burst(), 10000);
  limits.default_limit = fallback;
  // Exact: a rate's every bit ("%a"), each client's name with its length.
  std::string& settings = runtime.rate_limit_settings;
  absl::StrAppend(&settings, absl::StrFormat("%a", fallback.per_second), "/",
                  fallback.burst);
  for (const auto& [client, limit] : limits.clients) {
    absl::StrAppend(&settings, "|", client.size(), ":", client, " ",
                    absl::StrFormat("%a", limit.per_second), "/", limit.burst);
  }
  if (previous != nullptr && previous->rate_limit_settings == settings) {
    runtime.rate_limiter = previous->rate_limiter;
  } else {
    runtime.rate_limiter =
        std::make_shared<resilience::ClientRateLimiter>(std::move(limits));
  }
  return absl::OkStatus();
}

// The protections in front of one instance: `previous`'s when it was built
// from the same settings, new ones otherwise.
absl::StatusOr<std::shared_ptr<UpstreamGuard>> GuardFor(
    const lienthong::config::v1::AdapterInstance& instance,
    const resilience::RetryBudgetOptions& budget, const Runtime* previous,
    const std::string& path) {
  std::string settings;
  // Deterministic: equal settings, equal bytes.
  proto_util::AppendDeterministic(instance, &settings);
  // The ratio exactly ("%a"): six significant digits would hide a change.
  absl::StrAppend(&settings, "|budget ", absl::StrFormat("%a", budget.ratio));
  if (previous != nullptr) {
    auto it = previous->guards.find(instance.name());
    if (it != previous->guards.end() && it->second->settings == settings) {
      return it->second;
    }
  }
  resilience::CircuitBreakerOptions breaker =
      BreakerOptions(instance.breaker());
  LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
      path + ".breaker", resilience::ValidateCircuitBreakerOptions(breaker)));
  auto guard = std::make_shared<UpstreamGuard>();
  guard->system = instance.name();
  guard->settings = std::move(settings);
  guard->breaker =
      std::make_unique<resilience::CircuitBreaker>(instance.name(), breaker);
  guard->in_flight = std::make_unique<resilience::ConcurrencyLimiter>(
      OrDefault(instance.max_in_flight(), 2000));
  guard->budget = std::make_unique<resilience::RetryBudget>(budget);
  return guard;
}

// Creates every adapter instance with the protections in front of it.
absl::Status AddAdapters(const GatewayConfig& config,
                         const RuntimeResources& resources,
                         const resilience::RetryBudgetOptions& budget,
                         const Runtime* previous, Runtime& runtime) {
  for (int i = 0; i < config.adapters_size(); ++i) {
    const auto& instance = config.adapters(i);
    const std::string path = absl::StrCat("adapters[", i, "]");
    adapters::AdapterContext context{instance.name(), resources.http};
    if (resources.metrics != nullptr) {
      context.token_refreshes =
          &resources.metrics->token_refreshes.WithLabels({instance.name()});
    }
    auto adapter = resources.registry->Create(instance, context);
    if (!adapter.ok()) {
      std::string field = path + ".config";
      if (auto empty = resources.registry->EmptyConfigFor(instance.type())) {
        field = FactoryErrorField(*empty, adapter.status().message(), field);
      }
      return config::AtConfigField(
          field, absl::InvalidArgumentError(absl::StrCat(
                     "adapter '", instance.name(), "': ",
                     adapter.status().message())));
    }
    LIENTHONG_ASSIGN_OR_RETURN(auto guard,
                               GuardFor(instance, budget, previous, path));
    if (!runtime.guards.emplace(instance.name(), std::move(guard)).second) {
      return absl::InternalError(absl::StrCat(
          "adapter name '", instance.name(), "' used twice: the config was "
          "not validated"));
    }
    runtime.adapters_by_name.emplace(instance.name(), adapter->get());
    runtime.adapters.push_back(*std::move(adapter));
  }
  return absl::OkStatus();
}

// A route for each method, to an adapter that can serve it.
absl::Status AddRoutes(const GatewayConfig& config,
                       const RuntimeResources& resources, Runtime& runtime) {
  std::map<std::string, int, std::less<>> routed;
  for (int i = 0; i < config.routes_size(); ++i) {
    const auto& r = config.routes(i);
    const std::string path = absl::StrCat("routes[", i, "]");
    const RoutableMethod* method = nullptr;
    for (const RoutableMethod& m : kRoutable) {
      if (m.method == r.method()) method = &m;
    }
    if (method == nullptr) {
      return config::AtConfigField(
          path + ".method",
          absl::InvalidArgumentError(
              r.method().empty()
                  ? absl::StrCat("required: one of ", RoutableNames())
                  : absl::StrCat("'", r.method(), "' cannot be routed (",
                                 "routable: ", RoutableNames(),
                                 "; the gateway serves the others itself)")));
    }
    // GetRecord is routed once per adapter instance serving records.
    const std::string key = r.method() == kGetRecord
                                ? absl::StrCat(r.method(), " to ", r.adapter())
                                : r.method();
    if (auto [it, inserted] = routed.emplace(key, i); !inserted) {
      return config::AtConfigField(
          path + ".method",
          absl::InvalidArgumentError(absl::StrCat(
              "'", key, "' is already routed by routes[", it->second, "]")));
    }
    auto adapter = runtime.adapters_by_name.find(r.adapter());
    if (adapter == runtime.adapters_by_name.end()) {
      return absl::InternalError(absl::StrCat(
          path, ": no adapter named '", r.adapter(),
          "': the config was not validated"));
    }
    Route route;
    route.adapter_name = r.adapter();
    method->bind(*adapter->second, route);
    if (route.identity == nullptr && route.population == nullptr &&
        route.sign_in == nullptr && route.records == nullptr) {
      std::string adapter_type;
      for (const auto& instance : config.adapters()) {
        if (instance.name() == r.adapter()) adapter_type = instance.type();
      }
      return config::AtConfigField(
          path + ".adapter",
          absl::InvalidArgumentError(absl::StrCat(
              "adapter '", r.adapter(), "' (", adapter_type, ") cannot serve ",
              r.method(), ": it offers no ", method->capability)));
    }
    if (r.timeout_ms() > 0) route.timeout = absl::Milliseconds(r.timeout_ms());
    route.guard = runtime.guards.at(r.adapter()).get();
    resilience::RetryPolicy policy = RetryPolicyOf(r.retry());
    LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
        path + ".retry", resilience::ValidateRetryPolicy(policy)));
    route.retrier = std::make_unique<resilience::Retrier>(
        policy, resources.timers, route.guard->budget.get());
    if (route.records != nullptr) {
      runtime.record_routes.emplace(r.adapter(), std::move(route));
    } else {
      runtime.routes.emplace(r.method(), std::move(route));
    }
  }
  return absl::OkStatus();
}

// A GetRecord route for every adapter instance that serves records (with
// the defaults unless a route entry made one), and each record type it
// declares, once across instances.
absl::Status AddRecordTypes(const GatewayConfig& config,
                            const RuntimeResources& resources,
                            Runtime& runtime) {
  std::map<std::string, int, std::less<>> declared_by;  // type -> adapter
  for (int i = 0; i < config.adapters_size(); ++i) {
    const std::string& name = config.adapters(i).name();
    adapters::Adapter* adapter = runtime.adapters_by_name.at(name);
    adapters::RecordAdapter* records = adapter->records();
    if (records == nullptr) continue;
    auto [it, fresh] = runtime.record_routes.try_emplace(name);
    Route& route = it->second;
    if (fresh) {
      route.records = records;
      route.adapter_name = name;
      route.guard = runtime.guards.at(name).get();
      route.retrier = std::make_unique<resilience::Retrier>(
          resilience::RetryPolicy(), resources.timers,
          route.guard->budget.get());
    }
    const std::string path = absl::StrCat("adapters[", i, "].config");
    for (const adapters::RecordType& type : records->RecordTypes()) {
      auto schema = validation::RecordSchema::Create(type);
      if (!schema.ok()) {
        return config::AtConfigField(
            path, absl::InvalidArgumentError(absl::StrCat(
                      "adapter '", name, "': ", schema.status().message())));
      }
      if (auto [other, inserted] = declared_by.emplace(type.name, i);
          !inserted) {
        return config::AtConfigField(
            path, absl::InvalidArgumentError(absl::StrCat(
                      "record type '", type.name, "' is already served by "
                      "adapter '", config.adapters(other->second).name(),
                      "' (adapters[", other->second, "]); each record type "
                      "comes from one instance")));
      }
      runtime.record_types.emplace(type.name,
                                   RecordRoute{*std::move(schema), &route});
    }
  }
  return absl::OkStatus();
}

// Grants of record fields name a served record type and its fields.
absl::Status CheckRecordGrants(const GatewayConfig& config,
                               const Runtime& runtime) {
  for (int c = 0; c < config.clients_size(); ++c) {
    for (int g = 0; g < config.clients(c).grants_size(); ++g) {
      const auto& grant = config.clients(c).grants(g);
      if (grant.record_type().empty()) continue;
      const std::string path = absl::StrCat("clients[", c, "].grants[", g, "]");
      const RecordRoute* type = runtime.FindRecordType(grant.record_type());
      if (type == nullptr) {
        return config::AtConfigField(
            path + ".record_type",
            absl::InvalidArgumentError(absl::StrCat(
                "no configured adapter serves record type '",
                grant.record_type(), "'")));
      }
      for (int f = 0; f < grant.fields_size(); ++f) {
        if (!type->schema->HasField(grant.fields(f))) {
          return config::AtConfigField(
              absl::StrCat(path, ".fields[", f, "]"),
              absl::InvalidArgumentError(absl::StrCat(
                  "'", grant.fields(f), "' is not a field of record type '",
                  grant.record_type(), "' (fields: ",
                  absl::StrJoin(type->schema->type().fields, ", "), ")")));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Runtime>> BuildRuntime(
    const GatewayConfig& config, const RuntimeResources& resources,
    const Runtime* previous) {
  auto runtime = std::make_shared<Runtime>();
  auto policy = policy::Policy::FromConfig(config);
  if (!policy.ok()) return config::AtConfigField("clients", policy.status());
  runtime->policy = *std::move(policy);
  LIENTHONG_RETURN_IF_ERROR(AddRateLimits(config, previous, *runtime));
  resilience::RetryBudgetOptions budget;
  if (config.resilience().retry_budget_ratio() > 0) {
    budget.ratio = config.resilience().retry_budget_ratio();
  }
  LIENTHONG_RETURN_IF_ERROR(
      config::AtConfigField("resilience.retry_budget_ratio",
                            resilience::ValidateRetryBudgetOptions(budget)));
  LIENTHONG_RETURN_IF_ERROR(
      AddAdapters(config, resources, budget, previous, *runtime));
  LIENTHONG_RETURN_IF_ERROR(AddRoutes(config, resources, *runtime));
  LIENTHONG_RETURN_IF_ERROR(AddRecordTypes(config, resources, *runtime));
  LIENTHONG_RETURN_IF_ERROR(CheckRecordGrants(config, *runtime));
  return std::shared_ptr<const Runtime>(std::move(runtime));
}

}  // namespace lienthong::server
