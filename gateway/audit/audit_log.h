// AuditLog: the tamper-evident, fail-closed audit log the gateway writes one
// record to for every call.
//
// Append hands a record to a single writer thread, which gives it the next
// sequence, the previous record's hash and its own hash (record.h), and
// group-commits everything queued as one write to the journal (journal.h)
// followed by one fdatasync: under concurrency one fdatasync makes many
// records durable, while each caller still waits for its own record. Every
// `checkpoint_every` records, at the end of each journal segment, when the
// log opens and at a clean Close, the writer signs the head with Ed25519 in
// a checkpoint that also names the previous checkpoint (signing.h), writes
// it in the same write, and then copies it to the anchors (anchor.h).
//
// Opening verifies before anything is signed: the journal's end back to the
// last checkpoint, every record after it, the cadence and the latest anchor
// (recovery.h). A torn last write from a crash (never acknowledged: answers
// wait for durability) is cut off and reported in the LOG_OPENED record the
// log then writes; any other finding leaves the log NOT READY: every append
// fails with UNAVAILABLE saying why, nothing is signed (not even at Close),
// until an operator inspects the journal and opens a new epoch (epoch.h).
//
// Fail closed: when a write fails, every record in it is reported
// UNAVAILABLE ("audit store unavailable") and the head stays at what is
// durable; the journal zeroes the failed region before its next write, so
// the chain never continues past a write whose fate is unknown.
//
// An indexer thread (indexer.h) copies the records into the SQLite query
// index at options.path; index() answers queries after catching up with
// everything durable.
//
//   AuditLog::Options options;
//   options.path = "/var/lib/lienthong/audit.db";
//   options.journal_dir = "/var/lib/lienthong/audit-journal";
//   options.node = "gw-1";
//   options.signing_key_file = "/etc/lienthong/audit-signing.pem";
//   options.signing_key_sha256 = "3f1c...";  // the pin
//   options.hmac_key_file = "/etc/lienthong/audit-hmac.key";
//   options.digest_key_file = "/etc/lienthong/audit-digest.key";
//   LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> log,
//                              AuditLog::Open(options));
//   AuditRecord record;
//   record.set_method(...);
//   log->citizen_key().Fill(citizen_id, &record);
//   log->AppendThenRelease(std::move(record), true, answer, [](absl::Status s)
//   {
//     // Release the answer `s`.
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
#include "gateway/audit/anchor.h"
#include "gateway/audit/audit_index.h"
#include "gateway/audit/indexer.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/record.h"
#include "gateway/audit/recovery.h"
#include "gateway/audit/refusals.h"
#include "gateway/audit/signing.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

// What a caller is told instead of its answer when the call's audit record
// cannot be written.
inline constexpr char kAnswerWithheld[] =
    "audit log unavailable; the answer is withheld";

using VerifyReport = ::lienthong::v1::VerifyAuditResponse;

class AuditLog {
 public:
  struct Options {
    // The SQLite query index's file. Required.
    std::string path;
    // The journal's folder; default "audit-journal" beside `path`.
    std::string journal_dir;
    // This gateway's name: put in records that have none, and in
    // checkpoints. Required, at most 256 bytes.
    std::string node;
    // PEM file with the Ed25519 private key that signs checkpoints
    // (GenerateSigningKeyFile). Required.
    std::string signing_key_file;
    // Hex SHA-256 of the public key that must verify checkpoints: Open
    // fails when the signing key has another one, and the log verifies
    // with the pinned key only. Empty: not pinned (verified with the key
    // in signing_key_file).
    std::string signing_key_sha256;
    // The HMAC key for citizen IDs: its bytes, or else the file holding it
    // (GenerateHmacKeyFile). One is required.
    std::string hmac_key;
    std::string hmac_key_file;
    // The key for request and response digests: its bytes or file. When
    // neither is given, one derived from the HMAC key (DigestKey).
    std::string digest_key;
    std::string digest_key_file;
    // The anchor file (empty: none) and whether checkpoints also go to
    // syslog.
    std::string anchor_file;
    bool anchor_syslog = false;
    // A checkpoint signs every record whose sequence is a multiple of this.
    int checkpoint_every = 1000;
    // Most records written in one write.
    int max_batch = 4096;
    // Most records waiting to be written; Append fails with UNAVAILABLE
    // beyond it rather than let memory grow while the disk is slow.
    int max_pending = 100000;
    // Journal segment size (at least 1 MiB).
    uint64_t segment_bytes = 64ull << 20;
    // How often the indexer adds new records to the index.
    absl::Duration index_interval = absl::Seconds(1);
    // Below this much free space on the journal's filesystem Readiness()
    // fails; 0 turns the check off.
    uint64_t min_free_bytes = 0;
    // RefusalCoalescer for refused calls given to AppendThenRelease, with
    // windows of `coalesce_window`.
    bool coalesce_refusals = true;
    absl::Duration coalesce_window = absl::Seconds(1);
    // SQLite's busy timeout for the index.
    absl::Duration busy_timeout = absl::Seconds(5);
    // The query index when it is not the SQLite file at `path`: the index
    // on PostgreSQL that replicas share (audit/pg/pg_audit_index.h), opened
    // by the caller (this library does not link libpq). `path` still
    // places the journal and anchors by default.
    std::shared_ptr<IndexStore> index_store;
    // The journal's system calls (tests make them fail); default: real.
    JournalIo* io = nullptr;
  };

