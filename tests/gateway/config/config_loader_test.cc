#include "gateway/config/config_loader.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "adapters/c06_population/c06_population_config.pb.h"
#include "adapters/civil_status/civil_status_config.pb.h"
#include "adapters/dvcqg_portal/dvcqg_portal_config.pb.h"
#include "adapters/grpc_upstream/grpc_upstream_config.pb.h"
#include "adapters/registry.h"
#include "adapters/vneid_identity/vneid_config.pb.h"
#include "gateway/config/address.h"
#include "gateway/storage/pg/pg_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::config {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The adapters built into the gateway, as main.cc resolves them: a new
// adapter's config message (in its own folder) needs no edit here.
std::unique_ptr<google::protobuf::Message> TestResolver(
    absl::string_view type) {
  static const adapters::AdapterRegistry* const kRegistry = [] {
    auto* registry = new adapters::AdapterRegistry;
    adapters::RegisterBuiltinAdapters(*registry);
    return registry;
  }();
  return kRegistry->EmptyConfigFor(type);
}

absl::StatusOr<v1::GatewayConfig> Parse(
    const std::string& yaml, absl::string_view base_dir = "/etc/lt") {
  return ParseConfigYaml(yaml, "test.yaml", base_dir, TestResolver);
}

absl::StatusOr<v1::GatewayConfig> Load(const std::string& yaml) {
  return LoadConfigYaml(yaml, "test.yaml", "/etc/lt", TestResolver);
}

// A complete, valid config. Line numbers matter to the tables below.
constexpr char kValid[] = R"(node_name: gw-1
listener:
  address: 127.0.0.1:8443
  tls:
    cert_file: gateway.pem
    key_file: /abs/gateway.key
    client_ca_file: ca.pem
adapters:
  - name: population
    type: c06-population-soap
    config:
      upstream:
        base_url: https://127.0.0.1:9443
        ca_file: ca.pem
      path: /c06/soap
      api_key: ${LIENTHONG_TEST_API_KEY}
  - name: vneid
    type: vneid-oidc
    config:
      token_path: /vneid/realms/citizen/protocol/openid-connect/token
      clock_skew_seconds: 30
routes:
  - method: lienthong.v1.PopulationService/LookupCitizen
    adapter: population
    timeout_ms: 2000
  - method: lienthong.v1.IdentityService/VerifyIdentity
    adapter: vneid
clients:
  - id: spiffe://lienthong.local/dossier-system
    methods: [lienthong.v1.PopulationService/LookupCitizen]
    grants:
      - purposes: ["1.001193"]
        fields: [name, birth_date]
  - id: spiffe://lienthong.local/no-rights
    methods: []
logging:
  level: info
)";

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("LIENTHONG_TEST_API_KEY", "key-from-env", 1);
    unsetenv("LIENTHONG_TEST_UNSET");
  }
};

// ---- Parsing: the structure ---------------------------------------------

TEST_F(ConfigLoaderTest, ValidConfigParsesAndValidates) {
  auto config = Load(kValid);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->node_name(), "gw-1");
  EXPECT_EQ(config->listener().address(), "127.0.0.1:8443");
  EXPECT_FALSE(config->listener().tls().has_require_client_cert());
  ASSERT_EQ(config->adapters_size(), 2);
  EXPECT_EQ(config->adapters(1).name(), "vneid");
  ASSERT_EQ(config->routes_size(), 2);
  EXPECT_EQ(config->routes(0).timeout_ms(), 2000);
  EXPECT_EQ(config->routes(1).timeout_ms(), 0);
  ASSERT_EQ(config->clients_size(), 2);
  EXPECT_THAT(config->clients(0).grants(0).purposes(), ElementsAre("1.001193"));
  EXPECT_THAT(config->clients(0).grants(0).fields(),
              ElementsAre("name", "birth_date"));
  EXPECT_EQ(config->clients(1).methods_size(), 0);
  EXPECT_EQ(config->logging().level(), "info");
  EXPECT_THAT(ValidateConfig(*config, TestResolver), IsOk());
}

TEST_F(ConfigLoaderTest, AdapterConfigIsPackedAsItsTypedMessage) {
  auto config = Parse(kValid);
  ASSERT_THAT(config, IsOk());
  const auto& population = config->adapters(0).config();
  EXPECT_EQ(
      population.type_url(),
      "type.googleapis.com/lienthong.adapters.c06.C06PopulationSoapConfig");
  lienthong::adapters::c06::C06PopulationSoapConfig c06;
  ASSERT_TRUE(population.UnpackTo(&c06));
  EXPECT_EQ(c06.upstream().base_url(), "https://127.0.0.1:9443");
  EXPECT_EQ(c06.path(), "/c06/soap");
  EXPECT_EQ(c06.api_key(), "key-from-env");

  lienthong::adapters::vneid::VneidOidcConfig vneid;
  ASSERT_TRUE(config->adapters(1).config().UnpackTo(&vneid));
  EXPECT_EQ(vneid.token_path(), "/vneid/realms/citizen/protocol/openid-connect/token");
  EXPECT_EQ(vneid.clock_skew_seconds(), 30);

  auto relay = Parse(R"(adapters:
  - name: relay
    type: grpc-upstream
    config: {target: "10.0.0.5:8443", insecure_plaintext: true}
)");
  ASSERT_THAT(relay, IsOk());
  lienthong::adapters::grpc_upstream::GrpcUpstreamConfig grpc;
  ASSERT_TRUE(relay->adapters(0).config().UnpackTo(&grpc));
  EXPECT_EQ(grpc.target(), "10.0.0.5:8443");
  EXPECT_TRUE(grpc.insecure_plaintext());
}

TEST_F(ConfigLoaderTest, OptionalFieldsKeepPresence) {
  auto absent = Parse("listener:\n  tls:\n    cert_file: a.pem\n");
  ASSERT_THAT(absent, IsOk());
  EXPECT_FALSE(absent->listener().tls().has_require_client_cert());

  auto set_true = Parse("listener:\n  tls:\n    require_client_cert: true\n");
  ASSERT_THAT(set_true, IsOk());
  EXPECT_TRUE(set_true->listener().tls().has_require_client_cert());
  EXPECT_TRUE(set_true->listener().tls().require_client_cert());

  auto set_false = Parse("listener:\n  tls:\n    require_client_cert: false\n");
  ASSERT_THAT(set_false, IsOk());
  EXPECT_TRUE(set_false->listener().tls().has_require_client_cert());
  EXPECT_FALSE(set_false->listener().tls().require_client_cert());

  // A null value leaves the field unset.
  auto null = Parse("listener:\n  tls:\n    require_client_cert:\n");
  ASSERT_THAT(null, IsOk());
  EXPECT_FALSE(null->listener().tls().has_require_client_cert());
}

TEST_F(ConfigLoaderTest, EmptyDocumentIsAnEmptyConfig) {
  for (const char* yaml : {"", "# only a comment\n", "---\n", "~\n"}) {
    auto config = Parse(yaml);
    ASSERT_THAT(config, IsOk()) << yaml;
    EXPECT_EQ(config->ByteSizeLong(), 0u) << yaml;
  }
}

struct ErrorCase {
  const char* name;
  const char* yaml;
  const char* message;  // expected fragment, with the line and column
};

