#include "adapters/vneid_identity/id_token.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kIssuer[] = "https://127.0.0.1:9443/vneid/realms/citizen";
constexpr char kClient[] = "lienthong-dev";
constexpr char kNonce[] = "n-0123456789abcdef";
constexpr char kId[] = "033085012345";
constexpr int64_t kNow = 1752537600;  // 2025-07-15 00:00:00 UTC

// Claims as raw JSON values by name; a valid token's to start from.
using Claims = std::map<std::string, std::string>;

Claims ValidClaims() {
  return {{"iss", absl::StrCat("\"", kIssuer, "\"")},
          {"aud", absl::StrCat("\"", kClient, "\"")},
          {"azp", absl::StrCat("\"", kClient, "\"")},
          {"sub", "\"5b1e0c1a-0000-4000-8000-000000000001\""},
          {"exp", absl::StrCat(kNow + 300)},
          {"iat", absl::StrCat(kNow - 5)},
          {"nonce", absl::StrCat("\"", kNonce, "\"")},
          {"acr", "\"2\""},
          {"preferred_username", absl::StrCat("\"", kId, "\"")},
          {"name", "\"Bùi Văn An\""},
          {"birthdate", "\"1985-03-30\""}};
}

std::string Json(const Claims& claims) {
  std::vector<std::string> members;
  for (const auto& [name, value] : claims) {
    members.push_back(absl::StrCat("\"", name, "\":", value));
  }
  return absl::StrCat("{", absl::StrJoin(members, ","), "}");
}

IdTokenExpectations Want() {
  return {kIssuer, kClient, kNonce, absl::FromUnixSeconds(kNow),
          absl::Seconds(60)};
}

TEST(IdTokenTest, AValidTokenGivesTheCitizen) {
  absl::StatusOr<SignedInCitizen> citizen =
      CheckIdTokenClaims(Json(ValidClaims()), Want());
  ASSERT_THAT(citizen, IsOk());
  const auto& r = citizen->response;
  EXPECT_EQ(r.citizen_id(), kId);
  EXPECT_EQ(r.full_name(), "Bùi Văn An");
  EXPECT_EQ(r.birth_date().year(), 1985);
  EXPECT_EQ(r.birth_date().month(), 3);
  EXPECT_EQ(r.birth_date().day(), 30);
  EXPECT_EQ(r.assurance_level(), 2);
  EXPECT_EQ(r.subject(), "5b1e0c1a-0000-4000-8000-000000000001");
  EXPECT_EQ(r.expires_at().seconds(), kNow + 300);
  EXPECT_EQ(citizen->expires_at, absl::FromUnixSeconds(kNow + 300));
}

// One change to the valid claims (a value, or "" to remove the claim) and
// what it must give.
struct Case {
  const char* what;
  std::vector<std::pair<std::string, std::string>> change;
  absl::StatusCode code;  // kOk: accepted
  const char* message;    // for failures: the whole message
};

