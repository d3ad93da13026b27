#include "gateway/sync/outbox.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/database.h"
#include "gateway/sync/outbox_db.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::MapKey;
using outbox_internal::Micros;
using outbox_internal::ToProtoTime;

namespace {

// 2: dossier registrations, sealed payloads (see outbox.h).
constexpr int kSchemaVersion = 2;

// What the key check record holds, sealed (see Outbox::CheckKey).
constexpr char kKeyCheck[] = "lienthong outbox key check";

constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS meta("
    "  name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    // One row per change for the portal; see outbox.h. Times are Unix
    // microseconds. payload: a serialized lienthong.v1.Procedure, or a
    // DossierStatusUpdate sealed by OutboxCipher (sealed=1), emptied once
    // delivered. content_hash: for procedures, the hash of what the item
    // makes the portal hold (NULL for a withdrawal). dedup_key: for a
    // dossier's progress, "MaHoSo|status|seconds.nanos". registration: the
    // item registers its dossier. sent: it has been claimed (an attempt may
    // have reached the portal). item_time: a dossier update's time.
    "CREATE TABLE IF NOT EXISTS items("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  withdraw INTEGER NOT NULL DEFAULT 0,"
    "  payload BLOB NOT NULL,"
    "  content_hash TEXT,"
    "  dedup_key TEXT UNIQUE,"
    "  idempotency_key TEXT NOT NULL,"
    "  key_generation INTEGER NOT NULL DEFAULT 0,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  first_failure_at INTEGER,"
    "  last_error TEXT,"
    "  refused INTEGER NOT NULL DEFAULT 0,"
    "  job_id TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  finished_at INTEGER,"
    "  registration INTEGER NOT NULL DEFAULT 0,"
    "  sealed INTEGER NOT NULL DEFAULT 0,"
    "  sent INTEGER NOT NULL DEFAULT 0,"
    "  item_time INTEGER,"
    "  UNIQUE(kind, key, seq))",
    "CREATE INDEX IF NOT EXISTS items_open ON items(state, id)"
    "  WHERE state IN (0, 1, 3)",
    // A job's items, for pruning finished jobs. Made on any Open (an older
    // database gets it then); the schema version stays: an outbox without
    // it reads the same.
    "CREATE INDEX IF NOT EXISTS items_job ON items(job_id, state)"
    "  WHERE job_id IS NOT NULL",
    // The last update accepted for each dossier, and the hash of its last
    // registration queued (NULL: never registered through this outbox).
    "CREATE TABLE IF NOT EXISTS dossiers("
    "  code TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,"
    "  last_status INTEGER NOT NULL, last_time_s INTEGER NOT NULL,"
    "  last_time_ns INTEGER NOT NULL, registration_hash TEXT) WITHOUT ROWID",
    // For each procedure: the content hash the portal will hold once queued
    // changes are delivered (target) and the one it acknowledged (acked);
    // NULL when it holds none.
    "CREATE TABLE IF NOT EXISTS procedures("
    "  code TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,"
    "  target_hash TEXT, acked_hash TEXT) WITHOUT ROWID",
    // The national procedure database as last read: a serialized
    // lienthong.v1.NationalProcedure per code (meta 'catalogue_pulled_at').
    "CREATE TABLE IF NOT EXISTS national_procedures("
    "  code TEXT PRIMARY KEY, detail BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS jobs("
    "  id TEXT PRIMARY KEY, total INTEGER NOT NULL,"
    "  delivered INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0,"
    "  started INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID",
};

}  // namespace

