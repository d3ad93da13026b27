// PgOutbox: catalogue changes planned and queued under a job, jobs read
// back, and other replicas' job changes passed to the job listener (see
// pg_outbox.h).
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/outbox_internal.h"
#include "gateway/sync/outbox_push.h"
#include "gateway/sync/pg_outbox.h"
#include "gateway/sync/procedure_plan.h"

namespace lienthong::sync {

using lienthong::v1::ProcedurePlan;
using outbox_internal::FromMicros;
using outbox_internal::Micros;
using storage::pg::ByteaParam;
using storage::pg::Result;
using storage::pg::Session;

namespace {

struct ProcedureRow {
  int64_t last_seq = 0;
  std::optional<std::string> acked;
};

// The stored procedures into `rows`, and into `current` what the portal
// will hold of each: the queued change's content while one is pending or
// in flight, else what it acknowledged.
absl::Status ReadProcedures(
    Session& s, absl::flat_hash_map<std::string, ProcedureRow>& rows,
    absl::flat_hash_map<std::string, std::string>& current) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Result r,
      s.Exec("SELECT p.code, p.last_seq, p.target_hash, p.acked_hash, "
             "EXISTS (SELECT 1 FROM outbox_items i WHERE i.kind=1 AND "
             "i.key=p.code AND i.state IN (0, 1)) FROM outbox_procedures p"));
  for (int row = 0; row < r.rows(); ++row) {
    const std::string code = r.Text(row, 0);
    std::optional<std::string> held =
        r.Text(row, 4) == "t" ? r.OptionalText(row, 2) : r.OptionalText(row, 3);
    if (held.has_value()) current[code] = *held;
    rows[code] = ProcedureRow{r.Int64(row, 1), r.OptionalText(row, 3)};
  }
  return absl::OkStatus();
}

// Marks procedure `code`'s dead letters superseded at `at` (micros).
absl::Status SupersedeDeadLetters(Session& s, const std::string& code,
                                  const std::string& at) {
  return s
      .Exec(
          "UPDATE outbox_items SET state=4, finished_at=$2 WHERE kind=1 "
          "AND key=$1 AND state=3",
          {code, at})
      .status();
}

