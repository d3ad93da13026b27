#include "gateway/bundle/bundle_service.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gateway/audit/audit_log.h"
#include "gateway/bundle/bundle_data.h"
#include "gateway/log/log.h"
#include "gateway/proto_util/unknown_fields.h"
#include "gateway/status/grpc_status.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/officer.h"

namespace lienthong::bundle {
namespace {

using lienthong::v1::Bundle;

constexpr int kMaxCorrections = 32;

bool Ended(const Bundle& b) {
  return b.state() == lienthong::v1::BUNDLE_COMPLETED ||
         b.state() == lienthong::v1::BUNDLE_STOPPED;
}

absl::Status CheckBundleId(absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("bundle_id is required");
  if (id.size() > 64) {
    return absl::InvalidArgumentError("bundle_id is longer than 64 characters");
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') {
      return absl::InvalidArgumentError(
          "bundle_id may hold only letters, digits, '-' and '_'");
    }
  }
  return absl::OkStatus();
}

}  // namespace

// What is recorded of one unary call.
struct BundleService::Call {
  absl::string_view method;
  absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = nullptr;
  BundleCaller caller;
  // The request (gRPC's, alive until the reactor finishes), digested with
  // the audit log's key into the record.
  const google::protobuf::Message* request = nullptr;
  // Set once checked: they go to the audit record.
  std::string dossier;
  // ListBundles: the dossiers listed after the first, a record each (with
  // the call's digests), so that an audit query by dossier finds who
  // listed it, as who read or watched it.
  std::vector<std::string> more_dossiers;
  std::string subject;
  lienthong::v1::Officer officer;
  // A stop that went through: its reason's record comes too.
  std::optional<std::string> stop_reason;
};

// One WatchBundle stream. The orchestrator's watcher offers views to the
// shared State; whoever takes the write turn (`writing`) starts the next
// write or finishes the stream, so a stream is never finished under a
// write. The orchestrator's callback holds the State, never the reactor.
class BundleService::Watch final : public grpc::ServerWriteReactor<Bundle> {
 public:
  struct State {
    absl::Mutex mu;
    Watch* reactor ABSL_GUARDED_BY(mu) = nullptr;
    std::optional<Bundle> pending ABSL_GUARDED_BY(mu);
    bool writing ABSL_GUARDED_BY(mu) = false;
    bool cancelled ABSL_GUARDED_BY(mu) = false;
    bool finished ABSL_GUARDED_BY(mu) = false;
    // A view came from the orchestrator's watcher.
    bool watched ABSL_GUARDED_BY(mu) = false;
  };

  explicit Watch(Orchestrator* orchestrator)
      : orchestrator_(orchestrator), state_(std::make_shared<State>()) {
    absl::MutexLock lock(&state_->mu);
    state_->reactor = this;
  }

  // Registers with the orchestrator (which reads the store for a bundle
  // that has ended) and offers the view now. REQUIRES: HoldTurn, so the
  // views wait for StartAfterAudit.
  absl::Status Begin(const std::string& id) {
    auto watched = orchestrator_->Watch(
        id, [state = state_](const Bundle& view) { Offer(state, view, true); });
    if (!watched.ok()) return watched.status();
    id_ = id;
    handle_ = watched->second;
    Offer(state_, watched->first, false);
    return absl::OkStatus();
  }

  // Until StartAfterAudit, the stream holds its write turn: views wait, and
  // a cancel in between is finished there, never under the audit log's
  // callback.
  void HoldTurn() {
    absl::MutexLock lock(&state_->mu);
    state_->writing = true;
  }

