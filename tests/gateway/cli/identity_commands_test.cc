#include "gateway/cli/identity_commands.h"

#include <iterator>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/cli/run_cli.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::VerifyIdentityResponse;
using ::testing::HasSubstr;

OfficerArgs GoodOfficer() {
  return OfficerArgs{"001085004321", "000.00.31.H31", "nguyenvana"};
}

TEST(BuildVerifyRequestTest, CopiesArgsAndParsesDob) {
  VerifyArgs args;
  args.officer = GoodOfficer();
  args.citizen_id = "033085012345";
  args.full_name = "Nguyễn Văn An";
  args.birth_date = "1985-03-12";
  args.purpose = "1.001193";
  args.dossier_id = "000.00.01.H31-250715-00123";
  auto request = BuildVerifyRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->citizen_id(), "033085012345");
  EXPECT_EQ(request->full_name(), "Nguyễn Văn An");
  EXPECT_EQ(request->birth_date().year(), 1985);
  EXPECT_EQ(request->birth_date().month(), 3);
  EXPECT_EQ(request->birth_date().day(), 12);
  EXPECT_EQ(request->purpose(), "1.001193");
  EXPECT_EQ(request->dossier_id(), "000.00.01.H31-250715-00123");
  EXPECT_EQ(request->officer().citizen_id(), "001085004321");
  EXPECT_EQ(request->officer().unit_code(), "000.00.31.H31");
  EXPECT_EQ(request->officer().account(), "nguyenvana");
}

TEST(BuildVerifyRequestTest, DobIsOptionalAndMayBeAYear) {
  VerifyArgs args;
  args.officer = GoodOfficer();
  args.citizen_id = "123456789";
  args.full_name = "Trần Thị Bình";
  auto request = BuildVerifyRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->has_birth_date());
  args.birth_date = "1990";
  request = BuildVerifyRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->birth_date().year(), 1990);
  EXPECT_EQ(request->birth_date().month(), 0);
  EXPECT_EQ(request->birth_date().day(), 0);
}

TEST(BuildVerifyRequestTest, RejectsBadArgsNamingTheOption) {
  struct Case {
    const char* id;
    const char* name;
    const char* dob;
    const char* message;
  };
  const Case kCases[] = {
      {"", "An", "", "--id is empty"},
      {"03308501234X", "An", "", "--id: expected a 12-digit"},
      {"033085012345", "  ", "", "--name is required"},
      {"033085012345", "An", "1985-13-40", "--dob: month 13 is not 01..12"},
      {"033085012345", "An", "", "--officer-id is required"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.message);
    VerifyArgs args;
    args.citizen_id = c.id;
    args.full_name = c.name;
    args.birth_date = c.dob;
    // The last case leaves the officer out.
    if (&c != &kCases[std::size(kCases) - 1]) args.officer = GoodOfficer();
    auto request = BuildVerifyRequest(args);
    ASSERT_FALSE(request.ok());
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(request.status().message()), HasSubstr(c.message));
  }
}

// The gateway's rule for a name (validation::ValidatePersonName), so that a
// mistyped one fails before any connection; the message never repeats it.
TEST(BuildVerifyRequestTest, NameIsCheckedByTheGatewaysRule) {
  VerifyArgs args;
  args.officer = GoodOfficer();
  args.citizen_id = "033085012345";
  for (const char* name :
       {"Nguyen Van An", "Đặng Văn O'Neil-Trần", "Nguyễn Thị Ánh"}) {
    args.full_name = name;
    EXPECT_TRUE(BuildVerifyRequest(args).ok()) << name;
  }
  struct Case {
    std::string name;
    const char* message;
  };
  const Case kCases[] = {
      {"Nguyễn Văn An 1985", "--name may contain only letters, spaces and"},
      {"An <b>", "--name may contain only letters, spaces and"},
      {"'-.", "--name must contain a letter"},
      {std::string(101, 'a'), "--name is longer than 100 characters"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.message);
    args.full_name = c.name;
    auto request = BuildVerifyRequest(args);
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(request.status().message()),
                ::testing::StartsWith(c.message));
    EXPECT_THAT(std::string(request.status().message()),
                ::testing::Not(HasSubstr(c.name)));
  }
  // On the command line: the CLI's usage error, nothing sent.
  testing::CliResult result = testing::RunLienthong(
      {"verify", "--id", "033085012345", "--name", "Nguyễn Văn An 1985"});
  EXPECT_EQ(result.code, static_cast<int>(ExitCode::kUsage));
  EXPECT_EQ(result.err,
            "lienthong: usage: --name may contain only letters, spaces and ' "
            "- .\n");
}

TEST(FormatVerifyResponseTest, OneReadableLinePerResult) {
  struct Case {
    VerifyIdentityResponse::Result result;
    const char* reference;
    const char* line;
  };
  const Case kCases[] = {
      {VerifyIdentityResponse::MATCH, "LT-5f3a9c0e12ab34cd-7",
       "MATCH  (reference LT-5f3a9c0e12ab34cd-7)"},
      {VerifyIdentityResponse::MATCH, "", "MATCH"},
      {VerifyIdentityResponse::NO_MATCH, "LT-5f3a9c0e12ab34cd-8",
       "NO_MATCH  (reference LT-5f3a9c0e12ab34cd-8)"},
      {VerifyIdentityResponse::NO_MATCH, "", "NO_MATCH"},
      {VerifyIdentityResponse::RESULT_UNSPECIFIED, "",
       "RESULT_UNSPECIFIED (0)"},
      {static_cast<VerifyIdentityResponse::Result>(3), "",
       "RESULT_UNSPECIFIED (3)"},
      // Text from the server stays one line a terminal does not act on.
      {VerifyIdentityResponse::MATCH, "LT-1\x1b[2J\nx",
       "MATCH  (reference LT-1\xEF\xBF\xBD[2J x)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.line);
    VerifyIdentityResponse response;
    response.set_result(c.result);
    response.set_reference(c.reference);
    EXPECT_EQ(FormatVerifyResponse(response), c.line);
  }
}

}  // namespace
}  // namespace lienthong::cli
