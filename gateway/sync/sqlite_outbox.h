// SqliteOutbox: the Outbox (outbox.h, whose comment describes it) on an
// embedded SQLite file through gateway/storage: WAL, synchronous=FULL,
// secure_delete. Opened by Outbox::Open(). The order of open items is kept
// in memory by KeyQueues (key_queues.h); each operation's SQL is in the
// file of its concern (outbox_dossiers.cc, outbox_catalogue.cc,
// outbox_claim.cc, outbox_dead_letters.cc, outbox_prune.cc,
// outbox_national.cc).
//
// Thread-safety: every method is thread-safe; one mutex serialises them, and
// each that writes is one transaction. Listeners run after the commit,
// outside the lock.
#ifndef LIENTHONG_GATEWAY_SYNC_SQLITE_OUTBOX_H_
#define LIENTHONG_GATEWAY_SYNC_SQLITE_OUTBOX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/storage/database.h"
#include "gateway/storage/file_lock.h"
#include "gateway/sync/key_queues.h"
#include "gateway/sync/outbox.h"
#include "gateway/sync/outbox_cipher.h"

namespace lienthong::sync {

class SqliteOutbox final : public Outbox {
 public:
  ~SqliteOutbox() override;
  SqliteOutbox(const SqliteOutbox&) = delete;
  SqliteOutbox& operator=(const SqliteOutbox&) = delete;

  // The Outbox (outbox.h).
  absl::StatusOr<PushResult> PushDossierUpdates(
      const google::protobuf::RepeatedPtrField<
          lienthong::v1::DossierStatusUpdate>& updates) override;
  absl::StatusOr<lienthong::v1::SyncProceduresResponse> SyncProcedures(
      const lienthong::v1::SyncProceduresRequest& request) override;
  absl::StatusOr<lienthong::v1::SyncJob> GetJob(absl::string_view job_id) override;
  absl::StatusOr<lienthong::v1::ListDeadLettersResponse> ListDeadLetters(
      int page_size, absl::string_view page_token) override;
  absl::StatusOr<int> RetryDeadLetters(absl::Span<const std::string> ids) override;
  absl::StatusOr<std::vector<OutboxItem>> FinishAndClaim(
      absl::Span<const DeliveryResult> finished, int max_claims) override;
  std::optional<absl::Time> NextDue() const override;
  absl::Status ExpediteRetries(absl::Time due) override;
  absl::StatusOr<OutboxCounts> Counts() const override;
  OutboxCounts OpenCounts() const override;
  absl::StatusOr<PruneProgress> PruneDelivered(absl::Time finished_before,
                                               int max_examined) override;
  absl::Status ReplaceNationalCatalogue(
      absl::Span<const lienthong::v1::NationalProcedure> procedures,
      absl::Time pulled_at) override;
  absl::StatusOr<NationalCatalogueRows> ReadNationalCatalogue() const override;
  absl::Status CheckIntegrity() const override;
  // Always OK: the file was usable at Open(), and a write that fails says so.
  absl::Status Ready() const override { return absl::OkStatus(); }

