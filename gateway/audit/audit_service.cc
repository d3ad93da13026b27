#include "gateway/audit/audit_service.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "gateway/status/grpc_status.h"

namespace lienthong::audit {

using ::lienthong::v1::QueryAuditRequest;
using ::lienthong::v1::VerifyAuditRequest;
using ::lienthong::v1::VerifyAuditResponse;

class AuditServiceImpl::Worker {
 public:
  using Job = absl::AnyInvocable<void(bool cancelled) &&>;

  Worker(int max_queued, std::string what)
      : max_queued_(max_queued), what_(std::move(what)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Worker() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

  // Queues `job`; UNAVAILABLE when max_queued wait (the gateway is busy,
  // not the caller over a limit of its own: the refusal is recorded in full,
  // with whom the search looked for, never coalesced as RESOURCE_EXHAUSTED
  // would be) or when stopping.
  absl::Status Enqueue(Job job) {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return absl::UnavailableError("the audit service is shutting down");
    }
    if (static_cast<int>(jobs_.size()) >= max_queued_) {
      return absl::UnavailableError(absl::StrCat(
          "too many audit ", what_, " are waiting; try again later"));
    }
    jobs_.push_back(std::move(job));
    return absl::OkStatus();
  }

 private:
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !jobs_.empty();
  }

  void Loop() {
    while (true) {
      Job job;
      bool cancelled = false;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &Worker::HasWork));
        if (jobs_.empty()) return;  // stopping, nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
        cancelled = stopping_;
      }
      std::move(job)(cancelled);
    }
  }

  const int max_queued_;
  const std::string what_;
  absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

namespace {

// Records read from the index per query: a page of up to kMaxPageSize is
// read in chunks so that each read is short.
constexpr int kChunkSize = 100;

absl::Status ShuttingDown() {
  return absl::UnavailableError("the audit service is shutting down");
}

// Reads one page for `filter`, chunk by chunk.
absl::StatusOr<std::vector<AuditRecord>> ReadPage(const AuditIndex& index,
                                                  QueryFilter filter) {
  std::vector<AuditRecord> page;
  const int limit = filter.limit;
  while (static_cast<int>(page.size()) < limit) {
    QueryFilter chunk = filter;
    chunk.limit = std::min(kChunkSize, limit - static_cast<int>(page.size()));
    absl::StatusOr<std::vector<AuditRecord>> read = index.Query(chunk);
    if (!read.ok()) return read.status();
    const bool last = static_cast<int>(read->size()) < chunk.limit;
    for (AuditRecord& r : *read) page.push_back(std::move(r));
    if (last || page.empty()) break;
    filter.after_sequence = page.back().sequence();
    filter.after_node = page.back().node();
  }
  return page;
}

// Streams a page once its audit record is durable: Start with the page, or
// Fail; writes the records one at a time (the next StartWrite only from
// OnWriteDone). Deletes itself in OnDone.
class QueryReactor final
    : public grpc::ServerWriteReactor<lienthong::v1::AuditRecord> {
 public:
  void Start(std::vector<AuditRecord> page) {
    page_ = std::move(page);
    WriteNext();
  }
  void Fail(const absl::Status& status) { Finish(ToGrpcStatus(status)); }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      // The client went away or the call was cancelled.
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (next_ == page_.size()) {
      Finish(grpc::Status::OK);
      return;
    }
    StartWrite(&page_[next_++]);
  }

  std::vector<AuditRecord> page_;
  size_t next_ = 0;
};

std::string VerifyDetails(const VerifyAuditResponse& report) {
  if (report.intact()) {
    return absl::StrCat("intact=true; last_sequence=", report.last_sequence(),
                        "; last_checkpoint=", report.last_checkpoint_index(),
                        "; acknowledged_breaks=",
                        report.acknowledged_breaks_size());
  }
  return absl::StrCat(
      "intact=false; first_bad_sequence=", report.first_bad_sequence(),
      "; first_bad_checkpoint=", report.first_bad_checkpoint(), "; problem=",
      VerifyAuditResponse::Problem_Name(report.problem()));
}

}  // namespace

AuditServiceImpl::AuditServiceImpl(
    std::shared_ptr<const calls::CallRecorder> recorder, AuthorizeFn authorize,
    HasRoleFn has_role)
    : recorder_(std::move(recorder)),
      log_(*recorder_->audit()),
      authorize_(std::move(authorize)),
      has_role_(std::move(has_role)),
      queries_(std::make_unique<Worker>(kMaxQueuedQueries, "queries")),
      verifications_(
          std::make_unique<Worker>(kMaxQueuedVerifications, "verifications")) {}

AuditServiceImpl::~AuditServiceImpl() = default;

absl::Status AuditServiceImpl::Admit(const grpc::CallbackServerContext& ctx,
                                     absl::string_view method,
                                     Caller* caller) const {
  absl::Status status = authorize_(ctx, method, caller);
  if (!status.ok()) return status;
  if (!has_role_(caller->id, kAuditorRole)) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " requires the \"", kAuditorRole,
                     "\" role, which this client does not have"));
  }
  return absl::OkStatus();
}

