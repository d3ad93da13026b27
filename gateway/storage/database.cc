#include "gateway/storage/database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"

namespace lienthong::storage {
namespace {

constexpr mode_t kFileMode = 0600;

// The SQL a program wrote, for an error message: its start, on one line.
std::string Excerpt(absl::string_view sql) {
  constexpr size_t kMax = 80;
  std::string out;
  for (char c : sql.substr(0, kMax)) {
    out.push_back(c == '\n' || c == '\t' ? ' ' : c);
  }
  if (sql.size() > kMax) out += "...";
  return out;
}

absl::string_view SynchronousName(Synchronous mode) {
  switch (mode) {
    case Synchronous::kOff: return "OFF";
    case Synchronous::kNormal: return "NORMAL";
    case Synchronous::kFull: return "FULL";
    case Synchronous::kExtra: return "EXTRA";
  }
  return "FULL";
}

// Makes `path` exist with mode 0600 (SQLite would make it 0644 less the
// umask, and its -wal and -shm files take the database file's mode), or
// narrows the mode of an existing file and its companions to 0600.
absl::Status PrepareFile(const std::string& path, const OpenOptions& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return absl::UnavailableError(absl::StrCat(
          options.label, ": cannot open '", path, "': ", std::strerror(errno)));
    }
    if (!options.create) {
      return absl::NotFoundError(
          absl::StrCat(options.label, ": '", path, "' does not exist"));
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                          kFileMode);
    if (fd < 0 && errno != EEXIST) {
      return absl::UnavailableError(absl::StrCat(options.label,
                                                 ": cannot create '", path,
                                                 "': ", std::strerror(errno)));
    }
    if (fd >= 0) ::close(fd);
    return absl::OkStatus();
  }
  // A file someone else owns keeps its mode (chmod fails); opening decides.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = absl::StrCat(path, suffix);
    if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        (st.st_mode & 0077) != 0) {
      ::chmod(file.c_str(), kFileMode);
    }
  }
  return absl::OkStatus();
}

bool IsFolder(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Why this process cannot write the existing `path`, for an operator: the
// usual case is a file restored from a backup as root's with mode 0644, so
// the owner, the mode and our uid are named along with the error.
// `error` is what access(2) said, or 0 when it said nothing.
std::string WhyNotWritable(const std::string& path, int error) {
  std::string why = error != 0 ? std::strerror(error)
                               : "SQLite could open it for reading only";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    absl::StrAppend(&why, "; it is owned by uid ", st.st_uid, " with mode 0",
                    (st.st_mode >> 6) & 7, (st.st_mode >> 3) & 7,
                    st.st_mode & 7, ", and this process runs as uid ",
                    ::geteuid());
  }
  return why;
}

absl::Status NotWritable(const std::string& path, absl::string_view label,
                         absl::string_view reason) {
  return absl::UnavailableError(
      absl::StrCat(label, ": '", path, "' is not writable (", reason, ")"));
}

