// `lienthong-gateway --check`: CheckStartup over configs that pass and fail,
// placed at FILE:LINE:COL by the loader's positions, and the real binary:
// a config that passes --check starts.
#include "gateway/server/startup_check.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "adapters/common/http/http_client.h"
#include "adapters/registry.h"
#include "gateway/config/config_loader.h"
#include "gateway/sync/outbox.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_certs.h"

namespace lienthong::server {
namespace {

using ::lienthong::testing::BinaryPath;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::testing::Subprocess;
using ::lienthong::testing::TestCertDir;
using ::testing::HasSubstr;

// A config that starts: every adapter type, both routes, portal sync and
// the audit log, with files under $VAR (a scratch folder) and $CERTS.
// Line numbers matter to the table below.
constexpr char kGood[] = R"(node_name: check-test
listener:
  address: 127.0.0.1:0
  tls:
    cert_file: $CERTS/gateway.pem
    key_file: $CERTS/gateway.key
    client_ca_file: $CERTS/ca.pem
adapters:
  - name: population
    type: c06-population-soap
    config:
      upstream: {base_url: "https://127.0.0.1:9", ca_file: $CERTS/ca.pem}
      path: /c06/soap
      xroad_client: VN/GOV/000.00.00.H31/LIENTHONG
      api_key: key
      username: user
      secret: secret
      auth_url: https://c06.test/xacthuc
      integration_code: "037"
      identity_service_code: "033"
  - name: vneid
    type: vneid-oidc
    config:
      upstream: {base_url: "https://127.0.0.1:9", ca_file: $CERTS/ca.pem}
      realm: citizen
      redirect_uris: ["https://portal.example/cb"]
      client_id: lienthong
      client_secret: secret
  - name: portal
    type: dvcqg-portal-rest
    config: {upstream: {base_url: "https://127.0.0.1:9", ca_file: $CERTS/ca.pem},
      auth_endpoint: /auth, integration_endpoint: /integration,
      username: lienthong, password: secret, madonvi: "000.00.00.H31"}
  - name: relay
    type: grpc-upstream
    config:
      target: 127.0.0.1:9
      ca_file: $CERTS/ca.pem
routes:
  - method: lienthong.v1.PopulationService/LookupCitizen
    adapter: population
  - method: lienthong.v1.IdentityService/SignInWithVneid
    adapter: vneid
clients:
  - id: spiffe://lienthong.local/dossier-system
    methods: [lienthong.v1.PopulationService/LookupCitizen]
    grants:
      - purposes: ["*"]
        fields: [name]
portal_sync:
  adapter: portal
  outbox_file: $VAR/sync/outbox.db
audit:
  store_file: $VAR/audit/audit.db
admin:
  address: 127.0.0.1:0
)";

struct Case {
  const char* name;
  const char* replace;  // in kGood ...
  const char* with;     // ... by this
  const char* message;  // expected in the error, after "gw.yaml:"
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
};

// Each is refused by the part that builds it, at the line of its field.
const Case kRefused[] = {
    {"an admin token file that is not there (the start reads it)",
     "admin:\n  address: 127.0.0.1:0\n",
     "admin:\n  address: 127.0.0.1:0\n  bearer_token_file: $VAR/none.token\n",
     "57:3: admin.bearer_token_file: cannot read"},
    {"a lookup routed to an adapter without the population capability",
     "    adapter: population\n", "    adapter: vneid\n",
     "41:5: routes[0].adapter: adapter 'vneid' (vneid-oidc) cannot "
     "serve lienthong.v1.PopulationService/LookupCitizen"},
    {"a method the gateway serves itself",
     "  - method: lienthong.v1.IdentityService/SignInWithVneid\n",
     "  - method: lienthong.v1.AuditService/QueryAudit\n",
     "42:5: routes[1].method: 'lienthong.v1.AuditService/QueryAudit' cannot "
     "be routed"},
    {"a method that does not exist",
     "  - method: lienthong.v1.IdentityService/SignInWithVneid\n",
     "  - method: lienthong.v1.IdentityService/Verify\n",
     "42:5: routes[1].method: 'lienthong.v1.IdentityService/Verify' cannot "
     "be routed"},
    {"a method routed twice",
     "  - method: lienthong.v1.IdentityService/SignInWithVneid\n",
     "  - method: lienthong.v1.PopulationService/LookupCitizen\n",
     "42:5: routes[1].method: 'lienthong.v1.PopulationService/LookupCitizen' "
     "is already routed by routes[0]"},
    {"a route without a method",
     "  - method: lienthong.v1.IdentityService/SignInWithVneid\n    adapter:",
     "  - adapter:", "42:5: routes[1].method: required: one of"},
    {"a first backoff above the default longest one",
     "    adapter: population\n",
     "    adapter: population\n    retry: {initial_backoff_ms: 3000}\n",
     "42:5: routes[0].retry: retry backoff must satisfy"},
    {"a breaker failure ratio above 1", "    type: c06-population-soap\n",
     "    type: c06-population-soap\n    breaker: {failure_ratio: 1.5}\n",
     "11:15: adapters[0].breaker.failure_ratio: must be between 0 and 1"},
    {"a gRPC upstream without a target", "      target: 127.0.0.1:9\n", "",
     "36:5: adapters[3].config.target: adapter 'relay': target is required"},
    {"a portal adapter with a plain-HTTP URL",
     "config: {upstream: {base_url: \"https://",
     "config: {upstream: {base_url: \"http://",
     "31:25: adapters[2].config.upstream.base_url: adapter 'portal': "
     "upstream.base_url must start with https://"},
    {"a key that belongs to another certificate", "$CERTS/gateway.key",
     "$CERTS/sim.key",
     "6:5: listener.tls.key_file: tls.cert_file and tls.key_file do not "
     "belong together"},
    {"a client CA file that is missing", "$CERTS/ca.pem\nadapters",
     "$CERTS/no-such-ca.pem\nadapters",
     "7:5: listener.tls.client_ca_file: cannot read tls.client_ca_file"},
    {"a configured audit signing key that is missing",
     "  store_file: $VAR/audit/audit.db\n",
     "  store_file: $VAR/audit/audit.db\n"
     "  signing_key_file: $VAR/none.pem\n  hmac_key_file: $VAR/none.key\n"
     "  digest_key_file: $VAR/none-digest.key\n",
     "55:3: audit.signing_key_file: ", absl::StatusCode::kNotFound},
    {"an audit store under a file", "$VAR/audit/audit.db",
     "$VAR/plain-file/audit.db",
     "54:3: audit.store_file: audit store: cannot create",
     absl::StatusCode::kUnavailable},
    {"portal sync through an adapter that cannot deliver to the portal",
     "  adapter: portal\n", "  adapter: vneid\n",
     "51:3: portal_sync.adapter: adapter 'vneid' (type vneid-oidc) "
     "cannot deliver to the portal"},
    {"an outbox file that is not a database", "$VAR/sync/outbox.db",
     "$VAR/plain-file",
     "52:3: portal_sync.outbox_file: outbox store: cannot read",
     absl::StatusCode::kUnavailable},
    {"an audit journal folder under a file",
     "  store_file: $VAR/audit/audit.db\n",
     "  store_file: $VAR/audit/audit.db\n"
     "  journal_dir: $VAR/plain-file/journal\n",
     "55:3: audit.journal_dir: audit journal: cannot create",
     absl::StatusCode::kUnavailable},
    {"the outbox in the audit store's file", "$VAR/sync/outbox.db",
     "$VAR/sync/../audit/audit.db",
     "52:3: portal_sync.outbox_file: is the same file as audit.store_file"},
    {"the access log in the outbox's file", "admin:\n  address: 127.0.0.1:0\n",
     "admin:\n  address: 127.0.0.1:0\nlogging:\n"
     "  access_log_file: $VAR/sync/outbox.db\n",
     "58:3: logging.access_log_file: is the same file as "
     "portal_sync.outbox_file"},
    {"an audit anchor file that is a folder",
     "  store_file: $VAR/audit/audit.db\n",
     "  store_file: $VAR/audit/audit.db\n  anchor_file: $VAR\n",
     "55:3: audit.anchor_file: audit anchor file: '",
     absl::StatusCode::kUnavailable},
};

class StartupCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    var_ = absl::StrCat(::testing::TempDir(), "/startup-check-", getpid(), "-",
                        counter++);
    ASSERT_EQ(std::system(absl::StrCat("rm -rf ", var_, " && mkdir -p ", var_)
                              .c_str()),
              0);
    std::ofstream(var_ + "/plain-file") << "not a database\n"
                                        << std::string(4096, '#');
    adapters::RegisterBuiltinAdapters(registry_);
    auto http = adapters::CurlHttpClient::Create({});
    ASSERT_THAT(http, IsOk());
    http_ = *std::move(http);
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf ", var_).c_str());
  }

  std::string Yaml(const Case* change = nullptr) const {
    std::string yaml = kGood;
    if (change != nullptr) {
      const size_t at = yaml.find(change->replace);
      EXPECT_NE(at, std::string::npos) << change->name;
      if (at != std::string::npos) {
        yaml.replace(at, std::strlen(change->replace), change->with);
      }
    }
    return absl::StrReplaceAll(yaml,
                               {{"$CERTS", TestCertDir()}, {"$VAR", var_}});
  }

  // Loads and checks `yaml` as --check does; the error placed in gw.yaml.
  absl::Status Check(const std::string& yaml) {
    config::ConfigPositions positions;
    auto config = config::LoadConfigYaml(
        yaml, "gw.yaml", var_,
        [this](absl::string_view type) { return registry_.EmptyConfigFor(type); },
        &positions);
    if (!config.ok()) return config.status();
    return positions.Locate(CheckStartup(*config, registry_, http_.get()));
  }

  std::string WriteConfig(const std::string& name, const std::string& yaml) {
    const std::string path = absl::StrCat(var_, "/", name);
    std::ofstream(path) << yaml;
    // Private, as the gateway requires of its config file.
    ::chmod(path.c_str(), 0600);
    return path;
  }

  std::string var_;
  adapters::AdapterRegistry registry_;
  std::unique_ptr<adapters::CurlHttpClient> http_;
};

