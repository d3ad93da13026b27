// Access policy and audit, end to end: every decision, allowed or denied, has
// its audit record; the chain verifies; an unwritable audit store stops
// calls before they reach a national system.
#include <sqlite3.h>

#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/v1/audit.grpc.pb.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kVerify[] = "lienthong.v1.IdentityService/VerifyIdentity";
constexpr char kLookup[] = "lienthong.v1.PopulationService/LookupCitizen";
constexpr char kId[] = "033085012345";

grpc::StatusCode Call(GatewayEnv& env, const std::string& client,
                      const std::string& method, const std::string& purpose,
                      const std::string& field) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (method == kVerify) {
    auto stub = lienthong::v1::IdentityService::NewStub(env.Channel(client));
    lienthong::v1::VerifyIdentityRequest request;
    request.set_citizen_id(kId);
    request.set_full_name("Lê Văn Tám");
    request.set_purpose(purpose);
    *request.mutable_officer() = TestOfficer();
    lienthong::v1::VerifyIdentityResponse response;
    return stub->VerifyIdentity(&context, request, &response).error_code();
  }
  auto stub = lienthong::v1::PopulationService::NewStub(env.Channel(client));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id(kId);
  request.set_purpose(purpose);
  request.set_dossier_id("000.00.01.H31-251127-00042");
  request.mutable_fields()->add_paths(field);
  *request.mutable_officer() = TestOfficer();
  lienthong::v1::Citizen citizen;
  return stub->LookupCitizen(&context, request, &citizen).error_code();
}

std::vector<lienthong::v1::AuditRecord> AllRecords(GatewayEnv& env) {
  audit::AuditLog* log = env.gateway().audit_log();
  std::vector<lienthong::v1::AuditRecord> all;
  lienthong::v1::QueryAuditRequest request;
  request.set_page_size(1000);
  for (;;) {
    auto page = audit::QueryAudit(log->store(), request, log->citizen_key());
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->empty()) break;
    all.insert(all.end(), page->begin(), page->end());
    request.set_page_token(page->back().sequence());
  }
  return all;
}

// The grants GatewayEnv::SimConfig gives: the dossier system may verify and
// look up, with these fields per purpose; the citizen portal may only
// verify; "no-rights" may do nothing.
bool Granted(const std::string& client, const std::string& method,
             const std::string& purpose, const std::string& field) {
  static const std::set<std::string> kBirth = {"citizen_id",
                                               "name",
                                               "birth_date",
                                               "gender",
                                               "ethnicity",
                                               "ethnicity_code",
                                               "ethnicity_name",
                                               "nationality",
                                               "birth_registration_place",
                                               "hometown",
                                               "permanent_address",
                                               "father",
                                               "mother",
                                               "household_head",
                                               "household_relation",
                                               "household_relation_code",
                                               "data_as_of"};
  static const std::set<std::string> kAny = {"name", "birth_date", "gender"};
  if (client == "dossier-system") {
    if (method == kVerify) return true;
    return kAny.count(field) > 0 ||
           (purpose == "1.001193" && kBirth.count(field) > 0);
  }
  if (client == "citizen-portal") return method == kVerify;
  return false;
}

TEST(AuditTest, EveryDecisionOfTheMatrixIsEnforcedAndAudited) {
  auto env = GatewayEnv::Start({});
  ASSERT_TRUE(env.ok()) << env.status();
  std::vector<std::string> fields;
  const auto* citizen = lienthong::v1::Citizen::descriptor();
  for (int i = 0; i < citizen->field_count(); ++i) {
    fields.push_back(citizen->field(i)->name());
  }
  struct Expected {
    std::string client, method;
    grpc::StatusCode code;
  };
  std::vector<Expected> calls;
  for (const char* client : {"dossier-system", "citizen-portal", "no-rights"}) {
    for (const char* purpose : {"1.001193", "2.000001"}) {
      calls.push_back({client, kVerify,
                       Call(**env, client, kVerify, purpose, "")});
      EXPECT_EQ(calls.back().code == grpc::OK,
                Granted(client, kVerify, purpose, ""))
          << client << " " << purpose;
      for (const std::string& field : fields) {
        grpc::StatusCode code = Call(**env, client, kLookup, purpose, field);
        calls.push_back({client, kLookup, code});
        bool granted = Granted(client, kLookup, purpose, field);
        EXPECT_EQ(code, granted ? grpc::OK : grpc::PERMISSION_DENIED)
            << client << " " << purpose << " " << field;
      }
    }
  }
  auto records = AllRecords(**env);
  ASSERT_EQ(records.size(), calls.size());
  // Records are in call order (each answer waited for its record).
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& r = records[i];
    EXPECT_EQ(r.caller(), ClientId(calls[i].client)) << i;
    EXPECT_EQ(r.method(), calls[i].method) << i;
    EXPECT_EQ(r.outcome(), absl::StatusCodeToString(
                               static_cast<absl::StatusCode>(calls[i].code)))
        << i;
    EXPECT_EQ(r.citizen_masked(), "033******345");
    // The officer each call was made for: hashed and masked, both services.
    EXPECT_EQ(r.officer_masked(), "001******321") << i;
    EXPECT_EQ(r.officer_hmac(),
              (*env)->gateway().audit_log()->citizen_key().Hmac(
                  TestOfficer().citizen_id()))
        << i;
    EXPECT_EQ(r.officer_unit_code(), TestOfficer().unit_code()) << i;
    EXPECT_EQ(r.officer_account_hmac(),
              (*env)->gateway().audit_log()->citizen_key().Hmac(
                  TestOfficer().account()))
        << i;
    EXPECT_FALSE(r.citizen_hmac().empty());
    EXPECT_EQ(r.citizen_hmac().find(kId), std::string::npos);
    EXPECT_FALSE(r.caller_cert_sha256().empty());
  }
  auto report = audit::VerifyStore((*env)->gateway().audit_log()->store(),
                                   (*env)->gateway().audit_log()->public_key());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->intact()) << report->detail();
}

