// PortalSyncService: lienthong.v1.PortalSyncService on the gRPC callback
// API, in front of the Outbox. Every call is first authorised by the
// Authorizer the composition root provides (GatewayServer::Authorize: the
// caller's client certificate and the policy's method grants).
//
// Unary calls do their store work on the calling gRPC thread: a local
// SQLite transaction, never a wait on the portal. WatchSyncJob streams a
// job's progress from a ServerWriteReactor that writes when the outbox
// reports a change of the job (PortalSync wires Outbox::SetJobListener to
// OnJobsChanged), one write in flight at a time and the latest state
// always, and finishes once the job has ended; no thread waits for it.
//
// Every call, allowed or refused, is handed to the CallAuditor when one is
// set (PortalSync wires the gateway's audit log): a unary call is answered
// once the auditor reports its records durable, or withheld (UNAVAILABLE)
// when one cannot be written; a WatchSyncJob stream, which only reads job
// progress, is not held up for its record. A push about several dossiers
// gets a record for each, so that the log finds it by any of them.
#ifndef LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_SERVICE_H_
#define LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_SERVICE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/calls/call_recorder.h"
#include "gateway/sync/catalogue_pull.h"
#include "gateway/sync/national_catalogue.h"
#include "gateway/sync/outbox.h"
#include "gateway/sync/procedure_codes.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "lienthong/v1/portal.grpc.pb.h"

