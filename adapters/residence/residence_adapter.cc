#include "adapters/residence/residence_adapter.h"

#include <string>
#include <utility>
#include <vector>

#include "adapters/common/agency/agency_adapter.h"
#include "adapters/residence/residence_config.pb.h"
#include "gateway/status/status_macros.h"

namespace lienthong::adapters::residence {
namespace {

using agency::AgencyOperation;
using agency::Child;
using agency::Put;
using agency::StepInputs;
using google::protobuf::Struct;

absl::StatusOr<Struct> RegistrationBody(const StepInputs& in) {
  Struct body;
  LIENTHONG_ASSIGN_OR_RETURN(std::string id, in.CitizenId("citizen_id"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string name, in.Text("full_name"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string certificate,
                             in.Text("birth_certificate_number", 64));
  LIENTHONG_ASSIGN_OR_RETURN(std::string province, in.Digits("province_code", 2));
  LIENTHONG_ASSIGN_OR_RETURN(std::string commune, in.Digits("commune_code", 5));
  LIENTHONG_ASSIGN_OR_RETURN(std::string detail, in.Text("address_detail"));
  Put(body, "SoDinhDanh", id);
  Put(body, "HoTen", name);
  Put(body, "SoGiayKhaiSinh", certificate);
  Struct& address = Child(body, "DiaChiThuongTru");
  Put(address, "MaTinh", province);
  Put(address, "MaXa", commune);
  Put(address, "ChiTiet", detail);
  if (in.Has("household_head_citizen_id")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string head,
                               in.CitizenId("household_head_citizen_id"));
    Struct& household = Child(body, "ChuHo");
    Put(household, "SoDinhDanh", head);
    if (in.Has("household_relationship")) {
      LIENTHONG_ASSIGN_OR_RETURN(std::string relation,
                                 in.Text("household_relationship", 100));
      Put(household, "QuanHe", relation);
    }
  }
  return body;
}

absl::StatusOr<Struct> RemovalBody(const StepInputs& in) {
  Struct body;
  LIENTHONG_ASSIGN_OR_RETURN(std::string id, in.CitizenId("citizen_id"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string name, in.Text("full_name"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string certificate,
                             in.Text("death_certificate_number", 64));
  Put(body, "SoDinhDanh", id);
  Put(body, "HoTen", name);
  Put(body, "SoTrichLucKhaiTu", certificate);
  Put(body, "LyDo", "Đã chết");
  if (in.Has("reason")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string reason, in.Text("reason"));
    Put(body, "LyDo", reason);
  }
  return body;
}

absl::StatusOr<std::vector<AgencyOperation>> Operations(
    const ResidenceRestConfig& config) {
  AgencyOperation registration;
  registration.info = {"register_permanent_residence",
                       {"citizen_id", "full_name", "birth_certificate_number",
                        "province_code", "commune_code", "address_detail"},
                       {"household_head_citizen_id", "household_relationship"},
                       {"residence_registration_number"}};
  LIENTHONG_ASSIGN_OR_RETURN(
      registration.path,
      agency::OperationPath("registration_path", config.registration_path(),
                            kRegistrationPath));
  registration.build_body = RegistrationBody;
  registration.output_members = {{"residence_registration_number", "SoDangKy"}};
  AgencyOperation removal;
  removal.info = {"remove_permanent_residence",
                  {"citizen_id", "full_name", "death_certificate_number"},
                  {"reason"},
                  {"removal_number"}};
  LIENTHONG_ASSIGN_OR_RETURN(
      removal.path, agency::OperationPath("removal_path", config.removal_path(),
                                          kRemovalPath));
  removal.build_body = RemovalBody;
  removal.output_members = {{"removal_number", "SoXoaDangKy"}};
  return std::vector<AgencyOperation>{std::move(registration),
                                      std::move(removal)};
}

}  // namespace

std::unique_ptr<AdapterFactory> MakeResidenceRestFactory() {
  return std::make_unique<agency::AgencyFactory<ResidenceRestConfig>>(
      "residence-rest", Operations);
}

}  // namespace lienthong::adapters::residence