const ErrorCase kErrorTests[] = {
    // Unknown keys, at every level.
    {"unknown top-level key", "node_name: a\nnodename: x\n",
     "test.yaml:2:1: unknown key 'nodename' in the top level (known keys: "
     "node_name, listener, adapters, routes, clients, logging"},
    {"unknown nested key", "listener:\n  adress: x\n",
     "test.yaml:2:3: unknown key 'adress' in listener (known keys: address, "
     "tls, limits)"},
    {"unknown key in a list item", "routes:\n  - method: m\n    adaptor: a\n",
     "test.yaml:3:5: unknown key 'adaptor' in routes[0] (known keys: method, "
     "adapter, timeout_ms"},
    {"unknown key in adapter config",
     "adapters:\n  - name: p\n    type: c06-population-soap\n    config:\n"
     "      upstream:\n        bse_url: https://x\n",
     "test.yaml:6:9: unknown key 'bse_url' in adapters[0].config.upstream "
     "(known keys: base_url, ca_file, client_cert_file, client_key_file"},
    {"unknown key in second adapter's config",
     "adapters:\n  - name: p\n    type: grpc-upstream\n    config: {}\n"
     "  - name: v\n    type: vneid-oidc\n    config:\n"
     "      tokenpath: /t\n",
     "test.yaml:8:7: unknown key 'tokenpath' in adapters[1].config (known "
     "keys: upstream, realm, issuer, token_path, jwks_path, client_id, "
     "client_secret, client_auth_method, redirect_uris"},
    // A value run into its key (no space after the colon) is one unknown
    // key in YAML; only its name part is quoted, never the value.
    {"a secret run into its key",
     "adapters:\n  - name: v\n    client_secret:hunter2-canary\n",
     "test.yaml:3:5: unknown key 'client_secret...' (a space missing after "
     "':'?) in adapters[0] (known keys:"},
    // gRPC 1.51 sizes its callback threads itself: the key is gone.
    {"the listener's former threads", "listener:\n  threads: 4\n",
     "test.yaml:2:3: unknown key 'threads' in listener"},
    {"a key with other characters", "listener:\n  adr-ess: x\n",
     "test.yaml:2:3: unknown key 'adr...' in listener (known keys:"},
    // Wrong types.
    {"string for an integer", "audit:\n  segment_mib: four\n",
     "test.yaml:2:16: audit.segment_mib: expected an integer, got a string"},
    {"quoted number for an integer", "audit:\n  segment_mib: \"4\"\n",
     "test.yaml:2:16: audit.segment_mib: expected an integer, got a string"},
    {"fraction for an integer", "audit:\n  segment_mib: 1.5\n",
     "test.yaml:2:16: audit.segment_mib: expected an integer, got a number"},
    {"boolean for an integer", "routes:\n  - timeout_ms: true\n",
     "test.yaml:2:17: routes[0].timeout_ms: expected an integer, got a "
     "boolean"},
    {"yes for a boolean", "listener:\n  tls:\n    require_client_cert: yes\n",
     "test.yaml:3:26: listener.tls.require_client_cert: expected true or "
     "false, got a string"},
    {"integer for a boolean",
     "adapters:\n  - name: r\n    type: grpc-upstream\n    config:\n"
     "      insecure_plaintext: 1\n",
     "test.yaml:5:27: adapters[0].config.insecure_plaintext: expected true or "
     "false, got an integer"},
    {"int32 out of range", "audit:\n  segment_mib: 3000000000\n",
     "test.yaml:2:16: audit.segment_mib: 3000000000 is out of range "
     "(-2147483648 to 2147483647)"},
    {"negative int32 out of range", "routes:\n  - timeout_ms: -2147483649\n",
     "test.yaml:2:17: routes[0].timeout_ms: -2147483649 is out of range"},
    {"beyond 64 bits",
     "audit:\n  segment_mib: 123456789012345678901234567890\n",
     "test.yaml:2:16: audit.segment_mib: 123456789012345678901234567890 is out "
     "of range"},
    {"map for a string", "node_name: {a: 1}\n",
     "test.yaml:1:12: node_name: expected a string, got a map"},
    {"list for a string", "node_name: [a, b]\n",
     "test.yaml:1:12: node_name: expected a string, got a list"},
    {"scalar for a map", "listener: 8443\n",
     "test.yaml:1:11: listener: expected a map, got an integer"},
    {"string for a map", "logging: debug\n",
     "test.yaml:1:10: logging: expected a map, got a string"},
    {"map for a list", "routes:\n  method: x\n",
     "test.yaml:2:3: routes: expected a list, got a map"},
    {"scalar for a list",
     "clients:\n  - id: a\n    methods: lienthong.v1.X/Y\n",
     "test.yaml:3:14: clients[0].methods: expected a list, got a string"},
    {"string as a list item that must be a map", "routes:\n  - just-a-method\n",
     "test.yaml:2:5: routes[0]: expected a map, got a string"},
    {"map inside a list of strings",
     "clients:\n  - id: a\n    methods: [x, {a: b}]\n",
     "test.yaml:3:18: clients[0].methods[1]: expected a string, got a map"},
    {"null list item", "clients:\n  - id: a\n    methods: [x, ~]\n",
     "clients[0].methods[1]: expected a string, got null"},
    {"list at the top level", "- a\n- b\n",
     "test.yaml:1:1: the top level: expected a map, got a list"},
    {"scalar at the top level", "just text\n",
     "test.yaml:1:1: the top level: expected a map, got a string"},
    {"non-scalar key", "? [a, b]\n: 1\n",
     "test.yaml:1:3: keys in the top level must be field names, got a list"},
    // Duplicates.
    {"duplicate top-level key", "node_name: a\nnode_name: b\n",
     "test.yaml:2:1: duplicate key 'node_name' in the top level (first at "
     "line 1)"},
    {"duplicate nested key",
     "listener:\n  address: a:1\n  tls: {}\n  address: b:2\n",
     "test.yaml:4:3: duplicate key 'address' in listener (first at line 2)"},
    {"duplicate key in adapter config",
     "adapters:\n  - name: p\n    type: c06-population-soap\n    config:\n"
     "      path: /a\n      path: /b\n",
     "test.yaml:6:7: duplicate key 'path' in adapters[0].config"},
    // Adapter types.
    {"unknown adapter type",
     "adapters:\n  - name: p\n    type: c06-population-sop\n    config:\n"
     "      path: /c06/soap\n",
     "test.yaml:3:11: adapters[0].type: unknown adapter type "
     "'c06-population-sop'"},
    {"unknown adapter type after config",
     "adapters:\n  - name: p\n    config: {path: /x}\n    type: nosuch\n",
     "test.yaml:4:11: adapters[0].type: unknown adapter type 'nosuch'"},
    {"config without type", "adapters:\n  - name: p\n    config: {}\n",
     "test.yaml:3:5: adapters[0].config: needs a 'type' beside it naming the "
     "adapter type"},
    {"adapter config not a map",
     "adapters:\n  - name: p\n    type: grpc-upstream\n    config: [a]\n",
     "test.yaml:4:13: adapters[0].config: expected a map, got a list"},
    // Environment.
    {"unset environment variable",
     "node_name: gw\nadapters:\n  - name: p\n    type: c06-population-soap\n"
     "    config:\n      api_key: ${LIENTHONG_TEST_UNSET}\n",
     "test.yaml:6:16: adapters[0].config.api_key: environment variable "
     "'LIENTHONG_TEST_UNSET' is not set"},
    {"unterminated ${", "node_name: ${LIENTHONG_TEST_API_KEY\n",
     "test.yaml:1:12: node_name: '${' without a closing '}'"},
    {"bad variable name", "node_name: ${1X}\n",
     "test.yaml:1:12: node_name: '${...}' must hold an environment variable "
     "name"},
    // YAML itself.
    {"unclosed flow list", "node_name: a\nlistener: [\n",
     "test.yaml:3:1: YAML syntax error: end of sequence flow not found"},
    {"bad indentation", "listener:\n  address: a:1\n tls: {}\n",
     "test.yaml:3:2: YAML syntax error"},
    {"tab indentation", "listener:\n\taddress: a:1\n", "YAML syntax error"},
    {"two documents", "node_name: a\n---\nnode_name: b\n",
     "test.yaml:3:1: only one YAML document is allowed"},
    {"custom tag", "node_name: !vault secret/gw\n",
     "test.yaml:1:12: node_name: has a YAML tag ('!...'), which is not "
     "supported; quote a value that starts with '!'"},
    {"tag of the standard prefix outside the core schema",
     "node_name: !!binary aGk=\n", "test.yaml:1:12: node_name: has a YAML tag"},
    {"undefined alias", "node_name: *nothing\n", "test.yaml:1:"},
};

// A secret written unquoted after a '!' is a YAML tag, and one run into a
// map key by a missing space is the key: neither reaches the error.
TEST_F(ConfigLoaderTest, SecretsReadAsTagsOrMapKeysAreNotQuoted) {
  const std::string ministry =
      "node_name: t\nadapters:\n  - name: registry\n"
      "    type: ministry-rest-json\n    config:\n";
  for (const std::string& yaml : {
           std::string("node_name: !S3cretValue\n"),
           std::string("node_name: !!S3cretValue\n"),
           std::string("node_name: !!S3cretValue tail\n"),
           ministry + "      headers: {X-Api-Key:S3cretValue}\n",
           ministry + "      headers: {X-Api-Key:S3cretValue, "
                      "X-Api-Key:S3cretValue}\n",
       }) {
    absl::StatusOr<v1::GatewayConfig> result = Parse(yaml);
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                                 Not(HasSubstr("S3cret"))))
        << yaml;
  }
  EXPECT_THAT(Parse(ministry + "      headers: {X-Api-Key:S3cretValue}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("headers[X-Api-Key...]")));
}

// An alias repeats a string without repeating its bytes; each use would be
// copied. Refused past 16 MiB of text, counting each use.
TEST_F(ConfigLoaderTest, AliasesCannotMultiplyTextWithoutLimit) {
  std::string yaml = absl::StrCat("clients:\n  - id: a\n    methods: [&s \"",
                                  std::string(1 << 20, 'A'), "\"");
  for (int i = 0; i < 40; ++i) absl::StrAppend(&yaml, ", *s");
  absl::StrAppend(&yaml, "]\n");
  EXPECT_THAT(Parse(yaml), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("more than 16 MiB")));
}

