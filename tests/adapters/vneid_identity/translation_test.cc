#include "adapters/vneid_identity/translation.h"

#include <string>
#include <vector>

#include "adapters/common/retriable.h"
#include "adapters/vneid_identity/vneid_wire.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::VerifyIdentityRequest;
using ::lienthong::v1::VerifyIdentityResponse;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kMalformed[] = "VNeID sent a malformed reply";

// Upstream text and personal data that must never reach a status message.
const char* const kSecrets[] = {"033085012345",   "NGUYEN",      "tok-",
                                "invalid_client", "Token khong", "{",
                                "VNEID-"};

void ExpectNoLeak(const absl::Status& status) {
  for (const char* secret : kSecrets) {
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(secret)))
        << status;
  }
}

// --- Token ---------------------------------------------------------------

struct TokenBodyCase {
  const char* client_id;
  const char* client_secret;
  const char* body;
};

constexpr TokenBodyCase kTokenBodyCases[] = {
    {"lienthong", "s3cr3t",
     "grant_type=client_credentials&client_id=lienthong&client_secret=s3cr3t"},
    {"hy.gov-vn_1~", "a b&c=d+e/f%g?é",
     "grant_type=client_credentials&client_id=hy.gov-vn_1~"
     "&client_secret=a%20b%26c%3Dd%2Be%2Ff%25g%3F%C3%A9"},
    {"", "", "grant_type=client_credentials&client_id=&client_secret="},
};

TEST(BuildTokenRequestBodyTest, Table) {
  for (const TokenBodyCase& c : kTokenBodyCases) {
    EXPECT_EQ(BuildTokenRequestBody(c.client_id, c.client_secret), c.body);
  }
}

struct TokenCase {
  long http_status;
  const char* body;
  const char* token;    // expected token, or nullptr for an error
  int expires_in;       // seconds
  const char* message;  // error message prefix
  bool retriable;
};

constexpr TokenCase kTokenCases[] = {
    {200,
     R"({"access_token":"tok-abc.DEF_123","token_type":"Bearer","expires_in":3600})",
     "tok-abc.DEF_123", 3600, nullptr, false},
    {200,
     R"({"access_token":"tok-1","token_type":"bearer","expires_in":"60","scope":"x"})",
     "tok-1", 60, nullptr, false},
    {200, R"({"access_token":"tok-2","expires_in":1})", "tok-2", 1, nullptr,
     false},
    // HTTP statuses.
    {401, R"({"error":"invalid_client"})", nullptr, 0,
     "VNeID rejected the gateway's credentials", false},
    {400, R"({"error":"invalid_client"})", nullptr, 0,
     "VNeID rejected the gateway's credentials", false},
    {429, "", nullptr, 0, "VNeID is unavailable (HTTP 429)", true},
    {502, "", nullptr, 0, "VNeID is unavailable (HTTP 502)", true},
    {503, "{}", nullptr, 0, "VNeID is unavailable (HTTP 503)", true},
    {504, "", nullptr, 0, "VNeID is unavailable (HTTP 504)", true},
    {500, R"({"error":"server_error"})", nullptr, 0, "VNeID answered HTTP 500",
     false},
    {302, "", nullptr, 0, "VNeID answered HTTP 302", false},
    // Malformed 200s.
    {200, "", nullptr, 0, kMalformed, false},
    {200, "tok-abc", nullptr, 0, kMalformed, false},
    {200, "[1,2]", nullptr, 0, kMalformed, false},
    {200, R"({"token_type":"Bearer","expires_in":3600})", nullptr, 0,
     kMalformed, false},
    {200, R"({"access_token":"","expires_in":3600})", nullptr, 0, kMalformed,
     false},
    {200, R"({"access_token":"tok-a b","expires_in":3600})", nullptr, 0,
     kMalformed, false},
    {200, R"({"access_token":"tok-a\r\nX-Evil: 1","expires_in":3600})", nullptr,
     0, kMalformed, false},
    {200, R"({"access_token":12345,"expires_in":3600})", nullptr, 0, kMalformed,
     false},
    {200, R"({"access_token":"tok-a","token_type":"MAC","expires_in":3600})",
     nullptr, 0, kMalformed, false},
    {200, R"({"access_token":"tok-a"})", nullptr, 0, kMalformed, false},
    {200, R"({"access_token":"tok-a","expires_in":0})", nullptr, 0, kMalformed,
     false},
    {200, R"({"access_token":"tok-a","expires_in":-5})", nullptr, 0, kMalformed,
     false},
    {200, R"({"access_token":"tok-a","expires_in":"soon"})", nullptr, 0,
     kMalformed, false},
};

