// CheckStartup: what `lienthong-gateway --check` runs. It builds everything
// the daemon builds at start, with the same code, but neither listens nor
// writes, so that a config it passes starts:
//   - the config-level rules (config::ValidateConfig);
//   - the runtime (BuildRuntime): every adapter through the registry and
//     its factory, the routes (which methods, to adapters that can serve
//     them), the policy, rate limits, breakers, retries and budget;
//   - the listener's TLS credentials (certificate, key, client CA);
//   - the audit log (server_setup.h CheckAuditLog): keys, and an existing
//     store opened read-only and resumed; a missing one can be created;
//     with audit.index_store: postgres, that LIENTHONG_PG_DSN is set and
//     parses (not connected to);
//   - portal synchronisation: sync::PortalSync::Create over a scratch
//     outbox (its adapter, settings, worker), and the configured outbox
//     file (sync::Outbox::CheckFile): opened read-only when it exists and
//     of a schema version this gateway reads, or its folder writable;
//   - bundles (bundle::CheckBundles): the definitions against the
//     adapters the runtime built, the holiday file, the bundle store
//     openable (read-only when it exists).
// Not checked: that the listen and admin addresses can be bound (that is
// listening).
#ifndef LIENTHONG_GATEWAY_SERVER_STARTUP_CHECK_H_
#define LIENTHONG_GATEWAY_SERVER_STARTUP_CHECK_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/common/http/http_client.h"
#include "adapters/registry.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::server {

// A refusal of sync::PortalSync::Create, marked with the config field it is
// about (config::AtConfigField): the one its message names first
// ("portal_sync.adapter: ...", "portal_sync.procedure_codes[0].national:
// ..."), else portal_sync.
absl::Status AtPortalSyncField(const absl::Status& status);

// Returns OK when `config` would start, or the first error start-up would
// meet: INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE or FAILED_PRECONDITION as
// the part that refused it says, marked with the config field it is about
// (config::AtConfigField) where one is, for ConfigPositions::Locate.
// Creates nothing outside a scratch folder under $TMPDIR, removed again.
// Thread-safe. REQUIRES: `http` outlives the call (adapters are made and
// dropped with it).
absl::Status CheckStartup(const lienthong::config::v1::GatewayConfig& config,
                          const adapters::AdapterRegistry& registry,
                          adapters::HttpClient* http);

// lienthong-gateway --migrate: brings the schema of every store `config`
// keeps on PostgreSQL (the outbox, the audit index) to this gateway's
// version. Returns one line per store ("outbox schema on PostgreSQL at
// version 3"). FAILED_PRECONDITION when it keeps none there or the
// database is newer; the errors of storage::pg::PoolOptionsFromConfig and
// storage::pg::Migrate. Thread-safe.
absl::StatusOr<std::vector<std::string>> MigratePostgresStores(
    const lienthong::config::v1::GatewayConfig& config);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_STARTUP_CHECK_H_
