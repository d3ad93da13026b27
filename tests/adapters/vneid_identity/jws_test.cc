#include "adapters/vneid_identity/jws.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/jwt_signer.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kHeader[] = R"({"alg":"RS256","typ":"JWT","kid":"k1"})";
constexpr char kPayload[] = R"({"iss":"https://sso/realms/citizen"})";

TEST(DecodeBase64UrlTest, AcceptsOnlyUnpaddedUrlAlphabet) {
  struct Case {
    const char* text;
    bool ok;
    const char* bytes;
  } const kCases[] = {
      {"", true, ""},
      {"YQ", true, "a"},
      {"YWI", true, "ab"},
      {"YWJj", true, "abc"},
      {"-_8", true, "\xfb\xff"},
      {"YQ==", false, nullptr},  // padding
      {"Y", false, nullptr},     // a lone sextet
      {"+/8", false, nullptr},   // standard alphabet
      {"YW J", false, nullptr},  // space
      {"YWJj\n", false, nullptr},
  };
  for (const Case& c : kCases) {
    if (c.ok) {
      EXPECT_THAT(DecodeBase64Url(c.text), IsOkAndHolds(std::string(c.bytes)))
          << c.text;
    } else {
      EXPECT_THAT(DecodeBase64Url(c.text),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           "not base64url without padding"))
          << c.text;
    }
  }
}

TEST(ParseJwsCompactTest, DecodesHeaderPayloadAndSignature) {
  std::string token =
      absl::StrCat(sim::Base64Url(kHeader), ".", sim::Base64Url(kPayload), ".",
                   sim::Base64Url("sig"));
  absl::StatusOr<Jws> jws = ParseJwsCompact(token);
  ASSERT_THAT(jws, IsOk());
  EXPECT_EQ(jws->alg, "RS256");
  EXPECT_EQ(jws->kid, "k1");
  EXPECT_EQ(jws->payload, kPayload);
  EXPECT_EQ(jws->signature, "sig");
  EXPECT_EQ(jws->signing_input, token.substr(0, token.rfind('.')));
}

TEST(ParseJwsCompactTest, RefusesMalformedTokens) {
  const std::string h = sim::Base64Url(kHeader);
  const std::string p = sim::Base64Url(kPayload);
  struct Case {
    std::string token;
    const char* what;
  } const kCases[] = {
      {absl::StrCat(h, ".", p), "not three dot-separated parts"},
      {absl::StrCat(h, ".", p, ".s.x"), "not three dot-separated parts"},
      {absl::StrCat(".", p, ".c2ln"), "empty part"},
      {absl::StrCat(h, "..c2ln"), "empty part"},
      {absl::StrCat(h, "=.", p, ".c2ln"), "header is not base64url"},
      {absl::StrCat(h, ".", p, "+.c2ln"), "payload is not base64url"},
      {absl::StrCat(h, ".", p, ".c2ln="), "signature is not base64url"},
      {absl::StrCat(sim::Base64Url("not json"), ".", p, ".c2ln"),
       "header is not a JSON object"},
      {absl::StrCat(sim::Base64Url("[1]"), ".", p, ".c2ln"),
       "header is not a JSON object"},
      {absl::StrCat(sim::Base64Url(R"({"typ":"JWT"})"), ".", p, ".c2ln"),
       "header without alg"},
      {absl::StrCat(sim::Base64Url(R"({"alg":7})"), ".", p, ".c2ln"),
       "header without alg"},
      {absl::StrCat(sim::Base64Url(R"({"alg":"RS256","kid":7})"), ".", p,
                    ".c2ln"),
       "kid is not a string"},
      {absl::StrCat(sim::Base64Url(R"({"alg":"RS256","crit":["exp"]})"), ".", p,
                    ".c2ln"),
       "header names critical extensions"},
      {std::string(kMaxIdTokenBytes + 1, 'a'), "too long"},
  };
  for (const Case& c : kCases) {
    EXPECT_THAT(
        ParseJwsCompact(c.token),
        StatusIs(absl::StatusCode::kUnavailable,
                 absl::StrCat("VNeID sent a malformed id token: ", c.what)))
        << c.token.substr(0, 80);
  }
}

