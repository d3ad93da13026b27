#include "gateway/audit/audit_service.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "gateway/status/grpc_status.h"

namespace lienthong::audit {
namespace {

using ::lienthong::v1::QueryAuditRequest;
using ::lienthong::v1::VerifyAuditRequest;
using ::lienthong::v1::VerifyAuditResponse;

// Records read from the store per query: a page of up to kMaxPageSize is
// read in chunks so that memory stays small and each read is short.
constexpr int kChunkSize = 100;

// Streams one page: reads a chunk, writes its records one at a time (the
// next StartWrite only from OnWriteDone), reads the next chunk when the
// current one is written, and finishes when the page is full or the store
// has no more. Deletes itself in OnDone.
class QueryReactor final
    : public grpc::ServerWriteReactor<lienthong::v1::AuditRecord> {
 public:
  // Fails the call at once with `status` when it is not OK.
  QueryReactor(const AuditStore& store, absl::StatusOr<QueryFilter> filter)
      : store_(store) {
    if (!filter.ok()) {
      Finish(ToGrpcStatus(filter.status()));
      return;
    }
    filter_ = *std::move(filter);
    remaining_ = filter_.limit;
    after_ = filter_.after_sequence;
    WriteNext();
  }

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
    if (next_ == chunk_.size()) {
      if (remaining_ <= 0 || store_exhausted_) {
        Finish(grpc::Status::OK);
        return;
      }
      QueryFilter chunk_filter = filter_;
      chunk_filter.limit = std::min(kChunkSize, remaining_);
      chunk_filter.after_sequence = after_;
      absl::StatusOr<std::vector<AuditRecord>> chunk =
          store_.Query(chunk_filter);
      if (!chunk.ok()) {
        Finish(ToGrpcStatus(chunk.status()));
        return;
      }
      chunk_ = *std::move(chunk);
      next_ = 0;
      if (static_cast<int>(chunk_.size()) < chunk_filter.limit) {
        store_exhausted_ = true;
      }
      if (chunk_.empty()) {
        Finish(grpc::Status::OK);
        return;
      }
      remaining_ -= static_cast<int>(chunk_.size());
      after_ = chunk_.back().sequence();
    }
    StartWrite(&chunk_[next_++]);
  }

  const AuditStore& store_;
  QueryFilter filter_;
  int remaining_ = 0;
  uint64_t after_ = 0;
  bool store_exhausted_ = false;
  std::vector<AuditRecord> chunk_;
  size_t next_ = 0;
};

}  // namespace

AuditServiceImpl::AuditServiceImpl(const AuditStore& store,
                                   CitizenKey citizen_key, PublicKey public_key,
                                   AuthorizeFn authorize, HasRoleFn has_role)
    : store_(store),
      citizen_key_(std::move(citizen_key)),
      public_key_(std::move(public_key)),
      authorize_(std::move(authorize)),
      has_role_(std::move(has_role)),
      worker_([this] { WorkerLoop(); }) {}

AuditServiceImpl::AuditServiceImpl(const AuditLog& log, AuthorizeFn authorize,
                                   HasRoleFn has_role)
    : AuditServiceImpl(log.store(), log.citizen_key(), log.public_key(),
                       std::move(authorize), std::move(has_role)) {}

AuditServiceImpl::~AuditServiceImpl() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  worker_.join();
}

absl::Status AuditServiceImpl::Admit(const grpc::CallbackServerContext& ctx,
                                     absl::string_view method) const {
  std::string caller;
  absl::Status status = authorize_(ctx, method, &caller);
  if (!status.ok()) return status;
  if (!has_role_(caller, kAuditorRole)) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " requires the \"", kAuditorRole,
                     "\" role, which this client does not have"));
  }
  return absl::OkStatus();
}

grpc::ServerWriteReactor<lienthong::v1::AuditRecord>*
AuditServiceImpl::QueryAudit(grpc::CallbackServerContext* ctx,
                             const QueryAuditRequest* request) {
  absl::Status admitted = Admit(*ctx, kQueryAuditMethod);
  if (!admitted.ok()) return new QueryReactor(store_, admitted);
  return new QueryReactor(store_, FilterFromRequest(*request, citizen_key_));
}

grpc::ServerUnaryReactor* AuditServiceImpl::VerifyAudit(
    grpc::CallbackServerContext* ctx, const VerifyAuditRequest* /*request*/,
    VerifyAuditResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status status = Admit(*ctx, kVerifyAuditMethod);
  if (status.ok()) {
    status = Enqueue([this, ctx, reactor, response](bool cancelled) {
      if (cancelled) {
        reactor->Finish(ToGrpcStatus(
            absl::UnavailableError("the audit service is shutting down")));
        return;
      }
      if (ctx->IsCancelled()) {
        reactor->Finish(
            grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
        return;
      }
      absl::StatusOr<VerifyReport> report = VerifyStore(store_, public_key_);
      if (!report.ok()) {
        reactor->Finish(ToGrpcStatus(report.status()));
        return;
      }
      *response = *std::move(report);
      reactor->Finish(grpc::Status::OK);
    });
  }
  if (!status.ok()) reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status AuditServiceImpl::Enqueue(Job job) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return absl::UnavailableError("the audit service is shutting down");
  }
  if (static_cast<int>(jobs_.size()) >= kMaxQueuedVerifications) {
    return absl::ResourceExhaustedError(
        "too many audit verifications are waiting; try again later");
  }
  jobs_.push_back(std::move(job));
  return absl::OkStatus();
}

bool AuditServiceImpl::HasWork() const { return stopping_ || !jobs_.empty(); }

void AuditServiceImpl::WorkerLoop() {
  while (true) {
    Job job;
    bool cancelled = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AuditServiceImpl::HasWork));
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      cancelled = stopping_;
    }
    std::move(job)(cancelled);
  }
}

}  // namespace lienthong::audit
