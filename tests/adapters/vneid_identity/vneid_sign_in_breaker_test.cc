// The vneid-oidc adapter under the gateway's resilience path
// (gateway/server/resilient_call.h), against a realm in-process that signs
// whatever claims the test sets: a well-signed token for an account whose
// identity the gateway cannot take is one citizen's problem, so it is not
// retried and the circuit breaker does not count it, while a malformed
// token still counts against VNeID.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/vneid_identity/vneid_adapter.h"
#include "adapters/vneid_identity/vneid_config.pb.h"
#include "gateway/resilience/circuit_breaker.h"
#include "gateway/resilience/rate_limiter.h"
#include "gateway/resilience/retry.h"
#include "gateway/resilience/timer.h"
#include "gateway/server/resilient_call.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/jwt_signer.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::VneidSignInRequest;
using ::lienthong::v1::VneidSignInResponse;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kBaseUrl[] = "https://sso.test/vneid";
constexpr char kClient[] = "breaker-test-client";
constexpr char kRedirect[] = "https://portal.test/vneid/callback";
constexpr char kId[] = "033085012345";

// The realm: its key set at .../certs and, at .../token, an ID token signed
// with its key carrying the claims last set. Answers at once, on the
// caller's thread (allowed by HttpClient's contract).
class InProcessRealm final : public HttpClient {
 public:
  InProcessRealm() {
    key_ = *sim::GenerateRsaKey(2048);
    jwk_ = *sim::RsaPublicJwk(key_.get(), "k1");
  }

  void SetClaims(std::string claims_json) {
    absl::MutexLock lock(&mu_);
    claims_ = std::move(claims_json);
  }
  int token_requests() const {
    absl::MutexLock lock(&mu_);
    return token_requests_;
  }

  void Send(HttpRequest request, HttpCallback done) override {
    HttpResponse response;
    response.status = 200;
    if (absl::EndsWith(request.url, "/certs")) {
      response.body = absl::StrCat("{\"keys\":[", jwk_, "]}");
    } else {
      std::string claims;
      {
        absl::MutexLock lock(&mu_);
        ++token_requests_;
        claims = claims_;
      }
      absl::StatusOr<std::string> token =
          sim::SignRs256("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                         claims, key_.get());
      if (!token.ok()) {
        std::move(done)(token.status());
        return;
      }
      response.body = absl::StrCat(
          "{\"token_type\":\"Bearer\",\"access_token\":\"a\",\"id_token\":\"",
          *token, "\"}");
    }
    std::move(done)(std::move(response));
  }

 private:
  sim::RsaKey key_;
  std::string jwk_;
  mutable absl::Mutex mu_;
  std::string claims_ ABSL_GUARDED_BY(mu_);
  int token_requests_ ABSL_GUARDED_BY(mu_) = 0;
};

class VneidSignInBreakerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VneidOidcConfig config;
    config.mutable_upstream()->set_base_url(kBaseUrl);
    config.set_client_id(kClient);
    config.set_client_secret("secret");
    config.add_redirect_uris(kRedirect);
    auto adapter = CreateVneidOidcAdapter(config, &realm_, &clock_);
    ASSERT_THAT(adapter.status(), IsOk());
    adapter_ = *std::move(adapter);

