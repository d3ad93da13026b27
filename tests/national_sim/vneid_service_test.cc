// The simulated VNeID realm over real TLS: discovery, the browserless
// authorisation endpoint, the token endpoint's rules (client credentials,
// single-use codes bound to client, redirect URI and PKCE), the JWKS with
// key rotation, and the fault knobs. ID tokens are checked with the
// gateway's own JOSE code, so simulator and verifier check each other.
#include <openssl/sha.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/common/http/http_client.h"
#include "adapters/vneid_identity/jwk.h"
#include "adapters/vneid_identity/jws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/jwt_signer.h"
#include "tests/national_sim/sim_json.h"
#include "tests/national_sim/sim_server.h"
#include "tests/national_sim/vneid_login.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace lienthong::sim {
namespace {

using adapters::HttpRequest;
using adapters::HttpResponse;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::testing::TestCert;
using ::testing::HasSubstr;

constexpr char kCitizen[] = "033085012345";
constexpr char kClientId[] = "lienthong-dev";
constexpr char kSecret[] = "dev-vneid-secret";
constexpr char kRedirect[] = "https://dichvucong.hungyen.gov.vn/vneid/callback";

class VneidServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(VneidConfig{}); }

  void Start(VneidConfig config) {
    SimOptions options;
    options.cert_file = TestCert("sim.pem");
    options.key_file = TestCert("sim.key");
    options.vneid = std::move(config);
    auto sim = SimServer::Start(options);
    ASSERT_THAT(sim.status(), IsOk());
    sim_ = *std::move(sim);
    auto http = adapters::CurlHttpClient::Create({});
    ASSERT_THAT(http.status(), IsOk());
    http_ = *std::move(http);
    realm_ = VneidRealmUrl(sim_->base_url());
  }

  VneidLogin Login(const std::string& nonce = "nonce-0123456789abcdef") {
    VneidLogin login;
    login.realm_url = realm_;
    login.ca_file = TestCert("ca.pem");
    login.citizen_id = kCitizen;
    login.nonce = nonce;
    return login;
  }

  HttpRequest Get(const std::string& path) {
    HttpRequest r;
    r.method = "GET";
    r.url = realm_ + path;
    r.ca_file = TestCert("ca.pem");
    r.deadline = absl::Now() + absl::Seconds(20);
    return r;
  }

  // A token request for `code` with the client's secret in the form.
  HttpResponse Exchange(const std::string& code,
                        const std::string& redirect_uri = kRedirect,
                        const std::string& secret = kSecret,
                        const std::string& extra = "") {
    HttpRequest r = Get("/protocol/openid-connect/token");
    r.method = "POST";
    r.headers = {"Content-Type: application/x-www-form-urlencoded"};
    r.body =
        absl::StrCat("grant_type=authorization_code&code=", code,
                     "&redirect_uri=", redirect_uri, "&client_id=", kClientId,
                     "&client_secret=", secret, extra);
    auto response = SendAndWait(*http_, std::move(r));
    EXPECT_THAT(response.status(), IsOk());
    return response.ok() ? *response : HttpResponse{};
  }

  std::string Code(const VneidLogin& login) {
    absl::StatusOr<std::string> code = VneidAuthorize(*http_, login);
    EXPECT_THAT(code.status(), IsOk());
    return code.value_or("");
  }

  // The ID token of a successful exchange, decoded (not verified).
  adapters::vneid::Jws IdToken(const HttpResponse& response) {
    EXPECT_EQ(response.status, 200) << response.body;
    absl::StatusOr<JsonObject> json = ParseJsonObject(response.body);
    EXPECT_THAT(json.status(), IsOk());
    auto jws = adapters::vneid::ParseJwsCompact(JsonText(*json, "id_token"));
    EXPECT_THAT(jws.status(), IsOk());
    return jws.value_or(adapters::vneid::Jws{});
  }

  adapters::vneid::KeySet Keys() {
    auto response = SendAndWait(*http_, Get("/protocol/openid-connect/certs"));
    EXPECT_THAT(response.status(), IsOk());
    auto keys = adapters::vneid::ParseJwkSet(response->body);
    EXPECT_THAT(keys.status(), IsOk());
    return keys.value_or(adapters::vneid::KeySet{});
  }

  std::unique_ptr<SimServer> sim_;
  std::unique_ptr<adapters::CurlHttpClient> http_;
  std::string realm_;
};

