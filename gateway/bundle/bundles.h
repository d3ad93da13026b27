// Bundles: interconnected procedures as one piece the composition root
// (gateway/server/main.cc) creates from the config's `bundles` section: the
// bundle store, the holiday calendar, the agency calls over the gateway's
// runtime, the orchestrator, its metrics and the BundleService.
//
//   GatewayServer* gateway = nullptr;
//   auto bundles = Bundles::Create(config,
//       [&gateway] { return gateway->runtime(); }, &sync->outbox());
//   auto server = GatewayServer::Start(config, registry, http,
//       {{(*bundles)->service(), BundleService::service_full_name()}});
//   gateway = server->get();
//   (*bundles)->ExportMetrics(gateway->metrics_registry());
//   (*bundles)->Start(authorize, gateway->recorder());  // checks, resumes
//   ...  SIGHUP: (*bundles)->ReloadCalendar();
//   (*bundles)->Stop();  // after the server has shut down
//
// The section is read at start (a reload re-reads the holiday file only);
// the adapters the steps call are the runtime's, so a reload's new adapter
// settings serve the steps sent after it.
#ifndef LIENTHONG_GATEWAY_BUNDLE_BUNDLES_H_
#define LIENTHONG_GATEWAY_BUNDLE_BUNDLES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "gateway/bundle/bundle_metrics.h"
#include "gateway/bundle/bundle_service.h"
#include "gateway/bundle/bundle_store.h"
#include "gateway/bundle/orchestrator.h"
#include "gateway/bundle/runtime_step_invoker.h"
#include "gateway/calendar/holiday_file.h"
#include "gateway/metrics/registry.h"
#include "gateway/sync/outbox.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::bundle {

class Bundles {
 public:
  // Opens (or creates) the store, loads the holiday file and prepares the
  // orchestrator and service; nothing runs yet. `runtime` is called only
  // from Start on. `outbox` (may be null: portal synchronisation off)
  // receives the dossiers' progress. Fails with the store's errors
  // (UNAVAILABLE, FAILED_PRECONDITION) and the holiday file's
  // (INVALID_ARGUMENT, NOT_FOUND), marked with their config fields.
  // REQUIRES: config::ValidateConfig passed; `outbox` outlives the Bundles.
  static absl::StatusOr<std::unique_ptr<Bundles>> Create(
      const lienthong::config::v1::GatewayConfig& config,
      RuntimeStepInvoker::RuntimeSource runtime, sync::Outbox* outbox);

  // Stop()s.
  ~Bundles();

  // The gRPC service to serve; UNAVAILABLE until Start.
  grpc::Service* service() { return service_.get(); }

  // Registers the lienthong_bundle* metrics. REQUIRES: once, before Start;
  // `registry` outlives the Bundles.
  void ExportMetrics(metrics::Registry& registry);

  // Checks the definitions against the adapters (CheckDefinitions), then
  // resumes the stored bundles and serves calls, authorised by `authorize`
  // and recorded by `recorder` (its audit log, if any, also takes the
  // steps' records; null: logged only). INVALID_ARGUMENT marked with the
  // definition's field; the store's errors. REQUIRES: once; the recorder's
  // audit log outlives Stop.
  absl::Status Start(BundleAuthorizer authorize,
                     std::shared_ptr<const calls::CallRecorder> recorder);

  // Whether `runtime` (a reload's) serves the running definitions' steps
  // (CheckDefinitions against its adapters): a step's adapter retyped or
  // removed would refuse or stall the bundles in flight. INVALID_ARGUMENT
  // marked with the definition's field. Thread-safe.
  absl::Status CheckRuntime(
      std::shared_ptr<const server::Runtime> runtime) const;

  // Stops the orchestrator. REQUIRES: after the server serving service()
  // has shut down. Idempotent.
  void Stop();

  // Re-reads the holiday file (SIGHUP): whether it changed, or why it was
  // refused (the calendar in use stays).
  absl::StatusOr<bool> ReloadCalendar() { return orchestrator_->RefreshCalendar(); }

  Orchestrator& orchestrator() { return *orchestrator_; }

 private:
  Bundles() = default;

  lienthong::config::v1::Bundles config_;
  // Destroyed in reverse: the service and orchestrator go before what they
  // use.
  std::unique_ptr<SqliteBundleStore> store_;
  std::unique_ptr<calendar::CalendarSource> calendar_;
  std::unique_ptr<RuntimeStepInvoker> invoker_;
  std::unique_ptr<ProgressSink> sink_;
  std::unique_ptr<BundleMetrics> metrics_;
  std::unique_ptr<Orchestrator> orchestrator_;
  std::unique_ptr<BundleService> service_;
};

// What `lienthong-gateway --check` runs for bundles, without writing: the
// definitions against the adapters `invoker` offers, the holiday file, and
// that the store can be opened (an existing one read-only, its schema not
// newer). Fails as Create and Start would, marked with the field.
absl::Status CheckBundles(const lienthong::config::v1::GatewayConfig& config,
                          const StepInvoker& invoker);

// The retry policy of one agency call from the bundles' settings.
resilience::RetryPolicy StepCallPolicy(const lienthong::config::v1::Bundles& b);

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_BUNDLES_H_
