#include "gateway/sync/outbox.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/sync/procedure_plan.h"
#include "google/protobuf/util/time_util.h"

namespace lienthong::sync {
namespace {

using lienthong::v1::DossierStatus;
using lienthong::v1::DossierStatusUpdate;
using lienthong::v1::ProcedurePlan;

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS meta("
    "  name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    // One row per change for the portal; see outbox.h. Times are Unix
    // microseconds. payload: a serialized lienthong.v1.Procedure or
    // DossierStatusUpdate. content_hash: for procedures, the hash of what
    // the item makes the portal hold (NULL for a withdrawal). dedup_key: for
    // dossier updates, "MaHoSo|status|seconds.nanos".
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
    "  UNIQUE(kind, key, seq))",
    "CREATE INDEX IF NOT EXISTS items_open ON items(state, id)"
    "  WHERE state IN (0, 1, 3)",
    // A job's items, for pruning finished jobs. Made on any Open (an older
    // database gets it then); the schema version stays: an outbox without
    // it reads the same.
    "CREATE INDEX IF NOT EXISTS items_job ON items(job_id, state)"
    "  WHERE job_id IS NOT NULL",
    // The last update accepted for each dossier.
    "CREATE TABLE IF NOT EXISTS dossiers("
    "  code TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,"
    "  last_status INTEGER NOT NULL, last_time_s INTEGER NOT NULL,"
    "  last_time_ns INTEGER NOT NULL) WITHOUT ROWID",
    // For each procedure: the content hash the portal will hold once queued
    // changes are delivered (target) and the one it acknowledged (acked);
    // NULL when it holds none.
    "CREATE TABLE IF NOT EXISTS procedures("
    "  code TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,"
    "  target_hash TEXT, acked_hash TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS jobs("
    "  id TEXT PRIMARY KEY, total INTEGER NOT NULL,"
    "  delivered INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0,"
    "  started INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID",
};

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

std::string MapKey(ItemKind kind, absl::string_view code) {
  return absl::StrCat(kind == ItemKind::kProcedure ? "p" : "d", code);
}

std::string DedupKey(const DossierStatusUpdate& u) {
  return absl::StrCat(u.dossier_code(), "|", static_cast<int>(u.status()), "|",
                      u.time().seconds(), ".", u.time().nanos());
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  ts.set_seconds(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
  ts.set_nanos(static_cast<int32_t>((us - ts.seconds() * 1000000) * 1000));
  return ts;
}

}  // namespace

absl::string_view ItemKindName(ItemKind kind) {
  return kind == ItemKind::kProcedure ? "procedure" : "dossier";
}

// The connection and its prepared statements. Used under Outbox::mu_.
class Outbox::Db {
 public:
  // A prepared statement from the cache, reset and unbound when dropped.
  class Stmt {
   public:
    Stmt(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    Stmt(Stmt&& other) noexcept
        : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
    Stmt& operator=(Stmt&&) = delete;
    ~Stmt() {
      if (stmt_ != nullptr) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
      }
    }

    Stmt& Bind(int index, int64_t value) {
      sqlite3_bind_int64(stmt_, index, value);
      return *this;
    }
    Stmt& Bind(int index, absl::string_view text) {
      sqlite3_bind_text(stmt_, index, text.data(),
                        static_cast<int>(text.size()), SQLITE_TRANSIENT);
      return *this;
    }
    Stmt& BindBlob(int index, absl::string_view bytes) {
      sqlite3_bind_blob(stmt_, index, bytes.data(),
                        static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
      return *this;
    }
    Stmt& BindNull(int index) {
      sqlite3_bind_null(stmt_, index);
      return *this;
    }
    Stmt& BindOptional(int index, const std::optional<std::string>& text) {
      return text.has_value() ? Bind(index, *text) : BindNull(index);
    }

    // Steps once: true with a row, false when done; UNAVAILABLE on error.
    absl::StatusOr<bool> Step() {
      int rc = sqlite3_step(stmt_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      return db_->Error("step");
    }
    // Steps to the end, for statements without rows.
    absl::Status Run() {
      LIENTHONG_ASSIGN_OR_RETURN(bool row, Step());
      (void)row;
      return absl::OkStatus();
    }

    int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
    bool IsNull(int col) const {
      return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
    }
    std::string Text(int col) const {
      const void* data = sqlite3_column_blob(stmt_, col);
      int size = sqlite3_column_bytes(stmt_, col);
      return data == nullptr
                 ? std::string()
                 : std::string(static_cast<const char*>(data),
                               static_cast<size_t>(size));
    }
    std::optional<std::string> OptionalText(int col) const {
      if (IsNull(col)) return std::nullopt;
      return Text(col);
    }

   private:
    Db* db_;
    sqlite3_stmt* stmt_;
  };

  // BEGIN IMMEDIATE ... COMMIT; rolls back unless committed.
  class Txn {
   public:
    explicit Txn(Db* db) : db_(db) {}
    ~Txn() {
      if (open_) db_->Exec("ROLLBACK").IgnoreError();
    }
    absl::Status Begin() {
      LIENTHONG_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
      open_ = true;
      return absl::OkStatus();
    }
    absl::Status Commit() {
      absl::Status s = db_->Exec("COMMIT");
      if (s.ok()) open_ = false;
      return s;
    }

   private:
    Db* db_;
    bool open_ = false;
  };

  explicit Db(sqlite3* db) : db_(db) {}
  ~Db() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  // `sql` must be a string literal: the cache is keyed by its address.
  absl::StatusOr<Stmt> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
        return Error("prepare");
      }
      it = cache_.emplace(sql, stmt).first;
    }
    return Stmt(this, it->second);
  }

