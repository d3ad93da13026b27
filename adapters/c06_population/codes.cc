#include "adapters/c06_population/codes.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"

namespace lienthong::adapters::c06 {
namespace {

// The national list of ethnic groups (General Statistics Office, Decision
// 121-TCTK/PPCĐ), index = code - 1, with 55 and 56 as the population
// database adds them.
constexpr std::array<absl::string_view, 56> kEthnicGroups = {
    "Kinh",
    "Tày",
    "Thái",
    "Hoa",
    "Khmer",
    "Mường",
    "Nùng",
    "Mông",
    "Dao",
    "Gia Rai",
    "Ngái",
    "Ê Đê",
    "Ba Na",
    "Xơ Đăng",
    "Sán Chay",
    "Cơ Ho",
    "Chăm",
    "Sán Dìu",
    "Hrê",
    "Mnông",
    "Ra Glai",
    "Xtiêng",
    "Bru Vân Kiều",
    "Thổ",
    "Giáy",
    "Cơ Tu",
    "Giẻ Triêng",
    "Mạ",
    "Khơ Mú",
    "Co",
    "Tà Ôi",
    "Chơ Ro",
    "Kháng",
    "Xinh Mun",
    "Hà Nhì",
    "Chu Ru",
    "Lào",
    "La Chí",
    "La Ha",
    "Phù Lá",
    "La Hủ",
    "Lự",
    "Lô Lô",
    "Chứt",
    "Mảng",
    "Pà Thẻn",
    "Cờ Lao",
    "Cống",
    "Bố Y",
    "Si La",
    "Pu Péo",
    "Brâu",
    "Ơ Đu",
    "Rơ Măm",
    "Người nước ngoài",
    "Không xác định",
};

// The list's number for a two-digit code "01".."56", or 0.
int EthnicNumber(absl::string_view code) {
  if (code.size() != 2 || !absl::ascii_isdigit(code[0]) ||
      !absl::ascii_isdigit(code[1])) {
    return 0;
  }
  const int number = (code[0] - '0') * 10 + (code[1] - '0');
  return number >= 1 && number <= static_cast<int>(kEthnicGroups.size())
             ? number
             : 0;
}

}  // namespace

bool IsCode(absl::string_view text) {
  return !text.empty() && text.size() <= kMaxCodeLength &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_isalnum(c); });
}

lienthong::v1::Gender GenderOf(absl::string_view code) {
  if (code == "1") return lienthong::v1::GENDER_MALE;
  if (code == "2") return lienthong::v1::GENDER_FEMALE;
  return lienthong::v1::GENDER_UNSPECIFIED;
}

absl::string_view EthnicityName(absl::string_view code) {
  const int number = EthnicNumber(code);
  return number == 0 ? absl::string_view() : kEthnicGroups[number - 1];
}

lienthong::v1::Ethnicity EthnicityOf(absl::string_view code) {
  const int number = EthnicNumber(code);
  if (number == 0) return lienthong::v1::ETHNICITY_UNSPECIFIED;
  if (number <= lienthong::v1::ETHNICITY_GIA_RAI) {
    return static_cast<lienthong::v1::Ethnicity>(number);
  }
  return lienthong::v1::ETHNICITY_OTHER;
}

absl::string_view ReligionName(absl::string_view code) {
  return code == "00" ? "Không" : "";
}

lienthong::v1::MaritalStatus MaritalStatusOf(absl::string_view code) {
  if (code.size() == 1 && code[0] >= '1' && code[0] <= '4') {
    return static_cast<lienthong::v1::MaritalStatus>(code[0] - '0');
  }
  return lienthong::v1::MARITAL_STATUS_UNSPECIFIED;
}

lienthong::v1::BloodGroup BloodGroupOf(absl::string_view code) {
  if (code == "00") return lienthong::v1::BLOOD_GROUP_NOT_RECORDED;
  if (code == "O") return lienthong::v1::BLOOD_GROUP_O;
  if (code == "A") return lienthong::v1::BLOOD_GROUP_A;
  if (code == "B") return lienthong::v1::BLOOD_GROUP_B;
  if (code == "AB") return lienthong::v1::BLOOD_GROUP_AB;
  return lienthong::v1::BLOOD_GROUP_UNSPECIFIED;
}

lienthong::v1::HouseholdRelation HouseholdRelationOf(absl::string_view code) {
  return code == "CH01" ? lienthong::v1::HOUSEHOLD_RELATION_HEAD
                        : lienthong::v1::HOUSEHOLD_RELATION_UNSPECIFIED;
}

}  // namespace lienthong::adapters::c06
