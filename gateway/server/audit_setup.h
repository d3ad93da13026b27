// How the gateway sets up its audit log from the config: the log's options
// (with development keys made on first start when no key file is set), and
// the audit metrics on the admin endpoint.
#ifndef LIENTHONG_GATEWAY_SERVER_AUDIT_SETUP_H_
#define LIENTHONG_GATEWAY_SERVER_AUDIT_SETUP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/audit/audit_log.h"
#include "gateway/metrics/registry.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::server {

// Returns the AuditLog options `config` describes for node `node`. Without
// key files configured, development keys (signing, HMAC, digest) are made
// beside the index on first start (logged; not pinned); configured key
// files must exist. Fails with UNAVAILABLE when
// the folder or a development key cannot be made.
absl::StatusOr<audit::AuditLog::Options> AuditLogOptions(
    const lienthong::config::v1::Audit& config, const std::string& node);

// Opens the audit log `config` describes (errors as AuditLog::Open, the
// message prefixed "audit log: "). A log that opened NOT READY is returned:
// the gateway then starts, refuses audited calls and says why on /readyz.
absl::StatusOr<std::unique_ptr<audit::AuditLog>> OpenAuditLog(
    const lienthong::config::v1::Audit& config, const std::string& node);

// Adds the lienthong_audit_* gauges, read from `log` at scrape time.
// REQUIRES: `log` outlives `registry`'s scrapes (the gateway owns both).
void ExportAuditMetrics(const audit::AuditLog* log, metrics::Registry& registry);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_AUDIT_SETUP_H_
