// Outbox: catalogue changes planned and queued under a job, and jobs read
// back (see outbox.h).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/sqlite_outbox.h"
#include "gateway/sync/outbox_internal.h"
#include "gateway/sync/outbox_push.h"
#include "gateway/sync/procedure_plan.h"

namespace lienthong::sync {

using lienthong::v1::ProcedurePlan;
using outbox_internal::FromMicros;
using outbox_internal::MapKey;
using outbox_internal::Micros;
using outbox_internal::ToProtoTime;
using storage::Database;
using storage::Statement;
using storage::Transaction;

namespace outbox_internal {

// A procedure's row of `procedures` as a sync leaves it. Not in an
// anonymous namespace: SqliteOutbox::SyncState holds it.
struct ProcedureRow {
  int64_t last_seq = 0;
  std::optional<std::string> acked;
};

}  // namespace outbox_internal

using outbox_internal::ProcedureRow;

namespace {

absl::Status WriteProcedure(Database& db, const std::string& code, int64_t seq,
                            const std::optional<std::string>& target,
                            const std::optional<std::string>& acked) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached("INSERT OR REPLACE INTO procedures(code, last_seq, "
                "target_hash, acked_hash) VALUES(?, ?, ?, ?)"));
  return up.Bind(1, code).Bind(2, seq).Bind(3, target).Bind(4, acked).Run();
}

absl::Status InsertJob(Database& db, const std::string& job_id, int total,
                       absl::Time now) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement ins, db.Cached("INSERT INTO jobs(id, total, created_at, "
                               "updated_at) VALUES(?, ?, ?, ?)"));
  return ins.Bind(1, job_id)
      .Bind(2, total)
      .Bind(3, Micros(now))
      .Bind(4, Micros(now))
      .Run();
}

}  // namespace

// One sync's work: the stored procedures, the job, what changed in memory.
struct SqliteOutbox::SyncState {
  absl::Time now;
  std::string job_id;
  absl::flat_hash_map<std::string, ProcedureRow> rows;
  struct NewItem {
    std::string code;
    int64_t seq;
    int64_t id;
  };
  std::vector<NewItem> added;
  std::vector<std::pair<std::string, int64_t>> superseded;  // map key, seq
};

absl::StatusOr<lienthong::v1::SyncProceduresResponse> SqliteOutbox::SyncProcedures(
    const lienthong::v1::SyncProceduresRequest& request) {
  LIENTHONG_RETURN_IF_ERROR(ValidateCatalogue(request));
  std::vector<CatalogueEntry> entries;
  entries.reserve(request.procedures_size());
  for (const auto& p : request.procedures()) {
    entries.push_back({p.code(), ProcedureContentHash(p)});
  }
  SyncState state;
  state.now = options_.clock->Now();
  lienthong::v1::SyncProceduresResponse response;
  {
    absl::MutexLock lock(&mu_);
    absl::flat_hash_map<std::string, std::string> current;
    LIENTHONG_RETURN_IF_ERROR(ReadProcedures(state, current));
    std::vector<ProcedurePlan> plan =
        ComputePlan(entries, current, request.withdraw_missing());
    for (const ProcedurePlan& step : plan) outbox_internal::CountPlanStep(step, response);
    const int changes =
        response.creates() + response.updates() + response.withdrawals();
    // Dead letters of the procedures left unchanged; a change replaces its
    // procedure's own (QueueProcedureChange).
    std::vector<std::pair<std::string, int64_t>> moot;  // map key, seq
    std::vector<int64_t> moot_ids;
    for (const ProcedurePlan& step : plan) {
      if (step.action() != ProcedurePlan::UNCHANGED) continue;
      const std::string map_key = MapKey(ItemKind::kProcedure, step.code());
      for (const auto& [seq, id] : queues_.DeadItems(map_key)) {
        moot.emplace_back(map_key, seq);
        moot_ids.push_back(id);
      }
    }
    response.set_dead_letters_superseded(static_cast<int>(moot.size()));
    if (request.dry_run() || (changes == 0 && moot.empty())) return response;
    LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    for (int64_t id : moot_ids) {
      LIENTHONG_RETURN_IF_ERROR(
          outbox_internal::SupersedeItem(*db_, id, state.now));
    }
    state.superseded = std::move(moot);
    if (changes > 0) {
      state.job_id = outbox_internal::NewJobId(state.now);
      for (const outbox_internal::PlannedChange& change :
           outbox_internal::PlannedChanges(plan, request, entries)) {
        LIENTHONG_RETURN_IF_ERROR(
            QueueProcedureChange(change.payload, change.hash, state));
      }
      LIENTHONG_RETURN_IF_ERROR(
          InsertJob(*db_, state.job_id, changes, state.now));
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const auto& [map_key, seq] : state.superseded) {
      queues_.Erase(map_key, seq);
    }
    for (const SyncState::NewItem& item : state.added) {
      queues_.Put(MapKey(ItemKind::kProcedure, item.code), item.seq,
                  KeyQueues::Item{item.id, ItemState::kPending, state.now});
    }
    response.set_job_id(state.job_id);
  }
  NotifyWork();
  return response;
}

