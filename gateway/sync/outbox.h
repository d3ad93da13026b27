// Outbox: the durable queue of changes for the national portal: the
// contract below, implemented on SQLite (sqlite_outbox.h, the embedded
// default; what follows describes it) and on PostgreSQL (pg_outbox.h,
// shared by replicas; it says where it differs). SQLite goes through
// gateway/storage (WAL, synchronous=FULL, secure_delete). Callers are answered
// only after the COMMIT that makes their changes durable. The order of open
// items is kept in memory by KeyQueues (key_queues.h); each operation's SQL is
// in the file of its concern (outbox_dossiers.cc, outbox_catalogue.cc,
// outbox_claim.cc, outbox_dead_letters.cc, outbox_prune.cc,
// outbox_national.cc).
//
// Items. Each change is one item: a procedure to publish or withdraw (kind
// "procedure", key = MaTTHC) or, kind "dossier" (key = MaHoSo), a dossier's
// registration with the portal or a step of its progress. Items of the same
// key carry a sequence 1, 2, 3, ... and reach the portal in that order: an
// item is due only when every earlier item of its key is delivered, so at
// most one item per key is ever in flight. An item ends delivered or dead
// (a dead letter: refused by the portal, or failing for too long). A dead
// item blocks the later items of its key until an operator retries it
// (RetryDeadLetters), so a dossier's statuses never overtake one another,
// not even around a failure. A dead procedure item is different: a later
// catalogue change of the same procedure supersedes it (it leaves the
// dead-letter list), because the new content replaces it. So is a dead
// registration blocking its dossier: the latest registration queued after
// it (its content changed, see Registrations), whether queued while it was
// still pending or once it was dead, supersedes it and any registration
// between them, wiping their payloads, and goes before the other items
// queued behind it, which move, in their order, to the sequences after the
// dossier's last (never sent, they are sealed and keyed anew). Retried
// instead, the refused registration would be sent as it was. A dead step
// is never superseded: it stays until retried.
//
// Registrations. The portal shows progress only of dossiers registered with
// it, so the first update of a dossier must carry its registration, which
// is queued as an item of the dossier's own queue just before that update's
// progress: it is delivered first, in the same order guarantees, across
// crashes. A registration given again later is queued again (before its
// update) when its content differs from the last one queued, and not when
// it is the same.
//
// Personal data at rest. A dossier item's payload (the applicant's name,
// e-mail, phone and id; officials' names) is sealed with AES-256-GCM
// (OutboxCipher) under OutboxOptions::key, bound to its place
// ("<outbox id>|d|<MaHoSo>|<sequence>"), and wiped (the payload emptied,
// with SQLite's secure_delete zeroing the freed bytes) in the transaction
// that records its delivery. An item whose payload fails its check becomes
// a dead letter with that reason; the others go on. The key is checked at
// Open() against a record sealed when the database was made.
//
//   state:  pending --claim--> in_flight --delivered--> delivered
//              ^  ^                |  \--refused / gave up--> dead
//              |  +--retriable-----+                           |
//              +---------------- RetryDeadLetters -------------+
//
// Idempotency. Each item has a stable idempotency key, sent as
// X-Idempotency-Key: a redelivery after a crash or an unanswered attempt is
// applied at most once by the portal. The key is
// "<outbox id>-<p|d><sequence>-<code>", where the outbox id is random per
// database, so a fresh database never reuses keys the portal remembers; a
// dead letter the portal refused gets a new key when retried ("-r<n>"), as
// the portal answers a known key with its first answer. A dossier update is
// identified by (MaHoSo, status, time): the same again is acknowledged as a
// duplicate and not queued (for how long, see Pruning); one with the same
// three and other content (a digest of it is kept with the item) is
// refused, since it is not a repeat and would never be sent.
//
// Ordering of statuses. A dossier update must be a transition the rules of
// dossier_status.h allow from the last status the gateway accepted for that
// dossier (queued, delivered or dead), and not earlier in time.
//
// Catalogue. For each procedure the outbox keeps the content hash the portal
// last acknowledged and the hash it will hold once the changes still queued
// are delivered; SyncProcedures plans against the latter, so syncing the
// same catalogue twice (e.g. a retry after a lost answer) queues nothing new.
//
// Jobs. A SyncProcedures call that queues changes makes a job that counts
// its items (total, delivered, dead-lettered). A job is kept while any of
// its items is pending, in flight or a dead letter, and is pruned some time
// after its last change once none is (see PruneDelivered).
//
// Crash recovery: Open() turns items left in flight back to pending. An
// item claimed before (OutboxItem::maybe_sent) may have reached the portal
// without its answer reaching the gateway: the delivery worker tells the
// adapter, which looks before sending it again (docs/wire-formats.md).
//
// Pruning. Delivered items are deleted some time after delivery
// (PruneDelivered, driven by the delivery worker), so the database does not
// grow with every update ever sent. Nothing needs them for ordering (only
// open items are ordered) nor for idempotency keys (sequences come from the
// per-dossier and per-procedure tables, ids never repeat). Duplicate
// detection does: see PruneDelivered for what is kept and why. Finished
// jobs go in the same pass, after the same time.
//
// Thread-safety: every method is thread-safe; one mutex serialises them, and
// each that writes is one transaction. Listeners run after the commit,
// outside the lock.
#ifndef LIENTHONG_GATEWAY_SYNC_OUTBOX_H_
#define LIENTHONG_GATEWAY_SYNC_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/resilience/clock.h"
#include "gateway/storage/database.h"
#include "gateway/sync/key_queues.h"
#include "gateway/sync/outbox_cipher.h"
#include "gateway/sync/outbox_states.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync {

