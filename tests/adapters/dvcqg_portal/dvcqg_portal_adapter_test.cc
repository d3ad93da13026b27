// The "dvcqg-portal-rest" adapter against the simulated portal
// (tests/national_sim) over real TLS on 127.0.0.1: sessions, dossiers
// registered before their progress, online services, and failures; and
// against scripted answers the simulator does not give.
#include "adapters/dvcqg_portal/dvcqg_portal_adapter.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/dvcqg_portal/dvcqg_portal_config.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/adapters/common/sim_https_fixture.h"
#include "tests/national_sim/sim_server.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::dvcqg {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using Kind = PortalOutcome::Kind;
using sim::AppliedPortalItem;
using Applied = AppliedPortalItem::Kind;

constexpr char kDossier[] = "000.00.01.H31-250715-00123";

// Answers on the caller's thread, HTTP 200: the sign-in with a session, and
// each other call with the body `answers` gives for the service it names
// (an error, "not scripted", for the rest). Keeps every request.
class ScriptedHttp final : public HttpClient {
 public:
  void Send(HttpRequest request, HttpCallback done) override {
    if (!fail_with.ok() && !absl::EndsWith(request.url, "/auth")) {
      requests.push_back(std::move(request));
      std::move(done)(fail_with);
      return;
    }
    HttpResponse response;
    response.status = 200;
    response.body = R"({"error_code":"-99","message":"not scripted"})";
    if (absl::EndsWith(request.url, "/auth")) {
      response.body = R"({"error_code":0,"session":"s-1"})";
    }
    for (const auto& [service, body] : answers) {
      if (Names(request, service)) response.body = body;
    }
    // A portal that keeps its answers by key replays them.
    for (const std::string& header : request.headers) {
      auto kept = by_key.find(header);
      if (kept != by_key.end()) response.body = kept->second;
    }
    requests.push_back(std::move(request));
    std::move(done)(std::move(response));
  }

  // The idempotency keys of the requests for `service`, in order.
  std::vector<std::string> Keys(const std::string& service) const {
    std::vector<std::string> keys;
    for (const HttpRequest& request : requests) {
      if (!Names(request, service)) continue;
      for (const std::string& header : request.headers) {
        if (absl::StartsWith(header, "X-Idempotency-Key: ")) {
          keys.push_back(header.substr(19));
        }
      }
    }
    return keys;
  }

  // How many requests for `service` were sent.
  int Sent(const std::string& service) const {
    int sent = 0;
    for (const HttpRequest& request : requests) {
      sent += Names(request, service) ? 1 : 0;
    }
    return sent;
  }

  std::vector<std::pair<std::string, std::string>> answers;
  // When not OK, what every call but the sign-in fails with.
  absl::Status fail_with;
  // Answers by idempotency key ("X-Idempotency-Key: <key>"), before
  // `answers`.
  std::map<std::string, std::string> by_key;
  std::vector<HttpRequest> requests;

 private:
  static bool Names(const HttpRequest& request, const std::string& service) {
    return absl::StrContains(request.body,
                             absl::StrCat("\"service\":\"", service, "\""));
  }
};

class DvcqgPortalAdapterTest : public ::lienthong::testing::SimHttpsTest {
 protected:
  void SetUp() override {
    SimHttpsTest::SetUp();
    if (HasFatalFailure()) return;
    adapter_ = Make(Config());
    ASSERT_NE(adapter_, nullptr);
  }

  lienthong::adapters::dvcqg::DvcqgPortalRestConfig Config() {
    lienthong::adapters::dvcqg::DvcqgPortalRestConfig config;
    config.mutable_upstream()->set_base_url(sim_->base_url());
    config.mutable_upstream()->set_ca_file(CertFile());
    config.set_auth_endpoint("/dvcqg/adapter/auth");
    config.set_integration_endpoint("/dvcqg/adapter/integration");
    config.set_username("lienthong-dev");
    config.set_password("dev-portal-password");
    config.set_madonvi("000.00.00.H31");
    return config;
  }

