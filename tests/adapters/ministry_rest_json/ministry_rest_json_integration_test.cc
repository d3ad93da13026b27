// GetRecord end to end: a real gateway over mutual TLS on 127.0.0.1:0, the
// "ministry-rest-json" adapter configured for the simulated business
// registry (tests/national_sim/systems/business_registry.h) as an operator
// would configure it: fields cut to the grant, NOT_FOUND, the registry down
// or answering malformed replies (UNAVAILABLE), and the audit record (type
// and a keyed hash of the tax code, never the tax code).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "adapters/c06_population/c06_population_config.pb.h"
#include "adapters/ministry_rest_json/ministry_rest_json_config.pb.h"
#include "gateway/audit/record.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "lienthong/v1/audit.grpc.pb.h"
#include "lienthong/v1/records.grpc.pb.h"
#include "tests/gateway/cli/run_cli.h"
#include "tests/integration/gateway_env.h"
#include "tests/national_sim/systems/business_registry.h"

namespace lienthong::testing {
namespace {

using ::lienthong::v1::GetRecordRequest;
using ::lienthong::v1::Record;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGetRecord[] = "lienthong.v1.RecordService/GetRecord";
constexpr char kTaxCode[] = "0101234567";

// The registry as deploy/examples/gateway.yaml configures it.
constexpr char kRegistry[] = R"pb(
  headers { key: "X-Api-Key" value: "dev-business-registry-key" }
  record_types {
    name: "enterprise"
    path: "/dkkd/api/v1/doanh-nghiep/{tax_code}"
    parameters { name: "tax_code" pattern: "[0-9]{10}(-[0-9]{3})?" }
    fields { name: "name" pointer: "/duLieu/tenDoanhNghiep" }
    fields { name: "status" pointer: "/duLieu/tinhTrang" }
    fields { name: "address" pointer: "/duLieu/diaChiTruSo" }
    fields { name: "founded" pointer: "/duLieu/ngayThanhLap" }
    fields { name: "charter_capital" pointer: "/duLieu/vonDieuLe" }
    fields {
      name: "legal_representative"
      pointer: "/duLieu/nguoiDaiDienPhapLuat/hoTen"
    }
    reference_pointer: "/maGiaoDich"
    success { pointer: "/maLoi" equals: "00" }
  }
)pb";

void AddRegistry(lienthong::config::v1::GatewayConfig& config,
                 const std::string& sim_url) {
  adapters::ministry_rest_json::MinistryRestJsonConfig registry;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kRegistry, &registry));
  registry.mutable_upstream()->set_base_url(sim_url);
  registry.mutable_upstream()->set_ca_file(TestCert("ca.pem"));
  auto* instance = config.add_adapters();
  instance->set_name("business-registry");
  instance->set_type("ministry-rest-json");
  instance->mutable_config()->PackFrom(registry);
  instance->mutable_breaker()->set_consecutive_failures(1000);
  auto* route = config.add_routes();
  route->set_method(kGetRecord);
  route->set_adapter("business-registry");
  route->set_timeout_ms(3000);
  route->mutable_retry()->set_max_attempts(2);
  route->mutable_retry()->set_initial_backoff_ms(1);
  for (auto& client : *config.mutable_clients()) {
    if (client.id() == ClientId("dossier-system")) {
      client.add_methods(kGetRecord);
      auto* grant = client.add_grants();
      grant->set_record_type("enterprise");
      grant->add_purposes("2.001610");  // enterprise registration
      grant->add_fields("name");
      grant->add_fields("status");
      grant->add_fields("legal_representative");
    }
    if (client.id() == ClientId("citizen-portal")) {
      client.add_methods(kGetRecord);  // but no grant
    }
  }
}

class MinistryRestJsonIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The simulator's URL is known once it runs: the env starts it first and
    // hands over the config (its population adapter pointing there) before
    // the gateway starts.
    EnvOptions options;
    options.customize = [](lienthong::config::v1::GatewayConfig& config) {
      AddRegistry(config, SimUrlOf(config));
    };
    auto env = GatewayEnv::Start(options);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
  }

  // The population adapter's base URL is the simulator's.
  static std::string SimUrlOf(const lienthong::config::v1::GatewayConfig& c) {
    lienthong::adapters::c06::C06PopulationSoapConfig population;
    for (const auto& adapter : c.adapters()) {
      if (adapter.config().UnpackTo(&population)) {
        return population.upstream().base_url();
      }
    }
    return "";
  }

  grpc::Status Get(const std::string& client, const GetRecordRequest& r,
                   Record* out = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    Record record;
    return lienthong::v1::RecordService::NewStub(env_->Channel(client))
        ->GetRecord(&context, r, out != nullptr ? out : &record);
  }

  static GetRecordRequest Enterprise(const std::string& tax_code) {
    GetRecordRequest r;
    r.set_record_type("enterprise");
    (*r.mutable_parameters())["tax_code"] = tax_code;
    r.set_purpose("2.001610");
    r.set_dossier_id("000.00.01.H31-251127-00042");
    *r.mutable_officer() = TestOfficer();
    return r;
  }

  std::vector<lienthong::v1::AuditRecord> AuditedRecordLookups() {
    auto stub = lienthong::v1::AuditService::NewStub(env_->Channel("auditor"));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    lienthong::v1::QueryAuditRequest query;
    query.set_method(kGetRecord);
    auto reader = stub->QueryAudit(&context, query);
    std::vector<lienthong::v1::AuditRecord> found;
    lienthong::v1::AuditRecord record;
    while (reader->Read(&record)) found.push_back(record);
    EXPECT_TRUE(reader->Finish().ok());
    return found;
  }

  sim::System Registry() { return *sim::SystemFromName("business_registry"); }

  std::unique_ptr<GatewayEnv> env_;
};

TEST_F(MinistryRestJsonIntegrationTest, AnEnterpriseCutToTheGrant) {
  Record record;
  grpc::Status status = Get("dossier-system", Enterprise(kTaxCode), &record);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(record.record_type(), "enterprise");
  EXPECT_EQ(record.source_system(), "business-registry");
  EXPECT_THAT(record.reference(), ::testing::StartsWith("DKKD-"));
  // Granted: name, status, legal representative, in the declared order; the
  // address, founding date and capital the registry sent are cut.
  ASSERT_EQ(record.fields_size(), 3);
  EXPECT_EQ(record.fields(0).name(), "name");
  EXPECT_FALSE(record.fields(0).value().empty());
  EXPECT_EQ(record.fields(1).name(), "status");
  EXPECT_EQ(record.fields(2).name(), "legal_representative");
  // The same tax code is the same (synthetic) enterprise every time.
  Record again;
  ASSERT_TRUE(Get("dossier-system", Enterprise(kTaxCode), &again).ok());
  EXPECT_EQ(again.fields(0).value(), record.fields(0).value());

  GetRecordRequest beyond = Enterprise(kTaxCode);
  beyond.add_fields("address");
  EXPECT_EQ(Get("dossier-system", beyond).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get("citizen-portal", Enterprise(kTaxCode)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get("dossier-system", Enterprise("01012345")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(env_->sim().Stats().of(Registry()).received, 2);
}

TEST_F(MinistryRestJsonIntegrationTest, AnUnknownEnterpriseIsNotFound) {
  grpc::Status status = Get("dossier-system", Enterprise("0101230000"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), Not(HasSubstr("0101230000")));
}

TEST_F(MinistryRestJsonIntegrationTest,
       ARefusalAnsweredAsHttp200IsUnavailable) {
  grpc::Status status = Get("dossier-system", Enterprise("0101239999"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("code '99' at /maLoi"));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("0101239999")));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("khóa")));
  EXPECT_EQ(env_->sim().Stats().of(Registry()).received, 1);  // not retried
}

TEST_F(MinistryRestJsonIntegrationTest, RegistryDownOrMalformedIsUnavailable) {
  sim::Knobs down;
  down.down = true;
  ASSERT_TRUE(env_->sim().SetKnobs(Registry(), down).ok());
  grpc::Status status = Get("dossier-system", Enterprise(kTaxCode));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(env_->sim().Stats().of(Registry()).dropped, 2);  // retried once

  sim::Knobs malformed;
  malformed.malformed_rate = 1;  // 200 with a body cut in half
  ASSERT_TRUE(env_->sim().SetKnobs(Registry(), malformed).ok());
  status = Get("dossier-system", Enterprise(kTaxCode));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("not JSON"));
  EXPECT_EQ(env_->sim().Stats().of(Registry()).answered_malformed, 1);

  ASSERT_TRUE(env_->sim().SetKnobs(Registry(), sim::Knobs{}).ok());
  EXPECT_TRUE(Get("dossier-system", Enterprise(kTaxCode)).ok());
}