  // Once the call's audit record is durable (or `answer` says why not):
  // the stream writes the view it holds, or ends with `answer`, or as
  // cancelled. Runs on the audit log's thread, so it reads nothing.
  void StartAfterAudit(const absl::Status& answer) {
    bool cancelled = false;
    bool write = false;
    {
      absl::MutexLock lock(&state_->mu);
      cancelled = state_->cancelled;
      if (cancelled || !answer.ok()) {
        state_->finished = true;
        state_->writing = false;
      } else if (state_->pending.has_value()) {
        write = true;  // keeps the turn
      } else {
        state_->writing = false;
      }
    }
    if (cancelled) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    } else if (!answer.ok()) {
      Finish(ToGrpcStatus(answer));
    } else if (write) {
      WriteNext();
    }
  }

  void OnWriteDone(bool ok) override {
    bool finish = false;
    bool next = false;
    {
      absl::MutexLock lock(&state_->mu);
      if (!ok || state_->cancelled || Ended(current_)) {
        finish = !state_->finished;
        state_->finished = true;
        state_->writing = false;
      } else if (state_->pending.has_value()) {
        next = true;  // keeps the turn
      } else {
        state_->writing = false;
      }
    }
    if (next) WriteNext();
    if (finish) {
      Finish(ok && Ended(current_)
                 ? grpc::Status::OK
                 : grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
  }

  void OnCancel() override {
    bool finish = false;
    {
      absl::MutexLock lock(&state_->mu);
      state_->cancelled = true;
      if (!state_->writing && !state_->finished) finish = state_->finished = true;
    }
    if (finish) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
    }
    if (handle_ != 0) orchestrator_->Unwatch(id_, handle_);
    delete this;
  }

 private:
  // `from_watcher`: a view after a change. The view Watch returned is older
  // than any of those (it was taken when the watcher was registered), so it
  // is dropped when one of them came first.
  static void Offer(const std::shared_ptr<State>& state, const Bundle& view,
                    bool from_watcher) {
    Watch* reactor;
    {
      absl::MutexLock lock(&state->mu);
      if (state->reactor == nullptr || state->finished) return;
      if (!from_watcher && state->watched) return;
      state->watched = state->watched || from_watcher;
      state->pending = view;
      if (state->writing) return;
      state->writing = true;
      reactor = state->reactor;
    }
    reactor->WriteNext();
  }

  // REQUIRES: holds the write turn and a view is pending.
  void WriteNext() {
    {
      absl::MutexLock lock(&state_->mu);
      current_ = *std::move(state_->pending);
      state_->pending.reset();
    }
    StartWrite(&current_);
  }

  Orchestrator* const orchestrator_;
  const std::shared_ptr<State> state_;
  std::string id_;
  int64_t handle_ = 0;
  // Written by the holder of the turn; stays put while being written.
  Bundle current_;
};

void BundleService::Start(BundleAuthorizer authorize,
                          std::shared_ptr<const calls::CallRecorder> recorder) {
  absl::MutexLock lock(&mu_);
  authorize_ = std::move(authorize);
  if (recorder != nullptr) recorder_ = std::move(recorder);
}

std::shared_ptr<const calls::CallRecorder> BundleService::recorder() {
  absl::MutexLock lock(&mu_);
  return recorder_;
}

absl::StatusOr<BundleCaller> BundleService::Authorize(
    const grpc::CallbackServerContext& ctx, absl::string_view method) {
  BundleAuthorizer authorize;
  {
    absl::MutexLock lock(&mu_);
    authorize = authorize_;
  }
  if (!authorize) return absl::UnavailableError("bundles are starting");
  return authorize(ctx, method);
}

void BundleService::Finish(std::shared_ptr<Call> call, absl::Status status,
                           const google::protobuf::Message* response) {
  const std::shared_ptr<const calls::CallRecorder> recorder = this->recorder();
  calls::Call base(call->method, {call->caller.id, call->caller.cert_sha256});
  base.start = call->start;
  recorder->Log(base, status, {{"dossier", call->dossier}});
  grpc::ServerUnaryReactor* reactor = call->reactor;
  audit::AuditLog* log = recorder->audit();
  if (log == nullptr) {
    reactor->Finish(ToGrpcStatus(status));
    return;
  }
  lienthong::v1::AuditRecord record = recorder->Record(base, status);
  record.set_dossier_id(call->dossier);
  if (!call->subject.empty()) log->citizen_key().Fill(call->subject, &record);
  log->citizen_key().FillOfficer(call->officer.citizen_id(),
                                 call->officer.unit_code(),
                                 call->officer.account(), &record);
  const audit::DigestKey& digest = log->digest_key();
  if (call->request != nullptr) {
    record.set_request_sha256(digest.Digest(*call->request));
  }
  if (status.ok() && response != nullptr) {
    record.set_response_sha256(digest.Digest(*response));
  }
  std::vector<lienthong::v1::AuditRecord> records;
  if (call->stop_reason.has_value() && status.ok()) {
    lienthong::v1::AuditRecord stop = record;
    stop.set_method(kStopAuditMethod);
    stop.set_request_sha256(digest.Digest(*call->stop_reason));
    stop.clear_response_sha256();
    records.push_back(std::move(stop));
  }
  for (const std::string& dossier : call->more_dossiers) {
    records.push_back(record);
    records.back().set_dossier_id(dossier);
  }
  records.push_back(std::move(record));
  recorder->AuditThenRelease(std::move(records), status,
                             [reactor](absl::Status answer) {
                               reactor->Finish(ToGrpcStatus(answer));
                             });
}

