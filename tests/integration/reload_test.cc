// Live configuration: SIGHUP swaps routes, clients and grants atomically; a
// broken config is refused, logged, and the running one stays.
#include <csignal>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_process.h"

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
  lienthong::v1::Citizen citizen;
  return stub->LookupCitizen(&context, request, &citizen).error_code();
}

TEST(ReloadTest, SighupAppliesAGoodConfigAndRefusesABrokenOne) {
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();
  std::string config = absl::StrCat(::testing::TempDir(), "/reload.yaml");
  std::string log = absl::StrCat(::testing::TempDir(), "/reload.log");
  std::remove(log.c_str());
  auto gateway = StartGatewayProcess(config, GatewayYaml(sim->port), log);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);

  // A broken config (unknown key): refused, logged, the running one stays.
  std::ofstream(config) << GatewayYaml(sim->port) << "bogus_key: 1\n";
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(WaitForFileLine(log, "config reload refused", absl::Seconds(10)));
  EXPECT_TRUE(WaitForFileLine(log, "unknown key 'bogus_key'", absl::Seconds(1)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::OK);

  // A good config that withdraws the client's right: applied at once.
  std::ofstream(config) << GatewayYaml(
      sim->port,
      "clients:\n  - id: spiffe://lienthong.local/dossier-system\n"
      "    methods: []\n");
  kill(gateway->process.pid(), SIGHUP);
  ASSERT_TRUE(WaitForFileLine(log, "config reloaded", absl::Seconds(10)));
  EXPECT_EQ(LookupCode(gateway->port), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace lienthong::testing
