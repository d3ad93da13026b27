#include "gateway/bundle/bundle_store.h"

#include <openssl/crypto.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/bundle/proto_time.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/schema.h"

namespace lienthong::bundle {
namespace {

using internal::StoredBundle;
using storage::Database;
using storage::Statement;
using storage::Transaction;

// What every record is sealed under, beside its bundle's id: a record
// cannot be moved to another row unnoticed.
std::string Place(absl::string_view id) { return absl::StrCat("bundle:", id); }

// Where the store's key check (OutboxCipher::SealKeyCheck), made with the
// store (or at its upgrade), is sealed.
constexpr char kKeyCheckPlace[] = "bundle-store:key-check";

// Version 2 seals the records of version 1 (kept in the clear before).
absl::Status SealPlainRecords(storage::Database& db,
                              const sync::OutboxCipher& cipher) {
  std::vector<std::pair<std::string, std::string>> plain;
  {
    LIENTHONG_ASSIGN_OR_RETURN(Statement q,
                               db.Prepare("SELECT id, record FROM bundles"));
    LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
      plain.emplace_back(q.Text(0), q.Blob(1));
      return true;
    }));
  }
  for (auto& [id, record] : plain) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string sealed,
                               cipher.Seal(record, Place(id)));
    OPENSSL_cleanse(record.data(), record.size());
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement update,
        db.Cached("UPDATE bundles SET record = ? WHERE id = ?"));
    LIENTHONG_RETURN_IF_ERROR(update.BindBlob(1, sealed).Bind(2, id).Run());
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::string check,
                             cipher.SealKeyCheck(kKeyCheckPlace));
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO bundle_store_keys(name, sealed) VALUES(?, ?)"));
  return insert.Bind(1, "key-check").BindBlob(2, check).Run();
}

// `needs_work`: not ended, or progress not yet handed to the portal sync.
// The upgrades; version 2 needs the cipher.
std::vector<storage::SchemaUpgrade> Upgrades(const sync::OutboxCipher* cipher) {
  return {
      {1,
       "CREATE TABLE bundles("
       "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
       "  id TEXT NOT NULL UNIQUE,"
       "  dossier_code TEXT NOT NULL UNIQUE,"
       "  kind INTEGER NOT NULL,"
       "  state INTEGER NOT NULL,"
       "  needs_work INTEGER NOT NULL,"
       "  created_us INTEGER NOT NULL,"
       "  updated_us INTEGER NOT NULL,"
       "  record BLOB NOT NULL);"
       "CREATE INDEX bundles_by_state ON bundles(state, seq);"
       "CREATE INDEX bundles_with_work ON bundles(needs_work, seq);",
       nullptr},
      {2,
       "CREATE TABLE bundle_store_keys(name TEXT PRIMARY KEY, sealed BLOB NOT "
       "NULL);",
       [cipher](storage::Database& db) {
         return SealPlainRecords(db, *cipher);
       }},
  };
}

storage::OpenOptions StoreOptions(bool read_only) {
  storage::OpenOptions options;
  options.label = "bundle store";
  options.read_only = read_only;
  options.create_folders = !read_only;
  // A record rewritten (sealed at the upgrade, or changed) leaves nothing
  // of its old bytes in free pages.
  if (!read_only) options.secure_delete = true;
  return options;
}

bool NeedsWork(const StoredBundle& b) {
  const bool ended = b.state() == lienthong::v1::BUNDLE_COMPLETED ||
                     b.state() == lienthong::v1::BUNDLE_STOPPED;
  return !ended || b.progress_queued() < b.progress_size();
}

