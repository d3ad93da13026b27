#include "gateway/storage/pg/pg_schema.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"

namespace lienthong::storage::pg {
namespace {

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS lienthong_schema("
    "component TEXT PRIMARY KEY, version INTEGER NOT NULL, "
    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

// Serialises migrations (and the table's creation) across replicas.
constexpr char kLock[] =
    "SELECT pg_advisory_xact_lock(hashtext('lienthong_schema'))";

absl::StatusOr<int> ReadVersion(Session& session,
                                absl::string_view component) {
  LIENTHONG_ASSIGN_OR_RETURN(
      Result exists,
      session.Exec("SELECT to_regclass('lienthong_schema') IS NOT NULL"));
  if (exists.Text(0, 0) != "t") return 0;
  LIENTHONG_ASSIGN_OR_RETURN(
      Result r, session.Exec("SELECT version FROM lienthong_schema "
                             "WHERE component=$1",
                             {std::string(component)}));
  return r.rows() == 0 ? 0 : static_cast<int>(r.Int64(0, 0));
}

absl::Status NewerError(absl::string_view component, int stored, int known) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the database's ", component, " schema is version ", stored,
      ", newer than this gateway's ", known,
      ": run a gateway built for version ", stored,
      " (or restore the database from before the migration)"));
}

}  // namespace

absl::StatusOr<int> StoredVersion(Pool& pool, absl::string_view component) {
  int version = 0;
  LIENTHONG_RETURN_IF_ERROR(pool.Transact([&](Session& session) {
    LIENTHONG_ASSIGN_OR_RETURN(version, ReadVersion(session, component));
    return absl::OkStatus();
  }));
  return version;
}

absl::StatusOr<int> Migrate(Pool& pool, absl::string_view component,
                            absl::Span<const Migration> migrations) {
  const int known = static_cast<int>(migrations.size());
  for (;;) {
    int reached = 0;
    bool done = false;
    LIENTHONG_RETURN_IF_ERROR(pool.Transact([&](Session& session) {
      // An index built over a large table, or a lock waited for behind the
      // running replicas, can take longer than the calls' statement
      // timeout; an operator runs --migrate and can stop it.
      LIENTHONG_RETURN_IF_ERROR(
          session.Exec("SET LOCAL statement_timeout = 0").status());
      session.SetAnswerWait(absl::InfiniteDuration());
      LIENTHONG_RETURN_IF_ERROR(session.Exec(kLock).status());
      LIENTHONG_RETURN_IF_ERROR(session.Exec(kCreateTable).status());
      LIENTHONG_ASSIGN_OR_RETURN(int stored, ReadVersion(session, component));
      if (stored > known) return NewerError(component, stored, known);
      done = stored == known;
      reached = stored;
      if (done) return absl::OkStatus();
      absl::Status applied = session.ExecScript(migrations[stored].sql);
      if (!applied.ok()) {
        return absl::InternalError(absl::StrCat(
            component, " schema migration to version ", stored + 1,
            " failed: ", applied.message()));
      }
      reached = stored + 1;
      return session
          .Exec("INSERT INTO lienthong_schema(component, version) "
                "VALUES($1, $2) ON CONFLICT (component) DO UPDATE SET "
                "version=EXCLUDED.version, applied_at=now()",
                {std::string(component), absl::StrCat(reached)})
          .status();
    }));
    if (done) return reached;
  }
}

absl::Status CheckCurrent(Pool& pool, absl::string_view component,
                          absl::Span<const Migration> migrations) {
  const int known = static_cast<int>(migrations.size());
  LIENTHONG_ASSIGN_OR_RETURN(int stored, StoredVersion(pool, component));
  if (stored > known) return NewerError(component, stored, known);
  if (stored < known) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database's ", component, " schema is version ", stored,
        ", older than this gateway's ", known,
        ": run `lienthong-gateway --config <file> --migrate` first"));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::storage::pg