  absl::Status Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error("exec");
    }
    return absl::OkStatus();
  }

  absl::Status Error(absl::string_view what) const {
    return absl::UnavailableError(
        absl::StrCat("outbox store: ", what, ": ", sqlite3_errmsg(db_)));
  }

  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_;
  absl::flat_hash_map<const char*, sqlite3_stmt*> cache_;
};

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(
    const OutboxOptions& options) {
  const std::filesystem::path parent =
      std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) {
      return absl::UnavailableError(absl::StrCat(
          "cannot create the outbox folder '", parent.string(), "': ",
          error.message()));
    }
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
  std::unique_ptr<Outbox> outbox(
      new Outbox(std::make_unique<Db>(raw), options));
  absl::MutexLock lock(&outbox->mu_);
  LIENTHONG_RETURN_IF_ERROR(outbox->Init());
  LIENTHONG_RETURN_IF_ERROR(outbox->LoadOpenItems());
  return outbox;
}

Outbox::Outbox(std::unique_ptr<Db> db, OutboxOptions options)
    : options_(std::move(options)), db_(std::move(db)) {}

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
  Db::Txn txn(db_.get());
  LIENTHONG_RETURN_IF_ERROR(txn.Begin());
  int version = 0;
  {
    LIENTHONG_ASSIGN_OR_RETURN(Db::Stmt get, db_->Prepare("PRAGMA user_version"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
    if (row) version = static_cast<int>(get.Int(0));
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

absl::StatusOr<PushResult> Outbox::PushDossierUpdates(
    const google::protobuf::RepeatedPtrField<DossierStatusUpdate>& updates) {
  const absl::Time now = options_.clock->Now();
  for (int i = 0; i < updates.size(); ++i) {
    if (absl::Status s = ValidateDossierUpdate(updates[i], now); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "].", s.message()));
    }
  }
  struct Head {
    int64_t last_seq = 0;
    DossierStatus status = lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
    absl::Time time;
  };
  struct NewItem {
    std::string code;
    int64_t seq;
    int64_t id;
  };
  PushResult result;
  {
    absl::MutexLock lock(&mu_);
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    absl::flat_hash_map<std::string, Head> heads;
    absl::flat_hash_set<std::string> batch_keys;
    std::vector<NewItem> added;
    for (int i = 0; i < updates.size(); ++i) {
      const DossierStatusUpdate& u = updates[i];
      std::string dedup = DedupKey(u);
      if (batch_keys.contains(dedup)) {
        ++result.duplicates;
        continue;
      }
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q, db_->Prepare("SELECT 1 FROM items WHERE dedup_key=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool seen, q.Bind(1, dedup).Step());
        if (seen) {
          ++result.duplicates;
          continue;
        }
      }
      auto head_it = heads.find(u.dossier_code());
      if (head_it == heads.end()) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q,
            db_->Prepare("SELECT last_seq, last_status, last_time_s, "
                         "last_time_ns FROM dossiers WHERE code=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool row,
                                   q.Bind(1, u.dossier_code()).Step());
        Head head;
        if (row) {
          head.last_seq = q.Int(0);
          head.status = static_cast<DossierStatus>(q.Int(1));
          head.time = absl::FromUnixSeconds(q.Int(2)) + absl::Nanoseconds(q.Int(3));
        }
        head_it = heads.emplace(u.dossier_code(), head).first;
      }
      Head& head = head_it->second;
      const absl::Time time = absl::FromUnixSeconds(u.time().seconds()) +
                              absl::Nanoseconds(u.time().nanos());
      // The last accepted update again, its item possibly pruned.
      if (head.last_seq > 0 && u.status() == head.status && time == head.time) {
        ++result.duplicates;
        continue;
      }
      std::optional<DossierStatus> last;
      if (head.last_seq > 0) last = head.status;
      if (absl::Status s = CheckTransition(u.dossier_code(), last, u.status());
          !s.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("updates[", i, "]: ", s.message()));
      }
      if (last.has_value() && time < head.time) {
        return absl::FailedPreconditionError(absl::StrCat(
            "updates[", i, "]: dossier ", u.dossier_code(), ": ",
            DossierStatusName(u.status()),
            " is dated before the last accepted status ",
            DossierStatusName(*last)));
      }
      const int64_t seq = head.last_seq + 1;
      std::string idem = absl::StrCat(outbox_id_, "-d", seq, "-",
                                      u.dossier_code());
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt ins,
            db_->Prepare("INSERT INTO items(kind, key, seq, payload, "
                         "dedup_key, idempotency_key, state, "
                         "next_attempt_at, created_at) "
                         "VALUES(?, ?, ?, ?, ?, ?, 0, ?, ?)"));
        LIENTHONG_RETURN_IF_ERROR(
            ins.Bind(1, static_cast<int64_t>(ItemKind::kDossier))
                .Bind(2, u.dossier_code())
                .Bind(3, seq)
                .BindBlob(4, u.SerializeAsString())
                .Bind(5, dedup)
                .Bind(6, idem)
                .Bind(7, Micros(now))
                .Bind(8, Micros(now))
                .Run());
      }
      added.push_back({u.dossier_code(), seq, db_->LastInsertId()});
      head.last_seq = seq;
      head.status = u.status();
      head.time = time;
      batch_keys.insert(std::move(dedup));
    }
    for (const auto& [code, head] : heads) {
      if (head.last_seq == 0) continue;
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt up,
          db_->Prepare("INSERT OR REPLACE INTO dossiers(code, last_seq, "
                       "last_status, last_time_s, last_time_ns) "
                       "VALUES(?, ?, ?, ?, ?)"));
      const int64_t ns = absl::ToUnixNanos(head.time);
      LIENTHONG_RETURN_IF_ERROR(up.Bind(1, code)
                                    .Bind(2, head.last_seq)
                                    .Bind(3, static_cast<int64_t>(head.status))
                                    .Bind(4, absl::ToUnixSeconds(head.time))
                                    .Bind(5, ns - absl::ToUnixSeconds(head.time) *
                                                      1000000000)
                                    .Run());
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const NewItem& item : added) {
      std::string map_key = MapKey(ItemKind::kDossier, item.code);
      open_[map_key].items[item.seq] = OpenItem{item.id, ItemState::kPending, now};
      Reindex(map_key);
    }
    result.accepted = static_cast<int>(added.size());
  }
  if (result.accepted > 0) NotifyWork();
  return result;
}