TEST_F(StartupCheckTest, AConfigThatStartsPassesAndNothingIsWritten) {
  EXPECT_THAT(Check(Yaml()), IsOk());
  // Neither the audit store, its keys, nor the outbox were made.
  EXPECT_NE(::access((var_ + "/audit").c_str(), F_OK), 0);
  EXPECT_NE(::access((var_ + "/sync").c_str(), F_OK), 0);
}

TEST_F(StartupCheckTest, WhatStartUpWouldRefuseIsRefusedAtItsLine) {
  for (const Case& c : kRefused) {
    EXPECT_THAT(Check(Yaml(&c)),
                StatusIs(c.code, HasSubstr(absl::StrCat("gw.yaml:", c.message))))
        << c.name;
  }
}

// Record types come from one adapter instance each, and record grants name
// served types: both known only once the adapters are built.
TEST_F(StartupCheckTest, RecordTypesAreCheckedAtTheirLine) {
  const std::string registry = R"(  - name: registry-a
    type: ministry-rest-json
    config:
      upstream: {base_url: "https://127.0.0.1:9", ca_file: $CERTS/ca.pem}
      record_types:
        - name: enterprise
          path: /dn/{tax_code}
          parameters: [{name: tax_code, pattern: "[0-9]{10}"}]
          fields: [{name: name, pointer: /ten}]
)";
  const std::string anchor = "routes:\n";
  std::string yaml = Yaml();
  std::string with_one = yaml;
  with_one.insert(with_one.find(anchor),
                  absl::StrReplaceAll(registry, {{"$CERTS", TestCertDir()}}));
  EXPECT_THAT(Check(with_one), IsOk());

  std::string with_two = with_one;
  std::string second = absl::StrReplaceAll(
      registry, {{"$CERTS", TestCertDir()}, {"registry-a", "registry-b"}});
  with_two.insert(with_two.find(anchor), second);
  EXPECT_THAT(Check(with_two),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("gw.yaml:50:5: adapters[5].config: record "
                                 "type 'enterprise' is already served by "
                                 "adapter 'registry-a' (adapters[4])")));

  std::string unknown = with_one;
  const std::string grants = "        fields: [name]\n";
  unknown.insert(unknown.find(grants) + grants.size(),
                 "      - record_type: vehicle\n"
                 "        purposes: [\"*\"]\n"
                 "        fields: [plate]\n");
  EXPECT_THAT(Check(unknown),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("record_type: no configured adapter serves "
                                 "record type 'vehicle'")));
  EXPECT_THAT(Check(unknown).message(), HasSubstr("clients[0].grants[1]"));
}

