#include "gateway/audit/audit_store.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/schema.h"

namespace lienthong::audit {
namespace {

using storage::Database;
using storage::Statement;

constexpr char kLabel[] = "audit store";

// Version 1: the tables as first released. Later versions append upgrades.
constexpr char kSchemaV1[] = R"sql(
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
  hash TEXT NOT NULL);
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
    "officer_hmac, officer_masked, officer_unit_code, officer_account_hmac, "
    "record_type, record_key_hmac";
// Brings a version-1 records table to version 2: the officer's columns.
constexpr char kAddOfficerColumns[] =
    "ALTER TABLE records ADD COLUMN officer_hmac TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_masked TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_unit_code TEXT NOT NULL "
    "DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_account_hmac TEXT NOT NULL "
    "DEFAULT '';";

// Brings a version-2 records table to version 3: record lookups' columns.
constexpr char kAddRecordColumns[] =
    "ALTER TABLE records ADD COLUMN record_type TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE records ADD COLUMN record_key_hmac TEXT NOT NULL "
    "DEFAULT '';";

// 1: the tables as first released; 2: the officer a call was made for;
// 3: the record type and key of record lookups.
const storage::SchemaUpgrade kUpgrades[] = {{1, kSchemaV1, nullptr},
                                            {2, kAddOfficerColumns, nullptr},
                                            {3, kAddRecordColumns, nullptr}};
constexpr int kSchemaVersion = 3;

constexpr char kCheckpointColumns[] =
    "sequence, hash, time_ns, node, signature, public_key_sha256";

storage::OpenOptions StoreOptions(const SqliteAuditStore::Options& options,
                                  bool read_only) {
  storage::OpenOptions open;
  open.label = kLabel;
  open.read_only = read_only;
  open.busy_timeout = options.busy_timeout;
  if (!read_only) {
    // The writer's page cache: 16 MiB instead of SQLite's 2 MiB, so that the
    // index pages appends touch stay in memory rather than being read back
    // from the file on every commit. Not larger: each commit also walks the
    // cache's hash table (64 MiB measured slower through the gateway).
    open.cache_size_kib = 16384;
    // Fold the write-ahead log into the database every 16,384 pages (64 MiB)
    // instead of 1,000: pages that many commits touch (the tree's right edge
    // and inner pages) are then copied back once, not at every checkpoint.
    open.wal_autocheckpoint_pages = 16384;
  }
  return open;
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

// Reads a row selected with kRecordColumns.
void ReadRecord(const Statement& row, AuditRecord* r) {
  r->set_sequence(static_cast<uint64_t>(row.Int64(0)));
  FromNanos(row.Int64(1), r->mutable_time());
  r->set_node(row.Text(2));
  r->set_caller(row.Text(3));
  r->set_caller_cert_sha256(row.Text(4));
  r->set_method(row.Text(5));
  r->set_purpose(row.Text(6));
  r->set_dossier_id(row.Text(7));
  r->set_citizen_hmac(row.Text(8));
  r->set_citizen_masked(row.Text(9));
  r->set_national_system(row.Text(10));
  r->set_attempts(row.Int(11));
  r->set_outcome(row.Text(12));
  r->set_latency_us(row.Int64(13));
  r->set_request_sha256(row.Text(14));
  r->set_response_sha256(row.Text(15));
  r->set_prev_hash(row.Text(16));
  r->set_hash(row.Text(17));
  r->set_officer_hmac(row.Text(18));
  r->set_officer_masked(row.Text(19));
  r->set_officer_unit_code(row.Text(20));
  r->set_officer_account_hmac(row.Text(21));
  r->set_record_type(row.Text(22));
  r->set_record_key_hmac(row.Text(23));
}

// Reads a row selected with kCheckpointColumns.
void ReadCheckpoint(const Statement& row, AuditCheckpoint* c) {
  c->set_sequence(static_cast<uint64_t>(row.Int64(0)));
  c->set_hash(row.Text(1));
  FromNanos(row.Int64(2), c->mutable_time());
  c->set_node(row.Text(3));
  c->set_signature(row.Text(4));
  c->set_public_key_sha256(row.Text(5));
}

// Steps `stmt` through its rows, reading each with `read` into one reused
// `Row` and passing it to `visit` until that returns false.
template <typename Row, typename Read, typename Visit>
absl::Status StepRows(Statement& stmt, Read read, Visit visit) {
  Row row;
  return stmt.ForEachRow([&] {
    read(stmt, &row);
    return visit(row);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteAuditStore>> SqliteAuditStore::Open(
    const std::string& path, Options options) {
  LIENTHONG_ASSIGN_OR_RETURN(
      std::unique_ptr<Database> db,
      Database::Open(path, StoreOptions(options, /*read_only=*/false)));
  LIENTHONG_RETURN_IF_ERROR(storage::UpgradeSchema(*db, kUpgrades).status());
  return std::unique_ptr<SqliteAuditStore>(
      new SqliteAuditStore(path, options, std::move(db)));
}

absl::StatusOr<std::unique_ptr<SqliteAuditStore>>
SqliteAuditStore::OpenReadOnly(const std::string& path, Options options) {
  LIENTHONG_ASSIGN_OR_RETURN(
      std::unique_ptr<Database> db,
      Database::Open(path, StoreOptions(options, /*read_only=*/true)));
  LIENTHONG_RETURN_IF_ERROR(storage::CheckSchemaNotNewer(*db, kSchemaVersion));
  return std::unique_ptr<SqliteAuditStore>(
      new SqliteAuditStore(path, options, nullptr));
}

SqliteAuditStore::SqliteAuditStore(std::string path, Options options,
                                   std::unique_ptr<Database> writer)
    : path_(std::move(path)), options_(options), db_(std::move(writer)) {}

SqliteAuditStore::~SqliteAuditStore() = default;

absl::StatusOr<std::unique_ptr<Database>> SqliteAuditStore::OpenReader()
    const {
  return Database::Open(path_, StoreOptions(options_, /*read_only=*/true));
}

absl::Status SqliteAuditStore::Write(
    absl::Span<const AuditRecord> records,
    absl::Span<const AuditCheckpoint> checkpoints) {
  absl::MutexLock lock(&mu_);
  if (db_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(kLabel, ": '", path_, "' was opened read-only"));
  }
  LIENTHONG_ASSIGN_OR_RETURN(storage::Transaction txn,
                             storage::Transaction::Begin(*db_));
  LIENTHONG_RETURN_IF_ERROR(WriteLocked(records, checkpoints));
  return txn.Commit();
}

absl::Status SqliteAuditStore::WriteLocked(
    absl::Span<const AuditRecord> records,
    absl::Span<const AuditCheckpoint> checkpoints) {
  if (!records.empty()) {
    // Bound without copying: the records outlive each step.
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement s,
        db_->Cached(absl::StrCat(
            "INSERT INTO records (", kRecordColumns,
            ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")));
    for (const AuditRecord& r : records) {
      s.Bind(1, static_cast<int64_t>(r.sequence()))
          .Bind(2, ToNanos(r.time()))
          .BindView(3, r.node())
          .BindView(4, r.caller())
          .BindView(5, r.caller_cert_sha256())
          .BindView(6, r.method())
          .BindView(7, r.purpose())
          .BindView(8, r.dossier_id())
          .BindView(9, r.citizen_hmac())
          .BindView(10, r.citizen_masked())
          .BindView(11, r.national_system())
          .Bind(12, r.attempts())
          .BindView(13, r.outcome())
          .Bind(14, r.latency_us())
          .BindView(15, r.request_sha256())
          .BindView(16, r.response_sha256())
          .BindView(17, r.prev_hash())
          .BindView(18, r.hash())
          .BindView(19, r.officer_hmac())
          .BindView(20, r.officer_masked())
          .BindView(21, r.officer_unit_code())
          .BindView(22, r.officer_account_hmac())
          .BindView(23, r.record_type())
          .BindView(24, r.record_key_hmac());
      absl::Status inserted = s.Run();
      s.Reset();
      if (!inserted.ok()) return db_->Error("insert record");
    }
  }
  if (!checkpoints.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement s,
        db_->Cached(absl::StrCat("INSERT INTO checkpoints (",
                                 kCheckpointColumns, ") VALUES (?,?,?,?,?,?)")));
    for (const AuditCheckpoint& c : checkpoints) {
      s.Bind(1, static_cast<int64_t>(c.sequence()))
          .BindView(2, c.hash())
          .Bind(3, ToNanos(c.time()))
          .BindView(4, c.node())
          .BindView(5, c.signature())
          .BindView(6, c.public_key_sha256());
      absl::Status inserted = s.Run();
      s.Reset();
      if (!inserted.ok()) return db_->Error("insert checkpoint");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<AuditRecord>> SqliteAuditStore::LastRecord()
    const {
  std::optional<AuditRecord> last;
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenReader());
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare(absl::StrCat("SELECT ", kRecordColumns,
                               " FROM records ORDER BY sequence DESC LIMIT 1")));
  LIENTHONG_RETURN_IF_ERROR(StepRows<AuditRecord>(stmt, ReadRecord,
                                                  [&](const AuditRecord& r) {
                                                    last = r;
                                                    return false;
                                                  }));
  return last;
}

absl::StatusOr<std::optional<AuditCheckpoint>>
SqliteAuditStore::LastCheckpoint() const {
  std::optional<AuditCheckpoint> last;
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenReader());
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare(absl::StrCat("SELECT ", kCheckpointColumns,
                               " FROM checkpoints ORDER BY sequence DESC "
                               "LIMIT 1")));
  LIENTHONG_RETURN_IF_ERROR(StepRows<AuditCheckpoint>(
      stmt, ReadCheckpoint, [&](const AuditCheckpoint& c) {
        last = c;
        return false;
      }));
  return last;
}

absl::Status SqliteAuditStore::ScanRecords(
    uint64_t from_sequence,
    absl::FunctionRef<bool(const AuditRecord&)> visit) const {
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenReader());
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare(absl::StrCat("SELECT ", kRecordColumns,
                               " FROM records WHERE sequence >= ? "
                               "ORDER BY sequence")));
  stmt.Bind(1, static_cast<int64_t>(from_sequence));
  return StepRows<AuditRecord>(stmt, ReadRecord, visit);
}

absl::Status SqliteAuditStore::ScanCheckpoints(
    uint64_t from_sequence,
    absl::FunctionRef<bool(const AuditCheckpoint&)> visit) const {
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenReader());
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare(absl::StrCat("SELECT ", kCheckpointColumns,
                               " FROM checkpoints WHERE sequence >= ? "
                               "ORDER BY sequence")));
  stmt.Bind(1, static_cast<int64_t>(from_sequence));
  return StepRows<AuditCheckpoint>(stmt, ReadCheckpoint, visit);
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

  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenReader());
  LIENTHONG_ASSIGN_OR_RETURN(Statement stmt, db->Prepare(sql));
  stmt.Bind(1, static_cast<int64_t>(filter.after_sequence));
  int index = 2;
  // absl::ToUnixNanos saturates, so far-off bounds stay correct.
  if (has_start) stmt.Bind(index++, absl::ToUnixNanos(filter.start));
  if (has_end) stmt.Bind(index++, absl::ToUnixNanos(filter.end));
  for (const auto& [i, text] : texts) stmt.Bind(i, *text);
  std::vector<AuditRecord> out;
  LIENTHONG_RETURN_IF_ERROR(StepRows<AuditRecord>(stmt, ReadRecord,
                                                  [&](const AuditRecord& r) {
                                                    out.push_back(r);
                                                    return true;
                                                  }));
  return out;
}

}  // namespace lienthong::audit