  // Talks to the simulator, or to `http` when given.
  std::unique_ptr<Adapter> Make(
      const lienthong::adapters::dvcqg::DvcqgPortalRestConfig& config,
      HttpClient* http = nullptr) {
    auto factory = MakeDvcqgPortalRestFactory();
    AdapterContext context;
    context.instance_name = "portal";
    context.http = http != nullptr ? http : http_.get();
    auto adapter = factory->Create(config, context);
    EXPECT_THAT(adapter, IsOk());
    return adapter.ok() ? *std::move(adapter) : nullptr;
  }

  void SetKnobs(const sim::Knobs& knobs) {
    ASSERT_THAT(sim_->SetKnobs(sim::System::kPortal, knobs), IsOk());
  }

  int64_t SignIns() const {
    return sim_->Stats().of(sim::System::kPortal).tokens_issued;
  }

  // Runs one call and waits for its answer.
  template <typename Start>
  absl::StatusOr<PortalOutcome> Run(
      Start start, absl::Duration timeout = absl::Seconds(10)) {
    absl::Notification done;
    absl::StatusOr<PortalOutcome> result;
    CallContext context;
    context.deadline = absl::Now() + timeout;
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
  absl::StatusOr<PortalOutcome> Withdraw(const lienthong::v1::Procedure& p,
                                         const std::string& key) {
    return Run([&](const CallContext& c, auto done) {
      adapter_->portal()->WithdrawProcedure(p, key, c, std::move(done));
    });
  }
  absl::StatusOr<PortalOutcome> Register(
      const lienthong::v1::DossierStatusUpdate& u, const std::string& key) {
    return Run([&](const CallContext& c, auto done) {
      adapter_->portal()->RegisterDossier(u, key, c, std::move(done));
    });
  }
  absl::StatusOr<PortalOutcome> Push(
      const lienthong::v1::DossierStatusUpdate& u, const std::string& key,
      bool may_have_arrived = false,
      absl::Duration timeout = absl::Seconds(10)) {
    return Run(
        [&](const CallContext& c, auto done) {
          adapter_->portal()->PushDossierStatus(u, key, may_have_arrived, c,
                                                std::move(done));
        },
        timeout);
  }

  static lienthong::v1::Procedure Procedure() {
    lienthong::v1::Procedure p;
    p.set_code("1.001193.000.00.00.H31");
    p.set_national_code("1.001193");
    p.set_name("Đăng ký khai sinh");
    p.set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
    p.add_required_documents("Tờ khai");
    return p;
  }
  static lienthong::v1::DossierStatusUpdate Step(
      lienthong::v1::DossierStatus status = lienthong::v1::PROCESSING,
      int64_t seconds = 1752546600) {
    lienthong::v1::DossierStatusUpdate u;
    u.set_dossier_code(kDossier);
    u.set_procedure_code("1.001193");
    u.set_status(status);
    u.mutable_time()->set_seconds(seconds);
    u.set_handler("Nguyễn Văn Cán");
    return u;
  }
  static lienthong::v1::DossierStatusUpdate Registration() {
    lienthong::v1::DossierStatusUpdate u = Step(lienthong::v1::NEW);
    lienthong::v1::DossierRegistration& r = *u.mutable_registration();
    r.set_procedure_name("Đăng ký khai sinh");
    r.set_field_code("G09-TP05");
    r.set_field_name("Hộ tịch");
    r.mutable_applicant()->set_name("Trần Thị Mai");
    r.mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
    r.mutable_applicant()->set_phone("0912345678");
    r.set_summary("Đăng ký khai sinh cho con");
    r.mutable_received()->set_seconds(1752546000);
    r.set_handling_unit("UBND xã Tân Hưng");
    return u;
  }

  // For answers the simulator does not give; outlives adapter_.
  ScriptedHttp scripted_;
  std::unique_ptr<Adapter> adapter_;
};

TEST_F(DvcqgPortalAdapterTest, OffersOnlyThePortal) {
  EXPECT_NE(adapter_->portal(), nullptr);
  EXPECT_EQ(adapter_->identity(), nullptr);
  EXPECT_EQ(adapter_->population(), nullptr);
}

TEST_F(DvcqgPortalAdapterTest, RegistersThenShowsProgress) {
  auto registered = Register(Registration(), "k-reg");
  ASSERT_THAT(registered, IsOk());
  EXPECT_EQ(registered->kind, Kind::kApplied);
  auto step = Push(Step(), "k-step");
  ASSERT_THAT(step, IsOk());
  EXPECT_EQ(step->kind, Kind::kApplied);
  EXPECT_FALSE(step->found_at_portal);
  // Registered again: the lookup finds it, so it goes as an update.
  lienthong::v1::DossierStatusUpdate again = Registration();
  again.mutable_registration()->mutable_applicant()->set_email("mai@example.vn");
  ASSERT_THAT(Register(again, "k-reg-2"), IsOk());

  std::vector<AppliedPortalItem> applied = sim_->PortalApplied();
  ASSERT_EQ(applied.size(), 3u);
  EXPECT_EQ(applied[0].kind, Applied::kRegisterDossier);
  EXPECT_EQ(applied[0].idempotency_key, "k-reg");
  EXPECT_EQ(applied[0].ma_ho_so, kDossier);
  EXPECT_EQ(applied[0].ma_tthc, "1.001193");
  EXPECT_EQ(applied[0].trang_thai, 1);
  EXPECT_THAT(applied[0].body, HasSubstr("\"ChuHoSo\":\"Trần Thị Mai\""));
  EXPECT_THAT(applied[0].body, HasSubstr("\"NgayTiepNhan\":\"20250715092000\""));
  EXPECT_EQ(applied[1].kind, Applied::kDossierStatus);
  EXPECT_EQ(applied[1].trang_thai, 4);
  EXPECT_EQ(applied[1].thoi_gian, "20250715093000");
  EXPECT_THAT(applied[1].body, HasSubstr("\"NguoiXuLy\":\"Nguyễn Văn Cán\""));
  EXPECT_EQ(applied[2].kind, Applied::kUpdateDossier);
  EXPECT_THAT(applied[2].body, HasSubstr("mai@example.vn"));
  // One sign-in served every call.
  EXPECT_EQ(SignIns(), 1);
}

TEST_F(DvcqgPortalAdapterTest, ProgressOfAnUnregisteredDossierIsRefused) {
  auto step = Push(Step(), "k-step");
  ASSERT_THAT(step, IsOk());
  EXPECT_EQ(step->kind, Kind::kRejected);
  EXPECT_THAT(step->reason, HasSubstr("chưa được đồng bộ"));
  EXPECT_TRUE(sim_->PortalApplied().empty());
}

TEST_F(DvcqgPortalAdapterTest, SuccessAsNumberZeroOrStringDoubleZero) {
  for (sim::ErrorCodeStyle style :
       {sim::ErrorCodeStyle::kNumber, sim::ErrorCodeStyle::kString}) {
    sim::Knobs knobs;
    knobs.error_code_style = style;
    SetKnobs(knobs);
    const int n = static_cast<int>(style);
    lienthong::v1::DossierStatusUpdate u = Registration();
    u.set_dossier_code(absl::StrCat("000.00.01.H31-250715-0000", n));
    auto registered = Register(u, absl::StrCat("k-reg-", n));
    ASSERT_THAT(registered, IsOk()) << n;
    EXPECT_EQ(registered->kind, Kind::kApplied) << n;
    u.clear_registration();
    u.set_status(lienthong::v1::ACCEPTED);
    auto step = Push(u, absl::StrCat("k-step-", n));
    ASSERT_THAT(step, IsOk()) << n;
    EXPECT_EQ(step->kind, Kind::kApplied) << n;
  }
  EXPECT_EQ(sim_->PortalApplied().size(), 4u);
}

TEST_F(DvcqgPortalAdapterTest, ExpiredSessionIsRenewedOnceForAllCallers) {
  ASSERT_THAT(Register(Registration(), "k-reg"), IsOk());
  ASSERT_EQ(SignIns(), 1);
  sim_->ExpirePortalSessions();
  // Twenty calls out at once, held by the portal until all have arrived,
  // all meet the refusal: one sign-in renews the session for every one of
  // them, and each is sent again once.
  constexpr int kCalls = 20;
  sim::Knobs hold;
  hold.hang = true;
  SetKnobs(hold);
  std::vector<absl::StatusOr<PortalOutcome>> results(kCalls);
  absl::BlockingCounter left(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    CallContext context;
    context.deadline = absl::Now() + absl::Seconds(10);
    adapter_->portal()->PushDossierStatus(
        Step(lienthong::v1::PROCESSING, 1752546600 + i),
        absl::StrCat("k-step-", i), false, context,
        [&, i](absl::StatusOr<Reply<PortalOutcome>> reply) {
          results[i] = reply.ok() ? absl::StatusOr<PortalOutcome>(reply->value)
                                  : absl::StatusOr<PortalOutcome>(reply.status());
          left.DecrementCount();
        });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (sim_->Stats().of(sim::System::kPortal).hanging < kCalls &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));  // waiting for the calls to arrive
  }
  // When this fails, what the portal saw says whether calls went missing
  // on the way or only arrived late.
  EXPECT_EQ(sim_->Stats().of(sim::System::kPortal).hanging, kCalls)
      << "received " << sim_->Stats().of(sim::System::kPortal).received;
  SetKnobs(sim::Knobs{});
  left.Wait();
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_THAT(results[i], IsOk()) << i;
    EXPECT_EQ(results[i]->kind, Kind::kApplied) << i;
  }
  EXPECT_EQ(SignIns(), 2);
  EXPECT_EQ(sim_->PortalApplied().size(), 1u + kCalls);
  EXPECT_EQ(sim_->Stats().of(sim::System::kPortal).auth_failures, kCalls);
}

