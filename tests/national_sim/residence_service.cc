// The simulated residence database (cư trú): permanent residence registered
// for a newborn, removed for the deceased.
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "tests/national_sim/agencies.h"

namespace lienthong::sim {
namespace {

bool AllDigits(const std::string& s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

AgencyDecision Register(const JsonObject& body, absl::Time now,
                        AgencySequence& sequence, std::string* bad) {
  const std::string id = BodyText(body, "", "SoDinhDanh");
  const std::string certificate = BodyText(body, "", "SoGiayKhaiSinh");
  const std::string province = BodyText(body, "DiaChiThuongTru", "MaTinh");
  const std::string commune = BodyText(body, "DiaChiThuongTru", "MaXa");
  if (!AllDigits(id, 12) || certificate.empty()) {
    *bad = "Thiếu SoDinhDanh hoặc SoGiayKhaiSinh";
    return {};
  }
  if (!AllDigits(province, 2) || !AllDigits(commune, 5) ||
      BodyText(body, "DiaChiThuongTru", "ChiTiet").empty()) {
    return {true, "Không tìm thấy địa chỉ đăng ký thường trú", {}};
  }
  AgencyDecision decision;
  decision.data["SoDangKy"] =
      absl::StrFormat("CT.%s.%s.%06d", province, AgencyDate(now).substr(0, 4),
                      sequence.Next());
  return decision;
}

AgencyDecision Remove(const JsonObject& body, absl::Time now,
                      AgencySequence& sequence, std::string* bad) {
  const std::string id = BodyText(body, "", "SoDinhDanh");
  if (!AllDigits(id, 12) || BodyText(body, "", "SoTrichLucKhaiTu").empty()) {
    *bad = "Thiếu SoDinhDanh hoặc SoTrichLucKhaiTu";
    return {};
  }
  AgencyDecision decision;
  decision.data["SoXoaDangKy"] = absl::StrFormat(
      "XCT.%s.%06d", AgencyDate(now).substr(0, 4), sequence.Next());
  return decision;
}

}  // namespace

const AgencyOperationSpec kResidenceOperations[2] = {
    {"/cutru/api/v1/thuong-tru/dang-ky", "register_permanent_residence",
     &Register, "Không tìm thấy địa chỉ đăng ký thường trú"},
    {"/cutru/api/v1/thuong-tru/xoa", "remove_permanent_residence", &Remove,
     "Không tìm thấy thông tin cư trú của người chết"},
};

}  // namespace lienthong::sim
