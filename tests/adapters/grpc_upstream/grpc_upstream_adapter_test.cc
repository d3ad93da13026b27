// The grpc-upstream adapter against a scripted lienthong.v1 server over real
// mutual TLS on 127.0.0.1:0: relaying, deadlines, how upstream failures are
// mapped, and that an unavailable upstream is retried by the same
// resilience code the gateway runs (gateway/server/resilient_call.h), and
// that answers about another citizen or with an unknown result are refused.
#include "adapters/grpc_upstream/grpc_upstream_adapter.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "adapters/grpc_upstream/grpc_upstream_config.pb.h"
#include "gateway/resilience/circuit_breaker.h"
#include "gateway/resilience/rate_limiter.h"
#include "gateway/resilience/retry.h"
#include "gateway/resilience/timer.h"
#include "gateway/server/resilient_call.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/server.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/gateway/cli/tls_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace lienthong::adapters::grpc_upstream {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::testing::TestCert;
using ::lienthong::v1::Citizen;
using ::lienthong::v1::LookupCitizenRequest;
using ::lienthong::v1::VerifyIdentityRequest;
using ::lienthong::v1::VerifyIdentityResponse;
using ::testing::AllOf;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCitizenId[] = "033085012345";
// The same citizen's old ID card number.
constexpr char kOldIdNumber[] = "145123456";
// Another citizen's numbers.
constexpr char kOtherCitizenId[] = "001090054321";
constexpr char kOtherOldIdNumber[] = "145999999";
// What a hostile upstream might put in an error message.
constexpr char kUpstreamMessage[] = "033085012345 NGUYEN VAN AN secret-token";

// One scripted answer: a status, after an optional delay (cut short when
// the call is cancelled or its deadline passes); for an OK answer, the
// record or verification result to send instead of the citizen asked for
// or MATCH.
struct Answer {
  grpc::Status status = grpc::Status::OK;
  absl::Duration delay = absl::ZeroDuration();
  std::optional<Citizen> citizen = std::nullopt;
  std::optional<int> result = std::nullopt;
};

// The upstream: answers from a script (OK once it is used up) and records
// what it received and who called.
class ScriptedUpstream final : public lienthong::v1::PopulationService::Service,
                               public lienthong::v1::IdentityService::Service {
 public:
  void Script(std::vector<Answer> answers) {
    absl::MutexLock lock(&mu_);
    script_.assign(answers.begin(), answers.end());
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  LookupCitizenRequest last_lookup() const {
    absl::MutexLock lock(&mu_);
    return last_lookup_;
  }
  VerifyIdentityRequest last_verify() const {
    absl::MutexLock lock(&mu_);
    return last_verify_;
  }
  std::string last_caller() const {
    absl::MutexLock lock(&mu_);
    return last_caller_;
  }
  // The deadline the last call carried, as time left when it arrived.
  absl::Duration last_time_left() const {
    absl::MutexLock lock(&mu_);
    return last_time_left_;
  }

  grpc::Status LookupCitizen(grpc::ServerContext* ctx,
                             const LookupCitizenRequest* request,
                             Citizen* response) override {
    {
      absl::MutexLock lock(&mu_);
      last_lookup_ = *request;
    }
    Answer answer = Next(ctx);
    if (!answer.status.ok()) return answer.status;
    if (answer.citizen.has_value()) {
      *response = *answer.citizen;
    } else if (request->citizen_id().size() == 9) {
      // Asked by old ID card number: the record holds both numbers.
      response->set_citizen_id(kCitizenId);
      response->set_old_id_number(request->citizen_id());
    } else {
      response->set_citizen_id(request->citizen_id());
    }
    response->mutable_name()->set_given("An");
    // A field of a newer (or hostile) upstream the gateway does not know.
    response->GetReflection()
        ->MutableUnknownFields(response)
        ->AddLengthDelimited(9999, "extra");
    ctx->AddTrailingMetadata("lienthong-reference", "C06-REF-1");
    return grpc::Status::OK;
  }

  grpc::Status VerifyIdentity(grpc::ServerContext* ctx,
                              const VerifyIdentityRequest* request,
                              VerifyIdentityResponse* response) override {
    {
      absl::MutexLock lock(&mu_);
      last_verify_ = *request;
    }
    Answer answer = Next(ctx);
    if (!answer.status.ok()) return answer.status;
    // proto3 keeps any value, as a newer or hostile upstream may send.
    response->set_result(static_cast<VerifyIdentityResponse::Result>(
        answer.result.value_or(VerifyIdentityResponse::MATCH)));
    response->set_reference("VNEID-REF-7");
    response->GetReflection()->MutableUnknownFields(response)->AddVarint(9998, 1);
    return grpc::Status::OK;
  }

 private:
  Answer Next(grpc::ServerContext* ctx) {
    Answer answer;
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      const auto uris = ctx->auth_context()->FindPropertyValues(
          GRPC_PEER_URI_PROPERTY_NAME);
      last_caller_ =
          uris.empty() ? "" : std::string(uris.front().data(), uris.front().size());
      last_time_left_ = absl::FromChrono(ctx->deadline()) - absl::Now();
      if (!script_.empty()) {
        answer = script_.front();
        script_.pop_front();
      }
    }
    const absl::Time until = absl::Now() + answer.delay;
    while (absl::Now() < until && !ctx->IsCancelled()) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    return answer;
  }

  mutable absl::Mutex mu_;
  std::deque<Answer> script_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  LookupCitizenRequest last_lookup_ ABSL_GUARDED_BY(mu_);
  VerifyIdentityRequest last_verify_ ABSL_GUARDED_BY(mu_);
  std::string last_caller_ ABSL_GUARDED_BY(mu_);
  absl::Duration last_time_left_ ABSL_GUARDED_BY(mu_);
};

