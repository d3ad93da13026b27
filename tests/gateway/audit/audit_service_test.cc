// Tests of AuditServiceImpl over an in-process gRPC server on 127.0.0.1:0
// (insecure: the caller's identity comes from a test header read by a fake
// authorisation callback).
#include "gateway/audit/audit_service.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/record.h"
#include "gmock/gmock.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "lienthong/v1/audit.grpc.pb.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::v1::AuditService;
using ::lienthong::v1::QueryAuditRequest;
using ::lienthong::v1::VerifyAuditRequest;
using ::lienthong::v1::VerifyAuditResponse;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCallerHeader[] = "x-test-caller";
constexpr char kAuditor[] = "spiffe://lienthong.local/security-team";
constexpr char kClerk[] = "spiffe://lienthong.local/dossier-system";
constexpr uint64_t kRecords = 250;

const absl::Time kBase = absl::FromUnixSeconds(1752544984);  // 2025-07-15

struct QueryResult {
  grpc::Status status;
  std::vector<AuditRecord> records;
};

class AuditServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(testutil::TestOptions(dir_));
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    ASSERT_THAT(testutil::AppendMany(*log_, 1, kRecords, kBase), IsOk());
    StartServer();
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    service_.reset();
  }

  void StartServer() {
    service_ = std::make_unique<AuditServiceImpl>(
        std::make_shared<calls::CallRecorder>(
            calls::CallRecorder::Options{nullptr, log_.get(), true, "gw-test"}),
        [this](const grpc::CallbackServerContext& ctx, absl::string_view method,
               AuditServiceImpl::Caller* caller) -> absl::Status {
          absl::MutexLock lock(&mu_);
          methods_seen_.push_back(std::string(method));
          auto it = ctx.client_metadata().find(kCallerHeader);
          if (it == ctx.client_metadata().end()) {
            return absl::UnauthenticatedError("no client certificate");
          }
          caller->id = std::string(it->second.data(), it->second.size());
          caller->cert_sha256 = std::string(64, 'c');
          return absl::OkStatus();
        },
        [](absl::string_view caller, absl::string_view role) {
          return caller == kAuditor && role == kAuditorRole;
        });
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    stub_ = AuditService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void Prepare(grpc::ClientContext& context, const std::string& caller) {
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    if (!caller.empty()) context.AddMetadata(kCallerHeader, caller);
  }

  QueryResult Query(const QueryAuditRequest& request,
                    const std::string& caller = kAuditor) {
    grpc::ClientContext context;
    Prepare(context, caller);
    QueryResult result;
    auto reader = stub_->QueryAudit(&context, request);
    AuditRecord record;
    while (reader->Read(&record)) result.records.push_back(record);
    result.status = reader->Finish();
    return result;
  }

  grpc::Status Verify(VerifyAuditResponse* response,
                      const std::string& caller = kAuditor) {
    grpc::ClientContext context;
    Prepare(context, caller);
    return stub_->VerifyAudit(&context, VerifyAuditRequest(), response);
  }

  // The sequences of the samples 1..kRecords (sample i is record i + 1,
  // after the LOG_OPENED record) that satisfy `keep`.
  std::vector<uint64_t> Expected(
      const std::function<bool(uint64_t, const AuditRecord&)>& keep) {
    std::vector<uint64_t> sequences;
    for (uint64_t i = 1; i <= kRecords; ++i) {
      if (keep(i, testutil::SampleRecord(i, log_->citizen_key()))) {
        sequences.push_back(i + 1);
      }
    }
    return sequences;
  }

  static std::vector<uint64_t> Sequences(const QueryResult& result) {
    std::vector<uint64_t> sequences;
    for (const AuditRecord& r : result.records) {
      sequences.push_back(r.sequence());
    }
    return sequences;
  }

  testutil::ScratchDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<AuditServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<AuditService::Stub> stub_;
  absl::Mutex mu_;
  std::vector<std::string> methods_seen_ ABSL_GUARDED_BY(mu_);
};

