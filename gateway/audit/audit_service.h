// AuditServiceImpl: lienthong.v1.AuditService, the gRPC face of the audit
// log for security teams. QueryAudit streams one page of matching records;
// VerifyAudit walks the whole journal and reports the first bad record.
//
// Auditors are audited: every call, allowed or refused, is itself recorded
// in the log (method, caller and certificate, outcome, the filters with a
// queried citizen ID keyed-hashed into the record's citizen fields, and how
// many records were returned or checked), and its answer is released only
// once that record is durable (refusals are coalesced like any refusal,
// RefusalCoalescer). A call that cannot be audited gets UNAVAILABLE.
//
// Only callers holding the "auditor" role may use it. The service does not
// know how callers are identified: the gateway hands in its authorisation
// (GatewayServer::Authorize) and a role check (the client's config roles),
// so this library needs no TLS or policy code and tests can fake both.
//
// No RPC blocks a gRPC callback thread on a long task: a query (which may
// first bring the index up to date) runs on the service's query thread, a
// verification (seconds for a million records) on its verification thread,
// one at a time each; the callback thread only queues them. The page is
// read whole (at most kMaxPageSize records), audited, then streamed one
// record at a time, the next only after the previous write completed.
//
// A citizen ID in a query is hashed with the audit key (FilterFromRequest)
// and is neither stored nor logged nor echoed in any error.
//
//   AuditServiceImpl audit_service(
//       *log, [&server](const grpc::CallbackServerContext& ctx,
//                       absl::string_view method, Caller* caller) {...},
//       [&](absl::string_view caller, absl::string_view role) {...});
//   // GatewayServer makes it and serves it when auditing is on.
#ifndef LIENTHONG_GATEWAY_AUDIT_AUDIT_SERVICE_H_
#define LIENTHONG_GATEWAY_AUDIT_AUDIT_SERVICE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gateway/calls/call_recorder.h"
#include "gateway/audit/audit_log.h"
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
  // Who is calling, as far as known (for the audit record).
  struct Caller {
    std::string id;
    std::string cert_sha256;
  };
  // Identifies the caller of `ctx` and checks that the policy lets it call
  // `method` (a full method name, see above); fills `*caller` as soon as the
  // caller is known, even when the call is then refused. Fails with
  // UNAUTHENTICATED or PERMISSION_DENIED. Called on gRPC callback threads,
  // concurrently.
  using AuthorizeFn = std::function<absl::Status(
      const grpc::CallbackServerContext& ctx, absl::string_view method,
      Caller* caller)>;
  // Returns true when `caller` holds `role`. Called concurrently.
  using HasRoleFn =
      std::function<bool(absl::string_view caller, absl::string_view role)>;

  // Most calls waiting for each worker; more fail with RESOURCE_EXHAUSTED
  // rather than queue minutes of work.
  static constexpr int kMaxQueuedVerifications = 4;
  static constexpr int kMaxQueuedQueries = 64;

  // Serves the recorder's audit log: queries its index, verifies its
  // journal, and records every call through `recorder` (access log,
  // metrics, audit record). Starts the worker threads.
  // REQUIRES: recorder->audited(); its log outlives this service, which
  // outlives the server that serves it; `authorize` and `has_role` are
  // non-null.
  AuditServiceImpl(std::shared_ptr<const calls::CallRecorder> recorder,
                   AuthorizeFn authorize, HasRoleFn has_role);

  // Finishes calls still queued with UNAVAILABLE and joins the workers.
  // REQUIRES: the server has shut down, or will not call again.
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
  // naming the role. Fills `*caller` as AuthorizeFn does. Thread-safe.
  absl::Status Admit(const grpc::CallbackServerContext& ctx,
                     absl::string_view method, Caller* caller) const;

  // One queue of jobs served by one thread. A job runs with `cancelled`
  // true when the service is being destroyed.
  class Worker;

 private:
  // Logs the call and records it in the audit log, then calls `release`
  // with what the caller may be told (`answer`, or UNAVAILABLE when the
  // record cannot be written).
  void Audit(AuditRecord record, absl::Status answer,
             absl::AnyInvocable<void(absl::Status) &&> release);
  // The record of a call to `method` by `caller` started at `start`.
  AuditRecord CallRecord(absl::string_view method, const Caller& caller,
                         absl::Time start, const absl::Status& outcome) const;
  // A QueryAudit call's record, with whom it looked for: the citizen and
  // the officer, as records of them name them (keyed hash, masked).
  AuditRecord SearchRecord(
      const Caller& caller, absl::Time start, const absl::Status& outcome,
      const lienthong::v1::QueryAuditRequest& request) const;

  const std::shared_ptr<const calls::CallRecorder> recorder_;
  AuditLog& log_;
  const AuthorizeFn authorize_;
  const HasRoleFn has_role_;
  std::unique_ptr<Worker> queries_;
  std::unique_ptr<Worker> verifications_;
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_AUDIT_SERVICE_H_
