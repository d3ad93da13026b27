// Outbox: opening (the schema and its upgrades, the key check, crash
// recovery), listeners, counts. The operations are in outbox_*.cc.
#include "gateway/sync/sqlite_outbox.h"

#include <iterator>
#include <string>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/database.h"
#include "gateway/storage/schema.h"
#include "gateway/sync/outbox_internal.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::MapKey;
using outbox_internal::Micros;

namespace {

using storage::Statement;
using storage::Transaction;

constexpr char kLabel[] = "outbox store";

// The partial index items_open below spells the open states as numbers, as
// an index's WHERE must; they are the enum's.
static_assert(static_cast<int>(ItemState::kPending) == 0 &&
                  static_cast<int>(ItemState::kInFlight) == 1 &&
                  static_cast<int>(ItemState::kDead) == 3,
              "items_open's WHERE names the open states by number");

// Version 2 as released: dossier registrations and sealed payloads.
//
// items: one row per change for the portal; see outbox.h. Times are Unix
// microseconds. payload: a serialized lienthong.v1.Procedure, or a
// DossierStatusUpdate sealed by OutboxCipher (sealed=1), emptied once
// delivered. content_hash: for procedures, the hash of what the item makes
// the portal hold (NULL for a withdrawal). dedup_key: for a dossier's
// progress, "MaHoSo|status|seconds.nanos". registration: the item registers
// its dossier. sent: it has been claimed (an attempt may have reached the
// portal). item_time: a dossier update's time.
//
// dossiers: the last update accepted for each dossier, and the hash of its
// last registration queued (NULL: never registered through this outbox).
// procedures: for each procedure, the content hash the portal will hold once
// queued changes are delivered (target) and the one it acknowledged
// (acked); NULL when it holds none. national_procedures: the national
// procedure database as last read, a serialized
// lienthong.v1.NationalProcedure per code (meta 'catalogue_pulled_at').
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind INTEGER NOT NULL,
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  withdraw INTEGER NOT NULL DEFAULT 0,
  payload BLOB NOT NULL,
  content_hash TEXT,
  dedup_key TEXT UNIQUE,
  idempotency_key TEXT NOT NULL,
  key_generation INTEGER NOT NULL DEFAULT 0,
  state INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  first_failure_at INTEGER,
  last_error TEXT,
  refused INTEGER NOT NULL DEFAULT 0,
  job_id TEXT,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  registration INTEGER NOT NULL DEFAULT 0,
  sealed INTEGER NOT NULL DEFAULT 0,
  sent INTEGER NOT NULL DEFAULT 0,
  item_time INTEGER,
  UNIQUE(kind, key, seq));
CREATE INDEX IF NOT EXISTS items_open ON items(state, id)
  WHERE state IN (0, 1, 3);