TEST_F(StartupCheckTest, AnAuditStoreFromANewerGatewayIsRefused) {
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", var_, "/audit").c_str()), 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((var_ + "/audit/audit.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(Check(Yaml()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("gw.yaml:54:3: audit.store_file: audit log: "
                                 "audit index '")));
  EXPECT_THAT(Check(Yaml()).message(), HasSubstr("schema version 99"));
}

// The outbox's schema version is checked as the audit store's is: a file
// from a newer gateway, or of version 1 (which no gateway upgrades), fails
// --check at portal_sync.outbox_file rather than at start.
TEST_F(StartupCheckTest, AnOutboxOfAVersionThisGatewayCannotReadIsRefused) {
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", var_, "/sync").c_str()), 0);
  const struct {
    int version;
    const char* says;
  } kCases[] = {{99, "schema version 99, newer than this gateway's"},
                {1, "schema version 1, from before dossier registrations"}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.version);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((var_ + "/sync/outbox.db").c_str(), &db),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           absl::StrCat("PRAGMA user_version=", c.version)
                               .c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    EXPECT_THAT(Check(Yaml()),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("gw.yaml:52:3: portal_sync.outbox_file: ")));
    EXPECT_THAT(Check(Yaml()).message(), HasSubstr(c.says));
  }
  // An outbox as this gateway makes it passes.
  ASSERT_EQ(std::system(absl::StrCat("rm -f ", var_, "/sync/outbox.db*")
                            .c_str()),
            0);
  sync::OutboxOptions options;
  options.path = var_ + "/sync/outbox.db";
  options.key = std::string(32, 'k');
  ASSERT_THAT(sync::Outbox::Open(options), IsOk());
  EXPECT_THAT(Check(Yaml()), IsOk());
}

