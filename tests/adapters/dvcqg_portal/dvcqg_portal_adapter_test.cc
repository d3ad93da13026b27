// The "dvcqg-portal-rest" adapter against the simulated portal
// (tests/national_sim) over real TLS on 127.0.0.1.
#include "adapters/dvcqg_portal/dvcqg_portal_adapter.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/national_sim/self_signed_cert.h"
#include "tests/national_sim/sim_server.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::dvcqg {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using Kind = PortalOutcome::Kind;
using sim::AppliedPortalItem;

class DvcqgPortalAdapterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto files = sim::WriteSelfSignedCert(::testing::TempDir());
    ASSERT_THAT(files, IsOk());
    files_ = new sim::CertFiles(*files);
  }
  static void TearDownTestSuite() { delete files_; }

  void SetUp() override {
    sim::SimOptions options;
    options.cert_file = files_->cert_file;
    options.key_file = files_->key_file;
    auto server = sim::SimServer::Start(options);
    ASSERT_THAT(server, IsOk());
    sim_ = *std::move(server);
    auto http = CurlHttpClient::Create({});
    ASSERT_THAT(http, IsOk());
    http_ = *std::move(http);
    adapter_ = Make(Config());
    ASSERT_NE(adapter_, nullptr);
  }

  lienthong::config::v1::DvcqgPortalRestConfig Config() {
    lienthong::config::v1::DvcqgPortalRestConfig config;
    config.mutable_upstream()->set_base_url(sim_->base_url());
    config.mutable_upstream()->set_ca_file(files_->cert_file);
    config.set_api_key("dev-portal-key");
    return config;
  }

  std::unique_ptr<Adapter> Make(
      const lienthong::config::v1::DvcqgPortalRestConfig& config) {
    auto factory = MakeDvcqgPortalRestFactory();
    AdapterContext context;
    context.instance_name = "portal";
    context.http = http_.get();
    auto adapter = factory->Create(config, context);
    EXPECT_THAT(adapter, IsOk());
    return adapter.ok() ? *std::move(adapter) : nullptr;
  }

  // Runs one call and waits for its answer.
  template <typename Start>
  absl::StatusOr<PortalOutcome> Run(Start start) {
    absl::Notification done;
    absl::StatusOr<PortalOutcome> result;
    CallContext context;
    context.deadline = absl::Now() + absl::Seconds(10);
    start(context, [&](absl::StatusOr<Reply<PortalOutcome>> reply) {
      result = reply.ok() ? absl::StatusOr<PortalOutcome>(reply->value)
                          : absl::StatusOr<PortalOutcome>(reply.status());
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  absl::StatusOr<PortalOutcome> Create(const lienthong::v1::Procedure& p,
                                       const std::string& key) {
    return Run([&](const CallContext& c, auto done) {
      adapter_->portal()->CreateProcedure(p, key, c, std::move(done));
    });
  }
  absl::StatusOr<PortalOutcome> Update(const lienthong::v1::Procedure& p,
                                       const std::string& key) {
    return Run([&](const CallContext& c, auto done) {
      adapter_->portal()->UpdateProcedure(p, key, c, std::move(done));
    });
  }
  absl::StatusOr<PortalOutcome> Withdraw(const std::string& code,
                                         const std::string& key) {
    return Run([&](const CallContext& c, auto done) {
      adapter_->portal()->WithdrawProcedure(code, key, c, std::move(done));
    });
  }
  absl::StatusOr<PortalOutcome> Push(const lienthong::v1::DossierStatusUpdate& u,
                                     const std::string& key) {
    return Run([&](const CallContext& c, auto done) {
      adapter_->portal()->PushDossierStatus(u, key, c, std::move(done));
    });
  }

  static lienthong::v1::Procedure Procedure() {
    lienthong::v1::Procedure p;
    p.set_code("1.001193.000.00.00.H31");
    p.set_name("Đăng ký khai sinh");
    p.set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
    p.add_required_documents("Tờ khai");
    return p;
  }
  static lienthong::v1::DossierStatusUpdate Dossier() {
    lienthong::v1::DossierStatusUpdate u;
    u.set_dossier_code("000.00.01.H31-250715-00123");
    u.set_procedure_code("1.001193.000.00.00.H31");
    u.set_status(lienthong::v1::PROCESSING);
    u.mutable_time()->set_seconds(1752546600);
    u.set_handler("cb01");
    return u;
  }

  static sim::CertFiles* files_;
  std::unique_ptr<sim::SimServer> sim_;
  std::unique_ptr<CurlHttpClient> http_;
  std::unique_ptr<Adapter> adapter_;
};

sim::CertFiles* DvcqgPortalAdapterTest::files_ = nullptr;

TEST_F(DvcqgPortalAdapterTest, OffersOnlyThePortal) {
  EXPECT_NE(adapter_->portal(), nullptr);
  EXPECT_EQ(adapter_->identity(), nullptr);
  EXPECT_EQ(adapter_->population(), nullptr);
}

TEST_F(DvcqgPortalAdapterTest, CreateExistsUpdateWithdraw) {
  auto created = Create(Procedure(), "k-create");
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->kind, Kind::kApplied);
  // The same key again: answered as the first time, applied once.
  ASSERT_THAT(Create(Procedure(), "k-create"), IsOk());
  auto exists = Create(Procedure(), "k-create-2");
  ASSERT_THAT(exists, IsOk());
  EXPECT_EQ(exists->kind, Kind::kAlreadyExists);
  auto updated = Update(Procedure(), "k-update");
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->kind, Kind::kApplied);
  auto withdrawn = Withdraw("1.001193.000.00.00.H31", "k-withdraw");
  ASSERT_THAT(withdrawn, IsOk());
  EXPECT_EQ(withdrawn->kind, Kind::kApplied);
  auto gone = Update(Procedure(), "k-update-2");
  ASSERT_THAT(gone, IsOk());
  EXPECT_EQ(gone->kind, Kind::kRejected);
  EXPECT_EQ(gone->reason, "Mã TTHC không tồn tại");

  std::vector<AppliedPortalItem> applied = sim_->PortalApplied();
  ASSERT_EQ(applied.size(), 3u);
  EXPECT_EQ(applied[0].kind, AppliedPortalItem::Kind::kCreateProcedure);
  EXPECT_EQ(applied[0].idempotency_key, "k-create");
  EXPECT_THAT(applied[0].body, HasSubstr("\"MucDo\":\"TOAN_TRINH\""));
  EXPECT_THAT(applied[0].body, HasSubstr("\"TenTTHC\":\"Đăng ký khai sinh\""));
  EXPECT_EQ(applied[1].kind, AppliedPortalItem::Kind::kUpdateProcedure);
  EXPECT_EQ(applied[2].kind, AppliedPortalItem::Kind::kWithdrawProcedure);
}

