#include "gateway/audit/audit_index.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/audit/archive.h"
#include "gateway/audit/record.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/schema.h"

namespace lienthong::audit {
namespace {

using storage::Database;
using storage::Statement;

constexpr char kLabel[] = "audit index";

// Version 1: the audit store of the previous format, which held the records
// themselves. Kept as released (a version is never edited).
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

// Version 2 of the previous format: the officer a call was made for. Kept
// as released.
constexpr char kAddOfficerColumns[] =
    "ALTER TABLE records ADD COLUMN officer_hmac TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_masked TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_unit_code TEXT NOT NULL "
    "DEFAULT '';"
    "ALTER TABLE records ADD COLUMN officer_account_hmac TEXT NOT NULL "
    "DEFAULT '';";

// Version 4: an index over the journal.
constexpr char kSchemaV2[] = R"sql(
DROP TABLE records;
DROP TABLE checkpoints;
CREATE TABLE records (
  sequence INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  caller TEXT NOT NULL,
  method TEXT NOT NULL,
  citizen BLOB NOT NULL,
  dossier_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  segment INTEGER NOT NULL,
  offset INTEGER NOT NULL);
CREATE INDEX records_time ON records(time_ns);
CREATE INDEX records_citizen ON records(citizen) WHERE citizen != x'';
CREATE INDEX records_dossier ON records(dossier_id) WHERE dossier_id != '';
CREATE TABLE checkpoints (
  idx INTEGER PRIMARY KEY,
  sequence INTEGER NOT NULL,
  time_ns INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE TABLE index_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  journal_id TEXT NOT NULL,
  next_segment INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  hash TEXT NOT NULL,
  last_segment INTEGER NOT NULL,
  last_offset INTEGER NOT NULL);
)sql";

// Version 5: the officer's keyed hash, indexed. The index is emptied, so
// that the indexer builds it again from the journal with the officers.
constexpr char kAddOfficer[] = R"sql(
ALTER TABLE records ADD COLUMN officer BLOB NOT NULL DEFAULT x'';
CREATE INDEX records_officer ON records(officer) WHERE officer != x'';
DELETE FROM records;
DELETE FROM checkpoints;
DELETE FROM index_state;
)sql";

// A store of the previous format keeps its records: they are not in any
// journal, so turning the file into an index would lose them.
absl::Status RefuseOldRecords(Database& db) {
  LIENTHONG_ASSIGN_OR_RETURN(Statement count,
                             db.Prepare("SELECT count(*) FROM records"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, count.Step());
  if (row && count.Int64(0) > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", db.path(), "' is an audit store of the previous format holding ",
        count.Int64(0),
        " records, which this gateway does not read; keep it (an older "
        "lienthong verifies and exports it) and set audit.store_file to a new "
        "file"));
  }
  return absl::OkStatus();
}

// 1: the store as first released; 2: the store's officer columns (as
// released, so that a version-2 store is still refused below, not dropped);
// 3: the refusal of a store that holds records; 4: the index; 5: the
// officer column, indexed again from the journal.
const storage::SchemaUpgrade kUpgrades[] = {
    {1, kSchemaV1, nullptr},
    {2, kAddOfficerColumns, nullptr},
    {3, "", RefuseOldRecords},
    {4, kSchemaV2, nullptr},
    {5, kAddOfficer, nullptr},
};
constexpr int kSchemaVersion = 5;
constexpr int kFirstIndexVersion = 4;

storage::OpenOptions IndexOptions(const SqliteAuditIndex::Options& options,
                                  bool read_only) {
  storage::OpenOptions open;
  open.label = kLabel;
  open.read_only = read_only;
  open.busy_timeout = options.busy_timeout;
  // The journal is the truth: a commit lost in a power cut is indexed again.
  open.synchronous = storage::Synchronous::kNormal;
  if (!read_only) {
    // As the audit store measured: index pages stay in memory between
    // batches; the write-ahead log is folded in every 64 MiB.
    open.cache_size_kib = 16384;
    open.wal_autocheckpoint_pages = 16384;
  }
  return open;
}

int64_t ToNanos(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000000 + time.nanos();
}

}  // namespace

bool RawFilterHashes(const QueryFilter& filter, std::string* citizen,
                     std::string* officer) {
  citizen->clear();
  officer->clear();
  return (filter.citizen_hmac.empty() ||
          FromHex(filter.citizen_hmac, citizen)) &&
         (filter.officer_hmac.empty() || FromHex(filter.officer_hmac, officer));
}

