// Answers of the national portal: the shared envelope, the sign-in, the
// outcome of a change and what a lookup shows, as tables.
#include "adapters/dvcqg_portal/portal_response.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::dvcqg {
namespace {

using ::lienthong::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;
using AnswerKind = PortalAnswer::Kind;
using Kind = PortalOutcome::Kind;

const std::vector<std::string> kSessionCodes = {"401"};

google::protobuf::Value Json(const std::string& text) {
  google::protobuf::Value value;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &value).ok())
      << text;
  return value;
}

TEST(IsSuccessCodeTest, Table) {
  struct Case {
    const char* json;
    bool success;
  };
  const Case kCases[] = {
      {"0", true},          {"\"0\"", true},   {"\"00\"", true},
      {"\"000\"", true},    {"0.0", true},     {"-0", true},
      {"1", false},         {"\"01\"", false}, {"\"\"", false},
      {"\"00000\"", false}, {"\" 0\"", false}, {"-1", false},
      {"\"-1\"", false},    {"null", false},   {"false", false},
      {"[0]", false},       {"{}", false},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(IsSuccessCode(Json(c.json)), c.success) << c.json;
  }
}

struct Case {
  const char* name;
  long http_status;
  std::string body;
  const char* retry_after;
  // Either an answer...
  std::optional<AnswerKind> kind;
  const char* error_code;
  const char* message;
  // ...or a retriable failure whose message contains this.
  const char* failure;
  std::optional<absl::Duration> wait;
};

const Case kCases[] = {
    {"success, number 0", 200, R"({"error_code":0,"message":"ok"})", "",
     AnswerKind::kSuccess, "", "", nullptr, std::nullopt},
    {"success, string 00", 200, R"({"error_code":"00","message":"ok"})", "",
     AnswerKind::kSuccess, "", "", nullptr, std::nullopt},
    {"success, string 0", 200, R"({"error_code":"0"})", "",
     AnswerKind::kSuccess, "", "", nullptr, std::nullopt},
    {"session refused by code", 200,
     R"({"error_code":401,"message":"Phiên hết hạn"})", "",
     AnswerKind::kSessionRefused, "", "", nullptr, std::nullopt},
    {"session refused by code as text", 200, R"({"error_code":"401"})", "",
     AnswerKind::kSessionRefused, "", "", nullptr, std::nullopt},
    {"session refused by HTTP 401", 401, "", "", AnswerKind::kSessionRefused,
     "", "", nullptr, std::nullopt},
    {"session refused by HTTP 403", 403, "<html/>", "",
     AnswerKind::kSessionRefused, "", "", nullptr, std::nullopt},
    {"error with message", 200,
     R"({"error_code":"-1","message":"Hồ sơ đã tồn tại"})", "",
     AnswerKind::kError, "-1", "Hồ sơ đã tồn tại", nullptr, std::nullopt},
    {"error, number", 200, R"({"error_code":400})", "", AnswerKind::kError,
     "400", "", nullptr, std::nullopt},
    {"HTTP 400 with JSON", 400, R"({"error_code":"400","message":"Sai"})", "",
     AnswerKind::kError, "400", "Sai", nullptr, std::nullopt},
    {"HTTP 400 with a JSON success code is an error", 400,
     R"({"error_code":0})", "", AnswerKind::kError, "0", "", nullptr,
     std::nullopt},
    {"HTTP 422 without JSON", 422, "<html>no</html>", "", AnswerKind::kError,
     "HTTP 422", "", nullptr, std::nullopt},
    {"unknown fields ignored", 200,
     R"({"error_code":"00","result":[],"extra":{"a":[1]}})", "",
     AnswerKind::kSuccess, "", "", nullptr, std::nullopt},
    {"overloaded", 503, R"({"error_code":"503"})", "7", std::nullopt, "", "",
     "HTTP 503", absl::Seconds(7)},
    {"server error", 500, "", "", std::nullopt, "", "", "HTTP 500",
     std::nullopt},
    {"too many requests", 429, "", "2", std::nullopt, "", "", "HTTP 429",
     absl::Seconds(2)},
    {"request timeout", 408, "", "", std::nullopt, "", "", "HTTP 408",
     std::nullopt},
    {"redirect", 302, "", "", std::nullopt, "", "", "HTTP 302", std::nullopt},
    {"wrong endpoint", 404, R"({"error_code":"404"})", "", std::nullopt, "", "",
     "configured endpoints", std::nullopt},
    {"truncated body", 200, R"({"error_code":"0","mess)", "", std::nullopt, "",
     "", "malformed", std::nullopt},
    {"not JSON", 200, "OK", "", std::nullopt, "", "", "malformed",
     std::nullopt},
    {"no error_code", 200, R"({"message":"ok"})", "", std::nullopt, "", "",
     "malformed", std::nullopt},
    {"error_code null", 200, R"({"error_code":null})", "", std::nullopt, "", "",
     "malformed", std::nullopt},
    {"error_code fractional", 200, R"({"error_code":0.5})", "", std::nullopt,
     "", "", "malformed", std::nullopt},
    {"array", 200, "[1,2]", "", std::nullopt, "", "", "malformed",
     std::nullopt},
};

