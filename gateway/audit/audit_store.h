// Where audit records and checkpoints are kept: the AuditStore interface
// (so a shared PostgreSQL store can come later), QueryFilter, and
// SqliteAuditStore, the embedded default.
//
// A store only keeps what it is given: it neither computes nor checks
// hashes. AuditLog writes to it; verify.h and query.h read from it.
#ifndef LIENTHONG_GATEWAY_AUDIT_AUDIT_STORE_H_
#define LIENTHONG_GATEWAY_AUDIT_AUDIT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/storage/database.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

using ::lienthong::v1::AuditCheckpoint;
using ::lienthong::v1::AuditRecord;

// Which records a query returns: those matching every filter set, with a
// sequence above `after_sequence`, in ascending sequence order, at most
// `limit` of them.
struct QueryFilter {
  absl::Time start = absl::InfinitePast();  // time >= start
  absl::Time end = absl::InfiniteFuture();  // time < end
  // Exact matches; empty means any.
  std::string caller;
  std::string method;
  std::string citizen_hmac;
  std::string dossier_id;
  std::string outcome;
  uint64_t after_sequence = 0;
  int limit = 100;
};

// Errors from every method: UNAVAILABLE when the store cannot be read or
// written (the message says why, without personal data). Implementations
// are thread-safe: one writer (AuditLog's) and any number of readers run
// concurrently.
class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Stores `records` and `checkpoints` in one transaction: when this returns
  // OK all are durable, otherwise none is (see AuditLog for what happens
  // when a failed write turns out to have been durable after all). Fails
  // with UNAVAILABLE, without storing anything, when a sequence is already
  // present.
  virtual absl::Status Write(absl::Span<const AuditRecord> records,
                             absl::Span<const AuditCheckpoint> checkpoints) = 0;

  // Returns the record with the highest sequence; nullopt when empty.
  virtual absl::StatusOr<std::optional<AuditRecord>> LastRecord() const = 0;

  // Returns the checkpoint with the highest sequence; nullopt when none.
  virtual absl::StatusOr<std::optional<AuditCheckpoint>> LastCheckpoint()
      const = 0;

  // Calls `visit` for each record with sequence >= from_sequence in
  // ascending sequence order, streaming (memory does not grow with the
  // store), until `visit` returns false. The record passed is only valid
  // during the call.
  virtual absl::Status ScanRecords(
      uint64_t from_sequence,
      absl::FunctionRef<bool(const AuditRecord&)> visit) const = 0;

  // As ScanRecords, for checkpoints.
  virtual absl::Status ScanCheckpoints(
      uint64_t from_sequence,
      absl::FunctionRef<bool(const AuditCheckpoint&)> visit) const = 0;

  // Returns the records matching `filter`. Fails with INVALID_ARGUMENT when
  // filter.limit < 1.
  virtual absl::StatusOr<std::vector<AuditRecord>> Query(
      const QueryFilter& filter) const = 0;
};

// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so
// a write that returned OK survives a power cut; the file and its -wal and
// -shm are readable by the owner only. Tables:
//   records(sequence INTEGER PRIMARY KEY, time_ns, node, caller,
//           caller_cert_sha256, method, purpose, dossier_id, citizen_hmac,
//           citizen_masked, national_system, attempts, outcome, latency_us,
//           request_sha256, response_sha256, prev_hash, hash, officer_hmac,
//           officer_masked, officer_unit_code, officer_account_hmac)
//     indexed on time_ns, caller, citizen_hmac and dossier_id (schema
//     version 2; a version-1 file gains the officer columns on open);
//   checkpoints(sequence INTEGER PRIMARY KEY, hash, time_ns, node, signature,
//               public_key_sha256).
// Times are nanoseconds since the Unix epoch; digests are hex text. The
// schema's version is kept in the file (gateway/storage/schema.h).
//
// Writes go through one connection (serialized by a mutex); each read opens
// its own connection, so readers never wait for the writer, nor it for them.
class SqliteAuditStore : public AuditStore {
 public:
  struct Options {
    // How long a statement waits for a lock held by another connection or
    // process before failing with UNAVAILABLE.
    absl::Duration busy_timeout = absl::Seconds(5);
  };

  // Opens or creates the store at `path` and brings its schema up to date.
  // Fails with UNAVAILABLE when the file cannot be opened or is not an
  // SQLite database, and FAILED_PRECONDITION when its schema is newer than
  // this code's.
  static absl::StatusOr<std::unique_ptr<SqliteAuditStore>> Open(
      const std::string& path, Options options);
  static absl::StatusOr<std::unique_ptr<SqliteAuditStore>> Open(
      const std::string& path) {
    return Open(path, Options());
  }

  // Opens the existing store at `path` for reading only: nothing is created
  // or upgraded, and Write fails with FAILED_PRECONDITION. Fails with
  // NOT_FOUND when there is no file, otherwise as Open.
  static absl::StatusOr<std::unique_ptr<SqliteAuditStore>> OpenReadOnly(
      const std::string& path, Options options);

  ~SqliteAuditStore() override;
  SqliteAuditStore(const SqliteAuditStore&) = delete;
  SqliteAuditStore& operator=(const SqliteAuditStore&) = delete;

  const std::string& path() const { return path_; }

  absl::Status Write(absl::Span<const AuditRecord> records,
                     absl::Span<const AuditCheckpoint> checkpoints) override;
  absl::StatusOr<std::optional<AuditRecord>> LastRecord() const override;
  absl::StatusOr<std::optional<AuditCheckpoint>> LastCheckpoint()
      const override;
  absl::Status ScanRecords(
      uint64_t from_sequence,
      absl::FunctionRef<bool(const AuditRecord&)> visit) const override;
  absl::Status ScanCheckpoints(
      uint64_t from_sequence,
      absl::FunctionRef<bool(const AuditCheckpoint&)> visit) const override;
  absl::StatusOr<std::vector<AuditRecord>> Query(
      const QueryFilter& filter) const override;

 private:
  // `writer` is null for a read-only store.
  SqliteAuditStore(std::string path, Options options,
                   std::unique_ptr<storage::Database> writer);

  // Opens a read-only connection of its own.
  absl::StatusOr<std::unique_ptr<storage::Database>> OpenReader() const;
  absl::Status WriteLocked(absl::Span<const AuditRecord> records,
                           absl::Span<const AuditCheckpoint> checkpoints)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const Options options_;
  absl::Mutex mu_;
  const std::unique_ptr<storage::Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_AUDIT_STORE_H_
