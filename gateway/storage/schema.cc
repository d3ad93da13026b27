#include "gateway/storage/schema.h"

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"

namespace lienthong::storage {

absl::StatusOr<int> SchemaVersion(Database& db) {
  LIENTHONG_ASSIGN_OR_RETURN(Statement get, db.Prepare("PRAGMA user_version"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
  const int version = row ? get.Int(0) : 0;
  if (version < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        db.label(), " '", db.path(), "' has schema version ", version,
        ", which no gateway writes: a damaged or foreign file"));
  }
  return version;
}

namespace {

absl::Status NewerThanKnown(const Database& db, int version, int known) {
  return absl::FailedPreconditionError(absl::StrCat(
      db.label(), " '", db.path(), "' has schema version ", version,
      ", newer than this gateway's ", known,
      "; run a newer gateway or restore an older file"));
}

}  // namespace

absl::Status CheckSchemaNotNewer(Database& db, int known_version) {
  LIENTHONG_ASSIGN_OR_RETURN(int version, SchemaVersion(db));
  if (version > known_version) return NewerThanKnown(db, version, known_version);
  return absl::OkStatus();
}

absl::StatusOr<int> UpgradeSchema(Database& db,
                                  absl::Span<const SchemaUpgrade> upgrades) {
  for (size_t i = 0; i < upgrades.size(); ++i) {
    if (upgrades[i].to_version != static_cast<int>(i) + 1) {
      return absl::InternalError(absl::StrCat(
          db.label(), ": schema upgrade ", i, " is numbered ",
          upgrades[i].to_version, "; upgrades must be numbered 1, 2, 3, ..."));
    }
  }
  const int latest = static_cast<int>(upgrades.size());
  LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db));
  LIENTHONG_ASSIGN_OR_RETURN(int found, SchemaVersion(db));
  if (found > latest) return NewerThanKnown(db, found, latest);
  if (found == latest) return found;
  for (const SchemaUpgrade& upgrade : upgrades.subspan(found)) {
    if (!upgrade.sql.empty()) LIENTHONG_RETURN_IF_ERROR(db.Exec(upgrade.sql));
    if (upgrade.apply) LIENTHONG_RETURN_IF_ERROR(upgrade.apply(db));
  }
  LIENTHONG_RETURN_IF_ERROR(
      db.Exec(absl::StrCat("PRAGMA user_version=", latest)));
  LIENTHONG_RETURN_IF_ERROR(txn.Commit());
  return found;
}

}  // namespace lienthong::storage