// Checks that the missing `path` can be made in `folder`, or (with
// `folders_too`) below the nearest existing folder above it, where
// MakeFolders would start.
absl::Status CheckCanMakeIn(const std::string& path, std::string folder,
                            bool folders_too, absl::string_view label) {
  while (folders_too && ::access(folder.c_str(), F_OK) != 0 &&
         FolderOf(folder) != folder) {
    folder = FolderOf(folder);
  }
  if (!IsFolder(folder)) {
    return absl::UnavailableError(absl::StrCat(
        label, ": cannot create '", path, "': '", folder, "' is not a folder"));
  }
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    return absl::UnavailableError(absl::StrCat(label, ": cannot create '", path,
                                               "': the folder '", folder,
                                               "' is not writable"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string FolderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status MakeFolders(const std::string& folder) {
  if (folder.empty() || IsFolder(folder)) return absl::OkStatus();
  const std::string parent = FolderOf(folder);
  if (parent != folder) LIENTHONG_RETURN_IF_ERROR(MakeFolders(parent));
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create the folder '", folder, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status CheckOpenable(const std::string& path,
                           const OpenOptions& options) {
  if (::access(path.c_str(), F_OK) == 0) {
    // Open fails on a file it could open only read-only; the read-only
    // open below would not notice, so write access is checked here.
    if (!options.read_only) {
      if (::access(path.c_str(), R_OK | W_OK) != 0) {
        return NotWritable(path, options.label, WhyNotWritable(path, errno));
      }
      // SQLite makes the -wal and -shm (or -journal) files beside it.
      const std::string folder = FolderOf(path);
      if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        return NotWritable(
            path, options.label,
            absl::StrCat("its folder '", folder,
                         "' is not writable: ", std::strerror(errno),
                         "; SQLite makes the -wal and "
                         "-shm files there"));
      }
    }
    OpenOptions read_only = options;
    read_only.read_only = true;
    return Database::Open(path, read_only).status();
  }
  if (options.read_only || !options.create) {
    return absl::NotFoundError(
        absl::StrCat(options.label, ": '", path, "' does not exist"));
  }
  return CheckCanMakeIn(path, FolderOf(path), options.create_folders,
                        options.label);
}

absl::Status CheckCreatable(const std::string& path, PathKind kind,
                            absl::string_view label) {
  const bool folder = kind == PathKind::kFolder;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (folder != S_ISDIR(st.st_mode)) {
      return absl::UnavailableError(
          absl::StrCat(label, ": '", path, "' is ",
                       folder ? "not a folder" : "a folder, not a file"));
    }
    if (::access(path.c_str(), folder ? W_OK | X_OK : W_OK) != 0) {
      return NotWritable(path, label, WhyNotWritable(path, errno));
    }
    return absl::OkStatus();
  }
  return CheckCanMakeIn(path, FolderOf(path), /*folders_too=*/true, label);
}

// ---- Statement --------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      owned_(other.owned_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    Reset();
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, absl::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, const std::optional<std::string>& text) {
  return text.has_value() ? Bind(index, *text) : BindNull(index);
}

Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::BindView(int index, absl::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_STATIC);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error("step");
}

absl::Status Statement::Run() {
  for (;;) {
    LIENTHONG_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return absl::OkStatus();
  }
}

absl::Status Statement::ForEachRow(absl::FunctionRef<bool()> visit) {
  for (;;) {
    LIENTHONG_ASSIGN_OR_RETURN(bool row, Step());
    if (!row || !visit()) return absl::OkStatus();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::Int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

int Statement::Int(int column) const {
  return sqlite3_column_int(stmt_, column);
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string Statement::Text(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

std::optional<std::string> Statement::OptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

absl::Status Statement::BadEnum(int column, int64_t stored) const {
  const char* name = sqlite3_column_name(stmt_, column);
  return absl::DataLossError(absl::StrCat(
      db_->label(), ": column '", name == nullptr ? "?" : name,
      "' holds ", stored, ", which is not one of its states"));
}

// ---- Database ---------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const std::string& path, const OpenOptions& options) {
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat(options.label, ": '", path, "' does not exist"));
    }
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create_folders) {
      absl::Status made = MakeFolders(FolderOf(path));
      if (!made.ok()) {
        return absl::UnavailableError(
            absl::StrCat(options.label, ": ", made.message()));
      }
    }
    LIENTHONG_RETURN_IF_ERROR(PrepareFile(path, options));
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why =
        raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return absl::UnavailableError(
        absl::StrCat(options.label, ": cannot open '", path, "': ", why));
  }
  // SQLite opens a file it may not write read-only, without an error; the
  // gateway would then start and fail every write.
  if (!options.read_only && sqlite3_db_readonly(raw, "main") == 1) {
    sqlite3_close(raw);
    return NotWritable(
        path, options.label,
        WhyNotWritable(path, ::access(path.c_str(), W_OK) != 0 ? errno : 0));
  }
  std::unique_ptr<Database> db(new Database(path, options, raw));
  LIENTHONG_RETURN_IF_ERROR(db->Configure());
  return db;
}