const Case kCases[] = {
    // Accepted variants.
    {"acr as a number", {{"acr", "1"}}, absl::StatusCode::kOk, ""},
    {"several audiences with azp us",
     {{"aud", absl::StrCat("[\"account\",\"", kClient, "\"]")}},
     absl::StatusCode::kOk,
     ""},
    {"audience array of one, no azp",
     {{"aud", absl::StrCat("[\"", kClient, "\"]")}, {"azp", ""}},
     absl::StatusCode::kOk,
     ""},
    {"expired within the skew",
     {{"exp", absl::StrCat(kNow - 59)}},
     absl::StatusCode::kOk,
     ""},
    {"issued slightly ahead (skew)",
     {{"iat", absl::StrCat(kNow + 59)}},
     absl::StatusCode::kOk,
     ""},
    {"nbf in the past",
     {{"nbf", absl::StrCat(kNow - 10)}},
     absl::StatusCode::kOk,
     ""},
    {"fractional times",
     {{"exp", absl::StrCat(kNow + 300, ".5")}},
     absl::StatusCode::kOk,
     ""},
    {"national claims only",
     {{"name", ""},
      {"birthdate", ""},
      {"HoVaTen", "\"BÙI VĂN AN\""},
      {"NgayThangNamSinh", "\"19850330\""},
      {"SoDinhDanh", "\"033085012345\""}},
     absl::StatusCode::kOk,
     ""},
    {"year-only birth date",
     {{"birthdate", "\"1985\""}},
     absl::StatusCode::kOk,
     ""},
    {"no name or birth date",
     {{"name", ""}, {"birthdate", ""}},
     absl::StatusCode::kOk,
     ""},
    {"unknown claims",
     {{"loginIdp", "\"BCA\""}, {"TechID", "42"}},
     absl::StatusCode::kOk,
     ""},
    // The gateway's own refusals.
    {"another issuer",
     {{"iss", "\"https://127.0.0.1:9443/vneid/realms/other\""}},
     absl::StatusCode::kUnauthenticated,
     "id token from another issuer"},
    {"issuer with a trailing slash",
     {{"iss", absl::StrCat("\"", kIssuer, "/\"")}},
     absl::StatusCode::kUnauthenticated,
     "id token from another issuer"},
    {"another audience",
     {{"aud", "\"other-portal\""}, {"azp", ""}},
     absl::StatusCode::kUnauthenticated,
     "id token for another audience"},
    {"several audiences without azp",
     {{"aud", absl::StrCat("[\"", kClient, "\",\"account\"]")}, {"azp", ""}},
     absl::StatusCode::kUnauthenticated,
     "id token for another audience"},
    {"azp another client",
     {{"azp", "\"other-portal\""}},
     absl::StatusCode::kUnauthenticated,
     "id token for another audience"},
    {"expired",
     {{"exp", absl::StrCat(kNow - 60)}},
     absl::StatusCode::kUnauthenticated,
     "id token expired"},
    {"issued in the future",
     {{"iat", absl::StrCat(kNow + 61)}},
     absl::StatusCode::kUnauthenticated,
     "id token not yet valid"},
    {"nbf in the future",
     {{"nbf", absl::StrCat(kNow + 61)}},
     absl::StatusCode::kUnauthenticated,
     "id token not yet valid"},
    {"another nonce",
     {{"nonce", "\"n-someone-elses\""}},
     absl::StatusCode::kUnauthenticated,
     "nonce does not match"},
    {"no nonce",
     {{"nonce", ""}},
     absl::StatusCode::kUnauthenticated,
     "nonce does not match"},
    {"acr 0",
     {{"acr", "\"0\""}},
     absl::StatusCode::kUnauthenticated,
     "id token without assurance level 1 or 2"},
    {"acr 3",
     {{"acr", "3"}},
     absl::StatusCode::kUnauthenticated,
     "id token without assurance level 1 or 2"},
    {"no acr",
     {{"acr", ""}},
     absl::StatusCode::kUnauthenticated,
     "id token without assurance level 1 or 2"},
    // Malformed data from the realm.
    {"no iss",
     {{"iss", ""}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: missing iss"},
    {"iss a number",
     {{"iss", "1"}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: iss is not a string"},
    {"no aud",
     {{"aud", ""}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: missing aud"},
    {"aud an object",
     {{"aud", "{}"}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: aud is not a string or an array"},
    {"no exp",
     {{"exp", ""}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: missing exp"},
    {"exp a string",
     {{"exp", "\"soon\""}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: exp is not a number"},
    {"exp negative",
     {{"exp", "-1"}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: exp is not a time"},
    {"no iat",
     {{"iat", ""}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: missing iat"},
    {"no sub",
     {{"sub", ""}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: missing or oversized sub"},
    {"sub with control characters",
     {{"sub", "\"5b1e\\u001b[2J\\u0000\""}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: sub is not text"},
    {"preferred_username a number",
     {{"preferred_username", "33085012345"}},
     absl::StatusCode::kUnavailable,
     "VNeID sent a malformed id token: preferred_username is not a string"},
    // A well-signed token for an account whose identity the gateway cannot
    // take: not VNeID failing, so not UNAVAILABLE (the breaker's count).
    {"no preferred_username",
     {{"preferred_username", ""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: preferred_username is not a valid "
     "12-digit citizen ID"},
    {"a 9-digit old ID",
     {{"preferred_username", "\"145123456\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: preferred_username is not a valid "
     "12-digit citizen ID"},
    {"unknown province code",
     {{"preferred_username", "\"999085012345\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: preferred_username is not a valid "
     "12-digit citizen ID"},
    {"birth year against the ID's digits",
     {{"birthdate", "\"1986-03-30\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: preferred_username is not a valid "
     "12-digit citizen ID"},
    {"SoDinhDanh another ID",
     {{"SoDinhDanh", "\"033085012346\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: SoDinhDanh differs from "
     "preferred_username"},
    {"birthdate not a date",
     {{"birthdate", "\"30/03/1985\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: birthdate is not yyyy-MM-dd or yyyy"},
    {"impossible day",
     {{"birthdate", "\"1985-02-30\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: birth date is not a valid date"},
    {"birth dates disagree",
     {{"NgayThangNamSinh", "\"19850331\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: birthdate and NgayThangNamSinh "
     "disagree"},
    {"NgayThangNamSinh dashed",
     {{"birthdate", ""}, {"NgayThangNamSinh", "\"1985-03-30\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: NgayThangNamSinh is not yyyyMMdd or "
     "yyyy"},
    {"name with a newline",
     {{"name", "\"Bùi\\nVăn An\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: name contains control characters"},
    {"name with DEL",
     {{"name", "\"Bùi\\u007fVăn An\""}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: name contains control characters"},
    {"name too long",
     {{"name", absl::StrCat("\"", std::string(401, 'A'), "\"")}},
     absl::StatusCode::kFailedPrecondition,
     "VNeID identity not accepted: name longer than 400 bytes"},
};

TEST(IdTokenTest, EachRuleHasItsCodeAndMessage) {
  for (const Case& c : kCases) {
    Claims claims = ValidClaims();
    for (const auto& [name, value] : c.change) {
      if (value.empty()) {
        claims.erase(name);
      } else {
        claims[name] = value;
      }
    }
    absl::StatusOr<SignedInCitizen> result =
        CheckIdTokenClaims(Json(claims), Want());
    if (c.code == absl::StatusCode::kOk) {
      EXPECT_THAT(result, IsOk()) << c.what;
    } else {
      EXPECT_THAT(result, StatusIs(c.code, c.message)) << c.what;
      // Messages never carry the citizen's data, nor what a claim said.
      const std::string message(result.status().message());
      EXPECT_THAT(message, Not(HasSubstr(kId))) << c.what;
      for (const auto& [name, value] : c.change) {
        const std::string said(
            absl::StripPrefix(absl::StripSuffix(value, "\""), "\""));
        if (said.size() >= 4) {
          EXPECT_THAT(message, Not(HasSubstr(said))) << c.what;
        }
      }
    }
  }
}

TEST(IdTokenTest, ThePayloadMustBeAJsonObject) {
  // A claim given twice is refused, not read as either value (RFC 7519
  // section 4); so is nesting deep enough to exhaust a parser.
  const std::string twice = absl::StrCat(
      "{\"iss\":\"https://evil\",", Json(ValidClaims()).substr(1));
  std::string deep = "{\"x\":";
  for (int i = 0; i < 1000; ++i) deep += "[";
  for (const std::string& payload :
       {std::string(), std::string("[]"), std::string("null"),
        std::string("{\"iss\":"), std::string("\xff\xfe"), twice, deep}) {
    EXPECT_THAT(CheckIdTokenClaims(payload, Want()),
                StatusIs(absl::StatusCode::kUnavailable,
                         "VNeID sent a malformed id token: claims are not a "
                         "JSON object"))
        << payload.substr(0, 40);
  }
}

TEST(IdTokenTest, NationalNameIsUsedWhenNameIsAbsent) {
  Claims claims = ValidClaims();
  claims.erase("name");
  claims["HoVaTen"] = "\"BÙI VĂN AN\"";
  claims["NgayThangNamSinh"] = "\"1985\"";
  claims.erase("birthdate");
  absl::StatusOr<SignedInCitizen> citizen =
      CheckIdTokenClaims(Json(claims), Want());
  ASSERT_THAT(citizen, IsOk());
  EXPECT_EQ(citizen->response.full_name(), "BÙI VĂN AN");
  EXPECT_EQ(citizen->response.birth_date().year(), 1985);
  EXPECT_EQ(citizen->response.birth_date().month(), 0);
}

}  // namespace
}  // namespace lienthong::adapters::vneid