// Waits for one adapter callback. The state is shared with the callback,
// which may still be returning from Notify() when the wait ends.
template <typename T>
class Result {
 public:
  Callback<T> Done() {
    return [state = state_](absl::StatusOr<Reply<T>> r) {
      state->reply = std::move(r);
      state->done.Notify();
    };
  }
  absl::StatusOr<Reply<T>>& Wait() {
    EXPECT_TRUE(state_->done.WaitForNotificationWithTimeout(absl::Seconds(20)));
    return state_->reply;
  }

 private:
  struct State {
    absl::Notification done;
    absl::StatusOr<Reply<T>> reply = absl::UnknownError("no answer");
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

class GrpcUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = cli::testing::StartTlsServer(
        {static_cast<lienthong::v1::PopulationService::Service*>(&upstream_),
         static_cast<lienthong::v1::IdentityService::Service*>(&upstream_)},
        &port_);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    KeepCallbackQueueAlive();
  }

  // gRPC 1.51's callback client shares one completion queue between
  // channels, torn down with the last of them; tearing it down and making
  // it again between tests crashes its polling thread now and then. In the
  // gateway a callback server holds it for the process's life; here one
  // adapter that has made a call is kept for the rest of the run.
  void KeepCallbackQueueAlive() {
    static Adapter* const kKeeper = [this] {
      Adapter* keeper = CreateOrDie().release();
      Result<Citizen> first;
      keeper->population()->Lookup(Lookup(), WithDeadline(absl::Seconds(10)),
                                   first.Done());
      EXPECT_THAT(first.Wait(), IsOk());
      return keeper;
    }();
    (void)kKeeper;
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
    }
  }

  lienthong::adapters::grpc_upstream::GrpcUpstreamConfig Config() const {
    lienthong::adapters::grpc_upstream::GrpcUpstreamConfig config;
    config.set_target(absl::StrCat("127.0.0.1:", port_));
    config.set_ca_file(TestCert("ca.pem"));
    config.set_client_cert_file(TestCert("dossier-system.pem"));
    config.set_client_key_file(TestCert("dossier-system.key"));
    return config;
  }

  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const lienthong::adapters::grpc_upstream::GrpcUpstreamConfig& config) {
    AdapterContext context;
    context.instance_name = "relay";
    return factory_->Create(config, context);
  }

  std::unique_ptr<Adapter> CreateOrDie() {
    auto adapter = Create(Config());
    EXPECT_THAT(adapter, IsOk());
    return adapter.ok() ? *std::move(adapter) : nullptr;
  }

  static CallContext WithDeadline(absl::Duration timeout) {
    CallContext context;
    context.deadline = absl::Now() + timeout;
    context.caller = "spiffe://lienthong.local/dossier-system";
    return context;
  }

  static LookupCitizenRequest Lookup() {
    LookupCitizenRequest request;
    request.set_citizen_id(kCitizenId);
    request.set_purpose("1.001193");
    request.set_dossier_id("000.00.01.H31-251127-00042");
    return request;
  }

  std::unique_ptr<AdapterFactory> factory_ = MakeGrpcUpstreamFactory();
  ScriptedUpstream upstream_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(GrpcUpstreamTest, RelaysLookupsAndVerificationsWithTheirReferences) {
  auto adapter = CreateOrDie();
  ASSERT_NE(adapter, nullptr);
  ASSERT_NE(adapter->population(), nullptr);
  ASSERT_NE(adapter->identity(), nullptr);
  EXPECT_EQ(adapter->portal(), nullptr);

  Result<Citizen> lookup;
  adapter->population()->Lookup(Lookup(), WithDeadline(absl::Seconds(10)),
                                lookup.Done());
  auto& citizen = lookup.Wait();
  ASSERT_THAT(citizen, IsOk());
  EXPECT_EQ(citizen->value.citizen_id(), kCitizenId);
  EXPECT_EQ(citizen->value.name().given(), "An");
  EXPECT_EQ(citizen->reference, "C06-REF-1");
  // The upstream's unknown field is stripped, not relayed to the caller.
  EXPECT_EQ(citizen->value.GetReflection()->GetUnknownFields(citizen->value).field_count(), 0);
  EXPECT_EQ(upstream_.last_lookup().dossier_id(), "000.00.01.H31-251127-00042");
  // The upstream saw the gateway's client certificate.
  EXPECT_EQ(upstream_.last_caller(), "spiffe://lienthong.local/dossier-system");

  Result<VerifyIdentityResponse> verify;
  VerifyIdentityRequest request;
  request.set_citizen_id(kCitizenId);
  request.set_full_name("Nguyễn Văn An");
  adapter->identity()->Verify(request, WithDeadline(absl::Seconds(10)),
                              verify.Done());
  auto& verified = verify.Wait();
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(verified->value.result(), VerifyIdentityResponse::MATCH);
  EXPECT_EQ(verified->reference, "VNEID-REF-7");
  EXPECT_EQ(verified->value.GetReflection()->GetUnknownFields(verified->value).field_count(), 0);
}