 private:
  friend class Outbox;
  SqliteOutbox(storage::FileLock lock, std::unique_ptr<storage::Database> db,
               OutboxOptions options, OutboxCipher cipher);
  // The associated data that binds a dossier item's sealed payload to its
  // place: "<outbox id>|d|<code>|<seq>".
  std::string SealedPlace(absl::string_view code, int64_t seq) const;
  // Open()'s steps after the schema is current: the outbox id, the key
  // check, crash recovery, in one transaction; then the open items' order.
  absl::Status Init() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadOpenItems() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks the key against the record sealed when the database was made
  // (makes that record in a new one). FAILED_PRECONDITION for another key.
  absl::Status CheckKey() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // PushDossierUpdates' step for update `index` of the batch; see
  // outbox_dossiers.cc.
  struct PushState;
  absl::Status PushOne(const lienthong::v1::DossierStatusUpdate& u, int index,
                       PushState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertDossierItem(const lienthong::v1::DossierStatusUpdate& u,
                                 int64_t seq, bool registration,
                                 const std::optional<std::string>& dedup,
                                 const std::optional<std::string>& content,
                                 PushState& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What replacing a dead registration changed in its dossier's order,
  // for KeyQueues once the transaction has committed.
  struct Requeued {
    struct Moved {
      std::string map_key;
      int64_t from = 0;
      int64_t to = 0;
      int64_t id = 0;
      absl::Time due;
    };
    std::vector<std::pair<std::string, int64_t>> superseded;  // map key, seq
    std::vector<Moved> moved;
    // After the items added in the same transaction, one of which may have
    // moved since it was added.
    void ApplyTo(KeyQueues& queues) const;
  };
  // PushStore::SupersedeDeadRegistration (outbox_push.h), at `now`, noting
  // in `requeued` what it changed; see outbox_dossiers.cc.
  absl::StatusOr<int64_t> SupersedeDeadRegistration(const std::string& code,
                                                    int64_t last_seq,
                                                    absl::Time now,
                                                    Requeued& requeued)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Once dossier `code`'s registration went dead: a registration queued
  // behind it replaces it now (SupersedeDeadRegistration), and the
  // dossier's last sequence grows by the items it moved.
  absl::Status ReplaceDeadRegistration(const std::string& code, absl::Time now,
                                       Requeued& requeued)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves open dossier item `id` of `code` from sequence `from` to `to`,
  // its payload sealed and its idempotency key made for its new place.
  absl::Status MoveDossierItem(const std::string& code, int64_t id,
                               int64_t from, int64_t to, bool sealed,
                               std::string payload)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // SyncProcedures' steps (see outbox_catalogue.cc): reads the stored
  // procedures into `state` and what the portal will hold of each into
  // `current`; queues one change, publishing `payload` with content `hash`
  // or, without a hash, withdrawing payload.code().
  struct SyncState;
  absl::Status ReadProcedures(
      SyncState& state, absl::flat_hash_map<std::string, std::string>& current)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status QueueProcedureChange(const lienthong::v1::Procedure& payload,
                                    const std::optional<std::string>& hash,
                                    SyncState& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FinishAndClaim's claiming step: reads and marks each head in flight,
  // or parks it as a dead letter when it cannot be read (adding its id to
  // `unreadable`, and its dossier's code to `dead_registrations` when it
  // is a registration); see outbox_claim.cc.
  absl::Status ClaimHeads(absl::Span<const KeyQueues::Head> heads,
                          absl::Time now, std::vector<OutboxItem>& claimed,
                          std::vector<int64_t>& unreadable,
                          std::vector<std::string>& jobs,
                          std::vector<std::string>& dead_registrations)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // PruneDelivered's steps over the items and over the jobs: each looks at
  // up to `budget` rows after its place, deletes what may go, adds to
  // `progress` and returns true once it reached its end.
  absl::StatusOr<bool> PruneItems(int64_t before, int budget,
                                  PruneProgress& progress)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<bool> PruneJobs(int64_t before, int budget,
                                 PruneProgress& progress)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An item read for claiming, or why it cannot be (not readable, or its
  // seal broken: `unreadable` says which, and the item is a dead letter).
  struct ClaimedRow {
    OutboxItem item;
    std::string unreadable;
  };
  absl::StatusOr<ClaimedRow> ReadClaimed(int64_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // "<path>.lock", one process at a time; released after db_ closes.
  const storage::FileLock lock_;
  const OutboxOptions options_;
  const OutboxCipher cipher_;

  mutable absl::Mutex mu_;
  std::unique_ptr<storage::Database> db_ ABSL_GUARDED_BY(mu_);
  // The open items' order, by "<p|d><code>".
  KeyQueues queues_ ABSL_GUARDED_BY(mu_);
  // PruneDelivered's place in its pass: over the items, after this id; once
  // they are done, over the jobs, after this job id.
  int64_t prune_after_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool pruning_jobs_ ABSL_GUARDED_BY(mu_) = false;
  std::string prune_after_job_ ABSL_GUARDED_BY(mu_);

};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_SQLITE_OUTBOX_H_