absl::StatusOr<lienthong::v1::SyncProceduresResponse> Outbox::SyncProcedures(
    const lienthong::v1::SyncProceduresRequest& request) {
  LIENTHONG_RETURN_IF_ERROR(ValidateCatalogue(request));
  std::vector<CatalogueEntry> entries;
  entries.reserve(request.procedures_size());
  absl::flat_hash_map<std::string, int> index;
  for (int i = 0; i < request.procedures_size(); ++i) {
    const auto& p = request.procedures(i);
    entries.push_back({p.code(), ProcedureContentHash(p)});
    index[p.code()] = i;
  }
  const absl::Time now = options_.clock->Now();
  lienthong::v1::SyncProceduresResponse response;
  {
    absl::MutexLock lock(&mu_);
    struct Row {
      int64_t last_seq = 0;
      std::optional<std::string> acked;
    };
    absl::flat_hash_map<std::string, Row> rows;
    absl::flat_hash_map<std::string, std::string> current;
    {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt q, db_->Prepare("SELECT code, last_seq, target_hash, "
                                   "acked_hash FROM procedures"));
      for (;;) {
        LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        std::string code = q.Text(0);
        std::optional<std::string> target = q.OptionalText(2);
        std::optional<std::string> acked = q.OptionalText(3);
        std::optional<std::string> held =
            HasQueuedChange(code) ? target : acked;
        if (held.has_value()) current[code] = *held;
        rows[code] = Row{q.Int(1), acked};
      }
    }
    std::vector<ProcedurePlan> plan =
        ComputePlan(entries, current, request.withdraw_missing());
    for (const ProcedurePlan& step : plan) {
      switch (step.action()) {
        case ProcedurePlan::CREATE:
          response.set_creates(response.creates() + 1);
          break;
        case ProcedurePlan::UPDATE:
          response.set_updates(response.updates() + 1);
          break;
        case ProcedurePlan::WITHDRAW:
          response.set_withdrawals(response.withdrawals() + 1);
          break;
        default:
          response.set_unchanged(response.unchanged() + 1);
          break;
      }
      *response.add_plan() = step;
    }
    const int changes =
        response.creates() + response.updates() + response.withdrawals();
    if (request.dry_run() || changes == 0) return response;

    absl::BitGen gen;
    const std::string job_id = absl::StrFormat(
        "job-%s-%06x", absl::FormatTime("%Y%m%d%H%M%S", now, absl::UTCTimeZone()),
        absl::Uniform<uint32_t>(gen, 0, 1u << 24));
    struct NewItem {
      std::string code;
      int64_t seq;
      int64_t id;
    };
    std::vector<NewItem> added;
    std::vector<std::pair<std::string, int64_t>> superseded;  // map key, seq
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    for (const ProcedurePlan& step : plan) {
      if (step.action() == ProcedurePlan::UNCHANGED) continue;
      const std::string& code = step.code();
      const bool withdraw = step.action() == ProcedurePlan::WITHDRAW;
      lienthong::v1::Procedure payload;
      std::optional<std::string> hash;
      if (withdraw) {
        payload.set_code(code);
      } else {
        const int i = index.at(code);
        payload = request.procedures(i);
        hash = entries[i].hash;
      }
      // Dead letters of this procedure are replaced by this change.
      std::string map_key = MapKey(ItemKind::kProcedure, code);
      if (auto q = open_.find(map_key); q != open_.end()) {
        for (const auto& [seq, item] : q->second.items) {
          if (item.state != ItemState::kDead) continue;
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up, db_->Prepare("UPDATE items SET state=4, "
                                        "finished_at=? WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(now)).Bind(2, item.id).Run());
          superseded.emplace_back(map_key, seq);
        }
      }
      Row& row = rows[code];
      const int64_t seq = row.last_seq + 1;
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt ins,
            db_->Prepare("INSERT INTO items(kind, key, seq, withdraw, payload, "
                         "content_hash, idempotency_key, state, "
                         "next_attempt_at, job_id, created_at) "
                         "VALUES(?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"));
        LIENTHONG_RETURN_IF_ERROR(
            ins.Bind(1, static_cast<int64_t>(ItemKind::kProcedure))
                .Bind(2, code)
                .Bind(3, seq)
                .Bind(4, withdraw ? 1 : 0)
                .BindBlob(5, payload.SerializeAsString())
                .BindOptional(6, hash)
                .Bind(7, absl::StrCat(outbox_id_, "-p", seq, "-", code))
                .Bind(8, Micros(now))
                .Bind(9, job_id)
                .Bind(10, Micros(now))
                .Run());
      }
      added.push_back({code, seq, db_->LastInsertId()});
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt up,
            db_->Prepare("INSERT OR REPLACE INTO procedures(code, last_seq, "
                         "target_hash, acked_hash) VALUES(?, ?, ?, ?)"));
        LIENTHONG_RETURN_IF_ERROR(up.Bind(1, code)
                                      .Bind(2, seq)
                                      .BindOptional(3, hash)
                                      .BindOptional(4, row.acked)
                                      .Run());
      }
      row.last_seq = seq;
    }
    {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt ins,
          db_->Prepare("INSERT INTO jobs(id, total, created_at, updated_at) "
                       "VALUES(?, ?, ?, ?)"));
      LIENTHONG_RETURN_IF_ERROR(ins.Bind(1, job_id)
                                    .Bind(2, static_cast<int64_t>(changes))
                                    .Bind(3, Micros(now))
                                    .Bind(4, Micros(now))
                                    .Run());
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
    for (const auto& [map_key, seq] : superseded) {
      open_[map_key].items.erase(seq);
      Reindex(map_key);
    }
    for (const NewItem& item : added) {
      std::string map_key = MapKey(ItemKind::kProcedure, item.code);
      open_[map_key].items[item.seq] =
          OpenItem{item.id, ItemState::kPending, now};
      Reindex(map_key);
    }
    response.set_job_id(job_id);
  }
  NotifyWork();
  return response;
}