TEST_F(DvcqgPortalAdapterTest, DossierStatusArrivesInPortalForm) {
  auto pushed = Push(Dossier(), "k-dossier");
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->kind, Kind::kApplied);
  std::vector<AppliedPortalItem> applied = sim_->PortalApplied();
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].ma_ho_so, "000.00.01.H31-250715-00123");
  EXPECT_EQ(applied[0].trang_thai, 4);
  EXPECT_EQ(applied[0].thoi_gian, "20250715093000");
}

TEST_F(DvcqgPortalAdapterTest, PermanentRejectionCarriesTheReason) {
  sim::Knobs knobs;
  knobs.reject_codes = {"000.00.01.H31-250715-00123"};
  ASSERT_THAT(sim_->SetKnobs(sim::System::kPortal, knobs), IsOk());
  auto pushed = Push(Dossier(), "k-rejected");
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->kind, Kind::kRejected);
  EXPECT_EQ(pushed->reason,
            "Từ chối: 000.00.01.H31-250715-00123 không được chấp nhận");
}

TEST_F(DvcqgPortalAdapterTest, DownOverloadedAndSlowAreRetriable) {
  struct Case {
    const char* name;
    sim::Knobs knobs;
    absl::StatusCode code;
  };
  sim::Knobs reset;
  reset.down = true;
  sim::Knobs down503 = reset;
  down503.down_mode = sim::DownMode::kHttp503;
  sim::Knobs overloaded;
  overloaded.error_rate = 1;
  overloaded.retry_after = "3";
  sim::Knobs malformed;
  malformed.malformed_rate = 1;
  const Case kCases[] = {
      {"down, connection reset", reset, absl::StatusCode::kUnavailable},
      {"down, HTTP 503", down503, absl::StatusCode::kUnavailable},
      {"overloaded", overloaded, absl::StatusCode::kUnavailable},
      {"malformed answer", malformed, absl::StatusCode::kUnavailable},
  };
  int n = 0;
  for (const Case& c : kCases) {
    ASSERT_THAT(sim_->SetKnobs(sim::System::kPortal, c.knobs), IsOk());
    auto pushed = Push(Dossier(), absl::StrCat("k-case-", ++n));
    ASSERT_FALSE(pushed.ok()) << c.name;
    EXPECT_EQ(pushed.status().code(), c.code) << c.name;
    EXPECT_TRUE(IsRetriable(pushed.status())) << c.name;
  }
  EXPECT_EQ(RetryAfter(Push(Dossier(), "k-overloaded-2").status()),
            std::nullopt);  // malformed knob still on: no Retry-After
  ASSERT_THAT(sim_->SetKnobs(sim::System::kPortal, overloaded), IsOk());
  EXPECT_EQ(RetryAfter(Push(Dossier(), "k-overloaded-3").status()),
            absl::Seconds(3));

  sim::Knobs slow;
  slow.latency_ms = 2000;
  ASSERT_THAT(sim_->SetKnobs(sim::System::kPortal, slow), IsOk());
  absl::Notification done;
  absl::Status status;
  CallContext context;
  context.deadline = absl::Now() + absl::Milliseconds(200);
  adapter_->portal()->PushDossierStatus(
      Dossier(), "k-slow", context,
      [&](absl::StatusOr<Reply<PortalOutcome>> reply) {
        status = reply.status();
        done.Notify();
      });
  done.WaitForNotification();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(IsRetriable(status));
  // Only the items with malformed answers were applied: an unreadable
  // answer may hide a success, which is why it is retried under the same key.
  std::vector<AppliedPortalItem> applied = sim_->PortalApplied();
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[0].idempotency_key, "k-case-4");
  EXPECT_EQ(applied[1].idempotency_key, "k-overloaded-2");
}

