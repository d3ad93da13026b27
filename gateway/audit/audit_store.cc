#include "gateway/audit/audit_store.h"

#include <sqlite3.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

// 2 added the officer_* columns; a version-1 file gets them on open.
constexpr int kSchemaVersion = 2;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS records (
  sequence INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  node TEXT NOT NULL,
  caller TEXT NOT NULL,
  caller_cert_sha256 TEXT NOT NULL,
  method TEXT NOT NULL,
  purpose TEXT NOT NULL,
  dossier_id TEXT NOT NULL,
  citizen_hmac TEXT NOT NULL,
  citizen_masked TEXT NOT NULL,
  national_system TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  latency_us INTEGER NOT NULL,
  request_sha256 TEXT NOT NULL,
  response_sha256 TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  officer_hmac TEXT NOT NULL DEFAULT '',
  officer_masked TEXT NOT NULL DEFAULT '',
  officer_unit_code TEXT NOT NULL DEFAULT '',
  officer_account_hmac TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS records_time ON records(time_ns);
CREATE INDEX IF NOT EXISTS records_caller ON records(caller);
CREATE INDEX IF NOT EXISTS records_citizen ON records(citizen_hmac);
CREATE INDEX IF NOT EXISTS records_dossier ON records(dossier_id);
CREATE TABLE IF NOT EXISTS checkpoints (
  sequence INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  time_ns INTEGER NOT NULL,
  node TEXT NOT NULL,
  signature TEXT NOT NULL,
  public_key_sha256 TEXT NOT NULL);
)sql";

constexpr char kRecordColumns[] =
    "sequence, time_ns, node, caller, caller_cert_sha256, method, purpose, "
    "dossier_id, citizen_hmac, citizen_masked, national_system, attempts, "
    "outcome, latency_us, request_sha256, response_sha256, prev_hash, hash, "
    "officer_hmac, officer_masked, officer_unit_code, officer_account_hmac";
// Brings a version-1 records table to version 2.
constexpr char kAddOfficerColumns[] =
    "ALTER TABLE records ADD COLUMN officer_hmac TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_masked TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_unit_code TEXT NOT NULL "
    "DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_account_hmac TEXT NOT NULL "
    "DEFAULT '';";
constexpr char kCheckpointColumns[] =
    "sequence, hash, time_ns, node, signature, public_key_sha256";

absl::Status Error(sqlite3* db, absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("audit store: ", what, ": ", sqlite3_errmsg(db)));
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

absl::StatusOr<Stmt> Prepare(sqlite3* db, absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt,
                         nullptr) != SQLITE_OK) {
    return Error(db, "prepare");
  }
  return Stmt(stmt);
}

absl::Status Exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error(db, sql);
  }
  return absl::OkStatus();
}

int64_t ToNanos(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000000 + time.nanos();
}

void FromNanos(int64_t ns, google::protobuf::Timestamp* time) {
  int64_t seconds = ns / 1000000000;
  int64_t nanos = ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  time->set_seconds(seconds);
  time->set_nanos(static_cast<int32_t>(nanos));
}

void BindText(sqlite3_stmt* stmt, int index, const std::string& text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_STATIC);
}

std::string ColumnText(sqlite3_stmt* stmt, int index) {
  const unsigned char* text = sqlite3_column_text(stmt, index);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, index)));
}

// Reads a row selected with kRecordColumns.
void ReadRecord(sqlite3_stmt* stmt, AuditRecord* r) {
  r->set_sequence(static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)));
  FromNanos(sqlite3_column_int64(stmt, 1), r->mutable_time());
  r->set_node(ColumnText(stmt, 2));
  r->set_caller(ColumnText(stmt, 3));
  r->set_caller_cert_sha256(ColumnText(stmt, 4));
  r->set_method(ColumnText(stmt, 5));
  r->set_purpose(ColumnText(stmt, 6));
  r->set_dossier_id(ColumnText(stmt, 7));
  r->set_citizen_hmac(ColumnText(stmt, 8));
  r->set_citizen_masked(ColumnText(stmt, 9));
  r->set_national_system(ColumnText(stmt, 10));
  r->set_attempts(sqlite3_column_int(stmt, 11));
  r->set_outcome(ColumnText(stmt, 12));
  r->set_latency_us(sqlite3_column_int64(stmt, 13));
  r->set_request_sha256(ColumnText(stmt, 14));
  r->set_response_sha256(ColumnText(stmt, 15));
  r->set_prev_hash(ColumnText(stmt, 16));
  r->set_hash(ColumnText(stmt, 17));
  r->set_officer_hmac(ColumnText(stmt, 18));
  r->set_officer_masked(ColumnText(stmt, 19));
  r->set_officer_unit_code(ColumnText(stmt, 20));
  r->set_officer_account_hmac(ColumnText(stmt, 21));
}

