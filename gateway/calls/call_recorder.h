// One call recorder for every service of the gateway (the lookups and
// identity checks, record lookups, portal sync, bundles, the audit service,
// and calls gRPC answers before a handler runs): each finished call gets
// one access-log line, its metrics and its audit record(s), all written
// the same way.
//
//   calls::Call call(kMethod, calls::CallerOf(*ctx));
//   ...
//   recorder->Log(call, status, {{"dossier", code}});
//   lienthong::v1::AuditRecord record = recorder->Record(call, status);
//   record.set_dossier_id(code);
//   recorder->AuditThenRelease(std::move(record), status,
//                              [reactor](absl::Status s) { ... });
#ifndef LIENTHONG_GATEWAY_CALLS_CALL_RECORDER_H_
#define LIENTHONG_GATEWAY_CALLS_CALL_RECORDER_H_

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/log/log.h"
#include "gateway/metrics/registry.h"
#include "gateway/tls/client_identity.h"
#include "grpcpp/server_context.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {
class AuditLog;
}  // namespace lienthong::audit

namespace lienthong::calls {

// lienthong_calls_total and lienthong_call_duration_seconds. Labels never
// hold personal data.
struct CallMetrics {
  explicit CallMetrics(metrics::Registry& registry);

  // {method, client, system, code}
  metrics::Family<metrics::Counter>& calls;
  // {method, system}, seconds
  metrics::Family<metrics::Histogram>& latency;
  // {method, client}: answers withheld because their audit records could
  // not be made durable (the call's own line and count name the answer's
  // code).
  metrics::Family<metrics::Counter>& withheld;
};

// The caller's identity from the connection's verified client certificate;
// empty when there is none. Thread-safe.
tls::ClientIdentity CallerOf(const grpc::ServerContextBase& ctx);

// What every call has, whichever service answers it.
struct Call {
  Call(absl::string_view method, tls::ClientIdentity caller)
      : method(method), caller(std::move(caller)) {}

  // The full method name ("lienthong.v1.X/Y"); must outlive the Call.
  absl::string_view method;
  tls::ClientIdentity caller;
  absl::Time start = absl::Now();
  // The national system (adapter instance) that served it; empty if none.
  std::string system;
};

class CallRecorder {
 public:
  struct Options {
    CallMetrics* metrics = nullptr;  // null: no metrics
    audit::AuditLog* audit = nullptr;  // null: no audit records
    // Answers wait until their records are durable.
    bool wait_for_durable = true;
    // The gateway's node name, in every audit record.
    std::string node;
  };

  explicit CallRecorder(Options options) : options_(std::move(options)) {}

  // Writes the access-log line {"msg":"access", method, caller, `extra`...,
  // code, latency_ms} and counts the call in the metrics. `extra` must hold
  // personal data only masked. Thread-safe.
  void Log(const Call& call, const absl::Status& status,
           std::initializer_list<log::Field> extra = {}) const;

  // An audit record with what every call has: node, caller and its
  // certificate, method, national system, outcome, latency. Thread-safe.
  lienthong::v1::AuditRecord Record(const Call& call,
                                    const absl::Status& status) const;

  // Appends `records` (one call's; at least one), then calls `release`
  // once with the answer: `answer` when every record is durable (or at once
  // when not waiting, or when nothing is audited), else UNAVAILABLE
  // kAnswerWithheld. A withheld answer gets a second access line
  // {method, caller, code: the code sent, withheld: the answer's code} and a
  // count in lienthong_answers_withheld_total, before it is released: the
  // call's own line, written when it ended, names the answer's code. Each
  // record is appended on its own: those already
  // durable stay if another fails. Must not block; `release` may run on
  // another thread or before this returns. Thread-safe.
  void AuditThenRelease(std::vector<lienthong::v1::AuditRecord> records,
                        const absl::Status& answer,
                        absl::AnyInvocable<void(absl::Status) &&> release) const;
  // The same for a call with one record, moved all the way (a braced list
  // would copy it).
  void AuditThenRelease(lienthong::v1::AuditRecord record,
                        const absl::Status& answer,
                        absl::AnyInvocable<void(absl::Status) &&> release) const;

  // The audit log, or null.
  audit::AuditLog* audit() const { return options_.audit; }
  bool audited() const { return options_.audit != nullptr; }

 private:
  // `release`, noting the answer as withheld (above) when it is released
  // with another code than `answer`'s.
  absl::AnyInvocable<void(absl::Status) &&> NotingWithheld(
      const lienthong::v1::AuditRecord& record, const absl::Status& answer,
      absl::AnyInvocable<void(absl::Status) &&> release) const;

  Options options_;
};

}  // namespace lienthong::calls

#endif  // LIENTHONG_GATEWAY_CALLS_CALL_RECORDER_H_
