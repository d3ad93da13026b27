// Access policy and audit, end to end: every decision, allowed or denied, has
// its audit record; the chain verifies; an unwritable audit store stops
// calls before they reach a national system.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/journal.h"
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

// One channel per client, as a real client keeps: the gateway limits how
// fast one client opens connections.
std::shared_ptr<grpc::Channel> ChannelOf(GatewayEnv& env,
                                         const std::string& client) {
  static std::map<std::pair<int, std::string>, std::shared_ptr<grpc::Channel>>
      channels;
  auto& channel = channels[{env.port(), client}];
  if (channel == nullptr) channel = env.Channel(client);
  return channel;
}

grpc::StatusCode Call(GatewayEnv& env, const std::string& client,
                      const std::string& method, const std::string& purpose,
                      const std::string& field) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (method == kVerify) {
    auto stub = lienthong::v1::IdentityService::NewStub(ChannelOf(env, client));
    lienthong::v1::VerifyIdentityRequest request;
    request.set_citizen_id(kId);
    request.set_full_name("Lê Văn Tám");
    request.set_purpose(purpose);
    *request.mutable_officer() = TestOfficer();
    lienthong::v1::VerifyIdentityResponse response;
    return stub->VerifyIdentity(&context, request, &response).error_code();
  }
  auto stub =
      lienthong::v1::PopulationService::NewStub(ChannelOf(env, client));
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
    auto page = audit::QueryAudit(log->index(), request, log->citizen_key());
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->empty()) break;
    for (const auto& r : *page) {
      // The log's own records (LOG_OPENED) are not calls.
      if (r.kind() == lienthong::v1::AuditRecord::CALL) all.push_back(r);
    }
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
  EnvOptions options;
  // A record per call, refusals too (they are coalesced by default: see
  // the test below).
  options.customize = [](lienthong::config::v1::GatewayConfig& config) {
    config.mutable_audit()->set_coalesce_refusals(false);
  };
  auto env = GatewayEnv::Start(options);
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
    EXPECT_EQ(r.citizen_masked(), "033*******45");
    // The officer each call was made for: hashed and masked, both services.
    EXPECT_EQ(r.officer_masked(), "001*******21") << i;
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
  auto report = (*env)->gateway().audit_log()->Verify();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->intact()) << report->detail();
}

// The records of the journal in `journal_dir`.
std::vector<lienthong::v1::AuditRecord> JournalRecords(
    const std::string& journal_dir) {
  std::vector<lienthong::v1::AuditRecord> out;
  EXPECT_TRUE(audit::ReadJournal(journal_dir, {}, {},
                                 [&](const audit::JournalPosition&,
                                     const audit::Frame& frame) {
                                   if (frame.type == audit::FrameType::kRecord) {
                                     out.emplace_back().ParseFromArray(
                                         frame.payload.data(),
                                         static_cast<int>(frame.payload.size()));
                                   }
                                   return true;
                                 })
                  .ok());
  return out;
}

std::string JournalDirOf(const std::string& audit_file) {
  return std::filesystem::path(audit_file).parent_path() / "audit-journal";
}

TEST(AuditTest, RefusalsFromOneCallerAreCoalescedAllowedCallsAreNot) {
  auto env = GatewayEnv::Start({});
  ASSERT_TRUE(env.ok()) << env.status();
  const std::string journal = JournalDirOf((*env)->audit_file());
  constexpr int kRefused = 40;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kRefused; ++i) {
    ASSERT_EQ(Call(**env, "no-rights", kLookup, "1.001193", "name"),
              grpc::PERMISSION_DENIED);
  }
  const absl::Duration took = absl::Now() - start;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Call(**env, "dossier-system", kLookup, "1.001193", "name"),
              grpc::OK);
  }
  env->reset();  // a clean stop writes the open windows' counts
  uint64_t calls = 0, records = 0, allowed = 0;
  for (const auto& r : JournalRecords(journal)) {
    if (r.caller() == ClientId("no-rights")) {
      ++records;
      calls += r.kind() == lienthong::v1::AuditRecord::REFUSALS_COALESCED
                   ? r.count()
                   : 1;
      EXPECT_EQ(r.outcome(), "PERMISSION_DENIED");
    } else if (r.outcome() == "OK") {
      ++allowed;
    }
  }
  EXPECT_EQ(calls, static_cast<uint64_t>(kRefused));  // every one counted
  // At most two records (the first in full, then the count) per second.
  EXPECT_LE(records, 2 * (absl::ToInt64Seconds(took) + 1));
  EXPECT_LT(records, static_cast<uint64_t>(kRefused));
  EXPECT_EQ(allowed, 5u);
}

TEST(AuditTest, ANotReadyAuditLogStopsCallsBeforeTheNationalSystem) {
  // Removed when the program ends, after every gateway on it has stopped:
  // removing it under a running one races with the files its threads make.
  const std::string dir = NewTestDir("lienthong-notready");
  EnvOptions options;
  options.customize = [&](lienthong::config::v1::GatewayConfig& config) {
    config.mutable_audit()->set_store_file(dir + "/audit.db");
  };
  {
    auto env = GatewayEnv::Start(options);
    ASSERT_TRUE(env.ok()) << env.status();
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(Call(**env, "dossier-system", kLookup, "1.001193", "name"),
                grpc::OK);
    }
  }
  // Someone edits a record in the journal while the gateway is stopped (a
  // byte of its frame; the frames after it are whole).
  auto segments = audit::ListSegments(dir + "/audit-journal");
  ASSERT_TRUE(segments.ok());
  std::string bytes = ReadFileOrEmpty(segments->front().path);
  const size_t at = bytes.find(ClientId("dossier-system"), 2000);
  ASSERT_NE(at, std::string::npos);
  {
    std::fstream file(segments->front().path,
                      std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(at));
    file.put('X');
  }

  auto env = GatewayEnv::Start(options);
  ASSERT_TRUE(env.ok()) << env.status();
  // The gateway starts, not ready, saying why and what to do ...
  const absl::Status ready = (*env)->gateway().Ready();
  EXPECT_EQ(ready.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(ready.message(), HasSubstr("audit log not ready"));
  EXPECT_THAT(ready.message(), HasSubstr("lienthong audit new-epoch"));
  // ... and refuses audited calls before any reaches the national system.
  const int64_t before =
      (*env)->sim().Stats().of(sim::System::kPopulation).received;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stub = lienthong::v1::PopulationService::NewStub(
      (*env)->Channel("dossier-system"));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id(kId);
  request.set_purpose("1.001193");
  lienthong::v1::Citizen citizen;
  grpc::Status status = stub->LookupCitizen(&context, request, &citizen);
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("not ready"));
  EXPECT_EQ((*env)->sim().Stats().of(sim::System::kPopulation).received,
            before);
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

  // The auditor's own calls are in the log: the search for the citizen is
  // found by the citizen, with who searched.
  grpc::ClientContext again;
  again.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  reader = stub->QueryAudit(&again, query);
  found.clear();
  while (reader->Read(&record)) found.push_back(record);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[2].method(), "lienthong.v1.AuditService/QueryAudit");
  EXPECT_EQ(found[2].caller(), ClientId("auditor"));
  EXPECT_EQ(found[2].records_returned(), 2u);
  EXPECT_FALSE(found[2].caller_cert_sha256().empty());

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
