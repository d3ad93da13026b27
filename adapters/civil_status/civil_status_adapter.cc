#include "adapters/civil_status/civil_status_adapter.h"

#include <string>
#include <utility>
#include <vector>

#include "adapters/civil_status/civil_status_config.pb.h"
#include "adapters/common/agency/agency_adapter.h"
#include "gateway/status/status_macros.h"

namespace lienthong::adapters::civil_status {
namespace {

using agency::AgencyOperation;
using agency::Child;
using agency::Put;
using agency::StepInputs;
using google::protobuf::Struct;

// A person as the civil-status system writes one: {HoTen, SoDinhDanh}.
absl::Status PutPerson(Struct& body, const std::string& member,
                       const StepInputs& in, const std::string& id,
                       const std::string& name) {
  Struct& person = Child(body, member);
  LIENTHONG_ASSIGN_OR_RETURN(std::string id_value, in.CitizenId(id));
  LIENTHONG_ASSIGN_OR_RETURN(std::string name_value, in.Text(name));
  Put(person, "SoDinhDanh", id_value);
  Put(person, "HoTen", name_value);
  return absl::OkStatus();
}

absl::StatusOr<Struct> BirthBody(const StepInputs& in) {
  Struct body;
  LIENTHONG_ASSIGN_OR_RETURN(std::string name, in.Text("child_full_name"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string born, in.Date("child_birth_date"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string gender, in.Gender("child_gender"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string province,
                             in.Digits("registration_province", 2));
  Put(body, "HoTen", name);
  Put(body, "NgaySinh", born);
  Put(body, "GioiTinh", gender);
  Put(body, "QuocTich", "VN");
  Put(body, "MaTinhDangKy", province);
  if (in.Has("birth_place")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string place, in.Text("birth_place"));
    Put(body, "NoiSinh", place);
  }
  LIENTHONG_RETURN_IF_ERROR(PutPerson(body, "Me", in, "mother_citizen_id",
                                      "mother_full_name"));
  if (in.Has("father_citizen_id") || in.Has("father_full_name")) {
    LIENTHONG_RETURN_IF_ERROR(PutPerson(body, "Cha", in, "father_citizen_id",
                                        "father_full_name"));
  }
  return body;
}

absl::StatusOr<Struct> DeathBody(const StepInputs& in) {
  Struct body;
  LIENTHONG_RETURN_IF_ERROR(PutPerson(body, "NguoiChet", in,
                                      "deceased_citizen_id",
                                      "deceased_full_name"));
  LIENTHONG_ASSIGN_OR_RETURN(std::string died, in.Date("death_date"));
  Put(body, "NgayChet", died);
  if (in.Has("death_place")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string place, in.Text("death_place"));
    Put(body, "NoiChet", place);
  }
  LIENTHONG_RETURN_IF_ERROR(PutPerson(body, "NguoiKhai", in,
                                      "declarant_citizen_id",
                                      "declarant_full_name"));
  if (in.Has("declarant_relationship")) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string relation,
                               in.Text("declarant_relationship", 100));
    Put(Child(body, "NguoiKhai"), "QuanHe", relation);
  }
  return body;
}

absl::StatusOr<std::vector<AgencyOperation>> Operations(
    const CivilStatusRestConfig& config) {
  AgencyOperation birth;
  birth.info = {"register_birth",
                {"child_full_name", "child_birth_date", "child_gender",
                 "registration_province", "mother_citizen_id",
                 "mother_full_name"},
                {"father_citizen_id", "father_full_name", "birth_place"},
                {"birth_certificate_number", "citizen_id"}};
  LIENTHONG_ASSIGN_OR_RETURN(
      birth.path, agency::OperationPath("birth_registration_path",
                                        config.birth_registration_path(),
                                        kBirthRegistrationPath));
  birth.build_body = BirthBody;
  birth.output_members = {{"birth_certificate_number", "SoGiayKhaiSinh"},
                          {"citizen_id", "SoDinhDanh"}};
  // The child's new ID gives the child's birth year and gender, not a
  // parent's.
  birth.id_owners = {{"citizen_id", {"child_birth_date", "child_gender"}}};
  AgencyOperation death;
  death.info = {"register_death",
                {"deceased_citizen_id", "deceased_full_name", "death_date",
                 "declarant_citizen_id", "declarant_full_name"},
                {"death_place", "declarant_relationship"},
                {"death_certificate_number"}};
  LIENTHONG_ASSIGN_OR_RETURN(
      death.path, agency::OperationPath("death_registration_path",
                                        config.death_registration_path(),
                                        kDeathRegistrationPath));
  death.build_body = DeathBody;
  death.output_members = {{"death_certificate_number", "SoTrichLucKhaiTu"}};
  return std::vector<AgencyOperation>{std::move(birth), std::move(death)};
}

}  // namespace

std::unique_ptr<AdapterFactory> MakeCivilStatusRestFactory() {
  return std::make_unique<agency::AgencyFactory<CivilStatusRestConfig>>(
      "civil-status-rest", Operations);
}

}  // namespace lienthong::adapters::civil_status
