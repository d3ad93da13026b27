// SqliteOutbox::PushDossierUpdates: a dossier's registration and progress,
// queued in the dossier's order, sealed (see outbox.h); and a dossier's dead
// registration replaced by a later one, for a push or once it died
// (FinishAndClaim, outbox_claim.cc).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/sqlite_outbox.h"
#include "gateway/sync/outbox_internal.h"
#include "gateway/sync/outbox_push.h"

namespace lienthong::sync {

using lienthong::v1::DossierStatus;
using lienthong::v1::DossierStatusUpdate;
using outbox_internal::MapKey;
using outbox_internal::Micros;
using storage::Database;
using storage::Statement;
using storage::Transaction;

using outbox_internal::DossierHead;
using outbox_internal::PushPlan;
using outbox_internal::TimeOf;

namespace outbox_internal {

absl::Status SupersedeItem(Database& db, int64_t id, absl::Time now) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached("UPDATE items SET state=?, finished_at=?, last_error=NULL, "
                "payload=CASE WHEN sealed=1 THEN X'' ELSE payload END "
                "WHERE id=?"));
  return up.Bind(1, ItemState::kSuperseded)
      .Bind(2, Micros(now))
      .Bind(3, id)
      .Run();
}

}  // namespace outbox_internal

using outbox_internal::SupersedeItem;

namespace {

absl::StatusOr<DossierHead> ReadHead(Database& db, const std::string& code) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db.Cached("SELECT last_seq, last_status, last_time_s, last_time_ns, "
                "registration_hash FROM dossiers WHERE code=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, code).Step());
  DossierHead head;
  if (row) {
    head.last_seq = q.Int64(0);
    head.status = static_cast<DossierStatus>(q.Int64(1));
    head.time =
        absl::FromUnixSeconds(q.Int64(2)) + absl::Nanoseconds(q.Int64(3));
    head.registration = q.OptionalText(4);
  }
  return head;
}

absl::Status WriteHead(Database& db, const std::string& code,
                       const DossierHead& head) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached("INSERT OR REPLACE INTO dossiers(code, last_seq, "
                "last_status, last_time_s, last_time_ns, registration_hash) "
                "VALUES(?, ?, ?, ?, ?, ?)"));
  const int64_t seconds = absl::ToUnixSeconds(head.time);
  return up.Bind(1, code)
      .Bind(2, head.last_seq)
      .Bind(3, head.status)
      .Bind(4, seconds)
      .Bind(5, absl::ToUnixNanos(head.time) - seconds * 1000000000)
      .Bind(6, head.registration)
      .Run();
}

// The item that already holds the update `dedup` names, if one does.
absl::StatusOr<std::optional<outbox_internal::PushStore::QueuedUpdate>> Queued(
    Database& db, const std::string& dedup) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db.Cached("SELECT content_hash FROM items WHERE dedup_key=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, dedup).Step());
  if (!row) return std::nullopt;
  return outbox_internal::PushStore::QueuedUpdate{q.OptionalText(0)};
}

// An open item of a dossier: its dead registration, or one queued behind
// it.
struct Waiting {
  int64_t id = 0;
  int64_t seq = 0;
  bool registration = false;
  bool sealed = false;
  std::string payload;
  absl::Time due;
};

// Dossier `code`'s first open item, the one blocking it, when it is a dead
// registration (only its id and seq read).
absl::StatusOr<std::optional<Waiting>> DeadRegistrationAtHead(
    Database& db, const std::string& code) {
  // The (kind, key, seq) index finds the dossier's first open item.
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement head,
      db.Cached("SELECT id, seq, state, registration FROM items "
                "WHERE kind=? AND key=? AND state IN (?, ?, ?) "
                "ORDER BY seq LIMIT 1"));
  head.Bind(1, ItemKind::kDossier)
      .Bind(2, code)
      .Bind(3, ItemState::kPending)
      .Bind(4, ItemState::kInFlight)
      .Bind(5, ItemState::kDead);
  LIENTHONG_ASSIGN_OR_RETURN(bool found, head.Step());
  if (!found || head.Int64(2) != static_cast<int64_t>(ItemState::kDead) ||
      head.Int64(3) == 0) {
    return std::nullopt;
  }
  Waiting dead;
  dead.id = head.Int64(0);
  dead.seq = head.Int64(1);
  dead.registration = true;
  return dead;
}

