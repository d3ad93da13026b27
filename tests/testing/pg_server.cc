#include "tests/testing/pg_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gateway/storage/pg/pg_pool.h"

namespace lienthong::testing {
namespace {

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Runs `command` through the shell, as `postgres` when we are root.
int RunAsOwner(const std::string& command) {
  const std::string full =
      ::geteuid() == 0 ? absl::StrCat("runuser -u postgres -- ", command)
                       : command;
  return std::system(full.c_str());
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

}  // namespace

bool PgServer::Installed() {
  return std::filesystem::exists(absl::StrCat(kPgBinDir, "/initdb"));
}

absl::StatusOr<std::unique_ptr<PgServer>> PgServer::Start() {
  std::unique_ptr<PgServer> server(new PgServer());
  if (server->folder_.empty()) {
    return absl::InternalError("cannot make a folder for PostgreSQL");
  }
  std::random_device random;
  server->password_ = absl::StrCat("pw-", random(), "-", random());
  const std::string pwfile = server->folder_ + "/pwfile";
  std::ofstream(pwfile) << server->password_ << "\n";
  if (::geteuid() == 0) {
    const passwd* pg = ::getpwnam("postgres");
    if (pg == nullptr) return absl::InternalError("no user postgres");
    std::filesystem::permissions(server->folder_,
                                 std::filesystem::perms::owner_all);
    if (::chown(server->folder_.c_str(), pg->pw_uid, pg->pw_gid) != 0 ||
        ::chown(pwfile.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
      return absl::InternalError("cannot give the folder to postgres");
    }
  }
  const std::string log = server->folder_ + "/initdb.log";
  const int rc = RunAsOwner(absl::StrCat(
      kPgBinDir, "/initdb -D ", server->folder_, "/data -U lienthong ",
      "--pwfile=", pwfile, " --auth-local=trust --auth-host=scram-sha-256 ",
      "-E UTF8 --no-sync > ", server->folder_, "/initdb.log 2>&1"));
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("initdb failed: ", Tail(log)));
  }
  absl::Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    started = server->Resume();
    if (started.ok()) return server;
  }
  return started;
}

bool PgServer::PostmasterMayRun() const {
  return running_ || std::filesystem::exists(folder_ + "/data/postmaster.pid");
}

PgServer::~PgServer() {
  // Also after a start or restart that pg_ctl gave up waiting for: the
  // server may be up all the same, and would outlive the test.
  if (PostmasterMayRun()) {
    (void)Ctl("stop -m immediate");
  }
}

std::string PgServer::dsn() const { return dsn_with_password(password_); }

std::string PgServer::dsn_with_password(const std::string& password) const {
  return absl::StrCat("host=127.0.0.1 port=", port_,
                      " dbname=postgres user=lienthong password=", password);
}

absl::Status PgServer::Ctl(const std::string& args) {
  const std::string log = folder_ + "/server.log";
  const int rc = RunAsOwner(absl::StrCat(
      kPgBinDir, "/pg_ctl -D ", folder_, "/data -l ", log, " -w -t 60 -o '",
      "-h 127.0.0.1 -p ", port_, " -k ", folder_,
      " -c max_connections=60 -c shared_buffers=32MB' ", args,
      " > /dev/null 2>&1"));
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("pg_ctl ", args, " failed: ", Tail(log)));
  }
  return absl::OkStatus();
}

absl::Status PgServer::Stop() {
  absl::Status s = Ctl("stop -m fast");
  if (s.ok()) running_ = false;
  return s;
}

absl::Status PgServer::Resume() {
  absl::Status s = Ctl("start");
  if (s.ok()) {
    running_ = true;
  } else if (PostmasterMayRun()) {
    // pg_ctl stopped waiting (or the server failed after its pid file was
    // written): stop whatever started before another port is tried.
    (void)Ctl("stop -m immediate");
  }
  return s;
}

absl::Status PgServer::Restart() {
  absl::Status s = Ctl("restart -m fast");
  running_ = s.ok();
  return s;
}

PgServer* PgServerTest::server_ = nullptr;

void PgServerTest::SetUpTestSuite() {
  if (!PgServer::Installed()) return;
  absl::StatusOr<std::unique_ptr<PgServer>> started = PgServer::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  server_ = std::move(*started).release();
}

void PgServerTest::TearDownTestSuite() {
  delete server_;
  server_ = nullptr;
}

void PgServerTest::SetUp() {
  if (!PgServer::Installed()) {
    GTEST_SKIP() << "PostgreSQL 15 is not installed (no " << kPgBinDir
                 << "/initdb); apt-get install postgresql-15";
  }
  ASSERT_NE(server_, nullptr);
}

std::string PgServerTest::NewDatabase(const std::string& name) {
  storage::pg::PoolOptions admin;
  admin.dsn = server_->dsn();
  admin.size = 1;
  absl::StatusOr<std::unique_ptr<storage::pg::Pool>> pool =
      storage::pg::Pool::Create(admin);
  absl::Status status = pool.status();
  if (status.ok()) {
    status = (*pool)->Run(absl::StrCat("CREATE DATABASE ", name)).status();
  }
  if (!status.ok()) {
    ADD_FAILURE() << "cannot create database " << name << ": " << status;
    return "";
  }
  return absl::StrCat(server_->dsn(), " dbname=", name);
}

}  // namespace lienthong::testing
