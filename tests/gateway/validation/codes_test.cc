#include "gateway/validation/codes.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::validation {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

struct PurposeCase {
  std::string purpose;
  const char* national;  // nullptr: invalid
};

const PurposeCase kPurposeCases[] = {
    {"1.001193", "1.001193"},
    {"2.000001", "2.000001"},
    {"1.001193.000.00.00.H31", "1.001193"},
    {"1.001193.H31", "1.001193"},
    {"3.000123.000.00.12.H48", "3.000123"},
    {"", nullptr},
    {"1.00119", nullptr},        // five digits
    {"1.0011933", nullptr},      // seven: not a suffix either
    {"11.001193", nullptr},      // two-digit level
    {"1-001193", nullptr},       // no dot
    {"a.001193", nullptr},       // letter level
    {"1.001193.", nullptr},      // trailing dot
    {"1.001193..H31", nullptr},  // empty segment
    {"1.001193.H-31", nullptr},  // '-' in the suffix
    {"1.001193 ", nullptr},      // whitespace
    {"1.001193.Hưng", nullptr},  // non-ASCII
    {"1.001193." + std::string(56, 'A'), nullptr},     // 65 characters
    {"1.001193." + std::string(55, 'A'), "1.001193"},  // 64 characters
};

TEST(CodesTest, PurposesAndTheirNationalCodes) {
  for (const PurposeCase& c : kPurposeCases) {
    SCOPED_TRACE(c.purpose);
    if (c.national == nullptr) {
      EXPECT_THAT(
          ValidatePurpose(c.purpose),
          StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("purpose")));
      EXPECT_THAT(
          NationalProcedureCode(c.purpose),
          StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("purpose")));
    } else {
      EXPECT_THAT(ValidatePurpose(c.purpose), IsOk());
      EXPECT_THAT(NationalProcedureCode(c.purpose),
                  IsOkAndHolds(std::string(c.national)));
    }
  }
}

TEST(CodesTest, ErrorsNeverEchoTheValue) {
  EXPECT_THAT(ValidatePurpose("9.99999X-secret").message(),
              Not(HasSubstr("secret")));
  EXPECT_THAT(ValidateAccount("bad account!", "officer.account").message(),
              Not(HasSubstr("bad account")));
  EXPECT_THAT(ValidateUnitCode("UNIT 7", "officer.unit_code").message(),
              Not(HasSubstr("UNIT 7")));
}

TEST(CodesTest, DossierIds) {
  EXPECT_THAT(ValidateDossierId(""), IsOk());
  EXPECT_THAT(ValidateDossierId("000.00.01.H31-250715-00123"), IsOk());
  EXPECT_THAT(ValidateDossierId(std::string(64, 'x')), IsOk());
  EXPECT_THAT(ValidateDossierId(std::string(65, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("longer than 64")));
  EXPECT_THAT(
      ValidateDossierId("H31/250715"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dossier_id")));
}

struct TextCase {
  std::string text;
  bool unit_ok;
  bool account_ok;
};

const TextCase kTextCases[] = {
    {"000.00.31.H31", true, true},
    {"UBND-XA_12103", true, true},
    {"can.bo@hungyen.gov.vn", false, true},
    {"nguyenvana", true, true},
    {"A", true, true},
    {"", false, false},
    {".H31", false, false},  // must start with a letter or digit
    {"H31-", false, false},  // ... and end with one
    {"H 31", false, false},  // space
    {"Hưng", false, false},  // non-ASCII
    {"a;b", false, false},   // punctuation
    {"a<b>", false, false},  // markup
    {std::string(40, 'u'), true, true},
    {std::string(41, 'u'), false, true},
    {std::string(64, 'a'), false, true},
    {std::string(65, 'a'), false, false},
};

TEST(CodesTest, UnitCodesAndAccounts) {
  for (const TextCase& c : kTextCases) {
    SCOPED_TRACE(c.text);
    absl::Status unit = ValidateUnitCode(c.text, "officer.unit_code");
    absl::Status account = ValidateAccount(c.text, "officer.account");
    EXPECT_EQ(unit.ok(), c.unit_ok) << unit;
    EXPECT_EQ(account.ok(), c.account_ok) << account;
    if (!unit.ok()) {
      EXPECT_THAT(unit, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("officer.unit_code")));
    }
    if (!account.ok()) {
      EXPECT_THAT(account, StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("officer.account")));
    }
  }
}

}  // namespace
}  // namespace lienthong::validation
