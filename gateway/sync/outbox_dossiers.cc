#include "gateway/sync/outbox.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/sync/outbox_db.h"

namespace lienthong::sync {

using outbox_internal::MapKey;
using outbox_internal::Micros;
using outbox_internal::DedupKey;
using lienthong::v1::DossierStatus;
using lienthong::v1::DossierStatusUpdate;

absl::StatusOr<PushResult> Outbox::PushDossierUpdates(
    const google::protobuf::RepeatedPtrField<DossierStatusUpdate>& updates) {
  const absl::Time now = options_.clock->Now();
  for (int i = 0; i < updates.size(); ++i) {
    if (absl::Status s = ValidateDossierUpdate(updates[i], now); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "].", s.message()));
    }
  }
  struct Head {
    int64_t last_seq = 0;
    DossierStatus status = lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
    absl::Time time;
  };
  struct NewItem {
    std::string code;
    int64_t seq;
    int64_t id;
  };
  PushResult result;
  {
    absl::MutexLock lock(&mu_);
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    absl::flat_hash_map<std::string, Head> heads;
    absl::flat_hash_set<std::string> batch_keys;
    std::vector<NewItem> added;
    for (int i = 0; i < updates.size(); ++i) {
      const DossierStatusUpdate& u = updates[i];
      std::string dedup = DedupKey(u);
      if (batch_keys.contains(dedup)) {
        ++result.duplicates;
        continue;
      }
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q, db_->Prepare("SELECT 1 FROM items WHERE dedup_key=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool seen, q.Bind(1, dedup).Step());
        if (seen) {
          ++result.duplicates;
          continue;
        }
      }
      auto head_it = heads.find(u.dossier_code());
      if (head_it == heads.end()) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q,
            db_->Prepare("SELECT last_seq, last_status, last_time_s, "
                         "last_time_ns FROM dossiers WHERE code=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool row,
                                   q.Bind(1, u.dossier_code()).Step());
        Head head;
        if (row) {
          head.last_seq = q.Int(0);
          head.status = static_cast<DossierStatus>(q.Int(1));
          head.time = absl::FromUnixSeconds(q.Int(2)) + absl::Nanoseconds(q.Int(3));
        }
        head_it = heads.emplace(u.dossier_code(), head).first;
      }
      Head& head = head_it->second;
      const absl::Time time = absl::FromUnixSeconds(u.time().seconds()) +
                              absl::Nanoseconds(u.time().nanos());
      // The last accepted update again, its item possibly pruned.
      if (head.last_seq > 0 && u.status() == head.status && time == head.time) {
        ++result.duplicates;
        continue;
      }
      std::optional<DossierStatus> last;
      if (head.last_seq > 0) last = head.status;
      if (absl::Status s = CheckTransition(u.dossier_code(), last, u.status());
          !s.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("updates[", i, "]: ", s.message()));
      }
      if (last.has_value() && time < head.time) {
        return absl::FailedPreconditionError(absl::StrCat(
            "updates[", i, "]: dossier ", u.dossier_code(), ": ",
            DossierStatusName(u.status()),
            " is dated before the last accepted status ",
            DossierStatusName(*last)));
      }
      const int64_t seq = head.last_seq + 1;
      std::string idem = absl::StrCat(outbox_id_, "-d", seq, "-",
                                      u.dossier_code());
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt ins,
            db_->Prepare("INSERT INTO items(kind, key, seq, payload, "
                         "dedup_key, idempotency_key, state, "
                         "next_attempt_at, created_at) "
                         "VALUES(?, ?, ?, ?, ?, ?, 0, ?, ?)"));
        LIENTHONG_RETURN_IF_ERROR(
            ins.Bind(1, static_cast<int64_t>(ItemKind::kDossier))
                .Bind(2, u.dossier_code())
                .Bind(3, seq)
                .BindBlob(4, u.SerializeAsString())
                .Bind(5, dedup)
                .Bind(6, idem)
                .Bind(7, Micros(now))
                .Bind(8, Micros(now))
                .Run());
      }
      added.push_back({u.dossier_code(), seq, db_->LastInsertId()});
      head.last_seq = seq;
      head.status = u.status();
      head.time = time;
      batch_keys.insert(std::move(dedup));
    }
    for (const auto& [code, head] : heads) {
      if (head.last_seq == 0) continue;
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt up,
          db_->Prepare("INSERT OR REPLACE INTO dossiers(code, last_seq, "
                       "last_status, last_time_s, last_time_ns) "
                       "VALUES(?, ?, ?, ?, ?)"));
      const int64_t ns = absl::ToUnixNanos(head.time);
      LIENTHONG_RETURN_IF_ERROR(up.Bind(1, code)
                                    .Bind(2, head.last_seq)
                                    .Bind(3, static_cast<int64_t>(head.status))
                                    .Bind(4, absl::ToUnixSeconds(head.time))
                                    .Bind(5, ns - absl::ToUnixSeconds(head.time) *
                                                      1000000000)
                                    .Run());
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const NewItem& item : added) {
      std::string map_key = MapKey(ItemKind::kDossier, item.code);
      open_[map_key].items[item.seq] = OpenItem{item.id, ItemState::kPending, now};
      Reindex(map_key);
    }
    result.accepted = static_cast<int>(added.size());
  }
  if (result.accepted > 0) NotifyWork();
  return result;
}

}  // namespace lienthong::sync
