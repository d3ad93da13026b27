// GatewayServer: the gRPC front of Lienthong. Terminates mutual TLS, learns
// who is calling from the client certificate, applies the access policy,
// validates requests, routes each method to its adapter instance, and answers
// asynchronously (gRPC callback API) when the national system has.
#ifndef LIENTHONG_GATEWAY_SERVER_GATEWAY_SERVER_H_
#define LIENTHONG_GATEWAY_SERVER_GATEWAY_SERVER_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adapters/registry.h"
#include "gateway/audit/audit_log.h"
#include "gateway/calls/call_recorder.h"
#include "gateway/metrics/registry.h"
#include "gateway/resilience/timer.h"
#include "gateway/server/health_reporter.h"
#include "gateway/server/runtime.h"
#include "gateway/server/server_metrics.h"
#include "gateway/storage/pg/pg_pool.h"
#include "gateway/tls/client_identity.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/callback_common.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::server {

class Services;

// A service served on the gateway's listener beside its own (the portal
// synchronisation, the bundles).
struct ExtraService {
  grpc::Service* service = nullptr;
  // Its full name ("lienthong.v1.PortalSyncService"), under which
  // grpc.health.v1.Health reports it.
  std::string name;
  // What it needs beyond the gateway (its store can be reached), or null:
  // nothing. OK, or UNAVAILABLE saying why (no secrets, no personal data).
  std::function<absl::Status()> ready;
  // Whether it can go on with a reload's runtime (the bundles: their
  // running definitions' steps against its adapters), or null: it can.
  // A refusal (INVALID_ARGUMENT marked with its config field) refuses the
  // reload.
  std::function<absl::Status(std::shared_ptr<const Runtime>)> serves_with;
};

