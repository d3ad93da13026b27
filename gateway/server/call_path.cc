#include "gateway/server/call_path.h"

#include <algorithm>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/server/outbound_metadata.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/codes.h"
#include "google/protobuf/empty.pb.h"
#include "grpc/grpc.h"
#include "grpc/support/time.h"

namespace lienthong::server {
namespace {

// In an audit record, for a purpose, dossier or unit code a refused call
// sent that breaks its rule.
constexpr char kNotKept[] = "(not valid: not kept)";

std::string NewTraceId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

}  // namespace

absl::Time CallDeadline(const grpc::CallbackServerContext& ctx,
                        absl::Duration route_timeout, bool* caller_bound) {
  absl::Time route_deadline = absl::Now() + route_timeout;
  if (caller_bound != nullptr) *caller_bound = false;
  // From the raw deadline: ServerContext::deadline() counts nanoseconds in
  // an int64 and overflows into the past for deadlines beyond the year
  // 2262; absl::Time does not, so a far deadline is clamped to the route's.
  const gpr_timespec client =
      gpr_convert_clock_type(ctx.raw_deadline(), GPR_CLOCK_REALTIME);
  if (gpr_time_cmp(client, gpr_inf_future(GPR_CLOCK_REALTIME)) >= 0) {
    return route_deadline;
  }
  const absl::Time callers =
      absl::FromUnixSeconds(client.tv_sec) + absl::Nanoseconds(client.tv_nsec);
  if (caller_bound != nullptr) *caller_bound = callers < route_deadline;
  return std::min(route_deadline, callers);
}

CallRecord::CallRecord(absl::string_view method,
                       const google::protobuf::Message& request,
                       std::string citizen_id, std::string purpose,
                       std::string dossier_id,
                       const audit::DigestKey* digest_key)
    : calls::Call(method, {}),
      trace_id(NewTraceId()),
      citizen_id(std::move(citizen_id)),
      purpose(std::move(purpose)),
      dossier_id(std::move(dossier_id)),
      request_bytes(request.ByteSizeLong()),
      audited(digest_key != nullptr),
      digest_key(digest_key),
      request_sha256(audited ? digest_key->Digest(request) : std::string()) {}

Services::Services(std::shared_ptr<const Runtime> runtime,
                   ServerMetrics* metrics,
                   std::shared_ptr<const calls::CallRecorder> recorder,
                   tls::HandshakeChecks caller_checks)
    : runtime_(std::move(runtime)),
      metrics_(metrics),
      audit_(recorder->audit()),
      recorder_(std::move(recorder)),
      caller_checks_(std::move(caller_checks)) {}

std::shared_ptr<const Runtime> Services::runtime() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runtime_;
}

void Services::set_runtime(std::shared_ptr<const Runtime> runtime) {
  std::lock_guard<std::mutex> lock(mu_);
  runtime_.swap(runtime);
  // The old runtime is released outside the lock, once its last call ends.
}

absl::Status Services::Authorize(const Runtime& runtime,
                                 const grpc::CallbackServerContext& ctx,
                                 absl::string_view method,
                                 tls::ClientIdentity* caller) const {
  auto auth = ctx.auth_context();
  if (auth == nullptr) {
    return absl::UnauthenticatedError("no client certificate");
  }
  LIENTHONG_ASSIGN_OR_RETURN(*caller, tls::IdentityFromAuthContext(*auth));
  LIENTHONG_RETURN_IF_ERROR(tls::RecheckCaller(caller_checks_, *auth, *caller));
  LIENTHONG_RETURN_IF_ERROR(RateLimit(runtime, caller->id));
  return runtime.policy->CheckMethod(caller->id, method);
}

absl::Status Services::RateLimit(const Runtime& runtime,
                                 const std::string& caller) const {
  if (std::optional<absl::Duration> wait =
          runtime.rate_limiter->TryAcquire(caller)) {
    if (metrics_ != nullptr) {
      metrics_->rate_limited.WithLabels({caller}).Increment();
    }
    return absl::ResourceExhaustedError(
        absl::StrFormat("client '%s' is over its rate limit; retry after %d ms",
                        caller, absl::ToInt64Milliseconds(*wait) + 1));
  }
  return absl::OkStatus();
}

absl::Status Services::Admit(const grpc::CallbackServerContext& ctx,
                             absl::string_view method, Admitted& admitted,
                             bool by_method) const {
  admitted.runtime = runtime();
  LIENTHONG_RETURN_IF_ERROR(
      Authorize(*admitted.runtime, ctx, method, &admitted.caller));
  if (!by_method) return absl::OkStatus();
  admitted.route = admitted.runtime->FindRoute(method);
  if (admitted.route == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("no route is configured for ", method));
  }
  return absl::OkStatus();
}