TEST_F(ConfigLoaderTest, ParseErrorsNameTheFileLineAndField) {
  for (const ErrorCase& c : kErrorTests) {
    absl::StatusOr<v1::GatewayConfig> result = Parse(c.yaml);
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr(c.message)))
        << c.name << ":\n"
        << c.yaml << "\ngot: " << result.status();
  }
}

// Aliases repeat a list without repeating its bytes: 2,000 uses of a
// 1,000-item list (~30 KB of YAML) would be two million values, and a few
// hundred KB billions. Refused once past the limit, not expanded.
TEST_F(ConfigLoaderTest, AliasesCannotMultiplyValuesWithoutLimit) {
  std::string yaml = "clients:\n  - id: a\n    methods: &m [";
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&yaml, i == 0 ? "" : ",", "x");
  absl::StrAppend(&yaml, "]\n    grants: [&g {purposes: *m, fields: *m}");
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&yaml, ", *g");
  absl::StrAppend(&yaml, "]\n");
  EXPECT_THAT(Parse(yaml), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("more than 500000 values")));
  // A list used a few times is fine.
  EXPECT_THAT(Parse("clients:\n  - id: a\n    methods: &m [x, y]\n"
                    "  - id: b\n    methods: *m\n"),
              IsOk());
}

TEST_F(ConfigLoaderTest, ErrorsNeverEchoStringValues) {
  const char* const kSecretsInWrongPlaces[] = {
      "audit:\n  segment_mib: hunter2-topsecret\n",
      // No space after the colon: key and secret are one unknown key.
      "adapters:\n  - name: v\n    client_secret:hunter2-topsecret\n",
      "adapters:\n  - name: v\n    type: vneid-oidc\n    config:\n"
      "      client_secret:hunter2-topsecret\n",
      "listener:\n  tls:\n    require_client_cert: hunter2-topsecret\n",
      "adapters:\n  - name: p\n    type: grpc-upstream\n    config:\n"
      "      insecure_plaintext: hunter2-topsecret\n",
      "adapters:\n  - name: p\n    type: c06-population-soap\n    config:\n"
      "      secret: hunter2-topsecret${LIENTHONG_TEST_UNSET}\n",
      "adapters:\n  - name: p\n    type: c06-population-soap\n    config:\n"
      "      secret: hunter2-topsecret${\n",
      "adapters:\n  - name: p\n    type: c06-population-soap\n    config:\n"
      "      secret: [hunter2-topsecret]\n",
  };
  for (const char* yaml : kSecretsInWrongPlaces) {
    EXPECT_THAT(Parse(yaml), StatusIs(absl::StatusCode::kInvalidArgument,
                                      Not(HasSubstr("hunter2"))))
        << yaml;
  }
}

TEST_F(ConfigLoaderTest, MalformedInputNeverThrows) {
  const std::string kJunk[] = {
      "{",
      "[[[[",
      "\"unterminated",
      "a: &x [*x]\n",
      std::string("node_name: \xff\xfe\x00zz", 16),
      "%YAML 9.9\n---\na: 1\n",
      std::string(200, '['),
      "key: |\n  block\n bad",
      "? \n: \n",
  };
  for (const std::string& yaml : kJunk) {
    // A status naming the file, not an exception (yaml-cpp throws).
    absl::StatusOr<v1::GatewayConfig> result;
    EXPECT_NO_THROW(result = Parse(yaml)) << yaml;
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("test.yaml")))
        << yaml;
  }
}

// ---- Environment and paths ------------------------------------------------

TEST_F(ConfigLoaderTest, EnvironmentVariablesAreSubstitutedInStrings) {
  setenv("LIENTHONG_TEST_HOST", "10.1.2.3", 1);
  setenv("LIENTHONG_TEST_EMPTY", "", 1);
  auto config = Parse(
      "node_name: gw-${LIENTHONG_TEST_HOST}-${LIENTHONG_TEST_EMPTY}x\n"
      "listener:\n  address: \"${LIENTHONG_TEST_HOST}:8443\"\n"
      "clients:\n  - id: cost $5 and $${NOT_A_VARIABLE}\n");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->node_name(), "gw-10.1.2.3-x");
  EXPECT_EQ(config->listener().address(), "10.1.2.3:8443");
  EXPECT_EQ(config->clients(0).id(), "cost $5 and ${NOT_A_VARIABLE}");
}

TEST_F(ConfigLoaderTest, RelativeFilePathsResolveAgainstBaseDir) {
  setenv("LIENTHONG_TEST_CERTS", "/run/secrets", 1);
  const std::string yaml = R"(listener:
  address: 127.0.0.1:0
  tls:
    cert_file: certs/gateway.pem
    key_file: ${LIENTHONG_TEST_CERTS}/gateway.key
    client_ca_file: ../ca.pem
adapters:
  - name: p
    type: c06-population-soap
    config:
      upstream:
        ca_file: national-ca.pem
        client_cert_file: ""
      path: relative/not/a/file
)";
  auto config =
      Parse(absl::StrCat(
                yaml, "audit:\n  anchor_file: off\n  journal_dir: journal\n"),
            "/etc/lt");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->audit().anchor_file(), "off");  // turned off, not a file
  // A *_dir field is a path like a *_file one.
  EXPECT_EQ(config->audit().journal_dir(), "/etc/lt/journal");
  const auto& tls = config->listener().tls();
  EXPECT_EQ(tls.cert_file(), "/etc/lt/certs/gateway.pem");
  EXPECT_EQ(tls.key_file(), "/run/secrets/gateway.key");  // already absolute
  EXPECT_EQ(tls.client_ca_file(), "/etc/lt/../ca.pem");
  lienthong::adapters::c06::C06PopulationSoapConfig c06;
  ASSERT_TRUE(config->adapters(0).config().UnpackTo(&c06));
  EXPECT_EQ(c06.upstream().ca_file(), "/etc/lt/national-ca.pem");
  EXPECT_EQ(c06.upstream().client_cert_file(), "");  // empty stays empty
  EXPECT_EQ(c06.path(), "relative/not/a/file");      // not a *_file field

  // No base directory: paths stay as written.
  auto as_written = Parse(yaml, "");
  ASSERT_THAT(as_written, IsOk());
  EXPECT_EQ(as_written->listener().tls().cert_file(), "certs/gateway.pem");
  // A base directory with a trailing slash does not double it.
  auto slash = Parse(yaml, "/etc/lt/");
  ASSERT_THAT(slash, IsOk());
  EXPECT_EQ(slash->listener().tls().cert_file(), "/etc/lt/certs/gateway.pem");
}

// ---- Files ----------------------------------------------------------------

// The folder of the tests' config files: "config_loader_test" in a scratch
// folder of this program's (removed when it ends).
const std::string& TempConfigDir() {
  static const ::lienthong::testing::ScratchDir scratch("config-loader");
  static const std::string dir = [] {
    std::string made = scratch.File("config_loader_test");
    mkdir(made.c_str(), 0700);
    return made;
  }();
  return dir;
}

std::string WriteTempFile(const std::string& relative,
                          const std::string& text) {
  const std::string path = absl::StrCat(TempConfigDir(), "/", relative);
  std::ofstream(path) << text;
  return path;
}

TEST_F(ConfigLoaderTest, LoadConfigFileResolvesPathsAgainstItsDirectory) {
  const std::string path = WriteTempFile("gateway.yaml", kValid);
  auto config = LoadConfigFile(path, TestResolver);
  ASSERT_THAT(config, IsOk());
  const std::string dir = path.substr(0, path.rfind('/'));
  EXPECT_EQ(config->listener().tls().cert_file(), dir + "/gateway.pem");
  EXPECT_EQ(config->listener().tls().key_file(), "/abs/gateway.key");
}

