#include "gateway/validation/admin_units.h"

#include <map>
#include <set>
#include <string>

#include "absl/time/civil_time.h"
#include "gateway/validation/citizen_id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::validation {
namespace {

using ::testing::ElementsAreArray;

const absl::TimeZone kVietnam = absl::FixedTimeZone(7 * 60 * 60);

// Decision 19/2025/QĐ-TTg lists these codes (DESIGN.md, "Citizen ID").
constexpr const char* kCurrentCodes[] = {
    "01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25",
    "31", "33", "37", "38", "40", "42", "44", "46", "48", "51", "52", "56",
    "66", "68", "75", "79", "80", "82", "86", "91", "92", "96"};

TEST(AdminUnitsTest, ThirtyFourCurrentProvincesInCodeOrder) {
  std::vector<std::string> codes;
  for (const Province& p : CurrentProvinces()) {
    codes.emplace_back(p.code);
    EXPECT_FALSE(p.name.empty()) << p.code;
  }
  EXPECT_THAT(codes, ElementsAreArray(kCurrentCodes));
}

TEST(AdminUnitsTest, SixtyThreeLegacyProvincesAreTheIdProvinceCodes) {
  ASSERT_EQ(LegacyProvinces().size(), 63u);
  std::string previous;
  for (const Province& p : LegacyProvinces()) {
    EXPECT_LT(previous, std::string(p.code));
    previous = std::string(p.code);
    // The same 63 codes open a 12-digit citizen ID ("0" + code).
    const std::string id = "0" + std::string(p.code) + "085012345";
    EXPECT_TRUE(ValidateCitizenId(id, nullptr, absl::Now()).ok()) << id;
  }
}

// Resolution 202/2025/QH15: which earlier provinces each current one joins.
TEST(AdminUnitsTest, EveryLegacyProvinceMergedIntoOneCurrentProvince) {
  const std::map<std::string, std::set<std::string>> kMerges = {
      {"01", {"01"}},
      {"04", {"04"}},
      {"08", {"02", "08"}},
      {"11", {"11"}},
      {"12", {"12"}},
      {"14", {"14"}},
      {"15", {"10", "15"}},
      {"19", {"06", "19"}},
      {"20", {"20"}},
      {"22", {"22"}},
      {"24", {"24", "27"}},
      {"25", {"17", "25", "26"}},
      {"31", {"30", "31"}},
      {"33", {"33", "34"}},
      {"37", {"35", "36", "37"}},
      {"38", {"38"}},
      {"40", {"40"}},
      {"42", {"42"}},
      {"44", {"44", "45"}},
      {"46", {"46"}},
      {"48", {"48", "49"}},
      {"51", {"51", "62"}},
      {"52", {"52", "64"}},
      {"56", {"56", "58"}},
      {"66", {"54", "66"}},
      {"68", {"60", "67", "68"}},
      {"75", {"70", "75"}},
      {"79", {"74", "77", "79"}},
      {"80", {"72", "80"}},
      {"82", {"82", "87"}},
      {"86", {"83", "84", "86"}},
      {"91", {"89", "91"}},
      {"92", {"92", "93", "94"}},
      {"96", {"95", "96"}},
  };
  ASSERT_EQ(kMerges.size(), 34u);
  std::map<std::string, std::set<std::string>> actual;
  for (const Province& legacy : LegacyProvinces()) {
    const Province* current = MergedInto(legacy.code);
    ASSERT_NE(current, nullptr) << legacy.code;
    actual[std::string(current->code)].insert(std::string(legacy.code));
  }
  EXPECT_EQ(actual, kMerges);
}

TEST(AdminUnitsTest, NamesOfMergedProvinces) {
  EXPECT_EQ(MergedInto("34")->name, "Hưng Yên");  // Thái Bình
  EXPECT_EQ(MergedInto("27")->name, "Bắc Ninh");  // Bắc Ninh -> 24
  EXPECT_EQ(MergedInto("27")->code, "24");
  EXPECT_EQ(MergedInto("10")->name, "Lào Cai");  // Lào Cai -> 15
  EXPECT_EQ(MergedInto("10")->code, "15");
  EXPECT_EQ(FindLegacyProvince("15")->name, "Yên Bái");
  EXPECT_EQ(FindLegacyProvince("46")->name, "Thừa Thiên Huế");
  EXPECT_EQ(FindCurrentProvince("46")->name, "Huế");
  EXPECT_EQ(MergedInto("00"), nullptr);
  EXPECT_EQ(MergedInto("3"), nullptr);
  EXPECT_EQ(FindCurrentProvince("34"), nullptr);  // no longer a province
  EXPECT_EQ(FindLegacyProvince("33")->name, "Hưng Yên");
}

TEST(AdminUnitsTest, TheSchemeFollowsTheDistrictAndTheRecordsDate) {
  const absl::Time before =
      absl::FromCivil(absl::CivilSecond(2025, 6, 30, 23, 59, 59), kVietnam);
  const absl::Time start =
      absl::FromCivil(absl::CivilSecond(2025, 7, 1, 0, 0, 0), kVietnam);
  EXPECT_EQ(TwoLevelSchemeStart(), start);
  EXPECT_EQ(SchemeOf(true, std::nullopt), AddressScheme::kLegacy);
  EXPECT_EQ(SchemeOf(true, start), AddressScheme::kLegacy);
  EXPECT_EQ(SchemeOf(false, before), AddressScheme::kLegacy);
  EXPECT_EQ(SchemeOf(false, start), AddressScheme::kCurrent);
  EXPECT_EQ(SchemeOf(false, std::nullopt), AddressScheme::kCurrent);
}

struct AddressCase {
  AddressScheme scheme;
  const char* province;
  const char* district;
  const char* commune;
  std::optional<AddressPart> bad;
};

TEST(AdminUnitsTest, AddressCodesInTheirScheme) {
  constexpr auto kLegacy = AddressScheme::kLegacy;
  constexpr auto kCurrent = AddressScheme::kCurrent;
  const AddressCase kCases[] = {
      {kLegacy, "34", "336", "12103", std::nullopt},  // Thái Bình, old
      {kLegacy, "34", "", "12103", std::nullopt},     // district optional
      {kCurrent, "33", "", "12103", std::nullopt},    // Hưng Yên, new
      {kCurrent, "34", "", "12103", AddressPart::kProvince},
      {kLegacy, "03", "", "12103", AddressPart::kProvince},
      {kCurrent, "3", "", "12103", AddressPart::kProvince},
      {kCurrent, "", "", "12103", std::nullopt},  // absent: not checked
      {kCurrent, "33", "", "", std::nullopt},
      {kCurrent, "33", "336", "12103", AddressPart::kDistrict},
      {kLegacy, "33", "33", "12103", AddressPart::kDistrict},
      {kLegacy, "33", "000", "12103", AddressPart::kDistrict},
      {kLegacy, "33", "3a6", "12103", AddressPart::kDistrict},
      {kCurrent, "33", "", "1210", AddressPart::kCommune},
      {kCurrent, "33", "", "121030", AddressPart::kCommune},
      {kCurrent, "33", "", "00000", AddressPart::kCommune},
      {kCurrent, "33", "", "0000１", AddressPart::kCommune},  // full-width 1
      {kLegacy, "33", "336", "", std::nullopt},
      {kLegacy, "", "336", "", std::nullopt},
      {kCurrent, "", "336", "", AddressPart::kDistrict},
  };
  for (const AddressCase& c : kCases) {
    SCOPED_TRACE(::testing::Message()
                 << c.province << "/" << c.district << "/" << c.commune);
    EXPECT_EQ(FindBadAddressPart(c.scheme, c.province, c.district, c.commune),
              c.bad);
  }
}

}  // namespace
}  // namespace lienthong::validation