TEST_F(MinistryRestJsonIntegrationTest, AuditedWithTheKeyHashedNeverInClear) {
  ASSERT_TRUE(Get("dossier-system", Enterprise(kTaxCode)).ok());
  ASSERT_EQ(Get("citizen-portal", Enterprise(kTaxCode)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  std::vector<lienthong::v1::AuditRecord> found = AuditedRecordLookups();
  ASSERT_EQ(found.size(), 2u);
  const std::string key_hmac =
      env_->gateway().audit_log()->citizen_key().Hmac(
          audit::RecordKeyText({{"tax_code", kTaxCode}}));
  for (const auto& record : found) {
    EXPECT_EQ(record.record_type(), "enterprise");
    EXPECT_EQ(record.record_key_hmac(), key_hmac);
    EXPECT_EQ(record.purpose(), "2.001610");
    EXPECT_FALSE(record.officer_hmac().empty());
    EXPECT_THAT(record.DebugString(), Not(HasSubstr(kTaxCode)));
  }
  EXPECT_EQ(found[0].outcome(), "OK");
  EXPECT_EQ(found[0].national_system(), "business-registry");
  EXPECT_EQ(found[1].outcome(), "PERMISSION_DENIED");
}

// `lienthong record get` and `lienthong audit verify` as an officer's tool
// and a security team run them against the gateway.
TEST_F(MinistryRestJsonIntegrationTest, TheCliGetsARecordAndExitsWithARefusalsCode) {
  const std::string server = absl::StrCat("127.0.0.1:", env_->port());
  auto as = [&](const std::string& client) {
    return std::vector<std::string>{
        "--server", server, "--ca", TestCert("ca.pem"),
        "--cert", TestCert(client + ".pem"), "--key", TestCert(client + ".key")};
  };
  auto record_get = [&](const std::string& client, const std::string& key) {
    std::vector<std::string> args = {
        "record", "get", "enterprise", "tax_code=" + key,
        "--purpose", "2.001610", "--dossier", "000.00.01.H31-251127-00042",
        "--officer-id", TestOfficer().citizen_id(),
        "--officer-unit", TestOfficer().unit_code(),
        "--officer-account", TestOfficer().account()};
    for (std::string& arg : as(client)) args.push_back(std::move(arg));
    return cli::testing::RunLienthong(args);
  };

  Record record;
  ASSERT_TRUE(Get("dossier-system", Enterprise(kTaxCode), &record).ok());
  cli::testing::CliResult got = record_get("dossier-system", kTaxCode);
  EXPECT_EQ(got.code, 0) << got.err;
  EXPECT_THAT(got.out, HasSubstr("Record type:"));
  EXPECT_THAT(got.out, HasSubstr(record.fields(0).value()));
  EXPECT_THAT(got.out, HasSubstr("business-registry"));
  EXPECT_EQ(got.err, "");

  cli::testing::CliResult unknown = record_get("dossier-system", "0101230000");
  EXPECT_EQ(unknown.code, static_cast<int>(cli::ExitCode::kNotFound));
  EXPECT_THAT(unknown.err, ::testing::StartsWith("lienthong: NOT_FOUND: "));
  EXPECT_EQ(unknown.out, "");
  cli::testing::CliResult refused = record_get("citizen-portal", kTaxCode);
  EXPECT_EQ(refused.code, static_cast<int>(cli::ExitCode::kAccessDenied));
  EXPECT_THAT(refused.err, ::testing::StartsWith("lienthong: PERMISSION_DENIED: "));

  std::vector<std::string> verify = {"audit", "verify"};
  for (std::string& arg : as("auditor")) verify.push_back(std::move(arg));
  cli::testing::CliResult intact = cli::testing::RunLienthong(verify);
  EXPECT_EQ(intact.code, 0) << intact.err;
  EXPECT_THAT(intact.out, ::testing::StartsWith("Audit log intact: "));
  std::vector<std::string> not_auditor = {"audit", "verify"};
  for (std::string& arg : as("dossier-system")) not_auditor.push_back(std::move(arg));
  EXPECT_EQ(cli::testing::RunLienthong(not_auditor).code,
            static_cast<int>(cli::ExitCode::kAccessDenied));
}

}  // namespace
}  // namespace lienthong::testing
