// Internal to the outbox (gateway/sync/outbox*.cc): the SQLite connection
// with its statement cache and transactions, and small conversions the
// outbox's files share. Not for use outside them.
#ifndef LIENTHONG_GATEWAY_SYNC_OUTBOX_DB_H_
#define LIENTHONG_GATEWAY_SYNC_OUTBOX_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/outbox.h"
#include "google/protobuf/timestamp.pb.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync {
namespace outbox_internal {

// Times in the store are Unix microseconds.
inline int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// The key of a queue in Outbox::open_: "<p|d><code>".
inline std::string MapKey(ItemKind kind, absl::string_view code) {
  return absl::StrCat(kind == ItemKind::kProcedure ? "p" : "d", code);
}

// A dossier update's identity for duplicate detection:
// "MaHoSo|status|seconds.nanos".
inline std::string DedupKey(const lienthong::v1::DossierStatusUpdate& u) {
  return absl::StrCat(u.dossier_code(), "|", static_cast<int>(u.status()), "|",
                      u.time().seconds(), ".", u.time().nanos());
}

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  ts.set_seconds(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
  ts.set_nanos(static_cast<int32_t>((us - ts.seconds() * 1000000) * 1000));
  return ts;
}

}  // namespace outbox_internal

// The connection and its prepared statements. Used under Outbox::mu_.
class Outbox::Db {
 public:
  // A prepared statement from the cache, reset and unbound when dropped.
  class Stmt {
   public:
    Stmt(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    Stmt(Stmt&& other) noexcept
        : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
    Stmt& operator=(Stmt&&) = delete;
    ~Stmt() {
      if (stmt_ != nullptr) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
      }
    }

    Stmt& Bind(int index, int64_t value) {
      sqlite3_bind_int64(stmt_, index, value);
      return *this;
    }
    Stmt& Bind(int index, absl::string_view text) {
      sqlite3_bind_text(stmt_, index, text.data(),
                        static_cast<int>(text.size()), SQLITE_TRANSIENT);
      return *this;
    }
    Stmt& BindBlob(int index, absl::string_view bytes) {
      sqlite3_bind_blob(stmt_, index, bytes.data(),
                        static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
      return *this;
    }
    Stmt& BindNull(int index) {
      sqlite3_bind_null(stmt_, index);
      return *this;
    }
    Stmt& BindOptional(int index, const std::optional<std::string>& text) {
      return text.has_value() ? Bind(index, *text) : BindNull(index);
    }

    // Steps once: true with a row, false when done; UNAVAILABLE on error.
    absl::StatusOr<bool> Step() {
      int rc = sqlite3_step(stmt_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      return db_->Error("step");
    }
    // Steps to the end, for statements without rows.
    absl::Status Run() {
      LIENTHONG_ASSIGN_OR_RETURN(bool row, Step());
      (void)row;
      return absl::OkStatus();
    }

    int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
    bool IsNull(int col) const {
      return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
    }
    std::string Text(int col) const {
      const void* data = sqlite3_column_blob(stmt_, col);
      int size = sqlite3_column_bytes(stmt_, col);
      return data == nullptr
                 ? std::string()
                 : std::string(static_cast<const char*>(data),
                               static_cast<size_t>(size));
    }
    std::optional<std::string> OptionalText(int col) const {
      if (IsNull(col)) return std::nullopt;
      return Text(col);
    }

   private:
    Db* db_;
    sqlite3_stmt* stmt_;
  };

  // BEGIN IMMEDIATE ... COMMIT; rolls back unless committed.
  class Txn {
   public:
    explicit Txn(Db* db) : db_(db) {}
    ~Txn() {
      if (open_) db_->Exec("ROLLBACK").IgnoreError();
    }
    absl::Status Begin() {
      LIENTHONG_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
      open_ = true;
      return absl::OkStatus();
    }
    absl::Status Commit() {
      absl::Status s = db_->Exec("COMMIT");
      if (s.ok()) open_ = false;
      return s;
    }

   private:
    Db* db_;
    bool open_ = false;
  };

  explicit Db(sqlite3* db) : db_(db) {}
  ~Db() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  // `sql` must be a string literal: the cache is keyed by its address.
  absl::StatusOr<Stmt> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
        return Error("prepare");
      }
      it = cache_.emplace(sql, stmt).first;
    }
    return Stmt(this, it->second);
  }

  absl::Status Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error("exec");
    }
    return absl::OkStatus();
  }

  absl::Status Error(absl::string_view what) const {
    return absl::UnavailableError(
        absl::StrCat("outbox store: ", what, ": ", sqlite3_errmsg(db_)));
  }

  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_;
  absl::flat_hash_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_OUTBOX_DB_H_