// The binary, as an operator runs it: exit codes and messages.
struct CheckRun {
  int exit_code = -1;
  std::string stdout_line;
  std::string stderr_text;
};

CheckRun RunCheck(const std::string& config_path, const std::string& stderr_path) {
  CheckRun run;
  auto process = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", config_path,
       "--check"},
      stderr_path);
  if (!process.ok()) return run;
  auto line = process->WaitForLine("config OK", absl::Seconds(60));
  if (line.ok()) run.stdout_line = *line;
  const int status = process->Stop(0, absl::Seconds(60));
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.stderr_text = ::lienthong::testing::ReadFileOrEmpty(stderr_path);
  return run;
}

// store: postgres is checked without connecting: the connection string
// must be in LIENTHONG_PG_DSN and parse; no file is made.
TEST_F(StartupCheckTest, APostgresStoreNeedsItsConnectionStringOnly) {
  std::string yaml = Yaml();
  const std::string line = "  outbox_file: ";
  yaml.insert(yaml.find(line), "  store: postgres\n");
  ::unsetenv("LIENTHONG_PG_DSN");
  EXPECT_THAT(Check(yaml),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("portal_sync.store: postgres needs the "
                                 "environment variable LIENTHONG_PG_DSN")));
  ::setenv("LIENTHONG_PG_DSN", "host=127.0.0.1 password='Unterminated-s3cret",
           1);
  absl::Status unparsable = Check(yaml);
  EXPECT_THAT(unparsable, StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("LIENTHONG_PG_DSN")));
  EXPECT_THAT(unparsable.message(), Not(HasSubstr("s3cret")));
  // Nothing listens on port 9: a check does not connect.
  ::setenv("LIENTHONG_PG_DSN", "host=127.0.0.1 port=9 dbname=lienthong", 1);
  EXPECT_THAT(Check(yaml), IsOk());
  ::unsetenv("LIENTHONG_PG_DSN");
  EXPECT_NE(::access((var_ + "/sync").c_str(), F_OK), 0);
}

