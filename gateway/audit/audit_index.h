// The audit log's query index: AuditIndex, the interface queries use,
// IndexStore, the interface the indexer (indexer.h) writes through,
// QueryFilter, and SqliteAuditIndex, the embedded default (the shared
// PostgreSQL index is audit/pg/pg_audit_index.h).
//
// The index is not the truth: the journal is (journal.h). The index holds,
// for each record, the columns queries filter on and where the record is in
// the journal (queries read the record from there: the index stays small,
// so filling it is cheap), a copy of each checkpoint, and how far into the
// journal it got; the Indexer (indexer.h) fills it in the background and can
// rebuild it from nothing. So its writes need not survive a power cut
// (synchronous=NORMAL): what is lost is indexed again from the journal.
#ifndef LIENTHONG_GATEWAY_AUDIT_AUDIT_INDEX_H_
#define LIENTHONG_GATEWAY_AUDIT_AUDIT_INDEX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/audit/journal.h"
#include "gateway/storage/database.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

using ::lienthong::v1::AuditCheckpoint;
using ::lienthong::v1::AuditRecord;

// Which records a query returns: those matching every filter set, after
// the place (`after_sequence`, `after_node`), in ascending (sequence, node)
// order, at most `limit` of them. With `after_node` empty, "after" is every
// record with a sequence above `after_sequence` (one node's index, or the
// first page); with it set, also the records of nodes after `after_node`
// with sequence `after_sequence` (paging across nodes, whose sequences
// repeat).
struct QueryFilter {
  absl::Time start = absl::InfinitePast();  // time >= start
  absl::Time end = absl::InfiniteFuture();  // time < end
  // Exact matches; empty means any.
  std::string caller;
  std::string method;
  std::string citizen_hmac;
  // The officer's, as AuditRecord.officer_hmac.
  std::string officer_hmac;
  std::string dossier_id;
  std::string outcome;
  uint64_t after_sequence = 0;
  std::string after_node;
  int limit = 100;
};

// Sets `citizen` and `officer` to the filter's keyed hashes as the raw bytes
// the indexes keep (empty when not filtered on). Returns false when one is
// not hex: no record has it.
bool RawFilterHashes(const QueryFilter& filter, std::string* citizen,
                     std::string* officer);

// Errors from every method: UNAVAILABLE when the index cannot be read (the
// message says why, without personal data). Thread-safe.
class AuditIndex {
 public:
  virtual ~AuditIndex() = default;
  // Returns the records matching `filter`. Fails with INVALID_ARGUMENT when
  // filter.limit < 1.
  virtual absl::StatusOr<std::vector<AuditRecord>> Query(
      const QueryFilter& filter) const = 0;
};

// How far the index got into the journal.
struct IndexState {
  std::string journal_id;  // hex
  // Where indexing continues.
  JournalPosition next;
  // The last record indexed: its sequence, hash and place (0 / "" / {} when
  // none).
  uint64_t sequence = 0;
  std::string hash;
  JournalPosition last_record;
};

// One entry to index: a record and where it is, or a checkpoint (with its
// serialized bytes).
struct IndexEntry {
  bool is_checkpoint = false;
  AuditRecord record;
  JournalPosition at;
  AuditCheckpoint checkpoint;
  std::string bytes;
};

// The writer's side of an index, which the Indexer fills from this node's
// journal. Each method touches only this node's entries (an index shared by
// several nodes keeps the others'). Errors: UNAVAILABLE when the store
// cannot be read or written (the message says why, without personal data
// or secrets); FAILED_PRECONDITION for a store opened read-only.
// Thread-safe.
class IndexStore : public AuditIndex {
 public:
  // What the store is, for logs ("audit index '<file>'", "the audit index
  // on PostgreSQL (node gw-1)").
  virtual std::string Describe() const = 0;
  // Returns this node's state, or nullopt when it was never filled.
  virtual absl::StatusOr<std::optional<IndexState>> LoadState() const = 0;
  // Adds `entries` and sets the state to `state`, in one transaction.
  virtual absl::Status Add(absl::Span<const IndexEntry> entries,
                           const IndexState& state) = 0;
  // Empties this node's part of the index (for a rebuild).
  virtual absl::Status Clear() = 0;
  // Removes this node's records and checkpoints up to `sequence`
  // (archived).
  virtual absl::Status RemoveThrough(uint64_t sequence) = 0;
  // This node's records in the index.
  virtual absl::StatusOr<uint64_t> CountRecords() const = 0;
  // Whether this node's journal `journal_id` (hex) may index here, even
  // where the state is another journal's (then rebuilt): FAILED_PRECONDITION
  // when a shared store's rows under this node name belong to another
  // gateway still indexing. OK for a store of one gateway's own.
  virtual absl::Status ClaimFor(const std::string& journal_id) const {
    return absl::OkStatus();
  }
  // OK when the store can be used now; UNAVAILABLE saying why not (for
  // /readyz). A local file is always ready here (its errors show in use).
  virtual absl::Status Ready() const { return absl::OkStatus(); }
};

