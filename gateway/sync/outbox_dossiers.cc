// Outbox::PushDossierUpdates: a dossier's registration and progress, queued
// in the dossier's order, sealed (see outbox.h).
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
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace lienthong::sync {

using outbox_internal::DedupKey;
using outbox_internal::MapKey;
using outbox_internal::Micros;
using lienthong::v1::DossierStatus;
using lienthong::v1::DossierStatusUpdate;

namespace {

// What a registration sends besides the status: MaTTHC and the registration
// itself, serialized deterministically.
std::string RegistrationContent(const DossierStatusUpdate& u) {
  DossierStatusUpdate content;
  content.set_procedure_code(u.procedure_code());
  *content.mutable_registration() = u.registration();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    content.SerializeToCodedStream(&out);
  }
  return bytes;
}

absl::Time TimeOf(const DossierStatusUpdate& u) {
  return absl::FromUnixSeconds(u.time().seconds()) +
         absl::Nanoseconds(u.time().nanos());
}

}  // namespace

absl::StatusOr<PushResult> Outbox::PushDossierUpdates(
    const google::protobuf::RepeatedPtrField<DossierStatusUpdate>& updates) {
  const absl::Time now = options_.clock->Now();
  for (int i = 0; i < updates.size(); ++i) {
    if (absl::Status s = ValidateDossierUpdate(updates[i], now); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "].", s.message()));
    }
  }
  // The dossier as this transaction leaves it.
  struct Head {
    int64_t last_seq = 0;
    DossierStatus status = lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
    absl::Time time;
    std::optional<std::string> registration;  // digest of the last queued
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
    // Seals `u` as item `seq` of its dossier and inserts it.
    auto insert = [&](const DossierStatusUpdate& u, int64_t seq,
                      bool registration,
                      const std::optional<std::string>& dedup) -> absl::Status {
      LIENTHONG_ASSIGN_OR_RETURN(
          std::string sealed,
          cipher_.Seal(u.SerializeAsString(),
                       SealedPlace(u.dossier_code(), seq)));
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt ins,
          db_->Prepare("INSERT INTO items(kind, key, seq, payload, dedup_key, "
                       "idempotency_key, state, next_attempt_at, created_at, "
                       "registration, sealed, item_time) "
                       "VALUES(?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 1, ?)"));
      LIENTHONG_RETURN_IF_ERROR(
          ins.Bind(1, static_cast<int64_t>(ItemKind::kDossier))
              .Bind(2, u.dossier_code())
              .Bind(3, seq)
              .BindBlob(4, sealed)
              .BindOptional(5, dedup)
              .Bind(6, absl::StrCat(outbox_id_, "-d", seq, "-",
                                    u.dossier_code()))
              .Bind(7, Micros(now))
              .Bind(8, Micros(now))
              .Bind(9, registration ? 1 : 0)
              .Bind(10, Micros(TimeOf(u)))
              .Run());
      added.push_back({u.dossier_code(), seq, db_->LastInsertId()});
      return absl::OkStatus();
    };
    for (int i = 0; i < updates.size(); ++i) {
      const DossierStatusUpdate& u = updates[i];
      auto head_it = heads.find(u.dossier_code());
      if (head_it == heads.end()) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q,
            db_->Prepare("SELECT last_seq, last_status, last_time_s, "
                         "last_time_ns, registration_hash FROM dossiers "
                         "WHERE code=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool row,
                                   q.Bind(1, u.dossier_code()).Step());
        Head head;
        if (row) {
          head.last_seq = q.Int(0);
          head.status = static_cast<DossierStatus>(q.Int(1));
          head.time =
              absl::FromUnixSeconds(q.Int(2)) + absl::Nanoseconds(q.Int(3));
          head.registration = q.OptionalText(4);
        }
        head_it = heads.emplace(u.dossier_code(), head).first;
      }
      Head& head = head_it->second;
      // A registration given again is sent again only when it changed, and
      // even along with an update that is a repeat.
      std::optional<std::string> registration;
      if (u.has_registration()) {
        std::string digest = cipher_.Digest(RegistrationContent(u));
        if (digest != head.registration) registration = std::move(digest);
      }
      std::string dedup = DedupKey(u);
      bool duplicate = batch_keys.contains(dedup);
      if (!duplicate) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q, db_->Prepare("SELECT 1 FROM items WHERE dedup_key=?"));
        LIENTHONG_ASSIGN_OR_RETURN(duplicate, q.Bind(1, dedup).Step());
      }
      const absl::Time time = TimeOf(u);
      // The last accepted update again, its item possibly pruned.
      duplicate = duplicate || (head.last_seq > 0 && u.status() == head.status &&
                                time == head.time);
      if (!duplicate) {
        if (!head.registration.has_value() && !registration.has_value()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "updates[", i, "].registration: required with the first update "
              "of dossier ", u.dossier_code(),
              ", which the gateway has not registered with the portal"));
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
      }
      if (registration.has_value()) {
        LIENTHONG_RETURN_IF_ERROR(
            insert(u, ++head.last_seq, /*registration=*/true, std::nullopt));
        head.registration = std::move(registration);
        ++result.registrations;
      }
      if (duplicate) {
        ++result.duplicates;
        continue;
      }
      // The progress item carries no registration: its personal data waits
      // only as long as the registration needs to.
      DossierStatusUpdate step = u;
      step.clear_registration();
      LIENTHONG_RETURN_IF_ERROR(
          insert(step, ++head.last_seq, /*registration=*/false, dedup));
      head.status = u.status();
      head.time = time;
      batch_keys.insert(std::move(dedup));
      ++result.accepted;
    }
    for (const auto& [code, head] : heads) {
      if (head.last_seq == 0) continue;
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt up,
          db_->Prepare("INSERT OR REPLACE INTO dossiers(code, last_seq, "
                       "last_status, last_time_s, last_time_ns, "
                       "registration_hash) VALUES(?, ?, ?, ?, ?, ?)"));
      const int64_t seconds = absl::ToUnixSeconds(head.time);
      LIENTHONG_RETURN_IF_ERROR(
          up.Bind(1, code)
              .Bind(2, head.last_seq)
              .Bind(3, static_cast<int64_t>(head.status))
              .Bind(4, seconds)
              .Bind(5, absl::ToUnixNanos(head.time) - seconds * 1000000000)
              .BindOptional(6, head.registration)
              .Run());
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const NewItem& item : added) {
      std::string map_key = MapKey(ItemKind::kDossier, item.code);
      open_[map_key].items[item.seq] = OpenItem{item.id, ItemState::kPending, now};
      Reindex(map_key);
    }
  }
  if (result.accepted == 0 && result.registrations == 0) return result;
  NotifyWork();
  return result;
}

}  // namespace lienthong::sync