absl::string_view ItemKindName(ItemKind kind) {
  return kind == ItemKind::kProcedure ? "procedure" : "dossier";
}

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(
    const OutboxOptions& options) {
  LIENTHONG_ASSIGN_OR_RETURN(OutboxCipher cipher,
                             OutboxCipher::Create(options.key));
  if (absl::Status made = storage::MakeFolders(
          std::filesystem::path(options.path).parent_path().string());
      !made.ok()) {
    return absl::UnavailableError(
        absl::StrCat("outbox '", options.path, "': ", made.message()));
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(
      options.path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string why = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return absl::UnavailableError(absl::StrCat(
        "cannot open the outbox database '", options.path, "': ", why));
  }
  sqlite3_busy_timeout(raw, 5000);
  OutboxOptions kept = options;
  kept.key.clear();  // the cipher holds it
  std::unique_ptr<Outbox> outbox(
      new Outbox(std::make_unique<Db>(raw), kept, std::move(cipher)));
  absl::MutexLock lock(&outbox->mu_);
  LIENTHONG_RETURN_IF_ERROR(outbox->Init());
  LIENTHONG_RETURN_IF_ERROR(outbox->LoadOpenItems());
  return outbox;
}

Outbox::Outbox(std::unique_ptr<Db> db, OutboxOptions options,
               OutboxCipher cipher)
    : options_(std::move(options)),
      cipher_(std::move(cipher)),
      db_(std::move(db)) {}

std::string Outbox::SealedPlace(absl::string_view code, int64_t seq) const {
  return absl::StrCat(outbox_id_, "|d|", code, "|", seq);
}

absl::Status Outbox::CheckKey() {
  const std::string place = absl::StrCat(outbox_id_, "|key-check");
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt get, db_->Prepare("SELECT value FROM meta WHERE name='key_check'"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
  if (row) {
    // Stored as hex: meta.value is TEXT.
    std::string sealed = absl::HexStringToBytes(get.Text(0));
    if (!cipher_.Open(sealed, place).ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "outbox database '", options_.path,
          "' was sealed under another key than portal_sync.outbox_key_file "
          "holds: give the key it was made with"));
    }
    return absl::OkStatus();
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::string sealed, cipher_.Seal(kKeyCheck, place));
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt put,
      db_->Prepare("INSERT INTO meta(name, value) VALUES('key_check', ?)"));
  return put.Bind(1, absl::BytesToHexString(sealed)).Run();
}

Outbox::~Outbox() = default;

absl::Status Outbox::Init() {
  {
    LIENTHONG_ASSIGN_OR_RETURN(Db::Stmt wal,
                               db_->Prepare("PRAGMA journal_mode=WAL"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.Text(0) != "wal") {
      return absl::UnavailableError(
          "outbox store: cannot switch to write-ahead logging");
    }
  }
  LIENTHONG_RETURN_IF_ERROR(db_->Exec("PRAGMA synchronous=FULL"));
  LIENTHONG_RETURN_IF_ERROR(db_->Exec("PRAGMA foreign_keys=ON"));
  // Freed content (a delivered item's wiped payload) is overwritten with
  // zeros, not left in free pages.
  LIENTHONG_RETURN_IF_ERROR(db_->Exec("PRAGMA secure_delete=ON"));
  Db::Txn txn(db_.get());
  LIENTHONG_RETURN_IF_ERROR(txn.Begin());
  int version = 0;
  {
    LIENTHONG_ASSIGN_OR_RETURN(Db::Stmt get, db_->Prepare("PRAGMA user_version"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
    if (row) version = static_cast<int>(get.Int(0));
  }
  if (version == 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "outbox database '", options_.path,
        "' has schema version 1, from before dossier registrations and "
        "sealed personal data; let the gateway that wrote it deliver its "
        "queue, then move the file away (this gateway reads version ",
        kSchemaVersion, ")"));
  }
  if (version != 0 && version != kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "outbox database '", options_.path, "' has schema version ", version,
        "; this gateway reads version ", kSchemaVersion));
  }
  for (const char* sql : kSchema) LIENTHONG_RETURN_IF_ERROR(db_->Exec(sql));
  if (version == 0) {
    LIENTHONG_RETURN_IF_ERROR(db_->Exec(
        absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str()));
  }
  {
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt get,
        db_->Prepare("SELECT value FROM meta WHERE name='outbox_id'"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
    if (row) outbox_id_ = get.Text(0);
  }
  if (outbox_id_.empty()) {
    absl::BitGen gen;
    outbox_id_ = absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt put,
        db_->Prepare("INSERT INTO meta(name, value) VALUES('outbox_id', ?)"));
    LIENTHONG_RETURN_IF_ERROR(put.Bind(1, outbox_id_).Run());
  }
  LIENTHONG_RETURN_IF_ERROR(CheckKey());
  // Crash recovery: whatever was in flight is unanswered; send it again (the
  // idempotency key keeps the portal from applying it twice).
  LIENTHONG_RETURN_IF_ERROR(
      db_->Exec("UPDATE items SET state=0 WHERE state=1"));
  return txn.Commit();
}

absl::Status Outbox::LoadOpenItems() {
  open_.clear();
  ready_.clear();
  in_flight_.clear();
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt q,
      db_->Prepare("SELECT id, kind, key, seq, state, next_attempt_at "
                   "FROM items WHERE state IN (0, 1, 3)"));
  absl::flat_hash_set<std::string> keys;
  for (;;) {
    LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::string map_key =
        MapKey(static_cast<ItemKind>(q.Int(1)), q.Text(2));
    OpenItem item;
    item.id = q.Int(0);
    item.state = static_cast<ItemState>(q.Int(4));
    item.due = FromMicros(q.Int(5));
    open_[map_key].items[q.Int(3)] = item;
    keys.insert(std::move(map_key));
  }
  for (const std::string& key : keys) Reindex(key);
  return absl::OkStatus();
}

