#include "gateway/config/config_loader.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::config {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<google::protobuf::Message> Resolve(absl::string_view type) {
  if (type == "c06-population-soap") {
    return std::make_unique<v1::C06PopulationSoapConfig>();
  }
  if (type == "vneid-identity-rest") {
    return std::make_unique<v1::VneidIdentityRestConfig>();
  }
  if (type == "grpc-upstream") return std::make_unique<v1::GrpcUpstreamConfig>();
  return nullptr;
}

absl::StatusOr<v1::GatewayConfig> Parse(const std::string& yaml) {
  return ParseConfigYaml(yaml, "test.yaml", "/etc/lienthong", Resolve);
}

constexpr char kValid[] = R"(node_name: gw
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
      path: /c06/soap
      secret: ${LIENTHONG_TEST_SECRET}
routes:
  - method: lienthong.v1.PopulationService/LookupCitizen
    adapter: population
    timeout_ms: 2000
clients:
  - id: spiffe://lienthong.local/dossier-system
    methods: [lienthong.v1.PopulationService/LookupCitizen]
    grants:
      - purposes: ["1.001193"]
        fields: [name, birth_date]
)";

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("LIENTHONG_TEST_SECRET", "s3cret", 1); }
};

TEST_F(ConfigLoaderTest, ValidConfigParsesWithTypedAdapterConfig) {
  auto config = Parse(kValid);
  ASSERT_THAT(config, IsOk());
  EXPECT_THAT(ValidateConfig(*config, Resolve), IsOk());
  EXPECT_EQ(config->listener().address(), "127.0.0.1:8443");
  // Relative *_file paths are resolved against the config's folder.
  EXPECT_EQ(config->listener().tls().cert_file(), "/etc/lienthong/gateway.pem");
  EXPECT_EQ(config->listener().tls().key_file(), "/abs/gateway.key");
  v1::C06PopulationSoapConfig c06;
  ASSERT_TRUE(config->adapters(0).config().UnpackTo(&c06));
  EXPECT_EQ(c06.upstream().base_url(), "https://127.0.0.1:9443");
  EXPECT_EQ(c06.secret(), "s3cret");  // from the environment
  EXPECT_EQ(config->routes(0).timeout_ms(), 2000);
  EXPECT_EQ(config->clients(0).grants(0).fields_size(), 2);
}

struct ErrorCase {
  const char* yaml;
  const char* message;
};

TEST_F(ConfigLoaderTest, ParseErrorsNameTheKeyAndLine) {
  const ErrorCase kErrorTests[] = {
      {"nodename: x\n", "test.yaml:1:1: unknown key 'nodename' in the top level"},
      {"listener:\n  adress: x\n",
       "test.yaml:2:3: unknown key 'adress' in listener (known keys: address, "
       "tls, threads)"},
      {"listener:\n  threads: many\n",
       "test.yaml:2:12: listener.threads: expected an integer"},
      {"listener:\n  threads: 99999999999\n", "listener.threads: number out of range"},
      {"listener:\n  tls:\n    require_client_cert: maybe\n",
       "test.yaml:3:26: listener.tls.require_client_cert: expected true or false"},
      {"listener: 8443\n", "test.yaml:1:11: listener: expected a mapping, got a scalar"},
      {"routes:\n  method: x\n", "test.yaml:2:3: routes: expected a list, got a mapping"},
      {"node_name: a\nnode_name: b\n", "test.yaml:2:1: key 'node_name' appears twice"},
      {"adapters:\n  - name: p\n    type: nosuch\n    config: {}\n",
       "test.yaml:3:11: unknown adapter type 'nosuch'"},
      {"adapters:\n  - name: p\n    config: {}\n", "needs a 'type' beside it"},
      {"adapters:\n  - name: p\n    type: c06-population-soap\n    config:\n"
       "      uptream: {}\n",
       "test.yaml:5:7: unknown key 'uptream' in adapters[0].config"},
      {"node_name: ${LIENTHONG_SURELY_UNSET}\n",
       "environment variable 'LIENTHONG_SURELY_UNSET' is not set"},
      {"listener: [\n", "test.yaml:2:1: YAML syntax error"},
      {"- a\n- b\n", "the config: expected a mapping, got a list"},
  };
  for (const ErrorCase& c : kErrorTests) {
    EXPECT_THAT(Parse(c.yaml),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.yaml;
  }
}

TEST_F(ConfigLoaderTest, WrongValuesAreNotEchoed) {
  auto result = Parse("listener:\n  threads: topsecretvalue\n");
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                               Not(HasSubstr("topsecretvalue"))));
}

TEST_F(ConfigLoaderTest, ValidationErrorsNameTheField) {
  struct Case {
    const char* replace;  // text in kValid to replace
    const char* with;
    const char* message;
  };
  const Case kErrorTests[] = {
      {"address: 127.0.0.1:8443", "address: nonsense", "listener.address must be host:port"},
      {"    client_ca_file: ca.pem\n", "", "listener.tls.client_ca_file is required"},
      {"    client_ca_file: ca.pem\n", "    require_client_cert: false\n",
       "insecure_allow_no_client_cert"},
      {"    adapter: population", "    adapter: nosuch", "routes[0].adapter: no adapter named 'nosuch'"},
      {"  - method: lienthong.v1.PopulationService/LookupCitizen",
       "  - method: lienthong.v1.Nope/Nope", "routes[0].method: unknown method"},
      {"fields: [name, birth_date]", "fields: [name, shoe_size]",
       "clients[0].grants[0].fields: 'shoe_size' is not a field"},
      {"purposes: [\"1.001193\"]", "purposes: []", "purposes must name at least one"},
      {"methods: [lienthong.v1.PopulationService/LookupCitizen]",
       "methods: [Nope]", "clients[0].methods: unknown method 'Nope'"},
  };
  for (const Case& c : kErrorTests) {
    std::string yaml = kValid;
    size_t at = yaml.find(c.replace);
    ASSERT_NE(at, std::string::npos) << c.replace;
    yaml.replace(at, strlen(c.replace), c.with);
    auto config = Parse(yaml);
    ASSERT_THAT(config, IsOk()) << yaml;
    EXPECT_THAT(ValidateConfig(*config, Resolve),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.replace;
  }
}

TEST_F(ConfigLoaderTest, MissingFileIsNamed) {
  EXPECT_THAT(LoadConfigFile("/nonexistent/gateway.yaml", Resolve),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot read config file "
                                 "'/nonexistent/gateway.yaml': No such file")));
}

TEST_F(ConfigLoaderTest, ExampleConfigLoadsAndValidates) {
  const char* source = std::getenv("LIENTHONG_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  auto config = LoadConfigFile(
      std::string(source) + "/deploy/examples/gateway.yaml", Resolve);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->adapters_size(), 2);
  EXPECT_EQ(config->routes_size(), 2);
}

}  // namespace
}  // namespace lienthong::config