TEST_F(StartupCheckTest, TheBinaryRefusesWithFileLineAndColumn) {
  const Case* kThroughTheBinary[] = {&kRefused[0], &kRefused[9], &kRefused[13]};
  for (const Case* c : kThroughTheBinary) {
    const std::string path = WriteConfig("refused.yaml", Yaml(c));
    CheckRun run =
        RunCheck(path, absl::StrCat(var_, "/check-", c - kRefused, ".err"));
    EXPECT_EQ(run.exit_code, 2) << c->name;
    EXPECT_EQ(run.stdout_line, "") << c->name;
    EXPECT_THAT(run.stderr_text,
                HasSubstr(absl::StrCat("lienthong-gateway: ", path, ":",
                                       c->message)))
        << c->name;
  }
}

TEST_F(StartupCheckTest, AConfigThatPassesTheBinarysCheckStarts) {
  const std::string path = WriteConfig("good.yaml", Yaml());
  CheckRun check = RunCheck(path, var_ + "/check.err");
  ASSERT_EQ(check.exit_code, 0) << check.stderr_text;
  EXPECT_THAT(check.stdout_line, HasSubstr("config OK"));

  auto gateway = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", path},
      var_ + "/gateway.err");
  ASSERT_THAT(gateway, IsOk());
  auto listening = gateway->WaitForLine("listening on port", absl::Seconds(60));
  EXPECT_THAT(listening, IsOk())
      << ::lienthong::testing::ReadFileOrEmpty(var_ + "/gateway.err");
  const int status = gateway->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << ::lienthong::testing::ReadFileOrEmpty(var_ + "/gateway.err");
  // Start-up made what --check only looked at.
  EXPECT_EQ(::access((var_ + "/audit/audit.db").c_str(), F_OK), 0);
  EXPECT_EQ(::access((var_ + "/sync/outbox.db").c_str(), F_OK), 0);
  // And the check still passes on what start-up made.
  CheckRun again = RunCheck(path, var_ + "/check-again.err");
  EXPECT_EQ(again.exit_code, 0) << again.stderr_text;
}

// What only start-up can meet (here the outbox another gateway holds) is
// placed in the file too.
TEST_F(StartupCheckTest, AnOutboxInUseIsRefusedAtStartAtItsLine) {
  const std::string path = WriteConfig("good.yaml", Yaml());
  auto first = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", path},
      var_ + "/first.err");
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(first->WaitForLine("listening on port", absl::Seconds(60)),
              IsOk())
      << ::lienthong::testing::ReadFileOrEmpty(var_ + "/first.err");
  auto second = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", path},
      var_ + "/second.err");
  ASSERT_THAT(second, IsOk());
  // It exits (closing its stdout) without listening.
  EXPECT_THAT(second->WaitForLine("listening on port", absl::Seconds(60)),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  const int status = second->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_THAT(::lienthong::testing::ReadFileOrEmpty(var_ + "/second.err"),
              HasSubstr(absl::StrCat("lienthong-gateway: ", path, ":50:1: ")));
  first->Stop(SIGTERM);
}

// The journal and anchors in folders not made yet, named relative to the
// config file: --check passes and start-up makes them there, whatever the
// working directory.
TEST_F(StartupCheckTest, AJournalAndAnchorsInFoldersStillToBeMadeStart) {
  ASSERT_EQ(::mkdir((var_ + "/etc").c_str(), 0700), 0);
  std::string yaml = Yaml();
  const std::string store = "  store_file: " + var_ + "/audit/audit.db\n";
  const size_t at = yaml.find(store);
  ASSERT_NE(at, std::string::npos);
  yaml.insert(at + store.size(),
              "  journal_dir: var/deep/journal\n"
              "  anchor_file: anchors/a/anchors.jsonl\n");
  const std::string path = WriteConfig("etc/gw.yaml", yaml);
  CheckRun check = RunCheck(path, var_ + "/check.err");
  ASSERT_EQ(check.exit_code, 0) << check.stderr_text;
  EXPECT_NE(::access((var_ + "/etc/var").c_str(), F_OK), 0);

  auto gateway = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", path},
      var_ + "/gateway.err");
  ASSERT_THAT(gateway, IsOk());
  EXPECT_THAT(gateway->WaitForLine("listening on port", absl::Seconds(60)),
              IsOk())
      << ::lienthong::testing::ReadFileOrEmpty(var_ + "/gateway.err");
  gateway->Stop(SIGTERM);
  struct stat st {};
  EXPECT_EQ(::stat((var_ + "/etc/var/deep/journal").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(::access((var_ + "/etc/anchors/a/anchors.jsonl").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace lienthong::server