void Outbox::Reindex(const std::string& map_key) {
  auto it = open_.find(map_key);
  if (it == open_.end()) return;
  KeyQueue& queue = it->second;
  if (queue.ready_at.has_value()) {
    ready_.erase(*queue.ready_at);
    queue.ready_at.reset();
  }
  if (queue.items.empty()) {
    open_.erase(it);
    return;
  }
  const OpenItem& head = queue.items.begin()->second;
  if (head.state == ItemState::kPending) {
    std::pair<absl::Time, int64_t> at{head.due, head.id};
    ready_[at] = map_key;
    queue.ready_at = at;
  }
}

bool Outbox::HasQueuedChange(const std::string& code) const {
  auto it = open_.find(MapKey(ItemKind::kProcedure, code));
  if (it == open_.end()) return false;
  for (const auto& [seq, item] : it->second.items) {
    if (item.state == ItemState::kPending ||
        item.state == ItemState::kInFlight) {
      return true;
    }
  }
  return false;
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

std::optional<absl::Time> Outbox::NextDue() const {
  absl::MutexLock lock(&mu_);
  if (ready_.empty()) return std::nullopt;
  return ready_.begin()->first.first;
}

absl::Status Outbox::ExpediteRetries() {
  const absl::Time now = options_.clock->Now();
  {
    absl::MutexLock lock(&mu_);
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt up, db_->Prepare("UPDATE items SET next_attempt_at=? "
                                  "WHERE state=0 AND next_attempt_at>?"));
    LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(now)).Bind(2, Micros(now)).Run());
    std::vector<std::string> later;
    for (auto it = ready_.upper_bound({now, std::numeric_limits<int64_t>::max()}); it != ready_.end(); ++it) {
      later.push_back(it->second);
    }
    for (const std::string& map_key : later) {
      KeyQueue& queue = open_[map_key];
      for (auto& [seq, item] : queue.items) {
        if (item.state == ItemState::kPending && item.due > now) item.due = now;
      }
      Reindex(map_key);
    }
  }
  NotifyWork();
  return absl::OkStatus();
}

absl::StatusOr<OutboxCounts> Outbox::Counts() const {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt q,
      db_->Prepare("SELECT state, COUNT(*) FROM items GROUP BY state"));
  OutboxCounts counts;
  for (;;) {
    LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    switch (static_cast<ItemState>(q.Int(0))) {
      case ItemState::kPending:
        counts.pending = q.Int(1);
        break;
      case ItemState::kInFlight:
        counts.in_flight = q.Int(1);
        break;
      case ItemState::kDelivered:
        counts.delivered = q.Int(1);
        break;
      case ItemState::kDead:
        counts.dead = q.Int(1);
        break;
      case ItemState::kSuperseded:
        break;
    }
  }
  return counts;
}

OutboxCounts Outbox::OpenCounts() const {
  absl::MutexLock lock(&mu_);
  OutboxCounts counts;
  for (const auto& [map_key, queue] : open_) {
    for (const auto& [seq, item] : queue.items) {
      switch (item.state) {
        case ItemState::kPending:
          ++counts.pending;
          break;
        case ItemState::kInFlight:
          ++counts.in_flight;
          break;
        case ItemState::kDead:
          ++counts.dead;
          break;
        case ItemState::kDelivered:
        case ItemState::kSuperseded:
          break;
      }
    }
  }
  return counts;
}

absl::StatusOr<lienthong::v1::ListDeadLettersResponse> Outbox::ListDeadLetters(
    int page_size, absl::string_view page_token) {
  if (page_size < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  if (page_size == 0) page_size = 100;
  page_size = std::min(page_size, 1000);
  int64_t after = 0;
  if (!page_token.empty() && (!absl::SimpleAtoi(page_token, &after) || after < 0)) {
    return absl::InvalidArgumentError("page_token is not one this gateway gave");
  }
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt q,
      db_->Prepare("SELECT id, kind, key, last_error, attempts, finished_at, "
                   "registration FROM items WHERE state=3 AND id>? "
                   "ORDER BY id LIMIT ?"));
  q.Bind(1, after).Bind(2, static_cast<int64_t>(page_size) + 1);
  lienthong::v1::ListDeadLettersResponse response;
  for (;;) {
    LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (response.dead_letters_size() == page_size) {
      response.set_next_page_token(
          absl::StrCat(response.dead_letters(page_size - 1).id()));
      break;
    }
    lienthong::v1::DeadLetter* letter = response.add_dead_letters();
    letter->set_id(absl::StrCat(q.Int(0)));
    letter->set_kind(q.Int(6) != 0 ? "registration"
                                   : std::string(ItemKindName(
                                         static_cast<ItemKind>(q.Int(1)))));
    letter->set_code(q.Text(2));
    letter->set_reason(q.Text(3));
    letter->set_attempts(static_cast<int32_t>(q.Int(4)));
    if (!q.IsNull(5)) *letter->mutable_failed_at() = ToProtoTime(FromMicros(q.Int(5)));
  }
  return response;
}

