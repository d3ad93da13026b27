#include "gateway/cli/population_commands.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::Citizen;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A synthetic record with every field set, consistent with its ID
// (033 Hưng Yên, 0 = male born in the 1900s, 85 = 1985).
Citizen FullCitizen() {
  Citizen c;
  c.set_citizen_id("033085012345");
  c.set_old_id_number("145123456");
  c.mutable_name()->set_family("Nguyễn");
  c.mutable_name()->set_middle("Văn");
  c.mutable_name()->set_given("An");
  c.mutable_name()->set_full("Nguyễn Văn An");
  c.mutable_birth_date()->set_year(1985);
  c.mutable_birth_date()->set_month(3);
  c.mutable_birth_date()->set_day(12);
  c.set_gender(lienthong::v1::GENDER_MALE);
  c.set_gender_code("1");
  c.set_ethnicity(lienthong::v1::ETHNICITY_KINH);
  c.set_ethnicity_code("01");
  c.set_ethnicity_name("Kinh");
  c.set_religion("Không");
  c.set_religion_code("00");
  c.set_marital_status(lienthong::v1::MARITAL_STATUS_MARRIED);
  c.set_marital_status_code("2");
  c.set_blood_group(lienthong::v1::BLOOD_GROUP_NOT_RECORDED);
  c.set_blood_group_code("00");
  c.set_nationality("VN");
  lienthong::v1::Address* birth = c.mutable_birth_registration_place();
  birth->set_commune_code("12103");
  birth->set_legacy_district_code("327");
  birth->set_province_code("33");
  lienthong::v1::Address* hometown = c.mutable_hometown();
  hometown->set_detail("Thôn Đông Tảo");
  hometown->set_commune_code("12103");
  hometown->set_legacy_district_code("327");
  hometown->set_province_code("33");
  hometown->set_country("VN");
  lienthong::v1::Address* permanent = c.mutable_permanent_address();
  permanent->set_detail("Số 12, đường Nguyễn Văn Linh");
  permanent->set_commune_code("11950");
  permanent->set_province_code("33");
  permanent->set_country("VN");
  lienthong::v1::Address* current = c.mutable_current_address();
  current->set_detail("Số 8, ngõ 45 phố Trần Hưng Đạo");
  current->set_commune_code("00070");
  current->set_province_code("01");
  c.mutable_father()->mutable_name()->set_full("Nguyễn Văn Bình");
  c.mutable_father()->set_citizen_id("033055001234");
  c.mutable_mother()->mutable_name()->set_family("Trần");
  c.mutable_mother()->mutable_name()->set_middle("Thị");
  c.mutable_mother()->mutable_name()->set_given("Cúc");
  c.mutable_mother()->set_citizen_id("034160004321");
  c.mutable_father()->set_old_id_number("145055001");
  c.mutable_father()->set_nationality("VN");
  c.mutable_spouse()->mutable_name()->set_full("Lê Thị Dung");
  c.mutable_representative()->mutable_name()->set_full("Nguyễn Văn Bình");
  c.mutable_household_head()->mutable_name()->set_full("NGUYỄN VĂN AN");
  c.mutable_household_head()->set_citizen_id("033085012345");
  c.set_household_relation(lienthong::v1::HOUSEHOLD_RELATION_HEAD);
  c.set_household_relation_code("CH01");
  c.set_household_book_number("330123456");
  c.mutable_data_as_of()->set_seconds(1757907000);  // 2025-09-15 10:30 +07
  return c;
}

TEST(FormatCitizenTest, EveryFieldOnAnAlignedLine) {
  EXPECT_EQ(
      FormatCitizen(FullCitizen(), "LT-5f3a9c0e12ab34cd-7"),
      "Citizen ID:          033085012345\n"
      "Old ID number:       145123456\n"
      "Name:                Nguyễn Văn An\n"
      "Birth date:          12/03/1985\n"
      "Gender:              male (1)\n"
      "Ethnicity:           Kinh (01)\n"
      "Religion:            Không (00)\n"
      "Marital status:      married (2)\n"
      "Blood group:         not recorded (00)\n"
      "Nationality:         VN\n"
      "Birth registered:    commune 12103, legacy district 327, province "
      "33\n"
      "Hometown:            Thôn Đông Tảo, commune 12103, legacy district "
      "327, province 33\n"
      "Permanent address:   Số 12, đường Nguyễn Văn Linh, commune 11950, "
      "province 33\n"
      "Current address:     Số 8, ngõ 45 phố Trần Hưng Đạo, commune 00070, "
      "province 01\n"
      "Father:              Nguyễn Văn Bình (ID 033055001234, old ID "
      "145055001, VN)\n"
      "Mother:              Trần Thị Cúc (ID 034160004321)\n"
      "Spouse:              Lê Thị Dung\n"
      "Representative:      Nguyễn Văn Bình\n"
      "Household head:      NGUYỄN VĂN AN (ID 033085012345)\n"
      "Household relation:  head of household (CH01)\n"
      "Household book:      330123456\n"
      "Data as of:          2025-09-15 10:30:00 +07\n"
      "Reference:           LT-5f3a9c0e12ab34cd-7\n");
}

TEST(FormatCitizenTest, OnlyPresentFieldsAreShown) {
  Citizen c;
  c.mutable_name()->set_full("Phạm Thị Hoa");
  c.mutable_birth_date()->set_year(1992);
  c.set_gender(lienthong::v1::GENDER_FEMALE);
  EXPECT_EQ(FormatCitizen(c, ""),
            "Name:        Phạm Thị Hoa\n"
            "Birth date:  1992\n"
            "Gender:      female\n");
  EXPECT_EQ(FormatCitizen(Citizen(), ""), "");
}

