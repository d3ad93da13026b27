#include "adapters/common/agency/agency_answer.h"

#include <string>

#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::agency {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

struct Case {
  const char* what;
  long http;
  const char* body;
  // Expected: OK applied, OK refused with `reason`, or an error code
  // (retriable or not).
  absl::StatusCode code;
  bool refused;
  bool retriable;
  const char* text;  // reason, or a part of the error message
};

constexpr Case kCases[] = {
    {"applied", 200,
     R"({"error_code":"0","message":"ok","reference":"r-1","data":{"A":"x"}})",
     absl::StatusCode::kOk, false, false, ""},
    {"applied, numeric code", 200, R"({"error_code":0,"data":{}})",
     absl::StatusCode::kOk, false, false, ""},
    {"applied, code 00, no data", 200, R"({"error_code":"00"})",
     absl::StatusCode::kOk, false, false, ""},
    {"refused with its reason", 200,
     R"({"error_code":"TU_CHOI","message":"Không tìm thấy địa chỉ"})",
     absl::StatusCode::kOk, true, false, "Không tìm thấy địa chỉ"},
    {"refused without a message", 200, R"({"error_code":"E12"})",
     absl::StatusCode::kOk, true, false, "refused with code E12"},
    {"refused, control characters removed", 200,
     "{\"error_code\":\"1\",\"message\":\"a\\nb\"}", absl::StatusCode::kOk,
     true, false, "a b"},
    {"refused, a C1 control character removed", 200,
     "{\"error_code\":\"1\",\"message\":\"a\\u0085b\\u00e0\"}",
     absl::StatusCode::kOk, true, false, "a b\u00e0"},
    {"not JSON", 200, "<html>", absl::StatusCode::kUnavailable, false, true,
     "not JSON"},
    {"truncated JSON", 200, R"({"error_code":"0","da)",
     absl::StatusCode::kUnavailable, false, true, "not JSON"},
    {"no error_code", 200, R"({"data":{}})", absl::StatusCode::kUnavailable,
     false, true, "without an error_code"},
    {"empty error_code", 200, R"({"error_code":""})",
     absl::StatusCode::kUnavailable, false, true,
     "neither text nor a whole number"},
    {"fractional error_code", 200, R"({"error_code":0.4})",
     absl::StatusCode::kUnavailable, false, true,
     "neither text nor a whole number"},
    {"applied, data null", 200, R"({"error_code":"0","data":null})",
     absl::StatusCode::kOk, false, false, ""},
    {"data not an object", 200, R"({"error_code":"0","data":[1]})",
     absl::StatusCode::kUnavailable, false, true, "not an object"},
    {"bad request", 400, "", absl::StatusCode::kInvalidArgument, false, false,
     "cannot take the step as sent (HTTP 400)"},
    {"key reused with other content", 409, "",
     absl::StatusCode::kInvalidArgument, false, false, "HTTP 409"},
    {"credentials", 401, "", absl::StatusCode::kUnavailable, false, true,
     "credentials"},
    {"wrong path", 404, "", absl::StatusCode::kUnavailable, false, true,
     "check the adapter's paths"},
    {"overloaded", 503, "", absl::StatusCode::kUnavailable, false, true,
     "HTTP 503"},
    {"internal error", 500, "", absl::StatusCode::kUnavailable, false, true,
     "HTTP 500"},
    {"too many requests", 429, "", absl::StatusCode::kUnavailable, false, true,
     "HTTP 429"},
};

TEST(AgencyAnswerTest, Table) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.what);
    absl::StatusOr<AgencyAnswer> answer =
        ParseAgencyAnswer("residence", c.http, c.body, "");
    if (c.code != absl::StatusCode::kOk) {
      EXPECT_THAT(answer.status(), StatusIs(c.code, HasSubstr(c.text)));
      EXPECT_EQ(IsRetriable(answer.status()), c.retriable);
      EXPECT_THAT(answer.status().message(), HasSubstr("agency 'residence'"));
      continue;
    }
    ASSERT_THAT(answer, IsOk());
    EXPECT_EQ(answer->refused, c.refused);
    if (c.refused) {
      EXPECT_EQ(answer->reason, c.text);
    }
  }
}

// Refused in one pass, before protobuf's parser (slow beyond linear in the
// nesting) holds the event thread every national system's calls share.
TEST(AgencyAnswerTest, DeepNestingIsRefusedUnparsed) {
  const std::string deep =
      "{\"error_code\":\"0\",\"data\":{\"a\":" + std::string(200000, '[') +
      std::string(200000, ']') + "}}";
  EXPECT_THAT(ParseAgencyAnswer("residence", 200, deep, ""),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("nested more than 32 deep")));
}

TEST(AgencyAnswerTest, KeepsDataReferenceAndRetryAfter) {
  auto answer = ParseAgencyAnswer(
      "civil_status", 200,
      R"({"error_code":"0","reference":"hotich-7","data":{"So":"KS.1","N":1500000}})",
      "");
  ASSERT_THAT(answer, IsOk());
  EXPECT_EQ(answer->reference, "hotich-7");
  EXPECT_EQ(DataText(answer->data, "So"), "KS.1");
  EXPECT_EQ(DataText(answer->data, "N"), "1500000");
  EXPECT_EQ(DataText(answer->data, "missing"), std::nullopt);

  auto busy = ParseAgencyAnswer("civil_status", 503, "", "7");
  EXPECT_EQ(RetryAfter(busy.status()), absl::Seconds(7));
  // Every retriable status honours it (docs/wire-formats.md), a refusal of
  // the gateway's credentials or a missing endpoint too.
  for (long status : {401L, 403L, 404L, 405L, 429L}) {
    auto later = ParseAgencyAnswer("civil_status", status, "", "600");
    EXPECT_EQ(RetryAfter(later.status()), absl::Seconds(600)) << status;
  }
}

TEST(AgencyAnswerTest, LongReasonsAreCutAtACharacter) {
  std::string reason;
  for (int i = 0; i < 300; ++i) reason += "đ";  // 2 bytes each
  auto answer = ParseAgencyAnswer(
      "x", 200, "{\"error_code\":\"1\",\"message\":\"a" + reason + "\"}", "");
  ASSERT_THAT(answer, IsOk());
  EXPECT_LE(answer->reason.size(), kMaxReasonBytes);
  EXPECT_EQ(answer->reason.substr(answer->reason.size() - 3), "…");
  // Cut between characters: what precedes the ellipsis is whole "đ"s.
  EXPECT_EQ((answer->reason.size() - 3 - 1) % 2, 0u);
}

}  // namespace
}  // namespace lienthong::adapters::agency