// One SQLite file in WAL mode, synchronous=NORMAL, owner-only. Tables:
//   records(sequence INTEGER PRIMARY KEY, time_ns, caller, method,
//           citizen BLOB (the raw 32-byte HMAC, or empty), dossier_id,
//           outcome, segment, offset, officer BLOB (as citizen))
//     indexed on time_ns, citizen, officer and dossier_id (the last three
//     only where set; schema version 5 added the officer and had the
//     indexer build the index again from the journal). Not on caller, method or outcome: an index on the caller cost
//     ~9 us of CPU per record indexed (audit_bench), nearly half of the
//     indexer's; a query by caller alone reads the records in sequence order
//     until its page is full (quick for a caller with many records, long for
//     one with few among many: give a time range, citizen or dossier too);
//   checkpoints(idx INTEGER PRIMARY KEY, sequence, time_ns, body BLOB);
//   index_state(one row: journal_id, next and last record positions,
//               sequence, hash).
// Writes go through one connection (serialized by a mutex); each read opens
// its own connection, so readers never wait for the writer. It holds one
// node's records: QueryFilter::after_node is not needed and ignored.
class SqliteAuditIndex : public IndexStore {
 public:
  struct Options {
    // The journal the records are read from. Required for Query.
    std::string journal_dir;
    absl::Duration busy_timeout = absl::Seconds(5);
  };

  // Opens or creates the index at `path` and brings its schema up to date.
  // Fails with UNAVAILABLE when the file cannot be opened or is not an
  // SQLite database, and FAILED_PRECONDITION when its schema is newer than
  // this code's, or when it is an audit store of the previous format that
  // still holds records (it is then left as it is).
  static absl::StatusOr<std::unique_ptr<SqliteAuditIndex>> Open(
      const std::string& path, Options options);
  // Opens an existing index for reading only (writes fail with
  // FAILED_PRECONDITION). NOT_FOUND when there is no file, else as Open.
  static absl::StatusOr<std::unique_ptr<SqliteAuditIndex>> OpenReadOnly(
      const std::string& path, Options options);

  ~SqliteAuditIndex() override;
  SqliteAuditIndex(const SqliteAuditIndex&) = delete;
  SqliteAuditIndex& operator=(const SqliteAuditIndex&) = delete;

  const std::string& path() const { return path_; }

  // IndexStore (the file holds one node's entries).
  std::string Describe() const override;
  absl::StatusOr<std::optional<IndexState>> LoadState() const override;
  absl::Status Add(absl::Span<const IndexEntry> entries,
                   const IndexState& state) override;
  absl::Status Clear() override;
  absl::Status RemoveThrough(uint64_t sequence) override;
  absl::StatusOr<uint64_t> CountRecords() const override;

  // Reads the records from the journal; a record whose segment was archived
  // (meanwhile, or by a run that left the index alone) is passed over, and
  // the page filled from the rows after it. UNAVAILABLE when the journal cannot
  // be read or a record is not where the index says (rebuild it: `lienthong
  // audit reindex`).
  absl::StatusOr<std::vector<AuditRecord>> Query(
      const QueryFilter& filter) const override;

 private:
  SqliteAuditIndex(std::string path, Options options,
                   std::unique_ptr<storage::Database> writer);
  absl::StatusOr<std::unique_ptr<storage::Database>> OpenReader() const;
  // Reads the records at `places` (ascending) from the journal.
  struct Place {
    uint64_t sequence;
    JournalPosition at;
  };
  absl::StatusOr<std::vector<AuditRecord>> ReadRecords(
      const std::vector<Place>& places) const;
  absl::Status Writable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const Options options_;
  mutable absl::Mutex mu_;
  const std::unique_ptr<storage::Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_AUDIT_INDEX_H_