  // Figures for metrics and tests.
  struct Stats {
    uint64_t durable_sequence = 0;
    uint64_t indexed_sequence = 0;
    // Records missing from the journal when they were to be indexed.
    uint64_t index_missing_records = 0;
    uint64_t checkpoints = 0;  // index of the last one
    uint64_t torn_tail_bytes_cut = 0;
    uint64_t refusals_coalesced = 0;
    uint64_t write_failures = 0;
    uint64_t anchor_failures = 0;
    uint64_t writes = 0;  // journal writes (each one fdatasync)
  };

  // Opens the log: the keys (checked against the pin), the journal (its
  // lock taken), the index and the anchors; verifies the journal's end
  // (RecoverJournal); when sound, cuts a torn tail and writes a LOG_OPENED
  // record and an OPENED checkpoint. Returns the log, which may be not
  // ready (ready() is false, Readiness() says why): that is not an error.
  //
  // Fails with INVALID_ARGUMENT for bad options or keys, NOT_FOUND for a
  // missing key file, FAILED_PRECONDITION when the signing key does not
  // match the pin, the journal is locked by another process, or the index
  // is a store of the previous format with records; UNAVAILABLE when the
  // journal, index or anchor file cannot be opened or written.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(Options options);

  // Checks what Open(options) would without creating or writing anything
  // (lienthong-gateway --check): the options, the keys and the pin, and,
  // when the index file exists, that this code can open it. Fails with
  // Open's codes. Thread-safe.
  static absl::Status Check(const Options& options);

  // Close()s.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Writes what is queued (and coalesced refusals), signs a CLEAN_STOP
  // checkpoint at the head when the log is ready, and stops the threads.
  // Returns the status of that checkpoint's write (OK when not ready: then
  // nothing is signed). Later Appends fail with UNAVAILABLE. Idempotent;
  // thread-safe.
  // REQUIRES: not called from an on_durable callback.
  absl::Status Close();

  // Queues `record`. The log sets its sequence, prev_hash and hash
  // (overwriting any given), its time when unset, and its node when empty.
  // `on_durable` is called exactly once: with OK once the record is
  // durable; with UNAVAILABLE when it could not be written (the log is
  // closed, full, not ready, or the disk failed) and is not in the log; or
  // with INVALID_ARGUMENT for a time outside 1970..2262, a record too large
  // for a journal frame, or a kind other than CALL (LOG_OPENED, EPOCH_OPENED
  // and REFUSALS_COALESCED records are the log's own). It runs on the
  // writer thread (or, for errors found at once, on the calling thread
  // before Append returns), so it must be quick and must not call
  // AppendSync. Thread-safe.
  void Append(AuditRecord record,
              absl::AnyInvocable<void(absl::Status) &&> on_durable);

  // Appends `record` for a call whose answer is `answer`, then calls
  // `release` exactly once with what the caller may be told: `answer` once
  // the record is durable, or at once when `wait_for_durable` is false; when
  // a waited-for record cannot be written, UNAVAILABLE instead, so that
  // nothing unaudited is returned (saying why when the log is not ready,
  // else kAnswerWithheld). A refusal that the RefusalCoalescer
  // counts into an open window is released at once: it discloses nothing,
  // and its window's record follows within a second. Same threading as
  // Append.
  void AppendThenRelease(AuditRecord record, bool wait_for_durable,
                         absl::Status answer,
                         absl::AnyInvocable<void(absl::Status) &&> release);

  // AppendThenRelease's two halves, for a call audited with several records
  // (one per dossier it names), which is coalesced as one call or written
  // whole: CountRefusal(first) says whether the RefusalCoalescer counted
  // the call (a refusal) into an open window, and then none of its records
  // is appended; otherwise AppendUncountedThenRelease appends each.
  bool CountRefusal(AuditRecord& record);
  void AppendUncountedThenRelease(
      AuditRecord record, bool wait_for_durable, absl::Status answer,
      absl::AnyInvocable<void(absl::Status) &&> release);

  // Appends and waits: returns the record as written (with its sequence and
  // hashes) or the error on_durable would get. Thread-safe.
  // REQUIRES: not called from an on_durable callback.
  absl::StatusOr<AuditRecord> AppendSync(AuditRecord record);

  // The key for filling citizen_hmac / citizen_masked (CitizenKey::Fill)
  // and for hashing citizen IDs in queries.
  const CitizenKey& citizen_key() const { return citizen_key_; }
  // The key for request_sha256 / response_sha256 (keyed digests).
  const DigestKey& digest_key() const { return digest_key_; }
  // The key checkpoints are verified with, and whether it is the pinned one.
  const PublicKey& public_key() const { return public_key_; }
  bool key_pinned() const { return !options_.signing_key_sha256.empty(); }
  const Options& options() const { return options_; }

