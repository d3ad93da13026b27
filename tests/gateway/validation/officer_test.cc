#include "gateway/validation/officer.h"

#include <string>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::validation {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::Officer;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 11, 27, 12, 0, 0),
                    absl::FixedTimeZone(7 * 60 * 60));

Officer GoodOfficer() {
  Officer officer;
  officer.set_citizen_id("001085004321");
  officer.set_unit_code("000.00.31.H31");
  officer.set_account("can.bo@hungyen.gov.vn");
  return officer;
}

struct Case {
  const char* what;
  void (*spoil)(Officer&);
  const char* error;  // nullptr: valid
};

const Case kCases[] = {
    {"good", [](Officer&) {}, nullptr},
    {"no ID", [](Officer& o) { o.clear_citizen_id(); },
     "officer.citizen_id is required"},
    {"old ID card", [](Officer& o) { o.set_citizen_id("145123456"); },
     "officer.citizen_id must be the officer's 12-digit"},
    {"11 digits", [](Officer& o) { o.set_citizen_id("00108500432"); },
     "officer.citizen_id must have 12 digits"},
    {"letter", [](Officer& o) { o.set_citizen_id("00108500432X"); },
     "officer.citizen_id must contain only digits"},
    {"unknown province", [](Officer& o) { o.set_citizen_id("003085004321"); },
     "officer.citizen_id has an unknown province code"},
    {"born in the future", [](Officer& o) { o.set_citizen_id("001299004321"); },
     "officer.citizen_id implies a birth year in the future"},
    {"no unit", [](Officer& o) { o.clear_unit_code(); },
     "officer.unit_code is required"},
    {"bad unit", [](Officer& o) { o.set_unit_code("UBND xã"); },
     "officer.unit_code must be"},
    {"no account", [](Officer& o) { o.clear_account(); },
     "officer.account is required"},
    {"bad account", [](Officer& o) { o.set_account("a b"); },
     "officer.account must be"},
};

TEST(OfficerTest, EveryFieldIsCheckedAndNamed) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.what);
    Officer officer = GoodOfficer();
    c.spoil(officer);
    absl::Status status = ValidateOfficer(true, officer, kNow);
    if (c.error == nullptr) {
      EXPECT_THAT(status, IsOk());
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                   StartsWith(c.error)));
      if (!officer.citizen_id().empty()) {
        EXPECT_THAT(status.message(), Not(HasSubstr(officer.citizen_id())));
      }
    }
  }
}

TEST(OfficerTest, AbsentOfficerIsRefused) {
  EXPECT_THAT(ValidateOfficer(false, Officer(), kNow),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("officer is required")));
  // Even with fields set, a message without `officer` set has none.
  EXPECT_THAT(ValidateOfficer(false, GoodOfficer(), kNow),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("officer is required")));
}

TEST(OfficerTest, TheFieldNameIsTheCallersChoice) {
  EXPECT_THAT(ValidateOfficerId("0010850043", "--officer-id", kNow),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("--officer-id must have 12 digits")));
  EXPECT_THAT(ValidateOfficerId("001085004321", "--officer-id", kNow), IsOk());
}

}  // namespace
}  // namespace lienthong::validation
