// The vneid-oidc adapter against the simulated realm over TLS: each rule
// with its code and message, the JWKS refetch on rotation and its limit
// under a flood of forged key ids, and what reaches VNeID when.
#include "adapters/vneid_identity/vneid_adapter.h"

#include <openssl/sha.h>

#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/vneid_identity/vneid_config.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/jwt_signer.h"
#include "tests/national_sim/sim_server.h"
#include "tests/national_sim/vneid_login.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::adapters::vneid::VneidOidcConfig;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::testing::TestCert;
using ::lienthong::v1::VneidSignInRequest;
using ::lienthong::v1::VneidSignInResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCitizen[] = "033085012345";
constexpr char kPortal[] = "spiffe://lienthong.local/citizen-portal";
constexpr char kRedirect[] = "https://dichvucong.hungyen.gov.vn/vneid/callback";

class VneidAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::SimOptions options;
    options.cert_file = TestCert("sim.pem");
    options.key_file = TestCert("sim.key");
    auto sim = sim::SimServer::Start(options);
    ASSERT_THAT(sim.status(), IsOk());
    sim_ = *std::move(sim);
    auto http = CurlHttpClient::Create({});
    ASSERT_THAT(http.status(), IsOk());
    http_ = *std::move(http);
    clock_ = std::make_unique<resilience::FakeClock>(absl::Now());
    MakeAdapter(Config());
  }

  VneidOidcConfig Config() const {
    VneidOidcConfig c;
    c.mutable_upstream()->set_base_url(sim_->base_url() + "/vneid");
    c.mutable_upstream()->set_ca_file(TestCert("ca.pem"));
    c.set_client_id("lienthong-dev");
    c.set_client_secret("dev-vneid-secret");
    c.add_redirect_uris(kRedirect);
    return c;
  }

  void MakeAdapter(const VneidOidcConfig& config) {
    auto adapter = CreateVneidOidcAdapter(config, http_.get(), clock_.get());
    ASSERT_THAT(adapter.status(), IsOk());
    adapter_ = *std::move(adapter);
    ASSERT_NE(adapter_->sign_in(), nullptr);
  }

  std::string Code(const std::string& nonce,
                   const std::string& challenge = "") {
    sim::VneidLogin login;
    login.realm_url = sim::VneidRealmUrl(sim_->base_url());
    login.ca_file = TestCert("ca.pem");
    login.citizen_id = kCitizen;
    login.nonce = nonce;
    login.code_challenge = challenge;
    absl::StatusOr<std::string> code = sim::VneidAuthorize(*http_, login);
    EXPECT_THAT(code.status(), IsOk());
    return code.value_or("");
  }

  static VneidSignInRequest Request(const std::string& code,
                                    const std::string& nonce) {
    VneidSignInRequest r;
    r.set_authorization_code(code);
    r.set_redirect_uri(kRedirect);
    r.set_nonce(nonce);
    return r;
  }

  // Starts a sign-in; the future holds its outcome.
  std::future<absl::StatusOr<VneidSignInResponse>> Start(
      const VneidSignInRequest& request,
      absl::Duration deadline = absl::Seconds(10)) {
    auto promise =
        std::make_shared<std::promise<absl::StatusOr<VneidSignInResponse>>>();
    auto future = promise->get_future();
    CallContext context{absl::Now() + deadline, kPortal, "test-trace"};
    adapter_->sign_in()->SignIn(
        request, context,
        [promise](absl::StatusOr<Reply<VneidSignInResponse>> reply) {
          if (reply.ok()) {
            promise->set_value(std::move(reply->value));
          } else {
            promise->set_value(reply.status());
          }
        });
    return future;
  }

  absl::StatusOr<VneidSignInResponse> SignIn(const VneidSignInRequest& r) {
    auto future = Start(r);
    if (future.wait_for(std::chrono::seconds(30)) !=
        std::future_status::ready) {
      return absl::InternalError("test: no answer");
    }
    return future.get();
  }

  // A sign-in with a fresh code and nonce, under `faults`.
  absl::StatusOr<VneidSignInResponse> SignInWith(
      const sim::VneidTokenFaults& faults) {
    sim_->SetVneidTokenFaults(faults);
    std::string nonce = absl::StrCat("nonce-", ++nonces_, "-0123456789abcdef");
    absl::StatusOr<VneidSignInResponse> result =
        SignIn(Request(Code(nonce), nonce));
    sim_->SetVneidTokenFaults({});
    return result;
  }

  int64_t JwksFetches() const { return sim_->VneidStats().jwks_served; }
  int64_t VneidReceived() const {
    return sim_->Stats().of(sim::System::kVneid).received;
  }

  std::unique_ptr<sim::SimServer> sim_;
  std::unique_ptr<CurlHttpClient> http_;
  std::unique_ptr<resilience::FakeClock> clock_;
  std::unique_ptr<Adapter> adapter_;
  int nonces_ = 0;
};

