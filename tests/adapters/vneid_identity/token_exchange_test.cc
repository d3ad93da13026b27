#include "adapters/vneid_identity/token_exchange.h"

#include <string>

#include "absl/strings/escaping.h"
#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::VneidSignInRequest;

TEST(TokenExchangeTest, TheBodyCarriesTheGrantEncoded) {
  VneidSignInRequest r;
  r.set_authorization_code("a.b-c_d~e");
  r.set_redirect_uri("https://portal.example/cb?x=1&y=2");
  EXPECT_EQ(BuildTokenRequestBody(r, "id", "secret", false),
            "grant_type=authorization_code&code=a.b-c_d~e&redirect_uri="
            "https%3A%2F%2Fportal.example%2Fcb%3Fx%3D1%26y%3D2");
  r.set_code_verifier("v-._~0123456789abcdefghijklmnopqrstuvwxyzABCDE");
  EXPECT_EQ(BuildTokenRequestBody(r, "lienthong dev", "s&=+", true),
            "grant_type=authorization_code&code=a.b-c_d~e&redirect_uri="
            "https%3A%2F%2Fportal.example%2Fcb%3Fx%3D1%26y%3D2"
            "&code_verifier=v-._~0123456789abcdefghijklmnopqrstuvwxyzABCDE"
            "&client_id=lienthong%20dev&client_secret=s%26%3D%2B");
}

TEST(TokenExchangeTest, BasicAuthorizationEncodesBeforeBase64) {
  std::string header = BasicAuthorization("lienthong-dev", "p:ss w");
  ASSERT_EQ(header.substr(0, 6), "Basic ");
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(header.substr(6), &decoded));
  // RFC 6749 section 2.3.1: the ':' inside the secret is encoded, so the
  // first ':' separates id and secret.
  EXPECT_EQ(decoded, "lienthong-dev:p%3Ass%20w");
}

TEST(TokenExchangeTest, AnswersMapToCodes) {
  struct Case {
    long status;
    const char* body;
    absl::StatusCode code;
    const char* message;  // or the id_token for OK
  } const kCases[] = {
      {200, R"({"access_token":"a","token_type":"Bearer","id_token":"x.y.z"})",
       absl::StatusCode::kOk, "x.y.z"},
      {200, R"({"token_type":"bearer","id_token":"x.y.z","extra":[1]})",
       absl::StatusCode::kOk, "x.y.z"},
      {400, R"({"error":"invalid_grant","error_description":"Code not valid"})",
       absl::StatusCode::kUnauthenticated,
       "authorization code refused by VNeID"},
      {401, R"({"error":"invalid_client"})", absl::StatusCode::kUnavailable,
       "VNeID refused the gateway's client credentials"},
      {400, R"({"error":"invalid_client"})", absl::StatusCode::kUnavailable,
       "VNeID refused the gateway's client credentials"},
      {400, R"({"error":"unauthorized_client"})",
       absl::StatusCode::kUnavailable,
       "VNeID refused the gateway's client credentials"},
      {400, R"({"error":"invalid_request"})", absl::StatusCode::kUnavailable,
       "VNeID refused the token request"},
      {400, "<html>Bad Request</html>", absl::StatusCode::kUnavailable,
       "VNeID refused the token request"},
      {503, R"({"error":"server_error"})", absl::StatusCode::kUnavailable,
       "VNeID token endpoint answered HTTP 503"},
      {302, "", absl::StatusCode::kUnavailable,
       "VNeID token endpoint answered HTTP 302"},
      {200, "not json", absl::StatusCode::kUnavailable,
       "VNeID sent a malformed token response: not the expected JSON"},
      {200, R"({"access_token":"a"})", absl::StatusCode::kUnavailable,
       "VNeID sent a malformed token response: no id_token"},
      {200, R"({"id_token":"x.y.z","token_type":"MAC"})",
       absl::StatusCode::kUnavailable,
       "VNeID sent a malformed token response: token_type is not Bearer"},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<std::string> result = ParseTokenResponse(c.status, c.body);
    if (c.code == absl::StatusCode::kOk) {
      EXPECT_THAT(result, IsOkAndHolds(std::string(c.message))) << c.body;
    } else {
      EXPECT_THAT(result, StatusIs(c.code, c.message)) << c.body;
      // A code may have been spent: nothing here may be retried.
      EXPECT_FALSE(IsRetriable(result.status())) << c.body;
    }
  }
}

}  // namespace
}  // namespace lienthong::adapters::vneid
