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
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A case of a rule: the input, and for an invalid one a part of the message
// (nullptr: valid).
struct Case {
  std::string text;
  const char* why;
};

// ---------------------------------------------------------------------------
// Unit codes.

const Case kUnitCases[] = {
    {"000.00.31.H31", nullptr},
    {"H31", nullptr},
    {"000.00.01.h31", nullptr},  // case is the caller's
    {std::string(40, 'u'), nullptr},
    {"", "unit.code is required"},
    {std::string(41, 'u'), "unit.code must be 1 to 40 ASCII letters"},
    {".H31", "must be"},  // empty group
    {"H31.", "must be"},
    {"000..31.H31", "must be"},
    {"UBND-XA-12103", "must be"},  // '-' separates a dossier code's parts
    {"UBND_XA", "must be"},
    {"H 31", "must be"},
    {"Hưng", "must be"},
    {"a;b", "must be"},
};

TEST(UnitCodeTest, ValidAndEachKindOfInvalid) {
  for (const Case& c : kUnitCases) {
    SCOPED_TRACE(c.text);
    absl::Status status = ValidateUnitCode(c.text, "unit.code");
    if (c.why == nullptr) {
      EXPECT_THAT(status, IsOk());
    } else {
      EXPECT_THAT(status,
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           AllOf(StartsWith("unit.code "), HasSubstr(c.why))));
    }
  }
}

// ---------------------------------------------------------------------------
// Procedure codes.

const Case kProcedureCases[] = {
    {"1.001193", nullptr},
    {"2.000001", nullptr},
    {"1.001193.000.00.00.H31", nullptr},
    {"2.000488.H31", nullptr},
    {"1.001193." + std::string(40, 'A'), nullptr},  // the longest unit code
    {"", "code: procedure code must be"},
    {"1.00119", "code: procedure code must be <digit>.<6 digits>"},
    {"1.0011934", "procedure code must be"},  // seven digits
    {"11.001193", "procedure code must be"},  // two-digit group
    {"1-001193", "procedure code must be"},
    {"A.001193", "procedure code must be"},
    {"1.001193.", "procedure code must be"},
    {"1.001193..H31", "procedure code must be"},
    {"1.001193.H-31", "procedure code must be"},
    {"1.001193.000.00.00.H31-x", "procedure code must be"},
    {"1.001193 ", "procedure code must be"},
    {"1.001193.Hưng", "procedure code must be"},
    {"1.001193." + std::string(41, 'A'), "procedure code must be"},
};

TEST(ProcedureCodeTest, ValidAndEachKindOfInvalid) {
  for (const Case& c : kProcedureCases) {
    SCOPED_TRACE(c.text);
    absl::Status status = ValidateProcedureCode(c.text, "code");
    EXPECT_EQ(IsProcedureCode(c.text), c.why == nullptr);
    if (c.why == nullptr) {
      EXPECT_THAT(status, IsOk());
    } else {
      EXPECT_THAT(status,
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           AllOf(StartsWith("code: "), HasSubstr(c.why))));
    }
  }
}

TEST(ProcedureCodeTest, NationalCodes) {
  EXPECT_TRUE(IsNationalProcedureCode("1.001193"));
  EXPECT_FALSE(IsNationalProcedureCode("1.001193.000.00.00.H31"));
  EXPECT_FALSE(IsNationalProcedureCode("1.00119"));
  EXPECT_FALSE(IsNationalProcedureCode("1.00119a"));
  EXPECT_FALSE(IsNationalProcedureCode("1-001193"));
  EXPECT_FALSE(IsNationalProcedureCode(""));
}