TEST_F(AuditServiceTest, DefaultPageIsTheFirstHundred) {
  QueryResult result = Query(QueryAuditRequest());
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.records.size(), 100u);
  EXPECT_EQ(result.records.front().sequence(), 1u);
  EXPECT_EQ(result.records.front().kind(), AuditRecord::LOG_OPENED);
  EXPECT_EQ(result.records.back().sequence(), 100u);
  EXPECT_TRUE(RecordHashMatches(result.records[41]));
  absl::MutexLock lock(&mu_);
  EXPECT_THAT(methods_seen_, ElementsAreArray({kQueryAuditMethod}));
}

TEST_F(AuditServiceTest, PagesCoverEveryRecordOnce) {
  // The samples' method only: each query adds a record of its own.
  QueryAuditRequest request;
  request.set_method("lienthong.v1.PopulationService/LookupCitizen");
  request.set_page_size(70);
  std::vector<uint64_t> all;
  int pages = 0;
  while (true) {
    QueryResult result = Query(request);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    if (result.records.empty()) break;
    ASSERT_LE(result.records.size(), 70u);
    for (const AuditRecord& r : result.records) all.push_back(r.sequence());
    request.set_page_token(result.records.back().sequence());
    ++pages;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 2);  // 70 + 55
  EXPECT_EQ(all, Expected([](uint64_t, const AuditRecord& r) {
              return r.method() == "lienthong.v1.PopulationService/LookupCitizen";
            }));
}

struct FilterCase {
  const char* name;
  std::function<void(QueryAuditRequest&)> set;
  std::function<bool(uint64_t, const AuditRecord&)> keep;
};

TEST_F(AuditServiceTest, EachFilterReturnsExactlyTheMatchingRecords) {
  const FilterCase kCases[] = {
      {"caller",
       [](QueryAuditRequest& q) {
         q.set_caller("spiffe://lienthong.local/citizen-portal");
       },
       [](uint64_t, const AuditRecord& r) {
         return r.caller() == "spiffe://lienthong.local/citizen-portal";
       }},
      {"method",
       [](QueryAuditRequest& q) {
         q.set_method("lienthong.v1.IdentityService/VerifyIdentity");
       },
       [](uint64_t, const AuditRecord& r) {
         return r.method() == "lienthong.v1.IdentityService/VerifyIdentity";
       }},
      {"citizen",
       [](QueryAuditRequest& q) {
         q.set_citizen_id(testutil::CitizenIdFor(5));
       },
       [](uint64_t i, const AuditRecord&) { return i % 97 == 5; }},
      {"dossier",
       [](QueryAuditRequest& q) {
         q.set_dossier_id("000.00.01.H31-250715-00042");
       },
       [](uint64_t i, const AuditRecord&) { return i == 42; }},
      {"outcome",
       [](QueryAuditRequest& q) { q.set_outcome("PERMISSION_DENIED"); },
       [](uint64_t, const AuditRecord& r) {
         return r.outcome() == "PERMISSION_DENIED";
       }},
      {"time range",
       [](QueryAuditRequest& q) {
         q.mutable_start_time()->set_seconds(absl::ToUnixSeconds(kBase) + 10);
         q.mutable_end_time()->set_seconds(absl::ToUnixSeconds(kBase) + 20);
       },
       [](uint64_t i, const AuditRecord&) { return i >= 10 && i < 20; }},
      {"caller and outcome",
       [](QueryAuditRequest& q) {
         q.set_caller("spiffe://lienthong.local/district-app");
         q.set_outcome("OK");
       },
       [](uint64_t, const AuditRecord& r) {
         return r.caller() == "spiffe://lienthong.local/district-app" &&
                r.outcome() == "OK";
       }},
  };
  for (const FilterCase& c : kCases) {
    SCOPED_TRACE(c.name);
    QueryAuditRequest request;
    request.set_page_size(1000);
    c.set(request);
    QueryResult result = Query(request);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    std::vector<uint64_t> expected = Expected(c.keep);
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(Sequences(result), expected);
  }
}

