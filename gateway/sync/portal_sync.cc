#include "gateway/sync/portal_sync.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gateway/audit/audit_log.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/database.h"
#include "gateway/sync/outbox_key.h"
#include "gateway/sync/pg_outbox.h"
#include "gateway/sync/procedure_codes.h"
#include "gateway/tls/client_identity.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::sync {
namespace {

// The records of one call on their way to the log: calls `done` once each
// has been released, with UNAVAILABLE if any was withheld. Released from
// the log's writer thread or, for errors found at once, from the caller's.

// The outbox key: portal_sync.outbox_key_file, or a development key made
// beside the outbox when none is configured.
absl::StatusOr<std::string> OutboxKey(
    const lienthong::config::v1::PortalSync& settings,
    const std::string& outbox_path) {
  return ConfiguredKey(settings.outbox_key_file(),
                       "portal_sync.outbox_key_file", outbox_path,
                       "outbox.key");
}

// The lease of an item in flight in the PostgreSQL outbox: the config's, or
// PgOutbox's default.
absl::Duration OutboxLease(const lienthong::config::v1::GatewayConfig& config) {
  const auto& pg = storage::pg::PostgresSettings(config);
  return pg.lease_seconds() > 0 ? absl::Seconds(pg.lease_seconds())
                                : PgOutboxOptions().lease;
}

// With the outbox on PostgreSQL another replica takes an item over once its
// lease has expired, and the lease is renewed from the claim on. So an
// attempt must end within two thirds of the lease (a third left for the
// clocks and the renewal's own delays): the item is then never sent by its
// new holder while this replica's attempt may still be on its way.
absl::Duration AttemptTimeoutUnderLease(
    const lienthong::config::v1::GatewayConfig& config,
    absl::Duration attempt_timeout) {
  if (config.portal_sync().store() != lienthong::config::v1::postgres) {
    return attempt_timeout;
  }
  return std::min(attempt_timeout, OutboxLease(config) * 2 / 3);
}

// The outbox the config names: the SQLite file, or the PostgreSQL store.
absl::StatusOr<std::unique_ptr<Outbox>> OpenOutbox(
    const lienthong::config::v1::GatewayConfig& config,
    resilience::Clock* clock, std::shared_ptr<storage::pg::Pool> pg_pool) {
  const lienthong::config::v1::PortalSync& settings = config.portal_sync();
  const std::string path = settings.outbox_file().empty()
                               ? kDefaultOutboxFile
                               : settings.outbox_file();
  if (settings.store() == lienthong::config::v1::postgres) {
    PgOutboxOptions options;
    LIENTHONG_ASSIGN_OR_RETURN(options.pool, PostgresPoolOptions(config));
    options.shared_pool = std::move(pg_pool);
    options.clock = clock;
    const auto& pg = storage::pg::PostgresSettings(config);
    options.lease = OutboxLease(config);
    if (pg.poll_interval_ms() > 0) {
      options.poll_interval = absl::Milliseconds(pg.poll_interval_ms());
    }
    if (!config.node_name().empty()) options.replica = config.node_name();
    LIENTHONG_ASSIGN_OR_RETURN(options.key, OutboxKey(settings, path));
    auto opened = PgOutbox::Open(options);
    OPENSSL_cleanse(options.key.data(), options.key.size());
    if (!opened.ok()) {
      return absl::Status(opened.status().code(),
                          absl::StrCat("portal_sync.store: ",
                                       opened.status().message()));
    }
    return std::unique_ptr<Outbox>(*std::move(opened));
  }
  OutboxOptions options;
  options.path = path;
  options.clock = clock;
  LIENTHONG_ASSIGN_OR_RETURN(options.key, OutboxKey(settings, options.path));
  absl::StatusOr<std::unique_ptr<Outbox>> opened = Outbox::Open(options);
  OPENSSL_cleanse(options.key.data(), options.key.size());
  return opened;
}

}  // namespace

absl::StatusOr<storage::pg::PoolOptions> PostgresPoolOptions(
    const lienthong::config::v1::GatewayConfig& config) {
  return storage::pg::PoolOptionsFromConfig(config, "portal_sync.store");
}

