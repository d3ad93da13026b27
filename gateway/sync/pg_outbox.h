// PgOutbox: the Outbox (outbox.h) on PostgreSQL (gateway/storage/pg),
// shared by every replica of the gateway: any replica's delivery worker
// delivers any item. Where it differs from the SQLite outbox:
//
// Order and claiming live in the database, not in memory. An item is
// claimable when it is the lowest open (pending, in flight, dead) sequence
// of its key and either pending and due, or in flight under a lease that
// has expired (its replica died or lost the database for longer than the
// lease) and not held by this process's worker. Claiming takes rows with
// `FOR UPDATE SKIP LOCKED` and leases them to this replica
// (lease_owner = "<replica>/<random>", lease_until = the database's clock
// + lease), so two replicas never hold one item, and at most one item per
// key is ever in flight. An item claimed again after its lease expired is
// marked maybe_sent, so the adapter looks before sending it again. A
// replica renews the leases of the items it has handed to its worker and
// not yet heard back about every third of the lease, from a thread of its
// own while it lives. A lease of its own on any other item (a claim whose
// commit's answer was lost: the worker never saw the item) is left to
// expire, and the item is claimed again, by this replica too.
//
// Finishing counts only under the lease: a result is recorded when the
// item is still in flight and leased to this replica; a replica that lost
// its lease (another has claimed the item since) drops its result (logged)
// rather than overwrite the other's.
//
// Sequences: a push locks its dossiers' rows (INSERT ... ON CONFLICT DO
// NOTHING, then SELECT ... FOR UPDATE) for its transaction, so pushes of
// one dossier through several replicas take its sequences one after the
// other; a deadlock between two batches is retried (pg::Pool::Transact).
// Recording a dead registration locks its dossier's row the same way: a
// registration queued behind it replaces it then, moving the dossier's
// items (outbox.h, Items).
//
// Work from other replicas: the delivery worker is woken by this replica's
// pushes at once and looks for other replicas' work every poll interval
// (NextDue).
//
// Crash recovery: nothing at Open(); another replica's items in flight are
// left to their leases.
//
// Catalogue: a SyncProcedures call takes a transaction-scoped advisory
// lock, so syncs through several replicas plan one after the other against
// what the portal will hold. Jobs count their items as on SQLite; the job
// listener hears of this replica's changes at once and of other replicas'
// within a second (the renewal thread looks for jobs changed since).
//
// Thread-safety: every method is thread-safe (the pool serialises each
// connection; the database serialises what must be). Listeners run after
// the commit.
#ifndef LIENTHONG_GATEWAY_SYNC_PG_OUTBOX_H_
#define LIENTHONG_GATEWAY_SYNC_PG_OUTBOX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"
#include "gateway/storage/pg/pg_pool.h"
#include "gateway/sync/outbox.h"
#include "gateway/sync/outbox_cipher.h"

namespace lienthong::sync {

struct PgOutboxOptions {
  storage::pg::PoolOptions pool;
  // The gateway's pool when other stores share it; null: Open makes one
  // from `pool`.
  std::shared_ptr<storage::pg::Pool> shared_pool;
  // The AES-256 key (32 bytes) that seals dossier items; every replica
  // must have the same. Required.
  std::string key;
  resilience::Clock* clock = resilience::RealClock();
  // How long a claim is held without renewal; see the top.
  absl::Duration lease = absl::Seconds(30);
  // How often an idle worker looks for other replicas' work.
  absl::Duration poll_interval = absl::Milliseconds(250);
  // Names this replica in lease_owner (the node name); a random part is
  // added per process.
  std::string replica = "gateway";
};

class PgOutbox final : public Outbox {
 public:
  // The outbox schema's component name in lienthong_schema.
  static constexpr char kComponent[] = "outbox";

  // Connects, checks that the schema is this gateway's
  // (FAILED_PRECONDITION saying to run --migrate, or that the database is
  // newer), reads or makes the outbox id and checks the key against the
  // record sealed when the database was made (FAILED_PRECONDITION for
  // another key), and starts the lease renewal. INVALID_ARGUMENT for a key
  // not 32 bytes or a DSN libpq cannot parse. A database that cannot be
  // reached does not fail Open: the outbox is then NOT CONNECTED (Ready()
  // and every call fail UNAVAILABLE saying why) and the renewal thread
  // tries again every min(lease / 3, 1 s); once reachable, the same checks
  // run, and a schema or key they refuse keeps it not connected with that
  // reason (never used). REQUIRES: `options.clock` outlives it.
  static absl::StatusOr<std::unique_ptr<PgOutbox>> Open(
      const PgOutboxOptions& options);

  // Applies the outbox schema's forward migrations (pg_schema.h) and
  // returns the version reached. The errors of pg::Migrate.
  static absl::StatusOr<int> Migrate(const storage::pg::PoolOptions& pool);

  // Stops the renewal; leases still held expire.
  ~PgOutbox() override;
  PgOutbox(const PgOutbox&) = delete;
  PgOutbox& operator=(const PgOutbox&) = delete;

