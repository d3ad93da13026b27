// The SQLite layer under the gateway's embedded stores (the audit index, the
// portal outbox): one connection (Database), its prepared statements
// (Statement) with typed binds and column reads, and transactions
// (Transaction). Schema versions and upgrades are in schema.h.
//
//   StatusOr<unique_ptr<Database>> db = Database::Open(path, {.label = "outbox"});
//   LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(**db));
//   LIENTHONG_ASSIGN_OR_RETURN(Statement up,
//       (*db)->Cached("UPDATE items SET state=? WHERE id=?"));
//   LIENTHONG_RETURN_IF_ERROR(up.Bind(1, ItemState::kDone).Bind(2, id).Run());
//   LIENTHONG_RETURN_IF_ERROR(txn.Commit());  // else rolled back when dropped
//
// Errors: every SQLite failure is UNAVAILABLE with "<label>: <operation>:
// <SQLite's reason>" (e.g. "audit store: insert record: UNIQUE constraint
// failed: records.sequence"). Messages name the operation and, for prepare
// and exec, the SQL text the program wrote; they never contain a bound
// value, so personal data bound into a statement cannot reach a log.
//
// Threads: a Database and its statements are thread-compatible (opened
// with SQLITE_OPEN_NOMUTEX): one thread at a time, the caller's lock.
// Separate Database objects on the same file may be used concurrently;
// SQLite's locks and the busy timeout arbitrate between them.
#ifndef LIENTHONG_GATEWAY_STORAGE_DATABASE_H_
#define LIENTHONG_GATEWAY_STORAGE_DATABASE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace lienthong::storage {

// PRAGMA synchronous. kFull: a commit that returned survives a power cut
// (in WAL mode); kNormal: it survives a crash of the process.
enum class Synchronous { kOff, kNormal, kFull, kExtra };

struct OpenOptions {
  // Names the store in error messages ("audit store", "outbox store").
  std::string label = "database";
  // Read-only connections never create the file, change its mode or set
  // pragmas that write; they read a WAL database as it is.
  bool read_only = false;
  // Read-write only: create the file when it is missing.
  bool create = true;
  // Read-write only: create missing folders above the file (mode 0700).
  bool create_folders = false;
  // Read-write only: switch to write-ahead logging (persistent in the file).
  bool wal = true;
  Synchronous synchronous = Synchronous::kFull;
  // How long a statement waits for a lock another connection holds before
  // failing with UNAVAILABLE ("database is locked").
  absl::Duration busy_timeout = absl::Seconds(5);
  // The connection's page cache in KiB; 0 keeps SQLite's default (2 MiB).
  int cache_size_kib = 0;
  // WAL pages after which a commit folds the log into the database; 0
  // keeps SQLite's default (1,000).
  int wal_autocheckpoint_pages = 0;
  bool foreign_keys = false;
  // Read-write only: true overwrites deleted content with zeros rather than
  // leaving it in free pages (PRAGMA secure_delete), for stores that wipe
  // personal data; false leaves it; nullopt keeps how SQLite was built
  // (Debian's builds zero, SQLite's own default does not).
  std::optional<bool> secure_delete;
};

// Creates `folder` and any missing folders above it with mode 0700 (an
// existing folder is left as it is). UNAVAILABLE naming the folder that
// could not be made. Thread-safe.
absl::Status MakeFolders(const std::string& folder);

// Checks, without creating or changing anything, that Database::Open(path,
// options) could succeed: an existing file is opened read-only (a file that
// is not a database fails as Open would) and, unless options.read_only,
// must be writable, as must its folder (UNAVAILABLE "is not writable"); a
// missing one needs options.create and a writable folder to be made in
// (with create_folders, the nearest existing folder above it). Fails with
// Open's codes. Thread-safe.
absl::Status CheckOpenable(const std::string& path, const OpenOptions& options);

// What a path is to be made as.
enum class PathKind { kFile, kFolder };

// Checks, without creating or changing anything, that this process can use
// `path` as a `kind` it writes to, making it (and the folders above it, as
// MakeFolders does) if missing: an existing path must be of that kind and
// writable (a folder also searchable); else the nearest existing folder
// above it must be a writable folder. UNAVAILABLE starting with `label`
// and naming the path. Thread-safe.
absl::Status CheckCreatable(const std::string& path, PathKind kind,
                            absl::string_view label);

// The folder holding `path` ("." for a bare name, "/" for one at the root).
std::string FolderOf(const std::string& path);

class Database;

