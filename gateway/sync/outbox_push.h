// The rules of Outbox::PushDossierUpdates (outbox.h: Registrations,
// Idempotency, Ordering of statuses), apart from the store: each outbox
// implementation gives them its reads and inserts through PushStore, inside
// its own transaction. Internal to the outbox implementations.
#ifndef LIENTHONG_GATEWAY_SYNC_OUTBOX_PUSH_H_
#define LIENTHONG_GATEWAY_SYNC_OUTBOX_PUSH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/sync/outbox.h"
#include "gateway/sync/outbox_cipher.h"
#include "gateway/sync/procedure_plan.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync::outbox_internal {

// A dossier as a push leaves it (a row of the store's dossiers table).
struct DossierHead {
  int64_t last_seq = 0;
  lienthong::v1::DossierStatus status =
      lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
  absl::Time time;
  std::optional<std::string> registration;  // digest of the last queued
};

// What a push needs of its store, within the push's transaction.
class PushStore {
 public:
  virtual ~PushStore() = default;
  // The dossier's row as stored (a default DossierHead when none). A store
  // shared by replicas locks the row until the transaction ends.
  virtual absl::StatusOr<DossierHead> ReadHead(const std::string& code) = 0;
  // The update `dedup` names, when an item already holds it: the digest of
  // its content (StepDigest) as stored with it, nullopt for items queued
  // before digests were kept.
  struct QueuedUpdate {
    std::optional<std::string> content;
  };
  virtual absl::StatusOr<std::optional<QueuedUpdate>> Queued(
      const std::string& dedup) = 0;
  // Queues `u` (sealed by the store) as item `seq` of its dossier; a
  // progress step with its `dedup` key and `content` digest, kept beside it.
  virtual absl::Status Insert(const lienthong::v1::DossierStatusUpdate& u,
                              int64_t seq, bool registration,
                              const std::optional<std::string>& dedup,
                              const std::optional<std::string>& content) = 0;
  // Replaces the dead registration blocking dossier `code` with the latest
  // registration queued behind it, whichever of the two came last: a push
  // calls it once it inserted a registration, the store once a
  // registration went dead. When the dossier's first open item is a dead
  // registration and a registration is queued behind it, marks the dead
  // one superseded (its sealed payload wiped), and so every registration
  // between them; and moves the other items queued behind the dead one but
  // the latest registration, in their order, to the sequences after
  // `last_seq` (sealed and keyed anew for their place), so that the latest
  // registration goes first and they follow it. None of them was ever
  // sent: only a key's first open item is claimed. Returns how many it
  // moved, by which the dossier's last sequence grows; 0, changing
  // nothing, when the first open item is no dead registration or no
  // registration is queued behind it. REQUIRES: `last_seq` is the
  // dossier's last sequence, its row locked by ReadHead() where a store
  // locks it.
  virtual absl::StatusOr<int64_t> SupersedeDeadRegistration(
      const std::string& code, int64_t last_seq) = 0;
};

// One push's work so far: the dossiers as it leaves them (to be written
// back by the store), the updates it accepted, its counts.
struct PushPlan {
  absl::flat_hash_map<std::string, DossierHead> heads;
  // The push's own steps so far: dedup key -> content digest.
  absl::flat_hash_map<std::string, std::string> batch_keys;
  PushResult result;
};

// A dossier update's time.
absl::Time TimeOf(const lienthong::v1::DossierStatusUpdate& u);

// Checks every update of a push (ValidateDossierUpdate) before any store
// access. INVALID_ARGUMENT "updates[<i>].<field>: ...".
absl::Status ValidatePush(
    const google::protobuf::RepeatedPtrField<
        lienthong::v1::DossierStatusUpdate>& updates,
    absl::Time now);

// Applies update `index` of a push to `plan` through `store`: its
// registration queued when it differs from the last one, the update queued
// unless it is a repeat, both at the dossier's next sequences. The errors
// of Outbox::PushDossierUpdates, and the store's.
absl::Status PushOneUpdate(const lienthong::v1::DossierStatusUpdate& u,
                           int index, const OutboxCipher& cipher,
                           PushStore& store, PushPlan& plan);

// ---- Catalogue and jobs, shared by the stores ------------------------------

// Adds `step` to the response's plan and counts.
void CountPlanStep(const lienthong::v1::ProcedurePlan& step,
                   lienthong::v1::SyncProceduresResponse& response);

// A change a catalogue plan queues: withdraw payload.code() (no hash), or
// publish `payload` with content `hash`.
struct PlannedChange {
  lienthong::v1::Procedure payload;
  std::optional<std::string> hash;
};

// The changes of `plan` in its order, UNCHANGED steps left out, with their
// content from `request` and hashes from `entries` (entries[i] is the
// catalogue entry of request.procedures(i)). REQUIRES: `plan` was computed
// from `entries`.
std::vector<PlannedChange> PlannedChanges(
    const std::vector<lienthong::v1::ProcedurePlan>& plan,
    const lienthong::v1::SyncProceduresRequest& request,
    const std::vector<CatalogueEntry>& entries);

// A new job id, "job-<yyyymmddhhmmss>-<6 hex>".
std::string NewJobId(absl::Time now);

// What GetJob says of an unknown job, after "no sync job '<id>".
inline constexpr char kNoSuchJob[] =
    "': the id is unknown, or the job finished longer ago than "
    "portal_sync.delivered_retention_hours and was pruned";

// A job as GetJob returns it, from its stored counts.
lienthong::v1::SyncJob JobOf(absl::string_view job_id, int total,
                             int delivered, int dead, bool started,
                             absl::Time created, absl::Time updated);

}  // namespace lienthong::sync::outbox_internal

#endif  // LIENTHONG_GATEWAY_SYNC_OUTBOX_PUSH_H_