TEST_F(AuditServiceTest, CitizenFilterPagesAndTheSearchLeavesATrace) {
  QueryAuditRequest request;
  request.set_citizen_id(testutil::CitizenIdFor(5));  // samples 5, 102, 199
  request.set_page_size(2);
  QueryResult first = Query(request);
  ASSERT_TRUE(first.status.ok());
  EXPECT_EQ(Sequences(first), (std::vector<uint64_t>{6, 103}));
  request.set_page_token(103);
  QueryResult second = Query(request);
  ASSERT_TRUE(second.status.ok());
  // Then the first search itself, found by the citizen it looked for.
  ASSERT_EQ(Sequences(second), (std::vector<uint64_t>{200, kRecords + 2}));
  const AuditRecord& trace = second.records[1];
  EXPECT_EQ(trace.method(), kQueryAuditMethod);
  EXPECT_EQ(trace.caller(), kAuditor);
  EXPECT_EQ(trace.caller_cert_sha256(), std::string(64, 'c'));
  EXPECT_EQ(trace.outcome(), "OK");
  EXPECT_EQ(trace.records_returned(), 2u);
  EXPECT_EQ(trace.citizen_hmac(),
            log_->citizen_key().Hmac(testutil::CitizenIdFor(5)));
  EXPECT_EQ(trace.citizen_masked(), "033*******05");
  EXPECT_THAT(trace.details(), HasSubstr("citizen=keyed-hash"));
  EXPECT_THAT(trace.details(), HasSubstr("page_size=2"));
  EXPECT_THAT(trace.details(), Not(HasSubstr(testutil::CitizenIdFor(5))));
}

// An auditor's free-text filters are kept in the search's own record only
// as their rules allow: a citizen's ID typed into the dossier or caller
// filter is not kept in clear, nor are control characters.
TEST_F(AuditServiceTest, ASearchsRecordKeepsNoIdTypedIntoAnotherFilter) {
  const std::string id = testutil::CitizenIdFor(7);
  QueryAuditRequest request;
  request.set_dossier_id(id);
  request.set_caller(absl::StrCat("spiffe://x/", id));
  request.set_outcome("OK\x1b[2J");
  ASSERT_TRUE(Query(request).status.ok());
  QueryAuditRequest traces;
  traces.set_method(kQueryAuditMethod);
  traces.set_page_size(1000);
  QueryResult found = Query(traces);
  ASSERT_TRUE(found.status.ok());
  ASSERT_FALSE(found.records.empty());
  const AuditRecord& trace = found.records.front();
  EXPECT_EQ(trace.dossier_id(), "(not valid: not kept)");
  EXPECT_THAT(trace.details(), Not(HasSubstr(id)));
  EXPECT_THAT(trace.details(), Not(HasSubstr("\x1b")));
  EXPECT_THAT(trace.details(), HasSubstr("dossier=(not valid: not kept)"));
  // A good dossier code and caller are kept as given.
  QueryAuditRequest plain;
  plain.set_dossier_id("000.00.01.H31-250715-00042");
  plain.set_caller("spiffe://lienthong.local/dossier-system");
  ASSERT_TRUE(Query(plain).status.ok());
  found = Query(traces);
  ASSERT_TRUE(found.status.ok());
  ASSERT_GE(found.records.size(), 3u);
  // The searches so far: the first, the first look at the traces, this.
  const AuditRecord& kept = found.records[2];
  EXPECT_EQ(kept.dossier_id(), "000.00.01.H31-250715-00042");
  EXPECT_THAT(kept.details(),
              HasSubstr("caller=spiffe://lienthong.local/dossier-system"));
  // Nor an ID written in groups, as people write them.
  QueryAuditRequest grouped;
  grouped.set_caller("033.085.012.345");
  ASSERT_TRUE(Query(grouped).status.ok());
  found = Query(traces);
  ASSERT_TRUE(found.status.ok());
  ASSERT_GE(found.records.size(), 5u);
  EXPECT_THAT(found.records[4].details(), Not(HasSubstr("085.012")));
  EXPECT_THAT(found.records[4].details(), HasSubstr("caller=(not valid"));
}