TEST(ParseTokenResponseTest, Table) {
  for (const TokenCase& c : kTokenCases) {
    SCOPED_TRACE(::testing::Message() << c.http_status << " " << c.body);
    const absl::StatusOr<Token> token =
        ParseTokenResponse(c.http_status, c.body);
    if (c.token != nullptr) {
      ASSERT_TRUE(token.ok()) << token.status();
      EXPECT_EQ(token->access_token, c.token);
      EXPECT_EQ(token->expires_in, absl::Seconds(c.expires_in));
      continue;
    }
    EXPECT_THAT(
        token, StatusIs(absl::StatusCode::kUnavailable, StartsWith(c.message)));
    EXPECT_EQ(IsRetriable(token.status()), c.retriable);
    ExpectNoLeak(token.status());
  }
}

// --- Verify request ------------------------------------------------------

VerifyIdentityRequest MakeRequest(const char* id, const char* name, int year,
                                  int month, int day) {
  VerifyIdentityRequest request;
  request.set_citizen_id(id);
  request.set_full_name(name);
  if (year >= 0) {
    request.mutable_birth_date()->set_year(year);
    request.mutable_birth_date()->set_month(month);
    request.mutable_birth_date()->set_day(day);
  }
  request.set_purpose("1.001193");
  request.set_dossier_id("000.00.01.H31-250715-00123");
  return request;
}

struct VerifyBodyCase {
  const char* id;
  const char* name;
  int year, month, day;  // year -1: no birth_date
  const char* json;
};

constexpr VerifyBodyCase kVerifyBodyCases[] = {
    {"033085012345", "Nguyễn Văn An", 1985, 3, 12,
     R"({"maYeuCau":"LT-1","soDinhDanh":"033085012345",)"
     R"("hoVaTen":"NGUYEN VAN AN","ngaySinh":"19850312"})"},
    {"033085012345", "  đặng   đình đức ", 1985, 0, 0,
     R"({"maYeuCau":"LT-1","soDinhDanh":"033085012345",)"
     R"("hoVaTen":"DANG DINH DUC","ngaySinh":"1985"})"},
    {"001205012345", "Lê Hữu Phước", 2005, 1, 2,
     R"({"maYeuCau":"LT-1","soDinhDanh":"001205012345",)"
     R"("hoVaTen":"LE HUU PHUOC","ngaySinh":"20050102"})"},
    {"145123456", "Trương Mỹ Ưng", -1, 0, 0,
     R"({"maYeuCau":"LT-1","soDinhDanh":"145123456",)"
     R"("hoVaTen":"TRUONG MY UNG"})"},
    {"145123456", "Trương Mỹ Ưng", 0, 0, 0,  // year unknown: no ngaySinh
     R"({"maYeuCau":"LT-1","soDinhDanh":"145123456",)"
     R"("hoVaTen":"TRUONG MY UNG"})"},
};

TEST(BuildVerifyBodyTest, Table) {
  for (const VerifyBodyCase& c : kVerifyBodyCases) {
    EXPECT_THAT(BuildVerifyBody(
                    MakeRequest(c.id, c.name, c.year, c.month, c.day), "LT-1"),
                IsOkAndHolds(Eq(c.json)));
  }
}

TEST(BuildVerifyBodyTest, EscapesRequestIdAsJson) {
  const std::string hostile = "LT-\"},{\"x\":\"\\\n";
  absl::StatusOr<std::string> body =
      BuildVerifyBody(MakeRequest("033085012345", "An", -1, 0, 0), hostile);
  ASSERT_TRUE(body.ok()) << body.status();
  wire::VerifyRequest parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*body, &parsed).ok())
      << *body;
  EXPECT_EQ(parsed.mayeucau(), hostile);
  EXPECT_EQ(parsed.hovaten(), "AN");
}

