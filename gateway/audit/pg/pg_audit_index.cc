#include "gateway/audit/pg/pg_audit_index.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/record.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/pg/pg_schema.h"

namespace lienthong::audit {
namespace {

using storage::pg::ByteaParam;
using storage::pg::Param;
using storage::pg::Result;
using storage::pg::Session;

// Version 1. A version is never edited once released: later changes are
// new migrations.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE audit_records (
  node TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  time_ns BIGINT NOT NULL,
  caller TEXT NOT NULL,
  method TEXT NOT NULL,
  citizen BYTEA NOT NULL,
  officer BYTEA NOT NULL,
  dossier_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  record BYTEA NOT NULL,
  PRIMARY KEY (node, sequence));
CREATE INDEX audit_records_order ON audit_records (sequence, node);
CREATE INDEX audit_records_time ON audit_records (time_ns);
CREATE INDEX audit_records_citizen ON audit_records (citizen)
  WHERE citizen <> ''::bytea;
CREATE INDEX audit_records_officer ON audit_records (officer)
  WHERE officer <> ''::bytea;
CREATE INDEX audit_records_dossier ON audit_records (dossier_id)
  WHERE dossier_id <> '';
CREATE TABLE audit_checkpoints (
  node TEXT NOT NULL,
  idx BIGINT NOT NULL,
  sequence BIGINT NOT NULL,
  time_ns BIGINT NOT NULL,
  body BYTEA NOT NULL,
  PRIMARY KEY (node, idx));
CREATE TABLE audit_index_state (
  node TEXT PRIMARY KEY,
  journal_id TEXT NOT NULL,
  next_segment BIGINT NOT NULL,
  next_offset BIGINT NOT NULL,
  sequence BIGINT NOT NULL,
  hash TEXT NOT NULL,
  last_segment BIGINT NOT NULL,
  last_offset BIGINT NOT NULL,
  updated_us BIGINT NOT NULL);
)sql";

// Now on the database's clock, in microseconds since the epoch: every
// replica's state is stamped by the one clock.
constexpr char kNowUs[] =
    "(extract(epoch from clock_timestamp())*1000000)::bigint";

const storage::pg::Migration kMigrations[] = {{kSchemaV1}};

constexpr int kColumns = 10;
constexpr char kInsertHead[] =
    "INSERT INTO audit_records (node, sequence, time_ns, caller, method, "
    "citizen, officer, dossier_id, outcome, record) VALUES ";
// A record indexed again (after a crash between the journal and the
// index's commit) replaces its row, as SQLite's INSERT OR REPLACE.
constexpr char kInsertTail[] =
    " ON CONFLICT (node, sequence) DO UPDATE SET time_ns=EXCLUDED.time_ns, "
    "caller=EXCLUDED.caller, method=EXCLUDED.method, "
    "citizen=EXCLUDED.citizen, officer=EXCLUDED.officer, "
    "dossier_id=EXCLUDED.dossier_id, outcome=EXCLUDED.outcome, "
    "record=EXCLUDED.record";

int64_t ToNanos(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000000 + time.nanos();
}

std::string Hmac(const std::string& hex) {
  std::string raw;
  if (!FromHex(hex, &raw)) raw.clear();
  return raw;
}

// Inserts the records of `records` in statements of at most `per_statement`
// rows.
absl::Status InsertRecords(Session& session, const std::string& node,
                           absl::Span<const IndexEntry* const> records,
                           int per_statement) {
  std::vector<Param> params;
  std::string sql;
  for (size_t start = 0; start < records.size(); start += per_statement) {
    const size_t end =
        std::min(records.size(), start + static_cast<size_t>(per_statement));
    params.clear();
    params.reserve((end - start) * kColumns);
    sql = kInsertHead;
    for (size_t i = start; i < end; ++i) {
      const AuditRecord& r = records[i]->record;
      const size_t base = params.size();
      absl::StrAppend(&sql, i == start ? "(" : ",(");
      for (int c = 1; c <= kColumns; ++c) {
        absl::StrAppend(&sql, c == 1 ? "$" : ",$", base + c);
      }
      sql.push_back(')');
      params.push_back(node);
      params.push_back(absl::StrCat(r.sequence()));
      params.push_back(absl::StrCat(ToNanos(r.time())));
      params.push_back(r.caller());
      params.push_back(r.method());
      params.push_back(ByteaParam(Hmac(r.citizen_hmac())));
      params.push_back(ByteaParam(Hmac(r.officer_hmac())));
      params.push_back(r.dossier_id());
      params.push_back(r.outcome());
      params.push_back(ByteaParam(r.SerializeAsString()));
    }
    sql += kInsertTail;
    LIENTHONG_RETURN_IF_ERROR(session.Exec(sql, params).status());
  }
  return absl::OkStatus();
}