class VerifyRs256Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new sim::RsaKey(*sim::GenerateRsaKey(2048));
    other_ = new sim::RsaKey(*sim::GenerateRsaKey(2048));
  }
  static void TearDownTestSuite() {
    delete key_;
    delete other_;
  }
  static Jws Parsed(const std::string& token) {
    absl::StatusOr<Jws> jws = ParseJwsCompact(token);
    EXPECT_THAT(jws, IsOk());
    return jws.value_or(Jws{});
  }
  static std::string Signed(const char* header = kHeader,
                            const char* payload = kPayload) {
    return *sim::SignRs256(header, payload, key_->get());
  }
  static sim::RsaKey* key_;
  static sim::RsaKey* other_;
};
sim::RsaKey* VerifyRs256Test::key_ = nullptr;
sim::RsaKey* VerifyRs256Test::other_ = nullptr;

TEST_F(VerifyRs256Test, AcceptsTheSignersKeyOnly) {
  Jws jws = Parsed(Signed());
  EXPECT_THAT(VerifyRs256(jws, key_->get()), IsOk());
  EXPECT_THAT(VerifyRs256(jws, other_->get()),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "id token signature invalid"));
  EXPECT_THAT(VerifyRs256(jws, nullptr),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "id token signature invalid"));
}

TEST_F(VerifyRs256Test, RefusesAlteredTokens) {
  const std::string token = Signed();
  const size_t dot = token.rfind('.');
  struct Case {
    const char* what;
    std::string token;
  } const kCases[] = {
      {"other payload, same signature",
       absl::StrCat(sim::Base64Url(kHeader), ".",
                    sim::Base64Url(R"({"iss":"https://evil"})"),
                    token.substr(dot))},
      {"signature cut short", token.substr(0, token.size() - 4)},
      {"signature of another token",
       absl::StrCat(token.substr(0, dot),
                    Signed(kHeader, R"({"a":1})")
                        .substr(Signed(kHeader, R"({"a":1})").rfind('.')))},
      {"signature byte flipped",
       absl::StrCat(token.substr(0, dot + 5), token[dot + 5] == 'A' ? "B" : "A",
                    token.substr(dot + 6))},
  };
  for (const Case& c : kCases) {
    Jws jws = Parsed(c.token);
    EXPECT_THAT(VerifyRs256(jws, key_->get()),
                StatusIs(absl::StatusCode::kUnauthenticated,
                         "id token signature invalid"))
        << c.what;
  }
}

TEST_F(VerifyRs256Test, OnlyRs256IsAccepted) {
  struct Case {
    const char* what;
    std::string token;
  } const kCases[] = {
      {"none", sim::Unsigned(R"({"alg":"none","kid":"k1"})", kPayload)},
      {"HS256 keyed with a public value",
       sim::SignHs256(R"({"alg":"HS256","kid":"k1"})", kPayload,
                      "dev-vneid-secret")},
      {"RS512 header on an RS256 signature",
       Signed(R"({"alg":"RS512","kid":"k1"})")},
      {"lower-case rs256", Signed(R"({"alg":"rs256","kid":"k1"})")},
  };
  for (const Case& c : kCases) {
    Jws jws = Parsed(c.token);
    EXPECT_THAT(VerifyRs256(jws, key_->get()),
                StatusIs(absl::StatusCode::kUnauthenticated,
                         "id token alg must be RS256"))
        << c.what;
  }
}

TEST_F(VerifyRs256Test, ErrorsNeverQuoteTheToken) {
  Jws jws = Parsed(Signed());
  absl::Status status = VerifyRs256(jws, other_->get());
  EXPECT_THAT(std::string(status.message()),
              ::testing::Not(HasSubstr(jws.signing_input.substr(0, 10))));
}

}  // namespace
}  // namespace lienthong::adapters::vneid
