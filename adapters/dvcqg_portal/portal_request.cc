#include "adapters/dvcqg_portal/portal_request.h"

#include "absl/time/time.h"
#include "adapters/dvcqg_portal/portal_wire.pb.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::adapters::dvcqg {
namespace {

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return absl::InternalError("cannot write the portal's JSON body");
  }
  return json;
}

}  // namespace

absl::string_view ServiceLevelCode(lienthong::v1::ServiceLevel level) {
  switch (level) {
    case lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE:
      return "TOAN_TRINH";
    case lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE:
      return "MOT_PHAN";
    default:
      return "";
  }
}

std::string FormatPortalTime(const google::protobuf::Timestamp& time) {
  static const absl::TimeZone kVietnam = absl::FixedTimeZone(7 * 3600);
  return absl::FormatTime("%Y%m%d%H%M%S", absl::FromUnixSeconds(time.seconds()),
                          kVietnam);
}

absl::StatusOr<std::string> BuildProcedureBody(
    const lienthong::v1::Procedure& procedure) {
  if (procedure.code().empty()) {
    return absl::InvalidArgumentError("procedure code is empty");
  }
  if (procedure.name().empty()) {
    return absl::InvalidArgumentError("procedure name is empty");
  }
  absl::string_view level = ServiceLevelCode(procedure.level());
  if (level.empty()) {
    return absl::InvalidArgumentError(
        "procedure level must be fully or partly online");
  }
  wire::ProcedureBody body;
  body.set_matthc(procedure.code());
  body.set_tentthc(procedure.name());
  body.set_linhvuc(procedure.field());
  body.set_capthuchien(procedure.authority_level());
  body.set_mucdo(std::string(level));
  body.set_coquanthuchien(procedure.implementing_agency());
  body.set_thoihangiaiquyet(procedure.processing_time());
  body.set_philephi(procedure.fees());
  for (const std::string& d : procedure.required_documents()) {
    body.add_thanhphanhoso(d);
  }
  for (const std::string& b : procedure.legal_basis()) body.add_cancuphaply(b);
  return ToJson(body);
}

absl::StatusOr<std::string> BuildWithdrawBody(absl::string_view code) {
  if (code.empty()) return absl::InvalidArgumentError("procedure code is empty");
  wire::WithdrawBody body;
  body.set_matthc(std::string(code));
  return ToJson(body);
}

absl::StatusOr<std::string> BuildDossierStatusBody(
    const lienthong::v1::DossierStatusUpdate& update) {
  if (update.dossier_code().empty()) {
    return absl::InvalidArgumentError("dossier code is empty");
  }
  if (update.status() < lienthong::v1::NEW ||
      update.status() > lienthong::v1::RESULT_RETURNED) {
    return absl::InvalidArgumentError("dossier status must be 1..10");
  }
  if (!update.has_time()) {
    return absl::InvalidArgumentError("dossier status time is unset");
  }
  wire::DossierStatusBody body;
  body.set_mahoso(update.dossier_code());
  body.set_matthc(update.procedure_code());
  body.set_trangthaihoso(static_cast<int32_t>(update.status()));
  body.set_thoigian(FormatPortalTime(update.time()));
  body.set_nguoixuly(update.handler());
  body.set_ghichu(update.note());
  return ToJson(body);
}

}  // namespace lienthong::adapters::dvcqg