// A search by officer leaves a trace findable by that officer, as the
// officer's own records are: who investigated officer X can be asked.
TEST_F(AuditServiceTest, ASearchByOfficerIsFoundByThatOfficer) {
  const std::string officer = "001085004321";
  QueryAuditRequest request;
  request.set_officer_citizen_id(officer);
  ASSERT_TRUE(Query(request).status.ok());
  QueryAuditRequest traces;
  traces.set_method(kQueryAuditMethod);
  traces.set_officer_citizen_id(officer);
  QueryResult found = Query(traces);
  ASSERT_TRUE(found.status.ok());
  ASSERT_FALSE(found.records.empty());
  EXPECT_EQ(found.records.front().method(), kQueryAuditMethod);
  EXPECT_EQ(found.records.front().officer_hmac(),
            log_->citizen_key().Hmac(officer));
  EXPECT_THAT(found.records.front().details(), Not(HasSubstr(officer)));
  // So is a refused search by officer.
  const std::string other = "001085009999";
  QueryAuditRequest refused;
  refused.set_officer_citizen_id(other);
  ASSERT_EQ(Query(refused, kClerk).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  traces.set_officer_citizen_id(other);
  found = Query(traces);
  ASSERT_TRUE(found.status.ok());
  ASSERT_EQ(found.records.size(), 1u);
  EXPECT_EQ(found.records.front().outcome(), "PERMISSION_DENIED");
  EXPECT_EQ(found.records.front().officer_hmac(),
            log_->citizen_key().Hmac(other));
}

// Must show: every AuditService call, allowed or refused, is in the log and
// can be queried.
TEST_F(AuditServiceTest, AuditorCallsAllowedOrRefusedAreAuditedAndQueryable) {
  QueryAuditRequest by_dossier;
  by_dossier.set_dossier_id("000.00.01.H31-250715-00042");
  ASSERT_TRUE(Query(by_dossier).status.ok());
  VerifyAuditResponse report;
  ASSERT_TRUE(Verify(&report).ok());
  EXPECT_EQ(Query(by_dossier, kClerk).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  VerifyAuditResponse denied;
  EXPECT_EQ(Verify(&denied, /*caller=*/"").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  QueryAuditRequest queries;
  queries.set_method(kQueryAuditMethod);
  QueryResult found = Query(queries);
  ASSERT_TRUE(found.status.ok());
  ASSERT_EQ(found.records.size(), 2u);
  EXPECT_EQ(found.records[0].caller(), kAuditor);
  EXPECT_EQ(found.records[0].outcome(), "OK");
  EXPECT_EQ(found.records[0].dossier_id(), "000.00.01.H31-250715-00042");
  EXPECT_EQ(found.records[0].records_returned(), 1u);
  EXPECT_EQ(found.records[1].caller(), kClerk);
  EXPECT_EQ(found.records[1].outcome(), "PERMISSION_DENIED");
  EXPECT_EQ(found.records[1].dossier_id(), "");  // refused: not recorded as searched

  QueryAuditRequest verifications;
  verifications.set_method(kVerifyAuditMethod);
  found = Query(verifications);
  ASSERT_TRUE(found.status.ok());
  ASSERT_EQ(found.records.size(), 2u);
  EXPECT_EQ(found.records[0].outcome(), "OK");
  EXPECT_EQ(found.records[0].records_returned(), report.records_checked());
  EXPECT_THAT(found.records[0].details(), HasSubstr("intact=true"));
  EXPECT_EQ(found.records[1].caller(), "");
  EXPECT_EQ(found.records[1].outcome(), "UNAUTHENTICATED");
}

// Refused searches are each recorded with whom they looked for, however
// fast they come: other refusals are coalesced, an auditor's are not.
TEST_F(AuditServiceTest, RefusedSearchesInOneSecondEachKeepTheirCitizen) {
  for (int citizen : {5, 6, 7}) {
    QueryAuditRequest request;
    request.set_citizen_id(testutil::CitizenIdFor(citizen));
    ASSERT_EQ(Query(request, kClerk).status.error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  for (int citizen : {5, 6, 7}) {
    QueryAuditRequest traces;
    traces.set_method(kQueryAuditMethod);
    traces.set_citizen_id(testutil::CitizenIdFor(citizen));
    QueryResult found = Query(traces);
    ASSERT_TRUE(found.status.ok());
    ASSERT_EQ(found.records.size(), 1u) << citizen;
    EXPECT_EQ(found.records[0].caller(), kClerk);
    EXPECT_EQ(found.records[0].outcome(), "PERMISSION_DENIED");
  }
}

TEST_F(AuditServiceTest, BadRequestsAreInvalidArgument) {
  QueryAuditRequest too_big;
  too_big.set_page_size(1001);
  EXPECT_EQ(Query(too_big).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  QueryAuditRequest inverted;
  inverted.mutable_start_time()->set_seconds(2000);
  inverted.mutable_end_time()->set_seconds(1000);
  EXPECT_EQ(Query(inverted).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AuditServiceTest, NonAuditorIsDeniedNamingTheRole) {
  QueryAuditRequest request;
  request.set_citizen_id(testutil::CitizenIdFor(5));
  QueryResult query = Query(request, kClerk);
  EXPECT_EQ(query.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(query.status.error_message(), HasSubstr("\"auditor\""));
  // The citizen ID is never echoed.
  EXPECT_THAT(query.status.error_message(),
              Not(HasSubstr(testutil::CitizenIdFor(5))));
  EXPECT_TRUE(query.records.empty());

  VerifyAuditResponse response;
  grpc::Status verify = Verify(&response, kClerk);
  EXPECT_EQ(verify.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(verify.error_message(), HasSubstr("\"auditor\""));
}

TEST_F(AuditServiceTest, AuthorisationErrorsPassThrough) {
  EXPECT_EQ(Query(QueryAuditRequest(), /*caller=*/"").status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  VerifyAuditResponse response;
  EXPECT_EQ(Verify(&response, /*caller=*/"").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuditServiceTest, VerifyReportsAnIntactLog) {
  VerifyAuditResponse response;
  grpc::Status status = Verify(&response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.intact()) << response.detail();
  EXPECT_EQ(response.records_checked(), kRecords + 1);
  EXPECT_EQ(response.last_sequence(), kRecords + 1);
  EXPECT_TRUE(response.key_pinned());
  absl::MutexLock lock(&mu_);
  EXPECT_THAT(methods_seen_, ElementsAreArray({kVerifyAuditMethod}));
}

TEST_F(AuditServiceTest, VerifyReportsADamagedRecordInTheJournal) {
  const std::string needle =
      testutil::SampleRecord(41, log_->citizen_key()).request_sha256();
  // In place, as someone with write access would (the gateway keeps its
  // file open).
  ASSERT_EQ(
      testutil::FlipBitAfter(log_->options().journal_dir, needle, 0, 0x01), 1);

  VerifyAuditResponse response;
  grpc::Status status = Verify(&response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(response.intact());
  EXPECT_EQ(response.first_bad_sequence(), 42u);
  EXPECT_EQ(response.problem(), VerifyAuditResponse::CORRUPT);
  EXPECT_FALSE(response.detail().empty());
}

TEST_F(AuditServiceTest, ConcurrentVerificationsAllAnswer) {
  constexpr int kCalls = 3;  // within kMaxQueuedVerifications
  std::vector<std::thread> threads;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<VerifyAuditResponse> responses(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] { statuses[i] = Verify(&responses[i]); });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_TRUE(responses[i].intact());
  }
}

}  // namespace
}  // namespace lienthong::audit
