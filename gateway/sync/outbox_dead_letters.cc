// Outbox: dead letters, listed and put back in their queues (see outbox.h).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/sqlite_outbox.h"
#include "gateway/sync/outbox_internal.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::MapKey;
using outbox_internal::Micros;
using outbox_internal::SortUnique;
using outbox_internal::ToProtoTime;
using storage::Database;
using storage::Statement;
using storage::Transaction;

namespace {

// A dead letter as RetryDeadLetters reads it.
struct DeadRow {
  int64_t id = 0;
  ItemKind kind = ItemKind::kDossier;
  std::string key;
  int64_t seq = 0;
  int64_t generation = 0;
  bool refused = false;
  std::optional<std::string> job;
};

constexpr char kSelectDead[] =
    "SELECT id, kind, key, seq, key_generation, refused, job_id FROM items "
    "WHERE state=? ORDER BY id";
constexpr char kSelectDeadById[] =
    "SELECT id, kind, key, seq, key_generation, refused, job_id FROM items "
    "WHERE state=? AND id=?";

// Appends the rows of `q` (kSelectDead's columns) to `dead`.
absl::Status ReadDead(Statement& q, std::vector<DeadRow>& dead) {
  absl::Status bad;
  LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
    absl::StatusOr<ItemKind> kind = q.Enum(1, kItemKinds);
    if (!kind.ok()) {
      bad = kind.status();
      return false;
    }
    dead.push_back({q.Int64(0), *kind, q.Text(2), q.Int64(3), q.Int64(4),
                    q.Int64(5) != 0, q.OptionalText(6)});
    return true;
  }));
  return bad;
}

// The dead letters `wanted` (empty: all), by id.
absl::StatusOr<std::vector<DeadRow>> SelectDead(
    Database& db, const std::vector<int64_t>& wanted) {
  std::vector<DeadRow> dead;
  if (wanted.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(Statement q, db.Cached(kSelectDead));
    q.Bind(1, ItemState::kDead);
    LIENTHONG_RETURN_IF_ERROR(ReadDead(q, dead));
    return dead;
  }
  for (int64_t id : wanted) {
    LIENTHONG_ASSIGN_OR_RETURN(Statement q, db.Cached(kSelectDeadById));
    q.Bind(1, ItemState::kDead).Bind(2, id);
    LIENTHONG_RETURN_IF_ERROR(ReadDead(q, dead));
  }
  return dead;
}

// Puts `d` back in its queue, due `now`, and takes it off its job's dead
// count.
absl::Status Requeue(Database& db, absl::string_view outbox_id,
                     const DeadRow& d, absl::Time now) {
  // The portal answers a known key with its first answer, so an item it
  // refused needs a new key; one that only failed keeps its key, in case
  // an unanswered attempt was applied.
  const int64_t generation = d.generation + (d.refused ? 1 : 0);
  const std::string key = outbox_internal::IdempotencyKey(
      outbox_id, d.kind, d.seq, d.key, generation);
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement up,
      db.Cached("UPDATE items SET state=?, next_attempt_at=?, "
                "first_failure_at=NULL, refused=0, key_generation=?, "
                "idempotency_key=?, finished_at=NULL WHERE id=?"));
  LIENTHONG_RETURN_IF_ERROR(up.Bind(1, ItemState::kPending)
                                .Bind(2, Micros(now))
                                .Bind(3, generation)
                                .Bind(4, key)
                                .Bind(5, d.id)
                                .Run());
  if (!d.job.has_value()) return absl::OkStatus();
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement job,
      db.Cached("UPDATE jobs SET dead=dead-1, updated_at=? WHERE id=?"));
  return job.Bind(1, Micros(now)).Bind(2, *d.job).Run();
}

}  // namespace

absl::StatusOr<lienthong::v1::ListDeadLettersResponse> SqliteOutbox::ListDeadLetters(
    int page_size, absl::string_view page_token) {
  int64_t after = 0;
  LIENTHONG_RETURN_IF_ERROR(
      outbox_internal::ParsePage(page_size, page_token, after));
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db_->Cached("SELECT id, kind, key, last_error, attempts, finished_at, "
                  "registration FROM items WHERE state=? AND id>? "
                  "ORDER BY id LIMIT ?"));
  q.Bind(1, ItemState::kDead)
      .Bind(2, after)
      .Bind(3, static_cast<int64_t>(page_size) + 1);
  lienthong::v1::ListDeadLettersResponse response;
  absl::Status bad;
  LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
    if (response.dead_letters_size() == page_size) {
      response.set_next_page_token(
          absl::StrCat(response.dead_letters(page_size - 1).id()));
      return false;
    }
    absl::StatusOr<ItemKind> kind = q.Enum(1, kItemKinds);
    if (!kind.ok()) {
      bad = kind.status();
      return false;
    }
    lienthong::v1::DeadLetter* letter = response.add_dead_letters();
    letter->set_id(absl::StrCat(q.Int64(0)));
    letter->set_kind(q.Int64(6) != 0 ? "registration"
                                     : std::string(ItemKindName(*kind)));
    letter->set_code(q.Text(2));
    letter->set_reason(q.Text(3));
    letter->set_attempts(static_cast<int32_t>(q.Int64(4)));
    if (!q.IsNull(5)) {
      *letter->mutable_failed_at() = ToProtoTime(FromMicros(q.Int64(5)));
    }
    return true;
  }));
  LIENTHONG_RETURN_IF_ERROR(bad);
  return response;
}

absl::StatusOr<int> SqliteOutbox::RetryDeadLetters(
    absl::Span<const std::string> ids) {
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<int64_t> wanted, outbox_internal::ParseDeadLetterIds(ids));
  const absl::Time now = options_.clock->Now();
  std::vector<std::string> jobs;
  int requeued = 0;
  {
    absl::MutexLock lock(&mu_);
    LIENTHONG_ASSIGN_OR_RETURN(std::vector<DeadRow> dead,
                               SelectDead(*db_, wanted));
    if (dead.empty()) return 0;
    LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    for (const DeadRow& d : dead) {
      LIENTHONG_RETURN_IF_ERROR(Requeue(*db_, outbox_id_, d, now));
      if (d.job.has_value()) jobs.push_back(*d.job);
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const DeadRow& d : dead) {
      queues_.Put(MapKey(d.kind, d.key), d.seq,
                  KeyQueues::Item{d.id, ItemState::kPending, now});
    }
    requeued = static_cast<int>(dead.size());
  }
  SortUnique(jobs);
  NotifyWork();
  NotifyJobs(jobs);
  return requeued;
}

}  // namespace lienthong::sync
