// The path every citizen-data call takes through the gateway (identity,
// population and record services): who is calling and may they (Services::
// Admit), the call to the national system under its route's breaker and
// retries (Serve), and its end: access-log line, metrics, audit record, and
// the answer released once the record is durable (Services::Complete).
#ifndef LIENTHONG_GATEWAY_SERVER_CALL_PATH_H_
#define LIENTHONG_GATEWAY_SERVER_CALL_PATH_H_

#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapters/adapter.h"
#include "adapters/common/retriable.h"
#include "gateway/audit/audit_log.h"
#include "gateway/calls/call_recorder.h"
#include "gateway/server/resilient_call.h"
#include "gateway/server/runtime.h"
#include "gateway/server/server_metrics.h"
#include "gateway/status/grpc_status.h"
#include "gateway/tls/client_identity.h"
#include "gateway/tls/handshake_verifier.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "lienthong/v1/identity.pb.h"

namespace lienthong::server {

// The deadline of a call's work on `route_timeout`'s route: the route's
// timeout from now, or the client's deadline when earlier (then
// `*caller_bound`, when given, is set). A client deadline beyond what
// absl::Time holds counts as none.
absl::Time CallDeadline(const grpc::CallbackServerContext& ctx,
                        absl::Duration route_timeout,
                        bool* caller_bound = nullptr);

// What the gateway records about one call, for the access log (and, with
// the citizen ID hashed, the audit log), beyond what every call has.
struct CallRecord : calls::Call {
  // `digest_key`: the audit log's, when the call is audited (null when not):
  // the request's keyed digest is only for the audit record.
  CallRecord(absl::string_view method, const google::protobuf::Message& request,
             std::string citizen_id, std::string purpose,
             std::string dossier_id, const audit::DigestKey* digest_key);

  std::string trace_id;
  std::string citizen_id;  // logged only masked
  // The officer the call was made for, when the request names one; its ID
  // is logged only masked and audited only hashed.
  lienthong::v1::Officer officer;
  std::string purpose;
  std::string dossier_id;
  int attempts = 0;
  size_t request_bytes = 0;
  size_t response_bytes = 0;
  bool audited = false;
  const audit::DigestKey* digest_key = nullptr;
  std::string request_sha256;
  std::string response_sha256;
  // Record lookups: the record type (once known to be served) and the text
  // of its key (audit::RecordKeyText), audited only as a keyed hash.
  std::string record_type;
  std::string record_key_text;
};

// Shared by the services: the current runtime and the per-call prologue
// and end. Thread-safe.
class Services {
 public:
  // `caller_checks`: the listener's handshake checks (admission and CRLs),
  // which every call repeats as they are then; empty: none.
  Services(std::shared_ptr<const Runtime> runtime, ServerMetrics* metrics,
           std::shared_ptr<const calls::CallRecorder> recorder,
           tls::HandshakeChecks caller_checks = {});

  // The key of the audit record's digests; null when auditing is off.
  const audit::DigestKey* auditing() const {
    return audit_ != nullptr ? &audit_->digest_key() : nullptr;
  }

  // OK when a call may go to a national system: it could be audited (the
  // log is ready and its journal can be written; else why not).
  absl::Status CanAudit() const {
    return audit_ != nullptr ? audit_->CanAppend() : absl::OkStatus();
  }

  std::shared_ptr<const Runtime> runtime() const;
  // The old runtime is released once its last call ends.
  void set_runtime(std::shared_ptr<const Runtime> runtime);

  // RESOURCE_EXHAUSTED (counted in lienthong_rate_limited_total) when
  // `caller` is over its rate limit; else OK, one call taken from it.
  absl::Status RateLimit(const Runtime& runtime,
                         const std::string& caller) const;

  // Who is calling (into `caller`, as soon as known), is its certificate
  // still admitted (tls::RecheckCaller: the connection may predate a CRL
  // change or a reload that removed or re-pinned the client), is it within
  // its rate limit (checked before its rights, so that a flood of refused
  // calls is cut off too), and may it call `method` under `runtime`'s
  // policy. Every service's calls go through here. UNAUTHENTICATED without
  // a client certificate or with one no longer admitted, RESOURCE_EXHAUSTED
  // over the rate limit, PERMISSION_DENIED by the policy.
  absl::Status Authorize(const Runtime& runtime,
                         const grpc::CallbackServerContext& ctx,
                         absl::string_view method,
                         tls::ClientIdentity* caller) const;

  // Who is calling, and may they call `method`: `admitted` receives the
  // caller's identity as soon as it is known (for the log, even when the
  // call is then refused) and the route when the call may proceed.
  struct Admitted {
    std::shared_ptr<const Runtime> runtime;
    tls::ClientIdentity caller;
    const Route* route = nullptr;
  };
  // With `by_method` false the caller routes the call itself (records, by
  // their type). Fails as Authorize, or UNIMPLEMENTED when no route serves
  // `method`.
  absl::Status Admit(const grpc::CallbackServerContext& ctx,
                     absl::string_view method, Admitted& admitted,
                     bool by_method = true) const;

