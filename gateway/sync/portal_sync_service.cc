#include "gateway/sync/portal_sync_service.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gateway/audit/audit_log.h"
#include "gateway/log/log.h"
#include "gateway/status/grpc_status.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/tls/client_identity.h"
#include "gateway/validation/codes.h"

namespace lienthong::sync {
namespace {

using lienthong::v1::SyncJob;

bool IsEnded(const SyncJob& job) {
  return job.state() == SyncJob::DONE ||
         job.state() == SyncJob::DONE_WITH_ERRORS;
}

bool SameProgress(const SyncJob& a, const SyncJob& b) {
  return a.state() == b.state() && a.total() == b.total() &&
         a.delivered() == b.delivered() &&
         a.dead_lettered() == b.dead_lettered();
}

}  // namespace

// One WatchSyncJob stream. Its flags are guarded by the service's
// watchers_mu_. "The write turn" (writing_) belongs to whoever is reading
// the job to write it or has a write in flight; only its holder starts a
// write or finishes a stream that is registered, so a watcher cannot be
// finished (and deleted) under a holder's feet. gRPC is never called with
// the lock held.
class PortalSyncService::JobWatcher final
    : public grpc::ServerWriteReactor<SyncJob> {
 public:
  JobWatcher(PortalSyncService* service, std::string job_id)
      : service_(service), job_id_(std::move(job_id)) {}

  // Finishes a stream that never got registered.
  void FinishEarly(const absl::Status& status) {
    {
      absl::MutexLock lock(&service_->watchers_mu_);
      finished_ = true;
    }
    Finish(ToGrpcStatus(status));
  }

  // Registers the watcher and takes the write turn for the first write.
  void Register() {
    absl::MutexLock lock(&service_->watchers_mu_);
    service_->watchers_[job_id_].insert(this);
    registered_ = true;
    writing_ = true;
  }

  // Returns true when the caller got the write turn and must call
  // WriteLatest() once it has released the lock.
  bool Poke() ABSL_EXCLUSIVE_LOCKS_REQUIRED(service_->watchers_mu_) {
    if (finished_) return false;
    if (writing_) {
      dirty_ = true;
      return false;
    }
    writing_ = true;
    return true;
  }

  // Reads the job and writes it if it moved. REQUIRES: holds the write turn.
  void WriteLatest() {
    for (;;) {
      {
        absl::MutexLock lock(&service_->watchers_mu_);
        dirty_ = false;  // this read covers every poke so far
      }
      absl::StatusOr<SyncJob> job = service_->outbox_->GetJob(job_id_);
      if (!job.ok()) {
        {
          absl::MutexLock lock(&service_->watchers_mu_);
          finished_ = true;
          writing_ = false;
        }
        Finish(ToGrpcStatus(job.status()));
        return;
      }
      if (!has_last_ || !SameProgress(last_, *job)) {
        last_ = *std::move(job);
        has_last_ = true;
        StartWrite(&last_);
        return;
      }
      bool finish = false;
      {
        absl::MutexLock lock(&service_->watchers_mu_);
        if (dirty_) continue;  // keep the turn and read again
        writing_ = false;
        if (cancelled_ && !finished_) finish = finished_ = true;
      }
      if (finish)
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return;
    }
  }

  void OnWriteDone(bool ok) override {
    enum class Next {
      kNothing,
      kWrite,
      kEnd,
      kCancelled
    } next = Next::kNothing;
    {
      absl::MutexLock lock(&service_->watchers_mu_);
      if (!ok || cancelled_) {
        next = Next::kCancelled;
      } else if (IsEnded(last_)) {
        next = Next::kEnd;
      } else if (dirty_) {
        next = Next::kWrite;
      }
      if (next != Next::kWrite) writing_ = false;
      if (next == Next::kEnd || next == Next::kCancelled) finished_ = true;
    }
    switch (next) {
      case Next::kWrite:
        WriteLatest();
        break;
      case Next::kEnd:
        Finish(grpc::Status::OK);
        break;
      case Next::kCancelled:
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
        break;
      case Next::kNothing:
        break;
    }
  }

  void OnCancel() override {
    bool finish = false;
    {
      absl::MutexLock lock(&service_->watchers_mu_);
      cancelled_ = true;
      if (!writing_ && !finished_) finish = finished_ = true;
    }
    if (finish) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&service_->watchers_mu_);
      if (registered_) {
        auto it = service_->watchers_.find(job_id_);
        if (it != service_->watchers_.end()) {
          it->second.erase(this);
          if (it->second.empty()) service_->watchers_.erase(it);
        }
      }
    }
    delete this;
  }

 private:
  PortalSyncService* const service_;
  const std::string job_id_;
  bool writing_ ABSL_GUARDED_BY(service_->watchers_mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(service_->watchers_mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(service_->watchers_mu_) = false;
  bool finished_ ABSL_GUARDED_BY(service_->watchers_mu_) = false;
  bool registered_ ABSL_GUARDED_BY(service_->watchers_mu_) = false;
  // Used by the holder of the write turn only; stays put while written.
  SyncJob last_;
  bool has_last_ = false;
};

PortalSyncService::PortalSyncService(Outbox* outbox, CatalogueAccess catalogue)
    : outbox_(outbox), catalogue_(std::move(catalogue)) {}

std::string PortalSyncService::NationalCode(absl::string_view code) const {
  if (catalogue_.codes != nullptr) return catalogue_.codes->National(code);
  return ProcedureCodeMap().National(code);
}

absl::Status PortalSyncService::CheckNationalCodes(
    const std::vector<std::pair<std::string, std::string>>& codes) const {
  if (catalogue_.catalogue == nullptr) return absl::OkStatus();
  constexpr int kMaxNamed = 10;
  std::vector<std::string> unknown;
  int count = 0;
  for (const auto& [where, national] : codes) {
    switch (catalogue_.catalogue->Check(national)) {
      case NationalCatalogue::Verdict::kKnown:
        break;
      case NationalCatalogue::Verdict::kNoCatalogue:
        if (catalogue_.check_skipped) catalogue_.check_skipped();
        break;
      case NationalCatalogue::Verdict::kUnknown:
        if (++count <= kMaxNamed) {
          unknown.push_back(absl::StrCat(where, ": ", national));
        }
        break;
    }
  }
  if (count == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "not in the national procedure database: ", absl::StrJoin(unknown, "; "),
      count > kMaxNamed ? absl::StrCat("; and ", count - kMaxNamed, " more")
                        : "",
      " (check the codes, portal_sync.procedure_codes, or read the catalogue "
      "again: lienthong catalogue pull)"));
}

