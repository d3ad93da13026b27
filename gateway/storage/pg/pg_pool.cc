#include "gateway/storage/pg/pg_pool.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gateway/status/status_macros.h"

namespace lienthong::storage::pg {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);

// SQLSTATE classes and codes that mean the server cannot be used now (not
// that the statement is wrong): connection exceptions, shutdown, too many
// connections, a cancelled statement (statement_timeout), recovery.
bool Unavailable(absl::string_view state) {
  return absl::StartsWith(state, "08") || absl::StartsWith(state, "57P") ||
         state == "53300" || state == "57014" || state == "25006";
}

// Class 42 (syntax, undefined objects) is our bug and says nothing of the
// values; other messages may quote a value (invalid input, constraint
// details), so only their SQLSTATE goes into the status.
bool MessageIsSafe(absl::string_view state) {
  return absl::StartsWith(state, "42");
}

// Waits until `deadline` for every result of what was sent on `conn` and
// returns the last one, or the first error, as PQexec does; nullptr when
// the wait ran out (*timed_out) or memory did. The server ends a statement
// that runs past its statement_timeout; this ends the wait when the server
// cannot answer at all (its process stopped, its disk frozen), where the
// kernel keeps the connection open and PQexec would wait for ever.
pg_result* AwaitResult(pg_conn* conn, absl::Time deadline, bool* timed_out) {
  pg_result* last = nullptr;
  for (;;) {
    while (PQisBusy(conn)) {
      int wait_ms = -1;
      if (deadline != absl::InfiniteFuture()) {
        const absl::Duration left = deadline - absl::Now();
        if (left <= absl::ZeroDuration()) {
          PQclear(last);
          *timed_out = true;
          return nullptr;
        }
        wait_ms = static_cast<int>(
            std::min<int64_t>(std::numeric_limits<int>::max(),
                              absl::ToInt64Milliseconds(
                                  absl::Ceil(left, absl::Milliseconds(1)))));
      }
      pollfd socket{PQsocket(conn), POLLIN, 0};
      const int ready = poll(&socket, 1, wait_ms);
      if (ready < 0 && errno == EINTR) continue;
      // A failed read (the connection lost) leaves the error for
      // PQgetResult, which then returns at once.
      if (ready != 0 && PQconsumeInput(conn) == 0) break;
    }
    pg_result* next = PQgetResult(conn);
    if (next == nullptr) return last;
    if (last != nullptr && PQresultStatus(last) == PGRES_FATAL_ERROR) {
      PQclear(next);
      continue;
    }
    PQclear(last);
    last = next;
  }
}

// A statement AwaitResult gave up on after `wait`.
absl::Status NoAnswerError(absl::Duration wait) {
  return absl::UnavailableError(absl::StrCat("database did not answer within ",
                                             absl::FormatDuration(wait)));
}

std::string PrimaryMessage(pg_result* result) {
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  return primary == nullptr ? "" : primary;
}