TEST_F(VneidServiceTest, DiscoveryNamesTheRealmsEndpoints) {
  auto response = SendAndWait(*http_, Get("/.well-known/openid-configuration"));
  ASSERT_THAT(response.status(), IsOk());
  ASSERT_EQ(response->status, 200);
  auto json = ParseJsonObject(response->body);
  ASSERT_THAT(json.status(), IsOk());
  EXPECT_EQ(JsonText(*json, "issuer"), realm_);
  EXPECT_EQ(JsonText(*json, "token_endpoint"),
            realm_ + "/protocol/openid-connect/token");
  EXPECT_EQ(JsonText(*json, "jwks_uri"),
            realm_ + "/protocol/openid-connect/certs");
  EXPECT_EQ(JsonText(*json, "authorization_endpoint"),
            realm_ + "/protocol/openid-connect/auth");
  EXPECT_EQ(JsonTexts(*json, "id_token_signing_alg_values_supported"),
            std::vector<std::string>{"RS256"});
}

TEST_F(VneidServiceTest, ASignInGivesAnRs256IdTokenAboutTheCitizen) {
  std::optional<Citizen> citizen = LookupCitizen(kCitizen);
  ASSERT_TRUE(citizen.has_value());
  adapters::vneid::Jws jws = IdToken(Exchange(Code(Login())));
  EXPECT_EQ(jws.alg, "RS256");
  adapters::vneid::KeySet keys = Keys();
  ASSERT_EQ(keys.count(jws.kid), 1u);
  EXPECT_THAT(adapters::vneid::VerifyRs256(jws, keys[jws.kid].get()), IsOk());

  auto claims = ParseJsonObject(jws.payload);
  ASSERT_THAT(claims.status(), IsOk());
  EXPECT_EQ(JsonText(*claims, "iss"), realm_);
  EXPECT_EQ(JsonText(*claims, "aud"), kClientId);
  EXPECT_EQ(JsonText(*claims, "azp"), kClientId);
  EXPECT_EQ(JsonText(*claims, "nonce"), "nonce-0123456789abcdef");
  EXPECT_EQ(JsonText(*claims, "preferred_username"), kCitizen);
  EXPECT_EQ(JsonText(*claims, "SoDinhDanh"), kCitizen);
  EXPECT_EQ(JsonText(*claims, "name"), citizen->FullName());
  EXPECT_EQ(JsonText(*claims, "NgayThangNamSinh"), citizen->BirthDate());
  EXPECT_EQ(JsonText(*claims, "acr"), absl::StrCat(citizen->vneid_level));
  EXPECT_EQ(JsonText(*claims, "loginIdp"), "BCA");
  double exp = JsonNumber(*claims, "exp").value_or(0);
  EXPECT_GT(exp, absl::ToUnixSeconds(absl::Now()));
  EXPECT_LE(exp, absl::ToUnixSeconds(absl::Now()) + 301);
  EXPECT_EQ(sim_->VneidStats().tokens_issued, 1);
}

TEST_F(VneidServiceTest, TheTokenEndpointEnforcesItsRules) {
  // Wrong client secret: 401, and the code is spent all the same.
  std::string code = Code(Login());
  HttpResponse wrong_secret = Exchange(code, kRedirect, "wrong");
  EXPECT_EQ(wrong_secret.status, 401);
  EXPECT_THAT(wrong_secret.body, HasSubstr("invalid_client"));

  // A code is used once.
  code = Code(Login());
  EXPECT_EQ(Exchange(code).status, 200);
  HttpResponse again = Exchange(code);
  EXPECT_EQ(again.status, 400);
  EXPECT_THAT(again.body, HasSubstr("invalid_grant"));

  // Bound to the redirect URI of the authorisation request.
  code = Code(Login());
  HttpResponse elsewhere = Exchange(code, "http://127.0.0.1/callback");
  EXPECT_EQ(elsewhere.status, 400);
  EXPECT_THAT(elsewhere.body, HasSubstr("invalid_grant"));
  EXPECT_EQ(Exchange("no-such-code").status, 400);
  EXPECT_EQ(sim_->VneidStats().grants_refused, 3);
}

TEST_F(VneidServiceTest, ACodeOutlivingItsLifetimeIsRefused) {
  VneidConfig config;
  config.code_lifetime = absl::ZeroDuration();  // expired once issued
  Start(config);
  HttpResponse late = Exchange(Code(Login()));
  EXPECT_EQ(late.status, 400);
  EXPECT_THAT(late.body, HasSubstr("invalid_grant"));
}

