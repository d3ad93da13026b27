// The simulated social insurance (BHXH): the health-insurance card of a
// child under 6, valid until the day before the sixth birthday.
#include "absl/strings/str_format.h"
#include "tests/national_sim/agencies.h"

namespace lienthong::sim {
namespace {

AgencyDecision IssueChildCard(const JsonObject& body, absl::Time now,
                              AgencySequence& sequence, std::string* bad) {
  const std::string id = BodyText(body, "", "SoDinhDanh");
  const std::optional<absl::CivilDay> born =
      ParseAgencyDate(BodyText(body, "", "NgaySinh"));
  const std::string province = BodyText(body, "DiaChi", "MaTinh");
  if (id.size() != 12 || !born || province.size() != 2 ||
      BodyText(body, "", "SoGiayKhaiSinh").empty()) {
    *bad = "Thiếu SoDinhDanh, NgaySinh, SoGiayKhaiSinh hoặc DiaChi.MaTinh";
    return {};
  }
  const absl::CivilDay today =
      absl::ToCivilDay(now, absl::FixedTimeZone(7 * 3600));
  const absl::CivilDay sixth(born->year() + 6, born->month(), born->day());
  if (today >= sixth) {
    return {true, "Trẻ đã đủ 6 tuổi, không thuộc đối tượng cấp thẻ BHYT trẻ em",
            {}};
  }
  const std::string code =
      absl::StrFormat("%s%08d", province, sequence.Next() % 100000000);
  AgencyDecision decision;
  decision.data["MaSoBHXH"] = code;
  decision.data["SoTheBHYT"] = absl::StrCat("TE1", province, code);
  decision.data["GiaTriTu"] = AgencyDate(now);
  decision.data["GiaTriDen"] = absl::StrFormat(
      "%04d%02d%02d", (sixth - 1).year(), (sixth - 1).month(), (sixth - 1).day());
  return decision;
}

}  // namespace

const AgencyOperationSpec kSocialInsuranceOperations[1] = {
    {"/bhxh/api/v1/the-bhyt/tre-em", "issue_child_health_card",
     &IssueChildCard, "Không đủ điều kiện cấp thẻ BHYT trẻ em"},
};

}  // namespace lienthong::sim
