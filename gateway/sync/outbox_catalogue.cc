#include "gateway/sync/outbox.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/outbox_db.h"
#include "gateway/sync/procedure_plan.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::MapKey;
using outbox_internal::Micros;
using outbox_internal::ToProtoTime;
using lienthong::v1::ProcedurePlan;

absl::StatusOr<lienthong::v1::SyncProceduresResponse> Outbox::SyncProcedures(
    const lienthong::v1::SyncProceduresRequest& request) {
  LIENTHONG_RETURN_IF_ERROR(ValidateCatalogue(request));
  std::vector<CatalogueEntry> entries;
  entries.reserve(request.procedures_size());
  absl::flat_hash_map<std::string, int> index;
  for (int i = 0; i < request.procedures_size(); ++i) {
    const auto& p = request.procedures(i);
    entries.push_back({p.code(), ProcedureContentHash(p)});
    index[p.code()] = i;
  }
  const absl::Time now = options_.clock->Now();
  lienthong::v1::SyncProceduresResponse response;
  {
    absl::MutexLock lock(&mu_);
    struct Row {
      int64_t last_seq = 0;
      std::optional<std::string> acked;
    };
    absl::flat_hash_map<std::string, Row> rows;
    absl::flat_hash_map<std::string, std::string> current;
    {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt q, db_->Prepare("SELECT code, last_seq, target_hash, "
                                   "acked_hash FROM procedures"));
      for (;;) {
        LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        std::string code = q.Text(0);
        std::optional<std::string> target = q.OptionalText(2);
        std::optional<std::string> acked = q.OptionalText(3);
        std::optional<std::string> held =
            HasQueuedChange(code) ? target : acked;
        if (held.has_value()) current[code] = *held;
        rows[code] = Row{q.Int(1), acked};
      }
    }
    std::vector<ProcedurePlan> plan =
        ComputePlan(entries, current, request.withdraw_missing());
    for (const ProcedurePlan& step : plan) {
      switch (step.action()) {
        case ProcedurePlan::CREATE:
          response.set_creates(response.creates() + 1);
          break;
        case ProcedurePlan::UPDATE:
          response.set_updates(response.updates() + 1);
          break;
        case ProcedurePlan::WITHDRAW:
          response.set_withdrawals(response.withdrawals() + 1);
          break;
        default:
          response.set_unchanged(response.unchanged() + 1);
          break;
      }
      *response.add_plan() = step;
    }
    const int changes =
        response.creates() + response.updates() + response.withdrawals();
    if (request.dry_run() || changes == 0) return response;

    absl::BitGen gen;
    const std::string job_id = absl::StrFormat(
        "job-%s-%06x", absl::FormatTime("%Y%m%d%H%M%S", now, absl::UTCTimeZone()),
        absl::Uniform<uint32_t>(gen, 0, 1u << 24));
    struct NewItem {
      std::string code;
      int64_t seq;
      int64_t id;
    };
    std::vector<NewItem> added;
    std::vector<std::pair<std::string, int64_t>> superseded;  // map key, seq
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    for (const ProcedurePlan& step : plan) {
      if (step.action() == ProcedurePlan::UNCHANGED) continue;
      const std::string& code = step.code();
      const bool withdraw = step.action() == ProcedurePlan::WITHDRAW;
      lienthong::v1::Procedure payload;
      std::optional<std::string> hash;
      if (withdraw) {
        payload.set_code(code);
      } else {
        const int i = index.at(code);
        payload = request.procedures(i);
        hash = entries[i].hash;
      }
      // Dead letters of this procedure are replaced by this change.
      std::string map_key = MapKey(ItemKind::kProcedure, code);
      if (auto q = open_.find(map_key); q != open_.end()) {
        for (const auto& [seq, item] : q->second.items) {
          if (item.state != ItemState::kDead) continue;
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up, db_->Prepare("UPDATE items SET state=4, "
                                        "finished_at=? WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(now)).Bind(2, item.id).Run());
          superseded.emplace_back(map_key, seq);
        }
      }
      Row& row = rows[code];
      const int64_t seq = row.last_seq + 1;
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt ins,
            db_->Prepare("INSERT INTO items(kind, key, seq, withdraw, payload, "
                         "content_hash, idempotency_key, state, "
                         "next_attempt_at, job_id, created_at) "
                         "VALUES(?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"));
        LIENTHONG_RETURN_IF_ERROR(
            ins.Bind(1, static_cast<int64_t>(ItemKind::kProcedure))
                .Bind(2, code)
                .Bind(3, seq)
                .Bind(4, withdraw ? 1 : 0)
                .BindBlob(5, payload.SerializeAsString())
                .BindOptional(6, hash)
                .Bind(7, absl::StrCat(outbox_id_, "-p", seq, "-", code))
                .Bind(8, Micros(now))
                .Bind(9, job_id)
                .Bind(10, Micros(now))
                .Run());
      }
      added.push_back({code, seq, db_->LastInsertId()});
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt up,
            db_->Prepare("INSERT OR REPLACE INTO procedures(code, last_seq, "
                         "target_hash, acked_hash) VALUES(?, ?, ?, ?)"));
        LIENTHONG_RETURN_IF_ERROR(up.Bind(1, code)
                                      .Bind(2, seq)
                                      .BindOptional(3, hash)
                                      .BindOptional(4, row.acked)
                                      .Run());
      }
      row.last_seq = seq;
    }
    {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt ins,
          db_->Prepare("INSERT INTO jobs(id, total, created_at, updated_at) "
                       "VALUES(?, ?, ?, ?)"));
      LIENTHONG_RETURN_IF_ERROR(ins.Bind(1, job_id)
                                    .Bind(2, static_cast<int64_t>(changes))
                                    .Bind(3, Micros(now))
                                    .Bind(4, Micros(now))
                                    .Run());
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const auto& [map_key, seq] : superseded) {
      open_[map_key].items.erase(seq);
      Reindex(map_key);
    }
    for (const NewItem& item : added) {
      std::string map_key = MapKey(ItemKind::kProcedure, item.code);
      open_[map_key].items[item.seq] =
          OpenItem{item.id, ItemState::kPending, now};
      Reindex(map_key);
    }
    response.set_job_id(job_id);
  }
  NotifyWork();
  return response;
}