TEST_F(VneidAdapterTest, AGoodSignInGivesTheCitizen) {
  std::optional<sim::Citizen> citizen = sim::LookupCitizen(kCitizen);
  ASSERT_TRUE(citizen.has_value());
  absl::StatusOr<VneidSignInResponse> r = SignInWith({});
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->citizen_id(), kCitizen);
  EXPECT_EQ(r->full_name(), citizen->FullName());
  EXPECT_EQ(r->birth_date().year(), citizen->birth_year);
  EXPECT_EQ(r->birth_date().month(), citizen->birth_month);
  EXPECT_EQ(r->birth_date().day(), citizen->birth_day);
  EXPECT_EQ(r->assurance_level(), citizen->vneid_level);
  EXPECT_FALSE(r->subject().empty());
  EXPECT_GT(r->expires_at().seconds(), absl::ToUnixSeconds(absl::Now()));
  EXPECT_EQ(JwksFetches(), 1);
  // Keys are held: the next sign-in fetches none.
  ASSERT_THAT(SignInWith({}).status(), IsOk());
  EXPECT_EQ(JwksFetches(), 1);
}

TEST_F(VneidAdapterTest, EachBadTokenIsRefusedWithItsMessage) {
  ASSERT_THAT(SignInWith({}).status(), IsOk());  // keys held from here
  struct Case {
    const char* what;
    sim::VneidTokenFaults faults;
    const char* message;
  };
  std::vector<Case> cases(10);
  cases[0] = {"expired", {}, "id token expired"};
  cases[0].faults.expired = true;
  cases[1] = {"not yet valid", {}, "id token not yet valid"};
  cases[1].faults.not_yet_valid = true;
  cases[2] = {"wrong audience", {}, "id token for another audience"};
  cases[2].faults.wrong_audience = true;
  cases[3] = {"extra audience, no azp", {}, "id token for another audience"};
  cases[3].faults.extra_audience = true;
  cases[4] = {"bad signature", {}, "id token signature invalid"};
  cases[4].faults.bad_signature = true;
  cases[5] = {"issuer mismatch", {}, "id token from another issuer"};
  cases[5].faults.wrong_issuer = true;
  cases[6] = {"alg none", {}, "id token alg must be RS256"};
  cases[6].faults.alg = "none";
  cases[7] = {"alg HS256", {}, "id token alg must be RS256"};
  cases[7].faults.alg = "HS256";
  cases[8] = {"nonce mismatch", {}, "nonce does not match"};
  cases[8].faults.wrong_nonce = true;
  cases[9] = {
      "assurance level 0", {}, "id token without assurance level 1 or 2"};
  cases[9].faults.acr = "0";
  for (const Case& c : cases) {
    absl::StatusOr<VneidSignInResponse> r = SignInWith(c.faults);
    EXPECT_THAT(r.status(),
                StatusIs(absl::StatusCode::kUnauthenticated, c.message))
        << c.what;
    EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr(kCitizen)));
    EXPECT_FALSE(IsRetriable(r.status())) << c.what;
  }
  // None of them made the gateway fetch keys again.
  EXPECT_EQ(JwksFetches(), 1);
}

TEST_F(VneidAdapterTest, AnUnknownKidRefetchesOnceThenRotatedKeysAreAccepted) {
  ASSERT_THAT(SignInWith({}).status(), IsOk());
  ASSERT_EQ(JwksFetches(), 1);
  // A key the realm never published: one refetch, then refused.
  sim::VneidTokenFaults unpublished;
  unpublished.unknown_kid = true;
  EXPECT_THAT(SignInWith(unpublished).status(),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "id token signed by an unknown key"));
  EXPECT_EQ(JwksFetches(), 2);
  // The realm rotates (dropping the old key): its new kid is unknown, but
  // a refetch is due only after min_refresh (30 s) since the last one.
  ASSERT_THAT(sim_->RotateVneidKeys(/*keep_old=*/false), IsOk());
  clock_->Advance(absl::Seconds(30));
  ASSERT_THAT(SignInWith({}).status(), IsOk());
  EXPECT_EQ(JwksFetches(), 3);
  ASSERT_THAT(SignInWith({}).status(), IsOk());
  EXPECT_EQ(JwksFetches(), 3);
}