absl::StatusOr<std::unique_ptr<SqliteAuditIndex>> SqliteAuditIndex::Open(
    const std::string& path, Options options) {
  LIENTHONG_ASSIGN_OR_RETURN(
      std::unique_ptr<Database> db,
      Database::Open(path, IndexOptions(options, /*read_only=*/false)));
  LIENTHONG_RETURN_IF_ERROR(storage::UpgradeSchema(*db, kUpgrades).status());
  return std::unique_ptr<SqliteAuditIndex>(
      new SqliteAuditIndex(path, options, std::move(db)));
}

absl::StatusOr<std::unique_ptr<SqliteAuditIndex>>
SqliteAuditIndex::OpenReadOnly(const std::string& path, Options options) {
  LIENTHONG_ASSIGN_OR_RETURN(
      std::unique_ptr<Database> db,
      Database::Open(path, IndexOptions(options, /*read_only=*/true)));
  LIENTHONG_RETURN_IF_ERROR(storage::CheckSchemaNotNewer(*db, kSchemaVersion));
  LIENTHONG_ASSIGN_OR_RETURN(int version, storage::SchemaVersion(*db));
  // Versions 1 to 3 are the previous format's store; 4 is an index (opening
  // it for writing upgrades it), 0 a file with nothing in it yet.
  if (version >= 1 && version < kFirstIndexVersion) {
    LIENTHONG_RETURN_IF_ERROR(RefuseOldRecords(*db));
  }
  return std::unique_ptr<SqliteAuditIndex>(
      new SqliteAuditIndex(path, options, nullptr));
}

SqliteAuditIndex::SqliteAuditIndex(std::string path, Options options,
                                   std::unique_ptr<Database> writer)
    : path_(std::move(path)), options_(options), db_(std::move(writer)) {}

SqliteAuditIndex::~SqliteAuditIndex() = default;

absl::StatusOr<std::unique_ptr<Database>> SqliteAuditIndex::OpenReader() const {
  return Database::Open(path_, IndexOptions(options_, /*read_only=*/true));
}

absl::Status SqliteAuditIndex::Writable() const {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(kLabel, ": '", path_, "' was opened read-only"));
  }
  return absl::OkStatus();
}

std::string SqliteAuditIndex::Describe() const {
  return absl::StrCat(kLabel, " '", path_, "'");
}

absl::StatusOr<std::optional<IndexState>> SqliteAuditIndex::LoadState() const {
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenReader());
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement get,
      db->Prepare("SELECT journal_id, next_segment, next_offset, sequence, "
                  "hash, last_segment, last_offset FROM index_state"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return std::nullopt;
  IndexState state;
  state.journal_id = get.Text(0);
  state.next = {static_cast<uint64_t>(get.Int64(1)),
                static_cast<uint64_t>(get.Int64(2))};
  state.sequence = static_cast<uint64_t>(get.Int64(3));
  state.hash = get.Text(4);
  state.last_record = {static_cast<uint64_t>(get.Int64(5)),
                       static_cast<uint64_t>(get.Int64(6))};
  return state;
}

