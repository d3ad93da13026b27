// SqliteOutbox::PruneDelivered: delivered items and finished jobs deleted in
// short steps (see outbox.h).
#include <algorithm>
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
using storage::Database;
using storage::Statement;
using storage::Transaction;

namespace {

// Binds the states a job's item may still be in while the job is not over
// (pending, in flight, dead) to parameters `first`, `first`+1, `first`+2.
Statement& BindOpenStates(Statement& q, int first) {
  return q.Bind(first, ItemState::kPending)
      .Bind(first + 1, ItemState::kInFlight)
      .Bind(first + 2, ItemState::kDead);
}

}  // namespace

namespace {

// A delivered item old enough to be pruned, if the rules let it go.
struct Candidate {
  int64_t id;
  bool procedure;
  std::string key;
  int64_t seq;
  bool registration;
};

struct CandidateScan {
  std::vector<Candidate> candidates;
  int64_t last_id = 0;  // the last item looked at
  bool done = false;    // the scan reached the end of what may be pruned
};

// Looks at up to `budget` items after `after_id` (adding to
// progress.examined) and returns those delivered before `before`.
absl::StatusOr<CandidateScan> ScanCandidates(Database& db, int64_t after_id,
                                             int64_t before, int budget,
                                             PruneProgress& progress) {
  CandidateScan scan;
  scan.last_id = after_id;
  // Every state, so that one step reads at most `budget` rows however many
  // of them are kept.
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db.Cached("SELECT id, kind, key, seq, state, created_at, finished_at, "
                "registration FROM items WHERE id>? ORDER BY id LIMIT ?"));
  q.Bind(1, after_id).Bind(2, budget);
  bool ended = true;  // fewer rows than asked for: the end of the table
  LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
    // Ids grow with creation, and an item finishes after it is created:
    // from here on nothing finished before `before` (a clock stepped back
    // may hide a few until a later pass).
    if (q.Int64(5) >= before) {
      scan.done = true;
      ended = false;
      return false;
    }
    ++progress.examined;
    scan.last_id = q.Int64(0);
    absl::StatusOr<ItemState> state = q.Enum(4, kItemStates);
    if (!state.ok() || *state != ItemState::kDelivered || q.IsNull(6) ||
        q.Int64(6) >= before) {
      return true;
    }
    absl::StatusOr<ItemKind> kind = q.Enum(1, kItemKinds);
    scan.candidates.push_back({scan.last_id,
                               kind.ok() && *kind == ItemKind::kProcedure,
                               q.Text(2), q.Int64(3), q.Int64(7) != 0});
    return true;
  }));
  if (ended) scan.done = progress.examined < budget;
  return scan;
}

