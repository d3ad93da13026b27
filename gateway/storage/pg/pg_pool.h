// A small libpq layer for the stores that replicas share on PostgreSQL (the
// portal outbox, pg_outbox.h): a fixed-size connection pool, reconnects
// with backoff, a statement timeout and synchronous_commit set per session,
// statements with parameters in text format, and transactions retried on
// serialization failures and deadlocks.
//
//   auto pool = pg::Pool::Create(options);            // does not connect
//   absl::Status s = (*pool)->Transact([&](pg::Session& session) {
//     LIENTHONG_ASSIGN_OR_RETURN(pg::Result r,
//         session.Exec("SELECT v FROM t WHERE k=$1", {key}));
//     ...
//     return absl::OkStatus();
//   });
//
// Errors are absl::Status: the connection lost, the server unreachable or
// shutting down, the pool exhausted, a statement timeout -> UNAVAILABLE;
// a serialization failure or deadlock -> ABORTED (Transact retries those);
// a unique violation -> ALREADY_EXISTS; anything else INTERNAL with its
// SQLSTATE. Messages never hold the DSN's password (it is scrubbed from
// whatever libpq says) nor the values of parameters.
#ifndef LIENTHONG_GATEWAY_STORAGE_PG_PG_POOL_H_
#define LIENTHONG_GATEWAY_STORAGE_PG_PG_POOL_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct pg_conn;
struct pg_result;

namespace lienthong::storage::pg {

struct PoolOptions {
  // A libpq connection string or URI (from LIENTHONG_PG_DSN).
  std::string dsn;
  // Connections, made when first needed and kept.
  int size = 4;
  // Set per session (SET statement_timeout); a statement that runs longer
  // fails UNAVAILABLE. A statement whose answer does not come within
  // AnswerWait (twice this and a second: a server whose process is stopped
  // or whose disk is frozen answers nothing, and its host keeps the
  // connection open) fails UNAVAILABLE too, and its connection is closed.
  absl::Duration statement_timeout = absl::Seconds(10);
  // Set per session: on, a COMMIT returns once the WAL is flushed.
  bool synchronous_commit = true;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Reconnects back off from 100 ms, doubling up to this.
  absl::Duration max_backoff = absl::Seconds(5);
  // How long a caller waits for a free connection.
  absl::Duration acquire_timeout = absl::Seconds(10);
  std::string application_name = "lienthong-gateway";
};

// The keywords and values, in order, that the pool gives libpq's
// PQconnectdbParams with expand_dbname: its own settings, then the DSN as
// "dbname", whose settings libpq applies in its place, so that the DSN's
// own values win. Exposed for tests.
std::vector<std::pair<std::string, std::string>> ConnectParams(
    const PoolOptions& options);

// `params` as the keyword and value arrays libpq takes, each closed by a
// nullptr; they point into `params`, which must outlive them.
void ToLibpqArrays(
    const std::vector<std::pair<std::string, std::string>>& params,
    std::vector<const char*>* keywords, std::vector<const char*>* values);

// A statement parameter in text format; nullopt is SQL NULL.
using Param = std::optional<std::string>;

// Returns `bytes` as a bytea parameter in text form ("\x<hex>").
std::string ByteaParam(absl::string_view bytes);

// A statement's result. Movable, owns the libpq result.
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* result);
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  ~Result();

  int rows() const;
  // Rows a command changed (UPDATE, DELETE, INSERT), 0 for others.
  int64_t affected() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  std::optional<std::string> OptionalText(int row, int col) const;
  // 0 for NULL or text that is not a number.
  int64_t Int64(int row, int col) const;
  // A bytea column (text form "\x<hex>", which every session of the pool
  // asks for) as bytes; empty when malformed.
  std::string Bytea(int row, int col) const;

 private:
  pg_result* result_ = nullptr;
};

class Pool;

// How long a statement's answer is waited for: PoolOptions' statement
// timeout twice, and a second.
absl::Duration AnswerWait(const PoolOptions& options);

// One connection lent by the pool, inside Transact or for one Run call.
// Not thread-safe: used by one thread at a time.
class Session {
 public:
  // Runs `sql` with `params` ($1, $2, ... in text format). Returns the
  // result of a statement that succeeded; the errors listed at the top.
  absl::StatusOr<Result> Exec(absl::string_view sql,
                              std::initializer_list<Param> params = {});
  absl::StatusOr<Result> Exec(absl::string_view sql,
                              const std::vector<Param>& params);
  // Runs `sql`, which may hold several statements, without parameters
  // (schema migrations). As Exec.
  absl::Status ExecScript(absl::string_view sql);
  // How long this session's statements wait for their answer from now on
  // (AnswerWait by default; infinite for a migration run without a
  // statement timeout).
  void SetAnswerWait(absl::Duration wait);

 private:
  friend class Pool;
  Session(Pool* pool, pg_conn* conn);
  // Waits for the answer to what was `sent` and makes it a Result.
  absl::StatusOr<Result> Finish(bool sent);
  Pool* pool_;
  pg_conn* conn_;
  absl::Duration answer_wait_;
  // The connection failed: closed when given back, not reused.
  bool broken_ = false;
};

class Pool {
 public:
  // Checks `options` (a DSN libpq can parse, size >= 1) without
  // connecting. INVALID_ARGUMENT otherwise (the message names no secret).
  static absl::StatusOr<std::unique_ptr<Pool>> Create(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs `body` between BEGIN and COMMIT on one connection; ROLLBACK when
  // it fails. Runs it again (up to `attempts` times in all) when it or the
  // COMMIT fails ABORTED (serialization failure, deadlock), and once more
  // on a fresh connection when the connection was lost before COMMIT was
  // sent (nothing was committed then). A COMMIT whose answer is lost fails
  // UNAVAILABLE "commit outcome unknown". Returns `body`'s error, or the
  // store's. REQUIRES: `body` can run again from the start (it resets what
  // it gathers). Thread-safe.
  absl::Status Transact(absl::FunctionRef<absl::Status(Session&)> body,
                        int attempts = 5);

  // Runs one statement on its own (autocommit). Thread-safe.
  absl::StatusOr<Result> Run(absl::string_view sql,
                             std::initializer_list<Param> params = {});

  // OK when the last use of the database succeeded; UNAVAILABLE with why
  // not otherwise. When nothing has used it for `stale` (or ever), asks it
  // first ("SELECT 1"; during a reconnect backoff it answers at once).
  // Thread-safe.
  absl::Status Ready(absl::Duration stale = absl::Seconds(2));

  const PoolOptions& options() const { return options_; }

 private:
  friend class Session;
  explicit Pool(PoolOptions options, std::string password);

  // Lends a connection, connecting when needed; UNAVAILABLE when none
  // comes free in time or the database cannot be reached.
  absl::StatusOr<Session> Acquire();
  void Release(Session& session);
  absl::StatusOr<pg_conn*> Connect();
  // What the server or libpq said, as a Status with the password removed.
  absl::Status ErrorOf(pg_result* result, pg_conn* conn, bool* broken);
  std::string Scrub(std::string message) const;
  // Records the outcome of a use of the database, for Ready().
  void Observe(const absl::Status& status);

  const PoolOptions options_;
  const std::string password_;

  absl::Mutex mu_;
  std::vector<pg_conn*> idle_ ABSL_GUARDED_BY(mu_);
  int lent_or_idle_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time next_connect_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  absl::Status health_ ABSL_GUARDED_BY(mu_) =
      absl::UnavailableError("database not used yet");
  absl::Time observed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace lienthong::storage::pg

#endif  // LIENTHONG_GATEWAY_STORAGE_PG_PG_POOL_H_