  // The Outbox (outbox.h), with the differences at the top.
  absl::StatusOr<PushResult> PushDossierUpdates(
      const google::protobuf::RepeatedPtrField<
          lienthong::v1::DossierStatusUpdate>& updates) override;
  absl::StatusOr<lienthong::v1::SyncProceduresResponse> SyncProcedures(
      const lienthong::v1::SyncProceduresRequest& request) override;
  absl::StatusOr<lienthong::v1::SyncJob> GetJob(
      absl::string_view job_id) override;
  absl::StatusOr<lienthong::v1::ListDeadLettersResponse> ListDeadLetters(
      int page_size, absl::string_view page_token) override;
  absl::StatusOr<int> RetryDeadLetters(
      absl::Span<const std::string> ids) override;
  absl::StatusOr<std::vector<OutboxItem>> FinishAndClaim(
      absl::Span<const DeliveryResult> finished, int max_claims) override;
  // The next time to look for work: now after a push, a retry made due or
  // a full claim; a poll interval after a claim that found less than asked.
  std::optional<absl::Time> NextDue() const override;
  absl::Status ExpediteRetries(absl::Time due) override;
  absl::StatusOr<OutboxCounts> Counts() const override;
  // As last counted by the renewal thread (at most a second old).
  OutboxCounts OpenCounts() const override;
  absl::StatusOr<PruneProgress> PruneDelivered(absl::Time finished_before,
                                               int max_examined) override;
  absl::Status ReplaceNationalCatalogue(
      absl::Span<const lienthong::v1::NationalProcedure> procedures,
      absl::Time pulled_at) override;
  absl::StatusOr<NationalCatalogueRows> ReadNationalCatalogue() const override;
  // Checks that every open item's sequence is unique per key and that no
  // item is in flight without a lease. INTERNAL with what it found.
  absl::Status CheckIntegrity() const override;
  // UNAVAILABLE "outbox database unreachable: ..." while the pool cannot
  // reach it, "outbox database not usable: ..." while connected but
  // refused (schema, key).
  absl::Status Ready() const override;
  // True once the schema and key checks passed. Thread-safe.
  bool connected() const { return connected_.load(); }

  // This replica's lease_owner, for logs and tests.
  const std::string& lease_owner() const { return owner_; }
  // Results dropped because their lease had passed to another replica.
  int64_t lost_leases() const { return lost_leases_.load(); }

 private:
  PgOutbox(std::shared_ptr<storage::pg::Pool> pool, PgOutboxOptions options,
           OutboxCipher cipher);
  // Open()'s steps: the outbox id and the key check.
  absl::Status Init();
  // The schema check and Init; sets connected_ when they pass, else keeps
  // why not (logged when it changes). Returns their status.
  absl::Status Connect();
  // OK when connected, else UNAVAILABLE with why not.
  absl::Status Usable() const;
  // The renewal thread: renews this replica's leases and recounts open
  // items, every min(lease / 3, 1 s), until stopped.
  void Renew();
  std::string SealedPlace(absl::string_view code, int64_t seq) const;
  // FinishAndClaim's steps, inside its transaction (pg_outbox_claim.cc).
  // Both add the jobs they changed to `jobs`; RecordResult adds to `lost`
  // the items whose lease had passed to another replica (counted and
  // logged once the transaction has committed, not on each try of it).
  absl::Status RecordResult(storage::pg::Session& session,
                            const DeliveryResult& r, absl::Time now,
                            std::vector<std::string>& jobs,
                            std::vector<int64_t>& lost);
  // `held` is held_ as a PostgreSQL array ("{1,2}").
  absl::Status Claim(storage::pg::Session& session, int max_claims,
                     absl::Time now, const std::string& held,
                     std::vector<OutboxItem>& claimed,
                     std::vector<std::string>& jobs);
  // Claim's step for an item it cannot read: a dead letter, with `why`.
  absl::Status ParkUnreadable(storage::pg::Session& session,
                              const OutboxItem& item, bool dossier_registration,
                              const std::string& why, absl::Time now,
                              std::vector<std::string>& jobs);
  // Once dossier `code`'s registration went dead: a registration queued
  // behind it replaces it now (PushStore::SupersedeDeadRegistration), the
  // dossier's row locked and its last sequence grown as a push's are.
  absl::Status ReplaceDeadRegistration(storage::pg::Session& session,
                                       const std::string& code, absl::Time now);
  // held_ as a PostgreSQL array literal.
  std::string HeldArray() const;
  // Reads a claimed row's payload into `item`; returns why it cannot be
  // read (empty when it can).
  std::string OpenPayload(const storage::pg::Result& r, int row,
                          OutboxItem& item) const;
  void PollAt(absl::Time when) const;
  // Calls the job listener with the jobs changed (by any replica) since the
  // last call; from the renewal thread.
  void NotifyJobChanges();

  const PgOutboxOptions options_;
  const OutboxCipher cipher_;
  const std::shared_ptr<storage::pg::Pool> pool_;
  const std::string owner_;
  std::atomic<int64_t> lost_leases_{0};
  // Set once outbox_id_ is written (after which it is only read).
  std::atomic<bool> connected_{false};

  mutable absl::Mutex mu_;
  mutable absl::Time next_poll_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  OutboxCounts open_counts_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Why the outbox is not connected (OK once it is).
  absl::Status not_connected_ ABSL_GUARDED_BY(mu_);
  // The items FinishAndClaim handed out whose result it has not recorded:
  // the leases the renewal thread renews and that a claim never takes.
  absl::flat_hash_set<int64_t> held_ ABSL_GUARDED_BY(mu_);
  // NotifyJobChanges' place (Unix microseconds of updated_at); renewal
  // thread only.
  int64_t jobs_seen_until_ = 0;
  // The updated_at last told per job within the overlap.
  absl::flat_hash_map<std::string, int64_t> jobs_told_;
  std::thread renewer_;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_PG_OUTBOX_H_
