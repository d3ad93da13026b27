// The audit log's metrics on the admin endpoint (the log itself is opened by
// server_setup.h's OpenAuditLog).
#ifndef LIENTHONG_GATEWAY_SERVER_AUDIT_SETUP_H_
#define LIENTHONG_GATEWAY_SERVER_AUDIT_SETUP_H_

#include "gateway/audit/audit_log.h"
#include "gateway/metrics/registry.h"

namespace lienthong::server {

// Adds the lienthong_audit_* gauges, read from `log` at scrape time.
// REQUIRES: `log` outlives `registry`'s scrapes (the gateway owns both).
void ExportAuditMetrics(const audit::AuditLog* log, metrics::Registry& registry);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_AUDIT_SETUP_H_