TEST(FormatCitizenTest, CodesWithAndWithoutNames) {
  struct Case {
    const char* ethnicity_name;
    const char* ethnicity_code;
    const char* relation_code;
    lienthong::v1::HouseholdRelation relation;
    const char* lines;
  };
  const Case kCases[] = {
      {"Tày", "02", "", lienthong::v1::HOUSEHOLD_RELATION_SPOUSE,
       "Ethnicity:           Tày (02)\n"
       "Household relation:  spouse of the head\n"},
      {"Mường", "", "", lienthong::v1::HOUSEHOLD_RELATION_CHILD,
       "Ethnicity:           Mường\n"
       "Household relation:  child of the head\n"},
      {"Giẻ Triêng", "27", "", lienthong::v1::HOUSEHOLD_RELATION_OTHER,
       "Ethnicity:           Giẻ Triêng (27)\n"
       "Household relation:  other relation to the head\n"},
      {"", "57", "CH09", lienthong::v1::HOUSEHOLD_RELATION_UNSPECIFIED,
       "Ethnicity:           code 57\n"
       "Household relation:  code CH09\n"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.lines);
    Citizen citizen;
    citizen.set_ethnicity_name(c.ethnicity_name);
    citizen.set_ethnicity_code(c.ethnicity_code);
    citizen.set_household_relation(c.relation);
    citizen.set_household_relation_code(c.relation_code);
    EXPECT_EQ(FormatCitizen(citizen, ""), c.lines);
  }
}

TEST(FormatCitizenTest, OnlyTheEthnicityEnumGranted) {
  Citizen c;
  c.set_ethnicity(lienthong::v1::ETHNICITY_GIA_RAI);
  EXPECT_EQ(FormatCitizen(c, ""), "Ethnicity:  GIA_RAI\n");
}

TEST(FormatCitizenTest, RelativeWithOnlyAnId) {
  Citizen c;
  c.mutable_spouse()->set_citizen_id("033190000123");
  EXPECT_EQ(FormatCitizen(c, ""), "Spouse:  ID 033190000123\n");
}

OfficerArgs GoodOfficer() {
  return OfficerArgs{"001085004321", "000.00.31.H31", "nguyenvana"};
}

TEST(BuildLookupRequestTest, FieldsBecomeMaskPaths) {
  LookupArgs args;
  args.officer = GoodOfficer();
  args.citizen_id = "033085012345";
  args.purpose = "1.001193";
  args.dossier_id = "000.00.01.H31-250715-00123";
  args.fields = " name,birth_date, ,permanent_address";
  auto request = BuildLookupRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->citizen_id(), "033085012345");
  EXPECT_EQ(request->purpose(), "1.001193");
  EXPECT_EQ(request->dossier_id(), "000.00.01.H31-250715-00123");
  EXPECT_THAT(request->fields().paths(),
              ElementsAre("name", "birth_date", "permanent_address"));
  EXPECT_EQ(request->officer().citizen_id(), "001085004321");
  EXPECT_EQ(request->officer().unit_code(), "000.00.31.H31");
  EXPECT_EQ(request->officer().account(), "nguyenvana");

  args.fields = "";
  request = BuildLookupRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->has_fields() && request->fields().paths_size() > 0);
}

TEST(BuildLookupRequestTest, RejectsBadArgsNamingTheOption) {
  struct Case {
    const char* id;
    const char* purpose;
    const char* dossier;
    const char* fields;
    OfficerArgs officer;
    const char* message;
  };
  const Case kCases[] = {
      {"33085012345", "1.001193", "D", "", GoodOfficer(),
       "--id: expected a 12-digit"},
      {"033085012345", " ", "D", "", GoodOfficer(), "--purpose is empty"},
      {"033085012345", "1.001193", "", "", GoodOfficer(), "--dossier is empty"},
      {"033085012345", "1.001193", "D", "name,address", GoodOfficer(),
       "--fields: unknown field \"address\""},
      {"033085012345",
       "1.001193",
       "D",
       "",
       {"", "U", "a"},
       "--officer-id is required (or set LIENTHONG_OFFICER_ID)"},
      {"033085012345",
       "1.001193",
       "D",
       "",
       {"001085004321", "", "a"},
       "--officer-unit is required (or set LIENTHONG_OFFICER_UNIT)"},
      {"033085012345",
       "1.001193",
       "D",
       "",
       {"001085004321", "U", ""},
       "--officer-account is required (or set LIENTHONG_OFFICER_ACCOUNT)"},
      {"033085012345",
       "1.001193",
       "D",
       "",
       {"145123456", "U", "a"},
       "--officer-id must be the officer's 12-digit"},
      {"033085012345",
       "1.001193",
       "D",
       "",
       {"003085004321", "U", "a"},
       "--officer-id has an unknown province code"},
      {"033085012345",
       "1.001193",
       "D",
       "",
       {"001085004321", "U 1", "a"},
       "--officer-unit must be"},
      {"033085012345",
       "1.001193",
       "D",
       "",
       {"001085004321", "U", "a b"},
       "--officer-account must be"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.message);
    LookupArgs args{c.id, c.purpose, c.dossier, c.fields, c.officer};
    auto request = BuildLookupRequest(args);
    ASSERT_FALSE(request.ok());
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(request.status().message()), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace lienthong::cli