grpc::ServerUnaryReactor* BundleService::StartBundle(
    grpc::CallbackServerContext* context,
    const lienthong::v1::StartBundleRequest* request,
    lienthong::v1::Bundle* response) {
  auto call = std::make_shared<Call>();
  call->method = kStartBundleMethod;
  call->reactor = context->DefaultReactor();
  call->request = request;
  absl::StatusOr<BundleCaller> caller = Authorize(*context, kStartBundleMethod);
  if (!caller.ok()) {
    Finish(call, caller.status(), nullptr);
    return call->reactor;
  }
  call->caller = *caller;
  const absl::Time now = absl::Now();
  if (validation::IsDossierCode(request->dossier_code())) {
    call->dossier = request->dossier_code();
  }
  const std::string subject = BundleSubject(*request);
  if (validation::ValidateCitizenId(subject, nullptr, now).ok()) {
    call->subject = subject;
  }
  absl::Status status =
      validation::ValidateOfficer(request->has_officer(), request->officer(), now);
  if (status.ok()) call->officer = request->officer();
  absl::StatusOr<BundleData> data =
      status.ok() ? DataOfRequest(*request, now) : absl::StatusOr<BundleData>(status);
  if (!data.ok()) {
    Finish(call, data.status(), nullptr);
    return call->reactor;
  }
  StartCommand command;
  command.request = *request;
  // Fields no one declares (proto3 keeps them) would be stored with the
  // bundle for ever, and the officer's sent with every step call.
  proto_util::DiscardUnknownFields(&command.request);
  command.data = *std::move(data);
  command.caller = caller->id;
  command.caller_cert_sha256 = caller->cert_sha256;
  command.request_sha256 =
      audit::Sha256Hex(command.request.SerializeAsString());
  orchestrator_->StartBundle(
      std::move(command), [this, call, response](absl::StatusOr<Bundle> bundle) {
        if (bundle.ok()) *response = *std::move(bundle);
        Finish(call, bundle.status(), response);
      });
  return call->reactor;
}

grpc::ServerUnaryReactor* BundleService::GetBundle(
    grpc::CallbackServerContext* context,
    const lienthong::v1::GetBundleRequest* request,
    lienthong::v1::Bundle* response) {
  auto call = std::make_shared<Call>();
  call->method = kGetBundleMethod;
  call->reactor = context->DefaultReactor();
  call->request = request;
  absl::StatusOr<BundleCaller> caller = Authorize(*context, kGetBundleMethod);
  absl::Status status = caller.status();
  if (status.ok()) {
    call->caller = *caller;
    if (!request->bundle_id().empty()) {
      status = CheckBundleId(request->bundle_id());
    } else {
      status = validation::ValidateDossierCode(request->dossier_code(),
                                               "dossier_code");
      if (status.ok()) call->dossier = request->dossier_code();
    }
  }
  if (status.ok()) {
    absl::StatusOr<Bundle> bundle =
        orchestrator_->Get(request->bundle_id(), request->dossier_code());
    status = bundle.status();
    if (bundle.ok()) {
      call->dossier = bundle->dossier_code();
      *response = *std::move(bundle);
    }
  }
  Finish(call, status, response);
  return call->reactor;
}

grpc::ServerWriteReactor<Bundle>* BundleService::WatchBundle(
    grpc::CallbackServerContext* context,
    const lienthong::v1::GetBundleRequest* request) {
  auto* watch = new Watch(orchestrator_);
  absl::StatusOr<BundleCaller> caller = Authorize(*context, kWatchBundleMethod);
  absl::Status status = caller.status();
  std::string id = request->bundle_id();
  if (status.ok()) {
    status = id.empty() ? validation::ValidateDossierCode(
                              request->dossier_code(), "dossier_code")
                        : CheckBundleId(id);
  }
  // The dossier too, as GetBundle's: the stream shows what it holds, and
  // an audit query by dossier finds who watched it.
  std::string dossier =
      id.empty() && status.ok() ? request->dossier_code() : std::string();
  if (status.ok()) {
    absl::StatusOr<Bundle> found = orchestrator_->Get(id, dossier);
    status = found.status();
    if (found.ok()) {
      id = found->bundle_id();
      dossier = found->dossier_code();
    }
  }
  // Registered here, on the call's thread: after the audit, on the audit
  // log's, it would read the store there (for a bundle that has ended) and
  // hold up every audited call meanwhile.
  watch->HoldTurn();
  if (status.ok()) status = watch->Begin(id);
  const std::shared_ptr<const calls::CallRecorder> recorder = this->recorder();
  calls::Call call(kWatchBundleMethod, calls::CallerOf(*context));
  recorder->Log(call, status, {{"dossier", dossier}});
  lienthong::v1::AuditRecord record = recorder->Record(call, status);
  record.set_dossier_id(dossier);
  if (audit::AuditLog* log = recorder->audit(); log != nullptr) {
    record.set_request_sha256(log->digest_key().Digest(*request));
  }
  // The stream shows what GetBundle would, so it begins as GetBundle
  // answers: once its record is durable, and not while the audit log
  // cannot be written (refusals coalesced as any call's).
  recorder->AuditThenRelease(
      std::move(record), status,
      [watch](absl::Status answer) { watch->StartAfterAudit(answer); });
  return watch;
}