TEST(ParsePortalAnswerTest, Table) {
  for (const Case& c : kCases) {
    absl::StatusOr<PortalAnswer> got =
        ParsePortalAnswer(c.http_status, c.body, c.retry_after, kSessionCodes);
    if (c.kind.has_value()) {
      ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
      EXPECT_EQ(got->kind, *c.kind) << c.name;
      EXPECT_EQ(got->error_code, c.error_code) << c.name;
      EXPECT_EQ(got->message, c.message) << c.name;
    } else {
      ASSERT_FALSE(got.ok()) << c.name;
      EXPECT_TRUE(IsRetriable(got.status())) << c.name;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << c.name;
      EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.failure))
          << c.name;
      EXPECT_EQ(RetryAfter(got.status()), c.wait) << c.name;
    }
  }
}

// Refused in one pass, before protobuf's parser (slow beyond linear in the
// nesting) holds the event thread every national system's calls share.
TEST(ParsePortalAnswerTest, DeepNestingIsMalformed) {
  const std::string deep =
      "{\"error_code\":0,\"data\":" + std::string(200000, '[') +
      std::string(200000, ']') + "}";
  absl::StatusOr<PortalAnswer> got =
      ParsePortalAnswer(200, deep, "", kSessionCodes);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("malformed"));
}

TEST(ParsePortalAnswerTest, SessionCodesAreConfigurable) {
  const std::vector<std::string> codes = {"-99", "SESSION_EXPIRED"};
  auto refused = ParsePortalAnswer(200, R"({"error_code":-99})", "", codes);
  ASSERT_THAT(refused, IsOk());
  EXPECT_EQ(refused->kind, AnswerKind::kSessionRefused);
  auto text =
      ParsePortalAnswer(200, R"({"error_code":"SESSION_EXPIRED"})", "", codes);
  ASSERT_THAT(text, IsOk());
  EXPECT_EQ(text->kind, AnswerKind::kSessionRefused);
  auto other = ParsePortalAnswer(200, R"({"error_code":401})", "", codes);
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(other->kind, AnswerKind::kError);
}

TEST(ToOutcomeTest, Table) {
  struct OutcomeCase {
    const char* name;
    std::string body;
    bool create;
    std::optional<Kind> kind;  // nullopt: retriable failure
    const char* reason;
  };
  const OutcomeCase kOutcomes[] = {
      {"applied", R"({"error_code":"00"})", false, Kind::kApplied, ""},
      {"exists on create", R"({"error_code":"-1","message":"đã tồn tại"})",
       true, Kind::kAlreadyExists, ""},
      {"-1 on update is a refusal",
       R"({"error_code":"-1","message":"không tồn tại"})", false,
       Kind::kRejected, "không tồn tại"},
      {"refused", R"({"error_code":"400","message":"Từ chối"})", true,
       Kind::kRejected, "Từ chối"},
      {"refused without message", R"({"error_code":"400"})", false,
       Kind::kRejected, "error_code 400"},
      {"internal error", R"({"error_code":"500","message":"Lỗi"})", false,
       std::nullopt, ""},
  };
  for (const OutcomeCase& c : kOutcomes) {
    auto answer = ParsePortalAnswer(200, c.body, "", kSessionCodes);
    ASSERT_THAT(answer, IsOk()) << c.name;
    absl::StatusOr<PortalOutcome> got = ToOutcome(*answer, c.create);
    if (!c.kind.has_value()) {
      ASSERT_FALSE(got.ok()) << c.name;
      EXPECT_TRUE(IsRetriable(got.status())) << c.name;
      continue;
    }
    ASSERT_THAT(got, IsOk()) << c.name;
    EXPECT_EQ(got->kind, *c.kind) << c.name;
    EXPECT_EQ(got->reason, c.reason) << c.name;
  }
  auto http = ParsePortalAnswer(422, "no", "", kSessionCodes);
  ASSERT_THAT(http, IsOk());
  auto outcome = ToOutcome(*http, false);
  ASSERT_THAT(outcome, IsOk());
  EXPECT_EQ(outcome->reason, "HTTP 422");
}