  // The query index, brought up to everything durable before each query
  // (UNAVAILABLE while it is being rebuilt from nothing). Thread-safe.
  const AuditIndex& index() const { return query_index_; }

  // Verifies the whole journal against the key (pinned or not) and the
  // anchor file (VerifyJournal). UNAVAILABLE when it cannot be read.
  // Thread-safe; runs alongside appends, verifying what was durable when
  // it started.
  absl::StatusOr<VerifyReport> Verify() const;

  // The sequence of the last record known durable (0 for none).
  uint64_t durable_sequence() const { return durable_sequence_.load(); }

  // False when not ready, and from a failed write until the next successful
  // one: calls can be refused before they reach a national system (fail
  // closed). Thread-safe.
  bool healthy() const {
    return ready_ && healthy_.load(std::memory_order_relaxed);
  }
  // Whether the journal verified when the log opened.
  bool ready() const { return ready_; }
  // OK when records can be appended; otherwise UNAVAILABLE saying why (not
  // ready: the reason and what an operator must do; or the journal cannot
  // be written). Thread-safe.
  absl::Status CanAppend() const;
  // CanAppend, and also UNAVAILABLE when free disk space is below
  // min_free_bytes or the anchor file cannot be written: what /readyz
  // reports. No personal data. Thread-safe.
  absl::Status Readiness() const;
  // Free bytes on the journal's filesystem (0 when unknown). Thread-safe.
  uint64_t FreeBytes() const;
  Stats stats() const;

 private:
  // Called once the record is durable or failed; empty when nobody waits.
  using Done = absl::AnyInvocable<void(absl::Status, const AuditRecord&) &&>;

  // An AuditIndex that catches the indexer up before each query.
  class QueryIndex : public AuditIndex {
   public:
    explicit QueryIndex(const AuditLog* log) : log_(log) {}
    absl::StatusOr<std::vector<AuditRecord>> Query(
        const QueryFilter& filter) const override;

   private:
    const AuditLog* log_;
  };

  // One write: its bytes, how many records it holds, its checkpoints.
  struct Unit {
    std::string bytes;
    size_t records = 0;
    std::vector<AuditCheckpoint> checkpoints;
    bool sealed = false;  // ends the segment
    ChainHead head;       // the head once it is durable
  };

  AuditLog(Options options, SigningKey signing_key, PublicKey public_key,
           CitizenKey citizen_key, DigestKey digest_key);

  absl::Status Start();
  void Enqueue(AuditRecord record, Done done);
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriterLoop();
  // Writer thread only, as are head_, sealed_ and the journal's write side.
  void WriteBatch(absl::Span<AuditRecord> records, absl::Span<Done> done);
  // Composes the next write from records[0..): as many as fit, with their
  // periodic checkpoints, then a checkpoint for `reason` when not
  // REASON_UNSPECIFIED, or a seal when the segment is full.
  absl::StatusOr<Unit> Compose(absl::Span<AuditRecord> records,
                               AuditCheckpoint::Reason reason);
  absl::Status AddCheckpoint(AuditCheckpoint::Reason reason, Unit& unit,
                             size_t* last_frame);
  // Writes `unit`, then makes it the head and publishes its checkpoints.
  absl::Status WriteUnit(Unit& unit);
  // Writes records (none for a bare checkpoint) with a `reason` checkpoint.
  absl::Status WriteWithCheckpoint(absl::Span<AuditRecord> records,
                                   AuditCheckpoint::Reason reason);

  const Options options_;
  const SigningKey signing_key_;
  const PublicKey public_key_;
  const CitizenKey citizen_key_;
  const DigestKey digest_key_;

  std::unique_ptr<Journal> journal_;
  std::shared_ptr<IndexStore> index_;
  std::unique_ptr<Indexer> indexer_;
  std::unique_ptr<AnchorSink> anchors_;
  QueryIndex query_index_{this};

  bool ready_ = false;
  std::string not_ready_reason_;

  absl::Mutex mu_;
  std::vector<AuditRecord> queued_records_ ABSL_GUARDED_BY(mu_);
  std::vector<Done> queued_done_ ABSL_GUARDED_BY(mu_);
  RefusalCoalescer coalescer_ ABSL_GUARDED_BY(mu_){4096,
                                                   options_.coalesce_window};
  bool closing_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex close_mu_;
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;
  absl::Status close_status_ ABSL_GUARDED_BY(close_mu_);

  ChainHead head_;
  bool sealed_ = false;
  std::atomic<bool> healthy_{true};
  std::atomic<bool> anchor_failing_{false};
  std::atomic<uint64_t> durable_sequence_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> torn_cut_{0};
  std::atomic<uint64_t> refusals_coalesced_{0};
  std::atomic<uint64_t> write_failures_{0};
  std::atomic<uint64_t> anchor_failures_{0};
  std::atomic<uint64_t> writes_{0};

  absl::Status final_status_;
  std::thread writer_;
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_AUDIT_LOG_H_
