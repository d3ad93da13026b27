#include "gateway/storage/pg/pg_config.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace lienthong::storage::pg {

using ::lienthong::config::v1::GatewayConfig;

const lienthong::config::v1::PostgresStore& PostgresSettings(
    const GatewayConfig& config) {
  return config.has_postgres() ? config.postgres()
                               : config.portal_sync().postgres();
}

bool UsesPostgres(const GatewayConfig& config) {
  return (!config.portal_sync().adapter().empty() &&
          config.portal_sync().store() == lienthong::config::v1::postgres) ||
         (!config.audit().disabled() &&
          config.audit().index_store() == lienthong::config::v1::postgres);
}

absl::StatusOr<PoolOptions> PoolOptionsFromConfig(
    const GatewayConfig& config, absl::string_view store_field) {
  const char* dsn = std::getenv(kPgDsnVariable);
  if (dsn == nullptr || *dsn == '\0') {
    return absl::FailedPreconditionError(absl::StrCat(
        store_field, ": postgres needs the environment variable ",
        kPgDsnVariable, " (a libpq connection string or postgresql:// URI)"));
  }
  const auto& pg = PostgresSettings(config);
  PoolOptions options;
  options.dsn = dsn;
  if (pg.pool_size() > 0) options.size = pg.pool_size();
  options.statement_timeout = pg.statement_timeout_ms() > 0
                                  ? absl::Milliseconds(pg.statement_timeout_ms())
                                  : absl::Seconds(5);
  options.synchronous_commit =
      !pg.has_synchronous_commit() || pg.synchronous_commit();
  // Checks that libpq can parse it, without connecting.
  absl::Status parsed = Pool::Create(options).status();
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kPgDsnVariable, ": ", parsed.message()));
  }
  return options;
}

}  // namespace lienthong::storage::pg