absl::StatusOr<int> Outbox::RetryDeadLetters(absl::Span<const std::string> ids) {
  std::vector<int64_t> wanted;
  for (const std::string& id : ids) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(id, &n) || n <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("dead letter id '", id, "' is not a number"));
    }
    wanted.push_back(n);
  }
  const absl::Time now = options_.clock->Now();
  std::vector<std::string> jobs;
  int requeued = 0;
  {
    absl::MutexLock lock(&mu_);
    struct Dead {
      int64_t id;
      ItemKind kind;
      std::string key;
      int64_t seq;
      int64_t generation;
      bool refused;
      std::optional<std::string> job;
    };
    std::vector<Dead> dead;
    auto read = [&dead](Db::Stmt& q) -> absl::Status {
      for (;;) {
        LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) return absl::OkStatus();
        dead.push_back({q.Int(0), static_cast<ItemKind>(q.Int(1)), q.Text(2),
                        q.Int(3), q.Int(4), q.Int(5) != 0, q.OptionalText(6)});
      }
    };
    if (wanted.empty()) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt q,
          db_->Prepare("SELECT id, kind, key, seq, key_generation, refused, "
                       "job_id FROM items WHERE state=3 ORDER BY id"));
      LIENTHONG_RETURN_IF_ERROR(read(q));
    } else {
      for (int64_t id : wanted) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q,
            db_->Prepare("SELECT id, kind, key, seq, key_generation, refused, "
                         "job_id FROM items WHERE state=3 AND id=?"));
        q.Bind(1, id);
        LIENTHONG_RETURN_IF_ERROR(read(q));
      }
    }
    if (dead.empty()) return 0;
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    for (const Dead& d : dead) {
      // The portal answers a known key with its first answer, so an item it
      // refused needs a new key; one that only failed keeps its key, in case
      // an unanswered attempt was applied.
      const int64_t generation = d.generation + (d.refused ? 1 : 0);
      std::string key = absl::StrCat(
          outbox_id_, "-", d.kind == ItemKind::kProcedure ? "p" : "d", d.seq,
          "-", d.key);
      if (generation > 0) absl::StrAppend(&key, "-r", generation);
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt up,
          db_->Prepare("UPDATE items SET state=0, next_attempt_at=?, "
                       "first_failure_at=NULL, refused=0, key_generation=?, "
                       "idempotency_key=?, finished_at=NULL WHERE id=?"));
      LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(now))
                                    .Bind(2, generation)
                                    .Bind(3, key)
                                    .Bind(4, d.id)
                                    .Run());
      if (d.job.has_value()) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt job,
            db_->Prepare("UPDATE jobs SET dead=dead-1, updated_at=? WHERE id=?"));
        LIENTHONG_RETURN_IF_ERROR(job.Bind(1, Micros(now)).Bind(2, *d.job).Run());
        jobs.push_back(*d.job);
      }
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const Dead& d : dead) {
      std::string map_key = MapKey(d.kind, d.key);
      OpenItem& item = open_[map_key].items[d.seq];
      item.id = d.id;
      item.state = ItemState::kPending;
      item.due = now;
      Reindex(map_key);
    }
    requeued = static_cast<int>(dead.size());
  }
  std::sort(jobs.begin(), jobs.end());
  jobs.erase(std::unique(jobs.begin(), jobs.end()), jobs.end());
  NotifyWork();
  NotifyJobs(jobs);
  return requeued;
}

absl::Status Outbox::CheckIntegrity() const {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(Db::Stmt q,
                             db_->Prepare("PRAGMA integrity_check"));
  std::string report;
  for (;;) {
    LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (!report.empty()) report += "; ";
    report += q.Text(0);
  }
  if (report == "ok") return absl::OkStatus();
  return absl::InternalError(absl::StrCat("outbox integrity check: ", report));
}

}  // namespace lienthong::sync
