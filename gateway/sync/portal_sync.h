// PortalSync: synchronisation with the National Public Service Portal as one
// piece the composition root (gateway/server/main.cc) creates from the
// config: the durable Outbox, the portal adapter instance, the
// DeliveryWorker and the PortalSyncService, wired together.
//
//   auto sync = PortalSync::Create(config, registry, http);  // before Start
//   GatewayServer::Start(config, registry, http,
//       {{(*sync)->service(), PortalSyncService::service_full_name(),
//         [&] { return (*sync)->Ready(); }}});
//   (*sync)->ExportMetrics(metrics_registry);  // lienthong_portal_sync_*
//   (*sync)->Start([gateway](const grpc::CallbackServerContext& ctx,
//                            absl::string_view method) {
//     tls::ClientIdentity caller;
//     return gateway->Authorize(ctx, method, &caller);
//   }, gateway->recorder());
//   ...
//   (*sync)->Stop();  // after the server has shut down
//
// The portal_sync section and its adapter are read once: a SIGHUP reload
// does not change them (restart the gateway to).
#ifndef LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_H_
#define LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "adapters/registry.h"
#include "gateway/calls/call_recorder.h"
#include "gateway/metrics/registry.h"
#include "gateway/storage/pg/pg_config.h"
#include "gateway/storage/pg/pg_pool.h"
#include "gateway/sync/catalogue_pull.h"
#include "gateway/sync/delivery_worker.h"
#include "gateway/sync/national_catalogue.h"
#include "gateway/sync/outbox.h"
#include "gateway/sync/portal_sync_service.h"
#include "gateway/sync/procedure_codes.h"
#include "gateway/sync/sync_metrics.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::audit {
class AuditLog;
}  // namespace lienthong::audit

namespace lienthong::sync {

// Where the outbox lives when portal_sync.outbox_file is empty.
inline constexpr char kDefaultOutboxFile[] = "var/outbox.db";

// The environment variable that holds the PostgreSQL connection string
// (portal_sync.store: postgres); the config file never does.
inline constexpr const char* kPgDsnVariable = storage::pg::kPgDsnVariable;

// The pool settings for the outbox (storage::pg::PoolOptionsFromConfig:
// the top-level `postgres` block, else portal_sync.postgres) with the
// connection string from LIENTHONG_PG_DSN, checked by libpq's parser
// without connecting. FAILED_PRECONDITION when the variable is unset or
// empty, INVALID_ARGUMENT when libpq cannot parse it (the message never
// quotes it). Thread-safe.
absl::StatusOr<storage::pg::PoolOptions> PostgresPoolOptions(
    const lienthong::config::v1::GatewayConfig& config);

// lienthong-gateway --migrate: brings the PostgreSQL store's schema to this
// gateway's version and returns it. FAILED_PRECONDITION when the config
// has no PostgreSQL store or the database is newer; the errors of
// PostgresPoolOptions and storage::pg::Migrate.
absl::StatusOr<int> MigratePostgres(
    const lienthong::config::v1::GatewayConfig& config);

// Returns a CallAuditor that appends each call through `recorder`
// (calls::CallRecorder::Record: caller, certificate, method, outcome,
// latency), in one record per dossier of the call (the same but for
// dossier_id), or in one without a dossier when it has none. `done` is
// called once every record has been tried: OK when all are durable,
// UNAVAILABLE when any could not be written; OK at once when the recorder
// does not wait for durability. The records of one call may be written in
// different transactions: when one fails, the others may still be in the
// log (the call itself has happened).
CallAuditor AuditCallsTo(std::shared_ptr<const calls::CallRecorder> recorder);

class PortalSync {
 public:
  // Builds everything from `config.portal_sync()`: opens (or creates, and
  // recovers) the outbox, creates an instance of the adapter it names from
  // `config.adapters()` through `registry`, and prepares worker and
  // service. `worker_options` supplies what the config does not set
  // (max_in_flight, give_up_after and delivered_retention come from the
  // config when set; a negative one, which the config's validation
  // refuses, counts as unset).
  // Fails with INVALID_ARGUMENT "portal_sync.<field>: ..." for an adapter
  // that is missing, of an unknown type or not a portal adapter, or a bad
  // procedure-code mapping; and with the outbox's errors (UNAVAILABLE,
  // FAILED_PRECONDITION). With store: postgres, the outbox uses `pg_pool`
  // when given (the gateway's one pool, shared with the audit index), else
  // a pool of its own. REQUIRES: config.portal_sync().adapter() is set;
  // `registry` and `http` outlive the PortalSync.
  static absl::StatusOr<std::unique_ptr<PortalSync>> Create(
      const lienthong::config::v1::GatewayConfig& config,
      const adapters::AdapterRegistry& registry, adapters::HttpClient* http,
      DeliveryWorkerOptions worker_options = {},
      std::shared_ptr<storage::pg::Pool> pg_pool = nullptr);