// Queues one change of `payload.code()` under `job`: publishing `payload`
// with content `hash`, or, without a hash, withdrawing it. Its dead letters
// are replaced by this change.
absl::Status QueueChange(Session& s, const std::string& outbox_id,
                         const lienthong::v1::Procedure& payload,
                         const std::optional<std::string>& hash,
                         const std::string& job, absl::Time now,
                         ProcedureRow& row) {
  const std::string& code = payload.code();
  const std::string at = absl::StrCat(Micros(now));
  LIENTHONG_RETURN_IF_ERROR(SupersedeDeadLetters(s, code, at));
  const int64_t seq = row.last_seq + 1;
  LIENTHONG_RETURN_IF_ERROR(
      s.Exec("INSERT INTO outbox_items(kind, key, seq, withdraw, payload, "
             "content_hash, idempotency_key, state, next_attempt_at, job_id, "
             "created_at) VALUES(1, $1, $2, $3, $4, $5, $6, 0, $7, $8, $7)",
             {code, absl::StrCat(seq),
              std::string(hash.has_value() ? "false" : "true"),
              ByteaParam(payload.SerializeAsString()), hash,
              outbox_internal::IdempotencyKey(outbox_id, ItemKind::kProcedure,
                                              seq, code),
              at, job})
          .status());
  LIENTHONG_RETURN_IF_ERROR(
      s.Exec("INSERT INTO outbox_procedures(code, last_seq, target_hash, "
             "acked_hash) VALUES($1, $2, $3, $4) ON CONFLICT (code) DO "
             "UPDATE SET last_seq=EXCLUDED.last_seq, "
             "target_hash=EXCLUDED.target_hash",
             {code, absl::StrCat(seq), hash, row.acked})
          .status());
  row.last_seq = seq;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<lienthong::v1::SyncProceduresResponse> PgOutbox::SyncProcedures(
    const lienthong::v1::SyncProceduresRequest& request) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  LIENTHONG_RETURN_IF_ERROR(ValidateCatalogue(request));
  std::vector<CatalogueEntry> entries;
  entries.reserve(request.procedures_size());
  for (const auto& p : request.procedures()) {
    entries.push_back({p.code(), ProcedureContentHash(p)});
  }
  const absl::Time now = options_.clock->Now();
  lienthong::v1::SyncProceduresResponse response;
  LIENTHONG_RETURN_IF_ERROR(pool_->Transact([&](Session& s) {
    response.Clear();
    // Syncs through several replicas plan one after the other.
    LIENTHONG_RETURN_IF_ERROR(
        s.Exec("SELECT pg_advisory_xact_lock(hashtext('lienthong_catalogue'))")
            .status());
    absl::flat_hash_map<std::string, ProcedureRow> rows;
    absl::flat_hash_map<std::string, std::string> current;
    LIENTHONG_RETURN_IF_ERROR(ReadProcedures(s, rows, current));
    const std::vector<ProcedurePlan> plan =
        ComputePlan(entries, current, request.withdraw_missing());
    for (const ProcedurePlan& step : plan) {
      outbox_internal::CountPlanStep(step, response);
    }
    const int changes =
        response.creates() + response.updates() + response.withdrawals();
    // Dead letters of the procedures left unchanged; a change replaces its
    // procedure's own (QueueChange).
    LIENTHONG_ASSIGN_OR_RETURN(
        Result dead, s.Exec("SELECT key, count(*) FROM outbox_items WHERE "
                            "kind=1 AND state=3 GROUP BY key"));
    absl::flat_hash_map<std::string, int64_t> dead_of;
    for (int row = 0; row < dead.rows(); ++row) {
      dead_of[dead.Text(row, 0)] = dead.Int64(row, 1);
    }
    std::vector<std::string> moot;
    int64_t moot_count = 0;
    for (const ProcedurePlan& step : plan) {
      auto it = dead_of.find(step.code());
      if (step.action() != ProcedurePlan::UNCHANGED || it == dead_of.end()) {
        continue;
      }
      moot.push_back(step.code());
      moot_count += it->second;
    }
    response.set_dead_letters_superseded(static_cast<int>(moot_count));
    if (request.dry_run()) return absl::OkStatus();
    for (const std::string& code : moot) {
      LIENTHONG_RETURN_IF_ERROR(
          SupersedeDeadLetters(s, code, absl::StrCat(Micros(now))));
    }
    if (changes == 0) return absl::OkStatus();
    const std::string job = outbox_internal::NewJobId(now);
    for (const outbox_internal::PlannedChange& change :
         outbox_internal::PlannedChanges(plan, request, entries)) {
      LIENTHONG_RETURN_IF_ERROR(
          QueueChange(s, outbox_id_, change.payload, change.hash, job, now,
                      rows[change.payload.code()]));
    }
    LIENTHONG_RETURN_IF_ERROR(
        s.Exec("INSERT INTO outbox_jobs(id, total, created_at, updated_at) "
               "VALUES($1, $2, $3, $3)",
               {job, absl::StrCat(changes), absl::StrCat(Micros(now))})
            .status());
    response.set_job_id(job);
    return absl::OkStatus();
  }));
  if (!response.job_id().empty()) {
    PollAt(now);
    NotifyWork();
  }
  return response;
}

absl::StatusOr<lienthong::v1::SyncJob> PgOutbox::GetJob(
    absl::string_view job_id) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  LIENTHONG_ASSIGN_OR_RETURN(
      Result r, pool_->Run("SELECT total, delivered, dead, started, "
                           "created_at, updated_at FROM outbox_jobs WHERE id=$1",
                           {std::string(job_id)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("no sync job '", job_id, outbox_internal::kNoSuchJob));
  }
  return outbox_internal::JobOf(
      job_id, static_cast<int>(r.Int64(0, 0)), static_cast<int>(r.Int64(0, 1)),
      static_cast<int>(r.Int64(0, 2)), r.Text(0, 3) == "t",
      FromMicros(r.Int64(0, 4)), FromMicros(r.Int64(0, 5)));
}

void PgOutbox::NotifyJobChanges() {
  // A second of overlap: replicas' clocks stamp updated_at.
  const int64_t since = jobs_seen_until_ - 1000000;
  absl::StatusOr<Result> r =
      pool_->Run("SELECT id, updated_at FROM outbox_jobs WHERE updated_at>$1",
                 {absl::StrCat(since)});
  if (!r.ok()) return;
  std::vector<std::string> jobs;
  for (int row = 0; row < r->rows(); ++row) {
    const int64_t updated = r->Int64(row, 1);
    int64_t& told = jobs_told_[r->Text(row, 0)];
    if (told != updated) jobs.push_back(r->Text(row, 0));
    told = updated;
    jobs_seen_until_ = std::max(jobs_seen_until_, updated);
  }
  absl::erase_if(jobs_told_, [since](const auto& entry) {
    return entry.second <= since;
  });
  if (jobs_seen_until_ == 0) jobs_seen_until_ = Micros(options_.clock->Now());
  NotifyJobs(jobs);
}

}  // namespace lienthong::sync