absl::Status SqliteAuditIndex::Add(absl::Span<const IndexEntry> entries,
                                   const IndexState& state) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_RETURN_IF_ERROR(Writable());
  LIENTHONG_ASSIGN_OR_RETURN(storage::Transaction txn,
                             storage::Transaction::Begin(*db_));
  for (const IndexEntry& e : entries) {
    if (e.is_checkpoint) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Statement s,
          db_->Cached("INSERT OR REPLACE INTO checkpoints (idx, sequence, "
                      "time_ns, body) VALUES (?,?,?,?)"));
      s.Bind(1, static_cast<int64_t>(e.checkpoint.index()))
          .Bind(2, static_cast<int64_t>(e.checkpoint.sequence()))
          .Bind(3, ToNanos(e.checkpoint.time()))
          .BindBlob(4, e.bytes);
      if (!s.Run().ok()) return db_->Error("index checkpoint");
      continue;
    }
    const AuditRecord& r = e.record;
    std::string citizen;
    if (!FromHex(r.citizen_hmac(), &citizen)) citizen.clear();
    std::string officer;
    if (!FromHex(r.officer_hmac(), &officer)) officer.clear();
    // Bound without copying: the entries outlive each step.
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement s,
        db_->Cached("INSERT OR REPLACE INTO records (sequence, time_ns, "
                    "caller, method, citizen, dossier_id, outcome, segment, "
                    "offset, officer) VALUES (?,?,?,?,?,?,?,?,?,?)"));
    s.Bind(1, static_cast<int64_t>(r.sequence()))
        .Bind(2, ToNanos(r.time()))
        .BindView(3, r.caller())
        .BindView(4, r.method())
        .BindBlob(5, citizen)
        .BindView(6, r.dossier_id())
        .BindView(7, r.outcome())
        .Bind(8, static_cast<int64_t>(e.at.segment))
        .Bind(9, static_cast<int64_t>(e.at.offset))
        .BindBlob(10, officer);
    if (!s.Run().ok()) return db_->Error("index record");
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement s,
      db_->Cached("INSERT OR REPLACE INTO index_state (id, journal_id, "
                  "next_segment, next_offset, sequence, hash, last_segment, "
                  "last_offset) VALUES (1,?,?,?,?,?,?,?)"));
  s.Bind(1, state.journal_id)
      .Bind(2, static_cast<int64_t>(state.next.segment))
      .Bind(3, static_cast<int64_t>(state.next.offset))
      .Bind(4, static_cast<int64_t>(state.sequence))
      .Bind(5, state.hash)
      .Bind(6, static_cast<int64_t>(state.last_record.segment))
      .Bind(7, static_cast<int64_t>(state.last_record.offset));
  if (!s.Run().ok()) return db_->Error("save index state");
  return txn.Commit();
}

absl::Status SqliteAuditIndex::Clear() {
  absl::MutexLock lock(&mu_);
  LIENTHONG_RETURN_IF_ERROR(Writable());
  LIENTHONG_ASSIGN_OR_RETURN(storage::Transaction txn,
                             storage::Transaction::Begin(*db_));
  LIENTHONG_RETURN_IF_ERROR(db_->Exec(
      "DELETE FROM records; DELETE FROM checkpoints; DELETE FROM index_state;"));
  return txn.Commit();
}

absl::Status SqliteAuditIndex::RemoveThrough(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_RETURN_IF_ERROR(Writable());
  LIENTHONG_ASSIGN_OR_RETURN(storage::Transaction txn,
                             storage::Transaction::Begin(*db_));
  for (const char* sql : {"DELETE FROM records WHERE sequence <= ?",
                          "DELETE FROM checkpoints WHERE sequence <= ?"}) {
    LIENTHONG_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
    s.Bind(1, static_cast<int64_t>(sequence));
    if (!s.Run().ok()) return db_->Error("remove archived entries");
  }
  return txn.Commit();
}

absl::StatusOr<uint64_t> SqliteAuditIndex::CountRecords() const {
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenReader());
  LIENTHONG_ASSIGN_OR_RETURN(Statement count,
                             db->Prepare("SELECT count(*) FROM records"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, count.Step());
  return row ? static_cast<uint64_t>(count.Int64(0)) : 0;
}

