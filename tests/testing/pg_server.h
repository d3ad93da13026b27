// PgServer: a throwaway PostgreSQL 15 for tests: initdb into a temporary
// folder, postgres on 127.0.0.1 at a free port (picked by binding and
// closing, retried on a collision), password authentication over TCP, and
// pg_ctl's own waiting for start-up (no sleeps). Stopped and removed by
// the destructor. When run as root, the server runs as the `postgres` user
// (initdb refuses root).
#ifndef LIENTHONG_TESTS_TESTING_PG_SERVER_H_
#define LIENTHONG_TESTS_TESTING_PG_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::testing {

// Where Debian's postgresql-15 puts its programs.
inline constexpr char kPgBinDir[] = "/usr/lib/postgresql/15/bin";

class PgServer {
 public:
  // True when initdb is installed (else tests skip with that reason).
  static bool Installed();

  // Makes and starts the server. INTERNAL with the log's tail on failure.
  static absl::StatusOr<std::unique_ptr<PgServer>> Start();
  ~PgServer();

  // A libpq connection string for the superuser "lienthong" with its
  // password, database "postgres".
  std::string dsn() const;
  // The same with another password (for refusals).
  std::string dsn_with_password(const std::string& password) const;
  const std::string& password() const { return password_; }
  int port() const { return port_; }

  // pg_ctl stop -m fast / start -w / restart -w -m fast on the same port.
  absl::Status Stop();
  absl::Status Resume();
  absl::Status Restart();

 private:
  PgServer() = default;
  absl::Status Ctl(const std::string& args);
  // True when the server was started or its pid file is there (a start
  // pg_ctl stopped waiting for may still have come up).
  bool PostmasterMayRun() const;

  // The data folder, removed (after the server stops) with the PgServer.
  const ScratchDir scratch_{"lienthong-pg"};
  const std::string folder_ = scratch_.path();
  std::string password_;
  int port_ = 0;
  bool running_ = false;
};

// A fixture with one PgServer for the whole suite (server_), started
// before its first test; every test is skipped, with the reason, where
// PostgreSQL 15 is not installed. A derived SetUp() calls this one first
// and returns when IsSkipped() or HasFatalFailure().
class PgServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  // Creates the empty database `name` on server_ and returns its connection
  // string; on failure, a test failure and "".
  static std::string NewDatabase(const std::string& name);

  static PgServer* server_;
};

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_TESTING_PG_SERVER_H_