TEST_F(VneidAdapterTest, TwentyConcurrentSignInsWithAnUnknownKidFetchOnce) {
  ASSERT_THAT(SignInWith({}).status(), IsOk());
  const int64_t before = JwksFetches();
  auto concurrently = [this](const sim::VneidTokenFaults& faults) {
    sim_->SetVneidTokenFaults(faults);
    std::vector<VneidSignInRequest> requests;
    for (int i = 0; i < 20; ++i) {
      std::string nonce =
          absl::StrCat("flood-", ++nonces_, "-0123456789abcdef");
      requests.push_back(Request(Code(nonce), nonce));
    }
    std::vector<std::future<absl::StatusOr<VneidSignInResponse>>> futures;
    for (const auto& r : requests) futures.push_back(Start(r));
    std::vector<absl::Status> outcomes;
    for (auto& f : futures) outcomes.push_back(f.get().status());
    sim_->SetVneidTokenFaults({});
    return outcomes;
  };
  // Forged key ids: one fetch for the lot, every one refused.
  sim::VneidTokenFaults forged;
  forged.unknown_kid = true;
  for (const absl::Status& s : concurrently(forged)) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated,
                            "id token signed by an unknown key"));
  }
  EXPECT_EQ(JwksFetches(), before + 1);
  // After a rotation (min_refresh later): one fetch, every one accepted.
  ASSERT_THAT(sim_->RotateVneidKeys(/*keep_old=*/true), IsOk());
  clock_->Advance(absl::Seconds(30));
  for (const absl::Status& s : concurrently({})) EXPECT_THAT(s, IsOk());
  EXPECT_EQ(JwksFetches(), before + 2);
}

TEST_F(VneidAdapterTest, ANonceIsAcceptedOnce) {
  const std::string nonce = "replayed-nonce-0123456789";
  ASSERT_THAT(SignIn(Request(Code(nonce), nonce)).status(), IsOk());
  // A second authorisation with the same nonce: a new code, an old nonce.
  EXPECT_THAT(
      SignIn(Request(Code(nonce), nonce)).status(),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
}

TEST_F(VneidAdapterTest, ANonceStaysUsedWhenAReloadRebuildsTheAdapter) {
  const std::string nonce = "reloaded-nonce-0123456789";
  ASSERT_THAT(SignIn(Request(Code(nonce), nonce)).status(), IsOk());
  // A reload builds the new adapter while the old one still serves.
  MakeAdapter(Config());
  EXPECT_THAT(
      SignIn(Request(Code(nonce), nonce)).status(),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
}

TEST_F(VneidAdapterTest, ANonceStaysUsedWhenAReloadChangesTheNonceCapacity) {
  const std::string nonce = "resized-nonce-0123456789";
  ASSERT_THAT(SignIn(Request(Code(nonce), nonce)).status(), IsOk());
  // The reload lowers max_remembered_nonces (default 1000000): the store
  // is kept, not replaced by an empty one.
  VneidOidcConfig config = Config();
  config.set_max_remembered_nonces(5);
  MakeAdapter(config);
  EXPECT_THAT(
      SignIn(Request(Code(nonce), nonce)).status(),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
  // And raised again.
  config.set_max_remembered_nonces(50);
  MakeAdapter(config);
  EXPECT_THAT(
      SignIn(Request(Code(nonce), nonce)).status(),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
}

// A reload that fails after building the new adapter (a later adapter's
// file unreadable, a bad route) throws it away and keeps the running one:
// building it must not have changed what the running one does.
TEST_F(VneidAdapterTest, AnAdapterThrownAwayChangesNothingForTheRunningOne) {
  const std::string first = "kept-nonce-0123456789";
  ASSERT_THAT(SignIn(Request(Code(first), first)).status(), IsOk());
  VneidOidcConfig small = Config();
  small.set_max_remembered_nonces(1);
  {
    auto thrown_away = CreateVneidOidcAdapter(small, http_.get(), clock_.get());
    ASSERT_THAT(thrown_away.status(), IsOk());
  }
  const std::string second = "fresh-nonce-0123456789";
  EXPECT_THAT(SignIn(Request(Code(second), second)).status(), IsOk());
  EXPECT_THAT(
      SignIn(Request(Code(first), first)).status(),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
}

TEST_F(VneidAdapterTest, ACodeIsExchangedOnce) {
  const std::string nonce = "once-only-0123456789abcdef";
  VneidSignInRequest request = Request(Code(nonce), nonce);
  ASSERT_THAT(SignIn(request).status(), IsOk());
  EXPECT_THAT(SignIn(request).status(),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "authorization code refused by VNeID"));
  EXPECT_EQ(sim_->VneidStats().grants_refused, 1);
}

TEST_F(VneidAdapterTest, ARedirectUriNotAllowedMakesNoUpstreamCall) {
  const std::string nonce = "redirect-0123456789abcdef";
  VneidSignInRequest request = Request(Code(nonce), nonce);
  request.set_redirect_uri("https://1022.hungyen.gov.vn/auth/vneid");
  const int64_t before = VneidReceived();
  EXPECT_THAT(SignIn(request).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "redirect_uri is not one the gateway allows for this "
                       "caller"));
  EXPECT_EQ(VneidReceived(), before);
  // Allowed for this caller: accepted by the gateway, then by VNeID only if
  // it matches the authorisation request's (here it does not).
  VneidOidcConfig config = Config();
  auto* own = config.add_caller_redirect_uris();
  own->set_client(kPortal);
  own->add_redirect_uris("https://1022.hungyen.gov.vn/auth/vneid");
  MakeAdapter(config);
  EXPECT_THAT(SignIn(request).status(),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "authorization code refused by VNeID"));
}

TEST_F(VneidAdapterTest, PkceVerifierIsSent) {
  const std::string verifier(43, 'q');
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()),
         verifier.size(), digest);
  const std::string challenge = sim::Base64Url(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  const std::string nonce = "pkce-0123456789abcdef";
  VneidSignInRequest request = Request(Code(nonce, challenge), nonce);
  request.set_code_verifier(verifier);
  EXPECT_THAT(SignIn(request).status(), IsOk());
  // Without the verifier the realm refuses the grant.
  const std::string other = "pkce-other-0123456789abcdef";
  EXPECT_THAT(SignIn(Request(Code(other, challenge), other)).status(),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "authorization code refused by VNeID"));
}

