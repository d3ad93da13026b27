#include "gateway/cli/vneid_commands.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/cli/run_cli.h"

namespace lienthong::cli {
namespace {

using ::lienthong::cli::testing::RunLienthong;
using ::lienthong::v1::VneidSignInResponse;
using ::testing::HasSubstr;

SignInArgs Args() {
  SignInArgs args;
  args.code = "c0de";
  args.redirect_uri = "https://dichvucong.hungyen.gov.vn/vneid/callback";
  args.nonce = "nonce-0123456789abcdef";
  return args;
}

TEST(BuildSignInRequestTest, CopiesTheOptions) {
  SignInArgs args = Args();
  args.code_verifier = std::string(43, 'v');
  auto request = BuildSignInRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->authorization_code(), "c0de");
  EXPECT_EQ(request->redirect_uri(),
            "https://dichvucong.hungyen.gov.vn/vneid/callback");
  EXPECT_EQ(request->nonce(), "nonce-0123456789abcdef");
  EXPECT_EQ(request->code_verifier(), std::string(43, 'v'));
}

TEST(BuildSignInRequestTest, BlankOptionsAreUsageErrors) {
  struct Case {
    std::string SignInArgs::*field;
    const char* message;
  } const kCases[] = {{&SignInArgs::code, "--code is empty"},
                      {&SignInArgs::redirect_uri, "--redirect-uri is empty"},
                      {&SignInArgs::nonce, "--nonce is empty"}};
  for (const Case& c : kCases) {
    SignInArgs args = Args();
    args.*(c.field) = "  ";
    auto request = BuildSignInRequest(args);
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(request.status().message(), c.message);
  }
}

TEST(FormatSignInTest, PrintsThePresentFieldsAligned) {
  VneidSignInResponse r;
  r.set_citizen_id("033085012345");
  r.set_full_name("Bùi Văn An");
  r.mutable_birth_date()->set_year(1985);
  r.mutable_birth_date()->set_month(3);
  r.mutable_birth_date()->set_day(30);
  r.set_assurance_level(2);
  r.set_subject("5b1e0c1a");
  r.mutable_expires_at()->set_seconds(1752537900);
  EXPECT_EQ(FormatSignIn(r),
            "Citizen ID:   033085012345\n"
            "Name:         Bùi Văn An\n"
            "Birth date:   30/03/1985\n"
            "VNeID level:  2\n"
            "Subject:      5b1e0c1a\n"
            "Valid until:  2025-07-15 00:05:00 UTC\n");
  VneidSignInResponse bare;
  bare.set_citizen_id("033085012345");
  bare.set_assurance_level(1);
  EXPECT_EQ(FormatSignIn(bare),
            "Citizen ID:   033085012345\n"
            "VNeID level:  1\n");
}

TEST(VneidCommandTest, MissingOptionsStopBeforeAnyConnection) {
  auto result =
      RunLienthong({"vneid", "signin", "--code", "c", "--nonce", "n"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("--redirect-uri is required"));
  result = RunLienthong({"vneid"});
  EXPECT_EQ(result.code, 1);
  result = RunLienthong({"vneid", "signin", "--code", " ", "--redirect-uri",
                         "https://x.vn/cb", "--nonce", "n"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("lienthong: usage: --code is empty"));
}

}  // namespace
}  // namespace lienthong::cli