// Returns "procedure" or "dossier" (as in lienthong.v1.DeadLetter.kind).
// Thread-safe.
absl::string_view ItemKindName(ItemKind kind);

// An item handed to the delivery worker by Claim().
struct OutboxItem {
  int64_t id = 0;
  ItemKind kind = ItemKind::kDossier;
  // MaTTHC or MaHoSo.
  std::string key;
  int64_t sequence = 0;
  std::string idempotency_key;
  // Attempts made before this one.
  int attempts = 0;
  // When the first of the current run of retriable failures happened.
  std::optional<absl::Time> first_failure;
  // Claimed before, and then not delivered: an attempt may have reached
  // the portal (a crash, a timeout, an unreadable answer).
  bool maybe_sent = false;
  // The job it belongs to; empty for dossier updates.
  std::string job_id;
  // kDossier: the dossier's registration (dossier.registration() is set), or
  // a step of its progress.
  bool registration = false;
  // kDossier: the update.
  lienthong::v1::DossierStatusUpdate dossier;
  // kProcedure: withdraw `key`, or publish `procedure`.
  bool withdraw = false;
  lienthong::v1::Procedure procedure;
  // kProcedure: the portal has acknowledged holding this procedure (so an
  // update is due rather than a create).
  bool portal_has_procedure = false;
};

// How a claimed item ended, reported by the delivery worker.
struct DeliveryResult {
  enum class Kind {
    kDelivered,  // the portal acknowledged it
    kRetry,      // failed transiently: pending again from `next_attempt`
    kDead,       // dead letter with `message` as the reason
    kRelease,    // not attempted after all: pending again, no attempt counted
  };
  int64_t id = 0;
  Kind kind = Kind::kDelivered;
  absl::Time next_attempt = absl::InfinitePast();  // kRetry
  // kRetry: the error; kDead: the reason. Never a raw portal body.
  std::string message;
  // kDead: the portal refused the item (its key may not be reused), as
  // opposed to giving up after retriable failures.
  bool refused = false;
};

struct PushResult {
  int accepted = 0;
  int duplicates = 0;
  // Registrations queued (first ones, and changed ones given again).
  int registrations = 0;
};

// What one PruneDelivered() call did.
struct PruneProgress {
  // Items looked at and items deleted.
  int64_t examined = 0;
  int64_t deleted = 0;
  // Jobs looked at and jobs deleted.
  int64_t jobs_examined = 0;
  int64_t jobs_deleted = 0;
  // The pass reached the items too young to prune and then went through
  // every job: the next call starts a new pass from the oldest item.
  bool pass_done = false;
};

// Items by state, for logs, metrics and tests.
struct OutboxCounts {
  int64_t pending = 0;
  int64_t in_flight = 0;
  int64_t delivered = 0;
  int64_t dead = 0;
};

struct OutboxOptions {
  // The SQLite database file; created with its tables when missing.
  std::string path;
  // The AES-256 key (32 bytes) that seals dossier items. Required.
  std::string key;
  // Where `now` comes from (deadlines of retries, times of records).
  resilience::Clock* clock = resilience::RealClock();
};

class Outbox {
 public:
  // Called after a commit that queued work or made work due.
  using WorkListener = std::function<void()>;
  // Called after a commit that changed jobs, with their ids.
  using JobListener = std::function<void(const std::vector<std::string>&)>;

  // The SQLite outbox (sqlite_outbox.h), the embedded default. Opens (or
  // creates, with its folder: file 0600, folders 0700) the
  // database, brings its schema to the current version (gateway/storage
  // schema versions: a version-2 file gains the index items_job, and any
  // file the table national_procedures if it lacks it, becoming version
  // 4), turns in-flight items back to pending and loads the open
  // items' order. Fails with INVALID_ARGUMENT when options.key is not 32
  // bytes, UNAVAILABLE when the file cannot be opened or written,
  // FAILED_PRECONDITION when another Outbox has it open, in this process or
  // another (the lock file
  // "<path>.lock", made beside it, is held while the outbox lives), when it
  // is an outbox of schema version 1 (before
  // registrations and sealing: drain it with the gateway that wrote it
  // first), of a version newer than this gateway's, or sealed under another
  // key; DATA_LOSS when an open item's stored kind or state is none of
  // outbox_states.h. REQUIRES: `options.clock` outlives the outbox.
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(
      const OutboxOptions& options);
  virtual ~Outbox() = default;

