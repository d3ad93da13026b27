// The libpq layer (gateway/storage/pg) against a real PostgreSQL 15 made by
// PgServer: statements, transactions, error mapping, reconnects, schema
// versions.
#include "gateway/storage/pg/pg_pool.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sys/types.h>

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/storage/pg/pg_schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::storage::pg {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class PgPoolTest : public ::lienthong::testing::PgServerTest {
 protected:
  std::unique_ptr<Pool> MakePool(PoolOptions options = {}) {
    if (options.dsn.empty()) options.dsn = server_->dsn();
    auto pool = Pool::Create(options);
    EXPECT_THAT(pool.status(), IsOk());
    return pool.ok() ? *std::move(pool) : nullptr;
  }
};

std::string ParamOf(const PoolOptions& options, const std::string& keyword) {
  for (const auto& [key, value] : ConnectParams(options)) {
    if (key == keyword) return value;
  }
  return "(missing)";
}

// What libpq itself makes of the pool's keywords (expanding the DSN in
// "dbname"): the settings of a connection started and dropped at once. The
// DSNs below name a socket folder that does not exist, so nothing is
// reached.
std::map<std::string, std::string> SettingsLibpqUses(
    const PoolOptions& options) {
  const auto params = ConnectParams(options);
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  ToLibpqArrays(params, &keywords, &values);
  pg_conn* conn = PQconnectStartParams(keywords.data(), values.data(),
                                       /*expand_dbname=*/1);
  std::map<std::string, std::string> settings;
  if (conn == nullptr) return settings;
  if (PQconninfoOption* info = PQconninfo(conn); info != nullptr) {
    for (PQconninfoOption* o = info; o->keyword != nullptr; ++o) {
      if (o->val != nullptr) settings[o->keyword] = o->val;
    }
    PQconninfoFree(info);
  }
  PQfinish(conn);
  return settings;
}

// libpq refuses a tcp_user_timeout beyond an int ("invalid integer value")
// and so every connection; the longest statement timeout the config allows
// (INT_MAX ms) plus the pool's 5 s margin would be one.
TEST(ConnectParamsTest, TcpUserTimeoutStaysWithinAnInt) {
  PoolOptions options;
  options.statement_timeout = absl::Seconds(10);
  EXPECT_EQ(ParamOf(options, "tcp_user_timeout"), "15000");
  options.statement_timeout =
      absl::Milliseconds(std::numeric_limits<int>::max());
  EXPECT_EQ(ParamOf(options, "tcp_user_timeout"), "2147483647");
  options.statement_timeout = absl::InfiniteDuration();
  EXPECT_EQ(ParamOf(options, "tcp_user_timeout"), "2147483647");
}

// An operator's connect_timeout and application_name in the DSN win over
// the pool's defaults, which apply only where the DSN says nothing.
TEST(ConnectParamsTest, TheDsnsOwnSettingsWin) {
  PoolOptions options;
  options.dsn =
      "host=/nonexistent-lienthong-socket-folder dbname=outbox "
      "connect_timeout=30 application_name=replica2 keepalives_idle=9";
  std::map<std::string, std::string> used = SettingsLibpqUses(options);
  EXPECT_EQ(used["connect_timeout"], "30");
  EXPECT_EQ(used["application_name"], "replica2");
  EXPECT_EQ(used["keepalives_idle"], "9");
  EXPECT_EQ(used["dbname"], "outbox");
  EXPECT_EQ(used["host"], "/nonexistent-lienthong-socket-folder");

  options.dsn =
      "postgresql:///outbox?host=/nonexistent-lienthong-socket-folder";
  used = SettingsLibpqUses(options);
  EXPECT_EQ(used["connect_timeout"], "5");
  EXPECT_EQ(used["application_name"], "lienthong-gateway");
  EXPECT_EQ(used["keepalives_idle"], "5");
  EXPECT_EQ(used["tcp_user_timeout"], "15000");
  EXPECT_EQ(used["dbname"], "outbox");
}

// Both, against a server over TCP (where libpq reads tcp_user_timeout).
TEST_F(PgPoolTest, TheLongestStatementTimeoutConnectsAndTheDsnNamesTheApp) {
  PoolOptions options;
  options.dsn = absl::StrCat(server_->dsn(),
                             " application_name=replica2 "
                             "connect_timeout=30");
  options.statement_timeout =
      absl::Milliseconds(std::numeric_limits<int>::max());
  std::unique_ptr<Pool> pool = MakePool(options);
  auto r = pool->Run("SELECT current_setting('application_name')");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->Text(0, 0), "replica2");
}