CREATE TABLE IF NOT EXISTS dossiers(
  code TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,
  last_status INTEGER NOT NULL, last_time_s INTEGER NOT NULL,
  last_time_ns INTEGER NOT NULL, registration_hash TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS procedures(
  code TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,
  target_hash TEXT, acked_hash TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS national_procedures(
  code TEXT PRIMARY KEY, detail BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs(
  id TEXT PRIMARY KEY, total INTEGER NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0,
  started INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// A job's items, for pruning finished jobs. Gateways that wrote version 2
// made it on every open without changing the version, so a version-2 file
// may have it already.
constexpr char kAddJobIndex[] =
    "CREATE INDEX IF NOT EXISTS items_job ON items(job_id, state) "
    "WHERE job_id IS NOT NULL";

// The national catalogue's copy. Gateways of version 2 added it on every
// open without changing the version, but files written before it existed
// were stamped version 2 and then 3 without it; made again, as a no-op
// where it is.
constexpr char kAddNationalProcedures[] =
    "CREATE TABLE IF NOT EXISTS national_procedures("
    "code TEXT PRIMARY KEY, detail BLOB NOT NULL) WITHOUT ROWID";

// 1: the outbox before dossier registrations and sealed personal data,
// which this gateway does not read: a file at version 1 is refused before
// upgrading (RefuseVersion1), and a new file has nothing to do at this step.
// 2: as above. 3: items_job. 4: national_procedures where it is missing.
const storage::SchemaUpgrade kUpgrades[] = {
    {1, "", nullptr},
    {2, kSchemaV2, nullptr},
    {3, kAddJobIndex, nullptr},
    {4, kAddNationalProcedures, nullptr},
};

absl::Status RefuseVersion1(storage::Database& db) {
  LIENTHONG_ASSIGN_OR_RETURN(int version, storage::SchemaVersion(db));
  if (version != 1) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "outbox database '", db.path(),
      "' has schema version 1, from before dossier registrations and sealed "
      "personal data; let the gateway that wrote it deliver its queue, then "
      "move the file away (this gateway reads version 2 and later)"));
}

storage::OpenOptions StoreOptions() {
  storage::OpenOptions options;
  options.label = kLabel;
  options.create_folders = true;
  options.wal = true;
  // An answered push survives a power cut.
  options.synchronous = storage::Synchronous::kFull;
  options.busy_timeout = absl::Seconds(5);
  options.foreign_keys = true;
  // Freed content (a delivered item's wiped payload) is overwritten with
  // zeros, not left in free pages.
  options.secure_delete = true;
  return options;
}

// The open states as SQL, from the enum: a literal list, which lets SQLite
// read them through the partial index items_open (a bound list would scan
// every item, delivered ones included).
std::string OpenStatesSql() {
  return absl::StrCat("(", static_cast<int>(ItemState::kPending), ", ",
                      static_cast<int>(ItemState::kInFlight), ", ",
                      static_cast<int>(ItemState::kDead), ")");
}

}  // namespace

absl::string_view ItemKindName(ItemKind kind) {
  return kind == ItemKind::kProcedure ? "procedure" : "dossier";
}

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(
    const OutboxOptions& options) {
  LIENTHONG_ASSIGN_OR_RETURN(OutboxCipher cipher,
                             OutboxCipher::Create(options.key));
  LIENTHONG_ASSIGN_OR_RETURN(
      std::unique_ptr<storage::Database> db,
      storage::Database::Open(options.path, StoreOptions()));
  // Crash recovery below turns in-flight items back to pending, and the
  // order of open items is kept in memory: a second process on the same
  // file would re-send the first one's flights and break the order.
  LIENTHONG_ASSIGN_OR_RETURN(
      storage::FileLock file_lock,
      storage::FileLock::Take(
          absl::StrCat(options.path, ".lock"),
          absl::StrCat("outbox database '", options.path,
                       "' is in use by another process (a running gateway?)")));
  LIENTHONG_RETURN_IF_ERROR(RefuseVersion1(*db));
  LIENTHONG_RETURN_IF_ERROR(storage::UpgradeSchema(*db, kUpgrades).status());
  OutboxOptions kept = options;
  kept.key.clear();  // the cipher holds it
  std::unique_ptr<SqliteOutbox> outbox(new SqliteOutbox(
      std::move(file_lock), std::move(db), kept, std::move(cipher)));
  absl::MutexLock lock(&outbox->mu_);
  LIENTHONG_RETURN_IF_ERROR(outbox->Init());
  LIENTHONG_RETURN_IF_ERROR(outbox->LoadOpenItems());
  return std::unique_ptr<Outbox>(std::move(outbox));
}

absl::Status Outbox::CheckFile(const std::string& path) {
  const storage::OpenOptions options = StoreOptions();
  LIENTHONG_RETURN_IF_ERROR(storage::CheckOpenable(path, options));
  storage::OpenOptions read_only = options;
  read_only.read_only = true;
  absl::StatusOr<std::unique_ptr<storage::Database>> existing =
      storage::Database::Open(path, read_only);
  if (absl::IsNotFound(existing.status())) return absl::OkStatus();
  if (!existing.ok()) return existing.status();
  LIENTHONG_RETURN_IF_ERROR(RefuseVersion1(**existing));
  return storage::CheckSchemaNotNewer(**existing, std::size(kUpgrades));
}

SqliteOutbox::SqliteOutbox(storage::FileLock lock,
                           std::unique_ptr<storage::Database> db,
                           OutboxOptions options, OutboxCipher cipher)
    : lock_(std::move(lock)),
      options_(std::move(options)),
      cipher_(std::move(cipher)),
      db_(std::move(db)) {}

SqliteOutbox::~SqliteOutbox() = default;

std::string SqliteOutbox::SealedPlace(absl::string_view code, int64_t seq) const {
  return absl::StrCat(outbox_id_, "|d|", code, "|", seq);
}

absl::Status SqliteOutbox::CheckKey() {
  const std::string place = absl::StrCat(outbox_id_, "|key-check");
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement get,
      db_->Cached("SELECT value FROM meta WHERE name='key_check'"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
  if (row) {
    // Stored as hex: meta.value is TEXT.
    std::string sealed = absl::HexStringToBytes(get.Text(0));
    if (!cipher_.KeyCheckOpens(sealed, place)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "outbox database '", options_.path,
          "' was sealed under another key than portal_sync.outbox_key_file "
          "holds: give the key it was made with"));
    }
    return absl::OkStatus();
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::string sealed, cipher_.SealKeyCheck(place));
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement put,
      db_->Cached("INSERT INTO meta(name, value) VALUES('key_check', ?)"));
  return put.Bind(1, absl::BytesToHexString(sealed)).Run();
}

