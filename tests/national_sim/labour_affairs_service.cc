// The simulated labour and social affairs system: the funeral allowance
// (procedure 1.011537). Amounts are synthetic.
#include "absl/strings/str_format.h"
#include "tests/national_sim/agencies.h"

namespace lienthong::sim {
namespace {

AgencyDecision GrantFuneralAllowance(const JsonObject& body, absl::Time now,
                                     AgencySequence& sequence,
                                     std::string* bad) {
  const std::string deceased = BodyText(body, "NguoiChet", "SoDinhDanh");
  const std::string recipient = BodyText(body, "NguoiNhan", "SoDinhDanh");
  if (deceased.empty() || recipient.empty() ||
      BodyText(body, "", "SoTrichLucKhaiTu").empty()) {
    *bad = "Thiếu NguoiChet, NguoiNhan hoặc SoTrichLucKhaiTu";
    return {};
  }
  if (deceased == recipient) {
    return {true, "Người nhận trợ cấp không thể là người đã chết", {}};
  }
  AgencyDecision decision;
  decision.data["SoQuyetDinh"] = absl::StrFormat(
      "QD-MT.%s.%06d", AgencyDate(now).substr(0, 4), sequence.Next());
  decision.data["SoTien"] = "7200000";
  return decision;
}

}  // namespace

const AgencyOperationSpec kLabourAffairsOperations[1] = {
    {"/ldtbxh/api/v1/tro-cap-mai-tang", "grant_funeral_allowance",
     &GrantFuneralAllowance, "Không đủ điều kiện hưởng trợ cấp mai táng"},
};

}  // namespace lienthong::sim
