// Schema versions of a PostgreSQL store, kept per component in the table
// lienthong_schema(component, version, applied_at). Forward migrations are
// applied by `lienthong-gateway --migrate` (Migrate), never at start: a
// gateway starts only on the version it was built for (CheckCurrent), so a
// replica of an older build cannot write a newer schema, nor a newer one
// change the database under older replicas by itself.
#ifndef LIENTHONG_GATEWAY_STORAGE_PG_PG_SCHEMA_H_
#define LIENTHONG_GATEWAY_STORAGE_PG_PG_SCHEMA_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gateway/storage/pg/pg_pool.h"

namespace lienthong::storage::pg {

// Migration i (from 0) brings the component from version i to i + 1.
struct Migration {
  // One or more statements, run in one transaction.
  const char* sql;
};

// Returns the component's stored version, 0 when it has none (a new
// database). UNAVAILABLE, INTERNAL. Thread-safe.
absl::StatusOr<int> StoredVersion(Pool& pool, absl::string_view component);

// Applies the migrations newer than the stored version, each in its own
// transaction, under an advisory lock so that replicas migrating at once
// do it one after the other. Returns the version reached
// (migrations.size()). FAILED_PRECONDITION when the database is newer
// than `migrations` knows; UNAVAILABLE; INTERNAL when a migration fails
// (its transaction is rolled back; earlier ones stay). Thread-safe.
absl::StatusOr<int> Migrate(Pool& pool, absl::string_view component,
                            absl::Span<const Migration> migrations);

// OK when the stored version is migrations.size(). FAILED_PRECONDITION
// saying what to do otherwise: older -> run `lienthong-gateway --migrate`;
// newer -> run a gateway built for that version (or restore a backup).
// UNAVAILABLE. Thread-safe.
absl::Status CheckCurrent(Pool& pool, absl::string_view component,
                          absl::Span<const Migration> migrations);

}  // namespace lienthong::storage::pg

#endif  // LIENTHONG_GATEWAY_STORAGE_PG_PG_SCHEMA_H_