constexpr char kSelect[] = "SELECT seq, id, record FROM bundles ";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteBundleStore>> SqliteBundleStore::Open(
    const std::string& path, absl::string_view key) {
  LIENTHONG_ASSIGN_OR_RETURN(sync::OutboxCipher cipher,
                             sync::OutboxCipher::Create(key));
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                             Database::Open(path, StoreOptions(false)));
  const std::vector<storage::SchemaUpgrade> upgrades = Upgrades(&cipher);
  static_assert(kBundleStoreSchemaVersion == 2, "Upgrades() ends there");
  LIENTHONG_RETURN_IF_ERROR(storage::UpgradeSchema(*db, upgrades).status());
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement check,
      db->Prepare(
          "SELECT sealed FROM bundle_store_keys WHERE name = 'key-check'"));
  LIENTHONG_ASSIGN_OR_RETURN(bool found, check.Step());
  if (!found || !cipher.KeyCheckOpens(check.Blob(0), kKeyCheckPlace)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "bundle store '", path,
        "' was sealed under another key than the one configured "
        "(bundles.key_file, or the development key beside the store)"));
  }
  return std::unique_ptr<SqliteBundleStore>(
      new SqliteBundleStore(std::move(db), std::move(cipher)));
}

absl::Status SqliteBundleStore::Check(const std::string& path) {
  storage::OpenOptions options = StoreOptions(false);
  LIENTHONG_RETURN_IF_ERROR(storage::CheckOpenable(path, options));
  absl::StatusOr<std::unique_ptr<Database>> existing =
      Database::Open(path, StoreOptions(true));
  if (absl::IsNotFound(existing.status())) return absl::OkStatus();
  if (!existing.ok()) return existing.status();
  return storage::CheckSchemaNotNewer(**existing, kBundleStoreSchemaVersion);
}

absl::StatusOr<std::vector<StoredRow>> SqliteBundleStore::Rows(
    Statement& statement) {
  std::vector<StoredRow> rows;
  absl::Status failed;
  LIENTHONG_RETURN_IF_ERROR(statement.ForEachRow([&] {
    StoredRow row;
    row.seq = statement.Int64(0);
    absl::StatusOr<std::string> plain =
        cipher_.Open(statement.Blob(2), Place(statement.Text(1)));
    const bool parsed = plain.ok() && row.bundle.ParseFromString(*plain);
    if (plain.ok()) OPENSSL_cleanse(plain->data(), plain->size());
    if (!parsed) {
      failed = absl::DataLossError(
          absl::StrCat("bundle store: the record of bundle ", row.seq,
                       plain.ok() ? " cannot be read"
                                  : " fails its seal (altered or moved)"));
      return false;
    }
    rows.push_back(std::move(row));
    return true;
  }));
  LIENTHONG_RETURN_IF_ERROR(failed);
  return rows;
}

absl::StatusOr<std::vector<StoredRow>> SqliteBundleStore::LoadOpen() {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db_->Prepare(absl::StrCat(kSelect, "WHERE needs_work = 1 ORDER BY seq")));
  return Rows(q);
}

absl::StatusOr<std::vector<int64_t>> SqliteBundleStore::Write(
    absl::Span<const StoredBundle* const> bundles) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
  std::vector<int64_t> seqs;
  const int64_t now_us = absl::ToUnixMicros(absl::Now());
  for (const StoredBundle* bundle : bundles) {
    {
      LIENTHONG_ASSIGN_OR_RETURN(
          Statement owner,
          db_->Cached("SELECT id FROM bundles WHERE dossier_code = ?"));
      LIENTHONG_ASSIGN_OR_RETURN(bool found,
                                 owner.Bind(1, bundle->dossier_code()).Step());
      if (found && owner.Text(0) != bundle->id()) {
        return absl::AlreadyExistsError(
            absl::StrCat("dossier ", bundle->dossier_code(),
                         " already has a bundle"));
      }
    }
    std::string plain = bundle->SerializeAsString();
    absl::StatusOr<std::string> sealed_or =
        cipher_.Seal(plain, Place(bundle->id()));
    OPENSSL_cleanse(plain.data(), plain.size());
    LIENTHONG_ASSIGN_OR_RETURN(std::string sealed, std::move(sealed_or));
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement upsert,
        db_->Cached("INSERT INTO bundles(id, dossier_code, kind, state, "
                    "needs_work, created_us, updated_us, record) "
                    "VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
                    "SET state = excluded.state, needs_work = "
                    "excluded.needs_work, updated_us = excluded.updated_us, "
                    "record = excluded.record "
                    "WHERE bundles.dossier_code = excluded.dossier_code"));
    LIENTHONG_RETURN_IF_ERROR(
        upsert.Bind(1, bundle->id())
            .Bind(2, bundle->dossier_code())
            .Bind(3, static_cast<int64_t>(bundle->kind()))
            .Bind(4, static_cast<int64_t>(bundle->state()))
            .Bind(5, NeedsWork(*bundle) ? 1 : 0)
            .Bind(6, absl::ToUnixMicros(FromProtoTime(bundle->created())))
            .Bind(7, now_us)
            .BindBlob(8, sealed)
            .Run());
    // An id already another dossier's bundle: that record is left alone.
    if (db_->Changes() != 1) {
      return absl::AlreadyExistsError(absl::StrCat(
          "bundle id ", bundle->id(), " is already another dossier's"));
    }
    LIENTHONG_ASSIGN_OR_RETURN(Statement seq,
                               db_->Cached("SELECT seq FROM bundles WHERE id = ?"));
    LIENTHONG_ASSIGN_OR_RETURN(bool found, seq.Bind(1, bundle->id()).Step());
    if (!found) return absl::InternalError("bundle store: row vanished");
    seqs.push_back(seq.Int64(0));
  }
  LIENTHONG_RETURN_IF_ERROR(txn.Commit());
  return seqs;
}