TEST(AuditTest, AnUnwritableAuditStoreStopsCallsBeforeTheNationalSystem) {
  auto env = GatewayEnv::Start({});
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_EQ(Call(**env, "dossier-system", kLookup, "1.001193", "name"), grpc::OK);

  // Another process holds the database's write lock: the store cannot be
  // written.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((*env)->audit_file().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  // The first refused call finds out (its record cannot be written, so even
  // the refusal is withheld) ...
  EXPECT_EQ(Call(**env, "no-rights", kLookup, "1.001193", "name"),
            grpc::UNAVAILABLE);
  EXPECT_THAT((*env)->gateway().Ready().message(), HasSubstr("audit store"));
  // ... and from then on lookups fail without reaching the national system.
  int64_t before = (*env)->sim().Stats().of(sim::System::kPopulation).received;
  EXPECT_EQ(Call(**env, "dossier-system", kLookup, "1.001193", "name"),
            grpc::UNAVAILABLE);
  EXPECT_EQ((*env)->sim().Stats().of(sim::System::kPopulation).received, before);

  // Writable again: the gateway recovers by itself.
  ASSERT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  grpc::StatusCode code = grpc::UNAVAILABLE;
  for (int i = 0; i < 3 && code != grpc::OK; ++i) {
    code = Call(**env, "dossier-system", kLookup, "1.001193", "name");
  }
  EXPECT_EQ(code, grpc::OK);
  auto report = audit::VerifyStore((*env)->gateway().audit_log()->store(),
                                   (*env)->gateway().audit_log()->public_key());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->intact()) << report->detail();
}

TEST(AuditTest, AuditorsQueryAndVerifyOverMutualTls) {
  auto env = GatewayEnv::Start({});
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_EQ(Call(**env, "dossier-system", kLookup, "1.001193", "name"), grpc::OK);
  ASSERT_EQ(Call(**env, "no-rights", kLookup, "1.001193", "name"),
            grpc::PERMISSION_DENIED);

  auto stub = lienthong::v1::AuditService::NewStub((*env)->Channel("auditor"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  lienthong::v1::QueryAuditRequest query;
  query.set_citizen_id(kId);  // hashed by the server
  auto reader = stub->QueryAudit(&context, query);
  std::vector<lienthong::v1::AuditRecord> found;
  lienthong::v1::AuditRecord record;
  while (reader->Read(&record)) found.push_back(record);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].caller(), ClientId("dossier-system"));
  EXPECT_EQ(found[1].outcome(), "PERMISSION_DENIED");

  grpc::ClientContext verify_context;
  verify_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  lienthong::v1::VerifyAuditResponse report;
  ASSERT_TRUE(stub->VerifyAudit(&verify_context, {}, &report).ok());
  EXPECT_TRUE(report.intact()) << report.detail();

  // Callers without the auditor role are refused.
  auto denied = lienthong::v1::AuditService::NewStub(
      (*env)->Channel("dossier-system"));
  grpc::ClientContext denied_context;
  denied_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  lienthong::v1::VerifyAuditResponse none;
  EXPECT_EQ(denied->VerifyAudit(&denied_context, {}, &none).error_code(),
            grpc::PERMISSION_DENIED);
}

}  // namespace
}  // namespace lienthong::testing