TEST_F(GrpcUpstreamTest, TheCallersDeadlineTravelsAndIsKept) {
  auto adapter = CreateOrDie();
  ASSERT_NE(adapter, nullptr);
  upstream_.Script({{grpc::Status::OK, absl::Seconds(5)}});
  Result<Citizen> lookup;
  const absl::Time start = absl::Now();
  adapter->population()->Lookup(Lookup(), WithDeadline(absl::Milliseconds(300)),
                                lookup.Done());
  auto& reply = lookup.Wait();
  const absl::Duration took = absl::Now() - start;
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kDeadlineExceeded,
                              HasSubstr("did not answer in time")));
  EXPECT_FALSE(IsRetriable(reply.status()));
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_GT(upstream_.last_time_left(), absl::ZeroDuration());
  EXPECT_LE(upstream_.last_time_left(), absl::Milliseconds(300));
}

TEST_F(GrpcUpstreamTest, UpstreamFailuresAreMappedWithoutTheirMessages) {
  struct Case {
    grpc::StatusCode upstream;
    absl::StatusCode want;
    bool retriable;
  };
  const Case kCases[] = {
      {grpc::StatusCode::UNAVAILABLE, absl::StatusCode::kUnavailable, true},
      // The upstream resetting the stream: no cancellation of the caller's.
      {grpc::StatusCode::CANCELLED, absl::StatusCode::kUnavailable, true},
      {grpc::StatusCode::NOT_FOUND, absl::StatusCode::kNotFound, false},
      {grpc::StatusCode::INVALID_ARGUMENT, absl::StatusCode::kInvalidArgument,
       false},
      {grpc::StatusCode::RESOURCE_EXHAUSTED,
       absl::StatusCode::kResourceExhausted, false},
      {grpc::StatusCode::PERMISSION_DENIED, absl::StatusCode::kUnavailable,
       false},
      {grpc::StatusCode::UNAUTHENTICATED, absl::StatusCode::kUnavailable,
       false},
      {grpc::StatusCode::INTERNAL, absl::StatusCode::kUnavailable, false},
      {grpc::StatusCode::UNKNOWN, absl::StatusCode::kUnavailable, false},
      {grpc::StatusCode::UNIMPLEMENTED, absl::StatusCode::kUnavailable, false},
  };
  auto adapter = CreateOrDie();
  ASSERT_NE(adapter, nullptr);
  for (const Case& c : kCases) {
    SCOPED_TRACE(static_cast<int>(c.upstream));
    upstream_.Script({{grpc::Status(c.upstream, kUpstreamMessage)}});
    Result<Citizen> lookup;
    adapter->population()->Lookup(Lookup(), WithDeadline(absl::Seconds(10)),
                                  lookup.Done());
    auto& reply = lookup.Wait();
    EXPECT_THAT(reply, StatusIs(c.want, AllOf(HasSubstr("gRPC upstream"),
                                              Not(HasSubstr(kCitizenId)),
                                              Not(HasSubstr("secret")))));
    EXPECT_EQ(IsRetriable(reply.status()), c.retriable);
  }
}

