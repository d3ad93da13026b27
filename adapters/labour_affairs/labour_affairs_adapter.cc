#include "adapters/labour_affairs/labour_affairs_adapter.h"

#include <string>
#include <utility>
#include <vector>

#include "adapters/common/agency/agency_adapter.h"
#include "adapters/labour_affairs/labour_affairs_config.pb.h"
#include "gateway/status/status_macros.h"

namespace lienthong::adapters::labour_affairs {
namespace {

using agency::AgencyOperation;
using agency::Child;
using agency::Put;
using agency::StepInputs;
using google::protobuf::Struct;

absl::StatusOr<Struct> AllowanceBody(const StepInputs& in) {
  Struct body;
  LIENTHONG_ASSIGN_OR_RETURN(std::string deceased,
                             in.CitizenId("deceased_citizen_id"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string deceased_name,
                             in.Text("deceased_full_name"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string certificate,
                             in.Text("death_certificate_number", 64));
  LIENTHONG_ASSIGN_OR_RETURN(std::string recipient,
                             in.CitizenId("recipient_citizen_id"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string recipient_name,
                             in.Text("recipient_full_name"));
  Struct& dead = Child(body, "NguoiChet");
  Put(dead, "SoDinhDanh", deceased);
  Put(dead, "HoTen", deceased_name);
  Put(body, "SoTrichLucKhaiTu", certificate);
  Struct& receiver = Child(body, "NguoiNhan");
  Put(receiver, "SoDinhDanh", recipient);
  Put(receiver, "HoTen", recipient_name);
  if (in.Has("recipient_relationship")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string relation,
                               in.Text("recipient_relationship", 100));
    Put(receiver, "QuanHe", relation);
  }
  return body;
}

absl::StatusOr<std::vector<AgencyOperation>> Operations(
    const LabourAffairsRestConfig& config) {
  AgencyOperation allowance;
  allowance.info = {"grant_funeral_allowance",
                    {"deceased_citizen_id", "deceased_full_name",
                     "death_certificate_number", "recipient_citizen_id",
                     "recipient_full_name"},
                    {"recipient_relationship"},
                    {"decision_number", "amount_vnd"}};
  LIENTHONG_ASSIGN_OR_RETURN(
      allowance.path, agency::OperationPath("funeral_allowance_path",
                                            config.funeral_allowance_path(),
                                            kFuneralAllowancePath));
  allowance.build_body = AllowanceBody;
  allowance.output_members = {{"decision_number", "SoQuyetDinh"},
                              {"amount_vnd", "SoTien"}};
  return std::vector<AgencyOperation>{std::move(allowance)};
}

}  // namespace

std::unique_ptr<AdapterFactory> MakeLabourAffairsRestFactory() {
  return std::make_unique<agency::AgencyFactory<LabourAffairsRestConfig>>(
      "labour-affairs-rest", Operations);
}

}  // namespace lienthong::adapters::labour_affairs
