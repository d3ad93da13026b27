// PortalSyncService over an in-process gRPC server (plaintext: the mutual TLS
// and the policy behind the Authorizer are the gateway's, tested there and
// in tests/integration/portal_sync_test.cc). Deliveries are made by hand
// through the outbox, so job progress is deterministic.
#include "gateway/sync/portal_sync_service.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/query.h"
#include "gateway/audit/signing.h"
#include "gateway/sync/portal_sync.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/gateway/sync/dossier_fixtures.h"
#include "tests/gateway/sync/fresh_outbox_path.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::v1::SyncJob;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using testutil::kT0;  // 2025-07-15 00:00:00 UTC

class PortalSyncServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OutboxOptions options;
    options.path = testing::FreshOutboxPath("portal_sync_service_test");
    options.key = testing::TestOutboxKey();
    auto opened = Outbox::Open(options);
    ASSERT_THAT(opened, IsOk());
    outbox_ = *std::move(opened);
    // 1.000002's provincial code is mapped to a national code of another
    // number; the others follow the provincial form.
    lienthong::config::v1::PortalSync settings;
    auto* mapping = settings.add_procedure_codes();
    mapping->set_local("1.000002.000.00.00.H31");
    mapping->set_national("2.000884");
    auto codes = ProcedureCodeMap::Create(settings.procedure_codes());
    ASSERT_THAT(codes, IsOk());
    codes_ = *codes;
    CatalogueAccess access;
    access.codes = &codes_;
    access.catalogue = &catalogue_;
    access.check_skipped = [this] { ++skipped_; };
    service_ = std::make_unique<PortalSyncService>(outbox_.get(), access);
    outbox_->SetJobListener([this](const std::vector<std::string>& ids) {
      service_->OnJobsChanged(ids);
    });
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = lienthong::v1::PortalSyncService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    server_->Wait();
  }

  ProcedureCodeMap codes_;
  NationalCatalogue catalogue_;
  std::atomic<int> skipped_{0};

  // Lets a caller in unless it sends "x-test-deny".
  void AllowAll() {
    service_->SetAuthorizer(
        [this](const grpc::CallbackServerContext& ctx, absl::string_view method) {
          {
            absl::MutexLock lock(&mu_);
            methods_.push_back(std::string(method));
          }
          if (ctx.client_metadata().count("x-test-deny") > 0) {
            return absl::PermissionDeniedError("not granted");
          }
          return absl::OkStatus();
        });
  }

  std::unique_ptr<grpc::ClientContext> Context(bool deny = false) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (deny) context->AddMetadata("x-test-deny", "1");
    return context;
  }

  static lienthong::v1::SyncProceduresRequest Catalogue(int n, bool dry_run) {
    lienthong::v1::SyncProceduresRequest request;
    for (int i = 1; i <= n; ++i) {
      lienthong::v1::Procedure* p = request.add_procedures();
      p->set_code(absl::StrFormat("1.%06d.000.00.00.H31", i));
      p->set_name(absl::StrCat("Thủ tục ", i));
      p->set_level(lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE);
    }
    request.set_dry_run(dry_run);
    return request;
  }

  static std::string Dossier(int n) {
    return absl::StrFormat("000.00.01.H31-250715-%05d", n);
  }

  // A NEW update carries its dossier's registration, as a first update
  // must.
  static lienthong::v1::DossierStatusUpdate Update(int n,
                                                   lienthong::v1::DossierStatus s,
                                                   int minute) {
    lienthong::v1::DossierStatusUpdate u;
    u.set_dossier_code(Dossier(n));
    u.set_procedure_code("1.001193");
    u.set_status(s);
    u.mutable_time()->set_seconds(kT0 + minute * 60);
    if (s == lienthong::v1::NEW) {
      *u.mutable_registration() = testutil::Registration(kT0);
    }
    return u;
  }

  // Delivers (or dead-letters) every due item by hand.
  void DeliverAll(bool dead = false) {
    auto claimed = outbox_->FinishAndClaim({}, 1000);
    ASSERT_THAT(claimed, IsOk());
    std::vector<DeliveryResult> results;
    for (const OutboxItem& item : *claimed) {
      DeliveryResult r;
      r.id = item.id;
      r.kind = dead ? DeliveryResult::Kind::kDead
                    : DeliveryResult::Kind::kDelivered;
      r.message = "the portal refused it: Từ chối";
      r.refused = true;
      results.push_back(r);
    }
    ASSERT_THAT(outbox_->FinishAndClaim(results, 0), IsOk());
  }

  absl::Mutex mu_;
  std::vector<std::string> methods_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<PortalSyncService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<lienthong::v1::PortalSyncService::Stub> stub_;
};