TEST_F(VneidServiceTest, PkceS256IsChecked) {
  const std::string verifier(50, 'v');
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()),
         verifier.size(), digest);
  VneidLogin login = Login();
  login.code_challenge = Base64Url(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  HttpResponse without = Exchange(Code(login));
  EXPECT_EQ(without.status, 400);
  EXPECT_THAT(without.body, HasSubstr("PKCE"));
  HttpResponse wrong =
      Exchange(Code(login), kRedirect, kSecret,
               absl::StrCat("&code_verifier=", std::string(50, 'w')));
  EXPECT_EQ(wrong.status, 400);
  HttpResponse right = Exchange(Code(login), kRedirect, kSecret,
                                absl::StrCat("&code_verifier=", verifier));
  EXPECT_EQ(right.status, 200) << right.body;
}

TEST_F(VneidServiceTest, TheAuthorisationEndpointRefusesWhatItMust) {
  VneidLogin login = Login();
  login.redirect_uri = "https://evil.example/callback";
  EXPECT_THAT(VneidAuthorize(*http_, login).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no redirect: HTTP 400")));
  login = Login();
  login.citizen_id = "033085012021";  // NOT_FOUND in the generator
  EXPECT_THAT(VneidAuthorize(*http_, login).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "access_denied"));
  login = Login();
  login.client_id = "someone-else";
  EXPECT_FALSE(VneidAuthorize(*http_, login).ok());
}

TEST_F(VneidServiceTest, KeyRotationKeepsOrDropsTheOldKey) {
  adapters::vneid::Jws before = IdToken(Exchange(Code(Login())));
  ASSERT_THAT(sim_->RotateVneidKeys(/*keep_old=*/true), IsOk());
  adapters::vneid::Jws after = IdToken(Exchange(Code(Login())));
  EXPECT_NE(before.kid, after.kid);
  adapters::vneid::KeySet keys = Keys();
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.count(before.kid), 1u);
  EXPECT_THAT(adapters::vneid::VerifyRs256(after, keys[after.kid].get()),
              IsOk());
  ASSERT_THAT(sim_->RotateVneidKeys(/*keep_old=*/false), IsOk());
  keys = Keys();
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.count(after.kid), 0u);
  EXPECT_EQ(sim_->VneidStats().key_rotations, 2);
}

TEST_F(VneidServiceTest, FaultsShapeTheNextTokens) {
  VneidTokenFaults faults;
  faults.unknown_kid = true;
  faults.expired = true;
  sim_->SetVneidTokenFaults(faults);
  adapters::vneid::Jws jws = IdToken(Exchange(Code(Login())));
  EXPECT_EQ(Keys().count(jws.kid), 0u);
  auto claims = ParseJsonObject(jws.payload);
  ASSERT_THAT(claims.status(), IsOk());
  EXPECT_LT(JsonNumber(*claims, "exp").value_or(0),
            absl::ToUnixSeconds(absl::Now()));

  faults = VneidTokenFaults{};
  faults.alg = "none";
  sim_->SetVneidTokenFaults(faults);
  jws = IdToken(Exchange(Code(Login())));
  EXPECT_EQ(jws.alg, "none");
  EXPECT_TRUE(jws.signature.empty());
}

TEST_F(VneidServiceTest, ControlEndpointSetsFaultsAndRotates) {
  HttpRequest r = Get("");
  r.url = sim_->base_url() + "/_sim/vneid/faults";
  r.method = "POST";
  r.body = R"({"reset":true,"bad_signature":true,"acr":"0"})";
  auto set = SendAndWait(*http_, r);
  ASSERT_THAT(set.status(), IsOk());
  ASSERT_EQ(set->status, 200) << set->body;
  EXPECT_THAT(set->body, HasSubstr(R"("bad_signature":true)"));
  EXPECT_THAT(set->body, HasSubstr(R"("acr":"0")"));
  // The next token carries both faults.
  adapters::vneid::Jws jws = IdToken(Exchange(Code(Login())));
  adapters::vneid::KeySet keys = Keys();
  ASSERT_EQ(keys.count(jws.kid), 1u);
  EXPECT_FALSE(adapters::vneid::VerifyRs256(jws, keys[jws.kid].get()).ok());
  EXPECT_THAT(jws.payload, HasSubstr(R"("acr":"0")"));

  r.body = R"({"alg":"RS512"})";
  auto refused = SendAndWait(*http_, r);
  ASSERT_THAT(refused.status(), IsOk());
  EXPECT_EQ(refused->status, 400);

  r.url = sim_->base_url() + "/_sim/vneid/rotate-keys";
  r.body = R"({"keep_old":false})";
  auto rotated = SendAndWait(*http_, r);
  ASSERT_THAT(rotated.status(), IsOk());
  EXPECT_THAT(rotated->body, HasSubstr(R"("key_rotations":1)"));
  EXPECT_EQ(Keys().count(jws.kid), 0u);
}

}  // namespace
}  // namespace lienthong::sim
