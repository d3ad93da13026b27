// No plaintext citizen ID, the citizen's or the officer's, anywhere a run
// leaves traces: the gateway's log, its audit journal, index and anchors,
// its /metrics, and the error messages callers receive.
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"  // NewTestDir
#include "tests/integration/gateway_process.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

TEST(PrivacyTest, NoPlaintextCitizenIdInLogsStoreMetricsOrErrors) {
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();
  const std::string dir = NewTestDir("privacy");
  std::string log = absl::StrCat(dir, "/privacy.log");
  std::string yaml = GatewayYaml(sim->port);
  size_t at = yaml.find("store_file: ");
  ASSERT_NE(at, std::string::npos);
  std::string audit_file =
      yaml.substr(at + 12, yaml.find('\n', at) - at - 12);
  auto gateway = StartGatewayProcess(absl::StrCat(dir, "/privacy.yaml"), yaml, log);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  ASSERT_GT(gateway->admin_port, 0);

  // Found, not found, malformed (bad province), denied field, old ID card.
  const std::vector<std::string> kIds = {"033085012345", "033085012021",
                                         "999085012345", "034190077777",
                                         "145123456"};
  auto stub = lienthong::v1::PopulationService::NewStub(
      ClientChannel(gateway->port, "dossier-system"));
  std::vector<std::string> messages;
  for (const std::string& id : kIds) {
    for (const char* field : {"name", "spouse"}) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      lienthong::v1::LookupCitizenRequest request;
      request.set_citizen_id(id);
      request.set_purpose("1.001193");
      request.mutable_fields()->add_paths(field);
      *request.mutable_officer() = TestOfficer();
      lienthong::v1::Citizen citizen;
      messages.push_back(stub->LookupCitizen(&context, request, &citizen)
                             .error_message());
    }
    // Refused calls with the ID where a dossier or a purpose belongs: their
    // audit records keep neither in clear.
    for (int misplaced = 0; misplaced < 2; ++misplaced) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      lienthong::v1::LookupCitizenRequest request;
      request.set_citizen_id(id);
      request.set_purpose(misplaced == 1 ? id : "1.001193");
      if (misplaced == 0) request.set_dossier_id(id);
      request.mutable_fields()->add_paths("name");
      *request.mutable_officer() = TestOfficer();
      lienthong::v1::Citizen citizen;
      grpc::Status refused = stub->LookupCitizen(&context, request, &citizen);
      EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      messages.push_back(refused.error_message());
    }
  }
  std::string metrics =
      HttpGet(absl::StrCat("http://127.0.0.1:", gateway->admin_port, "/metrics"));
  ASSERT_TRUE(absl::StrContains(metrics, "lienthong_calls_total"));
  gateway->process.Stop(SIGTERM);  // flushes the log and closes the store

  std::string log_text = ReadFileOrEmpty(log);
  ASSERT_TRUE(absl::StrContains(log_text, "\"msg\":\"access\""));
  // The index (database and write-ahead log), the journal and the anchors.
  const std::string audit_dir =
      audit_file.substr(0, audit_file.rfind('/'));
  std::string store = ReadFileOrEmpty(audit_file) +
                      ReadFileOrEmpty(audit_file + "-wal") +
                      ReadFileOrEmpty(audit_dir + "/audit-anchors.jsonl");
  for (const auto& entry :
       std::filesystem::directory_iterator(audit_dir + "/audit-journal")) {
    store += ReadFileOrEmpty(entry.path().string());
  }
  ASSERT_GT(store.size(), 4096u);
  for (const std::string& id : kIds) {
    EXPECT_FALSE(absl::StrContains(log_text, id)) << "log holds " << id;
    EXPECT_FALSE(absl::StrContains(store, id)) << "audit store holds " << id;
    EXPECT_FALSE(absl::StrContains(metrics, id)) << "metrics hold " << id;
    for (const std::string& message : messages) {
      EXPECT_FALSE(absl::StrContains(message, id)) << message;
    }
  }
  // The masked form is what the log shows.
  EXPECT_TRUE(absl::StrContains(log_text, "033*******45"));
  // The officer too: masked in the log, hashed (with the account) in the
  // journal.
  const lienthong::v1::Officer officer = TestOfficer();
  for (const std::string& secret : {officer.citizen_id(), officer.account()}) {
    EXPECT_FALSE(absl::StrContains(log_text, secret)) << "log holds " << secret;
    EXPECT_FALSE(absl::StrContains(store, secret))
        << "audit store holds " << secret;
    EXPECT_FALSE(absl::StrContains(metrics, secret));
  }
  EXPECT_TRUE(absl::StrContains(log_text, "\"officer\":\"001*******21\""));
  EXPECT_TRUE(absl::StrContains(store, "001*******21"));
}

}  // namespace
}  // namespace lienthong::testing