TEST_F(DvcqgPortalAdapterTest, WrongApiKeyIsRetriableNotARejection) {
  auto config = Config();
  config.set_api_key("wrong-key");
  adapter_ = Make(config);
  auto pushed = Push(Dossier(), "k-auth");
  ASSERT_FALSE(pushed.ok());
  EXPECT_TRUE(IsRetriable(pushed.status()));
  EXPECT_THAT(std::string(pushed.status().message()), HasSubstr("API key"));
}

TEST_F(DvcqgPortalAdapterTest, UnsafeIdempotencyKeyIsRefused) {
  EXPECT_THAT(Push(Dossier(), "bad\r\nX-Evil: 1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("idempotency key")));
  EXPECT_THAT(Push(Dossier(), ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("idempotency key")));
}

TEST_F(DvcqgPortalAdapterTest, FactoryValidatesTheConfig) {
  auto factory = MakeDvcqgPortalRestFactory();
  EXPECT_EQ(factory->name(), "dvcqg-portal-rest");
  AdapterContext context;
  context.http = http_.get();
  struct Case {
    void (*spoil)(lienthong::config::v1::DvcqgPortalRestConfig&);
    const char* message;
  };
  const Case kCases[] = {
      {[](auto& c) { c.mutable_upstream()->set_base_url("http://x"); },
       "https://"},
      {[](auto& c) { c.clear_api_key(); }, "api_key"},
      {[](auto& c) { c.set_dossier_status_path("hoso"); },
       "dossier_status_path must start with /"},
  };
  for (const Case& c : kCases) {
    auto config = Config();
    c.spoil(config);
    EXPECT_THAT(factory->Create(config, context),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
  EXPECT_THAT(factory->Create(Config(), AdapterContext{}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("HTTP client")));
}

}  // namespace
}  // namespace lienthong::adapters::dvcqg