TEST_F(PgPoolTest, RunsStatementsWithParametersAndBytea) {
  std::unique_ptr<Pool> pool = MakePool();
  ASSERT_THAT(pool->Run("CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, "
                        "v BYTEA, n BIGINT)")
                  .status(),
              IsOk());
  const std::string bytes("a\0\xff'\\", 5);
  ASSERT_THAT(pool->Run("INSERT INTO kv VALUES($1, $2, $3)",
                        {"one", ByteaParam(bytes), "42"})
                  .status(),
              IsOk());
  auto r = pool->Run("SELECT v, n, NULL FROM kv WHERE k=$1", {"one"});
  ASSERT_THAT(r.status(), IsOk());
  ASSERT_EQ(r->rows(), 1);
  EXPECT_EQ(r->Bytea(0, 0), bytes);
  EXPECT_EQ(r->Int64(0, 1), 42);
  EXPECT_TRUE(r->IsNull(0, 2));
  EXPECT_EQ(r->OptionalText(0, 2), std::nullopt);
}

// A database, role or DSN may set bytea_output to 'escape'; the pool's
// sessions read bytea in hex whatever it says.
TEST_F(PgPoolTest, ByteaReadsBackUnderAnEscapeOutputSetting) {
  PoolOptions options;
  options.dsn =
      absl::StrCat(server_->dsn(), " options='-c bytea_output=escape'");
  std::unique_ptr<Pool> pool = MakePool(options);
  const std::string bytes("a\0\xfe\\", 4);
  auto r = pool->Run("SELECT $1::bytea", {ByteaParam(bytes)});
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->Bytea(0, 0), bytes);
}

TEST_F(PgPoolTest, TransactionCommitsOrRollsBackWhole) {
  std::unique_ptr<Pool> pool = MakePool();
  ASSERT_THAT(pool->Run("CREATE TABLE t_tx(k INT PRIMARY KEY)").status(),
              IsOk());
  EXPECT_THAT(pool->Transact([](Session& s) {
    return s.Exec("INSERT INTO t_tx VALUES(1)").status();
  }),
              IsOk());
  // The second insert violates the key: neither stays.
  absl::Status failed = pool->Transact([](Session& s) {
    absl::Status first = s.Exec("INSERT INTO t_tx VALUES(2)").status();
    if (!first.ok()) return first;
    return s.Exec("INSERT INTO t_tx VALUES(1)").status();
  });
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
  auto count = pool->Run("SELECT count(*) FROM t_tx");
  ASSERT_THAT(count.status(), IsOk());
  EXPECT_EQ(count->Int64(0, 0), 1);
}

TEST_F(PgPoolTest, ErrorsAreMappedWithoutValues) {
  std::unique_ptr<Pool> pool = MakePool();
  EXPECT_THAT(pool->Run("SELEC 1").status(),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("42601")));
  // An invalid input quotes the value in PostgreSQL's message: not ours.
  absl::Status bad = pool->Run("SELECT $1::int", {"033085012345x"}).status();
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInternal, HasSubstr("SQLSTATE 22")));
  EXPECT_THAT(bad.message(), Not(HasSubstr("033085012345")));
}