absl::Status Services::AccountPreHandler(const grpc::ServerContextBase& ctx,
                                         absl::string_view method,
                                         absl::Status status) const {
  CallRecord call(method, google::protobuf::Empty(), "", "", "", auditing());
  call.caller = calls::CallerOf(ctx);
  // A flood of calls no handler takes is cut off like any other.
  if (!call.caller.id.empty()) {
    if (absl::Status limited = RateLimit(*runtime(), call.caller.id);
        !limited.ok()) {
      status = std::move(limited);
    }
  }
  Complete(call, status, [](absl::Status) {});
  return status;
}

void Services::AddTrailer(grpc::ServerContextBase& ctx, absl::string_view key,
                          absl::string_view value) const {
  AddCheckedTrailingMetadata(
      ctx, key, value,
      metrics_ == nullptr ? nullptr : &metrics_->metadata_dropped);
}

std::string Services::ReplyReference(absl::string_view value) const {
  if (value.empty() || IsSafeMetadataValue(value)) return std::string(value);
  if (metrics_ != nullptr) {
    metrics_->metadata_dropped.WithLabels({"reference"}).Increment();
  }
  return std::string();
}

void Services::Complete(
    const CallRecord& call, const absl::Status& status,
    absl::AnyInvocable<void(absl::Status) &&> release) const {
  // The answer goes out (or its record is queued) first: the access-log
  // line's write(2) is then off the answer's path, and at one call in
  // flight it overlaps the journal's fdatasync. `call` outlives this.
  if (audit_ == nullptr) {
    std::move(release)(status);
  } else {
    recorder_->AuditThenRelease(AuditRecordOf(call, status), status,
                                std::move(release));
  }
  // No ID (a record lookup, a sign-in) logs as nothing, not as "***",
  // which stands for an ID that is not one.
  const auto masked = [](const std::string& id) {
    return id.empty() ? std::string() : validation::MaskCitizenId(id);
  };
  const std::string citizen = masked(call.citizen_id);
  const std::string officer = masked(call.officer.citizen_id());
  const std::string attempts = absl::StrCat(call.attempts);
  const std::string request_bytes = absl::StrCat(call.request_bytes);
  const std::string response_bytes = absl::StrCat(call.response_bytes);
  recorder_->Log(call, status,
                 {{"trace_id", call.trace_id},
                  {"system", call.system},
                  {"record_type", call.record_type},
                  {"citizen", citizen},
                  {"officer", officer},
                  {"attempts", attempts},
                  {"request_bytes", request_bytes},
                  {"response_bytes", response_bytes}});
  if (metrics_ != nullptr && call.attempts > 1) {
    metrics_->retries.WithLabels({call.system}).Increment(call.attempts - 1);
  }
}

lienthong::v1::AuditRecord Services::AuditRecordOf(
    const CallRecord& call, const absl::Status& status) const {
  lienthong::v1::AuditRecord record = recorder_->Record(call, status);
  // What the audit keeps in clear, only as its rule allows: a refused
  // call's request may hold anything there (a citizen's ID sent as the
  // dossier, a name), and an answered call's passed these rules already.
  const auto kept = [&status](const std::string& value, auto rule) {
    return status.ok() || value.empty() || rule(value) ? value
                                                       : std::string(kNotKept);
  };
  record.set_purpose(kept(call.purpose, [](absl::string_view v) {
    return validation::ValidatePurpose(v).ok();
  }));
  record.set_dossier_id(kept(call.dossier_id, validation::IsDossierCode));
  if (!call.citizen_id.empty()) {
    audit_->citizen_key().Fill(call.citizen_id, &record);
  }
  audit_->citizen_key().FillOfficer(
      call.officer.citizen_id(),
      kept(call.officer.unit_code(),
           [](absl::string_view v) {
             return validation::ValidateUnitCode(v, "").ok();
           }),
      call.officer.account(), &record);
  if (!call.record_type.empty()) {
    record.set_record_type(call.record_type);
    record.set_record_key_hmac(
        audit_->citizen_key().Hmac(call.record_key_text));
  }
  record.set_attempts(call.attempts);
  record.set_request_sha256(call.request_sha256);
  record.set_response_sha256(call.response_sha256);
  return record;
}

}  // namespace lienthong::server
