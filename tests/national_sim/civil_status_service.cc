// The simulated civil-status system (hộ tịch): birth and death
// registration. A newborn gets a personal ID consistent with the
// registration province, gender and birth year.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/national_sim/agencies.h"
#include "tests/national_sim/citizen_generator.h"

namespace lienthong::sim {
namespace {

bool IsProvinceIdCode(const std::string& code) {
  return std::find_if(kProvinceCodes.begin(), kProvinceCodes.end(),
                      [&code](const char* c) { return code == c; }) !=
         kProvinceCodes.end();
}

// Whether the population database knows `id` under `name`.
bool KnownAs(const std::string& id, const std::string& name) {
  std::optional<Citizen> citizen = LookupCitizen(id);
  return citizen.has_value() && NameMatches(*citizen, name);
}

AgencyDecision RegisterBirth(const JsonObject& body, absl::Time now,
                             AgencySequence& sequence, std::string* bad) {
  const std::string name = BodyText(body, "", "HoTen");
  const std::optional<absl::CivilDay> born =
      ParseAgencyDate(BodyText(body, "", "NgaySinh"));
  const std::string gender = BodyText(body, "", "GioiTinh");
  const std::string province = BodyText(body, "", "MaTinhDangKy");
  const std::string mother_id = BodyText(body, "Me", "SoDinhDanh");
  const std::string mother_name = BodyText(body, "Me", "HoTen");
  if (name.empty() || !born || (gender != "1" && gender != "2") ||
      province.size() != 2 || mother_id.empty() || mother_name.empty()) {
    *bad = "Thiếu HoTen, NgaySinh, GioiTinh, MaTinhDangKy hoặc Me";
    return {};
  }
  const std::string id_province = absl::StrCat("0", province);
  if (!IsProvinceIdCode(id_province)) {
    *bad = "MaTinhDangKy không hợp lệ";
    return {};
  }
  if (!KnownAs(mother_id, mother_name)) {
    return {true,
            "Thông tin của mẹ không khớp với Cơ sở dữ liệu quốc gia về dân cư",
            {}};
  }
  const absl::CivilDay today =
      absl::ToCivilDay(now, absl::FixedTimeZone(7 * 3600));
  if (*born > today) return {true, "Ngày sinh sau ngày đăng ký", {}};
  const int year = static_cast<int>(born->year());
  const bool male = gender == "1";
  const int century_digit = (year >= 2000 ? 2 : 0) + (male ? 0 : 1);
  const int64_t number = sequence.Next();
  AgencyDecision decision;
  decision.data["SoDinhDanh"] =
      absl::StrFormat("%s%d%02d%06d", id_province, century_digit, year % 100,
                      number % 1000000);
  decision.data["SoGiayKhaiSinh"] =
      absl::StrFormat("KS.%s.%d.%06d", id_province, today.year(), number);
  decision.data["NgayDangKy"] = AgencyDate(now);
  return decision;
}

AgencyDecision RegisterDeath(const JsonObject& body, absl::Time now,
                             AgencySequence& sequence, std::string* bad) {
  const std::string id = BodyText(body, "NguoiChet", "SoDinhDanh");
  const std::string name = BodyText(body, "NguoiChet", "HoTen");
  const std::optional<absl::CivilDay> died =
      ParseAgencyDate(BodyText(body, "", "NgayChet"));
  const std::string declarant = BodyText(body, "NguoiKhai", "SoDinhDanh");
  if (id.empty() || name.empty() || !died || declarant.empty()) {
    *bad = "Thiếu NguoiChet, NgayChet hoặc NguoiKhai";
    return {};
  }
  if (!KnownAs(id, name)) {
    return {true,
            "Thông tin người chết không khớp với Cơ sở dữ liệu quốc gia về "
            "dân cư",
            {}};
  }
  const absl::CivilDay today =
      absl::ToCivilDay(now, absl::FixedTimeZone(7 * 3600));
  if (*died > today) return {true, "Ngày chết sau ngày đăng ký", {}};
  AgencyDecision decision;
  decision.data["SoTrichLucKhaiTu"] =
      absl::StrFormat("KT.%s.%d.%06d", id.substr(0, 3), today.year(),
                      sequence.Next());
  return decision;
}

}  // namespace

const AgencyOperationSpec kCivilStatusOperations[2] = {
    {"/hotich/api/v1/khai-sinh", "register_birth", &RegisterBirth,
     "Hồ sơ không đủ điều kiện đăng ký khai sinh"},
    {"/hotich/api/v1/khai-tu", "register_death", &RegisterDeath,
     "Hồ sơ không đủ điều kiện đăng ký khai tử"},
};

}  // namespace lienthong::sim