TEST(ParsePortalAnswerTest, NoBodyInFailureMessages) {
  const std::string secret = "SECRET-BODY-TEXT";
  for (long status : {200L, 404L, 500L, 503L}) {
    const std::string body =
        "{\"error_code\":\"5" + secret + "\",\"message\":\"" + secret + "\"}";
    absl::StatusOr<PortalAnswer> got =
        ParsePortalAnswer(status, body, "", kSessionCodes);
    absl::Status failure =
        got.ok() ? ToOutcome(*got, false).status() : got.status();
    ASSERT_FALSE(failure.ok()) << status;
    EXPECT_THAT(std::string(failure.message()), Not(HasSubstr(secret)));
  }
}

TEST(ParsePortalAnswerTest, LongMessagesAreCutAtACharacter) {
  std::string reason;
  for (int i = 0; i < 400; ++i) reason += "ệ";  // 3 bytes each
  auto got = ParsePortalAnswer(
      200, "{\"error_code\":\"400\",\"message\":\"" + reason + "\"}", "",
      kSessionCodes);
  ASSERT_THAT(got, IsOk());
  EXPECT_LE(got->message.size(), kMaxReasonBytes);
  EXPECT_EQ(got->message.substr(got->message.size() - 3), "…");
  EXPECT_EQ((got->message.size() - 3) % 3, 0u);  // whole characters
}

TEST(ParsePortalAnswerTest, ControlCharactersDoNotReachTheReason) {
  // OSC 52 (write the clipboard), then clear the screen, by C0 ESC and by
  // C1 CSI: the reason is printed on the operator's terminal.
  auto got = ParsePortalAnswer(
      200,
      R"({"error_code":"4\u009b00","message":"\u001b]52;c;AAAA\u0007)"
      R"(\u001b[2J\u009b2J\u007f bad đước"})",
      "", kSessionCodes);
  ASSERT_THAT(got, IsOk());
  absl::StatusOr<PortalOutcome> outcome = ToOutcome(*got, /*create=*/false);
  ASSERT_THAT(outcome, IsOk());
  ASSERT_EQ(outcome->kind, Kind::kRejected);
  for (const std::string& text : {got->error_code, outcome->reason}) {
    for (size_t i = 0; i < text.size(); ++i) {
      const unsigned char u = static_cast<unsigned char>(text[i]);
      // The index, not the text: a failure must not print the controls.
      EXPECT_TRUE(u >= 0x20 && u != 0x7f) << "byte " << i;
      // C1 controls, U+0080..U+009F, are C2 80..C2 9F in UTF-8.
      EXPECT_FALSE(u == 0xc2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9f)
          << "byte " << i;
    }
  }
  // The rest is kept, Vietnamese letters included.
  EXPECT_THAT(outcome->reason, HasSubstr("bad đước"));
  EXPECT_EQ(got->error_code, "4 00");
}

TEST(ParseSignInTest, Table) {
  struct SignInCase {
    const char* name;
    long http_status;
    const char* body;
    const char* session;  // nullptr: retriable failure with `failure`
    const char* failure;
  };
  const SignInCase kSignIns[] = {
      {"session", 200, R"({"session":"abc123","error_code":0})", "abc123", ""},
      {"session, code as text", 200, R"({"session":"s-1","error_code":"00"})",
       "s-1", ""},
      {"wrong password", 200, R"({"error_code":"-1","message":"Sai mật khẩu"})",
       nullptr, "sign-in"},
      {"HTTP 401", 401, "", nullptr, "sign-in"},
      {"no session", 200, R"({"error_code":0})", nullptr, "no usable session"},
      {"session with a space", 200, R"({"session":"a b","error_code":0})",
       nullptr, "no usable session"},
      {"down", 503, "", nullptr, "HTTP 503"},
  };
  for (const SignInCase& c : kSignIns) {
    absl::StatusOr<std::string> got = ParseSignIn(c.http_status, c.body, "");
    if (c.session != nullptr) {
      EXPECT_THAT(got, ::lienthong::testing::IsOkAndHolds(c.session)) << c.name;
      continue;
    }
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_TRUE(IsRetriable(got.status())) << c.name;
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.failure))
        << c.name;
    EXPECT_THAT(std::string(got.status().message()), Not(HasSubstr("Sai")))
        << c.name;
    // Only the portal's refusal of the credentials pauses the sign-ins.
    EXPECT_EQ(AreCredentialsRefused(got.status()),
              absl::StrContains(got.status().message(), "refused"))
        << c.name;
  }
}

google::protobuf::Struct Object(const std::string& text) {
  google::protobuf::Struct json;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &json).ok())
      << text;
  return json;
}

