// Which config fields name secret files (every *key_file and *token_file,
// adapter configs included) and trust files (every *ca_file and *crl_file),
// and which file modes are refused for each.
#include "gateway/server/file_modes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/c06_population/c06_population_config.pb.h"
#include "adapters/grpc_upstream/grpc_upstream_config.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::server {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(SecretFilesTest, FindsEveryKeyAndTokenFileIncludingAdapterConfigs) {
  config::v1::GatewayConfig config;
  config.mutable_listener()->mutable_tls()->set_key_file("/k/tls.key");
  config.mutable_listener()->mutable_tls()->set_cert_file("/k/tls.pem");
  config.mutable_audit()->set_signing_key_file("/k/audit-signing.pem");
  config.mutable_audit()->set_hmac_key_file("/k/audit-hmac.key");
  config.mutable_admin()->set_bearer_token_file("/k/admin.token");
  lienthong::adapters::c06::C06PopulationSoapConfig c06;
  c06.mutable_upstream()->set_client_key_file("/k/xroad.key");
  c06.mutable_upstream()->set_ca_file("/k/ca.pem");
  config.add_adapters()->mutable_config()->PackFrom(c06);
  lienthong::adapters::grpc_upstream::GrpcUpstreamConfig relay;
  relay.set_client_key_file("/k/relay.key");
  config.add_adapters()->mutable_config()->PackFrom(relay);
  config.add_adapters();  // no config at all

  EXPECT_THAT(
      SecretFiles(config),
      UnorderedElementsAre(
          Pair("listener.tls.key_file", "/k/tls.key"),
          Pair("audit.signing_key_file", "/k/audit-signing.pem"),
          Pair("audit.hmac_key_file", "/k/audit-hmac.key"),
          Pair("admin.bearer_token_file", "/k/admin.token"),
          Pair("adapters[0].config.upstream.client_key_file", "/k/xroad.key"),
          Pair("adapters[1].config.client_key_file", "/k/relay.key")));
}

TEST(TrustFilesTest, FindsEveryCaAndCrlFileIncludingAdapterConfigs) {
  config::v1::GatewayConfig config;
  auto* tls = config.mutable_listener()->mutable_tls();
  tls->set_client_ca_file("/t/clients.pem");
  tls->set_client_crl_file("/t/clients.crl");
  tls->set_cert_file("/t/tls.pem");
  tls->set_key_file("/k/tls.key");
  lienthong::adapters::c06::C06PopulationSoapConfig c06;
  c06.mutable_upstream()->set_ca_file("/t/c06-ca.pem");
  c06.mutable_upstream()->set_client_key_file("/k/xroad.key");
  config.add_adapters()->mutable_config()->PackFrom(c06);
  lienthong::adapters::grpc_upstream::GrpcUpstreamConfig relay;
  relay.set_ca_file("/t/relay-ca.pem");
  config.add_adapters()->mutable_config()->PackFrom(relay);

  EXPECT_THAT(TrustFiles(config),
              UnorderedElementsAre(
                  Pair("listener.tls.client_ca_file", "/t/clients.pem"),
                  Pair("listener.tls.client_crl_file", "/t/clients.crl"),
                  Pair("adapters[0].config.upstream.ca_file", "/t/c06-ca.pem"),
                  Pair("adapters[1].config.ca_file", "/t/relay-ca.pem")));
}

class FileModesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/file-modes-", getpid());
    ::mkdir(dir_.c_str(), 0700);
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }
  std::string Make(const std::string& name, mode_t mode) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path) << "secret";
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(FileModesTest, OnlyOwnerOnlyFilesPass) {
  struct Case {
    mode_t mode;
    bool ok;
    const char* says;
  } cases[] = {
      {0600, true, ""},         {0400, true, ""},
      {0700, true, ""},         {0640, false, "open to its group (mode 0640)"},
      {0620, false, "its group"}, {0604, false, "open to others (mode 0604)"},
      {0644, false, "others"},  {0666, false, "others"},
  };
  for (const Case& c : cases) {
    const std::string path = Make(absl::StrCat("f", c.mode), c.mode);
    absl::Status status = CheckPrivateFile("tls.key_file", path);
    if (c.ok) {
      EXPECT_THAT(status, IsOk()) << std::oct << c.mode;
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   AllOf(HasSubstr("tls.key_file '" + path + "'"),
                                         HasSubstr(c.says),
                                         HasSubstr("--allow-insecure-file-modes"),
                                         Not(HasSubstr("secret")))))
          << std::oct << c.mode;
    }
  }
  // A missing file is for its reader to report.
  EXPECT_THAT(CheckPrivateFile("tls.key_file", dir_ + "/missing"), IsOk());
}