absl::Status WithCode(absl::StatusCode code, std::string message) {
  return absl::Status(code, std::move(message));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ConnectParams(
    const PoolOptions& options) {
  // A database host that vanishes (a failover moving its address, a cut
  // link) resets nothing: without these a statement waits on its socket
  // for the kernel's defaults, 15 minutes to 2 hours, holding its
  // connection, the thread and every caller behind the pool. Data sent
  // and not acknowledged ends the connection after a statement's time
  // plus a margin; a silent wait for an answer, after ~11 s of unanswered
  // keepalives. libpq refuses every connection with a tcp_user_timeout
  // beyond an int ("invalid integer value"), which the longest statement
  // timeout (INT_MAX ms) plus the margin would be.
  const int64_t user_timeout_ms = std::min<int64_t>(
      std::numeric_limits<int>::max(),
      absl::ToInt64Milliseconds(options.statement_timeout + absl::Seconds(5)));
  // All before "dbname": libpq lets a later keyword override what the DSN
  // expands to, and an operator's connect_timeout or application_name in
  // the DSN must win over these defaults.
  return {
      {"keepalives", "1"},
      {"keepalives_idle", "5"},
      {"keepalives_interval", "2"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", absl::StrCat(user_timeout_ms)},
      {"connect_timeout",
       absl::StrCat(std::max<int64_t>(
           1, absl::ToInt64Seconds(options.connect_timeout)))},
      {"application_name", options.application_name},
      {"dbname", options.dsn},
  };
}

void ToLibpqArrays(
    const std::vector<std::pair<std::string, std::string>>& params,
    std::vector<const char*>* keywords, std::vector<const char*>* values) {
  for (const auto& [keyword, value] : params) {
    keywords->push_back(keyword.c_str());
    values->push_back(value.c_str());
  }
  keywords->push_back(nullptr);
  values->push_back(nullptr);
}

std::string ByteaParam(absl::string_view bytes) {
  return absl::StrCat("\\x", absl::BytesToHexString(bytes));
}

Result::Result(pg_result* result) : result_(result) {}
Result::Result(Result&& other) noexcept
    : result_(std::exchange(other.result_, nullptr)) {}
Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}
Result::~Result() {
  if (result_ != nullptr) PQclear(result_);
}

int Result::rows() const { return result_ == nullptr ? 0 : PQntuples(result_); }

int64_t Result::affected() const {
  int64_t n = 0;
  if (result_ != nullptr) (void)absl::SimpleAtoi(PQcmdTuples(result_), &n);
  return n;
}

bool Result::IsNull(int row, int col) const {
  return PQgetisnull(result_, row, col) != 0;
}

std::string Result::Text(int row, int col) const {
  return std::string(PQgetvalue(result_, row, col),
                     PQgetlength(result_, row, col));
}

std::optional<std::string> Result::OptionalText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

int64_t Result::Int64(int row, int col) const {
  int64_t n = 0;
  if (!IsNull(row, col)) (void)absl::SimpleAtoi(Text(row, col), &n);
  return n;
}

std::string Result::Bytea(int row, int col) const {
  const std::string text = Text(row, col);
  if (!absl::StartsWith(text, "\\x") || text.size() % 2 != 0) return "";
  const absl::string_view hex = absl::string_view(text).substr(2);
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return "";
  }
  return absl::HexStringToBytes(hex);
}

absl::StatusOr<Result> Session::Exec(absl::string_view sql,
                                     std::initializer_list<Param> params) {
  return Exec(sql, std::vector<Param>(params));
}

absl::StatusOr<Result> Session::Exec(absl::string_view sql,
                                     const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  const std::string statement(sql);
  const bool sent = PQsendQueryParams(conn_, statement.c_str(),
                                      static_cast<int>(values.size()), nullptr,
                                      values.data(), nullptr, nullptr, 0) == 1;
  return Finish(sent);
}

absl::Status Session::ExecScript(absl::string_view sql) {
  const std::string script(sql);
  return Finish(PQsendQuery(conn_, script.c_str()) == 1).status();
}

absl::Duration AnswerWait(const PoolOptions& options) {
  return options.statement_timeout * 2 + absl::Seconds(1);
}

Session::Session(Pool* pool, pg_conn* conn)
    : pool_(pool), conn_(conn), answer_wait_(AnswerWait(pool->options())) {}

void Session::SetAnswerWait(absl::Duration wait) { answer_wait_ = wait; }

absl::StatusOr<Result> Session::Finish(bool sent) {
  bool timed_out = false;
  pg_result* raw =
      sent ? AwaitResult(conn_, absl::Now() + answer_wait_, &timed_out)
           : nullptr;
  if (timed_out) {
    broken_ = true;  // the answer may still come: the connection is closed
    absl::Status error = NoAnswerError(answer_wait_);
    pool_->Observe(error);
    return error;
  }
  Result result(raw);
  const ExecStatusType status =
      raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    pool_->Observe(absl::OkStatus());
    return result;
  }
  bool broken = false;
  absl::Status error = pool_->ErrorOf(raw, conn_, &broken);
  broken_ = broken_ || broken;
  return error;
}

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  if (options.size < 1) {
    return absl::InvalidArgumentError("pool size must be at least 1");
  }
  if (options.dsn.empty()) {
    return absl::InvalidArgumentError("no database connection string");
  }
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.dsn.c_str(), &error);
  if (parsed == nullptr) {
    // libpq's message may quote the string, password and all.
    if (error != nullptr) PQfreemem(error);
    return absl::InvalidArgumentError(
        "the database connection string cannot be parsed (libpq conninfo "
        "'host=... dbname=...' or postgresql:// URI)");
  }
  std::string password;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) {
      password = o->val;
    }
  }
  PQconninfoFree(parsed);
  return std::unique_ptr<Pool>(new Pool(std::move(options), password));
}