PortalSyncService::~PortalSyncService() = default;

void PortalSyncService::SetAuthorizer(Authorizer authorize) {
  absl::MutexLock lock(&authorizer_mu_);
  authorize_ = std::move(authorize);
}

absl::Status PortalSyncService::Authorize(
    const grpc::CallbackServerContext& context, absl::string_view method) {
  Authorizer authorize;
  {
    absl::MutexLock lock(&authorizer_mu_);
    authorize = authorize_;
  }
  if (!authorize) {
    return absl::UnavailableError("portal synchronisation is starting");
  }
  return authorize(context, method);
}

void PortalSyncService::SetAuditor(CallAuditor auditor) {
  absl::MutexLock lock(&authorizer_mu_);
  auditor_ = std::move(auditor);
}

CallAuditor PortalSyncService::auditor() {
  absl::MutexLock lock(&authorizer_mu_);
  return auditor_;
}

void PortalSyncService::SetRecorder(
    std::shared_ptr<const calls::CallRecorder> recorder) {
  absl::MutexLock lock(&authorizer_mu_);
  recorder_ = std::move(recorder);
}

void PortalSyncService::LogAccess(const grpc::CallbackServerContext& context,
                                  absl::string_view method, absl::Time start,
                                  const absl::Status& status) {
  std::shared_ptr<const calls::CallRecorder> recorder;
  {
    absl::MutexLock lock(&authorizer_mu_);
    recorder = recorder_;
  }
  calls::Call call(method, calls::CallerOf(context));
  call.start = start;
  recorder->Log(call, status);
}

void PortalSyncService::OnJobsChanged(const std::vector<std::string>& job_ids) {
  std::vector<JobWatcher*> turns;
  {
    absl::MutexLock lock(&watchers_mu_);
    for (const std::string& id : job_ids) {
      auto it = watchers_.find(id);
      if (it == watchers_.end()) continue;
      for (JobWatcher* watcher : it->second) {
        if (watcher->Poke()) turns.push_back(watcher);
      }
    }
  }
  for (JobWatcher* watcher : turns) watcher->WriteLatest();
}

