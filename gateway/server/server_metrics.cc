#include "gateway/server/server_metrics.h"

namespace lienthong::server {

ServerMetrics::ServerMetrics(metrics::Registry& registry)
    : retries(registry.AddCounter(
          "lienthong_upstream_retries_total",
          "Attempts beyond the first made to a national system.", {"system"})),
      rate_limited(registry.AddCounter(
          "lienthong_rate_limited_total",
          "Calls refused because the client exceeded its rate limit.",
          {"client"})),
      breaker_state(registry.AddGauge(
          "lienthong_circuit_breaker_state",
          "Circuit breaker per national system: 0 closed, 1 open, 2 half-open.",
          {"system"})),
      upstream_in_flight(registry.AddGauge(
          "lienthong_upstream_in_flight",
          "Calls in flight to each national system.", {"system"})),
      certificate_expiry_days(registry.AddGauge(
          "lienthong_certificate_expiry_days",
          "Days until the listener's certificate expires.", {"file"})),
      token_refreshes(registry.AddCounter(
          "lienthong_token_refreshes_total",
          "OAuth2 access tokens fetched from national systems.", {"system"})),
      metadata_dropped(registry.AddCounter(
          "lienthong_metadata_values_dropped_total",
          "Values from national systems or callers not sent in gRPC metadata "
          "(or, key \"reference\", as a reply's reference) because they are "
          "not [A-Za-z0-9._:-]{1,128}, by metadata key.",
          {"key"})) {}

}  // namespace lienthong::server