// The sign-in serves every call waiting for it, so the call that happens
// to start it, with little time left, does not bound it for the others.
TEST_F(DvcqgPortalAdapterTest, ASignInIsNotBoundByTheDeadlineOfItsFirstCall) {
  adapter_ = Make(Config(), &scripted_);
  const absl::Time before = absl::Now();
  ASSERT_THAT(Push(Step(), "k-step", false, absl::Milliseconds(200)), IsOk());
  ASSERT_FALSE(scripted_.requests.empty());
  const HttpRequest& sign_in = scripted_.requests.front();
  ASSERT_TRUE(absl::EndsWith(sign_in.url, "/auth")) << sign_in.url;
  EXPECT_GE(sign_in.deadline, before + absl::Seconds(10));
  // The call's own request keeps the call's deadline.
  ASSERT_EQ(scripted_.requests.size(), 2u);
  EXPECT_LE(scripted_.requests[1].deadline, before + absl::Seconds(1));
}

TEST_F(DvcqgPortalAdapterTest, SessionRefusedEvenWhenFreshIsRetriable) {
  sim::Knobs knobs;
  // A session lives 1 ms; every request is served 5 ms after it arrives,
  // so each session is refused by the time it is used.
  knobs.session_lifetime_ms = 1;
  knobs.latency_ms = 5;
  SetKnobs(knobs);
  auto registered = Register(Registration(), "k-reg");
  ASSERT_FALSE(registered.ok());
  EXPECT_TRUE(IsRetriable(registered.status()));
  EXPECT_THAT(std::string(registered.status().message()),
              HasSubstr("refused a fresh session"));
  // The first session and the one renewal: no loop of sign-ins.
  EXPECT_EQ(SignIns(), 2);
  EXPECT_TRUE(sim_->PortalApplied().empty());
}

