// Schema versions of an embedded store, kept in PRAGMA user_version, and the
// ordered forward upgrades that bring an older file to the version the code
// knows.
//
//   const SchemaUpgrade kUpgrades[] = {
//       {1, "CREATE TABLE items(...); CREATE INDEX ...;"},
//       {2, "ALTER TABLE items ADD COLUMN job_id TEXT;"},
//       {3, "", [](Database& db) { return Backfill(db); }},
//   };
//   LIENTHONG_RETURN_IF_ERROR(UpgradeSchema(*db, kUpgrades).status());
//
// A new file (version 0) runs every upgrade; a file at version v runs those
// above v; a file newer than the code is refused. A version once released
// is never edited: a change is a new upgrade at the end.
#ifndef LIENTHONG_GATEWAY_STORAGE_SCHEMA_H_
#define LIENTHONG_GATEWAY_STORAGE_SCHEMA_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gateway/storage/database.h"

namespace lienthong::storage {

// One step: brings a database from version `to_version - 1` to
// `to_version` by running `sql` (may be empty), then `apply` (may be null)
// for what SQL alone cannot do.
struct SchemaUpgrade {
  int to_version = 0;
  absl::string_view sql;
  std::function<absl::Status(Database&)> apply;
};

// Returns the database's schema version (0 for a new file). UNAVAILABLE
// when it cannot be read; FAILED_PRECONDITION when it is negative (no
// gateway's file). Thread-compatible, as the Database.
absl::StatusOr<int> SchemaVersion(Database& db);

// Returns OK when `db` is at most at `known_version`; otherwise
// FAILED_PRECONDITION: "<label> '<path>' has schema version V, newer than
// this gateway's K; run a newer gateway or restore an older file". For
// read-only checks (lienthong-gateway --check).
absl::Status CheckSchemaNotNewer(Database& db, int known_version);

// Brings `db` to the last version of `upgrades`, running the missing ones
// in order inside one write transaction, so a failure leaves the file as
// it was. Returns the version found before (0: the file was new).
//
// Fails with FAILED_PRECONDITION when the file's version is newer than the
// last upgrade (see CheckSchemaNotNewer), UNAVAILABLE when SQLite fails, or
// what an `apply` returned. INTERNAL when `upgrades` is not numbered
// 1, 2, 3, ... (a programming error).
// REQUIRES: no transaction is open on `db`.
absl::StatusOr<int> UpgradeSchema(Database& db,
                                  absl::Span<const SchemaUpgrade> upgrades);

}  // namespace lienthong::storage

#endif  // LIENTHONG_GATEWAY_STORAGE_SCHEMA_H_
