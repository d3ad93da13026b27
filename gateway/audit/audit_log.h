// AuditLog: the tamper-evident, fail-closed audit log the gateway writes one
// record to for every call.
//
// Append hands a record to a single writer thread, which gives it the next
// sequence, the previous record's hash and its own hash (record.h), and
// group-commits everything queued in one store transaction: under
// concurrency one fsync makes many records durable, so throughput stays high
// while each caller still waits for its own record. Every `checkpoint_every`
// records, and on a clean Close, the writer signs the chain head with
// Ed25519 (signing.h) in the same transaction.
//
// Fail closed: when a write fails, every record in it is reported
// UNAVAILABLE ("audit store unavailable") and the chain head stays at what
// is durable. Before its next write the writer reloads the head from the
// store (a commit reported as failed may still have reached the disk), so
// each later batch either fails with UNAVAILABLE too or, once the store
// works again, continues the chain where the store really ends.
//
//   AuditLog::Options options;
//   options.path = "/var/lib/lienthong/audit.db";
//   options.node = "gw-1";
//   options.signing_key_file = "/etc/lienthong/audit-signing.pem";
//   options.hmac_key_file = "/etc/lienthong/audit-hmac.key";
//   LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> log,
//                              AuditLog::Open(options));
//   AuditRecord record;
//   record.set_method(...);
//   log->citizen_key().Fill(citizen_id, &record);
//   log->Append(std::move(record), [](absl::Status status) {
//     // Release the answer only when status.ok().
//   });
#ifndef LIENTHONG_GATEWAY_AUDIT_AUDIT_LOG_H_
#define LIENTHONG_GATEWAY_AUDIT_AUDIT_LOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/audit/audit_store.h"
#include "gateway/audit/record.h"
#include "gateway/audit/signing.h"

namespace lienthong::audit {

// What a caller is told instead of its answer when the call's audit record
// cannot be written.
inline constexpr char kAnswerWithheld[] =
    "audit log unavailable; the answer is withheld";

class AuditLog {
 public:
  struct Options {
    // The SQLite store's file; used when Open is not handed a store.
    std::string path;
    // This gateway's name: put in records that have none, and in
    // checkpoints. Required.
    std::string node;
    // PEM file with the Ed25519 private key that signs checkpoints
    // (GenerateSigningKeyFile). Required.
    std::string signing_key_file;
    // The HMAC key for citizen IDs: its bytes, or else the file holding it
    // (GenerateHmacKeyFile). One is required.
    std::string hmac_key;
    std::string hmac_key_file;
    // A checkpoint signs every record whose sequence is a multiple of this.
    int checkpoint_every = 1000;
    // Most records written in one transaction.
    int max_batch = 4096;
    // Most records waiting to be written; Append fails with UNAVAILABLE
    // beyond it rather than let memory grow while the store is slow.
    int max_pending = 100000;
    // SQLite's busy timeout (SqliteAuditStore::Options).
    absl::Duration busy_timeout = absl::Seconds(5);
  };

  // Opens the log on the SQLite store at options.path, or on `store` when
  // given (options.path is then unused), and resumes the chain from the last
  // stored record. Fails with INVALID_ARGUMENT for bad options or keys,
  // NOT_FOUND for a missing key file, UNAVAILABLE when the store cannot be
  // opened or read, and FAILED_PRECONDITION when the store ends before its
  // last checkpoint (records were cut off: run VerifyStore) or its last
  // record is damaged.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(Options options);
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      Options options, std::unique_ptr<AuditStore> store);

  // Checks what Open(options) would, without creating or writing anything
  // (for lienthong-gateway --check): the options, both keys, and, when the
  // store file exists, that it is a store this code can open (schema not
  // newer, also FAILED_PRECONDITION) whose chain can be resumed. A missing
  // store passes: Open creates it. Fails with Open's codes. Thread-safe.
  static absl::Status Check(const Options& options);