// Whether delivered item `c` may be deleted; see SqliteOutbox::PruneDelivered.
absl::StatusOr<bool> MayGo(Database& db, const Candidate& c) {
  // Procedures plan against the procedures table; a repeat of a
  // registration is told by the dossier's registration_hash.
  if (c.procedure || c.registration) return true;
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement head, db.Cached("SELECT last_seq, last_time_s, last_time_ns "
                                "FROM dossiers WHERE code=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, head.Bind(1, c.key).Step());
  if (!row) return false;  // cannot happen: every queued update has a head
  // The last accepted update: its status and time are in `dossiers`, which
  // answers a repeat of it.
  if (c.seq == head.Int64(0)) return true;
  // To the microsecond, as item_time is stored: an update that close to
  // the last one counts as at the same time, and is kept.
  const absl::Time head_time = FromMicros(absl::ToUnixMicros(
      absl::FromUnixSeconds(head.Int64(1)) + absl::Nanoseconds(head.Int64(2))));
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q, db.Cached("SELECT item_time FROM items WHERE id=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool found, q.Bind(1, c.id).Step());
  if (!found || q.IsNull(0)) return false;
  // Earlier than the last accepted update: a repeat is refused (the time
  // check, if not the transition rules), never queued. At the same time:
  // kept, see outbox.h.
  return FromMicros(q.Int64(0)) < head_time;
}

}  // namespace

absl::StatusOr<PruneProgress> SqliteOutbox::PruneDelivered(absl::Time finished_before,
                                                     int max_examined) {
  PruneProgress progress;
  const int64_t before = Micros(finished_before);
  const int budget = std::max(max_examined, 1);
  absl::MutexLock lock(&mu_);
  if (!pruning_jobs_) {
    LIENTHONG_ASSIGN_OR_RETURN(bool items_done,
                               PruneItems(before, budget, progress));
    if (!items_done) return progress;
    pruning_jobs_ = true;
    prune_after_job_.clear();
  }
  // What is left of this step's rows goes to the jobs.
  const int left = budget - static_cast<int>(progress.examined);
  if (left < 1) return progress;
  absl::StatusOr<bool> jobs_done = PruneJobs(before, left, progress);
  if (!jobs_done.ok()) {
    // Items deleted in this step are reported; the jobs are tried again.
    if (progress.deleted > 0) return progress;
    return jobs_done.status();
  }
  if (*jobs_done) {
    pruning_jobs_ = false;
    progress.pass_done = true;
  }
  return progress;
}

absl::StatusOr<bool> SqliteOutbox::PruneItems(int64_t before, int budget,
                                        PruneProgress& progress) {
  LIENTHONG_ASSIGN_OR_RETURN(
      CandidateScan scan,
      ScanCandidates(*db_, prune_after_id_, before, budget, progress));
  // Which candidates may go; see outbox.h.
  std::vector<int64_t> doomed;
  for (const Candidate& c : scan.candidates) {
    LIENTHONG_ASSIGN_OR_RETURN(bool goes, MayGo(*db_, c));
    if (goes) doomed.push_back(c.id);
  }
  if (!doomed.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    for (int64_t id : doomed) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Statement del,
          db_->Cached("DELETE FROM items WHERE id=? AND state=?"));
      LIENTHONG_RETURN_IF_ERROR(
          del.Bind(1, id).Bind(2, ItemState::kDelivered).Run());
      progress.deleted += db_->Changes();
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
  }
  prune_after_id_ = scan.done ? 0 : scan.last_id;
  return scan.done;
}

absl::StatusOr<bool> SqliteOutbox::PruneJobs(int64_t before, int budget,
                                       PruneProgress& progress) {
  // Finished: nothing of the job left to deliver nor to retry, its counts
  // agree, and its last change is old enough. The DELETE checks it again.
  std::vector<std::string> doomed;
  std::string last_id = prune_after_job_;
  bool done = false;
  {
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement q,
        db_->Cached("SELECT id, updated_at<? AND delivered+dead>=total AND "
                    "NOT EXISTS(SELECT 1 FROM items WHERE "
                    "items.job_id=jobs.id AND items.state IN (?, ?, ?)) "
                    "FROM jobs WHERE id>? ORDER BY id LIMIT ?"));
    BindOpenStates(q.Bind(1, before), 2)
        .Bind(5, prune_after_job_)
        .Bind(6, budget);
    int read = 0;
    LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
      ++read;
      last_id = q.Text(0);
      if (q.Int64(1) != 0) doomed.push_back(last_id);
      return true;
    }));
    // Fewer rows than asked for: the end of the table.
    done = read < budget;
    progress.jobs_examined += read;
  }
  int64_t deleted = 0;
  if (!doomed.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    for (const std::string& id : doomed) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Statement del,
          db_->Cached("DELETE FROM jobs WHERE id=? AND updated_at<? AND "
                      "delivered+dead>=total AND NOT EXISTS(SELECT 1 FROM "
                      "items WHERE items.job_id=jobs.id AND "
                      "items.state IN (?, ?, ?))"));
      LIENTHONG_RETURN_IF_ERROR(
          BindOpenStates(del.Bind(1, id).Bind(2, before), 3).Run());
      deleted += db_->Changes();
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
  }
  progress.jobs_deleted += deleted;
  prune_after_job_ = done ? std::string() : std::move(last_id);
  return done;
}

}  // namespace lienthong::sync
