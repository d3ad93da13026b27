// SqliteOutbox::FinishAndClaim: delivery results recorded, due heads claimed (see
// outbox.h). Each statement is one step below; FinishAndClaim runs them in
// one transaction and then brings KeyQueues up to date.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/sqlite_outbox.h"
#include "gateway/sync/outbox_internal.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::Micros;
using outbox_internal::SortUnique;
using storage::Database;
using storage::Statement;
using storage::Transaction;

namespace {

// Adds one of job `job`'s items to its delivered or dead count.
absl::Status CountInJob(Database& db, const std::string& job, bool delivered,
                        absl::Time now) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached(delivered ? "UPDATE jobs SET delivered=delivered+1, "
                            "updated_at=? WHERE id=?"
                          : "UPDATE jobs SET dead=dead+1, updated_at=? "
                            "WHERE id=?"));
  return up.Bind(1, Micros(now)).Bind(2, job).Run();
}

// Records that the portal acknowledged a change of procedure `code`: it now
// holds `acked` (nullopt after a withdrawal).
absl::Status AckProcedure(Database& db, const std::string& code,
                          const std::optional<std::string>& acked) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached("UPDATE procedures SET acked_hash=? WHERE code=?"));
  return up.Bind(1, acked).Bind(2, code).Run();
}

absl::Status MarkDelivered(Database& db, int64_t id, absl::Time now) {
  // A sealed payload goes with the delivery: nothing personal stays behind
  // (secure_delete zeroes the freed bytes).
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached("UPDATE items SET state=?, attempts=attempts+1, "
                "finished_at=?, last_error=NULL, payload=CASE "
                "WHEN sealed=1 THEN X'' ELSE payload END WHERE id=?"));
  return up.Bind(1, ItemState::kDelivered)
      .Bind(2, Micros(now))
      .Bind(3, id)
      .Run();
}

absl::Status MarkRetry(Database& db, const DeliveryResult& r, absl::Time now) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached("UPDATE items SET state=?, attempts=attempts+1, "
                "next_attempt_at=?, first_failure_at="
                "COALESCE(first_failure_at, ?), last_error=? WHERE id=?"));
  return up.Bind(1, ItemState::kPending)
      .Bind(2, Micros(r.next_attempt))
      .Bind(3, Micros(now))
      .Bind(4, r.message)
      .Bind(5, r.id)
      .Run();
}

absl::Status MarkDead(Database& db, const DeliveryResult& r, absl::Time now) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached("UPDATE items SET state=?, attempts=attempts+1, "
                "last_error=?, refused=?, finished_at=? WHERE id=?"));
  return up.Bind(1, ItemState::kDead)
      .Bind(2, r.message)
      .Bind(3, r.refused ? 1 : 0)
      .Bind(4, Micros(now))
      .Bind(5, r.id)
      .Run();
}

absl::Status MarkReleased(Database& db, int64_t id) {
  LIENTHONG_ASSIGN_OR_RETURN(Statement up,
                             db.Cached("UPDATE items SET state=? WHERE id=?"));
  return up.Bind(1, ItemState::kPending).Bind(2, id).Run();
}

// What recording a result needs to know of its item.
struct Finished {
  bool procedure = false;
  std::string code;
  int64_t seq = 0;
  bool withdraw = false;
  std::optional<std::string> content_hash;
  std::optional<std::string> job;
  bool registration = false;
};

// nullopt when the item is gone.
absl::StatusOr<std::optional<Finished>> ReadFinished(Database& db, int64_t id) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db.Cached("SELECT kind, key, withdraw, content_hash, "
                "job_id, registration, seq FROM items WHERE id=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, id).Step());
  if (!row) return std::nullopt;
  // Read when it was claimed, so its kind is known; were it damaged since,
  // its result is still recorded (only a procedure's acknowledgement needs
  // the kind).
  absl::StatusOr<ItemKind> kind = q.Enum(0, kItemKinds);
  return Finished{kind.ok() && *kind == ItemKind::kProcedure,
                  q.Text(1),
                  q.Int64(6),
                  q.Int64(2) != 0,
                  q.OptionalText(3),
                  q.OptionalText(4),
                  q.Int64(5) != 0};
}

// A procedure change that died: (procedure code, sequence, item id).
struct DeadProcedure {
  std::string code;
  int64_t seq = 0;
  int64_t id = 0;
};