  // Close()s.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Writes what is queued, signs a checkpoint at the head if the last one is
  // older, and stops the writer. Returns the status of that checkpoint's
  // write (OK when none was needed). Later Appends fail with UNAVAILABLE.
  // Idempotent; thread-safe.
  // REQUIRES: not called from an on_durable callback.
  absl::Status Close();

  // Queues `record` for writing. The log sets its sequence, prev_hash and
  // hash (overwriting any given), its time when unset, and its node when
  // empty. `on_durable` is called exactly once: with OK once the record is
  // durable; with UNAVAILABLE when it could not be written (the log is
  // closed, full, or the store failed) and is not in the log; or with
  // INVALID_ARGUMENT for a time outside 1970..2262. It runs on the writer
  // thread (or, for errors found at once, on the calling thread before
  // Append returns), so it must be quick and must not call AppendSync.
  // Thread-safe.
  void Append(AuditRecord record,
              absl::AnyInvocable<void(absl::Status) &&> on_durable);

  // Appends `record` for a call whose answer is `answer`, then calls
  // `release` exactly once with what the caller may be told: `answer` once
  // the record is durable, or at once when `wait_for_durable` is false; when
  // a waited-for record cannot be written, UNAVAILABLE instead, so that
  // nothing unaudited is returned. Same threading as Append.
  void AppendThenRelease(AuditRecord record, bool wait_for_durable,
                         absl::Status answer,
                         absl::AnyInvocable<void(absl::Status) &&> release);

  // Appends and waits: returns the record as written (with its sequence and
  // hashes) or the error on_durable would get. Thread-safe.
  // REQUIRES: not called from an on_durable callback.
  absl::StatusOr<AuditRecord> AppendSync(AuditRecord record);

  // The key for filling citizen_hmac / citizen_masked (CitizenKey::Fill)
  // and for hashing citizen IDs in queries.
  const CitizenKey& citizen_key() const { return citizen_key_; }
  // The key that verifies this log's checkpoints (VerifyStore).
  const PublicKey& public_key() const { return signing_key_.public_key(); }
  // The store, for queries, export and verification. Thread-safe.
  const AuditStore& store() const { return *store_; }
  // The sequence of the last record known durable (0 for none).
  uint64_t durable_sequence() const { return durable_sequence_.load(); }

  // False from a failed write until the next successful one: calls can be
  // refused before they reach a national system (fail closed). Thread-safe.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

 private:
  using Done = absl::AnyInvocable<void(absl::Status, const AuditRecord&) &&>;

  AuditLog(Options options, std::unique_ptr<AuditStore> store,
           SigningKey signing_key, CitizenKey citizen_key);

  void Enqueue(AuditRecord record, Done done);
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriterLoop();
  // Writer thread only, as are the head_ members below.
  void WriteBatch(absl::Span<AuditRecord> records, absl::Span<Done> done);
  absl::Status TryWrite(absl::Span<AuditRecord> records);
  absl::Status LoadHead();
  absl::Status WriteFinalCheckpoint();

  const Options options_;
  const std::unique_ptr<AuditStore> store_;
  const SigningKey signing_key_;
  const CitizenKey citizen_key_;

  absl::Mutex mu_;
  std::vector<AuditRecord> queued_records_ ABSL_GUARDED_BY(mu_);
  std::vector<Done> queued_done_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex close_mu_;
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;
  absl::Status close_status_ ABSL_GUARDED_BY(close_mu_);

  // The durable chain head, as the writer knows it; reloaded from the store
  // when `head_valid_` is false (after a failed write).
  bool head_valid_ = false;
  uint64_t head_sequence_ = 0;
  std::string head_hash_;
  uint64_t last_checkpoint_sequence_ = 0;
  std::atomic<bool> healthy_{true};
  std::atomic<uint64_t> durable_sequence_{0};

  absl::Status final_status_;
  std::thread writer_;
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_AUDIT_LOG_H_