TEST_F(PgPoolTest, StatementTimeoutIsUnavailable) {
  PoolOptions options;
  options.statement_timeout = absl::Milliseconds(200);
  std::unique_ptr<Pool> pool = MakePool(options);
  EXPECT_THAT(pool->Run("SELECT pg_sleep(3)").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("57014")));
  // The session is still usable afterwards.
  EXPECT_THAT(pool->Run("SELECT 1").status(), IsOk());
}

TEST_F(PgPoolTest, SessionSettingsApply) {
  PoolOptions options;
  options.synchronous_commit = false;
  std::unique_ptr<Pool> pool = MakePool(options);
  auto r = pool->Run("SELECT current_setting('synchronous_commit'), "
                     "current_setting('statement_timeout')");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->Text(0, 0), "off");
  EXPECT_EQ(r->Text(0, 1), "10s");
}

// A server process that stops answering (stopped, or its disk frozen) is
// not noticed by the kernel: the connection stays open. The statement
// fails after AnswerWait, its connection is dropped, and the next call
// gets a new one.
TEST_F(PgPoolTest, AServerThatStopsAnsweringFailsTheStatementInTime) {
  PoolOptions options;
  options.size = 1;
  options.statement_timeout = absl::Milliseconds(200);
  std::unique_ptr<Pool> pool = MakePool(options);
  auto backend = pool->Run("SELECT pg_backend_pid()");
  ASSERT_THAT(backend.status(), IsOk());
  const pid_t pid = static_cast<pid_t>(backend->Int64(0, 0));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  const absl::Time start = absl::Now();
  auto stuck = pool->Run("SELECT 1");
  const absl::Duration took = absl::Now() - start;
  kill(pid, SIGCONT);
  EXPECT_THAT(stuck.status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("did not answer within 1.4s")));
  EXPECT_LT(took, absl::Seconds(30));
  auto next = pool->Run("SELECT pg_backend_pid()");
  ASSERT_THAT(next.status(), IsOk());
  EXPECT_NE(next->Int64(0, 0), pid);  // a new connection
}

TEST_F(PgPoolTest, WrongPasswordIsUnavailableAndNeverQuotesThePassword) {
  const std::string wrong = "Wr0ng-s3cret-pw";
  PoolOptions options;
  options.dsn = server_->dsn_with_password(wrong);
  std::unique_ptr<Pool> pool = MakePool(options);
  absl::Status s = pool->Run("SELECT 1").status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_THAT(s.message(), Not(HasSubstr(wrong)));
  EXPECT_THAT(pool->Ready(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kUnavailable, Not(HasSubstr(wrong))));
}

TEST_F(PgPoolTest, UnparsableDsnIsRefusedWithoutQuotingIt) {
  PoolOptions options;
  options.dsn = "host=x password='s3cret-never-shown";
  auto pool = Pool::Create(options);
  EXPECT_THAT(pool.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      Not(HasSubstr("s3cret"))));
}

TEST_F(PgPoolTest, SerializationFailuresAreRetried) {
  std::unique_ptr<Pool> pool = MakePool();
  ASSERT_THAT(pool->Run("CREATE TABLE t_ser(k INT PRIMARY KEY, n INT)")
                  .status(),
              IsOk());
  ASSERT_THAT(pool->Run("INSERT INTO t_ser VALUES(1, 0)").status(), IsOk());
  // Serializable increments from several threads conflict; each is
  // retried until it counts.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_THAT(pool->Transact(
                        [](Session& s) {
                          absl::Status st =
                              s.Exec("SET TRANSACTION ISOLATION LEVEL "
                                     "SERIALIZABLE")
                                  .status();
                          if (!st.ok()) return st;
                          auto r = s.Exec("SELECT n FROM t_ser WHERE k=1");
                          if (!r.ok()) return r.status();
                          return s
                              .Exec("UPDATE t_ser SET n=$1 WHERE k=1",
                                    {absl::StrCat(r->Int64(0, 0) + 1)})
                              .status();
                        },
                        /*attempts=*/100),
                    IsOk());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto r = pool->Run("SELECT n FROM t_ser WHERE k=1");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->Int64(0, 0), 40);
}

