#include "adapters/vneid_identity/oidc_config.h"

#include <functional>
#include <string>

#include "adapters/vneid_identity/vneid_config.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::adapters::vneid::VneidOidcConfig;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPortal[] = "spiffe://lienthong.local/citizen-portal";

VneidOidcConfig Minimal() {
  VneidOidcConfig c;
  c.mutable_upstream()->set_base_url("https://sso.example.vn");
  c.set_client_id("hy-gateway");
  c.set_client_secret("s3cret");
  c.add_redirect_uris("https://dichvucong.hungyen.gov.vn/vneid/callback");
  auto* portal = c.add_caller_redirect_uris();
  portal->set_client(kPortal);
  portal->add_redirect_uris("https://1022.hungyen.gov.vn/auth/vneid");
  return c;
}

TEST(OidcConfigTest, DefaultsFollowKeycloaksLayout) {
  absl::StatusOr<OidcSettings> s = ResolveOidcConfig(Minimal());
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->issuer, "https://sso.example.vn/realms/citizen");
  EXPECT_EQ(
      s->token_url,
      "https://sso.example.vn/realms/citizen/protocol/openid-connect/token");
  EXPECT_EQ(
      s->jwks_url,
      "https://sso.example.vn/realms/citizen/protocol/openid-connect/certs");
  EXPECT_FALSE(s->credentials_in_body);
  EXPECT_EQ(s->clock_skew, absl::Seconds(60));
  EXPECT_EQ(s->jwks_min_refresh, absl::Seconds(30));
  EXPECT_EQ(s->jwks_max_age, absl::Hours(1));
  EXPECT_EQ(s->max_remembered_nonces, 1000000u);
}

TEST(OidcConfigTest, OverridesAreTaken) {
  VneidOidcConfig c = Minimal();
  c.set_realm("other");
  c.set_issuer("https://public.example.vn/realms/other");
  c.set_jwks_path("/keys");
  c.set_client_auth_method("client_secret_post");
  c.set_clock_skew_seconds(5);
  c.set_jwks_min_refresh_seconds(1);
  c.set_jwks_max_age_seconds(600);
  c.set_max_remembered_nonces(7);
  absl::StatusOr<OidcSettings> s = ResolveOidcConfig(c);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->issuer, "https://public.example.vn/realms/other");
  EXPECT_EQ(
      s->token_url,
      "https://sso.example.vn/realms/other/protocol/openid-connect/token");
  EXPECT_EQ(s->jwks_url, "https://sso.example.vn/keys");
  EXPECT_TRUE(s->credentials_in_body);
  EXPECT_EQ(s->clock_skew, absl::Seconds(5));
  EXPECT_EQ(s->jwks_min_refresh, absl::Seconds(1));
  EXPECT_EQ(s->jwks_max_age, absl::Minutes(10));
  EXPECT_EQ(s->max_remembered_nonces, 7u);
}