absl::StatusOr<int> MigratePostgres(
    const lienthong::config::v1::GatewayConfig& config) {
  if (config.portal_sync().adapter().empty() ||
      config.portal_sync().store() != lienthong::config::v1::postgres) {
    return absl::FailedPreconditionError(
        "--migrate is for portal_sync.store: postgres; this config keeps no "
        "PostgreSQL store (the SQLite outbox upgrades itself at start)");
  }
  LIENTHONG_ASSIGN_OR_RETURN(storage::pg::PoolOptions options,
                             PostgresPoolOptions(config));
  return PgOutbox::Migrate(options);
}

CallAuditor AuditCallsTo(std::shared_ptr<const calls::CallRecorder> recorder) {
  return [recorder = std::move(recorder)](
             const grpc::CallbackServerContext& ctx, const SyncCallRecord& call,
             absl::AnyInvocable<void(absl::Status) &&> done) {
    calls::Call base(call.method, calls::CallerOf(ctx));
    base.start = call.start;
    const lienthong::v1::AuditRecord record =
        recorder->Record(base, call.status);
    // One record per dossier, alike but for it (one without a dossier when
    // the call names none); the answer waits for all.
    std::vector<lienthong::v1::AuditRecord> records;
    if (call.dossier_ids.empty()) records.push_back(record);
    for (const std::string& dossier : call.dossier_ids) {
      records.push_back(record);
      records.back().set_dossier_id(dossier);
    }
    recorder->AuditThenRelease(std::move(records), absl::OkStatus(),
                               std::move(done));
  };
}

absl::StatusOr<std::unique_ptr<PortalSync>> PortalSync::Create(
    const lienthong::config::v1::GatewayConfig& config,
    const adapters::AdapterRegistry& registry, adapters::HttpClient* http,
    DeliveryWorkerOptions worker_options,
    std::shared_ptr<storage::pg::Pool> pg_pool) {
  const lienthong::config::v1::PortalSync& settings = config.portal_sync();
  const std::string& name = settings.adapter();
  const lienthong::config::v1::AdapterInstance* instance = nullptr;
  for (const auto& candidate : config.adapters()) {
    if (candidate.name() == name) instance = &candidate;
  }
  if (instance == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("portal_sync.adapter: no adapter named '", name, "'"));
  }
  adapters::AdapterContext context;
  context.instance_name = name;
  context.http = http;
  auto adapter = registry.Create(*instance, context);
  if (!adapter.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "portal_sync.adapter: adapter '", name, "': ", adapter.status().message()));
  }
  if ((*adapter)->portal() == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("portal_sync.adapter: adapter '", name, "' (type ",
                     instance->type(), ") cannot deliver to the portal"));
  }
  // Negative numbers are refused by the config's validation; here they
  // keep the defaults, as 0 does.
  if (settings.max_in_flight() > 0) {
    worker_options.max_in_flight = settings.max_in_flight();
  }
  if (settings.give_up_after_seconds() > 0) {
    worker_options.give_up_after = absl::Seconds(settings.give_up_after_seconds());
  }
  if (settings.delivered_retention_hours() > 0) {
    worker_options.delivered_retention =
        absl::Hours(settings.delivered_retention_hours());
  }
  worker_options.attempt_timeout =
      AttemptTimeoutUnderLease(config, worker_options.attempt_timeout);
  absl::StatusOr<ProcedureCodeMap> codes =
      ProcedureCodeMap::Create(settings.procedure_codes());
  if (!codes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("portal_sync.", codes.status().message()));
  }
  worker_options.procedure_codes = *codes;
  if (absl::Status s = ValidateDeliveryWorkerOptions(worker_options); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("portal_sync: ", s.message()));
  }

  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Outbox> outbox,
                             OpenOutbox(config, worker_options.clock, std::move(pg_pool)));

  std::unique_ptr<PortalSync> sync(new PortalSync());
  sync->adapter_ = *std::move(adapter);
  sync->outbox_ = std::move(outbox);
  sync->codes_ = *codes;
  sync->catalogue_ = std::make_unique<NationalCatalogue>();
  CataloguePullerOptions puller_options;
  if (settings.catalogue_refresh_hours() > 0) {
    puller_options.refresh = absl::Hours(settings.catalogue_refresh_hours());
  }
  sync->puller_ = std::make_unique<CataloguePuller>(
      sync->outbox_.get(), sync->adapter_->portal(), sync->catalogue_.get(),
      puller_options);
  if (absl::Status loaded = sync->puller_->LoadStored(); !loaded.ok()) {
    // A PostgreSQL outbox whose database is not reachable yet: the gateway
    // starts not ready; the catalogue comes with the next pull.
    if (!absl::IsUnavailable(loaded)) return loaded;
    log::Warning("stored national catalogue not read; it is pulled again",
                 {{"reason", loaded.message()}});
  }
  CatalogueAccess access;
  access.codes = &sync->codes_;
  access.catalogue = sync->catalogue_.get();
  access.puller = sync->puller_.get();
  PortalSync* self = sync.get();
  access.check_skipped = [self] { self->CatalogueCheckSkipped(); };
  sync->service_ =
      std::make_unique<PortalSyncService>(sync->outbox_.get(), std::move(access));
  sync->worker_ = std::make_unique<DeliveryWorker>(
      sync->outbox_.get(), sync->adapter_->portal(), std::move(worker_options));
  PortalSyncService* service = sync->service_.get();
  sync->outbox_->SetJobListener(
      [service](const std::vector<std::string>& job_ids) {
        service->OnJobsChanged(job_ids);
      });
  return sync;
}