TEST_F(GrpcUpstreamTest, AnUpstreamThatCannotBeReachedIsRetriable) {
  lienthong::adapters::grpc_upstream::GrpcUpstreamConfig config = Config();
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  auto adapter = Create(config);
  ASSERT_THAT(adapter, IsOk());
  Result<Citizen> lookup;
  (*adapter)->population()->Lookup(Lookup(), WithDeadline(absl::Seconds(10)),
                                   lookup.Done());
  auto& reply = lookup.Wait();
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_TRUE(IsRetriable(reply.status()));
}

// The gateway's path for a call: breaker, in-flight cap, retries within a
// budget, over this adapter (gateway/server/resilient_call.h).
struct Resilience {
  resilience::TimerQueue timers;
  resilience::RetryBudget budget{resilience::RetryBudgetOptions{}};
  resilience::Retrier retrier{resilience::RetryPolicy{}, &timers, &budget};
  server::UpstreamGuard guard;

  Resilience() {
    guard.system = "relay";
    guard.breaker = std::make_unique<resilience::CircuitBreaker>(
        "relay", resilience::CircuitBreakerOptions{});
    guard.in_flight = std::make_unique<resilience::ConcurrencyLimiter>(10);
  }
  ~Resilience() { timers.Shutdown(); }

  // Returns the outcome and the number of attempts.
  std::pair<absl::Status, int> Lookup(Adapter& adapter,
                                      const LookupCitizenRequest& request) {
    auto done = std::make_shared<absl::Notification>();
    auto out = std::make_shared<std::pair<absl::Status, int>>();
    CallContext context;
    context.deadline = absl::Now() + absl::Seconds(20);
    server::ResilientCall<Citizen>(
        retrier, guard, context, /*idempotent=*/true, /*owner=*/nullptr,
        [&adapter, request](const CallContext& attempt,
                            Callback<Citizen> callback) {
          adapter.population()->Lookup(request, attempt, std::move(callback));
        },
        [done, out](absl::StatusOr<Reply<Citizen>> reply, int attempts) {
          *out = {reply.status(), attempts};
          done->Notify();
        });
    EXPECT_TRUE(done->WaitForNotificationWithTimeout(absl::Seconds(30)));
    return *out;
  }
};