// One prepared statement. Move-only. Either owned (Database::Prepare:
// finalized when dropped) or borrowed from the connection's cache
// (Database::Cached: reset and unbound when dropped, kept for reuse).
//
// Binds are 1-based, columns 0-based, as in SQLite. Text and blob binds
// copy their bytes unless named *View. Column reads of a row are valid
// after Step() returned true and until the next Step(), Reset() or drop.
// REQUIRES: the Database outlives the statement.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) {
    return Bind(index, static_cast<int64_t>(value));
  }
  Statement& Bind(int index, absl::string_view text);
  Statement& Bind(int index, const std::string& text) {
    return Bind(index, absl::string_view(text));
  }
  Statement& Bind(int index, const char* text) {
    return Bind(index, absl::string_view(text));
  }
  // NULL when `text` is nullopt.
  Statement& Bind(int index, const std::optional<std::string>& text);
  // An enum is stored as its underlying number, so that SQL never spells
  // a state as a bare number: Bind(1, ItemState::kPending).
  template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
  Statement& Bind(int index, E value) {
    return Bind(index, static_cast<int64_t>(value));
  }
  Statement& BindBlob(int index, absl::string_view bytes);
  Statement& BindNull(int index);
  // As Bind(text), without copying. REQUIRES: `text` stays valid until the
  // statement is next stepped to completion, reset or dropped.
  Statement& BindView(int index, absl::string_view text);

  // Runs one step: true with a row to read, false when done. UNAVAILABLE
  // when SQLite fails (busy past the timeout, constraint, I/O).
  absl::StatusOr<bool> Step();
  // Steps until done, for statements whose rows (if any) do not matter.
  absl::Status Run();
  // Steps through the rows, calling `visit` on each until it returns false.
  absl::Status ForEachRow(absl::FunctionRef<bool()> visit);
  // Back to before the first step, bindings cleared.
  void Reset();

  int64_t Int64(int column) const;
  int Int(int column) const;
  bool IsNull(int column) const;
  // The column's bytes ("" for NULL); Blob is the same, named for readers.
  std::string Text(int column) const;
  std::string Blob(int column) const { return Text(column); }
  std::optional<std::string> OptionalText(int column) const;
  // The column as an enum that must be one of `allowed`: a stored number
  // outside them (a damaged or foreign file) is DATA_LOSS, not a value the
  // program never defined.
  template <typename E, size_t N>
  absl::StatusOr<E> Enum(int column, const E (&allowed)[N]) const {
    const int64_t stored = Int64(column);
    for (E value : allowed) {
      if (static_cast<int64_t>(value) == stored) return value;
    }
    return BadEnum(column, stored);
  }

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* stmt, bool owned)
      : db_(db), stmt_(stmt), owned_(owned) {}
  absl::Status BadEnum(int column, int64_t stored) const;

  Database* db_;
  sqlite3_stmt* stmt_;
  bool owned_;
};

// One SQLite connection.
class Database {
 public:
  // Opens (read-write: creating when allowed) the database at `path` and
  // applies `options`. A file this creates has mode 0600, and so have its
  // -wal and -shm files, which SQLite gives the database file's mode; an
  // existing file readable by others is narrowed to 0600.
  //
  // Fails with UNAVAILABLE when the file cannot be opened, cannot be written
  // (read-write opens: "is not writable", where SQLite itself would fall
  // back to reading only), is not an SQLite database, or WAL cannot be
  // switched on; NOT_FOUND when it is missing and may not be created
  // (read_only or !create).
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const std::string& path, const OpenOptions& options);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  const std::string& label() const { return options_.label; }

  // Runs `sql`, one or more statements without parameters (schema, pragmas).
  absl::Status Exec(absl::string_view sql);

  // Returns a new statement for `sql`, finalized when dropped.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // Returns the connection's statement for `sql`, prepared on first use and
  // kept until the Database closes; reset when the returned handle drops.
  // For statements a store runs over and over. The cache is keyed by the
  // text, so `sql` may be built at run time, but a store should use a
  // bounded set of texts. REQUIRES: no other handle to the same text is
  // alive (one use at a time).
  absl::StatusOr<Statement> Cached(absl::string_view sql);

  // The rowid of the last successful INSERT on this connection.
  int64_t LastInsertId() const;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int Changes() const;
  // False inside a transaction.
  bool InAutocommit() const;

  // UNAVAILABLE "<label>: <operation>: <SQLite's last error>".
  absl::Status Error(absl::string_view operation) const;

 private:
  Database(std::string path, OpenOptions options, sqlite3* db)
      : path_(std::move(path)), options_(std::move(options)), db_(db) {}
  absl::Status Configure();

  const std::string path_;
  const OpenOptions options_;
  sqlite3* const db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> cache_;
};

// A write (BEGIN IMMEDIATE: takes the write lock at once, waiting up to the
// busy timeout) or read (BEGIN DEFERRED) transaction. Move-only; rolled back
// when dropped uncommitted, so an early error return undoes its writes.
// REQUIRES: the Database outlives it; no transaction is open on it.
class Transaction {
 public:
  enum class Kind { kWrite, kRead };

  // Fails with UNAVAILABLE (e.g. busy past the timeout).
  static absl::StatusOr<Transaction> Begin(Database& db,
                                           Kind kind = Kind::kWrite);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // Commits. On failure (UNAVAILABLE) what SQLite left open is rolled back
  // when the Transaction drops, and nothing of it is durable.
  absl::Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
  bool open_ = true;
};

}  // namespace lienthong::storage

#endif  // LIENTHONG_GATEWAY_STORAGE_DATABASE_H_
