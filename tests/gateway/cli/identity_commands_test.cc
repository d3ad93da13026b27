#include "gateway/cli/identity_commands.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::VerifyIdentityResponse;
using ::testing::HasSubstr;

TEST(BuildVerifyRequestTest, CopiesArgsAndParsesDob) {
  VerifyArgs args;
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
}

TEST(BuildVerifyRequestTest, DobIsOptionalAndMayBeAYear) {
  VerifyArgs args;
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
      {"033085012345", "  ", "", "--name is empty"},
      {"033085012345", "An", "1985-13-40", "--dob: month 13 is not 01..12"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.message);
    VerifyArgs args;
    args.citizen_id = c.id;
    args.full_name = c.name;
    args.birth_date = c.dob;
    auto request = BuildVerifyRequest(args);
    ASSERT_FALSE(request.ok());
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(request.status().message()), HasSubstr(c.message));
  }
}

TEST(FormatVerifyResponseTest, OneReadableLinePerResult) {
  struct Case {
    VerifyIdentityResponse::Result result;
    std::vector<VerifyIdentityResponse::Field> mismatched;
    int level;
    const char* reference;
    const char* line;
  };
  const Case kCases[] = {
      {VerifyIdentityResponse::MATCH,
       {},
       2,
       "VNEID-20250715-0001",
       "MATCH  (VNeID level 2, reference VNEID-20250715-0001)"},
      {VerifyIdentityResponse::MATCH, {}, 1, "", "MATCH  (VNeID level 1)"},
      {VerifyIdentityResponse::MISMATCH,
       {VerifyIdentityResponse::FULL_NAME, VerifyIdentityResponse::BIRTH_DATE},
       2,
       "VNEID-20250715-0002",
       "MISMATCH: full_name, birth_date  (VNeID level 2, reference "
       "VNEID-20250715-0002)"},
      {VerifyIdentityResponse::MISMATCH,
       {VerifyIdentityResponse::BIRTH_DATE},
       0,
       "",
       "MISMATCH: birth_date  (VNeID level 0)"},
      {VerifyIdentityResponse::NOT_FOUND,
       {},
       0,
       "VNEID-20250715-0003",
       "NOT_FOUND  (reference VNEID-20250715-0003)"},
      {VerifyIdentityResponse::NOT_FOUND, {}, 0, "", "NOT_FOUND"},
      {VerifyIdentityResponse::RESULT_UNSPECIFIED,
       {},
       0,
       "",
       "RESULT_UNSPECIFIED (0)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.line);
    VerifyIdentityResponse response;
    response.set_result(c.result);
    for (auto field : c.mismatched) response.add_mismatched_fields(field);
    response.set_vneid_level(c.level);
    response.set_reference(c.reference);
    EXPECT_EQ(FormatVerifyResponse(response), c.line);
  }
}

TEST(FormatVerifyResponseTest, UnknownFieldNumberIsShownAsNumber) {
  VerifyIdentityResponse response;
  response.set_result(VerifyIdentityResponse::MISMATCH);
  response.add_mismatched_fields(VerifyIdentityResponse::FULL_NAME);
  response.add_mismatched_fields(static_cast<VerifyIdentityResponse::Field>(7));
  response.set_vneid_level(2);
  EXPECT_EQ(FormatVerifyResponse(response),
            "MISMATCH: full_name, field 7  (VNeID level 2)");
}

}  // namespace
}  // namespace lienthong::cli