Pool::Pool(PoolOptions options, std::string password)
    : options_(std::move(options)), password_(std::move(password)) {}

Pool::~Pool() {
  absl::MutexLock lock(&mu_);
  for (pg_conn* conn : idle_) PQfinish(conn);
}

std::string Pool::Scrub(std::string message) const {
  if (!password_.empty()) {
    absl::StrReplaceAll({{password_, "***"}}, &message);
  }
  absl::StripTrailingAsciiWhitespace(&message);
  absl::StrReplaceAll({{"\n", "; "}}, &message);
  return message;
}

absl::Status Pool::ErrorOf(pg_result* result, pg_conn* conn, bool* broken) {
  const char* raw_state =
      result == nullptr ? nullptr
                        : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string state = raw_state == nullptr ? "" : raw_state;
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK || state.empty()) {
    *broken = true;
    status = WithCode(absl::StatusCode::kUnavailable,
                      absl::StrCat("database connection lost: ",
                                   Scrub(PQerrorMessage(conn))));
  } else if (Unavailable(state)) {
    *broken = PQstatus(conn) != CONNECTION_OK;
    status = WithCode(
        absl::StatusCode::kUnavailable,
        absl::StrCat("database unavailable (SQLSTATE ", state, "): ",
                     Scrub(PrimaryMessage(result))));
  } else if (state == "40001" || state == "40P01") {
    status = WithCode(absl::StatusCode::kAborted,
                      absl::StrCat("transaction conflict (SQLSTATE ", state,
                                   "), try again"));
  } else if (state == "23505") {
    status = WithCode(absl::StatusCode::kAlreadyExists,
                      "database: unique constraint violated (SQLSTATE 23505)");
  } else {
    std::string message = absl::StrCat("database error SQLSTATE ", state);
    if (MessageIsSafe(state)) {
      absl::StrAppend(&message, ": ", Scrub(PrimaryMessage(result)));
    }
    status = WithCode(absl::StatusCode::kInternal, std::move(message));
  }
  if (absl::IsUnavailable(status)) Observe(status);
  return status;
}

void Pool::Observe(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  health_ = status;
  observed_ = absl::Now();
}

absl::StatusOr<pg_conn*> Pool::Connect() {
  const std::vector<std::pair<std::string, std::string>> params =
      ConnectParams(options_);
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  ToLibpqArrays(params, &keywords, &values);
  pg_conn* conn =
      PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::UnavailableError("database: out of memory for a connection");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status error = absl::UnavailableError(absl::StrCat(
        "database unreachable: ", Scrub(PQerrorMessage(conn))));
    PQfinish(conn);
    return error;
  }
  const std::string settings = absl::StrCat(
      "SET statement_timeout = ",
      absl::ToInt64Milliseconds(options_.statement_timeout),
      "; SET synchronous_commit = ",
      options_.synchronous_commit ? "on" : "off",
      "; SET client_min_messages = warning"
      // Bytea() reads the hex form; a database or role set to 'escape'
      // would otherwise make every payload read back empty.
      "; SET bytea_output = hex");
  const absl::Duration wait = AnswerWait(options_);
  bool timed_out = false;
  pg_result* set = PQsendQuery(conn, settings.c_str()) == 1
                       ? AwaitResult(conn, absl::Now() + wait, &timed_out)
                       : nullptr;
  Result owned(set);
  if (timed_out) {
    PQfinish(conn);
    return NoAnswerError(wait);
  }
  if (set == nullptr || PQresultStatus(set) != PGRES_COMMAND_OK) {
    bool broken = false;
    absl::Status error = ErrorOf(set, conn, &broken);
    PQfinish(conn);
    return error;
  }
  return conn;
}