const Case kProvincialCases[] = {
    {"1.001193.000.00.00.H31", nullptr},
    {"2.000123.000.00.00.H01", nullptr},
    {"3.000999.000.00.00.H99", nullptr},
    {"9.345678.123.45.67.H31", nullptr},
    {"", "empty"},
    {"1.001193", "national base code"},
    {"1.001193.000.00.00", "5 parts"},
    {"1.001193.000.00.00.H31.1", "7 parts"},
    {"01.001193.000.00.00.H31", "group (part 1) must be one digit"},
    {"12.001193.000.00.00.H31", "group (part 1)"},
    {"0.001193.000.00.00.H31", "group (part 1)"},
    {".001193.000.00.00.H31", "group (part 1)"},
    {"1.01193.000.00.00.H31", "procedure number (part 2) must be 6 digits"},
    {"1.0011930.000.00.00.H31", "part 2"},
    {"1.00119a.000.00.00.H31", "part 2"},
    {"1.001193.00.00.00.H31", "unit segments"},
    {"1.001193.000.0.00.H31", "unit segments"},
    {"1.001193.000.00.000.H31", "unit segments"},
    {"1.001193.000.00.00.h31", "province suffix"},
    {"1.001193.000.00.00.G31", "province suffix"},
    {"1.001193.000.00.00.H3", "province suffix"},
    {"1.001193.000.00.00.H310", "province suffix"},
    {"1.001193.000.00.00.H00", "H00 names no province"},
    {" 1.001193.000.00.00.H31", "group"},
    {"1.001193.000.00.00.H31 ", "province suffix"},
};

TEST(ProvincialProcedureCodeTest, ValidAndEachKindOfInvalid) {
  for (const Case& c : kProvincialCases) {
    SCOPED_TRACE(c.text);
    absl::Status status =
        ValidateProvincialProcedureCode(c.text, "--procedure");
    if (c.why == nullptr) {
      EXPECT_THAT(status, IsOk());
      // A province's form is a procedure code to the gateway as well.
      EXPECT_THAT(ValidateProcedureCode(c.text, "code"), IsOk());
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                   AllOf(StartsWith("--procedure: "),
                                         HasSubstr(c.why))));
    }
  }
}

// ---------------------------------------------------------------------------
// Purposes: procedure codes, with their national code.

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
    {"1.00119", nullptr},
    {"1.0011933", nullptr},
    {"1.001193.H-31", nullptr},
    {"1.001193." + std::string(41, 'A'), nullptr},
};

TEST(PurposeTest, PurposesAndTheirNationalCodes) {
  for (const PurposeCase& c : kPurposeCases) {
    SCOPED_TRACE(c.purpose);
    if (c.national == nullptr) {
      EXPECT_THAT(
          ValidatePurpose(c.purpose),
          StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("purpose")));
      EXPECT_THAT(
          NationalProcedureCode(c.purpose),
          StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("purpose")));
    } else {
      EXPECT_THAT(ValidatePurpose(c.purpose), IsOk());
      EXPECT_THAT(NationalProcedureCode(c.purpose),
                  IsOkAndHolds(std::string(c.national)));
    }
  }
}

TEST(PurposeTest, Messages) {
  EXPECT_EQ(ValidatePurpose("").message(), "purpose is required");
  EXPECT_THAT(std::string(ValidatePurpose("1.1").message()),
              StartsWith("purpose: procedure code must be <digit>.<6 "
                         "digits>, optionally followed by \".\" and a unit "
                         "code"));
}

// ---------------------------------------------------------------------------
// Dossier codes.