PortalSync::~PortalSync() {
  Stop();
  if (outbox_ != nullptr) outbox_->SetJobListener(nullptr);
}

void PortalSync::ExportMetrics(metrics::Registry& registry) {
  metrics_ = std::make_unique<SyncMetrics>(registry);
  metrics_->WatchOutbox(outbox_.get());
  metrics_->WatchCatalogue(catalogue_.get());
  worker_->SetMetrics(metrics_.get());
}

void PortalSync::Start(Authorizer authorize,
                       std::shared_ptr<const calls::CallRecorder> recorder) {
  if (recorder != nullptr) service_->SetRecorder(recorder);
  if (recorder != nullptr && recorder->audited()) {
    audit::AuditLog* audit = recorder->audit();
    service_->SetAuditor(AuditCallsTo(recorder));
    // As for lookups: nothing reaches the outbox while the audit log cannot
    // be written (checked first, before the caller's rights).
    authorize = [audit, authorize = std::move(authorize)](
                    const grpc::CallbackServerContext& context,
                    absl::string_view method) {
      if (!audit->healthy()) {
        return absl::UnavailableError(
            "audit log unavailable; nothing is accepted that cannot be "
            "audited");
      }
      return authorize(context, method);
    };
  }
  service_->SetAuthorizer(std::move(authorize));
  worker_->Start();
  puller_->Start();
  started_ = true;
  auto counts = outbox_->Counts();
  if (counts.ok()) {
    log::Info("portal sync started",
              {{"outbox_id", outbox_->outbox_id()},
               {"pending", absl::StrCat(counts->pending)},
               {"dead_letters", absl::StrCat(counts->dead)}});
  }
}

void PortalSync::Stop() {
  if (!started_) return;
  started_ = false;
  puller_->Stop();
  worker_->Stop();
  log::Info("portal sync stopped");
}

void PortalSync::CatalogueCheckSkipped() {
  if (metrics_ != nullptr) metrics_->CatalogueCheckSkipped();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  int64_t last = last_skip_warning_s_.load(std::memory_order_relaxed);
  if (log::Due(absl::FromUnixSeconds(last), absl::FromUnixSeconds(now),
               absl::Seconds(60)) &&
      last_skip_warning_s_.compare_exchange_strong(last, now)) {
    log::Warning("portal sync: procedure codes go unchecked: the national "
                 "procedure database has not been read yet (lienthong "
                 "catalogue pull)");
  }
}

}  // namespace lienthong::sync