TEST_F(DvcqgPortalAdapterTest, WrongPasswordIsRetriableAndNamesNoSecret) {
  auto config = Config();
  config.set_password("wrong-password");
  adapter_ = Make(config);
  auto registered = Register(Registration(), "k-reg");
  ASSERT_FALSE(registered.ok());
  EXPECT_TRUE(IsRetriable(registered.status()));
  EXPECT_THAT(std::string(registered.status().message()), HasSubstr("sign-in"));
  EXPECT_THAT(std::string(registered.status().message()),
              ::testing::Not(HasSubstr("wrong-password")));
}

TEST_F(DvcqgPortalAdapterTest, RedeliveryLooksFirstAgainstAPortalIgnoringKeys) {
  sim::Knobs knobs;
  knobs.ignore_idempotency_keys = true;
  SetKnobs(knobs);
  ASSERT_THAT(Register(Registration(), "k-reg"), IsOk());
  ASSERT_THAT(Push(Step(), "k-step"), IsOk());
  // The answer was lost: sent again, the lookup shows the step, so it is
  // not sent a second time.
  auto again = Push(Step(), "k-step", /*may_have_arrived=*/true);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->kind, Kind::kApplied);
  EXPECT_TRUE(again->found_at_portal);
  // A step that did not arrive is sent after the lookup.
  auto next = Push(Step(lienthong::v1::FINISHED, 1752550000), "k-step-2",
                   /*may_have_arrived=*/true);
  ASSERT_THAT(next, IsOk());
  EXPECT_FALSE(next->found_at_portal);
  std::vector<AppliedPortalItem> applied = sim_->PortalApplied();
  ASSERT_EQ(applied.size(), 3u);
  EXPECT_EQ(applied[2].trang_thai, 9);
  // Without the lookup, a portal that ignores the key applies it twice.
  ASSERT_THAT(Push(Step(), "k-step"), IsOk());
  EXPECT_EQ(sim_->PortalApplied().size(), 4u);
}

