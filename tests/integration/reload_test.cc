// Live configuration: SIGHUP swaps routes, clients and grants atomically; a
// broken config, or one whose config or CA file others may write, is
// refused, logged, and the running one stays; changes to
// settings read only at start are named in a warning. And the access log's
// own file, which SIGHUP reopens after logrotate renamed it, and the access
// lines on stderr when the reader of stderr goes away.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"  // NewTestDir
#include "tests/integration/gateway_process.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

grpc::StatusCode LookupCode(int port) {
  auto stub = lienthong::v1::PopulationService::NewStub(
      ClientChannel(port, "dossier-system"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id("033085012345");
  request.set_purpose("1.001193");
  *request.mutable_officer() = TestOfficer();
  lienthong::v1::Citizen citizen;
  return stub->LookupCitizen(&context, request, &citizen).error_code();
}

TEST(ReloadTest, SighupAppliesAGoodConfigAndRefusesABrokenOne) {
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();
  const std::string dir = NewTestDir("reload");
  std::string config = dir + "/reload.yaml";
  std::string log = dir + "/reload.log";
  // Every variant below is this config edited, so that only the edit
  // differs (GatewayYaml names a new audit folder each time).
  const std::string yaml = GatewayYaml(sim->port);
  auto gateway = StartGatewayProcess(config, yaml, log);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);

  // A broken config (unknown key): refused, logged, the running one stays.
  std::ofstream(config) << yaml << "bogus_key: 1\n";
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(WaitForFileLine(log, "config reload refused", absl::Seconds(10)));
  EXPECT_TRUE(WaitForFileLine(log, "unknown key 'bogus_key'", absl::Seconds(1)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);

  // A good config that withdraws the client's right and changes the
  // listener's per-client call limit (a runtime setting): applied at once,
  // and nothing is said to wait for a restart.
  std::ofstream(config) << absl::StrReplaceAll(
      yaml, {{"methods: [lienthong.v1.PopulationService/LookupCitizen]",
              "methods: []"},
             {"listener:\n",
              "listener:\n  limits: {client_requests_per_second: 500}\n"}});
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(WaitForFileLine(log, "config reloaded", absl::Seconds(10)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_FALSE(absl::StrContains(ReadFileOrEmpty(log), "apply only after a restart"));

  // Settings read only at start (here the audit store and the logging
  // level) are named in a warning instead of being silently ignored; the
  // rest of the config is applied.
  std::string restart_only = absl::StrReplaceAll(
      yaml, {{"  level: info", "  level: debug"}, {"/audit.db", "/elsewhere.db"}});
  std::ofstream(config) << restart_only;
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(WaitForFileLine(log, "apply only after a restart", absl::Seconds(10)));
  EXPECT_TRUE(WaitForFileLine(log, R"("settings":"logging, audit")", absl::Seconds(1)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);
}

// The file-mode rules of the start apply to a reload too: a config file or
// a CA file that others may write is refused by name, and the running
// config (here: with the client's right) stays until they are fixed.
TEST(ReloadTest, SighupRefusesAConfigOrCaFileOthersMayWrite) {
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();
  const std::string dir = NewTestDir("reload-modes");
  const std::string config = dir + "/reload.yaml";
  const std::string log = dir + "/reload.log";
  const std::string upstream_ca = dir + "/upstream-ca.pem";
  ASSERT_EQ(std::system(absl::StrCat("cp ", TestCert("ca.pem"), " ",
                                     upstream_ca, " && chmod 644 ", upstream_ca)
                            .c_str()),
            0);
  const std::string yaml = absl::StrReplaceAll(
      GatewayYaml(sim->port), {{"\n        ca_file: " + TestCert("ca.pem"),
                                "\n        ca_file: " + upstream_ca}});
  auto gateway = StartGatewayProcess(config, yaml, log);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);
  const std::string withdrawn = absl::StrReplaceAll(
      yaml, {{"methods: [lienthong.v1.PopulationService/LookupCitizen]",
              "methods: []"}});
  ASSERT_NE(withdrawn, yaml);

  std::ofstream(config) << withdrawn;
  ASSERT_EQ(::chmod(upstream_ca.c_str(), 0664), 0);
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(WaitForFileLine(
      log,
      absl::StrCat("adapters[0].config.upstream.ca_file '", upstream_ca,
                   "' is writable by its group (mode 0664)"),
      absl::Seconds(10)));
  EXPECT_TRUE(WaitForFileLine(log, "config reload refused", absl::Seconds(1)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);

  ASSERT_EQ(::chmod(upstream_ca.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(config.c_str(), 0666), 0);
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(
      WaitForFileLine(log,
                      absl::StrCat("config file '", config,
                                   "' is writable by others (mode 0666)"),
                      absl::Seconds(10)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);

  // Fixed: the same edit is applied.
  ASSERT_EQ(::chmod(config.c_str(), 0600), 0);
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(WaitForFileLine(log, "config reloaded", absl::Seconds(10)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::PERMISSION_DENIED);
}

// The access lines in `text` (one JSON object per line).
int AccessLines(const std::string& text) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, R"("msg":"access")")) ++n;
  }
  return n;
}

TEST(ReloadTest, TheAccessLogFileIsReopenedOnSighupAndWrittenOutAtStop) {
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();
  const std::string dir = NewTestDir("access-log");
  const std::string access = dir + "/access.log";
  const std::string log = dir + "/gateway.log";
  const std::string yaml = absl::StrReplaceAll(
      GatewayYaml(sim->port),
      {{"  level: info", absl::StrCat("  level: info\n  access_log_file: ",
                                      access)}});
  auto gateway = StartGatewayProcess(dir + "/gateway.yaml", yaml, log);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  ASSERT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);
  // Written within the flush interval, without a stop or a signal.
  ASSERT_TRUE(WaitForFileLine(access, R"("msg":"access")", absl::Seconds(5)));
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(access),
                                R"("method":"lienthong.v1.PopulationService/LookupCitizen")"));
  struct stat st;
  ASSERT_EQ(::stat(access.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // logrotate: rename, then SIGHUP; the next call's line is in a new file.
  ASSERT_EQ(std::rename(access.c_str(), (access + ".1").c_str()), 0);
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(WaitForFileLine(log, "access log reopened", absl::Seconds(10)));
  ASSERT_TRUE(WaitForFileLine(log, "config reloaded", absl::Seconds(10)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);
  // A call just before the stop: its line is written out as the gateway
  // stops, not lost with the buffer.
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);
  const std::string metrics =
      HttpGet(absl::StrCat("http://127.0.0.1:", gateway->admin_port, "/metrics"));
  EXPECT_TRUE(absl::StrContains(metrics, "lienthong_access_log_dropped_lines 0"))
      << metrics;
  const int status = gateway->process.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  EXPECT_EQ(AccessLines(ReadFileOrEmpty(access + ".1")), 1);
  EXPECT_EQ(AccessLines(ReadFileOrEmpty(access)), 2);
  // None on stderr, where the gateway's other lines still go.
  const std::string stderr_log = ReadFileOrEmpty(log);
  EXPECT_EQ(AccessLines(stderr_log), 0);
  EXPECT_TRUE(absl::StrContains(stderr_log, R"("msg":"stopped")"));
}

TEST(ReloadTest, AccessLinesOnAStderrWhoseReaderLeftAreCountedAndCallsGoOn) {
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();
  const std::string dir = NewTestDir("stderr-pipe");
  // The gateway's stderr is a pipe (a FIFO here) that this test reads.
  const std::string fifo = dir + "/stderr";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  auto gateway =
      StartGatewayProcess(dir + "/gateway.yaml", GatewayYaml(sim->port), fifo);
  if (!gateway.ok()) {
    char buffer[4096];
    const ssize_t n = ::read(reader, buffer, sizeof(buffer));
    FAIL() << gateway.status() << ": "
           << std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0);
  }
  ASSERT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);
  // The call's access line comes through the pipe within the flush interval.
  std::string text;
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (AccessLines(text) == 0 && absl::Now() < until) {
    char buffer[4096];
    const ssize_t n = ::read(reader, buffer, sizeof(buffer));
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else {
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  ASSERT_EQ(AccessLines(text), 1) << text;

  // The reader goes away: writes fail (EPIPE), the gateway serves on.
  ::close(reader);
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);
  std::string metrics;
  const absl::Time counted = absl::Now() + absl::Seconds(5);
  while (!absl::StrContains(metrics, "lienthong_access_log_dropped_lines 1") &&
         absl::Now() < counted) {
    absl::SleepFor(absl::Milliseconds(50));
    metrics = HttpGet(
        absl::StrCat("http://127.0.0.1:", gateway->admin_port, "/metrics"));
  }
  EXPECT_TRUE(
      absl::StrContains(metrics, "lienthong_access_log_dropped_lines 1"))
      << metrics;
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);
  const int status = gateway->process.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace lienthong::testing
