// PortalSync: synchronisation with the National Public Service Portal as one
// piece the composition root (gateway/server/main.cc) creates from the
// config: the durable Outbox, the portal adapter instance, the
// DeliveryWorker and the PortalSyncService, wired together.
//
//   auto sync = PortalSync::Create(config, registry, http);  // before Start
//   GatewayServer::Start(config, registry, http, {(*sync)->service()});
//   (*sync)->Start([gateway](const grpc::CallbackServerContext& ctx,
//                            absl::string_view method) {
//     tls::ClientIdentity caller;
//     return gateway->Authorize(ctx, method, &caller);
//   });
//   ...
//   (*sync)->Stop();  // after the server has shut down
//
// The portal_sync section and its adapter are read once: a SIGHUP reload
// does not change them (restart the gateway to).
#ifndef LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_H_
#define LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_H_

#include <memory>

#include "absl/status/statusor.h"
#include "adapters/registry.h"
#include "gateway/sync/delivery_worker.h"
#include "gateway/sync/outbox.h"
#include "gateway/sync/portal_sync_service.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::sync {

// Where the outbox lives when portal_sync.outbox_file is empty.
inline constexpr char kDefaultOutboxFile[] = "var/outbox.db";

class PortalSync {
 public:
  // Builds everything from `config.portal_sync()`: opens (or creates, and
  // recovers) the outbox, creates an instance of the adapter it names from
  // `config.adapters()` through `registry`, and prepares worker and
  // service. `worker_options` supplies what the config does not set
  // (max_in_flight and give_up_after come from the config when set).
  // Fails with INVALID_ARGUMENT "portal_sync.<field>: ..." for an adapter
  // that is missing, of an unknown type or not a portal adapter, or a
  // negative number; and with the outbox's errors (UNAVAILABLE,
  // FAILED_PRECONDITION). REQUIRES: config.portal_sync().adapter() is set;
  // `registry` and `http` outlive the PortalSync.
  static absl::StatusOr<std::unique_ptr<PortalSync>> Create(
      const lienthong::config::v1::GatewayConfig& config,
      const adapters::AdapterRegistry& registry, adapters::HttpClient* http,
      DeliveryWorkerOptions worker_options = {});

  // Stop()s.
  ~PortalSync();

  // The gRPC service to serve. Calls fail with UNAVAILABLE until Start().
  // Lives as long as the PortalSync.
  grpc::Service* service() { return service_.get(); }

  // Authorises calls with `authorize` from now on and starts delivering.
  // REQUIRES: called once.
  void Start(Authorizer authorize);

  // Stops delivering (waiting for deliveries in flight, bounded by the
  // worker's stop_grace). Idempotent. REQUIRES: after the server serving
  // service() has shut down, or calls may still arrive (they are answered
  // from the outbox, which stays open until destruction).
  void Stop();

  // The parts, for status reports and metrics. Live as long as the
  // PortalSync; thread-safety as documented for each.
  Outbox& outbox() { return *outbox_; }
  DeliveryWorker& worker() { return *worker_; }

 private:
  PortalSync() = default;

  // Destroyed in reverse: the worker stops before what it uses goes.
  std::unique_ptr<adapters::Adapter> adapter_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<PortalSyncService> service_;
  std::unique_ptr<DeliveryWorker> worker_;
  bool started_ = false;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_H_