// Dossier `code`'s open items after sequence `seq`, in order. Read whole
// before any is changed: rows are not updated under a statement still
// stepping through them.
absl::StatusOr<std::vector<Waiting>> QueuedAfter(Database& db,
                                                 const std::string& code,
                                                 int64_t seq) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db.Cached("SELECT id, seq, registration, sealed, payload, "
                "next_attempt_at FROM items WHERE kind=? AND key=? AND "
                "seq>? AND state IN (?, ?, ?) ORDER BY seq"));
  q.Bind(1, ItemKind::kDossier)
      .Bind(2, code)
      .Bind(3, seq)
      .Bind(4, ItemState::kPending)
      .Bind(5, ItemState::kInFlight)
      .Bind(6, ItemState::kDead);
  std::vector<Waiting> waiting;
  LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
    waiting.push_back({q.Int64(0), q.Int64(1), q.Int64(2) != 0, q.Int64(3) != 0,
                       q.Blob(4), outbox_internal::FromMicros(q.Int64(5))});
    return true;
  }));
  return waiting;
}

}  // namespace

// One push's work so far: the rules' plan, the time, the items it added;
// and, as the rules' PushStore, the SQLite statements they need.
struct SqliteOutbox::PushState : outbox_internal::PushStore {
  PushState(SqliteOutbox* outbox, absl::Time now) : outbox(outbox), now(now) {}
  absl::StatusOr<DossierHead> ReadHead(const std::string& code) override {
    return sync::ReadHead(*outbox->db_, code);
  }
  absl::StatusOr<std::optional<QueuedUpdate>> Queued(
      const std::string& dedup) override {
    return sync::Queued(*outbox->db_, dedup);
  }
  absl::Status Insert(const DossierStatusUpdate& u, int64_t seq,
                      bool registration,
                      const std::optional<std::string>& dedup,
                      const std::optional<std::string>& content) override {
    return outbox->InsertDossierItem(u, seq, registration, dedup, content,
                                     *this);
  }
  absl::StatusOr<int64_t> SupersedeDeadRegistration(const std::string& code,
                                                    int64_t last_seq) override {
    return outbox->SupersedeDeadRegistration(code, last_seq, now, requeued);
  }

  SqliteOutbox* outbox;
  absl::Time now;
  PushPlan plan;
  struct NewItem {
    std::string code;
    int64_t seq;
    int64_t id;
  };
  std::vector<NewItem> added;
  Requeued requeued;
};

absl::StatusOr<PushResult> SqliteOutbox::PushDossierUpdates(
    const google::protobuf::RepeatedPtrField<DossierStatusUpdate>& updates) {
  PushState state(this, options_.clock->Now());
  LIENTHONG_RETURN_IF_ERROR(outbox_internal::ValidatePush(updates, state.now));
  {
    absl::MutexLock lock(&mu_);
    LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    for (int i = 0; i < updates.size(); ++i) {
      LIENTHONG_RETURN_IF_ERROR(PushOne(updates[i], i, state));
    }
    for (const auto& [code, head] : state.plan.heads) {
      if (head.last_seq == 0) continue;
      LIENTHONG_RETURN_IF_ERROR(WriteHead(*db_, code, head));
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const PushState::NewItem& item : state.added) {
      queues_.Put(MapKey(ItemKind::kDossier, item.code), item.seq,
                  KeyQueues::Item{item.id, ItemState::kPending, state.now});
    }
    state.requeued.ApplyTo(queues_);
  }
  const PushResult& result = state.plan.result;
  if (result.accepted == 0 && result.registrations == 0) return result;
  NotifyWork();
  return result;
}

absl::Status SqliteOutbox::PushOne(const DossierStatusUpdate& u, int index,
                                   PushState& state) {
  return outbox_internal::PushOneUpdate(u, index, cipher_, state, state.plan);
}

