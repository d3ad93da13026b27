#include "gateway/server/startup_check.h"

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/admin/admin_server.h"
#include "gateway/audit/pg/pg_audit_index.h"
#include "gateway/bundle/bundle_store.h"
#include "gateway/bundle/bundles.h"
#include "gateway/config/config_error.h"
#include "gateway/config/config_loader.h"
#include "gateway/log/access_file.h"
#include "gateway/resilience/timer.h"
#include "gateway/server/runtime.h"
#include "gateway/server/server_setup.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/pg/pg_config.h"
#include "gateway/sync/portal_sync.h"

namespace lienthong::server {
namespace {

using lienthong::config::v1::GatewayConfig;

absl::Status CheckPortalSync(const GatewayConfig& config,
                             const adapters::AdapterRegistry& registry,
                             adapters::HttpClient* http) {
  // The real start-up code over a scratch outbox: the adapter, its type and
  // capability, the worker's settings.
  ScratchFolder scratch;
  if (!scratch.ok()) {
    return absl::UnavailableError("cannot make a scratch folder under $TMPDIR");
  }
  GatewayConfig scratch_config = config;
  scratch_config.mutable_portal_sync()->set_outbox_file(
      scratch.File("outbox.db"));
  // A scratch SQLite outbox also for store: postgres, which is not
  // connected to by a check.
  scratch_config.mutable_portal_sync()->set_store(
      lienthong::config::v1::sqlite);
  absl::StatusOr<std::unique_ptr<sync::PortalSync>> sync =
      sync::PortalSync::Create(scratch_config, registry, http);
  if (!sync.ok()) return AtPortalSyncField(sync.status());
  sync->reset();
  if (config.portal_sync().store() == lienthong::config::v1::postgres) {
    // The connection string is set and parses; not connected to.
    return config::AtConfigField(
        "portal_sync.store",
        sync::PostgresPoolOptions(config).status());
  }
  // The configured outbox, without writing to it: openable, and of a schema
  // version this gateway reads.
  const std::string& file = config.portal_sync().outbox_file();
  return config::AtConfigField(
      "portal_sync.outbox_file",
      sync::Outbox::CheckFile(file.empty() ? sync::kDefaultOutboxFile : file));
}

// The files the gateway writes must be distinct: two SQLite stores in one
// file (they keep their schema version in the same place) fail at start,
// and a store or log written into another's file corrupts both. Compared
// as absolute paths made lexically normal, and as files when both exist.
absl::Status CheckDistinctFiles(const GatewayConfig& config) {
  struct Written {
    const char* field;
    std::string path;
  };
  std::vector<Written> files;
  if (!config.audit().disabled()) {
    const AuditSetup setup = AuditSetupOf(config.audit(), config.node_name());
    files.push_back({"audit.store_file", setup.options.path});
    if (!setup.options.anchor_file.empty()) {
      files.push_back({config.audit().anchor_file().empty()
                           ? "audit.store_file"
                           : "audit.anchor_file",
                       setup.options.anchor_file});
    }
  }
  if (!config.bundles().definitions().empty()) {
    const std::string& file = config.bundles().store_file();
    files.push_back({"bundles.store_file",
                     file.empty() ? bundle::kDefaultBundleStoreFile : file});
  }
  if (!config.portal_sync().adapter().empty() &&
      config.portal_sync().store() != lienthong::config::v1::postgres) {
    const std::string& file = config.portal_sync().outbox_file();
    files.push_back({"portal_sync.outbox_file",
                     file.empty() ? sync::kDefaultOutboxFile : file});
  }
  if (!config.logging().access_log_file().empty()) {
    files.push_back(
        {"logging.access_log_file", config.logging().access_log_file()});
  }
  for (size_t i = 0; i < files.size(); ++i) {
    std::error_code error;
    const std::filesystem::path a =
        std::filesystem::absolute(files[i].path, error).lexically_normal();
    for (size_t j = 0; j < i; ++j) {
      const std::filesystem::path b =
          std::filesystem::absolute(files[j].path, error).lexically_normal();
      if (a == b || std::filesystem::equivalent(a, b, error)) {
        return config::AtConfigField(
            files[i].field,
            absl::InvalidArgumentError(
                absl::StrCat("is the same file as ", files[j].field,
                             ": each store and log needs a file of its own")));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AtPortalSyncField(const absl::Status& status) {
  absl::string_view message = status.message();
  if (!absl::StartsWith(message, "portal_sync")) {
    return config::AtConfigField("portal_sync", status);
  }
  const size_t end = message.find_first_of(": ");
  return config::AtConfigField(message.substr(0, end), status);
}

absl::Status CheckStartup(const GatewayConfig& config,
                          const adapters::AdapterRegistry& registry,
                          adapters::HttpClient* http) {
  LIENTHONG_RETURN_IF_ERROR(config::ValidateConfig(
      config, [&registry](absl::string_view type) {
        return registry.EmptyConfigFor(type);
      }));
  {
    resilience::TimerQueue timers;
    RuntimeResources resources;
    resources.registry = &registry;
    resources.http = http;
    resources.timers = &timers;
    LIENTHONG_ASSIGN_OR_RETURN(std::shared_ptr<const Runtime> runtime,
                               BuildRuntime(config, resources));
    if (!config.bundles().definitions().empty()) {
      // The steps' adapters as the runtime built them.
      bundle::RuntimeStepInvoker invoker(
          [runtime] { return runtime; },
          bundle::StepCallPolicy(config.bundles()));
      LIENTHONG_RETURN_IF_ERROR(bundle::CheckBundles(config, invoker));
    }
  }
  LIENTHONG_RETURN_IF_ERROR(CheckDistinctFiles(config));
  LIENTHONG_RETURN_IF_ERROR(
      ListenerCredentials(config.listener().tls()).status());
  if (!config.audit().disabled()) {
    LIENTHONG_RETURN_IF_ERROR(CheckAuditLog(config.audit(), config.node_name()));
    if (config.audit().index_store() == lienthong::config::v1::postgres) {
      // The connection string is set and parses; not connected to.
      LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
          "audit.index_store",
          storage::pg::PoolOptionsFromConfig(config, "audit.index_store")
              .status()));
    }
  }
  if (!config.portal_sync().adapter().empty()) {
    LIENTHONG_RETURN_IF_ERROR(CheckPortalSync(config, registry, http));
  }
  if (const std::string& file = config.admin().bearer_token_file();
      !config.admin().disabled() && !file.empty()) {
    // Read as the start reads it: there, and a token.
    LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
        "admin.bearer_token_file", admin::ReadBearerTokenFile(file).status()));
  }
  if (const std::string& file = config.logging().access_log_file();
      !file.empty()) {
    LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
        "logging.access_log_file", log::AccessFile::CheckOpenable(file)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MigratePostgresStores(
    const GatewayConfig& config) {
  if (!storage::pg::UsesPostgres(config)) {
    return absl::FailedPreconditionError(
        "--migrate is for stores on PostgreSQL (portal_sync.store or "
        "audit.index_store: postgres); this config keeps none (the SQLite "
        "files upgrade themselves at start)");
  }
  std::vector<std::string> done;
  if (!config.portal_sync().adapter().empty() &&
      config.portal_sync().store() == lienthong::config::v1::postgres) {
    LIENTHONG_ASSIGN_OR_RETURN(int version, sync::MigratePostgres(config));
    done.push_back(
        absl::StrCat("outbox schema on PostgreSQL at version ", version));
  }
  if (!config.audit().disabled() &&
      config.audit().index_store() == lienthong::config::v1::postgres) {
    LIENTHONG_ASSIGN_OR_RETURN(
        storage::pg::PoolOptions options,
        storage::pg::PoolOptionsFromConfig(config, "audit.index_store"));
    options.size = 1;
    LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<storage::pg::Pool> pool,
                               storage::pg::Pool::Create(options));
    LIENTHONG_ASSIGN_OR_RETURN(int version, audit::PgAuditIndex::Migrate(*pool));
    done.push_back(absl::StrCat(audit::PgAuditIndex::kComponent,
                                " schema on PostgreSQL at version ", version));
  }
  return done;
}

}  // namespace lienthong::server