  // Stop()s.
  ~PortalSync();

  // The gRPC service to serve. Calls fail with UNAVAILABLE until Start().
  // Lives as long as the PortalSync.
  grpc::Service* service() { return service_.get(); }

  // Registers the lienthong_portal_sync_* metrics (sync_metrics.h) in
  // `registry`: outbox gauges read when scraped, delivery counters from
  // Start() on. REQUIRES: called at most once, before Start(); `registry`
  // outlives the delivery (until Stop() returns). The registry may outlive
  // the PortalSync (its gauges then read 0).
  void ExportMetrics(metrics::Registry& registry);

  // Authorises calls with `authorize` from now on, records them through
  // `recorder` (access log, metrics and, when it audits, audit records;
  // while its audit log cannot write, every call is refused with
  // UNAVAILABLE before it reaches the outbox), and starts delivering.
  // Answers wait for their audit records to be durable when the recorder
  // says so. Null: logged only. REQUIRES: called once; the recorder's audit
  // log outlives the PortalSync's service (until the server serving it has
  // shut down).
  void Start(Authorizer authorize,
             std::shared_ptr<const calls::CallRecorder> recorder = nullptr);

  // Stops delivering (waiting for deliveries in flight, bounded by the
  // worker's stop_grace). Idempotent. REQUIRES: after the server serving
  // service() has shut down, or calls may still arrive (they are answered
  // from the outbox, which stays open until destruction).
  void Stop();

  // OK while the outbox's store can be used; UNAVAILABLE with the reason
  // (Outbox::Ready) while it cannot. For the service's readiness
  // (GatewayServer::ServiceReady). Thread-safe.
  absl::Status Ready() const { return outbox_->Ready(); }

  // The parts, for status reports and metrics. Live as long as the
  // PortalSync; thread-safety as documented for each.
  Outbox& outbox() { return *outbox_; }
  DeliveryWorker& worker() { return *worker_; }
  const NationalCatalogue& catalogue() const { return *catalogue_; }

 private:
  PortalSync() = default;
  // A procedure code went unchecked: no national catalogue yet. Counts it
  // and warns, at most once a minute. Thread-safe.
  void CatalogueCheckSkipped();

  // Destroyed in reverse: the worker and the puller stop before what they
  // use goes.
  std::unique_ptr<adapters::Adapter> adapter_;
  std::unique_ptr<Outbox> outbox_;
  ProcedureCodeMap codes_;
  std::unique_ptr<NationalCatalogue> catalogue_;
  std::unique_ptr<CataloguePuller> puller_;
  std::unique_ptr<PortalSyncService> service_;
  std::unique_ptr<DeliveryWorker> worker_;
  std::atomic<int64_t> last_skip_warning_s_{0};
  // Destroyed before the worker, which has stopped using it by then (see
  // ~PortalSync); detaches the gauges from the outbox.
  std::unique_ptr<SyncMetrics> metrics_;
  bool started_ = false;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_H_
