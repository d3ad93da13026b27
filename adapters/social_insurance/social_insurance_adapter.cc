#include "adapters/social_insurance/social_insurance_adapter.h"

#include <string>
#include <utility>
#include <vector>

#include "adapters/common/agency/agency_adapter.h"
#include "adapters/social_insurance/social_insurance_config.pb.h"
#include "gateway/status/status_macros.h"

namespace lienthong::adapters::social_insurance {
namespace {

using agency::AgencyOperation;
using agency::Child;
using agency::Put;
using agency::StepInputs;
using google::protobuf::Struct;

absl::StatusOr<Struct> ChildCardBody(const StepInputs& in) {
  Struct body;
  LIENTHONG_ASSIGN_OR_RETURN(std::string id, in.CitizenId("citizen_id"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string name, in.Text("full_name"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string born, in.Date("birth_date"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string gender, in.Gender("gender"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string certificate,
                             in.Text("birth_certificate_number", 64));
  LIENTHONG_ASSIGN_OR_RETURN(std::string province, in.Digits("province_code", 2));
  Put(body, "SoDinhDanh", id);
  Put(body, "HoTen", name);
  Put(body, "NgaySinh", born);
  Put(body, "GioiTinh", gender);
  Put(body, "SoGiayKhaiSinh", certificate);
  Struct& address = Child(body, "DiaChi");
  Put(address, "MaTinh", province);
  if (in.Has("commune_code")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string commune, in.Digits("commune_code", 5));
    Put(address, "MaXa", commune);
  }
  if (in.Has("address_detail")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string detail, in.Text("address_detail"));
    Put(address, "ChiTiet", detail);
  }
  if (in.Has("guardian_citizen_id")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string guardian,
                               in.CitizenId("guardian_citizen_id"));
    Struct& person = Child(body, "NguoiGiamHo");
    Put(person, "SoDinhDanh", guardian);
    if (in.Has("guardian_full_name")) {
      LIENTHONG_ASSIGN_OR_RETURN(std::string guardian_name,
                                 in.Text("guardian_full_name"));
      Put(person, "HoTen", guardian_name);
    }
  }
  return body;
}

absl::StatusOr<std::vector<AgencyOperation>> Operations(
    const SocialInsuranceRestConfig& config) {
  AgencyOperation card;
  card.info = {"issue_child_health_card",
               {"citizen_id", "full_name", "birth_date", "gender",
                "birth_certificate_number", "province_code"},
               {"commune_code", "address_detail", "guardian_citizen_id",
                "guardian_full_name"},
               {"social_insurance_number", "health_card_number", "valid_from",
                "valid_to"}};
  LIENTHONG_ASSIGN_OR_RETURN(
      card.path,
      agency::OperationPath("child_card_path", config.child_card_path(),
                            kChildCardPath));
  card.build_body = ChildCardBody;
  card.output_members = {{"social_insurance_number", "MaSoBHXH"},
                         {"health_card_number", "SoTheBHYT"},
                         {"valid_from", "GiaTriTu"},
                         {"valid_to", "GiaTriDen"}};
  return std::vector<AgencyOperation>{std::move(card)};
}

}  // namespace

std::unique_ptr<AdapterFactory> MakeSocialInsuranceRestFactory() {
  return std::make_unique<agency::AgencyFactory<SocialInsuranceRestConfig>>(
      "social-insurance-rest", Operations);
}

}  // namespace lienthong::adapters::social_insurance