absl::StatusOr<lienthong::v1::SyncJob> Outbox::GetJob(absl::string_view job_id) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt q,
      db_->Prepare("SELECT total, delivered, dead, started, created_at, "
                   "updated_at FROM jobs WHERE id=?"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, job_id).Step());
  if (!row) {
    return absl::NotFoundError(absl::StrCat(
        "no sync job '", job_id,
        "': the id is unknown, or the job finished longer ago than "
        "portal_sync.delivered_retention_hours and was pruned"));
  }
  lienthong::v1::SyncJob job;
  job.set_job_id(std::string(job_id));
  job.set_total(static_cast<int32_t>(q.Int(0)));
  job.set_delivered(static_cast<int32_t>(q.Int(1)));
  job.set_dead_lettered(static_cast<int32_t>(q.Int(2)));
  if (job.delivered() + job.dead_lettered() >= job.total()) {
    job.set_state(job.dead_lettered() > 0
                      ? lienthong::v1::SyncJob::DONE_WITH_ERRORS
                      : lienthong::v1::SyncJob::DONE);
  } else {
    job.set_state(q.Int(3) != 0 ? lienthong::v1::SyncJob::RUNNING
                                : lienthong::v1::SyncJob::QUEUED);
  }
  *job.mutable_created() = ToProtoTime(FromMicros(q.Int(4)));
  *job.mutable_updated() = ToProtoTime(FromMicros(q.Int(5)));
  return job;
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
      db_->Prepare("SELECT id, kind, key, last_error, attempts, finished_at "
                   "FROM items WHERE state=3 AND id>? ORDER BY id LIMIT ?"));
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
    letter->set_kind(std::string(ItemKindName(static_cast<ItemKind>(q.Int(1)))));
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

