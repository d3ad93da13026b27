// The checks of a StartBundleRequest's details, of an officer's corrections
// and of a stop's reason: each bad value is refused with the field or key
// it is in, and no message repeats the value (it may be personal data).
#include "gateway/bundle/bundle_data.h"

#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/bundle/bundle_test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::bundle {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kDossier[] = "000.00.31.H31-260105-00001";

TEST(DataOfRequest, FlattensAWellFormedBirthRequest) {
  absl::StatusOr<BundleData> data =
      DataOfRequest(testing::BirthRequest(kDossier), absl::Now());
  ASSERT_THAT(data.status(), IsOk());
  EXPECT_EQ(data->at("dossier.code"), kDossier);
  EXPECT_EQ(data->at("child.full_name"), "Nguyễn Minh Khang");
  EXPECT_EQ(data->at("child.gender"), "male");
  EXPECT_EQ(data->at("address.commune_code"), "12103");
  // Optional keys left empty are not in the data.
  EXPECT_EQ(data->count("father.citizen_id"), 0u);
}

TEST(DataOfRequest, RefusesEachBadValueNamingItsFieldNotTheValue) {
  struct Case {
    const char* what;
    void (*edit)(v1::StartBundleRequest&);
    const char* message;
    const char* value;  // must not be echoed
  };
  const Case cases[] = {
      {"control character in a name",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->set_child_full_name("Nguyễn\x01Khang");
       },
       "birth.child_full_name: contains control characters", "Khang"},
      {"line feed in a name",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->mutable_mother()->set_full_name("Mẹ\ncủa trẻ");
       },
       "birth.mother.full_name: contains control characters", "của trẻ"},
      {"DEL in other text",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->set_birth_place("Trạm y tế\x7f xã");
       },
       "birth.birth_place: contains control characters", "Trạm y tế"},
      {"name over 200 bytes",
       [](v1::StartBundleRequest& r) {
         r.mutable_applicant()->set_full_name(std::string(201, 'a'));
       },
       "applicant.full_name: longer than 200 bytes", "aaaaaaaa"},
      {"text over 400 bytes",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->mutable_permanent_address()->set_detail(
             std::string(401, 'b'));
       },
       "birth.permanent_address.detail: longer than 400 bytes", "bbbbbbbb"},
      {"old ID card number",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->mutable_mother()->set_citizen_id("033190012");
       },
       "birth.mother.citizen_id: must be a 12-digit personal ID", "033190012"},
      {"a 3-digit province code",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->mutable_permanent_address()->set_province_code(
             "331");
       },
       "birth.permanent_address.province_code: must be a 2-digit", "331"},
      {"a required name missing",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->clear_child_full_name();
       },
       "birth.child_full_name: required", "\x01"},
      {"gender unset",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->clear_child_gender();
       },
       "birth.child_gender: required", "\x01"},
      {"relationship over 100 bytes (what the agencies take)",
       [](v1::StartBundleRequest& r) {
         r.mutable_applicant()->set_relationship(std::string(101, 'c'));
       },
       "applicant.relationship: longer than 100 bytes", "cccccccc"},
      {"a father's name without his ID",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->mutable_father()->set_full_name("Nguyễn Văn An");
         r.mutable_birth()->mutable_father()->clear_citizen_id();
       },
       "birth.father: citizen_id and full_name go together", "Văn An"},
      {"a father's ID without his name",
       [](v1::StartBundleRequest& r) {
         r.mutable_birth()->mutable_father()->set_citizen_id("033088012345");
         r.mutable_birth()->mutable_father()->clear_full_name();
       },
       "birth.father: citizen_id and full_name go together", "033088012345"},
      {"a DEATH bundle with birth details",
       [](v1::StartBundleRequest& r) { r.set_kind(v1::DEATH); },
       "death: required for a DEATH bundle", "\x01"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    v1::StartBundleRequest request = testing::BirthRequest(kDossier);
    c.edit(request);
    EXPECT_THAT(DataOfRequest(request, absl::Now()).status(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(c.message), Not(HasSubstr(c.value)))));
  }
}

TEST(DataOfRequest, RefusesADeathDateInTheFuture) {
  v1::StartBundleRequest request = testing::DeathRequest(kDossier);
  google::type::Date& date = *request.mutable_death()->mutable_death_date();
  date.set_year(date.year() + 1);
  EXPECT_THAT(DataOfRequest(request, absl::Now()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("death.death_date: ")));
}

TEST(CheckCorrection, AppliesTheKeysRuleAndKnowsWhatMayBeCleared) {
  const absl::Time now = absl::Now();
  EXPECT_THAT(
      CheckCorrection(v1::DEATH, "deceased.death_date", "2025-03-01", now),
      IsOk());
  // Dates are digits only, exactly: a sign or a space is not a month.
  for (const char* date : {"2025-+3-01", "2025- 3-01", "2025-3-01"}) {
    EXPECT_THAT(CheckCorrection(v1::DEATH, "deceased.death_date", date, now),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "corrections: deceased.death_date: must be a date "
                         "yyyy-MM-dd"))
        << date;
  }
  EXPECT_THAT(CheckCorrection(v1::BIRTH, "child.full_name", "Trần Văn An", now),
              IsOk());
  EXPECT_THAT(CheckCorrection(v1::BIRTH, "father.full_name", "", now), IsOk());
  EXPECT_THAT(CheckCorrection(v1::BIRTH, "child.full_name", "", now),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("corrections: child.full_name is required")));
  EXPECT_THAT(
      CheckCorrection(v1::BIRTH, "child.full_name", "Trần\tAn", now),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "corrections: child.full_name: contains control characters"));
  EXPECT_THAT(CheckCorrection(v1::BIRTH, "child.gender", "other", now),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "corrections: child.gender: must be male or female"));
  EXPECT_THAT(CheckCorrection(v1::BIRTH, "deceased.full_name", "An", now),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'deceased.full_name' is not a data key")));
  EXPECT_THAT(CheckCorrection(v1::BIRTH, "dossier.code", kDossier, now),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("that can be corrected")));
  // A key that does not look like one is not echoed.
  EXPECT_THAT(CheckCorrection(v1::BIRTH, "033190012345", "An", now),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("a key is not a data key"),
                             Not(HasSubstr("033190012345")))));
}

TEST(CheckStopReason, TakesPrintableTextUpToAThousandBytes) {
  EXPECT_THAT(CheckStopReason("Người nộp hồ sơ rút hồ sơ"), IsOk());
  EXPECT_THAT(CheckStopReason(std::string(1000, 'x')), IsOk());
  EXPECT_THAT(CheckStopReason(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                            "stop.reason: required"));
  EXPECT_THAT(CheckStopReason(std::string(1001, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "stop.reason: longer than 1000 bytes"));
  EXPECT_THAT(CheckStopReason("rút\rhồ sơ"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "stop.reason: contains control characters"));
  EXPECT_THAT(CheckStopReason("r\xc3\x28t"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "stop.reason: not valid UTF-8"));
}

}  // namespace
}  // namespace lienthong::bundle
