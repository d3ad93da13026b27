#include "gateway/server/runtime.h"

#include <utility>

#include "absl/strings/str_cat.h"
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

}  // namespace

absl::StatusOr<std::shared_ptr<const Runtime>> BuildRuntime(
    const GatewayConfig& config, const RuntimeResources& resources) {
  auto runtime = std::make_shared<Runtime>();
  LIENTHONG_ASSIGN_OR_RETURN(runtime->policy,
                             policy::Policy::FromConfig(config));

  resilience::ClientRateLimiterOptions limits;
  for (const auto& client : config.clients()) {
    if (!client.has_rate_limit()) continue;
    resilience::RateLimit limit;
    limit.per_second = client.rate_limit().requests_per_second();
    limit.burst = OrDefault(client.rate_limit().burst(),
                            std::max(1, static_cast<int>(limit.per_second)));
    limits.clients.emplace(client.id(), limit);
  }
  LIENTHONG_RETURN_IF_ERROR(resilience::ValidateClientRateLimiterOptions(limits));
  runtime->rate_limiter =
      std::make_unique<resilience::ClientRateLimiter>(std::move(limits));

  resilience::RetryBudgetOptions budget;
  if (config.resilience().retry_budget_ratio() > 0) {
    budget.ratio = config.resilience().retry_budget_ratio();
  }
  LIENTHONG_RETURN_IF_ERROR(resilience::ValidateRetryBudgetOptions(budget));

  std::map<std::string, adapters::Adapter*, std::less<>> by_name;
  for (const auto& instance : config.adapters()) {
    const adapters::AdapterFactory* factory =
        resources.registry->Find(instance.type());
    if (factory == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "adapter '", instance.name(), "': unknown type '", instance.type(),
          "'"));
    }
    std::unique_ptr<google::protobuf::Message> typed =
        factory->CreateEmptyConfig();
    if (!instance.config().UnpackTo(typed.get())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "adapter '", instance.name(), "': config is not a ",
          typed->GetDescriptor()->full_name()));
    }
    adapters::AdapterContext context{instance.name(), resources.http};
    if (resources.metrics != nullptr) {
      context.token_refreshes =
          &resources.metrics->token_refreshes.WithLabels({instance.name()});
    }
    auto adapter = factory->Create(*typed, context);
    if (!adapter.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "adapter '", instance.name(), "': ", adapter.status().message()));
    }
    if (!by_name.emplace(instance.name(), adapter->get()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("adapter name '", instance.name(), "' used twice"));
    }
    runtime->adapters.push_back(*std::move(adapter));

    auto guard = std::make_unique<UpstreamGuard>();
    guard->system = instance.name();
    resilience::CircuitBreakerOptions breaker = BreakerOptions(instance.breaker());
    LIENTHONG_RETURN_IF_ERROR(resilience::ValidateCircuitBreakerOptions(breaker));
    guard->breaker =
        std::make_unique<resilience::CircuitBreaker>(instance.name(), breaker);
    guard->in_flight = std::make_unique<resilience::ConcurrencyLimiter>(
        OrDefault(instance.max_in_flight(), 2000));
    guard->budget = std::make_unique<resilience::RetryBudget>(budget);
    runtime->guards.emplace(instance.name(), std::move(guard));
  }

  for (const auto& r : config.routes()) {
    auto it = by_name.find(r.adapter());
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "route ", r.method(), ": no adapter named '", r.adapter(), "'"));
    }
    Route route;
    route.adapter_name = r.adapter();
    if (r.timeout_ms() > 0) route.timeout = absl::Milliseconds(r.timeout_ms());
    if (r.method() == kVerifyIdentity) {
      route.identity = it->second->identity();
    } else if (r.method() == kLookupCitizen) {
      route.population = it->second->population();
    } else if (r.method() == kSignInWithVneid) {
      route.sign_in = it->second->sign_in();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("route: unknown method '", r.method(), "'"));
    }
    if (route.identity == nullptr && route.population == nullptr &&
        route.sign_in == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "route ", r.method(), ": adapter '", r.adapter(),
          "' cannot serve this method"));
    }
    route.guard = runtime->guards.at(r.adapter()).get();
    resilience::RetryPolicy policy = RetryPolicyOf(r.retry());
    LIENTHONG_RETURN_IF_ERROR(resilience::ValidateRetryPolicy(policy));
    route.retrier = std::make_unique<resilience::Retrier>(
        policy, resources.timers, route.guard->budget.get());
    if (!runtime->routes.emplace(r.method(), std::move(route)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("route ", r.method(), " given twice"));
    }
  }
  return std::shared_ptr<const Runtime>(std::move(runtime));
}

}  // namespace lienthong::server