    // Opens on the third failure in a row; stays open for the test.
    resilience::CircuitBreakerOptions options;
    options.consecutive_failures = 3;
    options.open_duration = absl::Hours(1);
    guard_.system = "vneid";
    guard_.breaker =
        std::make_unique<resilience::CircuitBreaker>("vneid", options, &clock_);
    guard_.in_flight = std::make_unique<resilience::ConcurrencyLimiter>(10);
  }
  void TearDown() override { timers_.Shutdown(); }

  // A valid token's claims for a fresh nonce, the one the next SignIn
  // sends: `username` is preferred_username's raw JSON value, `extra`
  // (",\"name\":value...") is appended.
  std::string Claims(const std::string& username,
                     const std::string& extra = "") {
    nonce_ = absl::StrCat("nonce-", ++next_nonce_, "-0123456789abcdef");
    const int64_t now = absl::ToUnixSeconds(clock_.Now());
    return absl::StrCat("{\"iss\":\"", kBaseUrl, "/realms/citizen\",\"aud\":\"",
                        kClient, "\",\"azp\":\"", kClient,
                        "\",\"sub\":\"subject-1\",\"exp\":", now + 300,
                        ",\"iat\":", now, ",\"nonce\":\"", nonce_,
                        "\",\"acr\":\"2\",\"preferred_username\":", username,
                        ",\"birthdate\":\"1985-03-30\"", extra, "}");
  }

  // One sign-in, the realm's token carrying `claims`, through the
  // resilience path with retries allowed (idempotent, three attempts), so
  // that only the adapter's mark decides whether it is retried.
  std::pair<absl::Status, int> SignIn(const std::string& claims) {
    VneidSignInRequest request;
    request.set_authorization_code("code");
    request.set_redirect_uri(kRedirect);
    request.set_nonce(nonce_);
    realm_.SetClaims(claims);
    auto done = std::make_shared<absl::Notification>();
    auto out = std::make_shared<std::pair<absl::Status, int>>();
    CallContext context{absl::Now() + absl::Seconds(10), "portal", "trace"};
    server::ResilientCall<VneidSignInResponse>(
        retrier_, guard_, context, /*idempotent=*/true, /*owner=*/nullptr,
        [this, request](const CallContext& attempt,
                        Callback<VneidSignInResponse> callback) {
          adapter_->sign_in()->SignIn(request, attempt, std::move(callback));
        },
        [done, out](absl::StatusOr<Reply<VneidSignInResponse>> reply,
                    int attempts) {
          *out = {reply.status(), attempts};
          done->Notify();
        });
    EXPECT_TRUE(done->WaitForNotificationWithTimeout(absl::Seconds(30)));
    return *out;
  }

  InProcessRealm realm_;
  resilience::FakeClock clock_;
  std::unique_ptr<Adapter> adapter_;
  resilience::TimerQueue timers_;
  resilience::RetryBudget budget_{resilience::RetryBudgetOptions{}};
  resilience::Retrier retrier_{resilience::RetryPolicy{}, &timers_, &budget_};
  server::UpstreamGuard guard_;
  std::string nonce_;  // the next sign-in's, set by Claims
  // Nonces stay used for the process's life if a store outlives a test.
  static inline int next_nonce_ = 0;
};

TEST_F(VneidSignInBreakerTest,
       UnacceptableIdentitiesNeitherRetryNorOpenTheBreaker) {
  const std::string id = absl::StrCat("\"", kId, "\"");
  // Accounts whose identity breaks the gateway's rules (preferred_username
  // and extra claims), twice over: six in a row, twice what opens the
  // breaker were they counted.
  const std::pair<std::string, std::string> kAccounts[] = {
      {"\"999085012345\"", ""},                    // no such province
      {id, ",\"NgayThangNamSinh\":\"19850331\""},  // birth dates disagree
      {id, ",\"SoDinhDanh\":\"033085012346\""},    // another ID
  };
  for (int round = 0; round < 2; ++round) {
    for (const auto& [username, extra] : kAccounts) {
      const int before = realm_.token_requests();
      auto [status, attempts] = SignIn(Claims(username, extra));
      EXPECT_THAT(status,
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           StartsWith("VNeID identity not accepted: ")));
      for (const char* value : {"999085012345", "19850331", "033085012346"}) {
        EXPECT_THAT(std::string(status.message()), Not(HasSubstr(value)));
      }
      EXPECT_FALSE(IsRetriable(status));
      EXPECT_EQ(attempts, 1);
      EXPECT_EQ(realm_.token_requests(), before + 1);  // one code spent
      EXPECT_EQ(guard_.breaker->state(), resilience::BreakerState::kClosed);
    }
  }
  EXPECT_EQ(guard_.breaker->counters().failures, 0);
  // Everyone else still signs in.
  EXPECT_THAT(SignIn(Claims(id)).first, IsOk());
}

// The contrast that shows the breaker is listening: tokens VNeID should
// never send (a claim of the wrong type) are its failure.
TEST_F(VneidSignInBreakerTest, MalformedTokensStillCountAgainstVneid) {
  for (int i = 0; i < 3; ++i) {
    auto [status, attempts] = SignIn(Claims("33085012345"));
    EXPECT_THAT(status,
                StatusIs(absl::StatusCode::kUnavailable,
                         "VNeID sent a malformed id token: preferred_username "
                         "is not a string"));
    EXPECT_EQ(attempts, 1);
  }
  EXPECT_EQ(guard_.breaker->state(), resilience::BreakerState::kOpen);
  const int before = realm_.token_requests();
  EXPECT_THAT(SignIn(Claims(absl::StrCat("\"", kId, "\""))).first,
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("circuit breaker open")));
  EXPECT_EQ(realm_.token_requests(), before);  // failed fast
}

}  // namespace
}  // namespace lienthong::adapters::vneid