TEST_F(DvcqgPortalAdapterTest, RedeliveryDoesNotSendBlindWhenTheLookupFails) {
  // The portal's internal error, in a well-formed HTTP 200 answer: the
  // lookup shows nothing, so the step may or may not be there already.
  scripted_.answers = {
      {"TraCuuHoSo", R"({"error_code":"500","message":"Lỗi hệ thống"})"}};
  adapter_ = Make(Config(), &scripted_);
  auto again = Push(Step(), "k-step", /*may_have_arrived=*/true);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_TRUE(IsRetriable(again.status()));
  EXPECT_EQ(scripted_.Sent("TraCuuHoSo"), 1);
  EXPECT_EQ(scripted_.Sent("CapNhatTienDoHoSoMC"), 0);
}

// A reply over the HTTP client's limit says so (the same request may get
// it again), and stays retriable: a change may have arrived.
TEST_F(DvcqgPortalAdapterTest, AReplyOverTheLimitSaysSo) {
  scripted_.fail_with = lienthong::adapters::ReplyTooLargeError(4 << 20);
  adapter_ = Make(Config(), &scripted_);
  auto pushed = Push(Step(), "k-step", /*may_have_arrived=*/false);
  EXPECT_THAT(pushed, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("a reply over 4194304 bytes")));
  EXPECT_TRUE(IsRetriable(pushed.status()));
}

// The lookup shows the step, but for another dossier: that proves nothing
// about this one, so the step is sent.
TEST_F(DvcqgPortalAdapterTest, ALookupAboutAnotherDossierShowsNothing) {
  scripted_.answers = {
      {"TraCuuHoSo",
       R"({"error_code":"0","result":[{"MaHoSo":"000.00.01.H31-250715-00999",)"
       R"("QuaTrinhXuLy":[{"TrangThai":"4","ThoiDiemXuLy":"20250715093000"}]}]})"},
      {"CapNhatTienDoHoSoMC", R"({"error_code":"0","message":"OK"})"}};
  adapter_ = Make(Config(), &scripted_);
  auto again = Push(Step(), "k-step", /*may_have_arrived=*/true);
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(again->found_at_portal);
  EXPECT_EQ(scripted_.Sent("CapNhatTienDoHoSoMC"), 1);
  // Named as this dossier, the same entry is the proof.
  scripted_.requests.clear();
  scripted_.answers[0].second =
      R"({"error_code":"0","result":[{"MaHoSo":"000.00.01.H31-250715-00123",)"
      R"("QuaTrinhXuLy":[{"TrangThai":"4","ThoiDiemXuLy":"20250715093000"}]}]})";
  adapter_ = Make(Config(), &scripted_);
  auto shown = Push(Step(), "k-step", /*may_have_arrived=*/true);
  ASSERT_THAT(shown, IsOk());
  EXPECT_TRUE(shown->found_at_portal);
  EXPECT_EQ(scripted_.Sent("CapNhatTienDoHoSoMC"), 0);
}

