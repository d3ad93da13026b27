// Indexer: keeps the query index (audit_index.h) up with the journal. A
// thread of its own adds what became durable every `interval`, many records
// per transaction, remembering how far it got; queries call CatchUp to see
// everything durable when they arrived. An index that is missing, belongs
// to another journal, or claims records the journal does not hold is
// emptied and rebuilt from the journal's start. It writes only this node's
// entries (IndexStore): in an index that several nodes share, each node's
// indexer fills its own part, so a query here sees another node's records
// once that node's indexer has added them (within its index interval).
//
//   Indexer indexer(options, index.get(), [&] { return log->durable(); });
//   LIENTHONG_RETURN_IF_ERROR(indexer.Start());
//   ...
//   LIENTHONG_RETURN_IF_ERROR(indexer.CatchUp(/*for_query=*/true));
#ifndef LIENTHONG_GATEWAY_AUDIT_INDEXER_H_
#define LIENTHONG_GATEWAY_AUDIT_INDEXER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/audit/audit_index.h"
#include "gateway/audit/journal.h"

namespace lienthong::audit {

class Indexer {
 public:
  struct Options {
    std::string journal_dir;
    // The journal's identity (JournalTail::journal_id, raw bytes).
    std::string journal_id;
    // How often the thread adds new records.
    absl::Duration interval = absl::Seconds(1);
    // Records per transaction.
    size_t batch = 20000;
    // Called after each batch is in the index with where the indexer has
    // reached and the last record indexed, on the indexing thread; for a
    // rebuild's progress display. Optional.
    std::function<void(const JournalPosition& reached, uint64_t sequence)>
        progress;
    // A query waits for at most this many records to be indexed; with
    // more behind (a rebuild) it fails instead.
    uint64_t max_query_backlog = 20000;
    // For an index on another host: when it cannot be reached at Start
    // (UNAVAILABLE), start anyway; the thread checks it when it can.
    bool start_unreachable = false;
  };

  // What is durable: the journal's end and the last record's sequence.
  struct Durable {
    JournalPosition end;
    uint64_t sequence = 0;
  };

  // REQUIRES: `index` outlives the indexer; `durable` is thread-safe.
  Indexer(Options options, IndexStore* index,
          std::function<Durable()> durable);
  // Stop()s.
  ~Indexer();
  Indexer(const Indexer&) = delete;
  Indexer& operator=(const Indexer&) = delete;

  // Checks the index against the journal (emptying it when it must be
  // rebuilt) and starts the thread. UNAVAILABLE when the index cannot be
  // read or written.
  absl::Status Start();
  // Stops the thread. Idempotent.
  void Stop();

  // Indexes everything durable now. With `for_query`, fails with
  // UNAVAILABLE ("being rebuilt ...") instead when more than
  // max_query_backlog records are behind. UNAVAILABLE when the journal or the
  // index cannot be read or written. Thread-safe (one indexing at a time).
  absl::Status CatchUp(bool for_query);

  // Without a thread: checks the index and indexes the whole journal now
  // (`lienthong audit reindex`, tests). Errors as CatchUp.
  absl::Status RunOnce();

  // The sequence of the last record indexed. Thread-safe.
  uint64_t indexed_sequence() const { return indexed_sequence_.load(); }
  // Records the journal should hold but did not when they were to be
  // indexed (numbers skipped, not archived: a segment removed or lost), so
  // queries do not find them. Thread-safe.
  uint64_t missing_records() const { return missing_records_.load(); }

 private:
  absl::Status Prepare() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status IndexUpTo(JournalPosition until) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records first..last were skipped by the journal, the next read at `at`:
  // counted and logged unless archived or already reported.
  void NoteMissing(uint64_t first, uint64_t last, const JournalPosition& at)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();

  const Options options_;
  IndexStore* const index_;
  const std::function<Durable()> durable_;

  absl::Mutex mu_;
  bool prepared_ ABSL_GUARDED_BY(mu_) = false;
  IndexState state_ ABSL_GUARDED_BY(mu_);
  // A batch's entries, kept from one batch to the next and parsed into
  // again (their strings keep their room): no allocation per record.
  std::vector<IndexEntry> entries_ ABSL_GUARDED_BY(mu_);
  // The journal damage last logged, not logged again at every pass.
  std::optional<JournalPosition> reported_damage_ ABSL_GUARDED_BY(mu_);
  // The last missing record counted (a batch that failed is read again).
  uint64_t reported_missing_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> indexed_sequence_{0};
  std::atomic<uint64_t> missing_records_{0};

  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread thread_;
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_INDEXER_H_