TEST_F(ConfigLoaderTest, LoadConfigFileMakesRelativeDirectoriesAbsolute) {
  WriteTempFile("relative.yaml", kValid);
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(chdir(TempConfigDir().c_str()), 0);
  auto config = LoadConfigFile("relative.yaml", TestResolver);
  ASSERT_EQ(chdir(cwd), 0);
  ASSERT_THAT(config, IsOk());
  EXPECT_THAT(config->listener().tls().cert_file(), StartsWith("/"));
  EXPECT_THAT(config->listener().tls().cert_file(),
              EndsWith("config_loader_test/gateway.pem"));
}

TEST_F(ConfigLoaderTest, MissingFileIsNamedWithTheReason) {
  EXPECT_THAT(LoadConfigFile("/nonexistent/gateway.yaml", TestResolver),
              StatusIs(absl::StatusCode::kNotFound,
                       "cannot read config file '/nonexistent/gateway.yaml': "
                       "No such file or directory"));
  EXPECT_THAT(LoadConfigFile(::testing::TempDir(), TestResolver),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("Is a directory")));
}

TEST_F(ConfigLoaderTest, UnreadableFileIsNamedWithTheReason) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const std::string path = WriteTempFile("unreadable.yaml", kValid);
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  EXPECT_THAT(LoadConfigFile(path, TestResolver),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("Permission denied")));
}

TEST_F(ConfigLoaderTest, LoadConfigFileReportsParseErrorsWithItsPath) {
  const std::string path =
      WriteTempFile("bad.yaml", "listener:\n  adress: x\n");
  EXPECT_THAT(LoadConfigFile(path, TestResolver),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith(absl::StrCat(path,
                                               ":2:3: unknown key "
                                               "'adress' in listener"))));
}

TEST_F(ConfigLoaderTest, LoadConfigFileValidates) {
  std::string yaml = kValid;
  yaml.replace(yaml.find("adapter: vneid"), strlen("adapter: vneid"),
               "adapter: vnied");
  const std::string path = WriteTempFile("invalid.yaml", yaml);
  EXPECT_THAT(LoadConfigFile(path, TestResolver),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(path,
                                    ":27:5: routes[1].adapter: no "
                                    "adapter named 'vnied'")));
}

// ---- Validation -------------------------------------------------------------

struct ValidationCase {
  const char* name;
  const char* replace;  // text in kValid to replace ...
  const char* with;     // ... with this
  const char* message;  // expected fragment, with the line and column
};

const ValidationCase kValidationTests[] = {
    // Listener.
    {"address missing", "  address: 127.0.0.1:8443\n", "",
     "test.yaml:2:1: listener.address: required: host:port"},
    {"address without port", "address: 127.0.0.1:8443", "address: localhost",
     "test.yaml:3:3: listener.address: 'localhost' is not host:port"},
    {"address with port out of range", "address: 127.0.0.1:8443",
     "address: 127.0.0.1:65536",
     "test.yaml:3:3: listener.address: '127.0.0.1:65536' is not host:port"},
    {"address with empty host", "address: 127.0.0.1:8443", "address: \":8443\"",
     "listener.address: ':8443' is not host:port"},
    {"address with bare IPv6", "address: 127.0.0.1:8443",
     "address: \"::1:8443\"", "listener.address: '::1:8443' is not host:port"},
    {"cert_file missing", "    cert_file: gateway.pem\n", "",
     "test.yaml:4:3: listener.tls.cert_file: required"},
    {"key_file missing", "    key_file: /abs/gateway.key\n", "",
     "test.yaml:4:3: listener.tls.key_file: required"},
    {"client_ca_file missing", "    client_ca_file: ca.pem\n", "",
     "test.yaml:4:3: listener.tls.client_ca_file: required"},
    {"client certificates waived without the insecure flag",
     "    client_ca_file: ca.pem\n",
     "    client_ca_file: ca.pem\n    require_client_cert: false\n",
     "test.yaml:8:5: listener.tls.require_client_cert: false is refused"},
    {"negative refresh interval", "    client_ca_file: ca.pem\n",
     "    client_ca_file: ca.pem\n    refresh_interval_seconds: -5\n",
     "test.yaml:8:5: listener.tls.refresh_interval_seconds: must not be "
     "negative"},
    // Adapters.
    {"adapter name empty", "  - name: population\n", "  - name: \"\"\n",
     "test.yaml:9:5: adapters[0].name: required"},
    {"adapter name used twice", "  - name: vneid\n", "  - name: population\n",
     "test.yaml:17:5: adapters[1].name: 'population' is already the name of "
     "adapters[0]"},
    {"adapter type missing",
     "    type: vneid-oidc\n    config:\n"
     "      token_path: /vneid/realms/citizen/protocol/openid-connect/token\n"
     "      clock_skew_seconds: 30\n",
     "", "test.yaml:17:5: adapters[1].type: required"},
    {"adapter type unknown (no config to parse)",
     "    type: vneid-oidc\n    config:\n"
     "      token_path: /vneid/realms/citizen/protocol/openid-connect/token\n"
     "      clock_skew_seconds: 30\n",
     "    type: vneid-identity-soap\n",
     "test.yaml:18:5: adapters[1].type: unknown adapter type "
     "'vneid-identity-soap'"},
    {"adapter config missing",
     "    config:\n      token_path: "
     "/vneid/realms/citizen/protocol/openid-connect/token\n"
     "      clock_skew_seconds: 30\n",
     "",
     "test.yaml:17:5: adapters[1].config: required: the settings of the "
     "'vneid-oidc' adapter (lienthong.adapters.vneid.VneidOidcConfig)"},
    // Routes.
    // Route methods, the retry policy's and the breaker's rules are the
    // runtime's: tests/gateway/server/startup_check_test.cc.
    {"route to a missing adapter", "    adapter: population\n",
     "    adapter: populaton\n",
     "test.yaml:24:5: routes[0].adapter: no adapter named 'populaton'"},
    {"route without an adapter", "    adapter: vneid\n", "",
     "test.yaml:26:5: routes[1].adapter: required"},
    {"negative route timeout", "timeout_ms: 2000", "timeout_ms: -1",
     "test.yaml:25:5: routes[0].timeout_ms: must not be negative"},
    // Clients.
    {"client id empty", "  - id: spiffe://lienthong.local/no-rights\n",
     "  - id: \"\"\n", "test.yaml:34:5: clients[1].id: required"},
    {"client listed twice", "  - id: spiffe://lienthong.local/no-rights\n",
     "  - id: spiffe://lienthong.local/dossier-system\n",
     "test.yaml:34:5: clients[1].id: 'spiffe://lienthong.local/dossier-system' "
     "is already listed as clients[0]"},
    {"client method unknown", "    methods: []\n",
     "    methods: [lienthong.v1.IdentityService/VerifyIdentity, Nope]\n",
     "test.yaml:35:60: clients[1].methods[1]: unknown method 'Nope'"},
    {"grant field not in Citizen", "fields: [name, birth_date]",
     "fields: [name, adress]",
     "test.yaml:33:24: clients[0].grants[0].fields[1]: 'adress' is not a field "
     "of lienthong.v1.Citizen (fields: citizen_id, old_id_number, name, "},
    {"grant field path nested", "fields: [name, birth_date]",
     "fields: [name.given]",
     "clients[0].grants[0].fields[0]: 'name.given' is not a field"},
    {"grant without purposes", "      - purposes: [\"1.001193\"]\n",
     "      - purposes: []\n",
     "test.yaml:32:9: clients[0].grants[0].purposes: required"},
    {"grant with purposes missing",
     "      - purposes: [\"1.001193\"]\n"
     "        fields: [name, birth_date]\n",
     "      - fields: [name]\n",
     "test.yaml:32:9: clients[0].grants[0].purposes: required"},
    {"grant with an empty purpose", "purposes: [\"1.001193\"]",
     "purposes: [\"1.001193\", \"\"]",
     "test.yaml:32:32: clients[0].grants[0].purposes[1]: empty"},
    {"grant without fields", "fields: [name, birth_date]", "fields: []",
     "test.yaml:33:9: clients[0].grants[0].fields: required"},
    // Limits, resilience and the other sections.
    {"negative listener limit", "  address: 127.0.0.1:8443\n",
     "  address: 127.0.0.1:8443\n  limits: {max_message_bytes: -1}\n",
     "test.yaml:4:12: listener.limits.max_message_bytes: must not be negative"},
    {"a connection age gRPC cannot count", "  address: 127.0.0.1:8443\n",
     "  address: 127.0.0.1:8443\n  limits: {max_connection_age_seconds: "
     "2592000}\n",
     "test.yaml:4:12: listener.limits.max_connection_age_seconds: must be at "
     "most 2147483 (24 days)"},
    {"negative connection cap", "  level: info\n",
     "  level: info\nresilience:\n  max_connections_per_system: -1\n",
     "test.yaml:39:3: resilience.max_connections_per_system: must not be "
     "negative"},
    {"negative adapter in-flight cap", "    type: c06-population-soap\n",
     "    type: c06-population-soap\n    max_in_flight: -1\n",
     "test.yaml:11:5: adapters[0].max_in_flight: must not be negative"},
    {"negative breaker setting", "    type: c06-population-soap\n",
     "    type: c06-population-soap\n    breaker: {open_seconds: -1}\n",
     "test.yaml:11:15: adapters[0].breaker.open_seconds: must not be negative"},
    {"negative retry attempts", "    timeout_ms: 2000\n",
     "    timeout_ms: 2000\n    retry: {max_attempts: -1}\n",
     "test.yaml:26:13: routes[0].retry.max_attempts: must not be negative"},
    {"unknown client role", "    methods: []\n",
     "    methods: []\n    roles: [auditor, admin]\n",
     "test.yaml:36:22: clients[1].roles[1]: unknown role 'admin' (known: "
     "auditor)"},
    {"rate limit of zero", "    methods: []\n",
     "    methods: []\n    rate_limit: {requests_per_second: 0}\n",
     "test.yaml:36:18: clients[1].rate_limit.requests_per_second: must be a "
     "positive number"},
    {"empty rate limit", "    methods: []\n",
     "    methods: []\n    rate_limit: {}\n",
     "test.yaml:36:5: clients[1].rate_limit.requests_per_second: must be a "
     "positive number"},
    {"negative burst", "    methods: []\n",
     "    methods: []\n    rate_limit: {requests_per_second: 5, burst: -1}\n",
     "test.yaml:36:42: clients[1].rate_limit.burst: must not be negative"},
    {"admin address not host:port", "  level: info\n",
     "  level: info\nadmin:\n  address: nonsense\n",
     "test.yaml:39:3: admin.address: 'nonsense' is not host:port"},
    {"admin beyond loopback without a token", "  level: info\n",
     "  level: info\nadmin:\n  address: 0.0.0.0:9464\n",
     "test.yaml:38:1: admin.bearer_token_file: is required when "
     "admin.address ('0.0.0.0:9464') is beyond loopback"},
    {"retry budget above 1", "  level: info\n",
     "  level: info\nresilience:\n  retry_budget_ratio: 1.5\n",
     "test.yaml:39:3: resilience.retry_budget_ratio: must be between 0 and 1"},
    {"negative portal sync setting", "  level: info\n",
     "  level: info\nportal_sync:\n  adapter: population\n"
     "  give_up_after_seconds: -5\n",
     "test.yaml:40:3: portal_sync.give_up_after_seconds: must not be "
     "negative"},
    {"negative checkpoint interval", "  level: info\n",
     "  level: info\naudit:\n  checkpoint_every: -1\n",
     "test.yaml:39:3: audit.checkpoint_every: must not be negative"},
    {"portal sync through an adapter that is not there", "  level: info\n",
     "  level: info\nportal_sync:\n  adapter: dvcqg\n",
     "test.yaml:39:3: portal_sync.adapter: no adapter named 'dvcqg'"},
    {"breaker failure ratio below 0", "      clock_skew_seconds: 30\n",
     "      clock_skew_seconds: 30\n    breaker:\n      failure_ratio: -0.5\n",
     "test.yaml:23:7: adapters[1].breaker.failure_ratio: must be between 0 "
     "and 1"},
    {"breaker failure ratio not a number", "      clock_skew_seconds: 30\n",
     "      clock_skew_seconds: 30\n    breaker:\n      failure_ratio: .nan\n",
     "adapters[1].breaker.failure_ratio: must be between 0 and 1"},
    {"grant purpose that no call can state", "purposes: [\"1.001193\"]",
     "purposes: [\"1.1193\"]",
     "clients[0].grants[0].purposes[0]: purpose: procedure code"},
    {"grant purpose with a space", "purposes: [\"1.001193\"]",
     "purposes: [\" 1.001193\"]",
     "clients[0].grants[0].purposes[0]: purpose: "},
    {"statement timeout past libpq's", "  level: info\n",
     "  level: info\npostgres:\n  statement_timeout_ms: 2147483647\n",
     "postgres.statement_timeout_ms: must be at most 3600000"},
    // Logging.
    {"unknown log level", "level: info", "level: verbose",
     "test.yaml:37:3: logging.level: 'verbose' is not one of debug, info, "
     "warning, error"},
};