// Records one delivery result; adds the job it changed to `jobs`, to
// `dead_registrations` the dossier whose registration it made dead, and to
// `dead_procedures` the procedure change it made dead.
absl::Status RecordResult(Database& db, const DeliveryResult& r, absl::Time now,
                          std::vector<std::string>& jobs,
                          std::vector<std::string>& dead_registrations,
                          std::vector<DeadProcedure>& dead_procedures) {
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<Finished> item,
                             ReadFinished(db, r.id));
  if (!item.has_value()) return absl::OkStatus();
  std::optional<bool> counted;  // delivered or dead, for the job
  switch (r.kind) {
    case DeliveryResult::Kind::kDelivered:
      if (item->procedure) {
        LIENTHONG_RETURN_IF_ERROR(
            AckProcedure(db, item->code,
                         item->withdraw ? std::nullopt : item->content_hash));
      }
      LIENTHONG_RETURN_IF_ERROR(MarkDelivered(db, r.id, now));
      counted = true;
      break;
    case DeliveryResult::Kind::kRetry:
      LIENTHONG_RETURN_IF_ERROR(MarkRetry(db, r, now));
      break;
    case DeliveryResult::Kind::kDead:
      LIENTHONG_RETURN_IF_ERROR(MarkDead(db, r, now));
      if (!item->procedure && item->registration) {
        dead_registrations.push_back(item->code);
      }
      if (item->procedure) {
        dead_procedures.push_back({item->code, item->seq, r.id});
      }
      counted = false;
      break;
    case DeliveryResult::Kind::kRelease:
      LIENTHONG_RETURN_IF_ERROR(MarkReleased(db, r.id));
      break;
  }
  if (!counted.has_value() || !item->job.has_value()) return absl::OkStatus();
  LIENTHONG_RETURN_IF_ERROR(CountInJob(db, *item->job, *counted, now));
  jobs.push_back(*item->job);
  return absl::OkStatus();
}

// Disk corruption or tampering: the item is parked where an operator sees
// it rather than block its queue silently.
absl::Status ParkUnreadable(Database& db, int64_t id, absl::string_view why,
                            absl::Time now) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up, db.Cached("UPDATE items SET state=?, last_error=?, "
                              "finished_at=? WHERE id=?"));
  return up.Bind(1, ItemState::kDead)
      .Bind(2, why)
      .Bind(3, Micros(now))
      .Bind(4, id)
      .Run();
}

absl::Status MarkInFlight(Database& db, int64_t id) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up, db.Cached("UPDATE items SET state=?, sent=1 WHERE id=?"));
  return up.Bind(1, ItemState::kInFlight).Bind(2, id).Run();
}

// Marks the job started; true when it was not before.
absl::StatusOr<bool> StartJob(Database& db, const std::string& job,
                              absl::Time now) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up, db.Cached("UPDATE jobs SET started=1, updated_at=? "
                              "WHERE id=? AND started=0"));
  LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(now)).Bind(2, job).Run());
  return db.Changes() > 0;
}

// An item's row as claiming reads it: the item but for its payload, which
// is still sealed (when `sealed`) and serialized.
struct StoredItem {
  OutboxItem item;
  std::string payload;
  bool sealed = false;
  bool kind_known = false;  // kind holds one of kItemKinds
};

absl::StatusOr<StoredItem> ReadItem(Database& db, int64_t id) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db.Cached("SELECT kind, key, seq, withdraw, payload, idempotency_key, "
                "attempts, first_failure_at, job_id, registration, sealed, "
                "sent FROM items WHERE id=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool found, q.Bind(1, id).Step());
  if (!found) return absl::InternalError("outbox: a queued item vanished");
  StoredItem stored;
  OutboxItem& item = stored.item;
  item.id = id;
  absl::StatusOr<ItemKind> kind = q.Enum(0, kItemKinds);
  stored.kind_known = kind.ok();
  if (kind.ok()) item.kind = *kind;
  item.key = q.Text(1);
  item.sequence = q.Int64(2);
  item.withdraw = q.Int64(3) != 0;
  stored.payload = q.Blob(4);
  item.idempotency_key = q.Text(5);
  item.attempts = q.Int(6);
  if (!q.IsNull(7)) item.first_failure = FromMicros(q.Int64(7));
  item.job_id = q.OptionalText(8).value_or("");
  item.registration = q.Int64(9) != 0;
  stored.sealed = q.Int64(10) != 0;
  item.maybe_sent = q.Int64(11) != 0;
  return stored;
}

// True when the portal acknowledged holding procedure `code`.
absl::StatusOr<bool> PortalHasProcedure(Database& db, const std::string& code) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q, db.Cached("SELECT acked_hash FROM procedures WHERE code=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool found, q.Bind(1, code).Step());
  return found && !q.IsNull(0);
}

KeyQueues::Landing LandingOf(DeliveryResult::Kind kind) {
  switch (kind) {
    case DeliveryResult::Kind::kDelivered:
      return KeyQueues::Landing::kDelivered;
    case DeliveryResult::Kind::kDead:
      return KeyQueues::Landing::kDead;
    case DeliveryResult::Kind::kRetry:
    case DeliveryResult::Kind::kRelease:
      break;
  }
  return KeyQueues::Landing::kPending;
}

}  // namespace

