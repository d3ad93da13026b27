// GatewayServer over real mutual TLS on 127.0.0.1:0, in front of a scripted
// fake adapter (a factory registered here, as a new national system would
// be): who may call what, validation before any upstream call, routing with
// the caller's identity and deadline, grants, rate limits, how adapter
// failures reach the caller, and reloads.
#include "gateway/server/gateway_server.h"

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "adapters/registry.h"
#include "gateway/config/config_error.h"
#include "gmock/gmock.h"
#include "google/protobuf/empty.pb.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "lienthong/v1/portal.grpc.pb.h"
#include "tests/integration/gateway_env.h"      // UseTestListener
#include "tests/integration/gateway_process.h"  // ClientChannel, HealthOnceIs
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"
#include "tests/testing/test_officer.h"

namespace lienthong::server {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::lienthong::testing::HealthOnceIs;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::testing::TestCert;
using ::lienthong::v1::Citizen;
using ::lienthong::v1::LookupCitizenRequest;
using ::lienthong::v1::VerifyIdentityRequest;
using ::lienthong::v1::VerifyIdentityResponse;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCitizenId[] = "033085012345";
constexpr char kDossierSystem[] = "spiffe://lienthong.local/dossier-system";

// What the fake national system is told to answer, and what it saw.
class Script {
 public:
  void Push(absl::Status failure) {
    absl::MutexLock lock(&mu_);
    failures_.push_back(std::move(failure));
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    failures_.clear();
  }
  // The national system needs `time` to answer: a call given less runs out
  // of it (as the HTTP client would report).
  void NeedTime(absl::Duration time) {
    absl::MutexLock lock(&mu_);
    need_ = time;
  }
  // The next answer: a queued failure, else OK.
  absl::Status Next(const adapters::CallContext& context) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    last_caller_ = context.caller;
    last_time_left_ = context.deadline - absl::Now();
    if (last_time_left_ < need_) {
      return absl::DeadlineExceededError(
          "the national system did not answer in time");
    }
    if (failures_.empty()) return absl::OkStatus();
    absl::Status next = failures_.front();
    failures_.pop_front();
    return next;
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::string last_caller() const {
    absl::MutexLock lock(&mu_);
    return last_caller_;
  }
  absl::Duration last_time_left() const {
    absl::MutexLock lock(&mu_);
    return last_time_left_;
  }
  // Parked: lookups are kept unanswered (as a national system that hangs)
  // until answered with Unpark.
  void Park(bool park) {
    absl::MutexLock lock(&mu_);
    park_ = park;
  }
  bool Parks() const {
    absl::MutexLock lock(&mu_);
    return park_;
  }
  void Keep(adapters::Callback<Citizen> done) {
    absl::MutexLock lock(&mu_);
    parked_.push_back(std::move(done));
  }
  size_t parked() const {
    absl::MutexLock lock(&mu_);
    return parked_.size();
  }
  // Answers the parked lookups with `status`.
  void Unpark(const absl::Status& status) {
    std::vector<adapters::Callback<Citizen>> parked;
    {
      absl::MutexLock lock(&mu_);
      parked.swap(parked_);
    }
    for (auto& done : parked) std::move(done)(status);
  }
  void AdapterGone() {
    absl::MutexLock lock(&mu_);
    ++adapters_gone_;
  }
  int adapters_gone() const {
    absl::MutexLock lock(&mu_);
    return adapters_gone_;
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_caller_ ABSL_GUARDED_BY(mu_);
  absl::Duration last_time_left_ ABSL_GUARDED_BY(mu_);
  bool park_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration need_ ABSL_GUARDED_BY(mu_);
  std::vector<adapters::Callback<Citizen>> parked_ ABSL_GUARDED_BY(mu_);
  int adapters_gone_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeAdapter final : public adapters::Adapter,
                          public adapters::IdentityAdapter,
                          public adapters::PopulationAdapter {
 public:
  explicit FakeAdapter(Script* script) : script_(script) {}
  ~FakeAdapter() override { script_->AdapterGone(); }
  adapters::IdentityAdapter* identity() override { return this; }
  adapters::PopulationAdapter* population() override { return this; }

  void Lookup(const LookupCitizenRequest& request,
              const adapters::CallContext& context,
              adapters::Callback<Citizen> done) override {
    absl::Status status = script_->Next(context);
    if (!status.ok()) return std::move(done)(status);
    if (script_->Parks()) {
      // Answered later; it touches the adapter then, as a real one would.
      return script_->Keep(
          [this, done = std::move(done)](
              absl::StatusOr<adapters::Reply<Citizen>> reply) mutable {
            lookups_answered_late_++;
            std::move(done)(std::move(reply));
          });
    }
    Citizen citizen;  // The whole record: the gateway trims it.
    citizen.set_citizen_id(request.citizen_id());
    citizen.mutable_name()->set_full("Nguyễn Văn An");
    citizen.mutable_name()->set_family("Nguyễn");
    citizen.mutable_birth_date()->set_year(1985);
    citizen.mutable_permanent_address()->set_detail("Thôn 3");
    citizen.set_religion("Không");
    std::move(done)(adapters::Reply<Citizen>{citizen, "C06-REF-9"});
  }

  void Verify(const VerifyIdentityRequest& request,
              const adapters::CallContext& context,
              adapters::Callback<VerifyIdentityResponse> done) override {
    absl::Status status = script_->Next(context);
    if (!status.ok()) return std::move(done)(status);
    VerifyIdentityResponse response;
    response.set_result(VerifyIdentityResponse::MATCH);
    std::move(done)(adapters::Reply<VerifyIdentityResponse>{response, "V-1"});
  }

 private:
  Script* const script_;
  int lookups_answered_late_ = 0;
};

// It takes no config (google.protobuf.Empty).
class FakeFactory final
    : public adapters::FactoryBase<google::protobuf::Empty> {
 public:
  explicit FakeFactory(Script* script) : script_(script) {}
  absl::string_view name() const override { return "fake"; }

 protected:
  absl::StatusOr<std::unique_ptr<adapters::Adapter>> CreateTyped(
      const google::protobuf::Empty&,
      const adapters::AdapterContext&) const override {
    return std::make_unique<FakeAdapter>(script_);
  }

 private:
  Script* const script_;
};

lienthong::config::v1::GatewayConfig Config() {
  lienthong::config::v1::GatewayConfig config;
  config.set_node_name("server-test");
  ::lienthong::testing::UseTestListener(config);
  config.mutable_audit()->set_disabled(true);
  config.mutable_admin()->set_disabled(true);
  auto* adapter = config.add_adapters();
  adapter->set_name("national");
  adapter->set_type("fake");
  adapter->mutable_config()->PackFrom(google::protobuf::Empty());
  for (const char* method : {"lienthong.v1.PopulationService/LookupCitizen",
                             "lienthong.v1.IdentityService/VerifyIdentity"}) {
    auto* route = config.add_routes();
    route->set_method(method);
    route->set_adapter("national");
    route->set_timeout_ms(2000);
    route->mutable_retry()->set_max_attempts(2);
    route->mutable_retry()->set_initial_backoff_ms(1);
  }
  auto* dossier = config.add_clients();
  dossier->set_id(kDossierSystem);
  dossier->add_methods("lienthong.v1.PopulationService/LookupCitizen");
  dossier->add_methods("lienthong.v1.IdentityService/VerifyIdentity");
  auto* birth = dossier->add_grants();
  birth->add_purposes("1.001193");
  birth->add_fields("name");
  birth->add_fields("birth_date");
  auto* any = dossier->add_grants();
  any->add_purposes("*");
  any->add_fields("name");
  auto* portal = config.add_clients();
  portal->set_id("spiffe://lienthong.local/citizen-portal");
  portal->add_methods("lienthong.v1.IdentityService/VerifyIdentity");
  portal->mutable_rate_limit()->set_requests_per_second(0.001);
  portal->mutable_rate_limit()->set_burst(1);
  config.add_clients()->set_id("spiffe://lienthong.local/no-rights");
  return config;
}

class GatewayServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(registry_.Register(std::make_unique<FakeFactory>(&script_)),
                IsOk());
    auto server = GatewayServer::Start(Config(), registry_, /*http=*/nullptr);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }

  // `client`'s test certificate, or none for "".
  std::shared_ptr<grpc::Channel> Channel(const std::string& client) const {
    return ::lienthong::testing::ClientChannel(server_->port(), client);
  }

  // Channel(client) once its TLS handshake is done, so that a short
  // deadline given to a call on it is not spent (on a loaded machine, all
  // of it) before the call reaches the server.
  std::shared_ptr<grpc::Channel> ConnectedChannel(
      const std::string& client) const {
    std::shared_ptr<grpc::Channel> channel = Channel(client);
    EXPECT_TRUE(channel->WaitForConnected(
        absl::ToChronoTime(absl::Now() + absl::Seconds(10))))
        << client;
    return channel;
  }

  grpc::Status Lookup(const std::string& client, const LookupCitizenRequest& r,
                      Citizen* out = nullptr,
                      absl::Duration timeout = absl::Seconds(10),
                      std::string* reference = nullptr) {
    return LookupOn(Channel(client), r, out, timeout, reference);
  }

  grpc::Status LookupOn(const std::shared_ptr<grpc::Channel>& channel,
                        const LookupCitizenRequest& r, Citizen* out = nullptr,
                        absl::Duration timeout = absl::Seconds(10),
                        std::string* reference = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    Citizen citizen;
    grpc::Status status =
        lienthong::v1::PopulationService::NewStub(channel)->LookupCitizen(
            &context, r, out != nullptr ? out : &citizen);
    if (reference != nullptr) {
      auto it = context.GetServerTrailingMetadata().find("lienthong-reference");
      if (it != context.GetServerTrailingMetadata().end()) {
        *reference = std::string(it->second.data(), it->second.size());
      }
    }
    return status;
  }