grpc::ServerUnaryReactor* BundleService::ListBundles(
    grpc::CallbackServerContext* context,
    const lienthong::v1::ListBundlesRequest* request,
    lienthong::v1::ListBundlesResponse* response) {
  auto call = std::make_shared<Call>();
  call->method = kListBundlesMethod;
  call->reactor = context->DefaultReactor();
  call->request = request;
  absl::StatusOr<BundleCaller> caller = Authorize(*context, kListBundlesMethod);
  absl::Status status = caller.status();
  if (status.ok()) {
    call->caller = *caller;
    absl::StatusOr<lienthong::v1::ListBundlesResponse> page =
        orchestrator_->List(*request);
    status = page.status();
    if (page.ok()) *response = *std::move(page);
  }
  if (status.ok()) {
    for (const lienthong::v1::Bundle& bundle : response->bundles()) {
      if (call->dossier.empty()) {
        call->dossier = bundle.dossier_code();
      } else {
        call->more_dossiers.push_back(bundle.dossier_code());
      }
    }
  }
  Finish(call, status, response);
  return call->reactor;
}

grpc::ServerUnaryReactor* BundleService::ResolveStep(
    grpc::CallbackServerContext* context,
    const lienthong::v1::ResolveStepRequest* request,
    lienthong::v1::Bundle* response) {
  auto call = std::make_shared<Call>();
  call->method = kResolveStepMethod;
  call->reactor = context->DefaultReactor();
  call->request = request;
  absl::StatusOr<BundleCaller> caller = Authorize(*context, kResolveStepMethod);
  const absl::Time now = absl::Now();
  absl::Status status = caller.status();
  if (status.ok()) {
    call->caller = *caller;
    status = CheckBundleId(request->bundle_id());
  }
  if (status.ok()) {
    status = validation::ValidateOfficer(request->has_officer(),
                                         request->officer(), now);
  }
  if (status.ok()) call->officer = request->officer();
  absl::StatusOr<Bundle> bundle =
      status.ok() ? orchestrator_->Get(request->bundle_id(), "")
                  : absl::StatusOr<Bundle>(status);
  status = bundle.status();
  if (status.ok()) call->dossier = bundle->dossier_code();
  ResolveCommand command;
  command.bundle_id = request->bundle_id();
  command.step = request->step();
  if (status.ok()) {
    switch (request->decision_case()) {
      case lienthong::v1::ResolveStepRequest::kStop:
        status = CheckStopReason(request->stop().reason());
        command.stop = true;
        command.reason = request->stop().reason();
        break;
      case lienthong::v1::ResolveStepRequest::kRetry:
        if (request->retry().corrections_size() > kMaxCorrections) {
          status = absl::InvalidArgumentError(
              absl::StrCat("corrections: at most ", kMaxCorrections));
        }
        for (const auto& [key, value] : request->retry().corrections()) {
          if (!status.ok()) break;
          status = CheckCorrection(bundle->kind(), key, value, now);
          command.corrections[key] = value;
        }
        if (status.ok() && request->step().empty()) {
          status = absl::InvalidArgumentError("step is required for a retry");
        }
        break;
      default:
        status = absl::InvalidArgumentError("decision: retry or stop");
    }
  }
  if (!status.ok()) {
    Finish(call, status, nullptr);
    return call->reactor;
  }
  if (command.stop) call->stop_reason = command.reason;
  orchestrator_->Resolve(
      std::move(command), [this, call, response](absl::StatusOr<Bundle> result) {
        if (result.ok()) *response = *std::move(result);
        Finish(call, result.status(), response);
      });
  return call->reactor;
}

}  // namespace lienthong::bundle
