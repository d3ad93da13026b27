// AuditServiceImpl: lienthong.v1.AuditService, the gRPC face of the audit
// log for security teams. QueryAudit streams one page of matching records;
// VerifyAudit walks the whole chain and reports the first bad record.
//
// Only callers holding the "auditor" role may use it. The service does not
// know how callers are identified: the gateway hands in its authorisation
// (GatewayServer::Authorize) and a role check (the client's config roles),
// so this library needs no TLS or policy code and tests can fake both.
//
// Neither RPC blocks a gRPC callback thread on a long task. QueryAudit is a
// ServerWriteReactor that reads the page from the store in small chunks
// (indexed SQLite reads, milliseconds each) and writes the records one by
// one, the next only after the previous write completed. VerifyAudit runs
// VerifyStore, which takes seconds for a million records, on the service's
// own worker thread, one verification at a time; the callback thread only
// queues it.
//
// A citizen ID in a query is hashed with the audit key (FilterFromRequest)
// and is neither stored nor logged nor echoed in any error.
//
//   AuditServiceImpl audit_service(
//       *log, [&server](const grpc::CallbackServerContext& ctx,
//                       absl::string_view method, std::string* caller) {...},
//       [&](absl::string_view caller, absl::string_view role) {...});
//   GatewayServer::Start(config, registry, http, {&audit_service});
#ifndef LIENTHONG_GATEWAY_AUDIT_AUDIT_SERVICE_H_
#define LIENTHONG_GATEWAY_AUDIT_AUDIT_SERVICE_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/audit_store.h"
#include "gateway/audit/record.h"
#include "gateway/audit/signing.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "lienthong/v1/audit.grpc.pb.h"

namespace lienthong::audit {

// The role a client needs for AuditService (config Client.roles).
inline constexpr char kAuditorRole[] = "auditor";
// Full method names, as handed to the authorisation callback.
inline constexpr char kQueryAuditMethod[] =
    "lienthong.v1.AuditService/QueryAudit";
inline constexpr char kVerifyAuditMethod[] =
    "lienthong.v1.AuditService/VerifyAudit";

class AuditServiceImpl final
    : public lienthong::v1::AuditService::CallbackService {
 public:
  // Identifies the caller of `ctx` and checks that the policy lets it call
  // `method` (a full method name, see above); on OK sets `*caller` to its
  // identity. Fails with UNAUTHENTICATED or PERMISSION_DENIED. Called on
  // gRPC callback threads, concurrently.
  using AuthorizeFn = std::function<absl::Status(
      const grpc::CallbackServerContext& ctx, absl::string_view method,
      std::string* caller)>;
  // Returns true when `caller` holds `role`. Called concurrently.
  using HasRoleFn =
      std::function<bool(absl::string_view caller, absl::string_view role)>;

  // Most VerifyAudit calls waiting for the worker; more fail with
  // RESOURCE_EXHAUSTED rather than queue minutes of work.
  static constexpr int kMaxQueuedVerifications = 4;

  // Serves `store`, hashing queried citizen IDs with `citizen_key` and
  // verifying checkpoints with `public_key`. Starts the verification worker.
  // REQUIRES: `store` outlives this service, which outlives the server that
  // serves it; `authorize` and `has_role` are non-null.
  AuditServiceImpl(const AuditStore& store, CitizenKey citizen_key,
                   PublicKey public_key, AuthorizeFn authorize,
                   HasRoleFn has_role);
  // As above with the store and keys of `log`. REQUIRES: `log` outlives
  // this service.
  AuditServiceImpl(const AuditLog& log, AuthorizeFn authorize,
                   HasRoleFn has_role);

  // Finishes verifications still queued with UNAVAILABLE and joins the
  // worker. REQUIRES: the server has shut down, or will not call again.
  ~AuditServiceImpl() override;
  AuditServiceImpl(const AuditServiceImpl&) = delete;
  AuditServiceImpl& operator=(const AuditServiceImpl&) = delete;

  grpc::ServerWriteReactor<lienthong::v1::AuditRecord>* QueryAudit(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::QueryAuditRequest* request) override;

  grpc::ServerUnaryReactor* VerifyAudit(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::VerifyAuditRequest* request,
      lienthong::v1::VerifyAuditResponse* response) override;

  // Returns OK when the caller of `ctx` may call `method` and holds the
  // auditor role; else the authorisation's error, or PERMISSION_DENIED
  // naming the role. Thread-safe.
  absl::Status Admit(const grpc::CallbackServerContext& ctx,
                     absl::string_view method) const;

 private:
  // One queued verification: runs with `cancelled` true when the service is
  // being destroyed.
  using Job = absl::AnyInvocable<void(bool cancelled) &&>;

  // Queues `job`; RESOURCE_EXHAUSTED when kMaxQueuedVerifications wait.
  absl::Status Enqueue(Job job);
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WorkerLoop();

  const AuditStore& store_;
  const CitizenKey citizen_key_;
  const PublicKey public_key_;
  const AuthorizeFn authorize_;
  const HasRoleFn has_role_;

  absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_AUDIT_SERVICE_H_
