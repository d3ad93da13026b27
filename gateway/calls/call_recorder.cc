#include "gateway/calls/call_recorder.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gateway/audit/audit_log.h"

namespace lienthong::calls {
namespace {

// Calls `done` once, when the last of `records` appends has released,
// with the first failure among them (else OK).
class ReleaseWhenAll {
 public:
  ReleaseWhenAll(int records, absl::AnyInvocable<void(absl::Status) &&> done)
      : left_(records), done_(std::move(done)) {}

  void Released(absl::Status status) {
    absl::Status result;
    {
      absl::MutexLock lock(&mu_);
      if (!status.ok() && first_failure_.ok()) {
        first_failure_ = std::move(status);
      }
      if (--left_ > 0) return;
      result = first_failure_;
    }
    std::move(done_)(std::move(result));
  }

 private:
  absl::Mutex mu_;
  int left_ ABSL_GUARDED_BY(mu_);
  absl::Status first_failure_ ABSL_GUARDED_BY(mu_);
  absl::AnyInvocable<void(absl::Status) &&> done_;  // called with no lock
};

}  // namespace

CallMetrics::CallMetrics(metrics::Registry& registry)
    : calls(registry.AddCounter("lienthong_calls_total",
                                "Calls answered, by method, client, national "
                                "system and gRPC code.",
                                {"method", "client", "system", "code"})),
      latency(registry.AddHistogram(
          "lienthong_call_duration_seconds",
          "Time from receiving a call to answering it.", {"method", "system"})),
      withheld(registry.AddCounter(
          "lienthong_answers_withheld_total",
          "Answers withheld (UNAVAILABLE sent instead) because their audit "
          "records could not be made durable, by method and client.",
          {"method", "client"})) {}

tls::ClientIdentity CallerOf(const grpc::ServerContextBase& ctx) {
  if (auto auth = ctx.auth_context(); auth != nullptr) {
    if (auto caller = tls::IdentityFromAuthContext(*auth); caller.ok()) {
      return *std::move(caller);
    }
  }
  return {};
}

void CallRecorder::Log(const Call& call, const absl::Status& status,
                       std::initializer_list<log::Field> extra) const {
  const absl::Duration took = absl::Now() - call.start;
  const std::string code = absl::StatusCodeToString(status.code());
  const std::string latency =
      absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(took));
  // log::Write takes one list: the common fields around `extra`.
  std::vector<log::Field> fields;
  fields.reserve(extra.size() + 4);
  fields.emplace_back("method", call.method);
  fields.emplace_back("caller", call.caller.id);
  fields.insert(fields.end(), extra.begin(), extra.end());
  fields.emplace_back("code", code);
  fields.emplace_back("latency_ms", latency);
  log::WriteAccess(fields);
  if (options_.metrics != nullptr) {
    options_.metrics->calls
        .WithLabels({std::string(call.method), call.caller.id, call.system,
                     code})
        .Increment();
    options_.metrics->latency
        .WithLabels({std::string(call.method), call.system})
        .Observe(absl::ToDoubleSeconds(took));
  }
}

lienthong::v1::AuditRecord CallRecorder::Record(
    const Call& call, const absl::Status& status) const {
  lienthong::v1::AuditRecord record;
  record.set_node(options_.node);
  record.set_caller(call.caller.id);
  record.set_caller_cert_sha256(call.caller.fingerprint_sha256);
  record.set_method(std::string(call.method));
  record.set_national_system(call.system);
  record.set_outcome(std::string(absl::StatusCodeToString(status.code())));
  record.set_latency_us(absl::ToInt64Microseconds(absl::Now() - call.start));
  return record;
}

void CallRecorder::AuditThenRelease(
    std::vector<lienthong::v1::AuditRecord> records, const absl::Status& answer,
    absl::AnyInvocable<void(absl::Status) &&> release) const {
  if (options_.audit == nullptr || records.empty()) {
    std::move(release)(answer);
    return;
  }
  if (records.size() == 1) {
    AuditThenRelease(std::move(records.front()), answer, std::move(release));
    return;
  }
  // One call: coalesced whole (counted once) or written whole, so that it
  // is found by each of its dossiers and counted as one call.
  if (options_.audit->CountRefusal(records.front())) {
    std::move(release)(answer);
    return;
  }
  auto all = std::make_shared<ReleaseWhenAll>(
      static_cast<int>(records.size()),
      [answer,
       release = NotingWithheld(records.front(), answer, std::move(release))](
          absl::Status failed) mutable {
        std::move(release)(failed.ok() ? answer : std::move(failed));
      });
  for (lienthong::v1::AuditRecord& record : records) {
    options_.audit->AppendUncountedThenRelease(
        std::move(record), options_.wait_for_durable, absl::OkStatus(),
        [all](absl::Status released) { all->Released(std::move(released)); });
  }
}

void CallRecorder::AuditThenRelease(
    lienthong::v1::AuditRecord record, const absl::Status& answer,
    absl::AnyInvocable<void(absl::Status) &&> release) const {
  if (options_.audit == nullptr) {
    std::move(release)(answer);
    return;
  }
  absl::AnyInvocable<void(absl::Status)&&> noting =
      NotingWithheld(record, answer, std::move(release));
  options_.audit->AppendThenRelease(
      std::move(record), options_.wait_for_durable, answer, std::move(noting));
}

absl::AnyInvocable<void(absl::Status) &&> CallRecorder::NotingWithheld(
    const lienthong::v1::AuditRecord& record, const absl::Status& answer,
    absl::AnyInvocable<void(absl::Status) &&> release) const {
  return [metrics = options_.metrics, method = record.method(),
          caller = record.caller(), answer_code = answer.code(),
          release = std::move(release)](absl::Status released) mutable {
    if (released.code() != answer_code) {
      const std::string sent = absl::StatusCodeToString(released.code());
      const std::string withheld = absl::StatusCodeToString(answer_code);
      log::WriteAccess({{"method", method},
                        {"caller", caller},
                        {"code", sent},
                        {"withheld", withheld}});
      if (metrics != nullptr) {
        metrics->withheld.WithLabels({method, caller}).Increment();
      }
    }
    std::move(release)(std::move(released));
  };
}

}  // namespace lienthong::calls
