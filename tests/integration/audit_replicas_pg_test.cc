// Two gateway processes on one PostgreSQL with audit.index_store: postgres,
// over real mutual TLS in front of one lienthong-sim: QueryAudit on replica
// A returns the records replica B wrote (filtered by citizen, so that the
// answer is not everything), paged across the two nodes with page_token and
// page_token_node, and VerifyAudit on each replica verifies its own
// journal's chain. With PostgreSQL stopped, /readyz says why, the
// AuditService's health is NOT_SERVING (the PopulationService's SERVING)
// and QueryAudit fails UNAVAILABLE while audited calls go on, and a replica
// started then starts (not ready, saying why) and audits calls; the calls
// made then are found once it is back. Each replica keeps its own journal; they
// share the audit keys (the citizen HMAC must be the same for a citizen filter
// to find both nodes' records).
//
// Skipped (GTEST_SKIP) only when PostgreSQL 15's initdb is not installed.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gateway/audit/record.h"
#include "gateway/audit/signing.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "lienthong/v1/audit.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"  // NewTestDir
#include "tests/integration/gateway_process.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

constexpr char kLookup[] = "lienthong.v1.PopulationService/LookupCitizen";
constexpr char kCitizen[] = "033085012345";
constexpr char kOtherCitizen[] = "001090000001";

constexpr char kClients[] = R"(clients:
  - id: spiffe://lienthong.local/dossier-system
    methods: [lienthong.v1.PopulationService/LookupCitizen]
    grants:
      - purposes: ["*"]
        fields: [name, birth_date]
  - id: spiffe://lienthong.local/auditor
    roles: [auditor]
    methods:
      - lienthong.v1.AuditService/QueryAudit
      - lienthong.v1.AuditService/VerifyAudit
)";

// GatewayYaml (the population route to the simulator) named `node`, with
// the audit index on PostgreSQL, the shared keys in `dir`, and the one
// top-level postgres block.
std::string ReplicaYaml(const std::string& node, int sim_port,
                        const std::string& dir) {
  std::string yaml = absl::StrReplaceAll(
      GatewayYaml(sim_port, kClients),
      {{"node_name: process-test", absl::StrCat("node_name: ", node)},
       {"  segment_mib: 4\n",
        absl::StrCat("  segment_mib: 4\n"
                     "  min_free_mib: 1\n"
                     "  index_store: postgres\n"
                     "  index_interval_ms: 200\n"
                     "  signing_key_file: ", dir, "/signing.pem\n"
                     "  hmac_key_file: ", dir, "/hmac.key\n"
                     "  digest_key_file: ", dir, "/digest.key\n")},
       {"  level: info\n", "  level: warning\n"}});
  return absl::StrCat(yaml, "postgres:\n  pool_size: 2\n");
}