grpc::ServerUnaryReactor* PortalSyncService::Answer(
    grpc::CallbackServerContext* context, absl::string_view method,
    absl::Time start, const absl::Status& status,
    std::vector<std::string> dossier_ids) {
  LogAccess(*context, method, start, status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  CallAuditor audit = auditor();
  if (!audit) {
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  SyncCallRecord call;
  call.method = method;
  call.dossier_ids = std::move(dossier_ids);
  call.status = status;
  call.start = start;
  audit(*context, call, [reactor, status](absl::Status durable) {
    reactor->Finish(ToGrpcStatus(
        durable.ok() ? status
                     : absl::UnavailableError(audit::kAnswerWithheld)));
  });
  return reactor;
}

grpc::ServerUnaryReactor* PortalSyncService::SyncProcedures(
    grpc::CallbackServerContext* context,
    const lienthong::v1::SyncProceduresRequest* request,
    lienthong::v1::SyncProceduresResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(*context, kSyncProceduresMethod);
  if (status.ok()) {
    std::vector<std::pair<std::string, std::string>> codes;
    for (int i = 0; i < request->procedures_size(); ++i) {
      const lienthong::v1::Procedure& p = request->procedures(i);
      // Refused below, by their own rules, never echoed.
      if (!validation::IsProcedureCode(p.code()) ||
          (!p.national_code().empty() &&
           !validation::IsNationalProcedureCode(p.national_code()))) {
        continue;
      }
      codes.emplace_back(absl::StrCat("procedures[", i, "] (", p.code(), ")"),
                         p.national_code().empty() ? NationalCode(p.code())
                                                   : p.national_code());
    }
    status = CheckNationalCodes(codes);
  }
  if (status.ok()) {
    auto result = outbox_->SyncProcedures(*request);
    if (result.ok()) {
      *response = *std::move(result);
    } else {
      status = result.status();
    }
  }
  return Answer(context, kSyncProceduresMethod, start, status);
}

grpc::ServerWriteReactor<SyncJob>* PortalSyncService::WatchSyncJob(
    grpc::CallbackServerContext* context,
    const lienthong::v1::GetSyncJobRequest* request) {
  const absl::Time start = absl::Now();
  auto* watcher = new JobWatcher(this, request->job_id());
  absl::Status status = Authorize(*context, kWatchSyncJobMethod);
  if (status.ok() && request->job_id().empty()) {
    status = absl::InvalidArgumentError("job_id is required");
  }
  if (status.ok()) status = outbox_->GetJob(request->job_id()).status();
  LogAccess(*context, kWatchSyncJobMethod, start, status);
  if (CallAuditor audit = auditor()) {
    // Not waited for: the stream only reads job progress.
    SyncCallRecord call;
    call.method = kWatchSyncJobMethod;
    call.status = status;
    call.start = start;
    audit(*context, call, [](absl::Status) {});
  }
  if (!status.ok()) {
    watcher->FinishEarly(status);
    return watcher;
  }
  watcher->Register();
  watcher->WriteLatest();
  return watcher;
}

grpc::ServerUnaryReactor* PortalSyncService::GetSyncJob(
    grpc::CallbackServerContext* context,
    const lienthong::v1::GetSyncJobRequest* request,
    lienthong::v1::SyncJob* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(*context, kGetSyncJobMethod);
  if (status.ok() && request->job_id().empty()) {
    status = absl::InvalidArgumentError("job_id is required");
  }
  if (status.ok()) {
    auto job = outbox_->GetJob(request->job_id());
    if (job.ok()) {
      *response = *std::move(job);
    } else {
      status = job.status();
    }
  }
  return Answer(context, kGetSyncJobMethod, start, status);
}

grpc::ServerUnaryReactor* PortalSyncService::PushDossierStatus(
    grpc::CallbackServerContext* context,
    const lienthong::v1::PushDossierStatusRequest* request,
    lienthong::v1::PushDossierStatusResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(*context, kPushDossierStatusMethod);
  const bool authorized = status.ok();
  if (status.ok() && request->updates_size() > kMaxUpdatesPerPush) {
    status = absl::InvalidArgumentError(absl::StrCat(
        "at most ", kMaxUpdatesPerPush, " updates per call; split the batch"));
  }
  if (status.ok()) {
    std::vector<std::pair<std::string, std::string>> codes;
    absl::flat_hash_set<absl::string_view> seen;
    for (int i = 0; i < request->updates_size(); ++i) {
      const std::string& code = request->updates(i).procedure_code();
      if (!validation::IsProcedureCode(code)) continue;  // refused below
      if (!seen.insert(code).second) continue;
      codes.emplace_back(
          absl::StrCat("updates[", i, "].procedure_code (", code, ")"),
          NationalCode(code));
    }
    status = CheckNationalCodes(codes);
  }
  if (status.ok()) {
    auto pushed = outbox_->PushDossierUpdates(request->updates());
    if (pushed.ok()) {
      response->set_accepted(pushed->accepted);
      response->set_duplicates(pushed->duplicates);
      response->set_registrations(pushed->registrations);
    } else {
      status = pushed.status();
    }
  }
  // Every dossier the call is about, each once: the audit log is searched
  // by dossier. A caller without the right to push, or a push over the
  // limit, is refused unread and audited once without them: a refused call
  // must not be able to flood the audit log with records. Only dossier
  // codes are kept: a refused push may hold anything there (a citizen's
  // ID), which the audit must not keep in clear.
  std::vector<std::string> dossiers;
  if (authorized && request->updates_size() <= kMaxUpdatesPerPush) {
    absl::flat_hash_set<absl::string_view> seen;
    for (const auto& update : request->updates()) {
      const std::string& code = update.dossier_code();
      if (validation::IsDossierCode(code) && seen.insert(code).second) {
        dossiers.push_back(code);
      }
    }
  }
  return Answer(context, kPushDossierStatusMethod, start, status,
                std::move(dossiers));
}

grpc::ServerUnaryReactor* PortalSyncService::ListDeadLetters(
    grpc::CallbackServerContext* context,
    const lienthong::v1::ListDeadLettersRequest* request,
    lienthong::v1::ListDeadLettersResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(*context, kListDeadLettersMethod);
  if (status.ok()) {
    auto page =
        outbox_->ListDeadLetters(request->page_size(), request->page_token());
    if (page.ok()) {
      *response = *std::move(page);
    } else {
      status = page.status();
    }
  }
  return Answer(context, kListDeadLettersMethod, start, status);
}

grpc::ServerUnaryReactor* PortalSyncService::RetryDeadLetters(
    grpc::CallbackServerContext* context,
    const lienthong::v1::RetryDeadLettersRequest* request,
    lienthong::v1::RetryDeadLettersResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(*context, kRetryDeadLettersMethod);
  if (status.ok()) {
    std::vector<std::string> ids(request->ids().begin(), request->ids().end());
    auto requeued = outbox_->RetryDeadLetters(ids);
    if (requeued.ok()) {
      response->set_requeued(*requeued);
    } else {
      status = requeued.status();
    }
  }
  return Answer(context, kRetryDeadLettersMethod, start, status);
}

grpc::ServerUnaryReactor* PortalSyncService::PullCatalogue(
    grpc::CallbackServerContext* context,
    const lienthong::v1::PullCatalogueRequest* request,
    lienthong::v1::CataloguePull* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(*context, kPullCatalogueMethod);
  if (status.ok() && catalogue_.puller == nullptr) {
    status = absl::UnavailableError("the national catalogue cannot be read");
  }
  if (status.ok()) *response = catalogue_.puller->PullNow();
  return Answer(context, kPullCatalogueMethod, start, status);
}

grpc::ServerUnaryReactor* PortalSyncService::GetCataloguePull(
    grpc::CallbackServerContext* context,
    const lienthong::v1::GetCataloguePullRequest* request,
    lienthong::v1::CataloguePull* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(*context, kGetCataloguePullMethod);
  if (status.ok() && catalogue_.puller == nullptr) {
    status = absl::UnavailableError("the national catalogue cannot be read");
  }
  if (status.ok()) {
    std::optional<lienthong::v1::CataloguePull> latest =
        catalogue_.puller->Latest();
    if (latest.has_value()) {
      *response = *std::move(latest);
    } else {
      status = absl::NotFoundError(
          "the national catalogue has not been read since the gateway "
          "started");
    }
  }
  return Answer(context, kGetCataloguePullMethod, start, status);
}

}  // namespace lienthong::sync
