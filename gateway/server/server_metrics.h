// The gateway's own metric families, registered once per process. Labels
// never hold citizen IDs or other personal data.
#ifndef LIENTHONG_GATEWAY_SERVER_SERVER_METRICS_H_
#define LIENTHONG_GATEWAY_SERVER_SERVER_METRICS_H_

#include "gateway/metrics/registry.h"

namespace lienthong::server {

struct ServerMetrics {
  explicit ServerMetrics(metrics::Registry& registry);

  // Calls and their latency: calls::CallMetrics.
  // {system}: attempts beyond the first
  metrics::Family<metrics::Counter>& retries;
  // {client}: calls refused by the client's rate limit
  metrics::Family<metrics::Counter>& rate_limited;
  // {system}: 0 closed, 1 open, 2 half-open (callback)
  metrics::Family<metrics::Gauge>& breaker_state;
  // {system}: calls in flight to the national system (callback)
  metrics::Family<metrics::Gauge>& upstream_in_flight;
  // {file}: days until the certificate expires (callback)
  metrics::Family<metrics::Gauge>& certificate_expiry_days;
  // {system}: OAuth2 token fetches
  metrics::Family<metrics::Counter>& token_refreshes;
  // {key}: values from outside not put into metadata (not
  // [A-Za-z0-9._:-]{1,128}; outbound_metadata.h)
  metrics::Family<metrics::Counter>& metadata_dropped;
};

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_SERVER_METRICS_H_