AuditRecord AuditServiceImpl::CallRecord(absl::string_view method,
                                         const Caller& caller, absl::Time start,
                                         const absl::Status& outcome) const {
  calls::Call call(method, {caller.id, caller.cert_sha256});
  call.start = start;
  AuditRecord record = recorder_->Record(call, outcome);
  (void)ToProtoTime(start, record.mutable_time());
  return record;
}

AuditRecord AuditServiceImpl::SearchRecord(
    const Caller& caller, absl::Time start, const absl::Status& outcome,
    const QueryAuditRequest& request) const {
  AuditRecord record = CallRecord(kQueryAuditMethod, caller, start, outcome);
  log_.citizen_key().Fill(request.citizen_id(), &record);
  log_.citizen_key().FillOfficer(request.officer_citizen_id(), "", "", &record);
  return record;
}

void AuditServiceImpl::Audit(AuditRecord record, absl::Status answer,
                             absl::AnyInvocable<void(absl::Status) &&> release) {
  calls::Call call(record.method(),
                   {record.caller(), record.caller_cert_sha256()});
  call.start = absl::Now() - absl::Microseconds(record.latency_us());
  recorder_->Log(call, answer);
  recorder_->AuditThenRelease(std::move(record), answer, std::move(release));
}

grpc::ServerWriteReactor<lienthong::v1::AuditRecord>*
AuditServiceImpl::QueryAudit(grpc::CallbackServerContext* ctx,
                             const QueryAuditRequest* request) {
  const absl::Time start = absl::Now();
  auto* reactor = new QueryReactor();
  // A call that cannot be audited is not served; nor can it be recorded.
  if (absl::Status can = log_.CanAppend(); !can.ok()) {
    reactor->Fail(can);
    return reactor;
  }
  Caller caller;
  absl::Status status = Admit(*ctx, kQueryAuditMethod, &caller);
  absl::StatusOr<QueryFilter> filter = absl::InvalidArgumentError("");
  if (status.ok()) {
    filter = FilterFromRequest(*request, log_.citizen_key());
    status = filter.status();
  }
  if (!status.ok()) {
    // Who was looked for (citizen, officer) is recorded even when the
    // search was refused.
    AuditRecord record = SearchRecord(caller, start, status, *request);
    Audit(std::move(record), status,
          [reactor](absl::Status answer) { reactor->Fail(answer); });
    return reactor;
  }
  // The request is copied: the job may outlive this callback.
  status = queries_->Enqueue([this, reactor, caller, start,
                              request = *request,
                              filter = *std::move(filter)](bool cancelled) {
    if (cancelled) {
      reactor->Fail(ShuttingDown());
      return;
    }
    absl::StatusOr<std::vector<AuditRecord>> page =
        ReadPage(log_.index(), filter);
    AuditRecord record = SearchRecord(caller, start, page.status(), request);
    record.set_dossier_id(KeptFilterDossier(filter.dossier_id));
    record.set_details(FilterDetails(filter));
    if (page.ok()) record.set_records_returned(page->size());
    auto shared = std::make_shared<absl::StatusOr<std::vector<AuditRecord>>>(
        std::move(page));
    Audit(std::move(record), shared->status(),
          [reactor, shared](absl::Status answer) {
            if (answer.ok()) {
              reactor->Start(**std::move(shared));
            } else {
              reactor->Fail(answer);
            }
          });
  });
  if (!status.ok()) {
    // Refused (the queue is full): who was looked for is recorded still.
    Audit(SearchRecord(caller, start, status, *request), status,
          [reactor](absl::Status answer) { reactor->Fail(answer); });
  }
  return reactor;
}

grpc::ServerUnaryReactor* AuditServiceImpl::VerifyAudit(
    grpc::CallbackServerContext* ctx, const VerifyAuditRequest* /*request*/,
    VerifyAuditResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = [reactor](absl::Status answer) {
    reactor->Finish(ToGrpcStatus(answer));
  };
  if (absl::Status can = log_.CanAppend(); !can.ok()) {
    reactor->Finish(ToGrpcStatus(can));
    return reactor;
  }
  Caller caller;
  absl::Status status = Admit(*ctx, kVerifyAuditMethod, &caller);
  if (status.ok()) {
    status = verifications_->Enqueue([this, ctx, reactor, response, caller,
                                      start, finish](bool cancelled) {
      if (cancelled) {
        reactor->Finish(ToGrpcStatus(ShuttingDown()));
        return;
      }
      if (ctx->IsCancelled()) {
        reactor->Finish(
            grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
        return;
      }
      absl::StatusOr<VerifyReport> report = log_.Verify();
      AuditRecord record =
          CallRecord(kVerifyAuditMethod, caller, start, report.status());
      if (report.ok()) {
        record.set_records_returned(report->records_checked());
        record.set_details(VerifyDetails(*report));
        *response = *std::move(report);
      }
      Audit(std::move(record), report.status(), finish);
    });
  }
  if (!status.ok()) {
    Audit(CallRecord(kVerifyAuditMethod, caller, start, status), status,
          finish);
  }
  return reactor;
}

}  // namespace lienthong::audit
