// Where the gateway's PostgreSQL settings come from: the config's
// top-level `postgres` block (or, for configs written before it, the same
// settings under portal_sync.postgres) with the connection string from the
// environment variable LIENTHONG_PG_DSN. Every store on PostgreSQL (the
// portal outbox, the audit query index) reads its pool from here, so an
// operator writes the settings once and a gateway opens one pool.
#ifndef LIENTHONG_GATEWAY_STORAGE_PG_PG_CONFIG_H_
#define LIENTHONG_GATEWAY_STORAGE_PG_PG_CONFIG_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/storage/pg/pg_pool.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::storage::pg {

// The environment variable that holds the PostgreSQL connection string;
// the config file never does.
inline constexpr char kPgDsnVariable[] = "LIENTHONG_PG_DSN";

// Returns the settings in effect: the top-level `postgres` block when it
// is present, else portal_sync.postgres (validation refuses both).
// Thread-safe.
const lienthong::config::v1::PostgresStore& PostgresSettings(
    const lienthong::config::v1::GatewayConfig& config);

// True when any store of `config` is on PostgreSQL: portal_sync.store (with
// portal_sync configured) or audit.index_store (with auditing on).
bool UsesPostgres(const lienthong::config::v1::GatewayConfig& config);

// Returns the pool options of PostgresSettings(config) with the connection
// string from LIENTHONG_PG_DSN, checked by libpq's parser without
// connecting. FAILED_PRECONDITION "<store_field>: postgres needs the
// environment variable ..." when it is unset or empty; INVALID_ARGUMENT
// when libpq cannot parse it (the message never quotes it). Thread-safe.
absl::StatusOr<PoolOptions> PoolOptionsFromConfig(
    const lienthong::config::v1::GatewayConfig& config,
    absl::string_view store_field);

}  // namespace lienthong::storage::pg

#endif  // LIENTHONG_GATEWAY_STORAGE_PG_PG_CONFIG_H_