struct VerifyBodyErrorCase {
  const char* id;
  const char* name;
  const char* message;
};

constexpr VerifyBodyErrorCase kVerifyBodyErrors[] = {
    {"03308501234", "Nguyễn Văn An", "citizen_id must have 12 digits"},
    {"03308501234x", "Nguyễn Văn An", "citizen_id must have 12 digits"},
    {"", "Nguyễn Văn An", "citizen_id must have 12 digits"},
    {"033085012345", "", "full_name is required"},
    {"033085012345", "   ", "name is empty"},
    {"033085012345", "Nguyễn Văn 033085012345", "only letters"},
    {"033085012345", "Nguy\xc3", "UTF-8"},
};

TEST(BuildVerifyBodyTest, Errors) {
  for (const VerifyBodyErrorCase& c : kVerifyBodyErrors) {
    SCOPED_TRACE(c.name);
    const absl::StatusOr<std::string> body =
        BuildVerifyBody(MakeRequest(c.id, c.name, 1985, 3, 12), "LT-1");
    EXPECT_THAT(body, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr(c.message)));
    EXPECT_THAT(std::string(body.status().message()),
                Not(HasSubstr("0330850123")));
    EXPECT_THAT(std::string(body.status().message()), Not(HasSubstr("Nguy")));
  }
}

// --- Verify answer -------------------------------------------------------

std::string Answer(const std::string& du_lieu, const char* ma = "00") {
  return std::string(R"({"maYeuCau":"LT-1","maTraLoi":"VNEID-42","ma":")") +
         ma + R"(","thongBao":"Thanh cong","duLieu":)" + du_lieu + "}";
}

struct VerifyCase {
  const char* name;
  std::string body;
  VerifyIdentityResponse::Result result;
};

// Which field differed and the account level are checked but not passed on:
// the gateway answers MATCH or NO_MATCH only (identity.proto).
TEST(ParseVerifyResponseTest, Results) {
  using R = VerifyIdentityResponse;
  const VerifyCase kCases[] = {
      {"match",
       Answer(R"({"ketQua":"KHOP","truongKhongKhop":[],"mucDoDinhDanh":2})"),
       R::MATCH},
      {"match level 0, no list",
       Answer(R"({"ketQua":"KHOP","mucDoDinhDanh":0})"), R::MATCH},
      {"mismatch name",
       Answer(
           R"({"ketQua":"KHONG_KHOP","truongKhongKhop":["hoVaTen"],"mucDoDinhDanh":1})"),
       R::NO_MATCH},
      {"mismatch date",
       Answer(
           R"({"ketQua":"KHONG_KHOP","truongKhongKhop":["ngaySinh"],"mucDoDinhDanh":2})"),
       R::NO_MATCH},
      {"mismatch both, repeated",
       Answer(
           R"({"ketQua":"KHONG_KHOP","truongKhongKhop":["ngaySinh","hoVaTen","ngaySinh"],"mucDoDinhDanh":2})"),
       R::NO_MATCH},
      {"not found",
       Answer(
           R"({"ketQua":"KHONG_TIM_THAY","truongKhongKhop":[],"mucDoDinhDanh":0})"),
       R::NO_MATCH},
      {"not found, no level", Answer(R"({"ketQua":"KHONG_TIM_THAY"})"),
       R::NO_MATCH},
      {"unknown keys ignored",
       R"({"maTraLoi":"VNEID-42","ma":"00","moi":{"a":[1]},)"
       R"("duLieu":{"ketQua":"KHOP","mucDoDinhDanh":2,"ghiChu":"x"}})",
       R::MATCH},
  };
  for (const VerifyCase& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<VerifyIdentityResponse> response =
        ParseVerifyResponse(200, c.body);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->result(), c.result);
    EXPECT_EQ(response->reference(), "VNEID-42");
  }
}

struct VerifyErrorCase {
  const char* name;
  long http_status;
  std::string body;
  absl::StatusCode code;
  const char* message;
  bool retriable;
};

