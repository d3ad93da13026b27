// The real binaries and file modes: lienthong-gateway refuses a key file
// that group or others may read, or a config, CA or CRL file they may write
// (unless told the keys are development keys), and everything it and `lienthong
// audit export` create (audit journal, index, WAL, development keys,
// anchors, portal outbox, exports) is owner-only even though this test runs
// with the usual umask 022.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_process.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

using ::testing::HasSubstr;

int ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

// The folder of the audit store that GatewayYaml() chose.
std::string AuditDirOf(const std::string& yaml) {
  const std::string key = "store_file: ";
  size_t start = yaml.find(key) + key.size();
  size_t end = yaml.find("/audit.db", start);
  return yaml.substr(start, end - start);
}

class FilePermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::umask(022);
    dir_ = absl::StrCat(::testing::TempDir(), "/file-permissions-", getpid());
    ::mkdir(dir_.c_str(), 0700);
    config_ = dir_ + "/gateway.yaml";
    log_ = dir_ + "/gateway.log";
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  // Runs the gateway on `yaml` written with `mode`; returns its exit code
  // when it stops by itself within 30 s, or -1 when it started serving.
  int RunUntilExit(const std::string& yaml, mode_t mode,
                   std::vector<std::string> extra_flags = {}) {
    { std::ofstream(config_, std::ios::trunc) << yaml; }
    { std::ofstream(log_, std::ios::trunc); }  // this run's lines only
    ::chmod(config_.c_str(), mode);
    std::vector<std::string> argv = {BinaryPath("gateway/server/lienthong-gateway"),
                                     "--config", config_};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    auto process = Subprocess::Start(argv, log_);
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return -2;
    if (process->WaitForLine("listening on port", absl::Seconds(30)).ok()) {
      process->Stop(SIGTERM);
      return -1;
    }
    const int status = process->Stop(0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
  }

  std::string dir_;
  std::string config_;
  std::string log_;
};

TEST_F(FilePermissionsTest, ALooseConfigOrKeyFileStopsStartUp) {
  const std::string yaml = GatewayYaml(1);
  EXPECT_EQ(RunUntilExit(yaml, 0666), 2);
  EXPECT_THAT(ReadFileOrEmpty(log_),
              HasSubstr(absl::StrCat("config file '", config_,
                                     "' is writable by others (mode 0666)")));

  const std::string key = dir_ + "/gateway.key";
  ASSERT_EQ(std::system(absl::StrCat("cp ", TestCert("gateway.key"), " ", key,
                                     " && chmod 640 ", key)
                            .c_str()),
            0);
  const std::string with_loose_key =
      absl::StrReplaceAll(yaml, {{TestCert("gateway.key"), key}});
  EXPECT_EQ(RunUntilExit(with_loose_key, 0644), 2);
  EXPECT_THAT(ReadFileOrEmpty(log_),
              HasSubstr(absl::StrCat("listener.tls.key_file '", key,
                                     "' is open to its group (mode 0640)")));

  // Development keys: allowed with the flag, and said so in the log.
  EXPECT_EQ(RunUntilExit(with_loose_key, 0644, {"--allow-insecure-file-modes"}),
            -1);
  EXPECT_THAT(
      ReadFileOrEmpty(log_),
      HasSubstr("open to others, allowed by --allow-insecure-file-modes"));
}