  // Checks, without creating or changing anything, that Open() could open
  // `path` as far as the file decides (not the key): an existing file must
  // be an outbox of a schema version this gateway reads or upgrades (2 or
  // 3; a new SQLite file counts as version 0); a missing one needs a folder
  // that can be made and written. For lienthong-gateway --check. Fails with
  // UNAVAILABLE (not a database, folder not writable) or
  // FAILED_PRECONDITION (version 1, or newer than this gateway's), as
  // Open() would. Thread-safe.
  static absl::Status CheckFile(const std::string& path);

  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Sets the listeners (kept here, called by the implementations after
  // their commits). Thread-safe; a listener must not call back into the
  // outbox synchronously with a lock of its own held that outbox callers
  // take.
  void SetWorkListener(WorkListener listener);
  void SetJobListener(JobListener listener);

  // Queues dossier status updates, in order, all or nothing, each after its
  // registration when it carries one that differs from the dossier's last
  // queued registration (see Registrations). Repeats of an accepted update
  // (same dossier, status, time and content; also within the batch) are
  // counted as duplicates and not queued; the same dossier, status and time
  // with other content fails the push (FAILED_PRECONDITION "updates[<i>]:
  // dossier <code> already has an accepted <status> update at this time
  // ..."). Returns once the new items are durable.
  // Fails with INVALID_ARGUMENT "updates[<i>].<field>: ..." for a malformed
  // update, or "updates[<i>].registration: required ..." for the first
  // update of a dossier never registered through this outbox;
  // FAILED_PRECONDITION "updates[<i>]: dossier <code> cannot go from <A> to
  // <B>" for a transition the rules refuse (or a time earlier than the last
  // accepted update's); INTERNAL when sealing fails; UNAVAILABLE when the
  // store cannot be written; nothing is queued then.
  virtual absl::StatusOr<PushResult> PushDossierUpdates(
      const google::protobuf::RepeatedPtrField<
          lienthong::v1::DossierStatusUpdate>& updates) = 0;

  // Plans `request.procedures` (see procedure_plan.h) and, unless dry_run,
  // queues the changes under a new job; returns the plan, its counts and the
  // job id (empty for a dry run or when nothing changes). Fails with
  // INVALID_ARGUMENT listing every bad procedure (ValidateCatalogue), or
  // UNAVAILABLE; nothing is queued then.
  virtual absl::StatusOr<lienthong::v1::SyncProceduresResponse> SyncProcedures(
      const lienthong::v1::SyncProceduresRequest& request) = 0;

  // Returns the job. NOT_FOUND for an unknown id or a job pruned after it
  // finished (the message says both), UNAVAILABLE.
  virtual absl::StatusOr<lienthong::v1::SyncJob> GetJob(absl::string_view job_id) = 0;

  // Returns dead letters in id order from after `page_token` (empty: from
  // the start), at most `page_size` (0: 100; at most 1000), and the token
  // of the next page (empty on the last); a registration's kind is
  // "registration". INVALID_ARGUMENT for a bad token or negative size,
  // UNAVAILABLE, DATA_LOSS for a stored kind none of outbox_states.h.
  virtual absl::StatusOr<lienthong::v1::ListDeadLettersResponse> ListDeadLetters(
      int page_size, absl::string_view page_token) = 0;

  // Puts the dead letters `ids` (empty: all) back in the queue, due now, at
  // their place in their key's order; ids that are not dead letters are
  // skipped. Returns how many were requeued. INVALID_ARGUMENT for an id
  // that is not a number, UNAVAILABLE, DATA_LOSS for a stored kind none of
  // outbox_states.h.
  virtual absl::StatusOr<int> RetryDeadLetters(absl::Span<const std::string> ids) = 0;

  // Records `finished` and then claims up to `max_claims` due items (marks
  // them in flight), in one transaction: an item is due when it is the first
  // open item of its key, pending, and its next attempt time has come.
  // Oldest due first. UNAVAILABLE when the store cannot be written; nothing
  // is recorded or claimed then (report `finished` again).
  // REQUIRES: every id in `finished` was claimed and not yet finished.
  virtual absl::StatusOr<std::vector<OutboxItem>> FinishAndClaim(
      absl::Span<const DeliveryResult> finished, int max_claims) = 0;

  // The earliest time an item will be due, if any is pending at the head
  // of its key.
  virtual std::optional<absl::Time> NextDue() const = 0;

  // Makes every pending item due later than `due` due at `due`: after a
  // portal-wide outage ended, items need not sit out backoffs earned while
  // it was down. UNAVAILABLE.
  virtual absl::Status ExpediteRetries(absl::Time due) = 0;

  // Items by state. UNAVAILABLE; DATA_LOSS for a stored state none of
  // outbox_states.h.
  virtual absl::StatusOr<OutboxCounts> Counts() const = 0;

  // The open items by state (pending, in flight, dead; `delivered` is 0),
  // from memory: no store access, so it cannot fail. Costs a walk over the
  // open items; for metrics at scrape time.
  virtual OutboxCounts OpenCounts() const = 0;

  // One step of a pass over the items, oldest first, that deletes delivered
  // items finished before `finished_before`, and then over the jobs, that
  // deletes the finished ones last changed before it: looks at up to
  // `max_examined` rows (items and jobs together) after where the previous
  // call stopped, deletes those it may in one short transaction, and
  // returns what it did. Call again until `pass_done`, letting other work in
  // between: the outbox is locked only for one step.
  //
  // Kept: every item not delivered (pending, in flight, dead letters,
  // superseded items), every item delivered at or after
  // `finished_before`, and, of a dossier's delivered updates, those dated
  // at the same time as the dossier's last accepted update, that update
  // excepted. Why: a repeat of an accepted update must be acknowledged as a
  // duplicate and never queued again (the portal would get the status
  // twice, under a new idempotency key). Without the items,
  // PushDossierUpdates still answers a repeat of the last accepted update
  // as a duplicate (the dossiers table holds its status and time), and
  // refuses (FAILED_PRECONDITION) a repeat of an update dated before it,
  // since statuses may not go back in time. But another update at that
  // same time could follow the last one again (PROCESSING after
  // MORE_DOCUMENTS_NEEDED, both at 10:00) and would be queued: those stay
  // until the dossier moves on. The price: a repeat of an older update
  // arriving after the retention is refused instead of acknowledged.
  // Procedure items all go: the catalogue plans against the procedures
  // table, not the items.
  //
  // A job goes when none of its items is pending, in flight or a dead
  // letter (its counts say it ended) and its last change (updated_at:
  // its last item finishing, or a retry) was before `finished_before`. A
  // job with work left, or with a dead letter an operator may still retry,
  // is never deleted; GetJob answers NOT_FOUND for one that was.
  //
  // UNAVAILABLE when the store cannot be read or written (nothing deleted
  // in that step, and nothing reported as deleted that was not; call again
  // later). Thread-safe. REQUIRES: max_examined >= 1.
  virtual absl::StatusOr<PruneProgress> PruneDelivered(absl::Time finished_before,
                                               int max_examined) = 0;

  // The national procedure database as last read (catalogue_pull.h), kept
  // in the outbox's database: every procedure, replaced whole by each read.
  struct NationalCatalogueRows {
    std::vector<std::string> codes;
    std::optional<absl::Time> pulled_at;  // nullopt: never read
  };

  // Replaces the stored national catalogue with `procedures`, read at
  // `pulled_at`, in one transaction. UNAVAILABLE when the store cannot be
  // written (the previous catalogue stays). Thread-safe.
  virtual absl::Status ReplaceNationalCatalogue(
      absl::Span<const lienthong::v1::NationalProcedure> procedures,
      absl::Time pulled_at) = 0;

  // Returns the stored catalogue's codes and when it was read.
  // UNAVAILABLE. Thread-safe.
  virtual absl::StatusOr<NationalCatalogueRows> ReadNationalCatalogue() const = 0;

  // Checks the store's integrity (SQLite: PRAGMA integrity_check); INTERNAL
  // with its report when it finds damage, UNAVAILABLE.
  virtual absl::Status CheckIntegrity() const = 0;

  // OK while the store can be used; UNAVAILABLE with the reason (no
  // secrets, no personal data: shown by /readyz) while it cannot (a
  // PostgreSQL store that is unreachable). Cheap: answered from what the
  // store last saw, without a round trip. Thread-safe.
  virtual absl::Status Ready() const = 0;

  // Returns the random id of this database, the first part of its
  // idempotency keys. Thread-safe (fixed once Open() returns).
  const std::string& outbox_id() const { return outbox_id_; }

 protected:
  Outbox() = default;
  // Call the listeners, outside any lock of the implementation's.
  void NotifyWork();
  void NotifyJobs(const std::vector<std::string>& job_ids);

  // Set once by the implementation's Open().
  std::string outbox_id_;

 private:
  absl::Mutex listener_mu_;
  WorkListener work_listener_ ABSL_GUARDED_BY(listener_mu_);
  JobListener job_listener_ ABSL_GUARDED_BY(listener_mu_);

};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_OUTBOX_H_