absl::StatusOr<lienthong::v1::SyncJob> Outbox::GetJob(absl::string_view job_id) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt q,
      db_->Prepare("SELECT total, delivered, dead, started, created_at, "
                   "updated_at FROM jobs WHERE id=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, job_id).Step());
  if (!row) {
    return absl::NotFoundError(absl::StrCat(
        "no sync job '", job_id,
        "': the id is unknown, or the job finished longer ago than "
        "portal_sync.delivered_retention_hours and was pruned"));
  }
  lienthong::v1::SyncJob job;
  job.set_job_id(std::string(job_id));
  job.set_total(static_cast<int32_t>(q.Int(0)));
  job.set_delivered(static_cast<int32_t>(q.Int(1)));
  job.set_dead_lettered(static_cast<int32_t>(q.Int(2)));
  if (job.delivered() + job.dead_lettered() >= job.total()) {
    job.set_state(job.dead_lettered() > 0
                      ? lienthong::v1::SyncJob::DONE_WITH_ERRORS
                      : lienthong::v1::SyncJob::DONE);
  } else {
    job.set_state(q.Int(3) != 0 ? lienthong::v1::SyncJob::RUNNING
                                : lienthong::v1::SyncJob::QUEUED);
  }
  *job.mutable_created() = ToProtoTime(FromMicros(q.Int(4)));
  *job.mutable_updated() = ToProtoTime(FromMicros(q.Int(5)));
  return job;
}

}  // namespace lienthong::sync