  // Config() with a breaker that opens after `consecutive_failures` and
  // stays open for a minute.
  static lienthong::config::v1::GatewayConfig BreakerConfig(
      int consecutive_failures) {
    lienthong::config::v1::GatewayConfig config = Config();
    auto* breaker = config.mutable_adapters(0)->mutable_breaker();
    breaker->set_consecutive_failures(consecutive_failures);
    breaker->set_open_seconds(60);
    return config;
  }

  grpc::Status Verify(const std::string& client,
                      const VerifyIdentityRequest& r) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    VerifyIdentityResponse response;
    return lienthong::v1::IdentityService::NewStub(Channel(client))
        ->VerifyIdentity(&context, r, &response);
  }

  static LookupCitizenRequest GoodLookup() {
    LookupCitizenRequest r;
    r.set_citizen_id(kCitizenId);
    r.set_purpose("1.001193");
    r.set_dossier_id("000.00.01.H31-251127-00042");
    *r.mutable_officer() = testing::TestOfficer();
    return r;
  }
  static VerifyIdentityRequest GoodVerify() {
    VerifyIdentityRequest r;
    r.set_citizen_id(kCitizenId);
    r.set_full_name("Nguyễn Văn An");
    *r.mutable_officer() = testing::TestOfficer();
    return r;
  }

  Script script_;
  adapters::AdapterRegistry registry_;
  std::unique_ptr<GatewayServer> server_;
};

