// PgAuditIndex: the audit query index on PostgreSQL, which every replica
// shares, so that QueryAudit on any of them returns every node's records.
//
// Each node keeps its own journal and hash chain (journal.h, verified on
// that node); the index is not the truth, and another node's journal cannot
// be read here, so each row keeps the serialized AuditRecord beside the
// columns queries filter on. Tables (component "audit_index" in
// lienthong_schema, migrated by `lienthong-gateway --migrate`):
//   audit_records(node, sequence, time_ns, caller, method, citizen BYTEA
//                 (the raw 32-byte HMAC, or empty), officer BYTEA (as
//                 citizen), dossier_id, outcome, record BYTEA)
//     primary key (node, sequence); indexed on (sequence, node) for the
//     query order, time_ns, and citizen, officer and dossier_id where set.
//     Not on caller, method or outcome, for SqliteAuditIndex's reason
//     (audit_index.h): an index each record pays for on every insert, for
//     queries that should name a time range, citizen or dossier anyway;
//   audit_checkpoints(node, idx, sequence, time_ns, body BYTEA);
//   audit_index_state(node primary key, journal id, positions, sequence,
//                     hash, updated_us): how far each node's indexer got,
//                     and when (the database's clock).
// Node names must differ between replicas: a gateway whose node name's rows
// another journal indexed in the last Options::takeover_after is refused
// at start (ClaimFor), and one whose rows another journal took over (after
// that time) finds out at its next Add, which fails, and Ready() says so.
//
// A node's indexer (indexer.h) writes, clears and trims only its own rows
// (`node` is this gateway's node name, which must differ between
// replicas), many rows per INSERT statement. Queries read every node's.
//
// Errors: the database unreachable, a statement timeout -> UNAVAILABLE
// ("audit index on PostgreSQL: ..."; never the connection string's
// password, never personal data); a schema older or newer than this code's
// -> FAILED_PRECONDITION at Open. Thread-safe: every call takes a
// connection from the pool.
#ifndef LIENTHONG_GATEWAY_AUDIT_PG_PG_AUDIT_INDEX_H_
#define LIENTHONG_GATEWAY_AUDIT_PG_PG_AUDIT_INDEX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/audit/audit_index.h"
#include "gateway/storage/pg/pg_pool.h"

namespace lienthong::audit {

class PgAuditIndex final : public IndexStore {
 public:
  // The schema's component name in lienthong_schema.
  static constexpr char kComponent[] = "audit_index";

  struct Options {
    // The gateway's pool (shared with the outbox when it is on
    // PostgreSQL). Required.
    std::shared_ptr<storage::pg::Pool> pool;
    // This gateway's node name: the rows it writes. Required, at most 256
    // bytes.
    std::string node;
    // Records per INSERT statement (10 parameters each; at most 6000).
    // audit_index_bench on 100,000 records: 1 -> ~11,000/s, 100 ->
    // ~29,000/s, 250 -> ~32,000/s, 1000 -> ~20,000/s (a statement of
    // 10,000 text parameters costs more to parse than it saves).
    int rows_per_statement = 250;
    // Another journal's rows under this node name are taken over (a
    // replica whose journal was replaced) only once they have not been
    // indexed for this long; sooner, ClaimFor refuses (two live gateways
    // with one node name).
    absl::Duration takeover_after = absl::Minutes(1);
  };

  // Checks the options and that the database's schema is this code's.
  // INVALID_ARGUMENT for options missing; FAILED_PRECONDITION for a schema
  // older (run --migrate) or newer. A database that cannot be reached does
  // not fail Open: the schema is checked at the index's first use that
  // reaches it (until it passes, every call fails UNAVAILABLE saying why,
  // "not usable: ..." for a schema refused).
  static absl::StatusOr<std::unique_ptr<PgAuditIndex>> Open(Options options);

  // Applies the schema's forward migrations (pg_schema.h); returns the
  // version reached. The errors of storage::pg::Migrate.
  static absl::StatusOr<int> Migrate(storage::pg::Pool& pool);

  PgAuditIndex(const PgAuditIndex&) = delete;
  PgAuditIndex& operator=(const PgAuditIndex&) = delete;

  const std::string& node() const { return options_.node; }

  // IndexStore: this node's rows only.
  std::string Describe() const override;
  absl::StatusOr<std::optional<IndexState>> LoadState() const override;
  absl::Status Add(absl::Span<const IndexEntry> entries,
                   const IndexState& state) override;
  absl::Status Clear() override;
  absl::Status RemoveThrough(uint64_t sequence) override;
  // FAILED_PRECONDITION when this node's rows are another journal's, indexed
  // within options.takeover_after.
  absl::Status ClaimFor(const std::string& journal_id) const override;
  absl::StatusOr<uint64_t> CountRecords() const override;
  // UNAVAILABLE "audit index database unreachable: ..." or "audit index on
  // PostgreSQL not usable: ..." (schema) when it cannot be used now, or
  // saying that another gateway's journal took this node name's rows over
  // (since the last Add, which then failed FAILED_PRECONDITION).
  absl::Status Ready() const override;

  // Every node's records matching `filter`, in (sequence, node) order.
  // INVALID_ARGUMENT when filter.limit < 1; UNAVAILABLE as at the top, or
  // when a stored record cannot be parsed (the message names its node and
  // sequence).
  absl::StatusOr<std::vector<AuditRecord>> Query(
      const QueryFilter& filter) const override;

 private:
  explicit PgAuditIndex(Options options) : options_(std::move(options)) {}
  // OK once the schema check passed (checks it while it has not).
  absl::Status Checked() const;
  // `status` with "audit index on PostgreSQL: " before its message.
  static absl::Status Labelled(const absl::Status& status);

  const Options options_;
  mutable std::atomic<bool> checked_{false};
  mutable absl::Mutex mu_;
  // The last Add's FAILED_PRECONDITION (another journal's rows), or OK.
  absl::Status conflict_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_PG_PG_AUDIT_INDEX_H_