grpc::StatusCode Lookup(int port, const std::string& citizen,
                        const std::string& dossier) {
  auto stub = lienthong::v1::PopulationService::NewStub(
      ClientChannel(port, "dossier-system"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id(citizen);
  request.set_purpose("1.001193");
  request.set_dossier_id(dossier);
  request.mutable_fields()->add_paths("name");
  *request.mutable_officer() = TestOfficer();
  lienthong::v1::Citizen answer;
  return stub->LookupCitizen(&context, request, &answer).error_code();
}

// One page of QueryAudit on the gateway at `port`.
std::vector<lienthong::v1::AuditRecord> Query(
    int port, const lienthong::v1::QueryAuditRequest& request,
    grpc::Status* status) {
  auto stub =
      lienthong::v1::AuditService::NewStub(ClientChannel(port, "auditor"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto reader = stub->QueryAudit(&context, request);
  std::vector<lienthong::v1::AuditRecord> page;
  lienthong::v1::AuditRecord record;
  while (reader->Read(&record)) page.push_back(record);
  *status = reader->Finish();
  return page;
}

TEST(AuditReplicasOnPostgresTest, QueryOnOneReplicaReturnsTheOthersRecords) {
  if (!PgServer::Installed()) {
    GTEST_SKIP() << "PostgreSQL 15 is not installed (no " << kPgBinDir
                 << "/initdb); apt-get install postgresql-15";
  }
  auto pg = PgServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  const std::string dir = NewTestDir("audit-replicas-pg");
  // The keys every replica shares.
  ASSERT_TRUE(audit::GenerateSigningKeyFile(dir + "/signing.pem").ok());
  ASSERT_TRUE(audit::GenerateHmacKeyFile(dir + "/hmac.key").ok());
  ASSERT_TRUE(audit::GenerateHmacKeyFile(dir + "/digest.key").ok());
  ::setenv("LIENTHONG_PG_DSN", (*pg)->dsn().c_str(), 1);
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();

  // --migrate brings the audit index's schema (no outbox in this config).
  const absl::Status migrated = RunMigrate(
      dir + "/migrate.yaml", ReplicaYaml("replica-a", sim->port, dir),
      dir + "/migrate.log", "audit_index schema on PostgreSQL at version");
  ASSERT_TRUE(migrated.ok()) << migrated;

  std::map<std::string, RunningProcess> replicas;
  for (const std::string node : {"replica-a", "replica-b"}) {
    auto started =
        StartGatewayProcess(absl::StrCat(dir, "/", node, ".yaml"),
                            ReplicaYaml(node, sim->port, dir),
                            absl::StrCat(dir, "/", node, ".log"));
    ASSERT_TRUE(started.ok()) << node << ": " << started.status();
    replicas.emplace(node, *std::move(started));
  }
  const int a = replicas.at("replica-a").port;
  const int b = replicas.at("replica-b").port;

  // Lookups through each replica: the citizen once on A, twice on B; another
  // citizen on both.
  ASSERT_EQ(Lookup(a, kCitizen, "000.00.01.H31-251204-00001"), grpc::OK);
  ASSERT_EQ(Lookup(b, kCitizen, "000.00.01.H31-251204-00002"), grpc::OK);
  ASSERT_EQ(Lookup(b, kCitizen, "000.00.01.H31-251204-00003"), grpc::OK);
  Lookup(a, kOtherCitizen, "000.00.01.H31-251204-00004");
  Lookup(b, kOtherCitizen, "000.00.01.H31-251204-00005");

  lienthong::v1::QueryAuditRequest request;
  request.set_citizen_id(kCitizen);
  request.set_method(kLookup);
  grpc::Status status;
  // A query catches up only its own replica's indexer: one on A, then one
  // on B, so that neither answer below depends on the other replica's index
  // interval (within it, another replica's newest records may be missing).
  Query(a, request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<lienthong::v1::AuditRecord> on_b = Query(b, request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<lienthong::v1::AuditRecord> on_a = Query(a, request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::map<std::string, std::vector<std::string>> dossiers_by_node;
  for (const auto& r : on_a) {
    EXPECT_EQ(r.method(), kLookup);
    EXPECT_EQ(r.caller(), "spiffe://lienthong.local/dossier-system");
    dossiers_by_node[r.node()].push_back(r.dossier_id());
  }
  EXPECT_EQ(dossiers_by_node["replica-a"],
            std::vector<std::string>{"000.00.01.H31-251204-00001"});
  EXPECT_EQ(dossiers_by_node["replica-b"],
            (std::vector<std::string>{"000.00.01.H31-251204-00002",
                                      "000.00.01.H31-251204-00003"}));
  EXPECT_EQ(on_a.size(), 3u);
  EXPECT_EQ(on_b.size(), on_a.size()) << "B's answer is the same set";

  // Paged one record at a time with page_token and page_token_node.
  std::vector<lienthong::v1::AuditRecord> paged;
  request.set_page_size(1);
  for (int pages = 0; pages < 10; ++pages) {
    auto page = Query(a, request, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (page.empty()) break;
    ASSERT_EQ(page.size(), 1u);
    paged.push_back(page[0]);
    request.set_page_token(page[0].sequence());
    request.set_page_token_node(page[0].node());
  }
  ASSERT_EQ(paged.size(), on_a.size());
  for (size_t i = 0; i < paged.size(); ++i) {
    EXPECT_EQ(paged[i].node(), on_a[i].node());
    EXPECT_EQ(paged[i].sequence(), on_a[i].sequence());
  }

  // Each replica verifies its own journal's chain.
  for (const auto& [node, process] : replicas) {
    auto stub = lienthong::v1::AuditService::NewStub(
        ClientChannel(process.port, "auditor"));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    lienthong::v1::VerifyAuditResponse report;
    ASSERT_TRUE(stub->VerifyAudit(&context, {}, &report).ok()) << node;
    EXPECT_TRUE(report.intact()) << node << ": " << report.detail();
    EXPECT_GE(report.last_sequence(), 3u) << node;
  }

  // PostgreSQL away: /readyz names the audit index, QueryAudit fails
  // UNAVAILABLE, audited calls go on (the journal is local); back, the lookup
  // made meanwhile is found from the other replica.
  ASSERT_TRUE((*pg)->Stop().ok());
  std::string readyz;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!absl::StrContains(readyz, "not ready: audit index unavailable") &&
         absl::Now() < give_up) {
    readyz = HttpGet(absl::StrCat("http://127.0.0.1:",
                                  replicas.at("replica-a").admin_port,
                                  "/readyz"));
  }
  EXPECT_TRUE(absl::StrContains(readyz, "not ready: audit index unavailable"))
      << readyz;
  EXPECT_FALSE(absl::StrContains(readyz, (*pg)->password()));
  using ::grpc::health::v1::HealthCheckResponse;
  EXPECT_EQ(HealthOnceIs(a, "auditor", "lienthong.v1.AuditService",
                         HealthCheckResponse::NOT_SERVING),
            HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(HealthOnceIs(a, "dossier-system", "lienthong.v1.PopulationService",
                         HealthCheckResponse::SERVING),
            HealthCheckResponse::SERVING);
  request.clear_page_size();
  request.clear_page_token();
  request.clear_page_token_node();
  Query(a, request, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_FALSE(absl::StrContains(status.error_message(), (*pg)->password()));
  EXPECT_EQ(Lookup(b, kCitizen, "000.00.01.H31-251204-00006"), grpc::OK);
  // A replica started now starts (not ready, saying why) and audits calls.
  auto late = StartGatewayProcess(dir + "/replica-c.yaml",
                                  ReplicaYaml("replica-c", sim->port, dir),
                                  dir + "/replica-c.log");
  std::string late_readyz;
  grpc::StatusCode late_lookup = grpc::StatusCode::UNKNOWN;
  if (late.ok()) {
    late_readyz = HttpGet(
        absl::StrCat("http://127.0.0.1:", late->admin_port, "/readyz"));
    late_lookup = Lookup(late->port, kCitizen, "000.00.01.H31-251204-00007");
  }
  ASSERT_TRUE((*pg)->Resume().ok());
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_TRUE(
      absl::StrContains(late_readyz, "not ready: audit index unavailable"))
      << late_readyz;
  EXPECT_EQ(late_lookup, grpc::OK);
  // B's query indexes what B made durable while the database was away (the
  // pool reconnects with backoff, so the first tries may still fail).
  std::vector<lienthong::v1::AuditRecord> after;
  for (int tries = 0; tries < 100; ++tries) {
    grpc::Status on_b_status;
    grpc::Status on_c_status;
    Query(b, request, &on_b_status);
    Query(late->port, request, &on_c_status);
    if (on_b_status.ok() && on_c_status.ok()) {
      after = Query(a, request, &status);
      if (status.ok() && after.size() == on_a.size() + 2) break;
    }
    absl::SleepFor(absl::Milliseconds(100));  // the pool's backoff
  }
  ASSERT_EQ(after.size(), on_a.size() + 2) << status.error_message();
  std::map<std::string, std::string> new_dossiers;
  for (const auto& r : after) new_dossiers[r.dossier_id()] = r.node();
  EXPECT_EQ(new_dossiers["000.00.01.H31-251204-00006"], "replica-b");
  EXPECT_EQ(new_dossiers["000.00.01.H31-251204-00007"], "replica-c");
  late->process.Stop(SIGTERM);

  for (auto& [node, process] : replicas) process.process.Stop(SIGTERM);
}

}  // namespace
}  // namespace lienthong::testing