absl::Status InsertCheckpoint(Session& session, const std::string& node,
                              const IndexEntry& e) {
  return session
      .Exec("INSERT INTO audit_checkpoints (node, idx, sequence, time_ns, "
            "body) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (node, idx) DO UPDATE "
            "SET sequence=EXCLUDED.sequence, time_ns=EXCLUDED.time_ns, "
            "body=EXCLUDED.body",
            {node, absl::StrCat(e.checkpoint.index()),
             absl::StrCat(e.checkpoint.sequence()),
             absl::StrCat(ToNanos(e.checkpoint.time())), ByteaParam(e.bytes)})
      .status();
}

// Saves `state` as `node`'s, unless the row is another journal's: then
// FAILED_PRECONDITION (two gateways with one node name), and the caller's
// transaction, rolled back, changes nothing.
absl::Status SaveState(Session& session, const std::string& node,
                       const IndexState& state) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Result saved,
      session.Exec(
          absl::StrCat(
              "INSERT INTO audit_index_state (node, journal_id, next_segment, "
              "next_offset, sequence, hash, last_segment, last_offset, "
              "updated_us) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,",
              kNowUs,
              ") ON CONFLICT (node) DO UPDATE SET "
              "next_segment=EXCLUDED.next_segment, "
              "next_offset=EXCLUDED.next_offset, sequence=EXCLUDED.sequence, "
              "hash=EXCLUDED.hash, last_segment=EXCLUDED.last_segment, "
              "last_offset=EXCLUDED.last_offset, "
              "updated_us=EXCLUDED.updated_us "
              "WHERE audit_index_state.journal_id=EXCLUDED.journal_id "
              "RETURNING node"),
          {node, state.journal_id, absl::StrCat(state.next.segment),
           absl::StrCat(state.next.offset), absl::StrCat(state.sequence),
           state.hash, absl::StrCat(state.last_record.segment),
           absl::StrCat(state.last_record.offset)}));
  if (saved.rows() == 1) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "node name '", node,
      "' is now used by another gateway's journal, which took this node's "
      "rows over: give each replica its own node_name"));
}

}  // namespace

absl::Status PgAuditIndex::Labelled(const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat("audit index on PostgreSQL: ",
                                                  status.message()));
}

absl::StatusOr<std::unique_ptr<PgAuditIndex>> PgAuditIndex::Open(
    Options options) {
  if (options.pool == nullptr) {
    return absl::InvalidArgumentError("audit index on PostgreSQL needs a pool");
  }
  if (options.node.empty() || options.node.size() > 256) {
    return absl::InvalidArgumentError(
        "audit index on PostgreSQL needs a node name of at most 256 bytes");
  }
  if (options.rows_per_statement < 1 || options.rows_per_statement > 6000) {
    return absl::InvalidArgumentError(
        "audit index on PostgreSQL: rows_per_statement must be 1..6000");
  }
  std::unique_ptr<PgAuditIndex> index(new PgAuditIndex(std::move(options)));
  absl::Status checked =
      storage::pg::CheckCurrent(*index->options_.pool, kComponent, kMigrations);
  // A database that cannot be reached yet is checked at first use.
  if (!checked.ok() && !absl::IsUnavailable(checked)) return Labelled(checked);
  index->checked_.store(checked.ok());
  return index;
}

absl::Status PgAuditIndex::Checked() const {
  if (checked_.load()) return absl::OkStatus();
  absl::Status status =
      storage::pg::CheckCurrent(*options_.pool, kComponent, kMigrations);
  if (status.ok()) {
    checked_.store(true);
    return status;
  }
  if (absl::IsUnavailable(status)) return Labelled(status);
  return absl::UnavailableError(absl::StrCat(
      "audit index on PostgreSQL not usable: ", status.message()));
}