absl::Status Database::Configure() {
  sqlite3_busy_timeout(
      db_,
      static_cast<int>(absl::ToInt64Milliseconds(options_.busy_timeout)));
  if (options_.cache_size_kib > 0) {
    LIENTHONG_RETURN_IF_ERROR(
        Exec(absl::StrCat("PRAGMA cache_size=-", options_.cache_size_kib)));
  }
  if (options_.read_only) {
    // Reading the schema now turns "not a database" into an open error.
    if (!Exec("SELECT count(*) FROM sqlite_master").ok()) {
      return Error(absl::StrCat("cannot read '", path_, "'"));
    }
    return absl::OkStatus();
  }
  if (options_.wal) {
    LIENTHONG_ASSIGN_OR_RETURN(Statement wal,
                               Prepare("PRAGMA journal_mode=WAL"));
    absl::StatusOr<bool> row = wal.Step();
    if (!row.ok()) return Error(absl::StrCat("cannot read '", path_, "'"));
    if (!*row || wal.Text(0) != "wal") {
      return absl::UnavailableError(absl::StrCat(
          options_.label, ": cannot switch '", path_, "' to write-ahead "
          "logging"));
    }
  } else if (!Exec("SELECT count(*) FROM sqlite_master").ok()) {
    return Error(absl::StrCat("cannot read '", path_, "'"));
  }
  LIENTHONG_RETURN_IF_ERROR(Exec(absl::StrCat(
      "PRAGMA synchronous=", SynchronousName(options_.synchronous))));
  if (options_.wal_autocheckpoint_pages > 0) {
    LIENTHONG_RETURN_IF_ERROR(Exec(absl::StrCat(
        "PRAGMA wal_autocheckpoint=", options_.wal_autocheckpoint_pages)));
  }
  if (options_.foreign_keys) {
    LIENTHONG_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
  }
  if (options_.secure_delete.has_value()) {
    LIENTHONG_RETURN_IF_ERROR(Exec(*options_.secure_delete
                                       ? "PRAGMA secure_delete=ON"
                                       : "PRAGMA secure_delete=OFF"));
  }
  return absl::OkStatus();
}

Database::~Database() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

absl::Status Database::Exec(absl::string_view sql) {
  const std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    return Error(absl::StrCat("exec \"", Excerpt(sql), "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Database::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt,
                         nullptr) != SQLITE_OK) {
    return Error(absl::StrCat("prepare \"", Excerpt(sql), "\""));
  }
  return Statement(this, stmt, /*owned=*/true);
}

absl::StatusOr<Statement> Database::Cached(absl::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK) {
      return Error(absl::StrCat("prepare \"", Excerpt(sql), "\""));
    }
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Statement(this, it->second, /*owned=*/false);
}

int64_t Database::LastInsertId() const {
  return sqlite3_last_insert_rowid(db_);
}

int Database::Changes() const { return sqlite3_changes(db_); }

bool Database::InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

absl::Status Database::Error(absl::string_view operation) const {
  return absl::UnavailableError(
      absl::StrCat(options_.label, ": ", operation, ": ", sqlite3_errmsg(db_)));
}

// ---- Transaction ------------------------------------------------------------

absl::StatusOr<Transaction> Transaction::Begin(Database& db, Kind kind) {
  absl::Status begun =
      kind == Kind::kWrite ? db.Exec("BEGIN IMMEDIATE") : db.Exec("BEGIN");
  if (!begun.ok()) return db.Error("begin");
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(other.db_), open_(std::exchange(other.open_, false)) {}

Transaction::~Transaction() {
  // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or SQLite
  // may have rolled it back already; only an open one needs rolling back.
  if (open_ && !db_->InAutocommit()) db_->Exec("ROLLBACK").IgnoreError();
}

absl::Status Transaction::Commit() {
  if (!db_->Exec("COMMIT").ok()) return db_->Error("commit");
  open_ = false;
  return absl::OkStatus();
}

}  // namespace lienthong::storage