absl::StatusOr<std::vector<OutboxItem>> Outbox::FinishAndClaim(
    absl::Span<const DeliveryResult> finished, int max_claims) {
  const absl::Time now = options_.clock->Now();
  std::vector<OutboxItem> claimed;
  std::vector<std::string> jobs;
  {
    absl::MutexLock lock(&mu_);
    // Which heads to claim; decided before the transaction, applied after.
    std::vector<std::pair<int64_t, std::string>> to_claim;  // id, map key
    for (auto it = ready_.begin();
         it != ready_.end() && static_cast<int>(to_claim.size()) < max_claims &&
         it->first.first <= now;
         ++it) {
      to_claim.emplace_back(it->first.second, it->second);
    }
    if (finished.empty() && to_claim.empty()) return claimed;

    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    // Adds one of a job's items to its delivered or dead count.
    auto count = [&](const std::string& job, bool delivered) -> absl::Status {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt j, db_->Prepare(delivered
                                       ? "UPDATE jobs SET delivered=delivered"
                                         "+1, updated_at=? WHERE id=?"
                                       : "UPDATE jobs SET dead=dead+1, "
                                         "updated_at=? WHERE id=?"));
      LIENTHONG_RETURN_IF_ERROR(j.Bind(1, Micros(now)).Bind(2, job).Run());
      jobs.push_back(job);
      return absl::OkStatus();
    };
    for (const DeliveryResult& r : finished) {
      std::optional<std::string> job;
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q,
            db_->Prepare("SELECT kind, key, withdraw, content_hash, job_id "
                         "FROM items WHERE id=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, r.id).Step());
        if (!row) continue;
        job = q.OptionalText(4);
        if (r.kind == DeliveryResult::Kind::kDelivered &&
            static_cast<ItemKind>(q.Int(0)) == ItemKind::kProcedure) {
          std::optional<std::string> acked;
          if (q.Int(2) == 0) acked = q.OptionalText(3);
          std::string code = q.Text(1);
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up,
              db_->Prepare("UPDATE procedures SET acked_hash=? WHERE code=?"));
          LIENTHONG_RETURN_IF_ERROR(up.BindOptional(1, acked).Bind(2, code).Run());
        }
      }
      switch (r.kind) {
        case DeliveryResult::Kind::kDelivered: {
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up,
              db_->Prepare("UPDATE items SET state=2, attempts=attempts+1, "
                           "finished_at=?, last_error=NULL WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(now)).Bind(2, r.id).Run());
          if (job.has_value()) {
            LIENTHONG_RETURN_IF_ERROR(count(*job, /*delivered=*/true));
          }
          break;
        }
        case DeliveryResult::Kind::kRetry: {
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up,
              db_->Prepare("UPDATE items SET state=0, attempts=attempts+1, "
                           "next_attempt_at=?, first_failure_at="
                           "COALESCE(first_failure_at, ?), last_error=? "
                           "WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(r.next_attempt))
                                        .Bind(2, Micros(now))
                                        .Bind(3, r.message)
                                        .Bind(4, r.id)
                                        .Run());
          break;
        }
        case DeliveryResult::Kind::kDead: {
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up,
              db_->Prepare("UPDATE items SET state=3, attempts=attempts+1, "
                           "last_error=?, refused=?, finished_at=? WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, r.message)
                                        .Bind(2, r.refused ? 1 : 0)
                                        .Bind(3, Micros(now))
                                        .Bind(4, r.id)
                                        .Run());
          if (job.has_value()) {
            LIENTHONG_RETURN_IF_ERROR(count(*job, /*delivered=*/false));
          }
          break;
        }
        case DeliveryResult::Kind::kRelease: {
          LIENTHONG_ASSIGN_OR_RETURN(
              Db::Stmt up, db_->Prepare("UPDATE items SET state=0 WHERE id=?"));
          LIENTHONG_RETURN_IF_ERROR(up.Bind(1, r.id).Run());
          break;
        }
      }
    }

    std::vector<int64_t> unreadable;
    for (const auto& [id, map_key] : to_claim) {
      OutboxItem item;
      std::string payload;
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q,
            db_->Prepare("SELECT kind, key, seq, withdraw, payload, "
                         "idempotency_key, attempts, first_failure_at, job_id "
                         "FROM items WHERE id=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, id).Step());
        if (!row) return absl::InternalError("outbox: a queued item vanished");
        item.id = id;
        item.kind = static_cast<ItemKind>(q.Int(0));
        item.key = q.Text(1);
        item.sequence = q.Int(2);
        item.withdraw = q.Int(3) != 0;
        payload = q.Text(4);
        item.idempotency_key = q.Text(5);
        item.attempts = static_cast<int>(q.Int(6));
        if (!q.IsNull(7)) item.first_failure = FromMicros(q.Int(7));
        item.job_id = q.OptionalText(8).value_or("");
      }
      const bool parsed = item.kind == ItemKind::kDossier
                              ? item.dossier.ParseFromString(payload)
                              : item.procedure.ParseFromString(payload);
      if (!parsed) {
        // Cannot happen short of disk corruption; park it where an operator
        // sees it rather than block the queue silently.
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt up, db_->Prepare("UPDATE items SET state=3, last_error="
                                      "'stored item unreadable', "
                                      "finished_at=? WHERE id=?"));
        LIENTHONG_RETURN_IF_ERROR(up.Bind(1, Micros(now)).Bind(2, id).Run());
        if (!item.job_id.empty()) {
          // A dead letter like any other: its job counts it (a retry takes
          // it off again), so the job can end.
          LIENTHONG_RETURN_IF_ERROR(count(item.job_id, /*delivered=*/false));
        }
        unreadable.push_back(id);
        continue;
      }
      if (item.kind == ItemKind::kProcedure) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt q,
            db_->Prepare("SELECT acked_hash FROM procedures WHERE code=?"));
        LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Bind(1, item.key).Step());
        item.portal_has_procedure = row && !q.IsNull(0);
      }
      {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt up, db_->Prepare("UPDATE items SET state=1 WHERE id=?"));
        LIENTHONG_RETURN_IF_ERROR(up.Bind(1, id).Run());
      }
      if (!item.job_id.empty()) {
        LIENTHONG_ASSIGN_OR_RETURN(
            Db::Stmt up, db_->Prepare("UPDATE jobs SET started=1, updated_at=? "
                                      "WHERE id=? AND started=0"));
        LIENTHONG_RETURN_IF_ERROR(
            up.Bind(1, Micros(now)).Bind(2, item.job_id).Run());
        if (db_->Changes() > 0) jobs.push_back(item.job_id);
      }
      claimed.push_back(std::move(item));
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());

    // The transaction held: bring the order in memory up to date.
    auto find = [this](int64_t id, const std::string& map_key) -> OpenItem* {
      auto q = open_.find(map_key);
      if (q == open_.end()) return nullptr;
      for (auto& [seq, item] : q->second.items) {
        if (item.id == id) return &item;
      }
      return nullptr;
    };
    for (const DeliveryResult& r : finished) {
      auto flying = in_flight_.find(r.id);
      if (flying == in_flight_.end()) continue;
      std::string map_key = std::move(flying->second);
      in_flight_.erase(flying);
      OpenItem* item = find(r.id, map_key);
      if (item == nullptr) continue;
      switch (r.kind) {
        case DeliveryResult::Kind::kDelivered: {
          auto& items = open_[map_key].items;
          for (auto it = items.begin(); it != items.end(); ++it) {
            if (it->second.id == r.id) {
              items.erase(it);
              break;
            }
          }
          break;
        }
        case DeliveryResult::Kind::kRetry:
          item->state = ItemState::kPending;
          item->due = r.next_attempt;
          break;
        case DeliveryResult::Kind::kDead:
          item->state = ItemState::kDead;
          break;
        case DeliveryResult::Kind::kRelease:
          item->state = ItemState::kPending;
          break;
      }
      Reindex(map_key);
    }
    for (const auto& [id, map_key] : to_claim) {
      OpenItem* item = find(id, map_key);
      if (item == nullptr) continue;
      if (std::find(unreadable.begin(), unreadable.end(), id) !=
          unreadable.end()) {
        item->state = ItemState::kDead;
      } else {
        item->state = ItemState::kInFlight;
        in_flight_[id] = map_key;
      }
      Reindex(map_key);
    }
  }
  std::sort(jobs.begin(), jobs.end());
  jobs.erase(std::unique(jobs.begin(), jobs.end()), jobs.end());
  NotifyJobs(jobs);
  return claimed;
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