absl::Status PgAuditIndex::Ready() const {
  {
    absl::MutexLock lock(&mu_);
    if (!conflict_.ok()) return absl::UnavailableError(conflict_.message());
  }
  absl::Status status = Checked();
  if (status.ok()) status = options_.pool->Ready();
  if (status.ok() || absl::StrContains(status.message(), "not usable")) {
    return status;
  }
  return absl::UnavailableError(
      absl::StrCat("audit index database unreachable: ", status.message()));
}

absl::StatusOr<int> PgAuditIndex::Migrate(storage::pg::Pool& pool) {
  return storage::pg::Migrate(pool, kComponent, kMigrations);
}

std::string PgAuditIndex::Describe() const {
  return absl::StrCat("audit index on PostgreSQL (node ", options_.node, ")");
}

absl::StatusOr<std::optional<IndexState>> PgAuditIndex::LoadState() const {
  LIENTHONG_RETURN_IF_ERROR(Checked());
  absl::StatusOr<Result> r = options_.pool->Run(
      "SELECT journal_id, next_segment, next_offset, sequence, hash, "
      "last_segment, last_offset FROM audit_index_state WHERE node=$1",
      {options_.node});
  if (!r.ok()) return Labelled(r.status());
  if (r->rows() == 0) return std::nullopt;
  IndexState state;
  state.journal_id = r->Text(0, 0);
  state.next = {static_cast<uint64_t>(r->Int64(0, 1)),
                static_cast<uint64_t>(r->Int64(0, 2))};
  state.sequence = static_cast<uint64_t>(r->Int64(0, 3));
  state.hash = r->Text(0, 4);
  state.last_record = {static_cast<uint64_t>(r->Int64(0, 5)),
                       static_cast<uint64_t>(r->Int64(0, 6))};
  return state;
}

absl::Status PgAuditIndex::Add(absl::Span<const IndexEntry> entries,
                               const IndexState& state) {
  LIENTHONG_RETURN_IF_ERROR(Checked());
  std::vector<const IndexEntry*> records;
  records.reserve(entries.size());
  for (const IndexEntry& e : entries) {
    if (!e.is_checkpoint) records.push_back(&e);
  }
  const absl::Status added =
      Labelled(options_.pool->Transact([&](Session& session) {
        LIENTHONG_RETURN_IF_ERROR(InsertRecords(session, options_.node, records,
                                                options_.rows_per_statement));
        for (const IndexEntry& e : entries) {
          if (e.is_checkpoint) {
            LIENTHONG_RETURN_IF_ERROR(
                InsertCheckpoint(session, options_.node, e));
          }
        }
        return SaveState(session, options_.node, state);
      }));
  absl::MutexLock lock(&mu_);
  conflict_ = absl::IsFailedPrecondition(added) ? added : absl::OkStatus();
  return added;
}

absl::Status PgAuditIndex::ClaimFor(const std::string& journal_id) const {
  LIENTHONG_RETURN_IF_ERROR(Checked());
  absl::StatusOr<Result> r = options_.pool->Run(
      absl::StrCat("SELECT journal_id, ", kNowUs,
                   " - updated_us FROM audit_index_state WHERE node=$1"),
      {options_.node});
  if (!r.ok()) return Labelled(r.status());
  if (r->rows() == 0 || r->Text(0, 0) == journal_id) return absl::OkStatus();
  const absl::Duration since = absl::Microseconds(r->Int64(0, 1));
  if (since >= options_.takeover_after) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "audit index on PostgreSQL: node name '", options_.node,
      "' is in use by another gateway's journal (its rows were indexed ",
      absl::ToInt64Seconds(since),
      " s ago): give each replica its own node_name; a replica whose journal "
      "was replaced takes its node's rows over once they have not been "
      "indexed for ",
      absl::ToInt64Seconds(options_.takeover_after), " s"));
}

absl::Status PgAuditIndex::Clear() {
  LIENTHONG_RETURN_IF_ERROR(Checked());
  return Labelled(options_.pool->Transact([&](Session& session) {
    for (const char* sql : {"DELETE FROM audit_records WHERE node=$1",
                            "DELETE FROM audit_checkpoints WHERE node=$1",
                            "DELETE FROM audit_index_state WHERE node=$1"}) {
      LIENTHONG_RETURN_IF_ERROR(session.Exec(sql, {options_.node}).status());
    }
    return absl::OkStatus();
  }));
}