TEST_F(ConfigLoaderTest, ValidationErrorsNameTheFieldAndLine) {
  for (const ValidationCase& c : kValidationTests) {
    std::string yaml = kValid;
    const size_t at = yaml.find(c.replace);
    ASSERT_NE(at, std::string::npos) << c.name;
    yaml.replace(at, strlen(c.replace), c.with);
    auto parsed = Parse(yaml);
    ASSERT_THAT(parsed, IsOk()) << c.name << ":\n" << yaml;
    // LoadConfigYaml adds the position; ValidateConfig names the field.
    absl::StatusOr<v1::GatewayConfig> loaded = Load(yaml);
    EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr(c.message)))
        << c.name << "\ngot: " << loaded.status();
    std::string field_message = c.message;
    if (absl::StartsWith(field_message, "test.yaml:")) {
      // Drop "test.yaml:LINE:COL: ".
      field_message = field_message.substr(
          field_message.find(": ", strlen("test.yaml:")) + 2);
    }
    absl::Status validated = ValidateConfig(*parsed, TestResolver);
    EXPECT_THAT(validated, StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr(field_message)))
        << c.name << "\ngot: " << validated;
  }
}

TEST_F(ConfigLoaderTest, ValidationAcceptsWhatItShould) {
  const ValidationCase kAccepted[] = {
      {"port 0 picks a free port", "address: 127.0.0.1:8443",
       "address: 127.0.0.1:0", ""},
      {"any IPv4 address", "address: 127.0.0.1:8443", "address: 0.0.0.0:8443",
       ""},
      {"host name", "address: 127.0.0.1:8443",
       "address: gw.lienthong.local:443", ""},
      {"bracketed IPv6", "address: 127.0.0.1:8443", "address: \"[::]:8443\"",
       ""},
      {"client certificates waived with the insecure flag",
       "    client_ca_file: ca.pem\n",
       "    client_ca_file: ca.pem\n    require_client_cert: false\n"
       "    insecure_allow_no_client_cert: true\n",
       ""},
      {"client certificates required explicitly",
       "    client_ca_file: ca.pem\n",
       "    client_ca_file: ca.pem\n    require_client_cert: true\n", ""},
      {"no logging level", "logging:\n  level: info\n", "", ""},
      {"each log level", "level: info", "level: warning", ""},
      {"wildcard purpose", "purposes: [\"1.001193\"]", "purposes: [\"*\"]", ""},
      {"every citizen field", "fields: [name, birth_date]",
       "fields: [citizen_id, old_id_number, name, birth_date, gender, "
       "ethnicity, ethnicity_code, religion, nationality, hometown, "
       "permanent_address, current_address, father, mother, spouse, "
       "household_relation, household_book_number]",
       ""},
      {"a client without methods", "    methods: []\n", "", ""},
      {"the auditor role", "    methods: []\n",
       "    methods: []\n    roles: [auditor]\n", ""},
      {"a rate limit", "    methods: []\n",
       "    methods: []\n    rate_limit: {requests_per_second: 0.5}\n", ""},
      {"a disabled admin endpoint", "  level: info\n",
       "  level: info\nadmin: {address: nonsense, disabled: true}\n", ""},
      {"resilience and limits", "  level: info\n",
       "  level: info\nresilience: {retry_budget_ratio: 0.1}\n"
       "audit: {checkpoint_every: 10, wait_for_durable: false}\n",
       ""},
  };
  for (const ValidationCase& c : kAccepted) {
    std::string yaml = kValid;
    const size_t at = yaml.find(c.replace);
    ASSERT_NE(at, std::string::npos) << c.name;
    yaml.replace(at, strlen(c.replace), c.with);
    EXPECT_THAT(Load(yaml), IsOk()) << c.name << ":\n" << yaml;
  }
}