absl::StatusOr<Session> Pool::Acquire() {
  pg_conn* conn = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || lent_or_idle_ < options_.size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available),
                              options_.acquire_timeout)) {
      return absl::UnavailableError(
          "database: no connection came free in time (pool exhausted)");
    }
    if (!idle_.empty()) {
      conn = idle_.back();
      idle_.pop_back();
      return Session(this, conn);
    }
    if (absl::Now() < next_connect_) {
      // Backing off: answer at once with the last reason.
      return health_.ok() ? absl::UnavailableError("database reconnecting")
                          : health_;
    }
    ++lent_or_idle_;  // a slot for the connection being made
  }
  absl::StatusOr<pg_conn*> made = Connect();
  absl::MutexLock lock(&mu_);
  if (!made.ok()) {
    --lent_or_idle_;
    backoff_ = std::min(options_.max_backoff,
                        backoff_ == absl::ZeroDuration() ? kFirstBackoff
                                                         : backoff_ * 2);
    next_connect_ = absl::Now() + backoff_;
    health_ = made.status();
    observed_ = absl::Now();
    return made.status();
  }
  backoff_ = absl::ZeroDuration();
  next_connect_ = absl::InfinitePast();
  return Session(this, *made);
}

void Pool::Release(Session& session) {
  const bool usable =
      !session.broken_ && PQstatus(session.conn_) == CONNECTION_OK &&
      PQtransactionStatus(session.conn_) == PQTRANS_IDLE;
  if (!usable) PQfinish(session.conn_);
  std::vector<pg_conn*> stale;
  {
    absl::MutexLock lock(&mu_);
    if (usable) {
      idle_.push_back(session.conn_);
    } else {
      --lent_or_idle_;
      if (session.broken_) {
        // A lost connection usually means a restarted or unreachable
        // server: the idle ones are gone too, and are made afresh.
        stale.swap(idle_);
        lent_or_idle_ -= static_cast<int>(stale.size());
      }
    }
  }
  for (pg_conn* conn : stale) PQfinish(conn);
  session.conn_ = nullptr;
}

absl::StatusOr<Result> Pool::Run(absl::string_view sql,
                                 std::initializer_list<Param> params) {
  LIENTHONG_ASSIGN_OR_RETURN(Session session, Acquire());
  absl::StatusOr<Result> result = session.Exec(sql, params);
  Release(session);
  return result;
}

absl::Status Pool::Transact(absl::FunctionRef<absl::Status(Session&)> body,
                            int attempts) {
  bool reconnected = false;
  absl::Status status;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    LIENTHONG_ASSIGN_OR_RETURN(Session session, Acquire());
    status = session.Exec("BEGIN").status();
    bool at_commit = false;
    if (status.ok()) status = body(session);
    if (status.ok()) {
      at_commit = true;
      status = session.Exec("COMMIT").status();
    } else if (!session.broken_) {
      (void)session.Exec("ROLLBACK");
    }
    const bool broken = session.broken_;
    Release(session);
    if (status.ok()) return status;
    if (absl::IsAborted(status)) {
      absl::SleepFor(absl::Milliseconds(2 * (attempt + 1)));
      continue;
    }
    if (broken && at_commit) {
      return absl::UnavailableError(
          absl::StrCat("commit outcome unknown: ", status.message()));
    }
    if (broken && !reconnected) {
      // Nothing was committed: once more on a fresh connection (a server
      // restart closes every idle connection the pool holds).
      reconnected = true;
      ++attempts;
      continue;
    }
    return status;
  }
  return status;
}

absl::Status Pool::Ready(absl::Duration stale) {
  {
    absl::MutexLock lock(&mu_);
    if (absl::Now() - observed_ < stale) return health_;
  }
  absl::Status pinged = Run("SELECT 1").status();
  if (!pinged.ok()) Observe(pinged);
  absl::MutexLock lock(&mu_);
  return health_;
}

}  // namespace lienthong::storage::pg
