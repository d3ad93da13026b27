#include "gateway/sync/outbox.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/outbox_db.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::Micros;

absl::StatusOr<std::vector<OutboxItem>> Outbox::FinishAndClaim(
    absl::Span<const DeliveryResult> finished, int max_claims) {
  const absl::Time now = options_.clock->Now();
  std::vector<OutboxItem> claimed;
  std::vector<std::string> jobs;
  {
    absl::MutexLock lock(&mu_);
    // Which heads to claim; decided before the transaction, applied after.
    std::vector<std::pair<int64_t, std::string>> to_claim;  // id, map key
    for (auto it = ready_.begin();
         it != ready_.end() && static_cast<int>(to_claim.size()) < max_claims &&
         it->first.first <= now;
         ++it) {
      to_claim.emplace_back(it->first.second, it->second);
    }
    if (finished.empty() && to_claim.empty()) return claimed;

    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    // Adds one of a job's items to its delivered or dead count.
    auto count = [&](const std::string& job, bool delivered) -> absl::Status {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt j, db_->Prepare(delivered
                                       ? "UPDATE jobs SET delivered=delivered"
                                         "+1, updated_at=? WHERE id=?"
                                       : "UPDATE jobs SET dead=dead+1, "
                                         "updated_at=? WHERE id=?"));
      LIENTHONG_RETURN_IF_ERROR(j.Bind(1, Micros(now)).Bind(2, job).Run());
      jobs.push_back(job);
      return absl::OkStatus();
    };
    for (const DeliveryResult& r : finished) {
      std::optional<std::string> job;
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q,
            db_->Prepare("SELECT kind, key, withdraw, content_hash, job_id "
                         "FROM items WHERE id=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, r.id).Step());
        if (!row) continue;
        job = q.OptionalText(4);
        if (r.kind == DeliveryResult::Kind::kDelivered &&
            static_cast<ItemKind>(q.Int(0)) == ItemKind::kProcedure) {
          std::optional<std::string> acked;
          if (q.Int(2) == 0) acked = q.OptionalText(3);
          std::string code = q.Text(1);
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up,
              db_->Prepare("UPDATE procedures SET acked_hash=? WHERE code=?"));
          LIENTHONG_RETURN_IF_ERROR(up.BindOptional(1, acked).Bind(2, code).Run());
        }
      }
      switch (r.kind) {
        case DeliveryResult::Kind::kDelivered: {
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up,
              // A sealed payload goes with the delivery: nothing personal
              // stays behind (secure_delete zeroes the freed bytes).
              db_->Prepare("UPDATE items SET state=2, attempts=attempts+1, "
                           "finished_at=?, last_error=NULL, payload=CASE "
                           "WHEN sealed=1 THEN X'' ELSE payload END "
                           "WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(now)).Bind(2, r.id).Run());
          if (job.has_value()) {
            LIENTHONG_RETURN_IF_ERROR(count(*job, /*delivered=*/true));
          }
          break;
        }
        case DeliveryResult::Kind::kRetry: {
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up,
              db_->Prepare("UPDATE items SET state=0, attempts=attempts+1, "
                           "next_attempt_at=?, first_failure_at="
                           "COALESCE(first_failure_at, ?), last_error=? "
                           "WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(r.next_attempt))
                                        .Bind(2, Micros(now))
                                        .Bind(3, r.message)
                                        .Bind(4, r.id)
                                        .Run());
          break;
        }
        case DeliveryResult::Kind::kDead: {
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up,
              db_->Prepare("UPDATE items SET state=3, attempts=attempts+1, "
                           "last_error=?, refused=?, finished_at=? WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, r.message)
                                        .Bind(2, r.refused ? 1 : 0)
                                        .Bind(3, Micros(now))
                                        .Bind(4, r.id)
                                        .Run());
          if (job.has_value()) {
            LIENTHONG_RETURN_IF_ERROR(count(*job, /*delivered=*/false));
          }
          break;
        }
        case DeliveryResult::Kind::kRelease: {
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up, db_->Prepare("UPDATE items SET state=0 WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, r.id).Run());
          break;
        }
      }
    }

    std::vector<int64_t> unreadable;
    for (const auto& [id, map_key] : to_claim) {
      LIENTHONG_ASSIGN_OR_RETURN(ClaimedRow row, ReadClaimed(id));
      OutboxItem& item = row.item;
      if (!row.unreadable.empty()) {
        // Disk corruption or tampering; park it where an operator sees it
        // rather than block the queue silently.
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt up, db_->Prepare("UPDATE items SET state=3, last_error=?, "
                                      "finished_at=? WHERE id=?"));
        LIENTHONG_RETURN_IF_ERROR(
            up.Bind(1, row.unreadable).Bind(2, Micros(now)).Bind(3, id).Run());
        if (!item.job_id.empty()) {
          // A dead letter like any other: its job counts it (a retry takes
          // it off again), so the job can end.
          LIENTHONG_RETURN_IF_ERROR(count(item.job_id, /*delivered=*/false));
        }
        unreadable.push_back(id);
        continue;
      }
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt up,
            db_->Prepare("UPDATE items SET state=1, sent=1 WHERE id=?"));
        LIENTHONG_RETURN_IF_ERROR(up.Bind(1, id).Run());
      }
      if (!item.job_id.empty()) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt up, db_->Prepare("UPDATE jobs SET started=1, updated_at=? "
                                      "WHERE id=? AND started=0"));
        LIENTHONG_RETURN_IF_ERROR(
            up.Bind(1, Micros(now)).Bind(2, item.job_id).Run());
        if (db_->Changes() > 0) jobs.push_back(item.job_id);
      }
      claimed.push_back(std::move(item));
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());

    // The transaction held: bring the order in memory up to date.
    auto find = [this](int64_t id, const std::string& map_key) -> OpenItem* {
      auto q = open_.find(map_key);
      if (q == open_.end()) return nullptr;
      for (auto& [seq, item] : q->second.items) {
        if (item.id == id) return &item;
      }
      return nullptr;
    };
    for (const DeliveryResult& r : finished) {
      auto flying = in_flight_.find(r.id);
      if (flying == in_flight_.end()) continue;
      std::string map_key = std::move(flying->second);
      in_flight_.erase(flying);
      OpenItem* item = find(r.id, map_key);
      if (item == nullptr) continue;
      switch (r.kind) {
        case DeliveryResult::Kind::kDelivered: {
          auto& items = open_[map_key].items;
          for (auto it = items.begin(); it != items.end(); ++it) {
            if (it->second.id == r.id) {
              items.erase(it);
              break;
            }
          }
          break;
        }
        case DeliveryResult::Kind::kRetry:
          item->state = ItemState::kPending;
          item->due = r.next_attempt;
          break;
        case DeliveryResult::Kind::kDead:
          item->state = ItemState::kDead;
          break;
        case DeliveryResult::Kind::kRelease:
          item->state = ItemState::kPending;
          break;
      }
      Reindex(map_key);
    }
    for (const auto& [id, map_key] : to_claim) {
      OpenItem* item = find(id, map_key);
      if (item == nullptr) continue;
      if (std::find(unreadable.begin(), unreadable.end(), id) !=
          unreadable.end()) {
        item->state = ItemState::kDead;
      } else {
        item->state = ItemState::kInFlight;
        in_flight_[id] = map_key;
      }
      Reindex(map_key);
    }
  }
  std::sort(jobs.begin(), jobs.end());
  jobs.erase(std::unique(jobs.begin(), jobs.end()), jobs.end());
  NotifyJobs(jobs);
  return claimed;
}