// CA files are re-read while the gateway runs: one that group or others
// may write is refused by its field, one they may only read is fine.
TEST_F(FilePermissionsTest, ACaFileOthersMayWriteStopsStartUp) {
  const std::string yaml = GatewayYaml(1);
  const std::string client_ca = dir_ + "/clients-ca.pem";
  const std::string upstream_ca = dir_ + "/upstream-ca.pem";
  ASSERT_EQ(std::system(absl::StrCat("cp ", TestCert("ca.pem"), " ", client_ca,
                                     " && cp ", TestCert("ca.pem"), " ",
                                     upstream_ca, " && chmod 664 ", client_ca,
                                     " && chmod 666 ", upstream_ca)
                            .c_str()),
            0);
  const std::string with_own_cas =
      absl::StrReplaceAll(yaml, {{"client_ca_file: " + TestCert("ca.pem"),
                                  "client_ca_file: " + client_ca},
                                 {"\n        ca_file: " + TestCert("ca.pem"),
                                  "\n        ca_file: " + upstream_ca}});
  ASSERT_NE(with_own_cas, yaml);
  EXPECT_EQ(RunUntilExit(with_own_cas, 0600), 2);
  const std::string log = ReadFileOrEmpty(log_);
  EXPECT_THAT(
      log, HasSubstr(absl::StrCat("listener.tls.client_ca_file '", client_ca,
                                  "' is writable by its group (mode 0664)")));
  EXPECT_THAT(log, HasSubstr(absl::StrCat(
                       "adapters[0].config.upstream.ca_file '", upstream_ca,
                       "' is writable by others (mode 0666)")));

  ASSERT_EQ(::chmod(client_ca.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(upstream_ca.c_str(), 0644), 0);
  EXPECT_EQ(RunUntilExit(with_own_cas, 0600), -1);
}

TEST_F(FilePermissionsTest, WhatTheGatewayAndTheCliCreateIsOwnerOnly) {
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();
  std::string yaml = absl::StrReplaceAll(
      GatewayYaml(sim->port),
      {{"adapters:\n",
        absl::StrCat("adapters:\n  - name: portal\n    type: dvcqg-portal-rest\n"
                     "    config:\n      upstream:\n        base_url: "
                     "https://127.0.0.1:",
                     sim->port, "\n        ca_file: ", TestCert("ca.pem"),
                     "\n      auth_endpoint: /dvcqg/adapter/auth\n"
                     "      integration_endpoint: /dvcqg/adapter/integration\n"
                     "      username: lienthong-dev\n"
                     "      password: dev-portal-password\n"
                     "      madonvi: 000.00.00.H31\n")}});
  absl::StrAppend(&yaml, "portal_sync:\n  adapter: portal\n  outbox_file: ",
                  dir_, "/outbox/outbox.db\n");
  const std::string audit_dir = AuditDirOf(yaml);
  auto gateway = StartGatewayProcess(config_, yaml, log_);
  ASSERT_TRUE(gateway.ok()) << gateway.status() << "\n" << ReadFileOrEmpty(log_);
  {
    // One audited call, so that the journal and its index have been written.
    auto stub = lienthong::v1::PopulationService::NewStub(
        ClientChannel(gateway->port, "dossier-system"));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    lienthong::v1::LookupCitizenRequest request;
    request.set_citizen_id("033085012345");
    request.set_purpose("1.001193");
    *request.mutable_officer() = TestOfficer();
    lienthong::v1::Citizen citizen;
    grpc::Status status = stub->LookupCitizen(&context, request, &citizen);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  // Everything the gateway created, wherever its stores put it.
  int files = 0;
  for (const std::string& folder : {audit_dir, dir_ + "/outbox"}) {
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(folder)) {
      const std::string path = entry.path().string();
      if (path == config_ || path == log_) continue;
      EXPECT_EQ(ModeOf(path) & 077, 0) << path << " mode " << std::oct
                                       << ModeOf(path);  // folders too
      ++files;
    }
  }
  EXPECT_GE(files, 6);  // journal, index and WAL, keys, outbox and WAL
  gateway->process.Stop(SIGTERM);

  // An export, also over an older file that was readable by others.
  const std::string out = dir_ + "/audit.jsonl";
  { std::ofstream(out) << "old"; }
  ::chmod(out.c_str(), 0644);
  auto export_run = Subprocess::Start(
      {BinaryPath("gateway/cli/lienthong"), "audit", "export", "--journal",
       audit_dir + "/audit-journal", "--out", out},
      dir_ + "/export.log");
  ASSERT_TRUE(export_run.ok());
  const int status = export_run->Stop(0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << ReadFileOrEmpty(dir_ + "/export.log");
  EXPECT_EQ(ModeOf(out), 0600);
  EXPECT_THAT(ReadFileOrEmpty(out), HasSubstr("LookupCitizen"));
}

}  // namespace
}  // namespace lienthong::testing