TEST_F(PgPoolTest, ReconnectsAfterTheServerRestarts) {
  std::unique_ptr<Pool> pool = MakePool();
  ASSERT_THAT(pool->Run("SELECT 1").status(), IsOk());
  ASSERT_THAT(server_->Stop(), IsOk());
  EXPECT_THAT(pool->Run("SELECT 1").status(),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_THAT(pool->Ready(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  ASSERT_THAT(server_->Resume(), IsOk());
  // Within the backoff (at most 5 s) the pool connects again.
  absl::Status s;
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  do {
    s = pool->Transact([](Session& session) {
      return session.Exec("SELECT 1").status();
    });
    if (!s.ok()) absl::SleepFor(absl::Milliseconds(100));
  } while (!s.ok() && absl::Now() < give_up);
  EXPECT_THAT(s, IsOk());
  EXPECT_THAT(pool->Ready(), IsOk());
}

constexpr Migration kMigrations[] = {
    {"CREATE TABLE m1(a INT)"},
    {"ALTER TABLE m1 ADD COLUMN b INT; CREATE TABLE m2(c INT)"},
};

// A migration may take longer than the calls' statement timeout (an index
// over a large table); it is not cut off by it.
TEST_F(PgPoolTest, AMigrationIsNotHeldToTheStatementTimeout) {
  PoolOptions options;
  options.statement_timeout = absl::Milliseconds(100);
  std::unique_ptr<Pool> pool = MakePool(options);
  const Migration slow[] = {
      {"SELECT pg_sleep(0.3); CREATE TABLE slow1(a INT)"}};
  EXPECT_THAT(Migrate(*pool, "slow_component", slow).status(), IsOk());
  EXPECT_THAT(pool->Run("SELECT pg_sleep(0.3)").status(),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
}

TEST_F(PgPoolTest, MigrationsGoForwardAndStartChecksTheVersion) {
  std::unique_ptr<Pool> pool = MakePool();
  EXPECT_THAT(CheckCurrent(*pool, "test_component", kMigrations),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--migrate")));
  // The first version only, as an older gateway would have left it.
  ASSERT_THAT(Migrate(*pool, "test_component",
                      absl::MakeConstSpan(kMigrations).first(1))
                  .status(),
              IsOk());
  EXPECT_THAT(CheckCurrent(*pool, "test_component", kMigrations),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("older")));
  auto reached = Migrate(*pool, "test_component", kMigrations);
  ASSERT_THAT(reached.status(), IsOk());
  EXPECT_EQ(*reached, 2);
  EXPECT_THAT(CheckCurrent(*pool, "test_component", kMigrations), IsOk());
  EXPECT_THAT(pool->Run("INSERT INTO m1(a, b) VALUES(1, 2)").status(), IsOk());
  // Migrating again changes nothing.
  EXPECT_THAT(Migrate(*pool, "test_component", kMigrations).status(), IsOk());
  // A gateway that knows only version 1 refuses version 2.
  EXPECT_THAT(CheckCurrent(*pool, "test_component",
                           absl::MakeConstSpan(kMigrations).first(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("newer")));
  EXPECT_THAT(
      Migrate(*pool, "test_component", absl::MakeConstSpan(kMigrations).first(1))
          .status(),
      StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
}

TEST_F(PgPoolTest, ConcurrentMigrationsApplyOnce) {
  constexpr Migration kOnce[] = {{"CREATE TABLE once_t(a INT)"}};
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(3);
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<Pool> pool = MakePool();
      results[t] = Migrate(*pool, "once", kOnce).status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
}

}  // namespace
}  // namespace lienthong::storage::pg
