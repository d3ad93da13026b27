#include "gateway/validation/admin_units.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/time/civil_time.h"
#include "gateway/validation/dates.h"

namespace lienthong::validation {
namespace {

// Decision 19/2025/QĐ-TTg, in code order.
constexpr std::array<Province, 34> kCurrent = {{
    {"01", "Hà Nội"},      {"04", "Cao Bằng"},    {"08", "Tuyên Quang"},
    {"11", "Điện Biên"},   {"12", "Lai Châu"},    {"14", "Sơn La"},
    {"15", "Lào Cai"},     {"19", "Thái Nguyên"}, {"20", "Lạng Sơn"},
    {"22", "Quảng Ninh"},  {"24", "Bắc Ninh"},    {"25", "Phú Thọ"},
    {"31", "Hải Phòng"},   {"33", "Hưng Yên"},    {"37", "Ninh Bình"},
    {"38", "Thanh Hóa"},   {"40", "Nghệ An"},     {"42", "Hà Tĩnh"},
    {"44", "Quảng Trị"},   {"46", "Huế"},         {"48", "Đà Nẵng"},
    {"51", "Quảng Ngãi"},  {"52", "Gia Lai"},     {"56", "Khánh Hòa"},
    {"66", "Đắk Lắk"},     {"68", "Lâm Đồng"},    {"75", "Đồng Nai"},
    {"79", "Hồ Chí Minh"}, {"80", "Tây Ninh"},    {"82", "Đồng Tháp"},
    {"86", "Vĩnh Long"},   {"91", "An Giang"},    {"92", "Cần Thơ"},
    {"96", "Cà Mau"},
}};

// Decision 124/2004/QĐ-TTg as amended up to 30 June 2025, in code order,
// and the current province each became part of (Resolution 202/2025/QH15).
struct Legacy {
  Province province;
  absl::string_view merged_into;
};
constexpr std::array<Legacy, 63> kLegacy = {{
    {{"01", "Hà Nội"}, "01"},
    {{"02", "Hà Giang"}, "08"},
    {{"04", "Cao Bằng"}, "04"},
    {{"06", "Bắc Kạn"}, "19"},
    {{"08", "Tuyên Quang"}, "08"},
    {{"10", "Lào Cai"}, "15"},
    {{"11", "Điện Biên"}, "11"},
    {{"12", "Lai Châu"}, "12"},
    {{"14", "Sơn La"}, "14"},
    {{"15", "Yên Bái"}, "15"},
    {{"17", "Hòa Bình"}, "25"},
    {{"19", "Thái Nguyên"}, "19"},
    {{"20", "Lạng Sơn"}, "20"},
    {{"22", "Quảng Ninh"}, "22"},
    {{"24", "Bắc Giang"}, "24"},
    {{"25", "Phú Thọ"}, "25"},
    {{"26", "Vĩnh Phúc"}, "25"},
    {{"27", "Bắc Ninh"}, "24"},
    {{"30", "Hải Dương"}, "31"},
    {{"31", "Hải Phòng"}, "31"},
    {{"33", "Hưng Yên"}, "33"},
    {{"34", "Thái Bình"}, "33"},
    {{"35", "Hà Nam"}, "37"},
    {{"36", "Nam Định"}, "37"},
    {{"37", "Ninh Bình"}, "37"},
    {{"38", "Thanh Hóa"}, "38"},
    {{"40", "Nghệ An"}, "40"},
    {{"42", "Hà Tĩnh"}, "42"},
    {{"44", "Quảng Bình"}, "44"},
    {{"45", "Quảng Trị"}, "44"},
    {{"46", "Thừa Thiên Huế"}, "46"},
    {{"48", "Đà Nẵng"}, "48"},
    {{"49", "Quảng Nam"}, "48"},
    {{"51", "Quảng Ngãi"}, "51"},
    {{"52", "Bình Định"}, "52"},
    {{"54", "Phú Yên"}, "66"},
    {{"56", "Khánh Hòa"}, "56"},
    {{"58", "Ninh Thuận"}, "56"},
    {{"60", "Bình Thuận"}, "68"},
    {{"62", "Kon Tum"}, "51"},
    {{"64", "Gia Lai"}, "52"},
    {{"66", "Đắk Lắk"}, "66"},
    {{"67", "Đắk Nông"}, "68"},
    {{"68", "Lâm Đồng"}, "68"},
    {{"70", "Bình Phước"}, "75"},
    {{"72", "Tây Ninh"}, "80"},
    {{"74", "Bình Dương"}, "79"},
    {{"75", "Đồng Nai"}, "75"},
    {{"77", "Bà Rịa - Vũng Tàu"}, "79"},
    {{"79", "Hồ Chí Minh"}, "79"},
    {{"80", "Long An"}, "80"},
    {{"82", "Tiền Giang"}, "82"},
    {{"83", "Bến Tre"}, "86"},
    {{"84", "Trà Vinh"}, "86"},
    {{"86", "Vĩnh Long"}, "86"},
    {{"87", "Đồng Tháp"}, "82"},
    {{"89", "An Giang"}, "91"},
    {{"91", "Kiên Giang"}, "91"},
    {{"92", "Cần Thơ"}, "92"},
    {{"93", "Hậu Giang"}, "92"},
    {{"94", "Sóc Trăng"}, "92"},
    {{"95", "Bạc Liêu"}, "96"},
    {{"96", "Cà Mau"}, "96"},
}};

// The legacy provinces alone, for LegacyProvinces().
constexpr std::array<Province, 63> LegacyList() {
  std::array<Province, 63> out{};
  for (size_t i = 0; i < kLegacy.size(); ++i) out[i] = kLegacy[i].province;
  return out;
}
constexpr std::array<Province, 63> kLegacyList = LegacyList();

bool AllDigits(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

template <size_t N>
const Province* Find(const std::array<Province, N>& table,
                     absl::string_view code) {
  auto it = std::lower_bound(
      table.begin(), table.end(), code,
      [](const Province& p, absl::string_view c) { return p.code < c; });
  return it != table.end() && it->code == code ? &*it : nullptr;
}

}  // namespace

absl::Span<const Province> CurrentProvinces() { return kCurrent; }
absl::Span<const Province> LegacyProvinces() { return kLegacyList; }

const Province* FindCurrentProvince(absl::string_view code) {
  return Find(kCurrent, code);
}

const Province* FindLegacyProvince(absl::string_view code) {
  return Find(kLegacyList, code);
}

const Province* MergedInto(absl::string_view legacy_code) {
  const Province* legacy = FindLegacyProvince(legacy_code);
  if (legacy == nullptr) return nullptr;
  return FindCurrentProvince(kLegacy[legacy - kLegacyList.data()].merged_into);
}

absl::Time TwoLevelSchemeStart() {
  return absl::FromCivil(absl::CivilDay(2025, 7, 1), VietnamTimeZone());
}

AddressScheme SchemeOf(bool has_district,
                       std::optional<absl::Time> recorded_at) {
  if (has_district) return AddressScheme::kLegacy;
  if (recorded_at.has_value() && *recorded_at < TwoLevelSchemeStart()) {
    return AddressScheme::kLegacy;
  }
  return AddressScheme::kCurrent;
}

std::optional<AddressPart> FindBadAddressPart(AddressScheme scheme,
                                              absl::string_view province,
                                              absl::string_view district,
                                              absl::string_view commune) {
  const bool legacy = scheme == AddressScheme::kLegacy;
  if (!province.empty() &&
      (legacy ? FindLegacyProvince(province) : FindCurrentProvince(province)) ==
          nullptr) {
    return AddressPart::kProvince;
  }
  if (!district.empty() && (!legacy || district.size() != 3 ||
                            !AllDigits(district) || district == "000")) {
    return AddressPart::kDistrict;
  }
  if (!commune.empty() &&
      (commune.size() != 5 || !AllDigits(commune) || commune == "00000")) {
    return AddressPart::kCommune;
  }
  return std::nullopt;
}

}  // namespace lienthong::validation