  // Accounts for a call gRPC answered before any handler ran (unknown
  // method, unparsable body; call_accounting.h): access-log line, metrics
  // and audit record, like any refusal (the audit log coalesces a flood of
  // them), and returns what to answer: `status`, or RESOURCE_EXHAUSTED when
  // the caller is over its rate limit (these calls take from it too). The
  // answer is not withheld.
  absl::Status AccountPreHandler(const grpc::ServerContextBase& ctx,
                                 absl::string_view method,
                                 absl::Status status) const;

  // Sends `value` (from outside: a national system's reply) to the caller
  // as trailing metadata `key` when it is safe; else drops and counts it.
  void AddTrailer(grpc::ServerContextBase& ctx, absl::string_view key,
                  absl::string_view value) const;

  // A national system's reference for a reply's `reference` field: `value`
  // when it passes the metadata rule (IsSafeMetadataValue), else empty and
  // counted (key "reference"). Another system's text could hold anything,
  // personal data included.
  std::string ReplyReference(absl::string_view value) const;

  // Ends a call: queues its audit record and releases the answer with
  // `status` — once the record is durable when so configured; if it cannot
  // be written the answer is withheld (UNAVAILABLE) — then writes its
  // access-log line. REQUIRES: `call` outlives the call to Complete.
  void Complete(const CallRecord& call, const absl::Status& status,
                absl::AnyInvocable<void(absl::Status) &&> release) const;

 private:
  // The audit record of `call`, ended with `status`. REQUIRES: audited.
  lienthong::v1::AuditRecord AuditRecordOf(const CallRecord& call,
                                           const absl::Status& status) const;

  mutable std::mutex mu_;
  std::shared_ptr<const Runtime> runtime_;
  ServerMetrics* const metrics_;
  audit::AuditLog* const audit_;
  const std::shared_ptr<const calls::CallRecorder> recorder_;
  const tls::HandshakeChecks caller_checks_;
};

// The shared end of VerifyIdentity, SignInWithVneid and LookupCitizen. A
// call refused by `status` (admission, validation, policy) is answered at
// once; otherwise `attempt(route, context, done)` runs under the route's
// breaker and, when `idempotent`, its retries; `accept(reply)` moves a good
// reply into `*response`, and the call is logged, audited and answered.
// `Upstream` is what the adapter answers when it is not `Response` itself.
template <typename Upstream = void, typename Response, typename Attempt,
          typename Accept,
          typename Reply =
              std::conditional_t<std::is_void_v<Upstream>, Response, Upstream>>
grpc::ServerUnaryReactor* Serve(const Services& services,
                                grpc::CallbackServerContext& ctx,
                                std::shared_ptr<CallRecord> call,
                                Services::Admitted admitted,
                                absl::Status status, Response* response,
                                Attempt attempt, Accept accept,
                                bool idempotent = true) {
  grpc::ServerUnaryReactor* reactor = ctx.DefaultReactor();
  auto answer = [reactor](absl::Status final) {
    reactor->Finish(ToGrpcStatus(final));
  };
  if (status.ok()) status = services.CanAudit();
  if (!status.ok()) {
    services.Complete(*call, status, answer);
    return reactor;
  }
  const Route& route = *admitted.route;
  call->system = route.adapter_name;
  bool caller_bound = false;
  adapters::CallContext context{CallDeadline(ctx, route.timeout, &caller_bound),
                                admitted.caller.id, call->trace_id};
  // `route` lives in the runtime, which the call keeps alive until its
  // last attempt has answered.
  std::shared_ptr<const void> runtime = admitted.runtime;
  ResilientCall<Reply>(
      *route.retrier, *route.guard, context, idempotent, std::move(runtime),
      // Attempts start only before the call is answered, so `ctx` is alive.
      [&route, &ctx, attempt = std::move(attempt)](
          const adapters::CallContext& attempt_context,
          adapters::Callback<Reply> done) mutable {
        // A caller that cancelled waits for no answer: no more attempts
        // (CANCELLED is final and says nothing about the system).
        if (ctx.IsCancelled()) {
          std::move(done)(adapters::MarkNotSent(
              absl::CancelledError("the caller cancelled the call")));
          return;
        }
        attempt(route, attempt_context, std::move(done));
      },
      [&services, call, response, answer, accept = std::move(accept)](
          absl::StatusOr<adapters::Reply<Reply>> reply, int attempts) mutable {
        call->attempts = attempts;
        absl::Status status = reply.status();
        if (status.ok()) {
          accept(*std::move(reply));
          call->response_bytes = response->ByteSizeLong();
          if (call->audited) {
            call->response_sha256 = call->digest_key->Digest(*response);
          }
        }
        services.Complete(*call, status, answer);
      },
      caller_bound);
  return reactor;
}

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_CALL_PATH_H_