absl::Status SqliteOutbox::InsertDossierItem(
    const DossierStatusUpdate& u, int64_t seq, bool registration,
    const std::optional<std::string>& dedup,
    const std::optional<std::string>& content, PushState& state) {
  LIENTHONG_ASSIGN_OR_RETURN(
      std::string sealed,
      cipher_.Seal(u.SerializeAsString(), SealedPlace(u.dossier_code(), seq)));
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement ins,
      db_->Cached("INSERT INTO items(kind, key, seq, payload, dedup_key, "
                  "idempotency_key, state, next_attempt_at, created_at, "
                  "registration, sealed, item_time, content_hash) "
                  "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"));
  LIENTHONG_RETURN_IF_ERROR(
      ins.Bind(1, ItemKind::kDossier)
          .Bind(2, u.dossier_code())
          .Bind(3, seq)
          .BindBlob(4, sealed)
          .Bind(5, dedup)
          .Bind(6, absl::StrCat(outbox_id_, "-d", seq, "-", u.dossier_code()))
          .Bind(7, ItemState::kPending)
          .Bind(8, Micros(state.now))
          .Bind(9, Micros(state.now))
          .Bind(10, registration ? 1 : 0)
          .Bind(11, Micros(TimeOf(u)))
          .Bind(12, content)
          .Run());
  state.added.push_back({u.dossier_code(), seq, db_->LastInsertId()});
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteOutbox::SupersedeDeadRegistration(
    const std::string& code, int64_t last_seq, absl::Time now,
    Requeued& requeued) {
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<Waiting> dead,
                             DeadRegistrationAtHead(*db_, code));
  if (!dead.has_value()) return 0;
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<Waiting> waiting,
                             QueuedAfter(*db_, code, dead->seq));
  // The latest registration replaces the dead one: the one a push just
  // queued, or one queued while the dead one was still pending.
  int64_t latest = 0;
  for (const Waiting& w : waiting) {
    if (w.registration) latest = w.seq;
  }
  if (latest == 0) return 0;
  const std::string map_key = MapKey(ItemKind::kDossier, code);
  LIENTHONG_RETURN_IF_ERROR(SupersedeItem(*db_, dead->id, now));
  requeued.superseded.emplace_back(map_key, dead->seq);
  int64_t moved = 0;
  for (Waiting& w : waiting) {
    if (w.seq == latest) continue;
    if (w.registration) {
      // Older content than the registration that replaces them all.
      LIENTHONG_RETURN_IF_ERROR(SupersedeItem(*db_, w.id, now));
      requeued.superseded.emplace_back(map_key, w.seq);
      continue;
    }
    const int64_t to = last_seq + ++moved;
    LIENTHONG_RETURN_IF_ERROR(
        MoveDossierItem(code, w.id, w.seq, to, w.sealed, std::move(w.payload)));
    requeued.moved.push_back({map_key, w.seq, to, w.id, w.due});
  }
  return moved;
}

absl::Status SqliteOutbox::MoveDossierItem(const std::string& code, int64_t id,
                                           int64_t from, int64_t to,
                                           bool sealed, std::string payload) {
  // The seal binds the payload to its place. One that does not open stays
  // as it is, and is parked as a dead letter when claimed.
  if (sealed) {
    absl::StatusOr<std::string> opened =
        cipher_.Open(payload, SealedPlace(code, from));
    if (opened.ok()) {
      LIENTHONG_ASSIGN_OR_RETURN(payload,
                                 cipher_.Seal(*opened, SealedPlace(code, to)));
    }
  }
  LIENTHONG_ASSIGN_OR_RETURN(Statement up,
                             db_->Cached("UPDATE items SET seq=?, payload=?, "
                                         "idempotency_key=? WHERE id=?"));
  return up.Bind(1, to)
      .BindBlob(2, payload)
      .Bind(3, outbox_internal::IdempotencyKey(outbox_id_, ItemKind::kDossier,
                                               to, code))
      .Bind(4, id)
      .Run();
}

absl::Status SqliteOutbox::ReplaceDeadRegistration(const std::string& code,
                                                   absl::Time now,
                                                   Requeued& requeued) {
  LIENTHONG_ASSIGN_OR_RETURN(DossierHead head, ReadHead(*db_, code));
  LIENTHONG_ASSIGN_OR_RETURN(
      const int64_t moved,
      SupersedeDeadRegistration(code, head.last_seq, now, requeued));
  if (moved == 0) return absl::OkStatus();
  // Pushes go on after the items it moved.
  head.last_seq += moved;
  return WriteHead(*db_, code, head);
}

void SqliteOutbox::Requeued::ApplyTo(KeyQueues& queues) const {
  // The superseded registrations leave their key, so that the one
  // replacing them becomes the head, and the items that waited follow it
  // (each moved past the dossier's last sequence: never onto another).
  for (const auto& [map_key, seq] : superseded) queues.Erase(map_key, seq);
  for (const Moved& item : moved) {
    queues.Erase(item.map_key, item.from);
    queues.Put(item.map_key, item.to,
               KeyQueues::Item{item.id, ItemState::kPending, item.due});
  }
}

}  // namespace lienthong::sync