absl::StatusOr<std::vector<AuditRecord>> SqliteAuditIndex::Query(
    const QueryFilter& filter) const {
  if (filter.limit < 1) {
    return absl::InvalidArgumentError("query limit must be at least 1");
  }
  std::string citizen;
  std::string officer;
  if (!RawFilterHashes(filter, &citizen, &officer)) {
    return std::vector<AuditRecord>();  // no record has such a hash
  }
  // Only the filters given enter the SQL, so the planner can use an index
  // (the partial ones need their condition spelt out).
  std::string sql =
      "SELECT sequence, segment, offset FROM records WHERE sequence > ?1";
  std::vector<std::pair<int, const std::string*>> texts;
  int next = 2;
  const bool has_start = filter.start != absl::InfinitePast();
  const bool has_end = filter.end != absl::InfiniteFuture();
  if (has_start) absl::StrAppend(&sql, " AND time_ns >= ?", next++);
  if (has_end) absl::StrAppend(&sql, " AND time_ns < ?", next++);
  int citizen_at = 0;
  if (!citizen.empty()) {
    citizen_at = next++;
    absl::StrAppend(&sql, " AND citizen = ?", citizen_at, " AND citizen != x''");
  }
  int officer_at = 0;
  if (!officer.empty()) {
    officer_at = next++;
    absl::StrAppend(&sql, " AND officer = ?", officer_at, " AND officer != x''");
  }
  if (!filter.dossier_id.empty()) {
    absl::StrAppend(&sql, " AND dossier_id != ''");
  }
  const std::pair<const char*, const std::string*> exact[] = {
      {"caller", &filter.caller},
      {"method", &filter.method},
      {"dossier_id", &filter.dossier_id},
      {"outcome", &filter.outcome},
  };
  for (const auto& [column, value] : exact) {
    if (value->empty()) continue;
    absl::StrAppend(&sql, " AND ", column, " = ?", next);
    texts.emplace_back(next++, value);
  }
  const int limit_at = next;
  absl::StrAppend(&sql, " ORDER BY sequence LIMIT ?", limit_at);

  // Rows whose records were archived (by a run that left the index alone)
  // are passed over: read past them until the page is full or no row is
  // left, so that a short answer still means the end.
  std::vector<AuditRecord> out;
  uint64_t after = filter.after_sequence;
  while (static_cast<int>(out.size()) < filter.limit) {
    const int wanted = filter.limit - static_cast<int>(out.size());
    std::vector<Place> places;
    {
      LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenReader());
      LIENTHONG_ASSIGN_OR_RETURN(Statement stmt, db->Prepare(sql));
      stmt.Bind(1, static_cast<int64_t>(after));
      int index = 2;
      // absl::ToUnixNanos saturates, so far-off bounds stay correct.
      if (has_start) stmt.Bind(index++, absl::ToUnixNanos(filter.start));
      if (has_end) stmt.Bind(index++, absl::ToUnixNanos(filter.end));
      if (citizen_at != 0) stmt.BindBlob(citizen_at, citizen);
      if (officer_at != 0) stmt.BindBlob(officer_at, officer);
      for (const auto& [i, text] : texts) stmt.Bind(i, *text);
      stmt.Bind(limit_at, static_cast<int64_t>(wanted));
      LIENTHONG_RETURN_IF_ERROR(stmt.ForEachRow([&] {
        places.push_back({static_cast<uint64_t>(stmt.Int64(0)),
                          {static_cast<uint64_t>(stmt.Int64(1)),
                           static_cast<uint64_t>(stmt.Int64(2))}});
        return true;
      }));
    }
    LIENTHONG_ASSIGN_OR_RETURN(std::vector<AuditRecord> read,
                               ReadRecords(places));
    for (AuditRecord& record : read) out.push_back(std::move(record));
    if (static_cast<int>(places.size()) < wanted) break;  // no row is left
    after = places.back().sequence;
  }
  return out;
}

absl::StatusOr<std::vector<AuditRecord>> SqliteAuditIndex::ReadRecords(
    const std::vector<Place>& places) const {
  std::vector<AuditRecord> out;
  out.reserve(places.size());
  std::optional<MappedSegment> segment;
  uint64_t mapped = 0;
  bool archived = false;
  for (const Place& place : places) {
    if (mapped != place.at.segment) {
      mapped = place.at.segment;
      segment.reset();
      absl::StatusOr<MappedSegment> opened = MappedSegment::Open(absl::StrCat(
          options_.journal_dir, "/", SegmentFileName(place.at.segment)));
      archived = false;
      if (opened.ok()) {
        segment.emplace(*std::move(opened));
      } else if (!absl::IsNotFound(opened.status())) {
        return opened.status();
      } else {
        // Gone: archived (its rows are being removed), or deleted from the
        // live journal, whose records must not just drop out of answers.
        LIENTHONG_ASSIGN_OR_RETURN(
            std::vector<lienthong::v1::AuditArchiveAnchor> anchors,
            ReadArchiveAnchors(options_.journal_dir));
        if (place.at.segment >= FirstLiveSegment(anchors)) {
          return absl::DataLossError(absl::StrCat(
              "audit journal: segment ", SegmentFileName(place.at.segment),
              " (record ", place.sequence,
              " on) is missing; `lienthong audit verify` tells what is "
              "affected"));
        }
        archived = true;
      }
    }
    if (archived) continue;  // its rows are being removed
    Frame frame;
    AuditRecord record;
    if (!ReadFrameAt(segment->bytes(), place.at.offset, &frame) ||
        frame.type != FrameType::kRecord ||
        !record.ParseFromArray(frame.payload.data(),
                               static_cast<int>(frame.payload.size())) ||
        record.sequence() != place.sequence) {
      return absl::UnavailableError(absl::StrCat(
          "audit index: record ", place.sequence,
          " is not where the index says; run `lienthong audit reindex`"));
    }
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace lienthong::audit