absl::Status SqliteOutbox::Init() {
  LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
  {
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement get,
        db_->Cached("SELECT value FROM meta WHERE name='outbox_id'"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
    if (row) outbox_id_ = get.Text(0);
  }
  if (outbox_id_.empty()) {
    absl::BitGen gen;
    outbox_id_ = absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement put,
        db_->Cached("INSERT INTO meta(name, value) VALUES('outbox_id', ?)"));
    LIENTHONG_RETURN_IF_ERROR(put.Bind(1, outbox_id_).Run());
  }
  LIENTHONG_RETURN_IF_ERROR(CheckKey());
  // Crash recovery: whatever was in flight is unanswered; send it again (the
  // idempotency key keeps the portal from applying it twice).
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement recover, db_->Cached("UPDATE items SET state=? WHERE state=?"));
  LIENTHONG_RETURN_IF_ERROR(
      recover.Bind(1, ItemState::kPending).Bind(2, ItemState::kInFlight).Run());
  return txn.Commit();
}

absl::Status SqliteOutbox::LoadOpenItems() {
  queues_.Clear();
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db_->Prepare(absl::StrCat("SELECT id, kind, key, seq, state, "
                                "next_attempt_at FROM items WHERE state IN ",
                                OpenStatesSql())));
  absl::Status bad;
  LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
    absl::StatusOr<ItemKind> kind = q.Enum(1, kItemKinds);
    absl::StatusOr<ItemState> state = q.Enum(4, kItemStates);
    if (!kind.ok() || !state.ok()) {
      bad = kind.ok() ? state.status() : kind.status();
      return false;
    }
    KeyQueues::Item item;
    item.id = q.Int64(0);
    item.state = *state;
    item.due = FromMicros(q.Int64(5));
    queues_.Put(MapKey(*kind, q.Text(2)), q.Int64(3), item);
    return true;
  }));
  return bad;
}

void Outbox::SetWorkListener(WorkListener listener) {
  absl::MutexLock lock(&listener_mu_);
  work_listener_ = std::move(listener);
}

void Outbox::SetJobListener(JobListener listener) {
  absl::MutexLock lock(&listener_mu_);
  job_listener_ = std::move(listener);
}

void Outbox::NotifyWork() {
  WorkListener listener;
  {
    absl::MutexLock lock(&listener_mu_);
    listener = work_listener_;
  }
  if (listener) listener();
}

void Outbox::NotifyJobs(const std::vector<std::string>& job_ids) {
  if (job_ids.empty()) return;
  JobListener listener;
  {
    absl::MutexLock lock(&listener_mu_);
    listener = job_listener_;
  }
  if (listener) listener(job_ids);
}

std::optional<absl::Time> SqliteOutbox::NextDue() const {
  absl::MutexLock lock(&mu_);
  return queues_.NextDue();
}

absl::Status SqliteOutbox::ExpediteRetries(absl::Time due) {
  {
    absl::MutexLock lock(&mu_);
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement up, db_->Cached("UPDATE items SET next_attempt_at=? "
                                  "WHERE state=? AND next_attempt_at>?"));
    LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(due))
                                  .Bind(2, ItemState::kPending)
                                  .Bind(3, Micros(due))
                                  .Run());
    queues_.Expedite(due);
  }
  NotifyWork();
  return absl::OkStatus();
}

absl::StatusOr<OutboxCounts> SqliteOutbox::Counts() const {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db_->Cached("SELECT state, COUNT(*) FROM items GROUP BY state"));
  OutboxCounts counts;
  absl::Status bad;
  LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
    absl::StatusOr<ItemState> state = q.Enum(0, kItemStates);
    if (!state.ok()) {
      bad = state.status();
      return false;
    }
    switch (*state) {
      case ItemState::kPending:
        counts.pending = q.Int64(1);
        break;
      case ItemState::kInFlight:
        counts.in_flight = q.Int64(1);
        break;
      case ItemState::kDelivered:
        counts.delivered = q.Int64(1);
        break;
      case ItemState::kDead:
        counts.dead = q.Int64(1);
        break;
      case ItemState::kSuperseded:
        break;
    }
    return true;
  }));
  LIENTHONG_RETURN_IF_ERROR(bad);
  return counts;
}

OutboxCounts SqliteOutbox::OpenCounts() const {
  absl::MutexLock lock(&mu_);
  const KeyQueues::Counts open = queues_.OpenCounts();
  OutboxCounts counts;
  counts.pending = open.pending;
  counts.in_flight = open.in_flight;
  counts.dead = open.dead;
  return counts;
}

absl::Status SqliteOutbox::CheckIntegrity() const {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(Statement q,
                             db_->Prepare("PRAGMA integrity_check"));
  std::string report;
  LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
    if (!report.empty()) report += "; ";
    report += q.Text(0);
    return true;
  }));
  if (report == "ok") return absl::OkStatus();
  return absl::InternalError(absl::StrCat("outbox integrity check: ", report));
}

}  // namespace lienthong::sync