TEST_F(GatewayServerTest, OnlyRegisteredCallersReachTheirMethods) {
  // Not in the handshake's trust: refused before any HTTP/2 frame is read.
  EXPECT_EQ(Lookup("", GoodLookup()).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Lookup("rogue-client", GoodLookup()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // Known certificate, no right to the method.
  grpc::Status denied = Lookup("no-rights", GoodLookup());
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(denied.error_message(), HasSubstr("LookupCitizen"));
  EXPECT_EQ(Lookup("citizen-portal", GoodLookup()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A certificate of the right CA the config does not list: refused in
  // the handshake too.
  EXPECT_EQ(Lookup("auditor", GoodLookup()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(script_.calls(), 0);
  EXPECT_TRUE(Lookup("dossier-system", GoodLookup()).ok());
  EXPECT_EQ(script_.calls(), 1);
}

TEST_F(GatewayServerTest, MalformedRequestsNeverReachTheNationalSystem) {
  struct Case {
    const char* name;
    void (*change)(LookupCitizenRequest&);
    const char* message;
  };
  const Case kCases[] = {
      {"short ID", [](auto& r) { r.set_citizen_id("03308501234"); }, "12"},
      {"province code", [](auto& r) { r.set_citizen_id("999085012345"); },
       "province"},
      {"no purpose", [](auto& r) { r.clear_purpose(); }, "purpose is required"},
      {"purpose not a code", [](auto& r) { r.set_purpose("birth"); },
       "procedure code"},
      {"dossier with spaces", [](auto& r) { r.set_dossier_id("a b"); },
       "dossier_id"},
      {"unknown field", [](auto& r) { r.mutable_fields()->add_paths("salary"); },
       "salary"},
  };
  for (const Case& c : kCases) {
    LookupCitizenRequest request = GoodLookup();
    c.change(request);
    grpc::Status status = Lookup("dossier-system", request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_THAT(status.error_message(),
                AllOf(HasSubstr(c.message), Not(HasSubstr("085012"))))
        << c.name;
  }
  VerifyIdentityRequest nameless = GoodVerify();
  nameless.clear_full_name();
  EXPECT_EQ(Verify("dossier-system", nameless).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // The name rule is the gateway's, not only the adapter's: the fake adapter
  // would answer MATCH.
  VerifyIdentityRequest digit = GoodVerify();
  digit.set_full_name("Nguyen Van 3");
  grpc::Status refused = Verify("dossier-system", digit);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(),
              AllOf(HasSubstr("full_name"), Not(HasSubstr("Nguyen"))));
  VerifyIdentityRequest february = GoodVerify();
  february.mutable_birth_date()->set_year(1985);
  february.mutable_birth_date()->set_month(2);
  february.mutable_birth_date()->set_day(30);
  refused = Verify("dossier-system", february);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "birth_date's day does not exist in its month");
  EXPECT_EQ(script_.calls(), 0);
}

TEST_F(GatewayServerTest, ACallGoesToItsRouteWithTheCallerAndACappedDeadline) {
  Citizen citizen;
  std::string reference;
  ASSERT_TRUE(Lookup("dossier-system", GoodLookup(), &citizen,
                     absl::Seconds(30), &reference)
                  .ok());
  EXPECT_EQ(script_.last_caller(), kDossierSystem);
  // The route's 2 s cap, not the caller's 30 s.
  EXPECT_LE(script_.last_time_left(), absl::Seconds(2));
  EXPECT_GT(script_.last_time_left(), absl::ZeroDuration());
  EXPECT_EQ(reference, "C06-REF-9");
  // Trimmed to the grant for 1.001193: name and birth date only.
  EXPECT_EQ(citizen.name().full(), "Nguyễn Văn An");
  EXPECT_EQ(citizen.name().family(), "Nguyễn");
  EXPECT_EQ(citizen.birth_date().year(), 1985);
  EXPECT_FALSE(citizen.has_permanent_address());
  EXPECT_EQ(citizen.religion(), "");
  EXPECT_EQ(citizen.citizen_id(), "");

  // A shorter caller deadline wins over the route's.
  ASSERT_TRUE(Lookup("dossier-system", GoodLookup(), &citizen,
                     absl::Milliseconds(800))
                  .ok());
  EXPECT_LE(script_.last_time_left(), absl::Milliseconds(800));
  EXPECT_TRUE(Verify("dossier-system", GoodVerify()).ok());
  EXPECT_EQ(script_.calls(), 3);
}

TEST_F(GatewayServerTest, FieldsBeyondTheGrantAreRefusedByName) {
  LookupCitizenRequest request = GoodLookup();
  request.mutable_fields()->add_paths("name");
  request.mutable_fields()->add_paths("permanent_address");
  grpc::Status status = Lookup("dossier-system", request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("permanent_address"));
  // Another purpose gets the wildcard grant: the name only.
  request = GoodLookup();
  request.set_purpose("2.000001");
  Citizen citizen;
  ASSERT_TRUE(Lookup("dossier-system", request, &citizen).ok());
  EXPECT_EQ(citizen.name().full(), "Nguyễn Văn An");
  EXPECT_FALSE(citizen.has_birth_date());
  // A path inside a granted field gets that part only.
  request.mutable_fields()->add_paths("name.full");
  citizen.Clear();
  ASSERT_TRUE(Lookup("dossier-system", request, &citizen).ok());
  EXPECT_EQ(citizen.name().full(), "Nguyễn Văn An");
  EXPECT_EQ(citizen.name().family(), "");
  EXPECT_FALSE(citizen.has_birth_date());
  EXPECT_EQ(citizen.citizen_id(), "");
}

TEST_F(GatewayServerTest, AClientOverItsRateIsRefusedWithoutAnUpstreamCall) {
  EXPECT_TRUE(Verify("citizen-portal", GoodVerify()).ok());
  grpc::Status limited = Verify("citizen-portal", GoodVerify());
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(limited.error_message(), HasSubstr("rate limit"));
  EXPECT_EQ(script_.calls(), 1);
  // Others are not limited by it.
  EXPECT_TRUE(Verify("dossier-system", GoodVerify()).ok());
  // A reload (logrotate's daily SIGHUP) that leaves the limits as they are
  // does not refill the bucket; changed limits start afresh.
  lienthong::config::v1::GatewayConfig config = Config();
  ASSERT_THAT(server_->Reload(config), IsOk());
  EXPECT_EQ(Verify("citizen-portal", GoodVerify()).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  config.mutable_listener()->mutable_limits()->set_client_burst(20000);
  ASSERT_THAT(server_->Reload(config), IsOk());
  EXPECT_TRUE(Verify("citizen-portal", GoodVerify()).ok());
}

TEST_F(GatewayServerTest, AdapterFailuresReachTheCallerByCode) {
  struct Case {
    absl::Status failure;
    grpc::StatusCode code;
    int attempts;  // calls the adapter sees
  };
  const Case kCases[] = {
      {absl::NotFoundError("no such citizen"), grpc::StatusCode::NOT_FOUND, 1},
      {absl::UnavailableError("down"), grpc::StatusCode::UNAVAILABLE, 1},
      {adapters::MarkRetriable(absl::UnavailableError("busy")),
       grpc::StatusCode::UNAVAILABLE, 2},  // retried (max_attempts 2)
      {absl::DeadlineExceededError("slow"),
       grpc::StatusCode::DEADLINE_EXCEEDED, 1},
      {absl::InternalError("bug"), grpc::StatusCode::INTERNAL, 1},
  };
  for (const Case& c : kCases) {
    const int before = script_.calls();
    script_.Push(c.failure);
    script_.Push(c.failure);  // for the retry, if any
    grpc::Status status = Lookup("dossier-system", GoodLookup());
    EXPECT_EQ(status.error_code(), c.code) << c.failure;
    EXPECT_EQ(status.error_message(), c.failure.message());
    EXPECT_EQ(script_.calls() - before, c.attempts) << c.failure;
    script_.Clear();  // the unused second failure
  }
}

TEST_F(GatewayServerTest, ReloadsSwapRoutesAndABadConfigLeavesTheRunningOne) {
  lienthong::config::v1::GatewayConfig without_lookups = Config();
  without_lookups.mutable_routes()->DeleteSubrange(0, 1);
  ASSERT_THAT(server_->Reload(without_lookups), IsOk());
  grpc::Status unrouted = Lookup("dossier-system", GoodLookup());
  EXPECT_EQ(unrouted.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(unrouted.error_message(), HasSubstr("no route is configured"));

  lienthong::config::v1::GatewayConfig broken = Config();
  broken.mutable_routes(0)->set_method("lienthong.v1.AuditService/QueryAudit");
  EXPECT_THAT(server_->Reload(broken),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("routes[0].method: "
                                 "'lienthong.v1.AuditService/QueryAudit' "
                                 "cannot be routed")));
  lienthong::config::v1::GatewayConfig invalid = Config();
  invalid.mutable_clients(1)->set_id(kDossierSystem);
  EXPECT_THAT(server_->Reload(invalid),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("clients[1].id")));
  // Still the config without lookups.
  EXPECT_EQ(Lookup("dossier-system", GoodLookup()).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(Verify("dossier-system", GoodVerify()).ok());
}

// A call answered at its deadline while its attempt still hangs keeps the
// runtime (adapter, breaker, retrier) alive until the attempt answers, even
// when a reload has replaced it meanwhile: the late answer reaches a live
// adapter and retrier, and only then does the old runtime go.
TEST_F(GatewayServerTest, AReloadWaitsForAnAttemptTheDeadlineAbandoned) {
  script_.Park(true);
  EXPECT_EQ(LookupOn(ConnectedChannel("dossier-system"), GoodLookup(), nullptr,
                     absl::Milliseconds(1500))
                .error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  // The caller's deadline passes on its side: the gateway may still be on
  // its way to the adapter then.
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (script_.parked() == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));  // polling the adapter
  }
  ASSERT_EQ(script_.parked(), 1u);
  script_.Park(false);
  ASSERT_THAT(server_->Reload(Config()), IsOk());
  EXPECT_TRUE(Lookup("dossier-system", GoodLookup()).ok());  // the new one
  // The old runtime's adapter lives while its attempt is outstanding.
  ASSERT_EQ(script_.adapters_gone(), 0);
  script_.Unpark(absl::UnavailableError("national system timed out"));
  EXPECT_EQ(script_.adapters_gone(), 1);
}

// A caller that cancels its call is not retried for: the national system
// is not asked again for an answer nobody waits for.
TEST_F(GatewayServerTest, ACancelledCallIsNotRetried) {
  lienthong::config::v1::GatewayConfig config = Config();
  config.mutable_routes(0)->mutable_retry()->set_max_attempts(3);
  ASSERT_THAT(server_->Reload(config), IsOk());
  for (int i = 0; i < 3; ++i) {
    script_.Push(
        adapters::MarkRetriableAfter(absl::UnavailableError("busy"), "1"));
  }
  std::shared_ptr<grpc::Channel> channel = ConnectedChannel("dossier-system");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  // Cancelled once the first attempt has reached the adapter (answered at
  // once: busy, retry after 1 s), so during the wait for the retry, however
  // long the call takes to get there on a loaded machine.
  std::thread cancel([this, &context] {
    const absl::Time give_up = absl::Now() + absl::Seconds(5);
    while (script_.calls() == 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));  // polling the adapter
    }
    context.TryCancel();
  });
  Citizen citizen;
  grpc::Status status =
      lienthong::v1::PopulationService::NewStub(channel)->LookupCitizen(
          &context, GoodLookup(), &citizen);
  cancel.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  absl::SleepFor(absl::Milliseconds(1500));  // past the 1 s Retry-After
  EXPECT_EQ(script_.calls(), 1);
}

// A caller whose own deadline is too short for the national system gets
// DEADLINE_EXCEEDED, and that says nothing about the system: the breaker
// stays closed for everyone else. Running out of the route's own timeout
// does count, and opens it.
TEST_F(GatewayServerTest, ACallersShortDeadlineDoesNotOpenTheBreaker) {
  lienthong::config::v1::GatewayConfig config = BreakerConfig(3);
  ASSERT_THAT(server_->Reload(config), IsOk());
  script_.NeedTime(absl::Milliseconds(500));
  // On a connected channel, so that the calls reach the adapter rather than
  // spend their 100 ms on the TLS handshake.
  std::shared_ptr<grpc::Channel> channel = ConnectedChannel("dossier-system");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(LookupOn(channel, GoodLookup(), nullptr, absl::Milliseconds(100))
                  .error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  EXPECT_TRUE(Lookup("dossier-system", GoodLookup()).ok());

  // Slower than the route's 2 s allows: the system's own failures.
  script_.NeedTime(absl::Seconds(5));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Lookup("dossier-system", GoodLookup()).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  const int calls = script_.calls();
  grpc::Status refused = Lookup("dossier-system", GoodLookup());
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(), HasSubstr("circuit breaker"));
  EXPECT_EQ(script_.calls(), calls);
}

// A reload (logrotate's daily SIGHUP) keeps the protections of a national
// system whose settings it does not change: an open breaker stays open.
// Changed settings give the system new ones.
TEST_F(GatewayServerTest, AReloadKeepsTheBreakerOfAnUnchangedSystem) {
  lienthong::config::v1::GatewayConfig config = BreakerConfig(2);
  ASSERT_THAT(server_->Reload(config), IsOk());
  script_.NeedTime(absl::Seconds(5));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Lookup("dossier-system", GoodLookup()).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  script_.NeedTime(absl::ZeroDuration());
  const int calls = script_.calls();
  ASSERT_THAT(Lookup("dossier-system", GoodLookup()).error_message(),
              HasSubstr("circuit breaker"));

  ASSERT_THAT(server_->Reload(config), IsOk());
  grpc::Status refused = Lookup("dossier-system", GoodLookup());
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(), HasSubstr("circuit breaker"));
  EXPECT_EQ(script_.calls(), calls);

  config.mutable_adapters(0)->mutable_breaker()->set_open_seconds(30);
  ASSERT_THAT(server_->Reload(config), IsOk());
  EXPECT_TRUE(Lookup("dossier-system", GoodLookup()).ok());
  EXPECT_EQ(script_.calls(), calls + 1);
}

TEST(GatewayServerStartTest, ConfigsThatCannotServeAreRefusedAtTheirField) {
  Script script;
  adapters::AdapterRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<FakeFactory>(&script)), IsOk());
  lienthong::config::v1::GatewayConfig waived = Config();
  waived.mutable_listener()->mutable_tls()->set_require_client_cert(false);
  EXPECT_THAT(GatewayServer::Start(waived, registry, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("listener.tls.require_client_cert")));
  lienthong::config::v1::GatewayConfig wrong_key = Config();
  wrong_key.mutable_listener()->mutable_tls()->set_key_file(TestCert("sim.key"));
  auto started = GatewayServer::Start(wrong_key, registry, nullptr);
  EXPECT_THAT(started, StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("listener.tls.key_file")));
  EXPECT_THAT(config::ConfigFieldOf(started.status()),
              ::testing::Optional(std::string("listener.tls.key_file")));
  EXPECT_EQ(script.calls(), 0);
}