TEST(ParseVerifyResponseTest, Errors) {
  constexpr absl::StatusCode kUnavailable = absl::StatusCode::kUnavailable;
  const VerifyErrorCase kCases[] = {
      {"401", 401, R"({"ma":"401","thongBao":"Token khong hop le"})",
       absl::StatusCode::kUnauthenticated, "VNeID refused the access token",
       false},
      {"429", 429, "", kUnavailable, "VNeID is unavailable (HTTP 429)", true},
      {"502", 502, "<html>", kUnavailable, "VNeID is unavailable (HTTP 502)",
       true},
      {"503", 503, R"({"ma":"503"})", kUnavailable,
       "VNeID is unavailable (HTTP 503)", true},
      {"504", 504, "", kUnavailable, "VNeID is unavailable (HTTP 504)", true},
      {"500", 500, R"({"ma":"500","thongBao":"Loi 033085012345"})",
       kUnavailable, "VNeID answered HTTP 500", false},
      {"403", 403, "", kUnavailable, "VNeID answered HTTP 403", false},
      {"error code in a 200", 200,
       Answer(R"({"ketQua":"KHOP","mucDoDinhDanh":2})", "99"), kUnavailable,
       "VNeID reported an error", false},
      {"empty", 200, "", kUnavailable, kMalformed, false},
      {"not JSON", 200, "NGUYEN VAN AN 033085012345", kUnavailable, kMalformed,
       false},
      {"truncated", 200, R"({"maTraLoi":"VNEID-42","duLieu":{"ketQua":"KH)",
       kUnavailable, kMalformed, false},
      {"array", 200, "[]", kUnavailable, kMalformed, false},
      {"no duLieu", 200, R"({"maTraLoi":"VNEID-42","ma":"00"})", kUnavailable,
       kMalformed, false},
      {"unknown ketQua", 200, Answer(R"({"ketQua":"MATCH","mucDoDinhDanh":2})"),
       kUnavailable, kMalformed, false},
      {"lower-case ketQua", 200,
       Answer(R"({"ketQua":"khop","mucDoDinhDanh":2})"), kUnavailable,
       kMalformed, false},
      {"unknown field", 200,
       Answer(
           R"({"ketQua":"KHONG_KHOP","truongKhongKhop":["diaChi"],"mucDoDinhDanh":2})"),
       kUnavailable, kMalformed, false},
      {"match listing a field", 200,
       Answer(
           R"({"ketQua":"KHOP","truongKhongKhop":["hoVaTen"],"mucDoDinhDanh":2})"),
       kUnavailable, kMalformed, false},
      {"mismatch listing none", 200,
       Answer(
           R"({"ketQua":"KHONG_KHOP","truongKhongKhop":[],"mucDoDinhDanh":2})"),
       kUnavailable, kMalformed, false},
      {"not found listing a field", 200,
       Answer(R"({"ketQua":"KHONG_TIM_THAY","truongKhongKhop":["ngaySinh"]})"),
       kUnavailable, kMalformed, false},
      {"not found with a level", 200,
       Answer(R"({"ketQua":"KHONG_TIM_THAY","mucDoDinhDanh":1})"), kUnavailable,
       kMalformed, false},
      {"level 3", 200, Answer(R"({"ketQua":"KHOP","mucDoDinhDanh":3})"),
       kUnavailable, kMalformed, false},
      {"level -1", 200, Answer(R"({"ketQua":"KHOP","mucDoDinhDanh":-1})"),
       kUnavailable, kMalformed, false},
      {"level text", 200, Answer(R"({"ketQua":"KHOP","mucDoDinhDanh":"hai"})"),
       kUnavailable, kMalformed, false},
      {"no level", 200, Answer(R"({"ketQua":"KHOP"})"), kUnavailable,
       kMalformed, false},
  };
  for (const VerifyErrorCase& c : kCases) {
    SCOPED_TRACE(c.name);
    const absl::StatusOr<VerifyIdentityResponse> response =
        ParseVerifyResponse(c.http_status, c.body);
    EXPECT_THAT(response, StatusIs(c.code, StartsWith(c.message)));
    EXPECT_EQ(IsRetriable(response.status()), c.retriable);
    ExpectNoLeak(response.status());
  }
}

}  // namespace
}  // namespace lienthong::adapters::vneid
