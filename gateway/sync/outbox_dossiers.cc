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
#include "gateway/sync/dossier_status.h"
#include "gateway/sync/sqlite_outbox.h"
#include "gateway/sync/outbox_internal.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace lienthong::sync {

using lienthong::v1::DossierStatus;
using lienthong::v1::DossierStatusUpdate;
using outbox_internal::DedupKey;
using outbox_internal::MapKey;
using outbox_internal::Micros;
using storage::Database;
using storage::Statement;
using storage::Transaction;

namespace outbox_internal {

// A dossier as a push leaves it (the row of `dossiers`). Not in an anonymous
// namespace: SqliteOutbox::PushState holds it.
struct DossierHead {
  int64_t last_seq = 0;
  DossierStatus status = lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
  absl::Time time;
  std::optional<std::string> registration;  // digest of the last queued
};

}  // namespace outbox_internal

using outbox_internal::DossierHead;

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

// Why update `index` may not follow `head`: no registration ever, a
// transition the rules refuse, a time before the last accepted one.
absl::Status CheckFollows(const DossierStatusUpdate& u, int index,
                          const DossierHead& head, bool registering) {
  if (!head.registration.has_value() && !registering) {
    return absl::InvalidArgumentError(
        absl::StrCat("updates[", index,
                     "].registration: required with the first update "
                     "of dossier ",
                     u.dossier_code(),
                     ", which the gateway has not registered with the portal"));
  }
  std::optional<DossierStatus> last;
  if (head.last_seq > 0) last = head.status;
  if (absl::Status s = CheckTransition(u.dossier_code(), last, u.status());
      !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("updates[", index, "]: ", s.message()));
  }
  if (last.has_value() && TimeOf(u) < head.time) {
    return absl::FailedPreconditionError(
        absl::StrCat("updates[", index, "]: dossier ", u.dossier_code(), ": ",
                     DossierStatusName(u.status()),
                     " is dated before the last accepted status ",
                     DossierStatusName(*last)));
  }
  return absl::OkStatus();
}

}  // namespace

// One push's work so far: the dossiers as it leaves them, the updates it
// accepted (for duplicates within the batch), the items it added.
struct SqliteOutbox::PushState {
  absl::Time now;
  absl::flat_hash_map<std::string, DossierHead> heads;
  absl::flat_hash_set<std::string> batch_keys;
  struct NewItem {
    std::string code;
    int64_t seq;
    int64_t id;
  };
  std::vector<NewItem> added;
  PushResult result;
};

absl::StatusOr<PushResult> SqliteOutbox::PushDossierUpdates(
    const google::protobuf::RepeatedPtrField<DossierStatusUpdate>& updates) {
  PushState state;
  state.now = options_.clock->Now();
  for (int i = 0; i < updates.size(); ++i) {
    if (absl::Status s = ValidateDossierUpdate(updates[i], state.now);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "].", s.message()));
    }
  }
  {
    absl::MutexLock lock(&mu_);
    LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    for (int i = 0; i < updates.size(); ++i) {
      LIENTHONG_RETURN_IF_ERROR(PushOne(updates[i], i, state));
    }
    for (const auto& [code, head] : state.heads) {
      if (head.last_seq == 0) continue;
      LIENTHONG_RETURN_IF_ERROR(WriteHead(*db_, code, head));
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const PushState::NewItem& item : state.added) {
      queues_.Put(MapKey(ItemKind::kDossier, item.code), item.seq,
                  KeyQueues::Item{item.id, ItemState::kPending, state.now});
    }
  }
  const PushResult& result = state.result;
  if (result.accepted == 0 && result.registrations == 0) return result;
  NotifyWork();
  return result;
}

absl::Status SqliteOutbox::PushOne(const DossierStatusUpdate& u, int index,
                             PushState& state) {
  auto head_it = state.heads.find(u.dossier_code());
  if (head_it == state.heads.end()) {
    LIENTHONG_ASSIGN_OR_RETURN(DossierHead head,
                               ReadHead(*db_, u.dossier_code()));
    head_it = state.heads.emplace(u.dossier_code(), std::move(head)).first;
  }
  DossierHead& head = head_it->second;
  // A registration given again is sent again only when it changed, and
  // even along with an update that is a repeat.
  std::optional<std::string> registration;
  if (u.has_registration()) {
    std::string digest = cipher_.Digest(RegistrationContent(u));
    if (digest != head.registration) registration = std::move(digest);
  }
  std::string dedup = DedupKey(u);
  bool duplicate = state.batch_keys.contains(dedup);
  if (!duplicate) {
    LIENTHONG_ASSIGN_OR_RETURN(duplicate, Queued(*db_, dedup));
  }
  const absl::Time time = TimeOf(u);
  // The last accepted update again, its item possibly pruned.
  duplicate = duplicate || (head.last_seq > 0 && u.status() == head.status &&
                            time == head.time);
  if (!duplicate) {
    LIENTHONG_RETURN_IF_ERROR(
        CheckFollows(u, index, head, registration.has_value()));
  }
  if (registration.has_value()) {
    LIENTHONG_RETURN_IF_ERROR(InsertDossierItem(
        u, ++head.last_seq, /*registration=*/true, std::nullopt, state));
    head.registration = std::move(registration);
    ++state.result.registrations;
  }
  if (duplicate) {
    ++state.result.duplicates;
    return absl::OkStatus();
  }
  // The progress item carries no registration: its personal data waits
  // only as long as the registration needs to.
  DossierStatusUpdate step = u;
  step.clear_registration();
  LIENTHONG_RETURN_IF_ERROR(InsertDossierItem(
      step, ++head.last_seq, /*registration=*/false, dedup, state));
  head.status = u.status();
  head.time = time;
  state.batch_keys.insert(std::move(dedup));
  ++state.result.accepted;
  return absl::OkStatus();
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