TEST_F(GrpcUpstreamTest, AnUnavailableUpstreamIsRetriedLikeOtherRetriableFailures) {
  auto adapter = CreateOrDie();
  ASSERT_NE(adapter, nullptr);
  Resilience resilience;
  // Two refusals, then an answer: the third attempt carries the call.
  const int before = upstream_.calls();
  upstream_.Script({{grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy")},
                    {grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy")}});
  auto [status, attempts] = resilience.Lookup(*adapter, Lookup());
  EXPECT_THAT(status, IsOk());
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(upstream_.calls(), before + 3);

  // An answer about the request is final: one attempt.
  upstream_.Script({{grpc::Status(grpc::StatusCode::NOT_FOUND, "no")}});
  std::tie(status, attempts) = resilience.Lookup(*adapter, Lookup());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(upstream_.calls(), before + 4);
}

// A record about another citizen than the one asked for, or that does not
// say whom it is about, never reaches the caller. Asking again gets the same
// record, so it is not retried; the message names no ID.
TEST_F(GrpcUpstreamTest, ARecordAboutAnotherCitizenIsRefused) {
  struct Case {
    const char* name;
    const char* asked;
    const char* citizen_id;
    const char* old_id_number;
    const char* message;
  };
  const Case kCases[] = {
      {"another citizen_id", kCitizenId, kOtherCitizenId, "",
       "answered about another citizen"},
      {"no citizen_id", kCitizenId, "", kOldIdNumber,
       "answered a citizen without citizen_id"},
      // The right citizen_id does not make up for the wrong old number.
      {"another old_id_number", kOldIdNumber, kCitizenId, kOtherOldIdNumber,
       "answered about another citizen"},
      {"no old_id_number", kOldIdNumber, kCitizenId, "",
       "answered a citizen without old_id_number"},
  };
  auto adapter = CreateOrDie();
  ASSERT_NE(adapter, nullptr);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Answer answer;
    answer.citizen.emplace();
    answer.citizen->set_citizen_id(c.citizen_id);
    answer.citizen->set_old_id_number(c.old_id_number);
    upstream_.Script({answer});
    LookupCitizenRequest request = Lookup();
    request.set_citizen_id(c.asked);
    Result<Citizen> lookup;
    adapter->population()->Lookup(request, WithDeadline(absl::Seconds(10)),
                                  lookup.Done());
    auto& reply = lookup.Wait();
    EXPECT_THAT(reply,
                StatusIs(absl::StatusCode::kUnavailable,
                         AllOf(HasSubstr(c.message), Not(HasSubstr(kCitizenId)),
                               Not(HasSubstr(kOtherCitizenId)),
                               Not(HasSubstr(kOldIdNumber)),
                               Not(HasSubstr(kOtherOldIdNumber)))));
    EXPECT_FALSE(IsRetriable(reply.status()));
  }

  // On the gateway's path: one attempt.
  Resilience resilience;
  Answer other;
  other.citizen.emplace();
  other.citizen->set_citizen_id(kOtherCitizenId);
  upstream_.Script({other});
  auto [status, attempts] = resilience.Lookup(*adapter, Lookup());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("answered about another citizen")));
  EXPECT_EQ(attempts, 1);

  // The record asked for by old ID card number is relayed.
  LookupCitizenRequest by_old_card = Lookup();
  by_old_card.set_citizen_id(kOldIdNumber);
  Result<Citizen> lookup;
  adapter->population()->Lookup(by_old_card, WithDeadline(absl::Seconds(10)),
                                lookup.Done());
  auto& citizen = lookup.Wait();
  ASSERT_THAT(citizen, IsOk());
  EXPECT_EQ(citizen->value.old_id_number(), kOldIdNumber);
  EXPECT_EQ(citizen->value.citizen_id(), kCitizenId);
}

// The answer is checked by the field that names the citizen, so a lookup
// with a field mask asks for that field too (the server trims the reply to
// the caller's mask); one without a mask is sent as it is.
TEST_F(GrpcUpstreamTest, AMaskedLookupAlsoAsksForTheFieldNamingTheCitizen) {
  struct Case {
    const char* name;
    const char* asked;
    std::vector<std::string> mask;
    std::vector<std::string> sent;
  };
  const Case kCases[] = {
      {"citizen_id added",
       kCitizenId,
       {"birth_date"},
       {"birth_date", "citizen_id"}},
      {"citizen_id already asked for",
       kCitizenId,
       {"citizen_id", "name"},
       {"citizen_id", "name"}},
      {"old_id_number added",
       kOldIdNumber,
       {"birth_date"},
       {"birth_date", "old_id_number"}},
      {"no mask", kCitizenId, {}, {}},
  };
  auto adapter = CreateOrDie();
  ASSERT_NE(adapter, nullptr);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    LookupCitizenRequest request = Lookup();
    request.set_citizen_id(c.asked);
    for (const std::string& path : c.mask) {
      request.mutable_fields()->add_paths(path);
    }
    Result<Citizen> lookup;
    adapter->population()->Lookup(request, WithDeadline(absl::Seconds(10)),
                                  lookup.Done());
    EXPECT_THAT(lookup.Wait(), IsOk());
    EXPECT_THAT(upstream_.last_lookup().fields().paths(),
                ElementsAreArray(c.sent));
  }
}