TEST_F(ConfigLoaderTest, ValidationReportsEveryProblemOnePerLine) {
  std::string yaml = kValid;
  yaml.replace(yaml.find("adapter: vneid"), strlen("adapter: vneid"),
               "adapter: nosuch");
  yaml.replace(yaml.find("level: info"), strlen("level: info"), "level: loud");
  auto result = Load(yaml);
  ASSERT_FALSE(result.ok());
  std::vector<std::string> lines =
      absl::StrSplit(result.status().message(), '\n');
  EXPECT_THAT(lines,
              ElementsAre(StartsWith("test.yaml:27:5: routes[1].adapter: "),
                          StartsWith("test.yaml:37:3: logging.level: ")));
}

TEST_F(ConfigLoaderTest, ValidateConfigChecksProgrammaticConfigs) {
  // A config built in code has no positions: messages name the field only.
  v1::GatewayConfig config;
  EXPECT_THAT(
      ValidateConfig(config, TestResolver),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(StartsWith("listener.address: required"),
                     HasSubstr("\nlistener.tls.cert_file: required"),
                     HasSubstr("\nlistener.tls.key_file: required"),
                     HasSubstr("\nlistener.tls.client_ca_file: required"))));

  auto parsed = Parse(kValid);
  ASSERT_THAT(parsed, IsOk());
  // An adapter config of another adapter's message.
  v1::GatewayConfig wrong_message = *parsed;
  wrong_message.mutable_adapters(1)->mutable_config()->PackFrom(
      lienthong::adapters::grpc_upstream::GrpcUpstreamConfig());
  EXPECT_THAT(
      ValidateConfig(wrong_message, TestResolver),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "adapters[1].config: holds "
               "lienthong.adapters.grpc_upstream.GrpcUpstreamConfig, but type "
               "'vneid-oidc' takes "
               "lienthong.adapters.vneid.VneidOidcConfig"));
  // A resolver that knows nothing makes every type unknown.
  auto know_nothing = [](absl::string_view) {
    return std::unique_ptr<google::protobuf::Message>();
  };
  EXPECT_THAT(ValidateConfig(*parsed, know_nothing),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "adapters[0].type: unknown adapter type "
                       "'c06-population-soap'\nadapters[1].type: unknown "
                       "adapter type 'vneid-oidc'"));
}

TEST_F(ConfigLoaderTest, ErrorsFoundLaterArePlacedAtTheirField) {
  ConfigPositions positions;
  ASSERT_THAT(LoadConfigYaml(kValid, "test.yaml", "/etc/lt", TestResolver,
                             &positions),
              IsOk());
  struct Case {
    const char* field;
    const char* located;
  };
  const Case kCases[] = {
      {"routes[1].adapter", "test.yaml:27:5: routes[1].adapter: refused"},
      // Not written: the nearest enclosing field that is.
      {"routes[0].retry.max_backoff_ms",
       "test.yaml:23:5: routes[0].retry.max_backoff_ms: refused"},
      {"adapters[0].config.upstream.base_url",
       "test.yaml:13:9: adapters[0].config.upstream.base_url: refused"},
      {"audit.store_file", "test.yaml: audit.store_file: refused"},
  };
  for (const Case& c : kCases) {
    absl::Status marked =
        AtConfigField(c.field, absl::FailedPreconditionError("refused"));
    EXPECT_THAT(ConfigFieldOf(marked), ::testing::Optional(std::string(c.field)));
    EXPECT_THAT(positions.Locate(marked),
                StatusIs(absl::StatusCode::kFailedPrecondition, c.located));
  }
  // A message that already names its field is not prefixed twice.
  EXPECT_THAT(
      AtConfigField("portal_sync.adapter",
                    absl::InvalidArgumentError("portal_sync.adapter: no such")),
      StatusIs(absl::StatusCode::kInvalidArgument, "portal_sync.adapter: no such"));
  // Errors about no field, and OK, pass unchanged.
  EXPECT_THAT(positions.Locate(absl::UnavailableError("cannot listen")),
              StatusIs(absl::StatusCode::kUnavailable, "cannot listen"));
  EXPECT_THAT(positions.Locate(AtConfigField("listener", absl::OkStatus())),
              IsOk());
}

TEST(ParseHostPortTest, SplitsWhatValidationAccepts) {
  struct Case {
    const char* address;
    std::optional<std::pair<std::string, int>> parts;
  };
  const Case kCases[] = {
      {"127.0.0.1:9464", std::make_pair("127.0.0.1", 9464)},
      {"[::1]:0", std::make_pair("[::1]", 0)},
      {"gw.lienthong.local:443", std::make_pair("gw.lienthong.local", 443)},
      {"localhost", std::nullopt},
      {":8443", std::nullopt},
      {"::1:8443", std::nullopt},
      {"host:65536", std::nullopt},
      {"host:+80", std::nullopt},
      {"ho st:80", std::nullopt},
  };
  for (const Case& c : kCases) {
    std::optional<HostPort> parsed = ParseHostPort(c.address);
    EXPECT_EQ(parsed.has_value(), c.parts.has_value()) << c.address;
    if (parsed.has_value() && c.parts.has_value()) {
      EXPECT_EQ(parsed->host, c.parts->first);
      EXPECT_EQ(parsed->port, c.parts->second);
    }
  }
}

TEST(KnownMethodsTest, ListsTheApiMethods) {
  EXPECT_THAT(KnownMethods(),
              ElementsAre("lienthong.v1.IdentityService/VerifyIdentity",
                          "lienthong.v1.IdentityService/SignInWithVneid",
                          "lienthong.v1.PopulationService/LookupCitizen",
                          "lienthong.v1.AuditService/QueryAudit",
                          "lienthong.v1.AuditService/VerifyAudit",
                          "lienthong.v1.PortalSyncService/SyncProcedures",
                          "lienthong.v1.PortalSyncService/WatchSyncJob",
                          "lienthong.v1.PortalSyncService/GetSyncJob",
                          "lienthong.v1.PortalSyncService/PushDossierStatus",
                          "lienthong.v1.PortalSyncService/ListDeadLetters",
                          "lienthong.v1.PortalSyncService/RetryDeadLetters",
                          "lienthong.v1.PortalSyncService/PullCatalogue",
                          "lienthong.v1.PortalSyncService/GetCataloguePull",
                          "lienthong.v1.BundleService/StartBundle",
                          "lienthong.v1.BundleService/GetBundle",
                          "lienthong.v1.BundleService/WatchBundle",
                          "lienthong.v1.BundleService/ListBundles",
                          "lienthong.v1.BundleService/ResolveStep",
                          "lienthong.v1.RecordService/GetRecord"));
}

// ---- Portal synchronisation ------------------------------------------------

constexpr char kPortal[] = R"(listener:
  address: 127.0.0.1:8443
  tls:
    cert_file: gateway.pem
    key_file: gateway.key
    client_ca_file: ca.pem
adapters:
  - name: portal
    type: dvcqg-portal-rest
    config:
      upstream:
        base_url: https://dvcqg.example.vn
      auth_endpoint: /adapter/auth
      integration_endpoint: /adapter/integration
      username: hungyen
      password: ${LIENTHONG_TEST_PORTAL_PASSWORD}
      madonvi: 000.00.00.H31
      session_error_codes: ["401", "-2"]
portal_sync:
  adapter: portal
  outbox_key_file: keys/outbox.key
  procedure_codes:
    - local: 2.000884.000.00.00.H31
      national: 2.000885
)";

TEST_F(ConfigLoaderTest, PortalAdapterAndSyncSettings) {
  setenv("LIENTHONG_TEST_PORTAL_PASSWORD", "pw-from-env", 1);
  auto config = Load(kPortal);
  ASSERT_THAT(config, IsOk());
  lienthong::adapters::dvcqg::DvcqgPortalRestConfig portal;
  ASSERT_TRUE(config->adapters(0).config().UnpackTo(&portal));
  EXPECT_EQ(portal.password(), "pw-from-env");
  EXPECT_EQ(portal.integration_endpoint(), "/adapter/integration");
  EXPECT_THAT(portal.session_error_codes(), ElementsAre("401", "-2"));
  EXPECT_EQ(config->portal_sync().outbox_key_file(), "/etc/lt/keys/outbox.key");
  ASSERT_EQ(config->portal_sync().procedure_codes_size(), 1);
  EXPECT_EQ(config->portal_sync().procedure_codes(0).national(), "2.000885");
}