TEST(ParseLookupTest, Table) {
  struct LookupCase {
    const char* name;
    const char* json;
    bool ok;
    bool found;
    bool shows_progress;
    size_t steps;
  };
  const LookupCase kLookups[] = {
      {"empty result", R"({"error_code":0,"result":[]})", true, false, false,
       0},
      {"no result", R"({"error_code":0})", true, false, false, 0},
      {"null result", R"({"error_code":0,"result":null})", true, false, false,
       0},
      {"found, no progress shown",
       R"({"error_code":0,"result":[{"MaHoSo":"X"}]})", true, true, false, 0},
      {"found with progress",
       R"({"error_code":0,"result":[{"MaHoSo":"X","QuaTrinhXuLy":[)"
       R"({"TrangThai":"2","ThoiDiemXuLy":"20250715093000"},)"
       R"({"TrangThai":4,"ThoiDiemXuLy":"20250715103000"},"junk"]}]})",
       true, true, true, 2},
      {"result not a list", R"({"error_code":0,"result":"X"})", false, false,
       false, 0},
      // Only an entry about the dossier asked for (or naming none) counts.
      {"another dossier's entry",
       R"({"error_code":0,"result":[{"MaHoSo":"Y","QuaTrinhXuLy":[]}]})", true,
       false, false, 0},
      {"entries that are no objects", R"({"error_code":0,"result":[null,""]})",
       true, false, false, 0},
      {"an entry naming no dossier", R"({"error_code":0,"result":[{}]})", true,
       true, false, 0},
      {"the dossier among others",
       R"({"error_code":0,"result":[{"MaHoSo":"Y"},{"MaHoSo":"X",)"
       R"("QuaTrinhXuLy":[{"TrangThai":"2","ThoiDiemXuLy":"20250715093000"}]}]})",
       true, true, true, 1},
      {"the dossier twice",
       R"({"error_code":0,"result":[{"MaHoSo":"X"},{"MaHoSo":"X"}]})", false,
       false, false, 0},
  };
  for (const LookupCase& c : kLookups) {
    absl::StatusOr<DossierLookup> got = ParseLookup(Object(c.json), "X");
    if (!c.ok) {
      ASSERT_FALSE(got.ok()) << c.name;
      EXPECT_TRUE(IsRetriable(got.status())) << c.name;
      continue;
    }
    ASSERT_THAT(got, IsOk()) << c.name;
    EXPECT_EQ(got->found, c.found) << c.name;
    EXPECT_EQ(got->shows_progress, c.shows_progress) << c.name;
    EXPECT_EQ(got->progress.size(), c.steps) << c.name;
  }
  auto got = ParseLookup(Object(kLookups[4].json), "X");
  ASSERT_THAT(got, IsOk());
  EXPECT_TRUE(
      got->HasStep({"4", "20250715103000", "", "", ""}));  // a number as text
  EXPECT_TRUE(got->HasStep({"2", "20250715093000", "", "", ""}));
  EXPECT_FALSE(got->HasStep({"4", "20250715093000", "", "", ""}));
  // Shown without department, content and handler: status and time decide.
  EXPECT_TRUE(
      got->HasStep({"4", "20250715103000", "Công an xã", "Xong", "cb01"}));

  // Two steps of one status in one second (a bundle's agencies finishing
  // together) are told apart by department and content.
  auto two = ParseLookup(
      Object(
          R"({"error_code":0,"result":[{"MaHoSo":"X","QuaTrinhXuLy":[)"
          R"({"TrangThai":"4","ThoiDiemXuLy":"20250715103000",)"
          R"("PhongBanXuLy":"Công an xã","NoiDungXuLy":"Đã đăng ký thường trú"}]}]})"),
      "X");
  ASSERT_THAT(two, IsOk());
  EXPECT_TRUE(two->HasStep(
      {"4", "20250715103000", "Công an xã", "Đã đăng ký thường trú", ""}));
  EXPECT_FALSE(two->HasStep(
      {"4", "20250715103000", "Bảo hiểm xã hội huyện", "Đã cấp thẻ BHYT", ""}));

  // And by the officer who took the step, where the portal shows it: a
  // dossier handed to another officer in the same second, one department,
  // one note.
  auto handed = ParseLookup(
      Object(R"({"error_code":0,"result":[{"MaHoSo":"X","QuaTrinhXuLy":[)"
             R"({"TrangThai":"4","ThoiDiemXuLy":"20250715103000",)"
             R"("PhongBanXuLy":"Phòng Tư pháp","NoiDungXuLy":"Xử lý",)"
             R"("NguoiXuLy":"cb01"}]}]})"),
      "X");
  ASSERT_THAT(handed, IsOk());
  EXPECT_TRUE(handed->HasStep(
      {"4", "20250715103000", "Phòng Tư pháp", "Xử lý", "cb01"}));
  EXPECT_FALSE(handed->HasStep(
      {"4", "20250715103000", "Phòng Tư pháp", "Xử lý", "cb02"}));
}

}  // namespace
}  // namespace lienthong::adapters::dvcqg