TEST(OidcConfigTest, BadConfigsNameTheField) {
  struct Case {
    const char* what;
    std::function<void(VneidOidcConfig&)> change;
    const char* field;
  } const kCases[] = {
      {"plain http",
       [](VneidOidcConfig& c) {
         c.mutable_upstream()->set_base_url("http://sso.example.vn");
       },
       "upstream.base_url"},
      {"trailing slash",
       [](VneidOidcConfig& c) {
         c.mutable_upstream()->set_base_url("https://sso.example.vn/");
       },
       "upstream.base_url"},
      {"realm with a slash", [](VneidOidcConfig& c) { c.set_realm("a/b"); },
       "realm"},
      {"relative path", [](VneidOidcConfig& c) { c.set_token_path("token"); },
       "token_path"},
      {"a space in a path",
       [](VneidOidcConfig& c) { c.set_jwks_path("/realms/citizen/k eys"); },
       "jwks_path"},
      {"http issuer",
       [](VneidOidcConfig& c) { c.set_issuer("http://sso/realms/citizen"); },
       "issuer"},
      {"no secret", [](VneidOidcConfig& c) { c.clear_client_secret(); },
       "client_id, client_secret"},
      {"unknown auth method",
       [](VneidOidcConfig& c) { c.set_client_auth_method("private_key_jwt"); },
       "client_auth_method"},
      {"no redirect URI at all",
       [](VneidOidcConfig& c) {
         c.clear_redirect_uris();
         c.clear_caller_redirect_uris();
       },
       "redirect_uris"},
      {"redirect URI over http",
       [](VneidOidcConfig& c) { c.add_redirect_uris("http://portal.vn/cb"); },
       "redirect_uris[1]"},
      {"redirect URI with a fragment",
       [](VneidOidcConfig& c) {
         c.add_redirect_uris("https://portal.vn/cb#x");
       },
       "redirect_uris[1]"},
      {"http on a host named like localhost",
       [](VneidOidcConfig& c) {
         c.add_redirect_uris("http://localhost.evil.vn/cb");
       },
       "redirect_uris[1]"},
      // User-info makes the host the part after '@', over plain http.
      {"http with user-info after localhost's port",
       [](VneidOidcConfig& c) {
         c.add_redirect_uris("http://localhost:1@evil.example/cb");
       },
       "redirect_uris[1]"},
      {"http with user-info after 127.0.0.1",
       [](VneidOidcConfig& c) {
         c.add_redirect_uris("http://127.0.0.1:x@evil/");
       },
       "redirect_uris[1]"},
      {"http with user-info naming localhost",
       [](VneidOidcConfig& c) {
         c.add_redirect_uris("http://localhost@evil.example/cb");
       },
       "redirect_uris[1]"},
      {"https with user-info",
       [](VneidOidcConfig& c) {
         c.add_redirect_uris(
             "https://dichvucong.hungyen.gov.vn@evil.example/cb");
       },
       "redirect_uris[1]"},
      {"loopback port not digits",
       [](VneidOidcConfig& c) { c.add_redirect_uris("http://127.0.0.1:x/cb"); },
       "redirect_uris[1]"},
      {"loopback empty port",
       [](VneidOidcConfig& c) { c.add_redirect_uris("http://localhost:/cb"); },
       "redirect_uris[1]"},
      {"http on a host named like 127.0.0.1",
       [](VneidOidcConfig& c) {
         c.add_redirect_uris("http://127.0.0.1.evil.example/cb");
       },
       "redirect_uris[1]"},
      {"http on a bracketed host other than ::1",
       [](VneidOidcConfig& c) { c.add_redirect_uris("http://[::2]/cb"); },
       "redirect_uris[1]"},
      {"loopback followed by a backslash",
       [](VneidOidcConfig& c) {
         c.add_redirect_uris("http://localhost\\.evil.example/cb");
       },
       "redirect_uris[1]"},
      {"https without a host",
       [](VneidOidcConfig& c) { c.add_redirect_uris("https://:443/cb"); },
       "redirect_uris[1]"},
      {"user-info in a caller's own redirect URI",
       [](VneidOidcConfig& c) {
         c.mutable_caller_redirect_uris(0)->add_redirect_uris(
             "http://localhost:8080@evil.example/cb");
       },
       "caller_redirect_uris[0].redirect_uris[1]"},
      {"caller without client",
       [](VneidOidcConfig& c) {
         c.add_caller_redirect_uris()->add_redirect_uris("https://x.vn/cb");
       },
       "caller_redirect_uris[1].client"},
      {"skew over 300 s",
       [](VneidOidcConfig& c) { c.set_clock_skew_seconds(301); },
       "clock_skew_seconds"},
      {"negative nonce cap",
       [](VneidOidcConfig& c) { c.set_max_remembered_nonces(-1); },
       "max_remembered_nonces"},
  };
  for (const Case& c : kCases) {
    VneidOidcConfig config = Minimal();
    c.change(config);
    EXPECT_THAT(ResolveOidcConfig(config),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         ::testing::StartsWith(c.field)))
        << c.what;
  }
  // The secret never appears in a message.
  VneidOidcConfig config = Minimal();
  config.set_client_auth_method("s3cret");
  EXPECT_THAT(ResolveOidcConfig(config).status().message(),
              ::testing::Not(HasSubstr("s3cret")));
}

TEST(OidcConfigTest, PlainHttpIsTakenOnlyForTheLoopback) {
  for (const char* uri :
       {"http://localhost/cb", "http://localhost:8080/cb",
        "http://127.0.0.1:8080/callback?x=1", "http://[::1]:8080/cb",
        "http://localhost", "https://portal.vn:8443/cb",
        "https://[2001:db8::1]/cb"}) {
    VneidOidcConfig config = Minimal();
    config.add_redirect_uris(uri);
    absl::StatusOr<OidcSettings> s = ResolveOidcConfig(config);
    ASSERT_THAT(s, IsOk()) << uri;
    EXPECT_EQ(s->redirect_uris.count(uri), 1u) << uri;
  }
}

TEST(OidcConfigTest, RedirectUrisArePerCallerOrForAll) {
  absl::StatusOr<OidcSettings> s = ResolveOidcConfig(Minimal());
  ASSERT_THAT(s, IsOk());
  const char* kForAll = "https://dichvucong.hungyen.gov.vn/vneid/callback";
  const char* kOwn = "https://1022.hungyen.gov.vn/auth/vneid";
  const char* kOther = "spiffe://lienthong.local/dossier-system";
  EXPECT_THAT(s->CheckRedirectUri(kPortal, kForAll), IsOk());
  EXPECT_THAT(s->CheckRedirectUri(kOther, kForAll), IsOk());
  EXPECT_THAT(s->CheckRedirectUri(kPortal, kOwn), IsOk());
  EXPECT_THAT(s->CheckRedirectUri(kOther, kOwn),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "redirect_uri is not one the gateway allows for this "
                       "caller"));
  // Exact comparison: no prefix, case or trailing-slash leniency.
  for (const char* near :
       {"https://dichvucong.hungyen.gov.vn/vneid/callback/",
        "https://DICHVUCONG.hungyen.gov.vn/vneid/callback",
        "https://dichvucong.hungyen.gov.vn/vneid/callback?x=1",
        "https://dichvucong.hungyen.gov.vn/vneid"}) {
    EXPECT_FALSE(s->CheckRedirectUri(kPortal, near).ok()) << near;
  }
}

}  // namespace
}  // namespace lienthong::adapters::vneid