// Reads a row selected with kCheckpointColumns.
void ReadCheckpoint(sqlite3_stmt* stmt, AuditCheckpoint* c) {
  c->set_sequence(static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)));
  c->set_hash(ColumnText(stmt, 1));
  FromNanos(sqlite3_column_int64(stmt, 2), c->mutable_time());
  c->set_node(ColumnText(stmt, 3));
  c->set_signature(ColumnText(stmt, 4));
  c->set_public_key_sha256(ColumnText(stmt, 5));
}

// Steps `stmt` through its rows, reading each with `read` into `row` and
// passing it to `visit` until that returns false.
template <typename Row, typename Read, typename Visit>
absl::Status StepRows(sqlite3* db, sqlite3_stmt* stmt, Read read, Visit visit) {
  Row row;
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return absl::OkStatus();
    if (rc != SQLITE_ROW) return Error(db, "read");
    read(stmt, &row);
    if (!visit(row)) return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteAuditStore>> SqliteAuditStore::Open(
    const std::string& path, Options options) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(absl::StrCat(
        "audit store: cannot open ", path, ": ",
        raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(
      db.get(),
      static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  LIENTHONG_ASSIGN_OR_RETURN(Stmt wal,
                             Prepare(db.get(), "PRAGMA journal_mode=WAL"));
  if (sqlite3_step(wal.get()) != SQLITE_ROW ||
      ColumnText(wal.get(), 0) != "wal") {
    return Error(db.get(), "cannot switch to WAL");
  }
  wal.reset();
  LIENTHONG_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous=FULL"));
  // The writer's page cache: 16 MiB instead of SQLite's 2 MiB, so that the
  // index pages appends touch stay in memory rather than being read back
  // from the file on every commit. Not larger: each commit also walks the
  // cache's hash table (64 MiB measured slower through the gateway).
  LIENTHONG_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA cache_size=-16384"));
  // Fold the write-ahead log into the database every 16,384 pages (64 MiB)
  // instead of 1,000: pages that many commits touch (the tree's right edge
  // and inner pages) are then copied back once, not at every checkpoint.
  LIENTHONG_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA wal_autocheckpoint=16384"));
  LIENTHONG_RETURN_IF_ERROR(Exec(db.get(), "BEGIN IMMEDIATE"));
  absl::Status schema = Exec(db.get(), kSchema);
  int version = 0;
  if (schema.ok()) {
    LIENTHONG_ASSIGN_OR_RETURN(Stmt get,
                               Prepare(db.get(), "PRAGMA user_version"));
    if (sqlite3_step(get.get()) == SQLITE_ROW) {
      version = sqlite3_column_int(get.get(), 0);
    }
  }
  if (schema.ok() && version == 1) {
    schema = Exec(db.get(), kAddOfficerColumns);
    version = 0;  // now as new: stamp the current version below
  }
  if (schema.ok() && version == 0) {
    schema = Exec(db.get(),
                  absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str());
  } else if (schema.ok() && version != kSchemaVersion) {
    schema = absl::UnavailableError(
        absl::StrCat("audit store: ", path, " has schema version ", version,
                     ", expected ", kSchemaVersion));
  }
  if (!schema.ok()) {
    Exec(db.get(), "ROLLBACK").IgnoreError();
    return schema;
  }
  LIENTHONG_RETURN_IF_ERROR(Exec(db.get(), "COMMIT"));

  LIENTHONG_ASSIGN_OR_RETURN(
      Stmt insert_record,
      Prepare(db.get(),
              absl::StrCat("INSERT INTO records (", kRecordColumns,
                           ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")));
  LIENTHONG_ASSIGN_OR_RETURN(
      Stmt insert_checkpoint,
      Prepare(db.get(),
              absl::StrCat("INSERT INTO checkpoints (", kCheckpointColumns,
                           ") VALUES (?,?,?,?,?,?)")));
  return std::unique_ptr<SqliteAuditStore>(
      new SqliteAuditStore(path, options, db.release(), insert_record.release(),
                           insert_checkpoint.release()));
}

SqliteAuditStore::SqliteAuditStore(std::string path, Options options,
                                   sqlite3* db, sqlite3_stmt* insert_record,
                                   sqlite3_stmt* insert_checkpoint)
    : path_(std::move(path)),
      options_(options),
      db_(db),
      insert_record_(insert_record),
      insert_checkpoint_(insert_checkpoint) {}

SqliteAuditStore::~SqliteAuditStore() {
  absl::MutexLock lock(&mu_);
  sqlite3_finalize(insert_record_);
  sqlite3_finalize(insert_checkpoint_);
  sqlite3_close(db_);
}

absl::StatusOr<sqlite3*> SqliteAuditStore::OpenReader() const {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = absl::UnavailableError(
        absl::StrCat("audit store: cannot open ", path_, " for reading: ",
                     db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(
      db, static_cast<int>(absl::ToInt64Milliseconds(options_.busy_timeout)));
  return db;
}

absl::Status SqliteAuditStore::Write(
    absl::Span<const AuditRecord> records,
    absl::Span<const AuditCheckpoint> checkpoints) {
  absl::MutexLock lock(&mu_);
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    return Error(db_, "begin");
  }
  absl::Status status = WriteLocked(records, checkpoints);
  if (status.ok() &&
      sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    status = Error(db_, "commit");
  }
  if (!status.ok() && !sqlite3_get_autocommit(db_)) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  return status;
}

absl::Status SqliteAuditStore::WriteLocked(
    absl::Span<const AuditRecord> records,
    absl::Span<const AuditCheckpoint> checkpoints) {
  for (const AuditRecord& r : records) {
    sqlite3_stmt* s = insert_record_;
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(r.sequence()));
    sqlite3_bind_int64(s, 2, ToNanos(r.time()));
    BindText(s, 3, r.node());
    BindText(s, 4, r.caller());
    BindText(s, 5, r.caller_cert_sha256());
    BindText(s, 6, r.method());
    BindText(s, 7, r.purpose());
    BindText(s, 8, r.dossier_id());
    BindText(s, 9, r.citizen_hmac());
    BindText(s, 10, r.citizen_masked());
    BindText(s, 11, r.national_system());
    sqlite3_bind_int(s, 12, r.attempts());
    BindText(s, 13, r.outcome());
    sqlite3_bind_int64(s, 14, r.latency_us());
    BindText(s, 15, r.request_sha256());
    BindText(s, 16, r.response_sha256());
    BindText(s, 17, r.prev_hash());
    BindText(s, 18, r.hash());
    BindText(s, 19, r.officer_hmac());
    BindText(s, 20, r.officer_masked());
    BindText(s, 21, r.officer_unit_code());
    BindText(s, 22, r.officer_account_hmac());
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return Error(db_, "insert record");
  }
  for (const AuditCheckpoint& c : checkpoints) {
    sqlite3_stmt* s = insert_checkpoint_;
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(c.sequence()));
    BindText(s, 2, c.hash());
    sqlite3_bind_int64(s, 3, ToNanos(c.time()));
    BindText(s, 4, c.node());
    BindText(s, 5, c.signature());
    BindText(s, 6, c.public_key_sha256());
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return Error(db_, "insert checkpoint");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<AuditRecord>> SqliteAuditStore::LastRecord()
    const {
  std::optional<AuditRecord> last;
  LIENTHONG_ASSIGN_OR_RETURN(sqlite3 * raw, OpenReader());
  Db db(raw);
  LIENTHONG_ASSIGN_OR_RETURN(
      Stmt stmt, Prepare(raw, absl::StrCat("SELECT ", kRecordColumns,
                                           " FROM records ORDER BY sequence "
                                           "DESC LIMIT 1")));
  LIENTHONG_RETURN_IF_ERROR(StepRows<AuditRecord>(raw, stmt.get(), ReadRecord,
                                                  [&](const AuditRecord& r) {
                                                    last = r;
                                                    return false;
                                                  }));
  return last;
}

absl::StatusOr<std::optional<AuditCheckpoint>>
SqliteAuditStore::LastCheckpoint() const {
  std::optional<AuditCheckpoint> last;
  LIENTHONG_ASSIGN_OR_RETURN(sqlite3 * raw, OpenReader());
  Db db(raw);
  LIENTHONG_ASSIGN_OR_RETURN(
      Stmt stmt,
      Prepare(raw, absl::StrCat("SELECT ", kCheckpointColumns,
                                " FROM checkpoints ORDER BY sequence DESC "
                                "LIMIT 1")));
  LIENTHONG_RETURN_IF_ERROR(StepRows<AuditCheckpoint>(
      raw, stmt.get(), ReadCheckpoint, [&](const AuditCheckpoint& c) {
        last = c;
        return false;
      }));
  return last;
}

absl::Status SqliteAuditStore::ScanRecords(
    uint64_t from_sequence,
    absl::FunctionRef<bool(const AuditRecord&)> visit) const {
  LIENTHONG_ASSIGN_OR_RETURN(sqlite3 * raw, OpenReader());
  Db db(raw);
  LIENTHONG_ASSIGN_OR_RETURN(
      Stmt stmt, Prepare(raw, absl::StrCat("SELECT ", kRecordColumns,
                                           " FROM records WHERE sequence >= ? "
                                           "ORDER BY sequence")));
  sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(from_sequence));
  return StepRows<AuditRecord>(raw, stmt.get(), ReadRecord, visit);
}

absl::Status SqliteAuditStore::ScanCheckpoints(
    uint64_t from_sequence,
    absl::FunctionRef<bool(const AuditCheckpoint&)> visit) const {
  LIENTHONG_ASSIGN_OR_RETURN(sqlite3 * raw, OpenReader());
  Db db(raw);
  LIENTHONG_ASSIGN_OR_RETURN(
      Stmt stmt,
      Prepare(raw, absl::StrCat("SELECT ", kCheckpointColumns,
                                " FROM checkpoints WHERE sequence >= ? "
                                "ORDER BY sequence")));
  sqlite3_bind_int64(stmt.get(), 1, static_cast<int64_t>(from_sequence));
  return StepRows<AuditCheckpoint>(raw, stmt.get(), ReadCheckpoint, visit);
}

absl::StatusOr<std::vector<AuditRecord>> SqliteAuditStore::Query(
    const QueryFilter& filter) const {
  if (filter.limit < 1) {
    return absl::InvalidArgumentError("query limit must be at least 1");
  }
  // Only the filters given enter the SQL, so the planner can use an index.
  std::string sql = absl::StrCat("SELECT ", kRecordColumns,
                                 " FROM records WHERE sequence > ?");
  std::vector<std::pair<int, const std::string*>> texts;
  int next = 2;
  const bool has_start = filter.start != absl::InfinitePast();
  const bool has_end = filter.end != absl::InfiniteFuture();
  if (has_start) absl::StrAppend(&sql, " AND time_ns >= ?", next++);
  if (has_end) absl::StrAppend(&sql, " AND time_ns < ?", next++);
  const std::pair<const char*, const std::string*> exact[] = {
      {"caller", &filter.caller},
      {"method", &filter.method},
      {"citizen_hmac", &filter.citizen_hmac},
      {"dossier_id", &filter.dossier_id},
      {"outcome", &filter.outcome},
  };
  for (const auto& [column, value] : exact) {
    if (value->empty()) continue;
    absl::StrAppend(&sql, " AND ", column, " = ?", next);
    texts.emplace_back(next++, value);
  }
  absl::StrAppend(&sql, " ORDER BY sequence LIMIT ", filter.limit);

  LIENTHONG_ASSIGN_OR_RETURN(sqlite3 * raw, OpenReader());
  Db db(raw);
  LIENTHONG_ASSIGN_OR_RETURN(Stmt stmt, Prepare(raw, sql));
  sqlite3_bind_int64(stmt.get(), 1,
                     static_cast<int64_t>(filter.after_sequence));
  int index = 2;
  // absl::ToUnixNanos saturates, so far-off bounds stay correct.
  if (has_start) {
    sqlite3_bind_int64(stmt.get(), index++, absl::ToUnixNanos(filter.start));
  }
  if (has_end) {
    sqlite3_bind_int64(stmt.get(), index++, absl::ToUnixNanos(filter.end));
  }
  for (const auto& [i, text] : texts) BindText(stmt.get(), i, *text);
  std::vector<AuditRecord> out;
  LIENTHONG_RETURN_IF_ERROR(StepRows<AuditRecord>(raw, stmt.get(), ReadRecord,
                                                  [&](const AuditRecord& r) {
                                                    out.push_back(r);
                                                    return true;
                                                  }));
  return out;
}

}  // namespace lienthong::audit