// A Kubernetes Secret under a pod's fsGroup is root's, of the pod's group,
// 0440: the gateway's user cannot own it. Readable by that group only and
// written by nobody, it passes; with any other group, or more bits, not.
TEST_F(FileModesTest, ARootOwnedSecretOfTheGatewaysGroupPasses) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  struct Case {
    gid_t group;
    mode_t mode;
    bool ok;
  } cases[] = {
      {::getegid(), 0440, true},         {::getegid(), 0460, false},
      {::getegid(), 0444, false},        {::getegid(), 0640, false},
      {::getegid() + 4242, 0440, false},
  };
  for (const Case& c : cases) {
    const std::string path =
        Make(absl::StrCat("k", c.mode, "-", c.group), c.mode);
    ASSERT_EQ(::chown(path.c_str(), 0, c.group), 0);
    ASSERT_EQ(::chmod(path.c_str(), c.mode), 0);
    EXPECT_EQ(CheckPrivateFile("tls.key_file", path).ok(), c.ok)
        << std::oct << c.mode << std::dec << " group " << c.group;
  }
}

TEST_F(FileModesTest, TheConfigFileMayBeReadButNotWrittenByOthers) {
  for (unsigned mode : {0600u, 0640u, 0644u, 0444u}) {
    EXPECT_THAT(CheckNotWritableByOthers("config file", Make("a.yaml", mode)),
                IsOk())
        << std::oct << mode;
  }
  EXPECT_THAT(CheckNotWritableByOthers("config file", Make("b.yaml", 0664)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is writable by its group (mode 0664)")));
  EXPECT_THAT(CheckNotWritableByOthers("config file", Make("c.yaml", 0646)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is writable by others (mode 0646)")));
}

TEST_F(FileModesTest, ChecksTheConfigFileAndEverySecretFile) {
  const std::string config_file = Make("gateway.yaml", 0666);
  config::v1::GatewayConfig config;
  config.mutable_listener()->mutable_tls()->set_key_file(Make("tls.key", 0600));
  config.mutable_audit()->set_hmac_key_file(Make("hmac.key", 0640));
  absl::Status status = CheckSecretFileModes(config_file, config);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition,
                               AllOf(HasSubstr("config file '" + config_file),
                                     HasSubstr("audit.hmac_key_file"),
                                     Not(HasSubstr("tls.key")))));
  ::chmod(config_file.c_str(), 0644);
  ::chmod(config.audit().hmac_key_file().c_str(), 0400);
  EXPECT_THAT(CheckSecretFileModes(config_file, config), IsOk());
}

// A CA or CRL file others can write lets them add a CA (or drop a CRL) that
// is re-read while the gateway runs: refused by field and path; readable
// by all is fine, they are public.
TEST_F(FileModesTest, TrustFilesMayBeReadButNotWrittenByOthers) {
  const std::string config_file = Make("gateway.yaml", 0600);
  config::v1::GatewayConfig config;
  auto* tls = config.mutable_listener()->mutable_tls();
  tls->set_client_ca_file(Make("clients-ca.pem", 0666));
  tls->set_client_crl_file(Make("clients.crl", 0664));
  lienthong::adapters::c06::C06PopulationSoapConfig c06;
  c06.mutable_upstream()->set_ca_file(Make("c06-ca.pem", 0644));
  config.add_adapters()->mutable_config()->PackFrom(c06);
  lienthong::adapters::grpc_upstream::GrpcUpstreamConfig relay;
  relay.set_ca_file(Make("relay-ca.pem", 0646));
  config.add_adapters()->mutable_config()->PackFrom(relay);

  EXPECT_THAT(
      CheckSecretFileModes(config_file, config),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          AllOf(HasSubstr("listener.tls.client_ca_file '" +
                          tls->client_ca_file() +
                          "' is writable by others (mode 0666)"),
                HasSubstr("listener.tls.client_crl_file '" +
                          tls->client_crl_file() +
                          "' is writable by its group (mode 0664)"),
                HasSubstr("adapters[1].config.ca_file '" + relay.ca_file() +
                          "' is writable by others (mode 0646)"),
                Not(HasSubstr("adapters[0]")), Not(HasSubstr("secret")))));

  for (const std::string& path :
       {tls->client_ca_file(), tls->client_crl_file(), relay.ca_file()}) {
    ::chmod(path.c_str(), 0644);
  }
  EXPECT_THAT(CheckSecretFileModes(config_file, config), IsOk());
  ::chmod(tls->client_ca_file().c_str(), 0444);
  EXPECT_THAT(CheckSecretFileModes(config_file, config), IsOk());
}

}  // namespace
}  // namespace lienthong::server
