#include "adapters/dvcqg_portal/portal_response.h"

#include <optional>
#include <string>

#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::adapters::dvcqg {
namespace {

using Kind = PortalOutcome::Kind;

struct Case {
  const char* name;
  long http_status;
  std::string body;
  const char* retry_after;
  // Either an outcome...
  std::optional<Kind> kind;
  const char* reason;
  // ...or a retriable failure whose message contains this.
  const char* failure;
  std::optional<absl::Duration> wait;
};

const Case kCases[] = {
    {"applied", 200, R"({"error_code":"0","message":"Cập nhật thành công"})", "",
     Kind::kApplied, "", nullptr, std::nullopt},
    {"applied, numeric code", 200, R"({"error_code":0,"message":"ok"})", "",
     Kind::kApplied, "", nullptr, std::nullopt},
    {"already exists", 200,
     R"({"error_code":"-1","message":"Mã TTHC đã tồn tại"})", "",
     Kind::kAlreadyExists, "", nullptr, std::nullopt},
    {"already exists, numeric", 200, R"({"error_code":-1})", "",
     Kind::kAlreadyExists, "", nullptr, std::nullopt},
    {"refused", 200,
     R"({"error_code":"400","message":"Từ chối: mã không hợp lệ"})", "",
     Kind::kRejected, "Từ chối: mã không hợp lệ", nullptr, std::nullopt},
    {"refused without message", 200, R"({"error_code":"400"})", "",
     Kind::kRejected, "error_code 400", nullptr, std::nullopt},
    {"refused with HTTP 400", 400,
     R"({"error_code":"400","message":"Thiếu X-Idempotency-Key"})", "",
     Kind::kRejected, "Thiếu X-Idempotency-Key", nullptr, std::nullopt},
    {"HTTP 422 without JSON", 422, "<html>no</html>", "", Kind::kRejected,
     "HTTP 422", nullptr, std::nullopt},
    {"unknown fields ignored", 200,
     R"({"error_code":"0","message":"ok","extra":{"a":[1]}})", "",
     Kind::kApplied, "", nullptr, std::nullopt},
    {"internal error code", 200,
     R"({"error_code":"500","message":"Lỗi hệ thống"})", "", std::nullopt, "",
     "internal error", std::nullopt},
    {"overloaded", 503, R"({"error_code":"503","message":"Hệ thống quá tải"})",
     "7", std::nullopt, "", "HTTP 503", absl::Seconds(7)},
    {"server error", 500, "", "", std::nullopt, "", "HTTP 500", std::nullopt},
    {"gateway timeout", 504, "", "", std::nullopt, "", "HTTP 504",
     std::nullopt},
    {"too many requests", 429, "", "2", std::nullopt, "", "HTTP 429",
     absl::Seconds(2)},
    {"bad api key", 401, R"({"error_code":"401","message":"X-Api-Key"})", "",
     std::nullopt, "", "API key", std::nullopt},
    {"wrong path", 404, R"({"error_code":"404"})", "", std::nullopt, "",
     "configured paths", std::nullopt},
    {"truncated body", 200, R"({"error_code":"0","mess)", "", std::nullopt, "",
     "malformed", std::nullopt},
    {"not JSON", 200, "OK", "", std::nullopt, "", "malformed", std::nullopt},
    {"no error_code", 200, R"({"message":"ok"})", "", std::nullopt, "",
     "malformed", std::nullopt},
    {"array", 200, "[1,2]", "", std::nullopt, "", "malformed", std::nullopt},
};

TEST(ParsePortalAnswerTest, Table) {
  for (const Case& c : kCases) {
    absl::StatusOr<PortalOutcome> got =
        ParsePortalAnswer(c.http_status, c.body, c.retry_after);
    if (c.kind.has_value()) {
      ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
      EXPECT_EQ(got->kind, *c.kind) << c.name;
      EXPECT_EQ(got->reason, c.reason) << c.name;
    } else {
      ASSERT_FALSE(got.ok()) << c.name;
      EXPECT_TRUE(IsRetriable(got.status())) << c.name;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << c.name;
      EXPECT_THAT(std::string(got.status().message()),
                  ::testing::HasSubstr(c.failure))
          << c.name;
      EXPECT_EQ(RetryAfter(got.status()), c.wait) << c.name;
    }
  }
}

TEST(ParsePortalAnswerTest, NoBodyInFailureMessages) {
  const std::string secret = "SECRET-BODY-TEXT";
  for (long status : {200L, 401L, 404L, 500L, 503L}) {
    absl::StatusOr<PortalOutcome> got = ParsePortalAnswer(
        status, "{\"error_code\":\"5" + secret + "\",\"message\":\"" + secret +
                    "\"}",
        "");
    ASSERT_FALSE(got.ok());
    EXPECT_THAT(std::string(got.status().message()),
                ::testing::Not(::testing::HasSubstr(secret)));
  }
}

TEST(ParsePortalAnswerTest, LongReasonsAreCutAtACharacter) {
  std::string reason;
  for (int i = 0; i < 400; ++i) reason += "ệ";  // 3 bytes each
  absl::StatusOr<PortalOutcome> got = ParsePortalAnswer(
      200, "{\"error_code\":\"400\",\"message\":\"" + reason + "\"}", "");
  ASSERT_TRUE(got.ok());
  EXPECT_LE(got->reason.size(), kMaxReasonBytes + 3);
  EXPECT_EQ(got->reason.substr(got->reason.size() - 3), "…");
  EXPECT_EQ((got->reason.size() - 3) % 3, 0u);  // whole characters
}

}  // namespace
}  // namespace lienthong::adapters::dvcqg