// A lookup listing only a null entry does not make a registration an
// update of a dossier the portal does not hold.
TEST_F(DvcqgPortalAdapterTest, ANullLookupEntryIsNotTheDossier) {
  scripted_.answers = {
      {"TraCuuHoSo", R"({"error_code":"0","result":[null]})"},
      {"DongBoHoSoMC", R"({"error_code":"0","message":"OK"})"}};
  adapter_ = Make(Config(), &scripted_);
  ASSERT_THAT(Register(Registration(), "k"), IsOk());
  ASSERT_EQ(scripted_.Sent("DongBoHoSoMC"), 1);
  EXPECT_THAT(scripted_.requests.back().body,
              HasSubstr(R"("isUpdating":"False")"));
}

TEST_F(DvcqgPortalAdapterTest, RedeliveryWithARefusedLookupIsNotSent) {
  scripted_.answers = {
      {"TraCuuHoSo", R"({"error_code":"400","message":"Sai mã đơn vị"})"}};
  adapter_ = Make(Config(), &scripted_);
  auto again = Push(Step(), "k-step", /*may_have_arrived=*/true);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->kind, Kind::kRejected);
  // The dead letter names the lookup, not the step, as what was refused.
  EXPECT_THAT(again->reason, HasSubstr("TraCuuHoSo"));
  EXPECT_THAT(again->reason, HasSubstr("Sai mã đơn vị"));
  EXPECT_EQ(scripted_.Sent("CapNhatTienDoHoSoMC"), 0);
}

TEST_F(DvcqgPortalAdapterTest, RepeatedRegistrationUpdatesTheRecord) {
  sim::Knobs knobs;
  knobs.ignore_idempotency_keys = true;
  SetKnobs(knobs);
  ASSERT_THAT(Register(Registration(), "k-reg"), IsOk());
  // The same registration again, as after a lost answer, to a portal that
  // ignores the key: the lookup finds the dossier, so the repeat updates
  // its record instead of registering it twice.
  auto again = Register(Registration(), "k-reg");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->kind, Kind::kApplied);
  std::vector<AppliedPortalItem> applied = sim_->PortalApplied();
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[0].kind, Applied::kRegisterDossier);
  EXPECT_EQ(applied[1].kind, Applied::kUpdateDossier);
}

// A create answered "already exists" (the lookup missed the dossier) is
// sent again as an update under a key of its own. Should that update's
// answer be lost, the next attempt's lookup finds the dossier and sends the
// update under the item's key, to which a portal that keeps answers by key
// replays "already exists": that too becomes the update under the key of
// its own, not a refusal for good.
TEST_F(DvcqgPortalAdapterTest, AReplayedAlreadyExistsBecomesAnUpdate) {
  const std::string kExists =
      R"({"error_code":"-1","message":"Hồ sơ đã tồn tại"})";
  scripted_.answers = {
      {"TraCuuHoSo",
       R"({"error_code":"0","result":[{"MaHoSo":"000.00.01.H31-250715-00123"}]})"},
      {"DongBoHoSoMC", R"({"error_code":"0","message":"OK"})"}};
  scripted_.by_key = {{"X-Idempotency-Key: k", kExists}};
  adapter_ = Make(Config(), &scripted_);
  auto again = Register(Registration(), "k");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->kind, Kind::kApplied);
  EXPECT_THAT(scripted_.Keys("DongBoHoSoMC"),
              ::testing::ElementsAre("k", "k-u"));
  // Once only: "already exists" under the key of its own is final.
  scripted_.requests.clear();
  scripted_.by_key["X-Idempotency-Key: k-u"] = kExists;
  auto refused = Register(Registration(), "k");
  ASSERT_THAT(refused, IsOk());
  EXPECT_NE(refused->kind, Kind::kApplied);
  EXPECT_THAT(scripted_.Keys("DongBoHoSoMC"),
              ::testing::ElementsAre("k", "k-u"));
}

TEST_F(DvcqgPortalAdapterTest, LostAnswerIsRetriable) {
  sim::Knobs lose;
  lose.lose_answer_rate = 1;
  SetKnobs(lose);
  auto lost = Register(Registration(), "k-reg");
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(IsRetriable(lost.status()));
}