absl::StatusOr<Outbox::ClaimedRow> Outbox::ReadClaimed(int64_t id) {
  ClaimedRow row;
  OutboxItem& item = row.item;
  std::string payload;
  bool sealed = false;
  {
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt q,
        db_->Prepare("SELECT kind, key, seq, withdraw, payload, "
                     "idempotency_key, attempts, first_failure_at, job_id, "
                     "registration, sealed, sent FROM items WHERE id=?"));
    LIENTHONG_ASSIGN_OR_RETURN(bool found, q.Bind(1, id).Step());
    if (!found) return absl::InternalError("outbox: a queued item vanished");
    item.id = id;
    item.kind = static_cast<ItemKind>(q.Int(0));
    item.key = q.Text(1);
    item.sequence = q.Int(2);
    item.withdraw = q.Int(3) != 0;
    payload = q.Text(4);
    item.idempotency_key = q.Text(5);
    item.attempts = static_cast<int>(q.Int(6));
    if (!q.IsNull(7)) item.first_failure = FromMicros(q.Int(7));
    item.job_id = q.OptionalText(8).value_or("");
    item.registration = q.Int(9) != 0;
    sealed = q.Int(10) != 0;
    item.maybe_sent = q.Int(11) != 0;
  }
  if (sealed) {
    absl::StatusOr<std::string> opened =
        cipher_.Open(payload, SealedPlace(item.key, item.sequence));
    if (!opened.ok()) {
      row.unreadable = std::string(opened.status().message());
      return row;
    }
    payload = *std::move(opened);
  }
  const bool parsed = item.kind == ItemKind::kDossier
                          ? item.dossier.ParseFromString(payload)
                          : item.procedure.ParseFromString(payload);
  if (!parsed) {
    row.unreadable = "stored item unreadable";
    return row;
  }
  if (item.kind == ItemKind::kProcedure) {
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt q,
        db_->Prepare("SELECT acked_hash FROM procedures WHERE code=?"));
    LIENTHONG_ASSIGN_OR_RETURN(bool found, q.Bind(1, item.key).Step());
    item.portal_has_procedure = found && !q.IsNull(0);
  }
  return row;
}

}  // namespace lienthong::sync