absl::StatusOr<PruneProgress> Outbox::PruneDelivered(absl::Time finished_before,
                                                     int max_examined) {
  PruneProgress progress;
  const int64_t before = Micros(finished_before);
  const int budget = std::max(max_examined, 1);
  absl::MutexLock lock(&mu_);
  if (!pruning_jobs_) {
    LIENTHONG_ASSIGN_OR_RETURN(bool items_done,
                               PruneItems(before, budget, progress));
    if (!items_done) return progress;
    pruning_jobs_ = true;
    prune_after_job_.clear();
  }
  // What is left of this step's rows goes to the jobs.
  const int left = budget - static_cast<int>(progress.examined);
  if (left < 1) return progress;
  absl::StatusOr<bool> jobs_done = PruneJobs(before, left, progress);
  if (!jobs_done.ok()) {
    // Items deleted in this step are reported; the jobs are tried again.
    if (progress.deleted > 0) return progress;
    return jobs_done.status();
  }
  if (*jobs_done) {
    pruning_jobs_ = false;
    progress.pass_done = true;
  }
  return progress;
}

absl::StatusOr<bool> Outbox::PruneItems(int64_t before, int budget,
                                        PruneProgress& progress) {
  struct Candidate {
    int64_t id;
    ItemKind kind;
    std::string key;
    int64_t seq;
  };
  std::vector<Candidate> candidates;
  int64_t last_id = prune_after_id_;
  bool done = false;
  {
    // Every state, so that one step reads at most `budget` rows however
    // many of them are kept.
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt q,
        db_->Prepare("SELECT id, kind, key, seq, state, created_at, "
                     "finished_at FROM items WHERE id>? ORDER BY id LIMIT ?"));
    q.Bind(1, prune_after_id_).Bind(2, static_cast<int64_t>(budget));
    for (;;) {
      LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) {
        // Fewer rows than asked for: the end of the table.
        done = progress.examined < budget;
        break;
      }
      // Ids grow with creation, and an item finishes after it is created:
      // from here on nothing finished before `finished_before` (a clock
      // stepped back may hide a few until a later pass).
      if (q.Int(5) >= before) {
        done = true;
        break;
      }
      ++progress.examined;
      last_id = q.Int(0);
      if (static_cast<ItemState>(q.Int(4)) != ItemState::kDelivered ||
          q.IsNull(6) || q.Int(6) >= before) {
        continue;
      }
      candidates.push_back(
          {last_id, static_cast<ItemKind>(q.Int(1)), q.Text(2), q.Int(3)});
    }
  }
  // Which candidates may go; see outbox.h.
  std::vector<int64_t> doomed;
  for (const Candidate& c : candidates) {
    if (c.kind == ItemKind::kProcedure) {
      doomed.push_back(c.id);
      continue;
    }
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt head, db_->Prepare("SELECT last_seq, last_time_s, "
                                    "last_time_ns FROM dossiers WHERE code=?"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, head.Bind(1, c.key).Step());
    if (!row) continue;  // cannot happen: every queued update has a head
    if (c.seq == head.Int(0)) {
      // The last accepted update: its status and time are in `dossiers`,
      // which answers a repeat of it.
      doomed.push_back(c.id);
      continue;
    }
    const absl::Time head_time =
        absl::FromUnixSeconds(head.Int(1)) + absl::Nanoseconds(head.Int(2));
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt q, db_->Prepare("SELECT payload FROM items WHERE id=?"));
    LIENTHONG_ASSIGN_OR_RETURN(bool found, q.Bind(1, c.id).Step());
    DossierStatusUpdate update;
    if (!found || !update.ParseFromString(q.Text(0))) continue;  // keep
    const absl::Time time = absl::FromUnixSeconds(update.time().seconds()) +
                            absl::Nanoseconds(update.time().nanos());
    // Earlier than the last accepted update: a repeat is refused (the time
    // check, if not the transition rules), never queued. At the same time:
    // kept, see outbox.h.
    if (time < head_time) doomed.push_back(c.id);
  }
  if (!doomed.empty()) {
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    for (int64_t id : doomed) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt del,
          db_->Prepare("DELETE FROM items WHERE id=? AND state=2"));
      LIENTHONG_RETURN_IF_ERROR(del.Bind(1, id).Run());
      progress.deleted += db_->Changes();
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
  }
  prune_after_id_ = done ? 0 : last_id;
  return done;
}