// A step whose answer is lost went out once: the connection it used was
// its own, so libcurl did not send it again on a new one (on a portal that
// ignores the key, the step would show twice and the outbox would not
// know). The next attempt then looks first.
TEST_F(DvcqgPortalAdapterTest, AStepWhoseAnswerIsLostIsAppliedOnce) {
  sim::Knobs knobs;
  knobs.ignore_idempotency_keys = true;
  SetKnobs(knobs);
  ASSERT_THAT(Register(Registration(), "k-reg"), IsOk());
  ASSERT_THAT(Push(Step(), "k-step-1"), IsOk());  // a connection kept alive
  const size_t before = sim_->PortalApplied().size();
  knobs.lose_answer_rate = 1;
  SetKnobs(knobs);
  auto lost = Push(Step(lienthong::v1::FINISHED, 1752550000), "k-step-2");
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(IsRetriable(lost.status()));
  EXPECT_EQ(sim_->PortalApplied().size(), before + 1);
  knobs.lose_answer_rate = 0;
  SetKnobs(knobs);
  auto again = Push(Step(lienthong::v1::FINISHED, 1752550000), "k-step-2",
                    /*may_have_arrived=*/true);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->found_at_portal);
  EXPECT_EQ(sim_->PortalApplied().size(), before + 1);
}

TEST_F(DvcqgPortalAdapterTest, PublishesUpdatesAndWithdrawsOnlineServices) {
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
  auto withdrawn = Withdraw(Procedure(), "k-withdraw");
  ASSERT_THAT(withdrawn, IsOk());
  EXPECT_EQ(withdrawn->kind, Kind::kApplied);
  auto gone = Update(Procedure(), "k-update-2");
  ASSERT_THAT(gone, IsOk());
  EXPECT_EQ(gone->kind, Kind::kRejected);
  EXPECT_EQ(gone->reason, "Dịch vụ công không tồn tại");

  std::vector<AppliedPortalItem> applied = sim_->PortalApplied();
  ASSERT_EQ(applied.size(), 3u);
  EXPECT_EQ(applied[0].kind, Applied::kCreateProcedure);
  EXPECT_EQ(applied[0].idempotency_key, "k-create");
  EXPECT_EQ(applied[0].ma_tthc, "1.001193.000.00.00.H31");
  EXPECT_THAT(applied[0].body, HasSubstr("\"MaTTHC\":\"1.001193\""));
  EXPECT_THAT(applied[0].body, HasSubstr("\"MucDo\":\"TOAN_TRINH\""));
  EXPECT_EQ(applied[1].kind, Applied::kUpdateProcedure);
  EXPECT_EQ(applied[2].kind, Applied::kWithdrawProcedure);
}

TEST_F(DvcqgPortalAdapterTest, PermanentRejectionCarriesTheReason) {
  ASSERT_THAT(Register(Registration(), "k-reg"), IsOk());
  sim::Knobs knobs;
  knobs.reject_codes = {kDossier};
  SetKnobs(knobs);
  auto pushed = Push(Step(), "k-rejected");
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->kind, Kind::kRejected);
  EXPECT_EQ(pushed->reason, absl::StrCat("Từ chối: ", kDossier,
                                         " không được chấp nhận"));
}

TEST_F(DvcqgPortalAdapterTest, DownOverloadedAndSlowAreRetriable) {
  ASSERT_THAT(Register(Registration(), "k-reg"), IsOk());  // signed in
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
    SetKnobs(c.knobs);
    ++n;
    auto pushed = Push(Step(lienthong::v1::PROCESSING, 1752546600 + n),
                       absl::StrCat("k-case-", n));
    ASSERT_FALSE(pushed.ok()) << c.name;
    EXPECT_EQ(pushed.status().code(), c.code) << c.name;
    EXPECT_TRUE(IsRetriable(pushed.status())) << c.name;
  }
  SetKnobs(overloaded);
  EXPECT_EQ(RetryAfter(Push(Step(), "k-overloaded").status()),
            absl::Seconds(3));

  sim::Knobs slow;
  slow.latency_ms = 2000;
  SetKnobs(slow);
  auto late = Push(Step(), "k-slow", false, absl::Milliseconds(200));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(IsRetriable(late.status()));
  // The registration and the step with the malformed answer were applied:
  // an unreadable answer may hide a success, which is why it is retried
  // under the same key.
  std::vector<AppliedPortalItem> applied = sim_->PortalApplied();
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[1].idempotency_key, "k-case-4");
}

