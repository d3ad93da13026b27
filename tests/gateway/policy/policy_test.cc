#include "gateway/policy/policy.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.pb.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::policy {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kLookup[] = "lienthong.v1.PopulationService/LookupCitizen";
constexpr char kVerify[] = "lienthong.v1.IdentityService/VerifyIdentity";

std::shared_ptr<const Policy> MakePolicy() {
  lienthong::config::v1::GatewayConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        clients {
          id: "spiffe://lienthong.local/dossier-system"
          methods: "lienthong.v1.PopulationService/LookupCitizen"
          methods: "lienthong.v1.IdentityService/VerifyIdentity"
          grants { purposes: "1.001193" fields: "name" fields: "father" }
          grants { purposes: "*" fields: "birth_date" }
        }
        clients { id: "spiffe://lienthong.local/no-rights" }
      )pb",
      &config));
  auto policy = Policy::FromConfig(config);
  EXPECT_THAT(policy, IsOk());
  return *policy;
}

google::protobuf::FieldMask Mask(std::initializer_list<const char*> paths) {
  google::protobuf::FieldMask mask;
  for (const char* p : paths) mask.add_paths(p);
  return mask;
}

TEST(PolicyTest, MethodsAreDeniedByDefault) {
  auto policy = MakePolicy();
  EXPECT_THAT(
      policy->CheckMethod("spiffe://lienthong.local/dossier-system", kLookup),
      IsOk());
  EXPECT_THAT(
      policy->CheckMethod("spiffe://lienthong.local/no-rights", kVerify),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("may not call")));
  EXPECT_THAT(policy->CheckMethod("spiffe://elsewhere/unknown", kVerify),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("not registered")));
}

TEST(PolicyTest, EmptyMaskMeansEveryGrantedFieldForThePurpose) {
  auto policy = MakePolicy();
  auto mask = policy->LookupFields("spiffe://lienthong.local/dossier-system",
                                   "1.001193", {});
  ASSERT_THAT(mask, IsOk());
  EXPECT_THAT(mask->paths(), UnorderedElementsAre("name", "father", "birth_date"));
  auto other = policy->LookupFields("spiffe://lienthong.local/dossier-system",
                                    "2.000001", {});
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(other->paths(), ElementsAre("birth_date"));
}

struct FieldCase {
  const char* purpose;
  std::initializer_list<const char*> fields;
  absl::StatusCode code;
  const char* message;
};

TEST(PolicyTest, FieldsBeyondTheGrantAreRefusedByName) {
  const FieldCase kCases[] = {
      {"1.001193", {"name", "birth_date"}, absl::StatusCode::kOk, ""},
      {"1.001193", {"name.full"}, absl::StatusCode::kOk, ""},
      {"2.000001",
       {"name"},
       absl::StatusCode::kPermissionDenied,
       "may not receive name for purpose '2.000001'"},
      {"1.001193",
       {"name", "permanent_address", "spouse"},
       absl::StatusCode::kPermissionDenied,
       "may not receive permanent_address, spouse"},
      {"1.001193",
       {"no_such_field"},
       absl::StatusCode::kInvalidArgument,
       "'no_such_field' is not a field of Citizen"},
      // Empty segments, which FieldMaskUtil would skip.
      {"1.001193",
       {"."},
       absl::StatusCode::kInvalidArgument,
       "'.' is not a field of Citizen"},
      {"1.001193",
       {".name"},
       absl::StatusCode::kInvalidArgument,
       "'.name' is not a field of Citizen"},
      {"1.001193",
       {"name."},
       absl::StatusCode::kInvalidArgument,
       "'name.' is not a field of Citizen"},
      {"1.001193",
       {"name..full"},
       absl::StatusCode::kInvalidArgument,
       "'name..full' is not a field of Citizen"},
  };
  auto policy = MakePolicy();
  for (const FieldCase& c : kCases) {
    auto result = policy->LookupFields(
        "spiffe://lienthong.local/dossier-system", c.purpose, Mask(c.fields));
    EXPECT_THAT(result, StatusIs(c.code, HasSubstr(c.message)))
        << c.purpose << " " << *c.fields.begin();
  }
}

TEST(PolicyTest, AGrantForTheNationalCodeCoversTheProvincialForm) {
  auto policy = MakePolicy();
  auto mask = policy->LookupFields("spiffe://lienthong.local/dossier-system",
                                   "1.001193.000.00.00.H31", {});
  ASSERT_THAT(mask, IsOk());
  EXPECT_THAT(mask->paths(),
              UnorderedElementsAre("name", "father", "birth_date"));
  // Another procedure's provincial form gets only the "*" grant.
  auto other = policy->LookupFields("spiffe://lienthong.local/dossier-system",
                                    "1.001194.000.00.00.H31", Mask({"name"}));
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kPermissionDenied,
                              HasSubstr("may not receive name")));
}