absl::Status PgAuditIndex::RemoveThrough(uint64_t sequence) {
  LIENTHONG_RETURN_IF_ERROR(Checked());
  const std::string through = absl::StrCat(sequence);
  return Labelled(options_.pool->Transact([&](Session& session) {
    for (const char* sql :
         {"DELETE FROM audit_records WHERE node=$1 AND sequence<=$2",
          "DELETE FROM audit_checkpoints WHERE node=$1 AND sequence<=$2"}) {
      LIENTHONG_RETURN_IF_ERROR(
          session.Exec(sql, {options_.node, through}).status());
    }
    return absl::OkStatus();
  }));
}

absl::StatusOr<uint64_t> PgAuditIndex::CountRecords() const {
  LIENTHONG_RETURN_IF_ERROR(Checked());
  absl::StatusOr<Result> r = options_.pool->Run(
      "SELECT count(*) FROM audit_records WHERE node=$1", {options_.node});
  if (!r.ok()) return Labelled(r.status());
  return static_cast<uint64_t>(r->Int64(0, 0));
}

absl::StatusOr<std::vector<AuditRecord>> PgAuditIndex::Query(
    const QueryFilter& filter) const {
  if (filter.limit < 1) {
    return absl::InvalidArgumentError("query limit must be at least 1");
  }
  LIENTHONG_RETURN_IF_ERROR(Checked());
  std::string citizen;
  std::string officer;
  if (!RawFilterHashes(filter, &citizen, &officer)) {
    return std::vector<AuditRecord>();  // no record has such a hash
  }
  std::vector<Param> params = {absl::StrCat(filter.after_sequence)};
  std::string sql = "SELECT node, sequence, record FROM audit_records WHERE ";
  if (filter.after_node.empty()) {
    sql += "sequence > $1";
  } else {
    params.push_back(filter.after_node);
    sql += "(sequence, node) > ($1, $2)";
  }
  auto add = [&](absl::string_view condition, std::string value) {
    params.push_back(std::move(value));
    absl::StrAppend(&sql, " AND ", condition, " $", params.size());
  };
  // absl::ToUnixNanos saturates, so far-off bounds stay correct.
  if (filter.start != absl::InfinitePast()) {
    add("time_ns >=", absl::StrCat(absl::ToUnixNanos(filter.start)));
  }
  if (filter.end != absl::InfiniteFuture()) {
    add("time_ns <", absl::StrCat(absl::ToUnixNanos(filter.end)));
  }
  // The partial indexes need their condition spelt out.
  if (!citizen.empty()) {
    sql += " AND citizen <> ''::bytea";
    add("citizen =", ByteaParam(citizen));
  }
  if (!officer.empty()) {
    sql += " AND officer <> ''::bytea";
    add("officer =", ByteaParam(officer));
  }
  if (!filter.dossier_id.empty()) sql += " AND dossier_id <> ''";
  const std::pair<const char*, const std::string*> exact[] = {
      {"caller =", &filter.caller},
      {"method =", &filter.method},
      {"dossier_id =", &filter.dossier_id},
      {"outcome =", &filter.outcome},
  };
  for (const auto& [condition, value] : exact) {
    if (!value->empty()) add(condition, *value);
  }
  absl::StrAppend(&sql, " ORDER BY sequence, node LIMIT ", filter.limit);

  absl::StatusOr<Result> r = [&]() -> absl::StatusOr<Result> {
    // Run takes an initializer list; a query's parameters vary in number.
    absl::StatusOr<Result> out;
    absl::Status status = options_.pool->Transact([&](Session& session) {
      out = session.Exec(sql, params);
      return out.status();
    });
    if (!status.ok()) return status;
    return out;
  }();
  if (!r.ok()) return Labelled(r.status());
  std::vector<AuditRecord> records(r->rows());
  for (int row = 0; row < r->rows(); ++row) {
    const std::string bytes = r->Bytea(row, 2);
    if (!records[row].ParseFromString(bytes)) {
      return absl::UnavailableError(absl::StrCat(
          "audit index on PostgreSQL: the record ", r->Text(row, 1),
          " of node ", r->Text(row, 0),
          " cannot be read; that node rebuilds its rows when its index state "
          "is cleared"));
    }
  }
  return records;
}

}  // namespace lienthong::audit
