#include "adapters/labour_affairs/labour_affairs_adapter.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
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

std::vector<AgencyOperation> Operations(const LabourAffairsRestConfig& config) {
  AgencyOperation allowance;
  allowance.info = {"grant_funeral_allowance",
                    {"deceased_citizen_id", "deceased_full_name",
                     "death_certificate_number", "recipient_citizen_id",
                     "recipient_full_name"},
                    {"recipient_relationship"},
                    {"decision_number", "amount_vnd"}};
  allowance.path = config.funeral_allowance_path().empty()
                       ? kFuneralAllowancePath
                       : config.funeral_allowance_path();
  allowance.build_body = AllowanceBody;
  allowance.output_members = {{"decision_number", "SoQuyetDinh"},
                              {"amount_vnd", "SoTien"}};
  return {std::move(allowance)};
}

class Factory final : public FactoryBase<LabourAffairsRestConfig> {
 public:
  absl::string_view name() const override { return "labour-affairs-rest"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const LabourAffairsRestConfig& config,
      const AdapterContext& context) const override {
    LIENTHONG_RETURN_IF_ERROR(
        agency::ValidateAgencyEndpoint(config.upstream(), config.api_key()));
    if (!config.funeral_allowance_path().empty() &&
        !absl::StartsWith(config.funeral_allowance_path(), "/")) {
      return absl::InvalidArgumentError(
          "funeral_allowance_path must start with /");
    }
    if (context.http == nullptr) {
      return absl::InternalError("no HTTP client in the adapter context");
    }
    return agency::MakeAgencyAdapter(context.instance_name, config.upstream(),
                                     config.api_key(), Operations(config),
                                     context.http);
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeLabourAffairsRestFactory() {
  return std::make_unique<Factory>();
}

}  // namespace lienthong::adapters::labour_affairs