// A service served beside the gateway's own (here in the portal sync's
// place) is ready when the gateway is and its own check passes: /readyz's
// answer (Ready) and grpc.health.v1.Health follow that check for it and
// for the whole server, not for the gateway's other services.
TEST(GatewayServerHealthTest, AServiceBesideTheGatewayFollowsItsOwnCheck) {
  constexpr char kPopulation[] = "lienthong.v1.PopulationService";
  const std::string portal_name =
      lienthong::v1::PortalSyncService::service_full_name();
  Script script;
  adapters::AdapterRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<FakeFactory>(&script)),
              IsOk());
  lienthong::v1::PortalSyncService::CallbackService portal;
  absl::Mutex mu;
  absl::Status store = absl::OkStatus();
  auto server = GatewayServer::Start(Config(), registry, nullptr,
                                     {{&portal, portal_name,
                                       [&mu, &store] {
                                         absl::MutexLock lock(&mu);
                                         return store;
                                       },
                                       nullptr}});
  ASSERT_THAT(server, IsOk());
  const int port = (*server)->port();
  EXPECT_THAT((*server)->Ready(), IsOk());
  EXPECT_EQ(HealthOnceIs(port, "dossier-system", portal_name,
                         HealthCheckResponse::SERVING),
            HealthCheckResponse::SERVING);

  {
    absl::MutexLock lock(&mu);
    store = absl::UnavailableError("outbox database unreachable");
  }
  EXPECT_THAT((*server)->ServiceReady(portal_name),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("outbox database unreachable")));
  EXPECT_THAT((*server)->Ready(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("outbox database unreachable")));
  EXPECT_THAT((*server)->ServiceReady(kPopulation), IsOk());
  EXPECT_EQ(HealthOnceIs(port, "dossier-system", portal_name,
                         HealthCheckResponse::NOT_SERVING),
            HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(HealthOnceIs(port, "dossier-system", "",
                         HealthCheckResponse::NOT_SERVING),
            HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(HealthOnceIs(port, "dossier-system", kPopulation,
                         HealthCheckResponse::SERVING),
            HealthCheckResponse::SERVING);

  {
    absl::MutexLock lock(&mu);
    store = absl::OkStatus();
  }
  EXPECT_EQ(HealthOnceIs(port, "dossier-system", portal_name,
                         HealthCheckResponse::SERVING),
            HealthCheckResponse::SERVING);
  EXPECT_EQ(
      HealthOnceIs(port, "dossier-system", "", HealthCheckResponse::SERVING),
      HealthCheckResponse::SERVING);
  (*server)->Shutdown(absl::ZeroDuration());
  (*server)->Wait();
}

}  // namespace
}  // namespace lienthong::server