class GatewayServer {
 public:
  // Validates `config` (config::ValidateConfig), builds adapters, routes
  // and policy (BuildRuntime), the listener's credentials and the audit
  // log, and starts listening. Fails with INVALID_ARGUMENT for a config that
  // cannot be served (bad route, unreadable certificate), the audit log's
  // errors, and UNAVAILABLE when the address cannot be bound; errors about
  // one config field carry it (config::AtConfigField) for
  // ConfigPositions::Locate. REQUIRES: `registry` and `http` outlive the
  // server.
  // `extra_services` (may be empty) are served on the same listener, e.g.
  // the portal synchronisation, and are part of ServiceReady; they must
  // outlive the server and do their own authorisation with the helpers in
  // this header. `pg_pool` is the
  // process's PostgreSQL pool (OpenPostgresPool), for audit.index_store:
  // postgres; null: one is made from the config when needed.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(
      const lienthong::config::v1::GatewayConfig& config,
      const adapters::AdapterRegistry& registry, adapters::HttpClient* http,
      const std::vector<ExtraService>& extra_services = {},
      std::shared_ptr<storage::pg::Pool> pg_pool = nullptr);

  ~GatewayServer();

  // Identifies the caller of `ctx` from its client certificate, takes one
  // call from its rate limit, and checks that the current policy lets it
  // call `method` (a full method name). For extra services. Fails with
  // UNAUTHENTICATED, RESOURCE_EXHAUSTED (over the limit, checked before the
  // rights) or PERMISSION_DENIED.
  // Thread-safe.
  absl::Status Authorize(const grpc::CallbackServerContext& ctx,
                         absl::string_view method,
                         tls::ClientIdentity* caller) const;

  // The audit log, or null when auditing is off. For the audit service.
  audit::AuditLog* audit_log() const { return audit_.get(); }
  // Records calls (access log, metrics, audit) for this gateway's services
  // and for those added beside them (portal sync, bundles).
  std::shared_ptr<const calls::CallRecorder> recorder() const {
    return recorder_;
  }

  // The runtime now (adapters and their protections), for extra services
  // that call adapters themselves (bundles). Callers keep it for the call
  // they make; a reload replaces it for later calls. Thread-safe.
  std::shared_ptr<const Runtime> runtime() const;

  // The gateway's metrics, for the admin endpoint; other parts (portal
  // sync) add their families to it. Thread-safe.
  metrics::Registry& metrics_registry() { return metrics_registry_; }
  const metrics::Registry& metrics_registry() const { return metrics_registry_; }

  // OK when every service can be served (ServiceReady("")); otherwise
  // UNAVAILABLE saying why. Thread-safe.
  absl::Status Ready() const;

  // OK when calls of `service` (full name, "lienthong.v1.PopulationService";
  // "" for every service) can be served: the audit log can be written (when
  // auditing is on; AuditLog::Readiness), no national system one of the
  // service's routes uses has an open circuit breaker, and, for the
  // AuditService, its index store can be reached; for an extra service,
  // its own `ready` too. Otherwise UNAVAILABLE saying why. The one source of
  // /readyz and of the grpc.health.v1.Health statuses.
  // Thread-safe.
  absl::Status ServiceReady(absl::string_view service) const;

  // The bound port (useful when the config asked for port 0).
  int port() const { return port_; }

  // Replaces routes, adapters, clients and limits with those of `config`,
  // atomically: calls in flight finish on the old set, new calls use the new
  // one, new connections are admitted in the TLS handshake by the new client
  // list and new calls on existing ones are held to it too (a removed or
  // re-pinned client's are refused; existing connections still end within
  // the listener's maximum connection age).
  // On any error (INVALID_ARGUMENT naming it, as Start's, or an extra
  // service's serves_with refusal) the running set stays.
  // Listener and TLS settings are not reloaded (certificate and CRL files
  // are re-read on their own). Thread-safe.
  absl::Status Reload(const lienthong::config::v1::GatewayConfig& config);

  // Stops accepting calls, lets calls in flight finish until `grace` has
  // passed, then cancels the rest. Thread-safe; idempotent.
  void Shutdown(absl::Duration grace);
  // Blocks until the server has shut down.
  void Wait();

 private:
  GatewayServer(const adapters::AdapterRegistry& registry,
                adapters::HttpClient* http);

  // Start's steps, in order. Opens the audit log unless the config turns
  // it off (with a PostgreSQL pool of its own when its index is there and
  // `pg_pool` is null) and makes the call recorder.
  absl::Status OpenAudit(const lienthong::config::v1::GatewayConfig& config,
                         std::shared_ptr<storage::pg::Pool> pg_pool);
  // The AuditService over the audit log, authorised by the runtime's
  // policy; nullptr when auditing is off.
  grpc::Service* MakeAuditService();
  // Builds and starts the gRPC server on `listener`: the gateway's own
  // services, `services`, health, reflection and the answers to unknown
  // methods. UNAVAILABLE at "listener.address" when it cannot listen.
  absl::Status Listen(const lienthong::config::v1::Listener& listener,
                      std::shared_ptr<grpc::ServerCredentials> credentials,
                      const std::vector<grpc::Service*>& services);
  // Keeps grpc.health.v1.Health's status of each service served on
  // ServiceReady.
  void ReportHealth();
  // Registers the per-system gauges of the current runtime.
  void ExportRuntimeGauges();
  // Declared first, destroyed last: runtimes and calls use them.
  metrics::Registry metrics_registry_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<calls::CallMetrics> call_metrics_;
  std::shared_ptr<const calls::CallRecorder> recorder_;
  std::unique_ptr<resilience::TimerQueue> timers_;
  RuntimeResources resources_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<Services> services_;
  std::vector<ExtraService> extra_services_;
  std::unique_ptr<grpc::Service> audit_service_;
  std::shared_ptr<grpc::Service> identity_;
  std::shared_ptr<grpc::Service> population_;
  // Keeps grpc.health.v1.Health's statuses on ServiceReady; stopped first.
  std::mutex health_mu_;
  std::unique_ptr<HealthReporter> health_;
  // The clients the TLS handshake admits; Reload updates it.
  std::shared_ptr<tls::ClientAdmission> admission_;
  // Answers methods no service has; outlives server_.
  std::unique_ptr<grpc::CallbackGenericService> unknown_methods_;
  std::shared_ptr<grpc::Service> records_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_GATEWAY_SERVER_H_