TEST_F(ConfigLoaderTest, PortalProblemsAreNamed) {
  setenv("LIENTHONG_TEST_PORTAL_PASSWORD", "pw", 1);
  struct Case {
    const char* from;
    const char* to;
    const char* message;
  };
  const Case kCases[] = {
      // The invented protocol's key is gone.
      {"      madonvi:", "      api_key: k\n      madonvi:", "api_key"},
      {"national: 2.000885", "national: 2.000885.000.00.00.H31",
       "portal_sync.procedure_codes[0].national: must be a national code"},
      {"local: 2.000884.000.00.00.H31", "local: H31-2",
       "portal_sync.procedure_codes[0].local: procedure code"},
      {"      national: 2.000885\n",
       "      national: 2.000885\n    - local: 2.000884.000.00.00.H31\n"
       "      national: 2.000886\n",
       "portal_sync.procedure_codes[1].local: '2.000884.000.00.00.H31' is "
       "already mapped by procedure_codes[0]"},
  };
  for (const Case& c : kCases) {
    std::string yaml = kPortal;
    const size_t at = yaml.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    yaml.replace(at, strlen(c.from), c.to);
    EXPECT_THAT(Load(yaml), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr(c.message)))
        << c.to;
  }
}

// store: postgres: the connection string never in the file.
TEST_F(ConfigLoaderTest, PostgresStoreSettingsAndRefusals) {
  setenv("LIENTHONG_TEST_PORTAL_PASSWORD", "pw", 1);
  const std::string postgres = std::string(kPortal) +
                               "  store: postgres\n"
                               "  postgres:\n"
                               "    pool_size: 6\n"
                               "    lease_seconds: 20\n"
                               "    synchronous_commit: false\n";
  auto config = Load(postgres);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->portal_sync().store(), v1::postgres);
  EXPECT_EQ(config->portal_sync().postgres().pool_size(), 6);
  EXPECT_TRUE(config->portal_sync().postgres().has_synchronous_commit());
  EXPECT_FALSE(config->portal_sync().postgres().synchronous_commit());
  // The default stays the embedded store.
  auto plain = Load(kPortal);
  ASSERT_THAT(plain, IsOk());
  EXPECT_EQ(plain->portal_sync().store(), v1::sqlite);

  const std::string with_dsn =
      postgres + "    dsn: host=db password=Secr3t-in-file\n";
  absl::StatusOr<v1::GatewayConfig> refused = Load(with_dsn);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("portal_sync.postgres.dsn")));
  EXPECT_THAT(refused.status().message(), HasSubstr("LIENTHONG_PG_DSN"));
  EXPECT_THAT(refused.status().message(), Not(HasSubstr("Secr3t")));
  std::string short_lease = postgres;
  short_lease.replace(short_lease.find("lease_seconds: 20"), 17,
                      "lease_seconds: 1");
  EXPECT_THAT(Load(short_lease),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("portal_sync.postgres.lease_seconds")));
  EXPECT_THAT(Load(std::string(kPortal) + "  store: mysql\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("store")));
}

// One set of PostgreSQL settings for every store on PostgreSQL (the outbox
// and the audit index): the top-level block, or portal_sync.postgres in
// older configs, never both.
TEST_F(ConfigLoaderTest, OnePostgresBlockForTheOutboxAndTheAuditIndex) {
  setenv("LIENTHONG_TEST_PORTAL_PASSWORD", "pw", 1);
  const std::string shared = std::string(kPortal) +
                             "  store: postgres\n"
                             "audit:\n"
                             "  index_store: postgres\n"
                             "postgres:\n"
                             "  pool_size: 6\n"
                             "  lease_seconds: 20\n";
  auto config = Load(shared);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->audit().index_store(), v1::postgres);
  EXPECT_EQ(storage::pg::PostgresSettings(*config).pool_size(), 6);
  EXPECT_TRUE(storage::pg::UsesPostgres(*config));
  // The default index stays the embedded one; an older config's settings
  // are still read from portal_sync.postgres.
  auto plain = Load(kPortal);
  ASSERT_THAT(plain, IsOk());
  EXPECT_EQ(plain->audit().index_store(), v1::sqlite);
  EXPECT_FALSE(storage::pg::UsesPostgres(*plain));
  auto older = Load(std::string(kPortal) +
                    "  store: postgres\n  postgres:\n    pool_size: 3\n");
  ASSERT_THAT(older, IsOk());
  EXPECT_EQ(storage::pg::PostgresSettings(*older).pool_size(), 3);

  EXPECT_THAT(Load(std::string(kPortal) +
                   "  store: postgres\n  postgres:\n    pool_size: 3\n"
                   "postgres:\n  pool_size: 6\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not both")));
  absl::StatusOr<v1::GatewayConfig> with_dsn =
      Load(shared + "  dsn: host=db password=Secr3t-in-file\n");
  EXPECT_THAT(with_dsn, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("postgres.dsn")));
  EXPECT_THAT(with_dsn.status().message(), Not(HasSubstr("Secr3t")));
  std::string big_pool = shared;
  big_pool.replace(big_pool.find("pool_size: 6"), 12, "pool_size: 101");
  EXPECT_THAT(Load(big_pool),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("postgres.pool_size")));
  EXPECT_THAT(Load(std::string(kPortal) + "audit:\n  index_store: mysql\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("index_store")));

  // The connection string comes from the environment only.
  unsetenv("LIENTHONG_PG_DSN");
  EXPECT_THAT(storage::pg::PoolOptionsFromConfig(*config, "audit.index_store"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("audit.index_store: postgres needs")));
  setenv("LIENTHONG_PG_DSN", "host=127.0.0.1 password=Secr3t-env", 1);
  auto options = storage::pg::PoolOptionsFromConfig(*config, "audit.index_store");
  ASSERT_THAT(options, IsOk());
  EXPECT_EQ(options->size, 6);
  setenv("LIENTHONG_PG_DSN", "host='unterminated password=Secr3t-env", 1);
  auto bad = storage::pg::PoolOptionsFromConfig(*config, "audit.index_store");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(bad.status().message(), Not(HasSubstr("Secr3t")));
  unsetenv("LIENTHONG_PG_DSN");
}

// Checking a bundle's steps costs each step the set of steps it follows:
// a definition is bounded, so that --check, start and every reload stay
// small whatever the file holds.
TEST_F(ConfigLoaderTest, ABundleHasAtMost64Steps) {
  auto config = Parse(kValid);
  ASSERT_THAT(config, IsOk());
  auto* definition = config->mutable_bundles()->add_definitions();
  for (int i = 0; i < 65; ++i) {
    auto* step = definition->add_steps();
    step->set_name(absl::StrCat("step_", i));
    step->set_adapter("population");
    step->set_operation("lookup");
    step->set_agency("UBND xã");
    if (i > 0) step->add_after(absl::StrCat("step_", i - 1));
  }
  EXPECT_THAT(ValidateConfig(*config, TestResolver),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bundles.definitions[0].steps: at most 64 "
                                 "steps in a bundle")));
  definition->mutable_steps()->RemoveLast();
  EXPECT_THAT(ValidateConfig(*config, TestResolver).message(),
              Not(HasSubstr("steps:")));
}

// A step's input is named as the file has it, so the error points at its
// line, not at the line of `inputs:`.
TEST_F(ConfigLoaderTest, ABadStepInputPointsAtItsLine) {
  const std::string yaml = absl::StrCat(
      kValid,
      "bundles:\n  definitions:\n    - kind: BIRTH\n      steps:\n"
      "        - name: s\n          adapter: population\n"
      "          operation: lookup\n          agency: A\n"
      "          inputs:\n            citizen_id: data.child.full_name\n"
      "            nowhere: nothing.at_all\n");
  const int line = static_cast<int>(absl::c_count(yaml, '\n'));
  EXPECT_THAT(Load(yaml),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(
                           "test.yaml:", line,
                           ":13: bundles.definitions[0].steps[0].inputs["
                           "nowhere]"))));
}

