#include "gateway/sync/outbox.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/outbox_db.h"

namespace lienthong::sync {

using outbox_internal::Micros;
using outbox_internal::FromMicros;

absl::StatusOr<PruneProgress> Outbox::PruneDelivered(absl::Time finished_before,
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

absl::StatusOr<bool> Outbox::PruneItems(int64_t before, int budget,
                                        PruneProgress& progress) {
  struct Candidate {
    int64_t id;
    ItemKind kind;
    std::string key;
    int64_t seq;
    bool registration;
  };
  std::vector<Candidate> candidates;
  int64_t last_id = prune_after_id_;
  bool done = false;
  {
    // Every state, so that one step reads at most `budget` rows however
    // many of them are kept.
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt q,
        db_->Prepare("SELECT id, kind, key, seq, state, created_at, "
                     "finished_at, registration FROM items WHERE id>? "
                     "ORDER BY id LIMIT ?"));
    q.Bind(1, prune_after_id_).Bind(2, static_cast<int64_t>(budget));
    for (;;) {
      LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) {
        // Fewer rows than asked for: the end of the table.
        done = progress.examined < budget;
        break;
      }
      // Ids grow with creation, and an item finishes after it is created:
      // from here on nothing finished before `finished_before` (a clock
      // stepped back may hide a few until a later pass).
      if (q.Int(5) >= before) {
        done = true;
        break;
      }
      ++progress.examined;
      last_id = q.Int(0);
      if (static_cast<ItemState>(q.Int(4)) != ItemState::kDelivered ||
          q.IsNull(6) || q.Int(6) >= before) {
        continue;
      }
      candidates.push_back({last_id, static_cast<ItemKind>(q.Int(1)),
                            q.Text(2), q.Int(3), q.Int(7) != 0});
    }
  }
  // Which candidates may go; see outbox.h.
  std::vector<int64_t> doomed;
  for (const Candidate& c : candidates) {
    // Procedures plan against the procedures table; a repeat of a
    // registration is told by the dossier's registration_hash.
    if (c.kind == ItemKind::kProcedure || c.registration) {
      doomed.push_back(c.id);
      continue;
    }
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt head, db_->Prepare("SELECT last_seq, last_time_s, "
                                    "last_time_ns FROM dossiers WHERE code=?"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, head.Bind(1, c.key).Step());
    if (!row) continue;  // cannot happen: every queued update has a head
    if (c.seq == head.Int(0)) {
      // The last accepted update: its status and time are in `dossiers`,
      // which answers a repeat of it.
      doomed.push_back(c.id);
      continue;
    }
    // To the microsecond, as item_time is stored: an update that close to
    // the last one counts as at the same time, and is kept.
    const absl::Time head_time = FromMicros(
        absl::ToUnixMicros(absl::FromUnixSeconds(head.Int(1)) +
                           absl::Nanoseconds(head.Int(2))));
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt q, db_->Prepare("SELECT item_time FROM items WHERE id=?"));
    LIENTHONG_ASSIGN_OR_RETURN(bool found, q.Bind(1, c.id).Step());
    if (!found || q.IsNull(0)) continue;  // keep
    const absl::Time time = FromMicros(q.Int(0));
    // Earlier than the last accepted update: a repeat is refused (the time
    // check, if not the transition rules), never queued. At the same time:
    // kept, see outbox.h.
    if (time < head_time) doomed.push_back(c.id);
  }
  if (!doomed.empty()) {
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    for (int64_t id : doomed) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt del,
          db_->Prepare("DELETE FROM items WHERE id=? AND state=2"));
      LIENTHONG_RETURN_IF_ERROR(del.Bind(1, id).Run());
      progress.deleted += db_->Changes();
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
  }
  prune_after_id_ = done ? 0 : last_id;
  return done;
}

absl::StatusOr<bool> Outbox::PruneJobs(int64_t before, int budget,
                                       PruneProgress& progress) {
  // Finished: nothing of the job left to deliver nor to retry, its counts
  // agree, and its last change is old enough. The DELETE checks it again.
  std::vector<std::string> doomed;
  std::string last_id = prune_after_job_;
  bool done = false;
  {
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt q,
        db_->Prepare("SELECT id, updated_at<? AND delivered+dead>=total AND "
                     "NOT EXISTS(SELECT 1 FROM items WHERE "
                     "items.job_id=jobs.id AND items.state IN (0, 1, 3)) "
                     "FROM jobs WHERE id>? ORDER BY id LIMIT ?"));
    q.Bind(1, before)
        .Bind(2, prune_after_job_)
        .Bind(3, static_cast<int64_t>(budget));
    int read = 0;
    for (;;) {
      LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ++read;
      last_id = q.Text(0);
      if (q.Int(1) != 0) doomed.push_back(last_id);
    }
    // Fewer rows than asked for: the end of the table.
    done = read < budget;
    progress.jobs_examined += read;
  }
  int64_t deleted = 0;
  if (!doomed.empty()) {
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    for (const std::string& id : doomed) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt del,
          db_->Prepare("DELETE FROM jobs WHERE id=? AND updated_at<? AND "
                       "delivered+dead>=total AND NOT EXISTS(SELECT 1 FROM "
                       "items WHERE items.job_id=jobs.id AND "
                       "items.state IN (0, 1, 3))"));
      LIENTHONG_RETURN_IF_ERROR(del.Bind(1, id).Bind(2, before).Run());
      deleted += db_->Changes();
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
  }
  progress.jobs_deleted += deleted;
  prune_after_job_ = done ? std::string() : std::move(last_id);
  return done;
}

}  // namespace lienthong::sync