absl::StatusOr<std::vector<OutboxItem>> SqliteOutbox::FinishAndClaim(
    absl::Span<const DeliveryResult> finished, int max_claims) {
  const absl::Time now = options_.clock->Now();
  std::vector<OutboxItem> claimed;
  std::vector<std::string> jobs;
  {
    absl::MutexLock lock(&mu_);
    // Which heads to claim; decided before the transaction, applied after.
    const std::vector<KeyQueues::Head> heads = queues_.Due(now, max_claims);
    if (finished.empty() && heads.empty()) return claimed;
    LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    std::vector<std::string> dead_registrations;
    std::vector<DeadProcedure> dead_procedures;
    for (const DeliveryResult& r : finished) {
      LIENTHONG_RETURN_IF_ERROR(RecordResult(
          *db_, r, now, jobs, dead_registrations, dead_procedures));
    }
    std::vector<int64_t> unreadable;
    LIENTHONG_RETURN_IF_ERROR(
        ClaimHeads(heads, now, claimed, unreadable, jobs, dead_registrations));
    // A registration queued behind one that just died replaces it now:
    // nothing else would, and the dossier would stay blocked.
    Requeued requeued;
    for (const std::string& code : dead_registrations) {
      LIENTHONG_RETURN_IF_ERROR(ReplaceDeadRegistration(code, now, requeued));
    }
    // So does a procedure change queued behind one that just died (queued
    // while it was on its way): each holds the procedure whole, and the
    // dead one, retried, would send the older content again.
    for (const DeadProcedure& dead : dead_procedures) {
      const std::string map_key =
          outbox_internal::MapKey(ItemKind::kProcedure, dead.code);
      if (!queues_.HasPending(map_key)) continue;
      LIENTHONG_RETURN_IF_ERROR(
          outbox_internal::SupersedeItem(*db_, dead.id, now));
      requeued.superseded.emplace_back(map_key, dead.seq);
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    // The transaction held: bring the order in memory up to date.
    for (const DeliveryResult& r : finished) {
      queues_.Land(r.id, LandingOf(r.kind),
                   r.kind == DeliveryResult::Kind::kRetry
                       ? std::optional<absl::Time>(r.next_attempt)
                       : std::nullopt);
    }
    for (const KeyQueues::Head& head : heads) {
      if (std::find(unreadable.begin(), unreadable.end(), head.id) !=
          unreadable.end()) {
        queues_.Park(head.id, head.key);
      } else {
        queues_.Claim(head.id, head.key);
      }
    }
    requeued.ApplyTo(queues_);
  }
  SortUnique(jobs);
  NotifyJobs(jobs);
  return claimed;
}

absl::Status SqliteOutbox::ClaimHeads(
    absl::Span<const KeyQueues::Head> heads, absl::Time now,
    std::vector<OutboxItem>& claimed, std::vector<int64_t>& unreadable,
    std::vector<std::string>& jobs,
    std::vector<std::string>& dead_registrations) {
  for (const KeyQueues::Head& head : heads) {
    LIENTHONG_ASSIGN_OR_RETURN(ClaimedRow row, ReadClaimed(head.id));
    OutboxItem& item = row.item;
    if (!row.unreadable.empty()) {
      LIENTHONG_RETURN_IF_ERROR(
          ParkUnreadable(*db_, head.id, row.unreadable, now));
      if (!item.job_id.empty()) {
        // A dead letter like any other: its job counts it (a retry takes
        // it off again), so the job can end.
        LIENTHONG_RETURN_IF_ERROR(
            CountInJob(*db_, item.job_id, /*delivered=*/false, now));
        jobs.push_back(item.job_id);
      }
      unreadable.push_back(head.id);
      if (item.kind == ItemKind::kDossier && item.registration) {
        dead_registrations.push_back(item.key);
      }
      continue;
    }
    LIENTHONG_RETURN_IF_ERROR(MarkInFlight(*db_, head.id));
    if (!item.job_id.empty()) {
      LIENTHONG_ASSIGN_OR_RETURN(bool started,
                                 StartJob(*db_, item.job_id, now));
      if (started) jobs.push_back(item.job_id);
    }
    claimed.push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::StatusOr<SqliteOutbox::ClaimedRow> SqliteOutbox::ReadClaimed(int64_t id) {
  LIENTHONG_ASSIGN_OR_RETURN(StoredItem stored, ReadItem(*db_, id));
  ClaimedRow row;
  row.item = std::move(stored.item);
  OutboxItem& item = row.item;
  if (!stored.kind_known) {
    // A dead letter, as an unreadable payload is: not a failure of every
    // claim to come.
    row.unreadable = "stored item unreadable";
    return row;
  }
  std::string payload = std::move(stored.payload);
  if (stored.sealed) {
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
    LIENTHONG_ASSIGN_OR_RETURN(item.portal_has_procedure,
                               PortalHasProcedure(*db_, item.key));
  }
  return row;
}

}  // namespace lienthong::sync