TEST_F(PortalSyncServiceTest, UnavailableUntilAuthorizerSetThenAuthorised) {
  lienthong::v1::GetSyncJobRequest request;
  request.set_job_id("job-x");
  lienthong::v1::SyncJob job;
  EXPECT_EQ(stub_->GetSyncJob(Context().get(), request, &job).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  AllowAll();
  EXPECT_EQ(stub_->GetSyncJob(Context(/*deny=*/true).get(), request, &job)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status status = stub_->GetSyncJob(Context().get(), request, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("job-x"));
  absl::MutexLock lock(&mu_);
  EXPECT_THAT(methods_, ::testing::Each(std::string(kGetSyncJobMethod)));
}

TEST_F(PortalSyncServiceTest, SyncPlansAndWatchStreamsUntilDone) {
  AllowAll();
  lienthong::v1::SyncProceduresResponse dry;
  ASSERT_TRUE(
      stub_->SyncProcedures(Context().get(), Catalogue(3, true), &dry).ok());
  EXPECT_EQ(dry.creates(), 3);
  EXPECT_THAT(dry.plan(), SizeIs(3));
  EXPECT_EQ(dry.job_id(), "");

  lienthong::v1::SyncProceduresResponse sync;
  ASSERT_TRUE(
      stub_->SyncProcedures(Context().get(), Catalogue(3, false), &sync).ok());
  ASSERT_FALSE(sync.job_id().empty());

  lienthong::v1::GetSyncJobRequest request;
  request.set_job_id(sync.job_id());
  auto context = Context();
  auto reader = stub_->WatchSyncJob(context.get(), request);
  lienthong::v1::SyncJob job;
  ASSERT_TRUE(reader->Read(&job));
  EXPECT_EQ(job.state(), SyncJob::QUEUED);
  EXPECT_EQ(job.total(), 3);
  std::thread deliver([this] { DeliverAll(); });
  SyncJob last = job;
  while (reader->Read(&job)) last = job;
  deliver.join();
  EXPECT_EQ(last.state(), SyncJob::DONE);
  EXPECT_EQ(last.delivered(), 3);
  EXPECT_TRUE(reader->Finish().ok());

  // A job that already ended: one message, then the end.
  auto again = Context();
  auto ended = stub_->WatchSyncJob(again.get(), request);
  int messages = 0;
  while (ended->Read(&job)) ++messages;
  EXPECT_EQ(messages, 1);
  EXPECT_TRUE(ended->Finish().ok());

  lienthong::v1::GetSyncJobRequest unknown;
  unknown.set_job_id("job-unknown");
  auto third = Context();
  auto missing = stub_->WatchSyncJob(third.get(), unknown);
  EXPECT_FALSE(missing->Read(&job));
  EXPECT_EQ(missing->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(PortalSyncServiceTest, BadCatalogueNamesEveryRow) {
  AllowAll();
  lienthong::v1::SyncProceduresRequest request = Catalogue(3, false);
  request.mutable_procedures(1)->set_code("bad");
  request.mutable_procedures(2)->clear_name();
  lienthong::v1::SyncProceduresResponse response;
  grpc::Status status =
      stub_->SyncProcedures(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("procedures[1]: code: "));
  EXPECT_THAT(status.error_message(),
              HasSubstr("procedures[2] (1.000003.000.00.00.H31): name: required"));
}

TEST_F(PortalSyncServiceTest, PushIsIdempotentAndRefusesImpossibleTransitions) {
  AllowAll();
  lienthong::v1::PushDossierStatusRequest request;
  *request.add_updates() = Update(1, lienthong::v1::NEW, 0);
  *request.add_updates() = Update(1, lienthong::v1::ACCEPTED, 1);
  lienthong::v1::PushDossierStatusResponse response;
  ASSERT_TRUE(stub_->PushDossierStatus(Context().get(), request, &response).ok());
  EXPECT_EQ(response.accepted(), 2);
  EXPECT_EQ(response.duplicates(), 0);
  EXPECT_EQ(response.registrations(), 1);
  ASSERT_TRUE(stub_->PushDossierStatus(Context().get(), request, &response).ok());
  EXPECT_EQ(response.accepted(), 0);
  EXPECT_EQ(response.duplicates(), 2);
  EXPECT_EQ(response.registrations(), 0);
  // A first update without its registration is refused, naming the field.
  lienthong::v1::PushDossierStatusRequest bare;
  *bare.add_updates() = Update(9, lienthong::v1::ACCEPTED, 1);
  grpc::Status refused =
      stub_->PushDossierStatus(Context().get(), bare, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(),
              ::testing::StartsWith("updates[0].registration: required"));

  lienthong::v1::PushDossierStatusRequest back;
  *back.add_updates() = Update(1, lienthong::v1::NEW, 2);
  grpc::Status status = stub_->PushDossierStatus(Context().get(), back, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            "updates[0]: dossier 000.00.01.H31-250715-00001 cannot go from "
            "ACCEPTED to NEW");
  back.mutable_updates(0)->set_dossier_code("000.00.01.H31-250799-1");
  EXPECT_EQ(stub_->PushDossierStatus(Context().get(), back, &response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PortalSyncServiceTest, CodesAreCheckedAgainstTheNationalCatalogue) {
  AllowAll();
  // No catalogue read yet: nothing can be checked, the calls go on.
  lienthong::v1::SyncProceduresResponse plan;
  ASSERT_TRUE(
      stub_->SyncProcedures(Context().get(), Catalogue(3, true), &plan).ok());
  EXPECT_EQ(skipped_.load(), 3);

  catalogue_.Replace({"1.000001", "2.000884", "1.001193"}, absl::Now());
  // 1.000002 maps explicitly to 2.000884 (known); 1.000003 is unknown.
  grpc::Status refused =
      stub_->SyncProcedures(Context().get(), Catalogue(3, true), &plan);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(),
              ::testing::StartsWith(
                  "not in the national procedure database: procedures[2] "
                  "(1.000003.000.00.00.H31): 1.000003 (check the codes"));
  ASSERT_TRUE(
      stub_->SyncProcedures(Context().get(), Catalogue(2, false), &plan).ok());
  // A national code given explicitly is checked as given.
  lienthong::v1::SyncProceduresRequest given = Catalogue(1, true);
  given.mutable_procedures(0)->set_national_code("1.999999");
  EXPECT_EQ(stub_->SyncProcedures(Context().get(), given, &plan).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // One that is no national code at all is the caller's mistake, refused by
  // its rule without echoing it (it is not looked up).
  given.mutable_procedures(0)->set_national_code("1.001193 \u202E<x>");
  grpc::Status malformed = stub_->SyncProcedures(Context().get(), given, &plan);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(malformed.error_message(), Not(HasSubstr("<x>")));

  // Pushes: each update's procedure, nothing queued when one is unknown.
  lienthong::v1::PushDossierStatusRequest push;
  *push.add_updates() = Update(1, lienthong::v1::NEW, 0);  // 1.001193
  *push.add_updates() = Update(2, lienthong::v1::NEW, 0);
  push.mutable_updates(1)->set_procedure_code("1.999999.000.00.00.H31");
  lienthong::v1::PushDossierStatusResponse response;
  grpc::Status unknown =
      stub_->PushDossierStatus(Context().get(), push, &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(unknown.error_message(),
              HasSubstr("updates[1].procedure_code (1.999999.000.00.00.H31): "
                        "1.999999"));
  EXPECT_THAT(outbox_->Counts()->pending, 2);  // the two procedures only
  push.mutable_updates(1)->set_procedure_code("1.001193.000.00.00.H31");
  ASSERT_TRUE(stub_->PushDossierStatus(Context().get(), push, &response).ok());
  EXPECT_EQ(response.accepted(), 2);
  EXPECT_EQ(skipped_.load(), 3);  // none skipped once a catalogue is in use
  // Without a puller the catalogue cannot be read from here.
  lienthong::v1::CataloguePull pull;
  EXPECT_EQ(stub_->PullCatalogue(Context().get(), {}, &pull).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(PortalSyncServiceTest, DeadLettersListAndRetry) {
  AllowAll();
  lienthong::v1::PushDossierStatusRequest request;
  for (int d = 1; d <= 3; ++d) *request.add_updates() = Update(d, lienthong::v1::NEW, 0);
  lienthong::v1::PushDossierStatusResponse pushed;
  ASSERT_TRUE(stub_->PushDossierStatus(Context().get(), request, &pushed).ok());
  DeliverAll(/*dead=*/true);

  lienthong::v1::ListDeadLettersRequest list;
  list.set_page_size(2);
  lienthong::v1::ListDeadLettersResponse page;
  ASSERT_TRUE(stub_->ListDeadLetters(Context().get(), list, &page).ok());
  ASSERT_THAT(page.dead_letters(), SizeIs(2));
  EXPECT_EQ(page.dead_letters(0).kind(), "registration");
  EXPECT_EQ(page.dead_letters(0).reason(), "the portal refused it: Từ chối");
  EXPECT_FALSE(page.next_page_token().empty());

  lienthong::v1::RetryDeadLettersRequest retry;
  retry.add_ids(page.dead_letters(0).id());
  lienthong::v1::RetryDeadLettersResponse retried;
  ASSERT_TRUE(stub_->RetryDeadLetters(Context().get(), retry, &retried).ok());
  EXPECT_EQ(retried.requeued(), 1);
  retry.clear_ids();
  ASSERT_TRUE(stub_->RetryDeadLetters(Context().get(), retry, &retried).ok());
  EXPECT_EQ(retried.requeued(), 2);
  ASSERT_TRUE(stub_->ListDeadLetters(Context().get(), list, &page).ok());
  EXPECT_THAT(page.dead_letters(), SizeIs(0));
}

// What a fake auditor was handed.
struct Audited {
  std::string method;
  std::vector<std::string> dossier_ids;
  absl::StatusCode code;
};

TEST_F(PortalSyncServiceTest, EveryCallIsAuditedBeforeItIsAnswered) {
  AllowAll();
  absl::Mutex mu;
  std::vector<Audited> audited;
  absl::Status durability = absl::OkStatus();
  service_->SetAuditor([&](const grpc::CallbackServerContext&,
                           const SyncCallRecord& call,
                           absl::AnyInvocable<void(absl::Status) &&> done) {
    absl::Status result;
    {
      absl::MutexLock lock(&mu);
      audited.push_back(
          {std::string(call.method), call.dossier_ids, call.status.code()});
      result = durability;
    }
    // Answered from another thread, as the audit log's writer does.
    std::thread([done = std::move(done), result]() mutable {
      std::move(done)(result);
    }).detach();
  });
  auto take = [&] {
    absl::MutexLock lock(&mu);
    return std::exchange(audited, {});
  };

  // One dossier: named. Several: each named once, in first-seen order.
  lienthong::v1::PushDossierStatusRequest one;
  *one.add_updates() = Update(1, lienthong::v1::NEW, 0);
  *one.add_updates() = Update(1, lienthong::v1::ACCEPTED, 1);
  lienthong::v1::PushDossierStatusResponse response;
  ASSERT_TRUE(stub_->PushDossierStatus(Context().get(), one, &response).ok());
  lienthong::v1::PushDossierStatusRequest several;
  *several.add_updates() = Update(2, lienthong::v1::NEW, 0);
  *several.add_updates() = Update(3, lienthong::v1::NEW, 0);
  *several.add_updates() = Update(2, lienthong::v1::ACCEPTED, 1);
  *several.add_updates() = Update(4, lienthong::v1::NEW, 0);
  ASSERT_TRUE(
      stub_->PushDossierStatus(Context().get(), several, &response).ok());
  // Refused calls too.
  lienthong::v1::GetSyncJobRequest get;
  get.set_job_id("job-x");
  lienthong::v1::SyncJob job;
  EXPECT_EQ(
      stub_->GetSyncJob(Context(/*deny=*/true).get(), get, &job).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  {
    auto context = Context();
    auto watch = stub_->WatchSyncJob(context.get(), get);
    while (watch->Read(&job)) {
    }
    EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  std::vector<Audited> records = take();
  ASSERT_THAT(records, SizeIs(4));
  EXPECT_EQ(records[0].method, kPushDossierStatusMethod);
  EXPECT_THAT(records[0].dossier_ids, ElementsAre(Dossier(1)));
  EXPECT_EQ(records[0].code, absl::StatusCode::kOk);
  EXPECT_EQ(records[1].method, kPushDossierStatusMethod);
  EXPECT_THAT(records[1].dossier_ids,
              ElementsAre(Dossier(2), Dossier(3), Dossier(4)));
  EXPECT_EQ(records[2].method, kGetSyncJobMethod);
  EXPECT_EQ(records[2].code, absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(records[2].dossier_ids, IsEmpty());
  EXPECT_EQ(records[3].method, kWatchSyncJobMethod);
  EXPECT_EQ(records[3].code, absl::StatusCode::kNotFound);

  // A push refused unread names no dossiers, whether the caller may not
  // push (its list is unverified input) or it is over the limit: one record
  // each, however many updates it carries.
  lienthong::v1::PushDossierStatusRequest refused = several;
  EXPECT_EQ(
      stub_->PushDossierStatus(Context(/*deny=*/true).get(), refused, &response)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  lienthong::v1::PushDossierStatusRequest too_many;
  for (int i = 0; i <= kMaxUpdatesPerPush; ++i) {
    *too_many.add_updates() = Update(i, lienthong::v1::NEW, 0);
  }
  EXPECT_EQ(stub_->PushDossierStatus(Context().get(), too_many, &response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  records = take();
  ASSERT_THAT(records, SizeIs(2));
  EXPECT_EQ(records[0].code, absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(records[0].dossier_ids, IsEmpty());
  EXPECT_EQ(records[1].code, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(records[1].dossier_ids, IsEmpty());

  // Records that cannot be written withhold the answer, for one dossier or
  // several; the push itself is in the outbox, so the caller's retry is a
  // duplicate.
  {
    absl::MutexLock lock(&mu);
    durability = absl::UnavailableError("audit store unavailable");
  }
  lienthong::v1::PushDossierStatusRequest next;
  *next.add_updates() = Update(1, lienthong::v1::PROCESSING, 2);
  lienthong::v1::PushDossierStatusRequest next_several;
  *next_several.add_updates() = Update(2, lienthong::v1::PROCESSING, 2);
  *next_several.add_updates() = Update(3, lienthong::v1::ACCEPTED, 2);
  for (const auto* request : {&next, &next_several}) {
    grpc::Status withheld =
        stub_->PushDossierStatus(Context().get(), *request, &response);
    EXPECT_EQ(withheld.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(withheld.error_message(),
              "audit log unavailable; the answer is withheld");
  }
  {
    absl::MutexLock lock(&mu);
    durability = absl::OkStatus();
  }
  ASSERT_TRUE(stub_->PushDossierStatus(Context().get(), next, &response).ok());
  EXPECT_EQ(response.duplicates(), 1);
  ASSERT_TRUE(
      stub_->PushDossierStatus(Context().get(), next_several, &response).ok());
  EXPECT_EQ(response.duplicates(), 2);
}

TEST_F(PortalSyncServiceTest, AuditCallsToWritesToTheAuditLog) {
  AllowAll();
  const ::lienthong::testing::ScratchDir scratch("portal-sync-audit");
  const std::string& dir = scratch.path();
  audit::AuditLog::Options options;
  options.path = dir + "/audit.db";
  options.node = "gw-test";
  options.signing_key_file = dir + "/signing.pem";
  options.hmac_key_file = dir + "/hmac.key";
  ASSERT_THAT(audit::GenerateSigningKeyFile(options.signing_key_file), IsOk());
  ASSERT_THAT(audit::GenerateHmacKeyFile(options.hmac_key_file), IsOk());
  auto log = audit::AuditLog::Open(options);
  ASSERT_THAT(log, IsOk());
  service_->SetAuditor(AuditCallsTo(std::make_shared<calls::CallRecorder>(
      calls::CallRecorder::Options{nullptr, log->get(), true, "gw-test"})));

  lienthong::v1::PushDossierStatusRequest request;
  *request.add_updates() = Update(7, lienthong::v1::NEW, 0);
  lienthong::v1::PushDossierStatusResponse response;
  ASSERT_TRUE(
      stub_->PushDossierStatus(Context().get(), request, &response).ok());

  // Answered only once durable: the record is there now, and only it.
  auto pushes = [&] {
    lienthong::v1::QueryAuditRequest query;
    query.set_method(kPushDossierStatusMethod);
    return audit::QueryAudit((*log)->index(), query, (*log)->citizen_key());
  };
  auto records = pushes();
  ASSERT_THAT(records, IsOk());
  ASSERT_THAT(*records, SizeIs(1));
  const lienthong::v1::AuditRecord& record = (*records)[0];
  EXPECT_EQ(record.dossier_id(), Dossier(7));
  EXPECT_EQ(record.method(), kPushDossierStatusMethod);
  EXPECT_EQ(record.outcome(), "OK");
  EXPECT_EQ(record.node(), "gw-test");
  EXPECT_EQ(record.caller(), "");  // plaintext here: no client certificate
  EXPECT_EQ(record.citizen_hmac(), "");
  EXPECT_EQ(record.citizen_masked(), "");

  // Dossiers A, B, A, C: a record for each of A, B and C, alike but for the
  // dossier, all durable before the answer; each finds the call.
  lienthong::v1::PushDossierStatusRequest several;
  *several.add_updates() = Update(1, lienthong::v1::NEW, 0);
  *several.add_updates() = Update(2, lienthong::v1::NEW, 0);
  *several.add_updates() = Update(1, lienthong::v1::ACCEPTED, 1);
  *several.add_updates() = Update(3, lienthong::v1::NEW, 0);
  ASSERT_TRUE(
      stub_->PushDossierStatus(Context().get(), several, &response).ok());
  records = pushes();
  ASSERT_THAT(records, IsOk());
  ASSERT_THAT(*records, SizeIs(4));
  std::vector<std::string> dossiers;
  for (int i = 1; i < 4; ++i) {
    const lienthong::v1::AuditRecord& r = (*records)[i];
    dossiers.push_back(r.dossier_id());
    EXPECT_EQ(r.outcome(), "OK");
    EXPECT_EQ(r.caller(), (*records)[1].caller());
    EXPECT_EQ(r.caller_cert_sha256(), (*records)[1].caller_cert_sha256());
    EXPECT_EQ(r.latency_us(), (*records)[1].latency_us());
  }
  EXPECT_THAT(dossiers, ElementsAre(Dossier(1), Dossier(2), Dossier(3)));
  // Each of dossiers `first`..`last` finds one record.
  auto expect_one_record_each = [&](int first, int last) {
    for (int d = first; d <= last; ++d) {
      lienthong::v1::QueryAuditRequest query;
      query.set_dossier_id(Dossier(d));
      auto found =
          audit::QueryAudit((*log)->index(), query, (*log)->citizen_key());
      ASSERT_THAT(found, IsOk());
      EXPECT_THAT(*found, SizeIs(1)) << Dossier(d);
    }
  };
  expect_one_record_each(1, 3);

  // A push refused after it was read: a record for each dossier code it
  // names, the call coalesced as one, never one dossier's record into
  // another's; what is not a dossier code (here a citizen's ID) is not kept.
  constexpr char kCitizenId[] = "033085012345";
  lienthong::v1::PushDossierStatusRequest refused;
  *refused.add_updates() = Update(4, lienthong::v1::NEW, 0);
  refused.mutable_updates(0)->set_dossier_code(kCitizenId);
  *refused.add_updates() = Update(4, lienthong::v1::NEW, 0);
  *refused.add_updates() = Update(5, lienthong::v1::NEW, 0);
  refused.mutable_updates(2)->clear_time();
  EXPECT_EQ(stub_->PushDossierStatus(Context().get(), refused, &response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  expect_one_record_each(4, 5);
  records = pushes();
  ASSERT_THAT(records, IsOk());
  EXPECT_THAT(*records, SizeIs(6));
  for (const lienthong::v1::AuditRecord& r : *records) {
    EXPECT_NE(r.dossier_id(), kCitizenId);
  }
  service_->SetAuditor(nullptr);
  EXPECT_THAT((*log)->Close(), IsOk());
}

// Fails every journal write holding a record about one dossier, as a disk
// that fails during that one write.
class FailsForDossier : public audit::testutil::FaultyIo {
 public:
  explicit FailsForDossier(const std::string& dossier) {
    FailWritesContaining(dossier);
  }
};

TEST_F(PortalSyncServiceTest, AnyAuditRecordNotWrittenWithholdsTheAnswer) {
  AllowAll();
  audit::testutil::ScratchDir dir;
  audit::AuditLog::Options options = audit::testutil::TestOptions(dir);
  options.max_batch = 1;  // a write per record: B's fails alone
  FailsForDossier io(Dossier(2));
  options.io = &io;
  auto log = audit::AuditLog::Open(options);
  ASSERT_THAT(log, IsOk());
  service_->SetAuditor(AuditCallsTo(std::make_shared<calls::CallRecorder>(
      calls::CallRecorder::Options{nullptr, log->get(), true, "gw-test"})));

  lienthong::v1::PushDossierStatusRequest request;
  *request.add_updates() = Update(1, lienthong::v1::NEW, 0);
  *request.add_updates() = Update(2, lienthong::v1::NEW, 0);
  *request.add_updates() = Update(3, lienthong::v1::NEW, 0);
  lienthong::v1::PushDossierStatusResponse response;
  grpc::Status withheld =
      stub_->PushDossierStatus(Context().get(), request, &response);
  EXPECT_EQ(withheld.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(withheld.error_message(),
            "audit log unavailable; the answer is withheld");
  // A and C were written: the push did happen (it is in the outbox).
  lienthong::v1::QueryAuditRequest query;
  query.set_method(kPushDossierStatusMethod);
  auto records =
      audit::QueryAudit((*log)->index(), query, (*log)->citizen_key());
  ASSERT_THAT(records, IsOk());
  std::vector<std::string> dossiers;
  for (const auto& r : *records) dossiers.push_back(r.dossier_id());
  EXPECT_THAT(dossiers, ElementsAre(Dossier(1), Dossier(3)));

  // A closed log refuses every record at once: withheld too, one dossier
  // or several.
  ASSERT_THAT((*log)->Close(), IsOk());
  lienthong::v1::PushDossierStatusRequest one;
  *one.add_updates() = Update(4, lienthong::v1::NEW, 0);
  lienthong::v1::PushDossierStatusRequest two;
  *two.add_updates() = Update(5, lienthong::v1::NEW, 0);
  *two.add_updates() = Update(6, lienthong::v1::NEW, 0);
  for (const auto* r : {&one, &two}) {
    EXPECT_EQ(
        stub_->PushDossierStatus(Context().get(), *r, &response).error_code(),
        grpc::StatusCode::UNAVAILABLE);
  }
  service_->SetAuditor(nullptr);
}

}  // namespace
}  // namespace lienthong::sync