absl::StatusOr<std::optional<StoredRow>> SqliteBundleStore::Get(
    absl::string_view id) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q, db_->Cached(absl::StrCat(kSelect, "WHERE id = ?")));
  q.Bind(1, id);
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<StoredRow> rows, Rows(q));
  if (rows.empty()) return std::nullopt;
  return std::move(rows[0]);
}

absl::StatusOr<std::optional<StoredRow>> SqliteBundleStore::FindByDossier(
    absl::string_view dossier_code) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q, db_->Cached(absl::StrCat(kSelect, "WHERE dossier_code = ?")));
  q.Bind(1, dossier_code);
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<StoredRow> rows, Rows(q));
  if (rows.empty()) return std::nullopt;
  return std::move(rows[0]);
}

absl::StatusOr<std::vector<StoredRow>> SqliteBundleStore::List(
    const BundleQuery& query) {
  std::string sql = absl::StrCat(kSelect, "WHERE seq > ?");
  if (!query.states.empty()) {
    std::vector<std::string> states;
    for (lienthong::v1::BundleState s : query.states) {
      states.push_back(absl::StrCat(static_cast<int>(s)));
    }
    absl::StrAppend(&sql, " AND state IN (", absl::StrJoin(states, ","), ")");
  }
  if (query.kind != lienthong::v1::BUNDLE_KIND_UNSPECIFIED) {
    absl::StrAppend(&sql, " AND kind = ", static_cast<int>(query.kind));
  }
  absl::StrAppend(&sql, " ORDER BY seq LIMIT ?");
  absl::MutexLock lock(&mu_);
  // Built from enum numbers only: a bounded set of texts, prepared once
  // each.
  LIENTHONG_ASSIGN_OR_RETURN(Statement q, db_->Prepare(sql));
  q.Bind(1, query.after_seq).Bind(2, query.limit);
  return Rows(q);
}

absl::StatusOr<int> SqliteBundleStore::DeleteEnded(absl::Time before,
                                                   int limit) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q,
      db_->Cached("DELETE FROM bundles WHERE seq IN (SELECT seq FROM bundles "
                  "WHERE needs_work = 0 AND updated_us < ? ORDER BY seq "
                  "LIMIT ?)"));
  LIENTHONG_RETURN_IF_ERROR(
      q.Bind(1, absl::ToUnixMicros(before)).Bind(2, limit).Run());
  return db_->Changes();
}

absl::Status SqliteBundleStore::CheckIntegrity() {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(Statement q, db_->Prepare("PRAGMA integrity_check"));
  LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.Text(0) != "ok") {
    return absl::InternalError(
        absl::StrCat("bundle store: integrity check: ", row ? q.Text(0) : ""));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::bundle