namespace lienthong::sync {

// Full method names, as the policy grants them.
inline constexpr char kSyncProceduresMethod[] =
    "lienthong.v1.PortalSyncService/SyncProcedures";
inline constexpr char kWatchSyncJobMethod[] =
    "lienthong.v1.PortalSyncService/WatchSyncJob";
inline constexpr char kGetSyncJobMethod[] =
    "lienthong.v1.PortalSyncService/GetSyncJob";
inline constexpr char kPushDossierStatusMethod[] =
    "lienthong.v1.PortalSyncService/PushDossierStatus";
inline constexpr char kListDeadLettersMethod[] =
    "lienthong.v1.PortalSyncService/ListDeadLetters";
inline constexpr char kRetryDeadLettersMethod[] =
    "lienthong.v1.PortalSyncService/RetryDeadLetters";
inline constexpr char kPullCatalogueMethod[] =
    "lienthong.v1.PortalSyncService/PullCatalogue";
inline constexpr char kGetCataloguePullMethod[] =
    "lienthong.v1.PortalSyncService/GetCataloguePull";

// Decides whether the caller of `ctx` may call `method` (a full method
// name). Returns OK, UNAUTHENTICATED or PERMISSION_DENIED. Thread-safe.
using Authorizer = std::function<absl::Status(
    const grpc::CallbackServerContext& ctx, absl::string_view method)>;

// One finished PortalSyncService call, for the audit log. Portal sync calls
// carry no citizen ID, so there is none to record.
struct SyncCallRecord {
  // The full method name.
  absl::string_view method;
  // PushDossierStatus: every distinct dossier (MaHoSo) its updates are
  // about, in first-seen order, so that the call is found by each of them;
  // empty for a push refused unread (caller not allowed to push, or more
  // than kMaxUpdatesPerPush updates), and for the other methods.
  std::vector<std::string> dossier_ids;
  // What the caller is answered (before any withholding).
  absl::Status status;
  // When the call arrived.
  absl::Time start;
};

// Records `call`, made through `ctx` (read it before returning; it may be
// gone later): one record per dossier in call.dossier_ids, alike but for
// the dossier, or one without a dossier when there is none. Then calls
// `done` exactly once: OK when every record is durable (or, if so
// configured, at once), an error when any cannot be written. Must not
// block; `done` may run on another thread, or on this one before the
// auditor returns.
using CallAuditor = std::function<void(
    const grpc::CallbackServerContext& ctx, const SyncCallRecord& call,
    absl::AnyInvocable<void(absl::Status) &&> done)>;

// Most updates one PushDossierStatus call may carry.
inline constexpr int kMaxUpdatesPerPush = 10000;

// What the service checks procedure codes with, and reads the national
// catalogue through. Every member may be null (empty): no mapping but the
// provincial form's, no checks, PullCatalogue and GetCataloguePull
// UNAVAILABLE.
struct CatalogueAccess {
  const ProcedureCodeMap* codes = nullptr;
  const NationalCatalogue* catalogue = nullptr;
  CataloguePuller* puller = nullptr;
  // Called for each procedure code that could not be checked because no
  // catalogue has ever been read (the call goes on). Thread-safe.
  std::function<void()> check_skipped;
};

class PortalSyncService final
    : public lienthong::v1::PortalSyncService::CallbackService {
 public:
  // REQUIRES: `outbox` and what `catalogue` points to outlive the service;
  // the service outlives the gRPC server that serves it.
  explicit PortalSyncService(Outbox* outbox, CatalogueAccess catalogue = {});
  ~PortalSyncService() override;

  // Sets how calls are authorised. Until it is set every call fails with
  // UNAVAILABLE. Thread-safe.
  void SetAuthorizer(Authorizer authorize);

  // Sets where calls are audited; empty: nowhere (the default). Thread-safe;
  // takes effect for calls that arrive afterwards.
  void SetAuditor(CallAuditor auditor);

  // Sets what writes the calls' access-log lines and metrics (by default a
  // recorder that only logs). Thread-safe.
  void SetRecorder(std::shared_ptr<const calls::CallRecorder> recorder);

  // Tells the job watchers that these jobs changed. Thread-safe; does not
  // block on the clients.
  void OnJobsChanged(const std::vector<std::string>& job_ids);

  // The methods of lienthong.v1.PortalSyncService; errors as in
  // portal.proto, plus UNAUTHENTICATED / PERMISSION_DENIED from the
  // authoriser. PushDossierStatus fails with INVALID_ARGUMENT for more than
  // kMaxUpdatesPerPush updates. PushDossierStatus and SyncProcedures fail
  // with FAILED_PRECONDITION naming each procedure code whose national code
  // the national catalogue does not have (no check while none has been
  // read).
  grpc::ServerUnaryReactor* SyncProcedures(
      grpc::CallbackServerContext* context,
      const lienthong::v1::SyncProceduresRequest* request,
      lienthong::v1::SyncProceduresResponse* response) override;
  grpc::ServerWriteReactor<lienthong::v1::SyncJob>* WatchSyncJob(
      grpc::CallbackServerContext* context,
      const lienthong::v1::GetSyncJobRequest* request) override;
  grpc::ServerUnaryReactor* GetSyncJob(
      grpc::CallbackServerContext* context,
      const lienthong::v1::GetSyncJobRequest* request,
      lienthong::v1::SyncJob* response) override;
  grpc::ServerUnaryReactor* PushDossierStatus(
      grpc::CallbackServerContext* context,
      const lienthong::v1::PushDossierStatusRequest* request,
      lienthong::v1::PushDossierStatusResponse* response) override;
  grpc::ServerUnaryReactor* ListDeadLetters(
      grpc::CallbackServerContext* context,
      const lienthong::v1::ListDeadLettersRequest* request,
      lienthong::v1::ListDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* RetryDeadLetters(
      grpc::CallbackServerContext* context,
      const lienthong::v1::RetryDeadLettersRequest* request,
      lienthong::v1::RetryDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* PullCatalogue(
      grpc::CallbackServerContext* context,
      const lienthong::v1::PullCatalogueRequest* request,
      lienthong::v1::CataloguePull* response) override;
  grpc::ServerUnaryReactor* GetCataloguePull(
      grpc::CallbackServerContext* context,
      const lienthong::v1::GetCataloguePullRequest* request,
      lienthong::v1::CataloguePull* response) override;

 private:
  // The national codes the catalogue lacks among `codes` (each with where
  // it was given), as FAILED_PRECONDITION; OK when all are known or there
  // is no catalogue to check against.
  absl::Status CheckNationalCodes(
      const std::vector<std::pair<std::string, std::string>>& codes) const;
  std::string NationalCode(absl::string_view code) const;

  class JobWatcher;

  absl::Status Authorize(const grpc::CallbackServerContext& context,
                         absl::string_view method);
  // Writes the access-log line and audits the call (one record per dossier
  // in `dossier_ids`), then finishes its reactor with `status`: once every
  // record is durable, or with UNAVAILABLE when any cannot be written.
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                   absl::string_view method, absl::Time start,
                                   const absl::Status& status,
                                   std::vector<std::string> dossier_ids = {});
  CallAuditor auditor();
  // The access-log line and metrics of a call.
  void LogAccess(const grpc::CallbackServerContext& context,
                 absl::string_view method, absl::Time start,
                 const absl::Status& status);

  Outbox* const outbox_;
  const CatalogueAccess catalogue_;

  absl::Mutex authorizer_mu_;
  Authorizer authorize_ ABSL_GUARDED_BY(authorizer_mu_);
  CallAuditor auditor_ ABSL_GUARDED_BY(authorizer_mu_);
  std::shared_ptr<const calls::CallRecorder> recorder_
      ABSL_GUARDED_BY(authorizer_mu_) =
          std::make_shared<const calls::CallRecorder>(
              calls::CallRecorder::Options{});

  // Guards the registry and every watcher's state.
  absl::Mutex watchers_mu_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<JobWatcher*>> watchers_
      ABSL_GUARDED_BY(watchers_mu_);
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_PORTAL_SYNC_SERVICE_H_
