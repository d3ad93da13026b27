// grpc.health.v1.Health on the real gateway over mutual TLS tells the truth
// per service (population database down -> its services NOT_SERVING, back
// -> SERVING), and server reflection describes every service, the health
// service included, to an independent client (`buf curl --list-methods`,
// npm @bufbuild/buf, installed under tests/interop by
// scripts/install-deps.sh).
#include <cstdio>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using lienthong::config::v1::GatewayConfig;
using ::testing::HasSubstr;

constexpr char kPopulation[] = "lienthong.v1.PopulationService";
constexpr char kIdentity[] = "lienthong.v1.IdentityService";
constexpr char kAudit[] = "lienthong.v1.AuditService";

// The status Health/Check answers for `service`, or UNKNOWN when the call
// fails (its code in `*code`).
HealthCheckResponse::ServingStatus Check(GatewayEnv& env,
                                         const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(env.Channel("dossier-system"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  return status.ok() ? response.status() : HealthCheckResponse::UNKNOWN;
}

// Polls Check until it answers `want` (the status follows readiness within
// the reporter's interval); returns the last answer.
HealthCheckResponse::ServingStatus WaitFor(
    GatewayEnv& env, const std::string& service,
    HealthCheckResponse::ServingStatus want) {
  HealthCheckResponse::ServingStatus got = HealthCheckResponse::UNKNOWN;
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (absl::Now() < give_up) {
    got = Check(env, service);
    if (got == want) break;
    absl::SleepFor(absl::Milliseconds(50));  // polling a status
  }
  return got;
}

grpc::Status Lookup(GatewayEnv& env) {
  auto stub = lienthong::v1::PopulationService::NewStub(
      env.Channel("dossier-system"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id("033085012345");
  request.set_purpose("1.001193");
  *request.mutable_officer() = TestOfficer();
  request.mutable_fields()->add_paths("name");
  lienthong::v1::Citizen citizen;
  return stub->LookupCitizen(&context, request, &citizen);
}

TEST(HealthTest, ServiceStatusFollowsThePopulationDatabase) {
  EnvOptions options;
  options.customize = [](GatewayConfig& config) {
    for (auto& adapter : *config.mutable_adapters()) {
      if (adapter.name() != "population") continue;
      adapter.mutable_breaker()->set_consecutive_failures(3);
      // The checks made while it is open (each on a new TLS channel) must
      // fit in the open period, also on a loaded CI machine.
      adapter.mutable_breaker()->set_open_seconds(10);
      adapter.mutable_breaker()->set_half_open_probes(1);
    }
    for (auto& route : *config.mutable_routes()) {
      route.mutable_retry()->set_max_attempts(1);
    }
  };
  auto env = GatewayEnv::Start(options);
  ASSERT_TRUE(env.ok()) << env.status();
  for (const char* service : {"", kPopulation, kIdentity, kAudit}) {
    EXPECT_EQ(Check(**env, service), HealthCheckResponse::SERVING) << service;
  }

  sim::Knobs down;
  down.down = true;
  ASSERT_TRUE((*env)->sim().SetKnobs(sim::System::kPopulation, down).ok());
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Lookup(**env).ok());
  EXPECT_EQ(WaitFor(**env, kPopulation, HealthCheckResponse::NOT_SERVING),
            HealthCheckResponse::NOT_SERVING);
  // One source: /readyz's reason is the same.
  EXPECT_THAT((*env)->gateway().ServiceReady(kPopulation).message(),
              HasSubstr("population"));
  EXPECT_EQ(Check(**env, ""), HealthCheckResponse::NOT_SERVING);
  // The audit store is fine: the audit service still serves.
  EXPECT_EQ(Check(**env, kAudit), HealthCheckResponse::SERVING);

  ASSERT_TRUE((*env)->sim().SetKnobs(sim::System::kPopulation, {}).ok());
  // After the open period a probe closes the breaker again.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up && !Lookup(**env).ok()) {
    absl::SleepFor(absl::Milliseconds(100));  // waiting out the open period
  }
  EXPECT_EQ(WaitFor(**env, kPopulation, HealthCheckResponse::SERVING),
            HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(**env, ""), HealthCheckResponse::SERVING);
}

// `buf`, as installed by scripts/install-deps.sh, or "".
std::string FindBuf() {
  const std::string local =
      SourcePath("tests/interop/node_modules/.bin/buf");
  if (FILE* f = std::fopen(local.c_str(), "r")) {
    std::fclose(f);
    return local;
  }
  return "";
}

TEST(HealthTest, ReflectionDescribesEveryServiceToBufCurl) {
  const std::string buf = FindBuf();
  if (buf.empty()) {
    GTEST_SKIP() << "buf is not installed (scripts/install-deps.sh runs npm ci "
                    "in tests/interop for @bufbuild/buf): no reflection check";
  }
  auto env = GatewayEnv::Start({});
  ASSERT_TRUE(env.ok()) << env.status();
  const std::string command = absl::StrCat(
      "timeout 60 ", buf, " curl --protocol grpc --list-methods",
      " --cacert ", TestCert("ca.pem"), " --cert ",
      TestCert("dossier-system.pem"), " --key ", TestCert("dossier-system.key"),
      " https://127.0.0.1:", (*env)->port(), " 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof(chunk), pipe)) {
    output.append(chunk, n);
  }
  const int status = ::pclose(pipe);
  ASSERT_EQ(status, 0) << command << "\n" << output;
  std::set<std::string> methods;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    methods.insert(std::string(line));
  }
  for (const char* method :
       {"grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch",
        "lienthong.v1.PopulationService/LookupCitizen",
        "lienthong.v1.IdentityService/VerifyIdentity",
        "lienthong.v1.AuditService/QueryAudit"}) {
    EXPECT_TRUE(methods.count(method)) << method << " not in:\n" << output;
  }
}

}  // namespace
}  // namespace lienthong::testing