const Case kDossierCases[] = {
    {"000.00.01.H31-250715-00123", nullptr},
    {"000.00.53.H48-220921-0099", nullptr},  // DESIGN.md's example
    {"000.20.31.H31-240229-1", nullptr},     // leap day
    {"000.00.01.G09-250101-1234567890", nullptr},
    {"H31-250715-7", nullptr},
    {"000.00.01.h31-250715-00123", nullptr},
    {"", "dossier_code: empty"},
    {"D1", "dossier_code: expected <unit>-<yyMMdd>-<sequence>"},
    {"000.00.01.H31-250715", "expected <unit>-<yyMMdd>-<sequence>"},
    {"000.00.01.H31-250715-1-2", "expected <unit>"},
    {"-250715-00123", "the unit code is required"},
    {"000..01.H31-250715-00123", "the unit code must be"},
    {".000.00.01.H31-250715-00123", "the unit code must be"},
    {"000.00.01.H3!-250715-00123", "the unit code must be"},
    {"000.00.01.H31 -250715-00123", "the unit code must be"},
    {"Đà.00.01.H31-250715-00123", "the unit code must be"},
    {"000.00.01.H31.000.00.01.H31.000.00.01.H31-250715-1",
     "the unit code must be"},
    {"000.00.01.H31-2507150-00123", "the date must be 6 digits yyMMdd"},
    {"000.00.01.H31-2507-00001", "6 digits yyMMdd"},
    {"000.00.01.H31-25071a-00001", "6 digits yyMMdd"},
    {"000.00.01.H31-250230-00123", "the date 250230 does not exist"},
    {"000.00.01.H31-250229-00123", "the date 250229 does not exist"},
    {"000.00.01.H31-251315-00123", "does not exist"},  // month 13
    {"000.00.01.H31-250700-00001", "does not exist"},  // day 0
    {"000.00.01.H31-250715-", "the sequence must be 1 to 10 digits"},
    {"000.00.01.H31-250715-12345678901", "the sequence must be"},
    {"000.00.01.H31-250715-12a", "the sequence must be"},
    {"000.00.01.H31-250715-LOST1", "the sequence must be"},
};

TEST(DossierCodeTest, ValidAndEachKindOfInvalid) {
  for (const Case& c : kDossierCases) {
    SCOPED_TRACE(c.text);
    absl::Status status = ValidateDossierCode(c.text, "dossier_code");
    EXPECT_EQ(IsDossierCode(c.text), c.why == nullptr);
    if (c.why == nullptr) {
      EXPECT_THAT(status, IsOk());
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                   AllOf(StartsWith("dossier_code: "),
                                         HasSubstr(c.why))));
    }
  }
}

TEST(DossierCodeTest, DossierIdsAreOptionalDossierCodes) {
  EXPECT_THAT(ValidateDossierId(""), IsOk());
  EXPECT_THAT(ValidateDossierId("000.00.01.H31-250715-00123"), IsOk());
  EXPECT_THAT(ValidateDossierId("a b"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("dossier_id: expected")));
  EXPECT_THAT(ValidateDossierId("000.00.01.H31-250230-00123"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "dossier_id: the date 250230 does not exist"));
  EXPECT_THAT(
      ValidateDossierId(std::string(65, 'x')),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("dossier_id: ")));
}

// ---------------------------------------------------------------------------
// Accounts.

const Case kAccountCases[] = {
    {"nguyenvana", nullptr},
    {"can.bo@hungyen.gov.vn", nullptr},
    {"UBND-XA_12103", nullptr},
    {"A", nullptr},
    {std::string(64, 'a'), nullptr},
    {"", "officer.account is required"},
    {std::string(65, 'a'), "officer.account must be 1 to 64"},
    {".nguyen", "must be"},  // must start with a letter or digit
    {"nguyen-", "must be"},  // ... and end with one
    {"a b", "must be"},
    {"Hưng", "must be"},
    {"a;b", "must be"},
    {"a<b>", "must be"},
};

TEST(AccountTest, ValidAndEachKindOfInvalid) {
  for (const Case& c : kAccountCases) {
    SCOPED_TRACE(c.text);
    absl::Status status = ValidateAccount(c.text, "officer.account");
    if (c.why == nullptr) {
      EXPECT_THAT(status, IsOk());
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr(c.why)));
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
  EXPECT_THAT(ValidateDossierCode("SECRET!-250715-1", "dossier_code").message(),
              Not(HasSubstr("SECRET")));
  EXPECT_THAT(ValidateProvincialProcedureCode("1.SECRET", "code").message(),
              Not(HasSubstr("SECRET")));
}

}  // namespace
}  // namespace lienthong::validation