TEST_F(VneidAdapterTest, AnUnreachableRealmIsFoundBeforeTheCodeIsSpent) {
  sim::Knobs down;
  down.down = true;
  ASSERT_THAT(sim_->SetKnobs(sim::System::kVneid, down), IsOk());
  absl::StatusOr<VneidSignInResponse> r =
      SignIn(Request("some-code", "nonce-0123456789abcdef"));
  EXPECT_THAT(r.status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       "VNeID signing keys unavailable: realm unreachable; "
                       "the authorization code was not used"));
  EXPECT_EQ(sim_->VneidStats().tokens_issued, 0);
}

TEST_F(VneidAdapterTest, ATokenEndpointFailureIsNotRetried) {
  ASSERT_THAT(SignInWith({}).status(), IsOk());
  const std::string nonce = "failing-0123456789abcdef";
  VneidSignInRequest request = Request(Code(nonce), nonce);
  sim::Knobs failing;
  failing.error_rate = 1;
  failing.error_kind = sim::ErrorKind::kHttp503;
  ASSERT_THAT(sim_->SetKnobs(sim::System::kVneid, failing), IsOk());
  const int64_t before = VneidReceived();
  absl::StatusOr<VneidSignInResponse> r = SignIn(request);
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kUnavailable,
                                   "VNeID token endpoint answered HTTP 503"));
  EXPECT_FALSE(IsRetriable(r.status()));
  EXPECT_EQ(VneidReceived(), before + 1);  // one exchange, no retry

  // A connection that closes before the answer, after the realm took the
  // code or not: the code went out once, on a connection kept alive by the
  // sign-ins before (libcurl would send it again on a new one).
  for (const bool taken : {false, true}) {
    ASSERT_THAT(sim_->SetKnobs(sim::System::kVneid, {}), IsOk());
    ASSERT_THAT(SignInWith({}).status(), IsOk());  // a connection kept alive
    sim::Knobs closing;
    (taken ? closing.lose_answer_rate : closing.drop_rate) = 1;
    ASSERT_THAT(sim_->SetKnobs(sim::System::kVneid, closing), IsOk());
    const int64_t sent = VneidReceived();
    EXPECT_THAT(
        SignIn(request).status(),
        StatusIs(absl::StatusCode::kUnavailable,
                 HasSubstr("the authorization code may have been used")))
        << (taken ? "answer lost" : "dropped");
    EXPECT_EQ(VneidReceived(), sent + 1) << (taken ? "answer lost" : "dropped");
  }
}

TEST_F(VneidAdapterTest, ASlowRealmMeetsTheDeadline) {
  ASSERT_THAT(SignInWith({}).status(), IsOk());
  sim::Knobs slow;
  slow.latency_ms = 3000;
  ASSERT_THAT(sim_->SetKnobs(sim::System::kVneid, slow), IsOk());
  absl::Time start = absl::Now();
  auto future = Start(Request("late-code", "late-nonce-0123456789"),
                      absl::Milliseconds(300));
  absl::StatusOr<VneidSignInResponse> r = future.get();
  EXPECT_THAT(r.status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::_));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(VneidAdapterTest, WrongClientCredentialsAreTheGatewaysProblem) {
  VneidOidcConfig config = Config();
  config.set_client_secret("not-the-secret");
  config.set_client_auth_method("client_secret_post");
  MakeAdapter(config);
  const std::string nonce = "creds-0123456789abcdef";
  EXPECT_THAT(SignIn(Request(Code(nonce), nonce)).status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       "VNeID refused the gateway's client credentials"));
}

}  // namespace
}  // namespace lienthong::adapters::vneid