// The handler, a step's agency and its title go to the portal in every
// bundle's progress; the portal would refuse them all for one bad byte.
TEST_F(ConfigLoaderTest, BundleTextThePortalWouldRefuseIsRefused) {
  auto config = Parse(kValid);
  ASSERT_THAT(config, IsOk());
  config->mutable_bundles()->set_handler(std::string(300, 'h'));
  auto* definition = config->mutable_bundles()->add_definitions();
  auto* step = definition->add_steps();
  step->set_name("civil_status");
  step->set_adapter("population");
  step->set_operation("lookup");
  step->set_agency("C\xc3\xb4ng an x\xc3\xa3\a");
  step->set_title("\xe2\x80\xae\xc4\x90\xc4\x83ng k\xc3\xbd");  // U+202E first
  const std::string message(ValidateConfig(*config, TestResolver).message());
  EXPECT_THAT(message, HasSubstr("bundles.handler: longer than 256 bytes"));
  EXPECT_THAT(message, HasSubstr("bundles.definitions[0].steps[0].agency: "
                                 "contains control characters"));
  EXPECT_THAT(message, HasSubstr("bundles.definitions[0].steps[0].title: "
                                 "contains control characters"));
  config->mutable_bundles()->set_handler("H\xe1\xbb\x87 th\xe1\xbb\x91ng");
  step->set_agency("C\xc3\xb4ng an x\xc3\xa3");
  step->set_title("\xc4\x90\xc4\x83ng k\xc3\xbd khai sinh");
  const std::string fixed(ValidateConfig(*config, TestResolver).message());
  EXPECT_THAT(fixed, Not(HasSubstr("handler")));
  EXPECT_THAT(fixed, Not(HasSubstr("agency")));
  EXPECT_THAT(fixed, Not(HasSubstr("steps[0].title")));
}

// ---- The example operators copy -------------------------------------------

TEST_F(ConfigLoaderTest, ExampleConfigLoadsAndValidates) {
  const char* source = std::getenv("LIENTHONG_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "run through ctest, which sets it";
  const std::string path =
      absl::StrCat(source, "/deploy/examples/gateway.yaml");
  auto config = LoadConfigFile(path, TestResolver);
  ASSERT_THAT(config, IsOk());

  EXPECT_EQ(config->listener().address(), "127.0.0.1:8443");
  EXPECT_THAT(config->listener().tls().cert_file(),
              EndsWith("/deploy/examples/../../certs/out/gateway.pem"));
  EXPECT_THAT(config->listener().tls().client_ca_file(),
              EndsWith("/certs/out/ca.pem"));

  // Population, VNeID, the portal, the four agencies of the bundles, and
  // the business registry (ministry-rest-json).
  ASSERT_EQ(config->adapters_size(), 8);
  EXPECT_EQ(config->adapters(7).type(), "ministry-rest-json");
  EXPECT_EQ(config->adapters(2).type(), "dvcqg-portal-rest");
  EXPECT_EQ(config->portal_sync().adapter(), "portal");
  lienthong::adapters::c06::C06PopulationSoapConfig c06;
  ASSERT_TRUE(config->adapters(0).config().UnpackTo(&c06));
  EXPECT_EQ(config->adapters(0).name(), "population");
  EXPECT_EQ(c06.upstream().base_url(), "https://127.0.0.1:9443");
  EXPECT_THAT(c06.upstream().ca_file(), EndsWith("/certs/out/ca.pem"));
  EXPECT_EQ(c06.path(), "/c06/soap");
  EXPECT_EQ(c06.xroad_client(), "VN/GOV/000.00.00.H31/LIENTHONG");
  EXPECT_EQ(c06.api_key(), "dev-population-key");
  EXPECT_EQ(c06.username(), "lienthong-dev");
  EXPECT_EQ(c06.secret(), "dev-population-secret");
  EXPECT_EQ(c06.auth_url(), "https://c06.sim.lienthong.local/xacthuc");
  EXPECT_EQ(c06.integration_code(), "037");
  EXPECT_EQ(c06.identity_service_code(), "033");

  lienthong::adapters::vneid::VneidOidcConfig vneid;
  ASSERT_TRUE(config->adapters(1).config().UnpackTo(&vneid));
  EXPECT_EQ(config->adapters(1).name(), "vneid");
  EXPECT_EQ(vneid.upstream().base_url(), "https://127.0.0.1:9443/vneid");
  EXPECT_EQ(vneid.realm(), "citizen");
  EXPECT_EQ(vneid.client_id(), "lienthong-dev");
  EXPECT_EQ(vneid.client_secret(), "dev-vneid-secret");
  EXPECT_THAT(vneid.redirect_uris(),
              ElementsAre("https://dichvucong.hungyen.gov.vn/vneid/callback"));

  lienthong::adapters::dvcqg::DvcqgPortalRestConfig portal;
  ASSERT_TRUE(config->adapters(2).config().UnpackTo(&portal));
  EXPECT_EQ(config->adapters(2).name(), "portal");
  EXPECT_EQ(portal.upstream().base_url(), "https://127.0.0.1:9443");
  EXPECT_EQ(portal.auth_endpoint(), "/dvcqg/adapter/auth");
  EXPECT_EQ(portal.integration_endpoint(), "/dvcqg/adapter/integration");
  EXPECT_EQ(portal.share_endpoint(), "/dvcqg/adapter/share");
  EXPECT_EQ(portal.username(), "lienthong-dev");
  EXPECT_EQ(portal.password(), "dev-portal-password");
  EXPECT_EQ(portal.madonvi(), "000.00.00.H31");
  EXPECT_THAT(portal.session_error_codes(), ElementsAre("401"));
  EXPECT_THAT(config->portal_sync().outbox_file(),
              EndsWith("/deploy/examples/../../var/outbox.db"));
  EXPECT_EQ(config->portal_sync().outbox_key_file(), "");

  EXPECT_EQ(config->routes_size(), 4);
  ASSERT_EQ(config->clients_size(), 4);
  EXPECT_EQ(config->clients(3).id(), "spiffe://lienthong.local/auditor");
  EXPECT_EQ(config->clients(3).roles(0), "auditor");
  EXPECT_EQ(config->clients(0).id(), "spiffe://lienthong.local/dossier-system");
  // Lookups, verifications, the eight portal-sync methods, the five of
  // the bundles and record lookups.
  EXPECT_EQ(config->clients(0).methods_size(), 16);
  EXPECT_EQ(config->portal_sync().catalogue_refresh_hours(), 24);
  EXPECT_EQ(config->clients(0).grants(2).record_type(), "enterprise");

  // An agency adapter's config is its own message, from its own folder.
  lienthong::adapters::civil_status::CivilStatusRestConfig civil;
  ASSERT_TRUE(config->adapters(3).config().UnpackTo(&civil));
  EXPECT_EQ(config->adapters(3).type(), "civil-status-rest");
  EXPECT_EQ(civil.api_key(), "dev-agency-key");
  EXPECT_THAT(civil.upstream().ca_file(), EndsWith("/certs/out/ca.pem"));
  ASSERT_EQ(config->bundles().definitions_size(), 2);
  EXPECT_EQ(config->bundles().definitions(0).kind(), "BIRTH");
  EXPECT_EQ(config->bundles().definitions(0).steps_size(), 3);
  EXPECT_EQ(config->bundles().definitions(1).steps(2).procedure_code(),
            "1.011537");
  EXPECT_THAT(config->bundles().holiday_file(),
              EndsWith("/deploy/examples/holidays.yaml"));
  EXPECT_EQ(config->clients(1).id(), "spiffe://lienthong.local/citizen-portal");
  EXPECT_THAT(config->clients(1).methods(),
              ElementsAre("lienthong.v1.IdentityService/VerifyIdentity",
                          "lienthong.v1.IdentityService/SignInWithVneid"));
  EXPECT_EQ(config->clients(2).id(), "spiffe://lienthong.local/no-rights");
  EXPECT_EQ(config->clients(2).methods_size(), 0);
}

// An adapter's packed settings are the same bytes every time the same text
// is read: a reload tells an unchanged adapter by them and keeps its
// breaker. A map (headers) was packed in its hash order, which differs from
// one parse to the next.
TEST(PackedSettingsTest, AnAdaptersPackedSettingsAreTheSameEveryTime) {
  const std::string yaml = R"(node_name: t
adapters:
  - name: registry
    type: ministry-rest-json
    config:
      upstream: {base_url: "https://registry.test"}
      headers: {X-A: "1", X-B: "2", X-C: "3", X-D: "4", X-E: "5", X-F: "6"}
      record_types:
        - name: enterprise
          path: /dn/{tax_code}
          parameters: [{name: tax_code, pattern: "[0-9]{10}"}]
          fields: [{name: name, pointer: /ten}]
)";
  auto first = Parse(yaml);
  ASSERT_THAT(first, IsOk());
  for (int i = 0; i < 20; ++i) {
    auto again = Parse(yaml);
    ASSERT_THAT(again, IsOk());
    EXPECT_EQ(again->adapters(0).config().value(),
              first->adapters(0).config().value());
  }
}

}  // namespace
}  // namespace lienthong::config
