// The production configs of deploy/ against the gateway itself: the one
// the Debian package installs for the systemd unit, and the one in the
// Kubernetes ConfigMap. Each names exactly the credentials its deployment
// provides, passes `lienthong-gateway --check` with them, and refuses to
// start, naming the credential, when one is missing. The systemd one also
// starts and speaks systemd's notify protocol, as the unit's Type=notify
// relies on, with its state and access log in the unit's folders.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy/deploy_testing.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/subprocess.h"

namespace lienthong::deploy_testing {
namespace {

using ::lienthong::testing::BinaryPath;
using ::lienthong::testing::SourcePath;
using ::lienthong::testing::Subprocess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kSystemdConfig[] = "deploy/systemd/gateway.yaml";
constexpr char kUnit[] = "deploy/systemd/lienthong-gateway.service";

// The config text of the Kubernetes ConfigMap.
std::string ConfigMapConfig() {
  YAML::Node map =
      YAML::LoadFile(SourcePath("deploy/kubernetes/configmap.yaml"));
  return map["data"]["gateway.yaml"].as<std::string>();
}

// The credential IDs of the unit's LoadCredential= lines; fails the test
// when one is not read from /etc/lienthong/credentials/ID.
std::set<std::string> UnitCredentials() {
  std::set<std::string> ids;
  for (const auto& [key, value] :
       UnitSection(ReadFile(SourcePath(kUnit)), "Service")) {
    if (key != "LoadCredential") continue;
    const std::string id = value.substr(0, value.find(':'));
    EXPECT_EQ(value, absl::StrCat(id, ":/etc/lienthong/credentials/", id));
    ids.insert(id);
  }
  return ids;
}

class ProductionConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    ASSERT_EQ(::mkdir(credentials_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(state_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(logs_.c_str(), 0700), 0);
  }

  // Runs --check on `config_text` (written beside the scratch folders).
  ToolRun Check(const std::string& config_text) {
    const std::string path = credentials_ + "-gateway.yaml";
    EXPECT_TRUE(WriteFile(path, config_text));
    auto run =
        RunTool({BinaryPath("gateway/server/lienthong-gateway"), "--config",
                 path, "--check"},
                {"CREDENTIALS_DIRECTORY=" + credentials_,
                 "STATE_DIRECTORY=" + state_, "LOGS_DIRECTORY=" + logs_,
                 "POD_NAME=lienthong-gateway-0"});
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : ToolRun{};
  }

  // Holds the two folders and the files written beside them.
  const ::lienthong::testing::ScratchDir scratch_{"production-config"};
  const std::string credentials_ = scratch_.File("credentials");
  const std::string state_ = scratch_.File("state");
  const std::string logs_ = scratch_.File("logs");
};

TEST_F(ProductionConfigTest, SystemdConfigReadsExactlyTheUnitsCredentials) {
  const std::string config = ReadFile(SourcePath(kSystemdConfig));
  ASSERT_FALSE(config.empty());
  EXPECT_EQ(CredentialsNamedIn(config), UnitCredentials());
  // And no environment but what systemd sets for the unit.
  EXPECT_THAT(VariablesNamedIn(config),
              ElementsAre("CREDENTIALS_DIRECTORY", "LOGS_DIRECTORY",
                          "STATE_DIRECTORY"));
}

TEST_F(ProductionConfigTest, SystemdConfigPassesCheckWithTheUnitsCredentials) {
  ASSERT_TRUE(FillCredentials(credentials_, UnitCredentials()).ok());
  const ToolRun run = Check(ReadFile(SourcePath(kSystemdConfig)));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, StartsWith("config OK"));
}

TEST_F(ProductionConfigTest, ConfigMapConfigPassesCheck) {
  const std::string config = ConfigMapConfig();
  ASSERT_TRUE(FillCredentials(credentials_, CredentialsNamedIn(config)).ok());
  const ToolRun run = Check(config);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, StartsWith("config OK"));
}

TEST_F(ProductionConfigTest, AMissingCredentialStopsTheStartNamingIt) {
  std::set<std::string> names = UnitCredentials();
  ASSERT_EQ(names.erase("c06-secret"), 1u);
  ASSERT_TRUE(FillCredentials(credentials_, names).ok());
  const ToolRun run = Check(ReadFile(SourcePath(kSystemdConfig)));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("secret: credential 'c06-secret' in "
                                    "CREDENTIALS_DIRECTORY cannot be read"));
  // The other secrets were read; none of them is repeated.
  EXPECT_THAT(run.output, Not(HasSubstr("test-c06-api-key")));
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    ::unlink(path.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&address),
                    sizeof(address)) == 0;
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }

  // The next message, or "" when none comes within `timeout_ms`.
  std::string Next(int timeout_ms = 30000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return "";
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, n) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST_F(ProductionConfigTest, SystemdConfigStartsAndTellsSystemdWhatItDoes) {
  ASSERT_TRUE(FillCredentials(credentials_, UnitCredentials()).ok());
  // The unit's config, on free loopback ports.
  const std::string config = absl::StrReplaceAll(
      ReadFile(SourcePath(kSystemdConfig)),
      {{"address: 0.0.0.0:8443", "address: 127.0.0.1:0"},
       {"address: 127.0.0.1:9464", "address: 127.0.0.1:0"}});
  ASSERT_THAT(config, Not(HasSubstr("8443")));
  const std::string config_path = state_ + "-gateway.yaml";
  ASSERT_TRUE(WriteFile(config_path, config));
  NotifySocket notify(credentials_ + "-notify");
  ASSERT_TRUE(notify.bound());
  ::setenv("NOTIFY_SOCKET", (credentials_ + "-notify").c_str(), 1);
  ::setenv("CREDENTIALS_DIRECTORY", credentials_.c_str(), 1);
  ::setenv("STATE_DIRECTORY", state_.c_str(), 1);
  ::setenv("LOGS_DIRECTORY", logs_.c_str(), 1);
  auto gateway = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", config_path},
      state_ + "-gateway.log");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(gateway.ok()) << gateway.status();

  // READY=1 comes once the listener serves, naming its port.
  const std::string ready = notify.Next();
  auto listening = gateway->WaitForLine("listening on port", absl::Seconds(5));
  ASSERT_TRUE(listening.ok()) << ReadFile(state_ + "-gateway.log");
  const std::string port = listening->substr(listening->rfind(' ') + 1);
  EXPECT_EQ(ready, absl::StrCat("READY=1\nSTATUS=serving on port ", port));

  // ExecReload's SIGHUP: reloading, then ready again.
  ::kill(gateway->pid(), SIGHUP);
  EXPECT_EQ(notify.Next(), "RELOADING=1");
  EXPECT_EQ(notify.Next(), ready);
  // systemctl stop's SIGTERM: stopping, then a clean exit.
  const pid_t pid = gateway->pid();
  ::kill(pid, SIGTERM);
  EXPECT_EQ(notify.Next(), "STOPPING=1");
  const int status = gateway->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Its state went where StateDirectory= puts it.
  EXPECT_EQ(::access((state_ + "/audit.db").c_str(), F_OK), 0);
  EXPECT_EQ(::access((state_ + "/outbox.db").c_str(), F_OK), 0);
  // And its access log where LogsDirectory= puts it.
  EXPECT_EQ(::access((logs_ + "/access.log").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace lienthong::deploy_testing