TEST_F(DvcqgPortalAdapterTest, ReadsTheNationalCatalogue) {
  absl::Notification listed;
  absl::StatusOr<std::vector<lienthong::v1::NationalProcedure>> list;
  CallContext context;
  context.deadline = absl::Now() + absl::Seconds(10);
  adapter_->portal()->ListNationalProcedures(
      context, [&](absl::StatusOr<Reply<std::vector<lienthong::v1::NationalProcedure>>>
                       reply) {
        list = reply.ok() ? absl::StatusOr<std::vector<
                                lienthong::v1::NationalProcedure>>(reply->value)
                          : reply.status();
        listed.Notify();
      });
  listed.WaitForNotification();
  ASSERT_THAT(list, IsOk());
  // The simulator's default: birth registration and the synthetic others.
  EXPECT_EQ(list->size(), 1u + sim::kExtraNationalProcedures);
  EXPECT_EQ((*list)[0].code(), "1.001193");

  auto read = [&](const std::string& code) {
    absl::Notification done;
    absl::StatusOr<lienthong::v1::NationalProcedure> result;
    adapter_->portal()->GetNationalProcedure(
        code, context,
        [&](absl::StatusOr<Reply<lienthong::v1::NationalProcedure>> reply) {
          result = reply.ok() ? absl::StatusOr<lienthong::v1::NationalProcedure>(
                                    reply->value)
                              : reply.status();
          done.Notify();
        });
    done.WaitForNotification();
    return result;
  };
  auto birth = read("1.001193");
  ASSERT_THAT(birth, IsOk());
  EXPECT_EQ(birth->name(), "Đăng ký khai sinh");
  ASSERT_EQ(birth->fields_size(), 1);
  EXPECT_EQ(birth->fields(0).name(), "Hộ tịch");
  EXPECT_TRUE(birth->detailed());
  EXPECT_THAT(read("9.999999"), StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  // Reads change nothing at the portal.
  EXPECT_TRUE(sim_->PortalApplied().empty());
}

TEST_F(DvcqgPortalAdapterTest, UnsafeIdempotencyKeyIsRefused) {
  EXPECT_THAT(Push(Step(), "bad\r\nX-Evil: 1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("idempotency key")));
  EXPECT_THAT(Register(Registration(), ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("idempotency key")));
  EXPECT_EQ(SignIns(), 0);
}

TEST_F(DvcqgPortalAdapterTest, FactoryValidatesTheConfig) {
  auto factory = MakeDvcqgPortalRestFactory();
  EXPECT_EQ(factory->name(), "dvcqg-portal-rest");
  AdapterContext context;
  context.http = http_.get();
  struct Case {
    void (*spoil)(lienthong::adapters::dvcqg::DvcqgPortalRestConfig&);
    const char* message;
  };
  const Case kCases[] = {
      {[](auto& c) { c.mutable_upstream()->set_base_url("http://x"); },
       "https://"},
      {[](auto& c) { c.clear_auth_endpoint(); }, "auth_endpoint is required"},
      {[](auto& c) { c.clear_integration_endpoint(); },
       "integration_endpoint is required"},
      {[](auto& c) { c.set_integration_endpoint("adapter"); },
       "integration_endpoint must start with /"},
      {[](auto& c) { c.set_share_endpoint("/a b"); }, "share_endpoint"},
      {[](auto& c) { c.clear_username(); }, "username is required"},
      {[](auto& c) { c.clear_password(); }, "password is required"},
      {[](auto& c) { c.clear_madonvi(); }, "madonvi is required"},
      {[](auto& c) { c.set_dstcode("a\nb"); }, "dstcode"},
      {[](auto& c) { c.add_session_error_codes(""); }, "session_error_codes"},
  };
  for (const Case& c : kCases) {
    auto config = Config();
    c.spoil(config);
    EXPECT_THAT(factory->Create(config, context),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(c.message)))
        << c.message;
  }
  EXPECT_THAT(factory->Create(Config(), AdapterContext{}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("HTTP client")));
}

}  // namespace
}  // namespace lienthong::adapters::dvcqg
