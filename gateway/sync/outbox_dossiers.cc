// SqliteOutbox::PushDossierUpdates: a dossier's registration and progress, queued
// in the dossier's order, sealed (see outbox.h).
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

// True when an item already holds the update `dedup` names.
absl::StatusOr<bool> Queued(Database& db, const std::string& dedup) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q, db.Cached("SELECT 1 FROM items WHERE dedup_key=?"));
  return q.Bind(1, dedup).Step();
}

}  // namespace

// One push's work so far: the rules' plan, the time, the items it added;
// and, as the rules' PushStore, the SQLite statements they need.
struct SqliteOutbox::PushState : outbox_internal::PushStore {
  PushState(SqliteOutbox* outbox, absl::Time now) : outbox(outbox), now(now) {}
  absl::StatusOr<DossierHead> ReadHead(const std::string& code) override {
    return sync::ReadHead(*outbox->db_, code);
  }
  absl::StatusOr<bool> Queued(const std::string& dedup) override {
    return sync::Queued(*outbox->db_, dedup);
  }
  absl::Status Insert(const DossierStatusUpdate& u, int64_t seq,
                      bool registration,
                      const std::optional<std::string>& dedup) override {
    return outbox->InsertDossierItem(u, seq, registration, dedup, *this);
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

absl::Status SqliteOutbox::InsertDossierItem(const DossierStatusUpdate& u,
                                       int64_t seq, bool registration,
                                       const std::optional<std::string>& dedup,
                                       PushState& state) {
  LIENTHONG_ASSIGN_OR_RETURN(
      std::string sealed,
      cipher_.Seal(u.SerializeAsString(), SealedPlace(u.dossier_code(), seq)));
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement ins,
      db_->Cached("INSERT INTO items(kind, key, seq, payload, dedup_key, "
                  "idempotency_key, state, next_attempt_at, created_at, "
                  "registration, sealed, item_time) "
                  "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"));
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
          .Run());
  state.added.push_back({u.dossier_code(), seq, db_->LastInsertId()});
  return absl::OkStatus();
}

}  // namespace lienthong::sync