absl::Status SqliteOutbox::ReadProcedures(
    SyncState& state, absl::flat_hash_map<std::string, std::string>& current) {
  LIENTHONG_ASSIGN_OR_RETURN(Statement q,
                             db_->Cached("SELECT code, last_seq, target_hash, "
                                         "acked_hash FROM procedures"));
  return q.ForEachRow([&] {
    std::string code = q.Text(0);
    std::optional<std::string> target = q.OptionalText(2);
    std::optional<std::string> acked = q.OptionalText(3);
    // What the portal will hold: the queued change's content while one is
    // on its way, else what it acknowledged.
    std::optional<std::string> held =
        queues_.HasQueued(MapKey(ItemKind::kProcedure, code)) ? target : acked;
    if (held.has_value()) current[code] = *held;
    state.rows[code] = ProcedureRow{q.Int64(1), acked};
    return true;
  });
}

absl::Status SqliteOutbox::QueueProcedureChange(
    const lienthong::v1::Procedure& payload,
    const std::optional<std::string>& hash, SyncState& state) {
  const std::string& code = payload.code();
  const bool withdraw = !hash.has_value();
  // Dead letters of this procedure are replaced by this change.
  const std::string map_key = MapKey(ItemKind::kProcedure, code);
  for (const auto& [seq, id] : queues_.DeadItems(map_key)) {
    LIENTHONG_RETURN_IF_ERROR(
        outbox_internal::SupersedeItem(*db_, id, state.now));
    state.superseded.emplace_back(map_key, seq);
  }
  ProcedureRow& row = state.rows[code];
  const int64_t seq = row.last_seq + 1;
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement ins,
      db_->Cached(
          "INSERT INTO items(kind, key, seq, withdraw, payload, "
          "content_hash, idempotency_key, state, next_attempt_at, "
          "job_id, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  LIENTHONG_RETURN_IF_ERROR(
      ins.Bind(1, ItemKind::kProcedure)
          .Bind(2, code)
          .Bind(3, seq)
          .Bind(4, withdraw ? 1 : 0)
          .BindBlob(5, payload.SerializeAsString())
          .Bind(6, hash)
          .Bind(7, absl::StrCat(outbox_id_, "-p", seq, "-", code))
          .Bind(8, ItemState::kPending)
          .Bind(9, Micros(state.now))
          .Bind(10, state.job_id)
          .Bind(11, Micros(state.now))
          .Run());
  state.added.push_back({code, seq, db_->LastInsertId()});
  LIENTHONG_RETURN_IF_ERROR(WriteProcedure(*db_, code, seq, hash, row.acked));
  row.last_seq = seq;
  return absl::OkStatus();
}

absl::StatusOr<lienthong::v1::SyncJob> SqliteOutbox::GetJob(
    absl::string_view job_id) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db_->Cached("SELECT total, delivered, dead, started, created_at, "
                  "updated_at FROM jobs WHERE id=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, job_id).Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("no sync job '", job_id, outbox_internal::kNoSuchJob));
  }
  return outbox_internal::JobOf(job_id, q.Int(0), q.Int(1), q.Int(2),
                                q.Int64(3) != 0, FromMicros(q.Int64(4)),
                                FromMicros(q.Int64(5)));
}

}  // namespace lienthong::sync
