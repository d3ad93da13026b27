// BundleService: lienthong.v1.BundleService on the gRPC callback API, in
// front of the Orchestrator, served on the gateway's listener as an extra
// service (like PortalSyncService).
//
// Every call is first authorised by the Authorizer the composition root
// provides (the caller's client certificate and the policy's method
// grants), then checked: citizen IDs, dates and names by bundle_data.h's
// rules, the officer by gateway/validation, the dossier code by the portal
// synchronisation's rule. Messages name fields, never values.
//
// Every call, allowed or refused, is audited like the gateway's other calls
// (caller and certificate, method, the dossier, the bundle's subject as a
// keyed hash, the officer, outcome, latency, digests of request and
// answer) and answered once its record is durable (withheld with
// UNAVAILABLE when it cannot be written). A stop is audited twice: the
// ResolveStep call, and a record "lienthong.bundle/Stop" whose
// request_sha256 is the SHA-256 of the reason's UTF-8 bytes, so an auditor
// can check a reason against the log without the log holding it.
//
// Unary calls answer from the orchestrator's engine thread once durable;
// WatchBundle streams from a ServerWriteReactor that writes the latest view
// after each change, one write in flight, and finishes when the bundle
// ends. No thread waits.
#ifndef LIENTHONG_GATEWAY_BUNDLE_BUNDLE_SERVICE_H_
#define LIENTHONG_GATEWAY_BUNDLE_BUNDLE_SERVICE_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/calls/call_recorder.h"
#include "gateway/bundle/orchestrator.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "lienthong/v1/bundle.grpc.pb.h"

namespace lienthong::audit {
class AuditLog;
}  // namespace lienthong::audit

namespace lienthong::bundle {

// Full method names, as the policy grants them.
inline constexpr char kStartBundleMethod[] =
    "lienthong.v1.BundleService/StartBundle";
inline constexpr char kGetBundleMethod[] = "lienthong.v1.BundleService/GetBundle";
inline constexpr char kWatchBundleMethod[] =
    "lienthong.v1.BundleService/WatchBundle";
inline constexpr char kListBundlesMethod[] =
    "lienthong.v1.BundleService/ListBundles";
inline constexpr char kResolveStepMethod[] =
    "lienthong.v1.BundleService/ResolveStep";
// The audit record of a stop (see above).
inline constexpr char kStopAuditMethod[] = "lienthong.bundle/Stop";

// Who is calling, as the authoriser found.
struct BundleCaller {
  std::string id;
  std::string cert_sha256;
};

// Decides whether the caller of `ctx` may call `method`: its identity, or
// UNAUTHENTICATED / PERMISSION_DENIED. Thread-safe.
using BundleAuthorizer = std::function<absl::StatusOr<BundleCaller>(
    const grpc::CallbackServerContext& ctx, absl::string_view method)>;

class BundleService final : public lienthong::v1::BundleService::CallbackService {
 public:
  // REQUIRES: `orchestrator` outlives the service; the service outlives the
  // gRPC server serving it.
  explicit BundleService(Orchestrator* orchestrator)
      : orchestrator_(orchestrator) {}

  // Sets how calls are authorised and recorded (access log, metrics and,
  // when the recorder audits, audit records that answers wait for as the
  // recorder says; null: logged only). Until then every call fails with
  // UNAVAILABLE. Thread-safe.
  void Start(BundleAuthorizer authorize,
             std::shared_ptr<const calls::CallRecorder> recorder);

  // The methods of lienthong.v1.BundleService; errors as in bundle.proto,
  // plus UNAUTHENTICATED / PERMISSION_DENIED from the authoriser.
  grpc::ServerUnaryReactor* StartBundle(
      grpc::CallbackServerContext* context,
      const lienthong::v1::StartBundleRequest* request,
      lienthong::v1::Bundle* response) override;
  grpc::ServerUnaryReactor* GetBundle(
      grpc::CallbackServerContext* context,
      const lienthong::v1::GetBundleRequest* request,
      lienthong::v1::Bundle* response) override;
  grpc::ServerWriteReactor<lienthong::v1::Bundle>* WatchBundle(
      grpc::CallbackServerContext* context,
      const lienthong::v1::GetBundleRequest* request) override;
  grpc::ServerUnaryReactor* ListBundles(
      grpc::CallbackServerContext* context,
      const lienthong::v1::ListBundlesRequest* request,
      lienthong::v1::ListBundlesResponse* response) override;
  grpc::ServerUnaryReactor* ResolveStep(
      grpc::CallbackServerContext* context,
      const lienthong::v1::ResolveStepRequest* request,
      lienthong::v1::Bundle* response) override;

  class Watch;
  struct Call;

 private:
  absl::StatusOr<BundleCaller> Authorize(const grpc::CallbackServerContext& ctx,
                                         absl::string_view method);
  std::shared_ptr<const calls::CallRecorder> recorder();
  // Logs, audits and answers `call` with `status` (and `response`, filled
  // already). `extra` records are appended first (the stop's).
  void Finish(std::shared_ptr<Call> call, absl::Status status,
              const google::protobuf::Message* response);

  Orchestrator* const orchestrator_;
  absl::Mutex mu_;
  BundleAuthorizer authorize_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const calls::CallRecorder> recorder_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<const calls::CallRecorder>(
          calls::CallRecorder::Options{});
};

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_BUNDLE_SERVICE_H_