// A verification answers MATCH or NO_MATCH only: "no such citizen" (the
// retired result 3, or the status NOT_FOUND) is NO_MATCH, as telling it from
// a wrong name would let a caller probe IDs; RESULT_UNSPECIFIED or an unknown
// value is refused, not retried. Other failures keep their mapping.
TEST_F(GrpcUpstreamTest, OnlyMatchOrNoMatchIsRelayed) {
  struct Case {
    const char* name;
    Answer answer;
    absl::StatusCode code;  // kOk: answered with `result`
    int result;
  };
  auto result = [](int value) {
    Answer answer;
    answer.result = value;
    return answer;
  };
  auto failure = [](grpc::StatusCode code) {
    Answer answer;
    answer.status = grpc::Status(code, "033085012345 is not in our records");
    return answer;
  };
  const Case kCases[] = {
      {"MATCH", result(VerifyIdentityResponse::MATCH), absl::StatusCode::kOk,
       VerifyIdentityResponse::MATCH},
      {"NO_MATCH", result(VerifyIdentityResponse::NO_MATCH),
       absl::StatusCode::kOk, VerifyIdentityResponse::NO_MATCH},
      {"retired NOT_FOUND result", result(3), absl::StatusCode::kOk,
       VerifyIdentityResponse::NO_MATCH},
      {"NOT_FOUND status", failure(grpc::StatusCode::NOT_FOUND),
       absl::StatusCode::kOk, VerifyIdentityResponse::NO_MATCH},
      {"RESULT_UNSPECIFIED", result(VerifyIdentityResponse::RESULT_UNSPECIFIED),
       absl::StatusCode::kUnavailable, 0},
      {"unknown result", result(7), absl::StatusCode::kUnavailable, 0},
      {"INVALID_ARGUMENT status", failure(grpc::StatusCode::INVALID_ARGUMENT),
       absl::StatusCode::kInvalidArgument, 0},
      {"INTERNAL status", failure(grpc::StatusCode::INTERNAL),
       absl::StatusCode::kUnavailable, 0},
  };
  auto adapter = CreateOrDie();
  ASSERT_NE(adapter, nullptr);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    upstream_.Script({c.answer});
    VerifyIdentityRequest request;
    request.set_citizen_id(kCitizenId);
    request.set_full_name("Nguyễn Văn An");
    Result<VerifyIdentityResponse> verify;
    adapter->identity()->Verify(request, WithDeadline(absl::Seconds(10)),
                                verify.Done());
    auto& reply = verify.Wait();
    if (c.code == absl::StatusCode::kOk) {
      ASSERT_THAT(reply, IsOk());
      EXPECT_EQ(reply->value.result(), c.result);
      continue;
    }
    EXPECT_THAT(reply, StatusIs(c.code, Not(HasSubstr("033085012345"))));
    EXPECT_FALSE(IsRetriable(reply.status()));
    if (c.answer.status.ok()) {
      EXPECT_THAT(reply.status().message(),
                  HasSubstr("answered an unknown verification result"));
    }
  }
}