TEST(PolicyTest, EveryCitizenFieldCanBeGrantedAndAskedFor) {
  lienthong::config::v1::GatewayConfig config;
  auto* client = config.add_clients();
  client->set_id("all");
  auto* grant = client->add_grants();
  grant->add_purposes("*");
  const auto* citizen = lienthong::v1::Citizen::descriptor();
  for (int i = 0; i < citizen->field_count(); ++i) {
    grant->add_fields(citizen->field(i)->name());
  }
  auto policy = Policy::FromConfig(config);
  ASSERT_THAT(policy, IsOk());
  // The fields the population database's reply added, and paths inside them.
  EXPECT_THAT(
      (*policy)->LookupFields(
          "all", "1.001193",
          Mask({"ethnicity_name", "religion_code", "marital_status",
                "marital_status_code", "blood_group", "blood_group_code",
                "birth_registration_place.province_code", "representative",
                "household_head.citizen_id", "household_relation_code",
                "gender_code", "data_as_of", "father.old_id_number",
                "mother.nationality"})),
      IsOk());
  // A grant of only some of them refuses the rest by name.
  lienthong::config::v1::GatewayConfig narrow;
  auto* limited = narrow.add_clients();
  limited->set_id("narrow");
  auto* some = limited->add_grants();
  some->add_purposes("1.001193");
  some->add_fields("household_head");
  auto narrow_policy = Policy::FromConfig(narrow);
  ASSERT_THAT(narrow_policy, IsOk());
  EXPECT_THAT(
      (*narrow_policy)
          ->LookupFields("narrow", "1.001193",
                         Mask({"household_head.citizen_id", "representative"})),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr("may not receive representative")));
}

TEST(PolicyTest, ClientWithoutGrantsGetsNoFields) {
  auto policy = MakePolicy();
  EXPECT_THAT(policy->LookupFields("spiffe://lienthong.local/no-rights",
                                   "1.001193", {}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("no grant for purpose")));
}

TEST(PolicyTest, ClientsThatMustNameTheDossierAreRefusedWithoutIt) {
  lienthong::config::v1::GatewayConfig config;
  auto* strict = config.add_clients();
  strict->set_id("strict");
  strict->set_require_dossier_id(true);
  config.add_clients()->set_id("lenient");
  auto policy = Policy::FromConfig(config);
  ASSERT_THAT(policy, IsOk());
  EXPECT_THAT((*policy)->CheckDossier("strict", ""),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("must name the dossier")));
  EXPECT_THAT((*policy)->CheckDossier("strict", "000.00.01.H31-251127-00001"),
              IsOk());
  EXPECT_THAT((*policy)->CheckDossier("lenient", ""), IsOk());
}

TEST(PolicyTest, DuplicateClientIsRejected) {
  lienthong::config::v1::GatewayConfig config;
  config.add_clients()->set_id("a");
  config.add_clients()->set_id("a");
  EXPECT_THAT(
      Policy::FromConfig(config),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listed twice")));
}

std::shared_ptr<const Policy> RecordPolicy() {
  lienthong::config::v1::GatewayConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        clients {
          id: "dossier"
          grants { purposes: "1.001193" fields: "name" }
          grants {
            record_type: "enterprise"
            purposes: "2.001610"
            fields: "name"
            fields: "status"
          }
          grants {
            record_type: "enterprise"
            purposes: "*"
            fields: "address"
          }
          grants {
            record_type: "vehicle"
            purposes: "1.001193"
            fields: "plate"
          }
        }
      )pb",
      &config));
  auto policy = Policy::FromConfig(config);
  EXPECT_THAT(policy, IsOk());
  return *policy;
}

TEST(PolicyTest, RecordFieldsComeFromTheRecordTypesOwnGrants) {
  auto policy = RecordPolicy();
  // Every granted field when none is asked for: the purpose's and "*"'s.
  EXPECT_THAT(policy->RecordFields("dossier", "2.001610", "enterprise", {}),
              IsOkAndHolds(ElementsAre("address", "name", "status")));
  // The province's form of the procedure is covered by the national code.
  EXPECT_THAT(policy->RecordFields("dossier", "2.001610.000.00.00.H31",
                                   "enterprise", {"name"}),
              IsOkAndHolds(ElementsAre("name")));
  // Another purpose gets only what "*" grants.
  EXPECT_THAT(policy->RecordFields("dossier", "1.001193", "enterprise", {}),
              IsOkAndHolds(ElementsAre("address")));
  // A citizen grant does not grant a record field of the same name, nor the
  // reverse.
  EXPECT_THAT(policy->RecordFields("dossier", "1.001193", "enterprise",
                                   {"name"}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("may not receive name of record type "
                                 "'enterprise'")));
  EXPECT_THAT(policy->LookupFields("dossier", "2.001610", Mask({})),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  // A refusal names the first five fields withheld, as a lookup's does.
  EXPECT_THAT(
      policy->RecordFields("dossier", "1.001193", "enterprise",
                           {"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"}),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr("may not receive f1, f2, f3, f4, f5 and 3 more of "
                         "record type 'enterprise'")));
}

TEST(PolicyTest, NoRecordGrantMeansPermissionDenied) {
  auto policy = RecordPolicy();
  EXPECT_THAT(policy->RecordFields("dossier", "2.001610", "land_parcel", {}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("no grant for record type 'land_parcel'")));
  EXPECT_THAT(policy->RecordFields("dossier", "2.001610", "vehicle", {}),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(policy->RecordFields("stranger", "2.001610", "enterprise", {}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("not registered")));
}

}  // namespace
}  // namespace lienthong::policy