absl::StatusOr<bool> Outbox::PruneJobs(int64_t before, int budget,
                                       PruneProgress& progress) {
  // Finished: nothing of the job left to deliver nor to retry, its counts
  // agree, and its last change is old enough. The DELETE checks it again.
  std::vector<std::string> doomed;
  std::string last_id = prune_after_job_;
  bool done = false;
  {
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt q,
        db_->Prepare("SELECT id, updated_at<? AND delivered+dead>=total AND "
                     "NOT EXISTS(SELECT 1 FROM items WHERE "
                     "items.job_id=jobs.id AND items.state IN (0, 1, 3)) "
                     "FROM jobs WHERE id>? ORDER BY id LIMIT ?"));
    q.Bind(1, before)
        .Bind(2, prune_after_job_)
        .Bind(3, static_cast<int64_t>(budget));
    int read = 0;
    for (;;) {
      LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ++read;
      last_id = q.Text(0);
      if (q.Int(1) != 0) doomed.push_back(last_id);
    }
    // Fewer rows than asked for: the end of the table.
    done = read < budget;
    progress.jobs_examined += read;
  }
  int64_t deleted = 0;
  if (!doomed.empty()) {
    Db::Txn txn(db_.get());
    LIENTHONG_RETURN_IF_ERROR(txn.Begin());
    for (const std::string& id : doomed) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Db::Stmt del,
          db_->Prepare("DELETE FROM jobs WHERE id=? AND updated_at<? AND "
                       "delivered+dead>=total AND NOT EXISTS(SELECT 1 FROM "
                       "items WHERE items.job_id=jobs.id AND "
                       "items.state IN (0, 1, 3))"));
      LIENTHONG_RETURN_IF_ERROR(del.Bind(1, id).Bind(2, before).Run());
      deleted += db_->Changes();
    }
    LIENTHONG_RETURN_IF_ERROR(txn.Commit());
  }
  progress.jobs_deleted += deleted;
  prune_after_job_ = done ? std::string() : std::move(last_id);
  return done;
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