// Fields of the caller's request the gateway does not know (proto3 keeps
// them, nested ones too) are not passed on: a newer upstream could read
// them as fields no policy here has checked.
TEST_F(GrpcUpstreamTest, UnknownRequestFieldsAreNotPassedOn) {
  auto adapter = CreateOrDie();
  ASSERT_NE(adapter, nullptr);
  auto smuggle = [](google::protobuf::Message& message) {
    message.GetReflection()->MutableUnknownFields(&message)->AddLengthDelimited(
        99, std::string(1000, 'x'));
  };

  LookupCitizenRequest lookup = Lookup();
  smuggle(lookup);
  smuggle(*lookup.mutable_officer());
  Result<Citizen> looked_up;
  adapter->population()->Lookup(lookup, WithDeadline(absl::Seconds(10)),
                                looked_up.Done());
  ASSERT_THAT(looked_up.Wait(), IsOk());
  const LookupCitizenRequest sent = upstream_.last_lookup();
  EXPECT_EQ(sent.citizen_id(), lookup.citizen_id());
  EXPECT_EQ(sent.officer().citizen_id(), lookup.officer().citizen_id());
  EXPECT_EQ(sent.GetReflection()->GetUnknownFields(sent).field_count(), 0);
  EXPECT_EQ(sent.officer()
                .GetReflection()
                ->GetUnknownFields(sent.officer())
                .field_count(),
            0);

  VerifyIdentityRequest verify;
  verify.set_citizen_id(kCitizenId);
  verify.set_full_name("Nguyễn Văn An");
  smuggle(verify);
  Result<VerifyIdentityResponse> verified;
  adapter->identity()->Verify(verify, WithDeadline(absl::Seconds(10)),
                              verified.Done());
  ASSERT_THAT(verified.Wait(), IsOk());
  const VerifyIdentityRequest verify_sent = upstream_.last_verify();
  EXPECT_EQ(verify_sent.full_name(), "Nguyễn Văn An");
  EXPECT_EQ(
      verify_sent.GetReflection()->GetUnknownFields(verify_sent).field_count(),
      0);
}

TEST_F(GrpcUpstreamTest, BadConfigsAreRefusedNamingTheField) {
  struct Case {
    const char* name;
    void (*change)(lienthong::adapters::grpc_upstream::GrpcUpstreamConfig&);
    const char* message;
  };
  const Case kCases[] = {
      {"no target", [](auto& c) { c.clear_target(); }, "target is required"},
      {"no TLS and not plaintext",
       [](auto& c) {
         c.clear_ca_file();
         c.clear_client_cert_file();
         c.clear_client_key_file();
       },
       "ca_file is required"},
      {"unreadable CA", [](auto& c) { c.set_ca_file("/nonexistent/ca.pem"); },
       "ca_file: cannot read"},
      {"certificate without key",
       [](auto& c) { c.clear_client_key_file(); },
       "client_cert_file and client_key_file go together"},
      {"unreadable key",
       [](auto& c) { c.set_client_key_file("/nonexistent/key.pem"); },
       "client_key_file: cannot read"},
  };
  for (const Case& c : kCases) {
    lienthong::adapters::grpc_upstream::GrpcUpstreamConfig config = Config();
    c.change(config);
    EXPECT_THAT(Create(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr(c.message)))
        << c.name;
  }
  lienthong::adapters::grpc_upstream::GrpcUpstreamConfig plaintext;
  plaintext.set_target("127.0.0.1:1");
  plaintext.set_insecure_plaintext(true);
  EXPECT_THAT(Create(plaintext), IsOk());
}

}  // namespace
}  // namespace lienthong::adapters::grpc_upstream
