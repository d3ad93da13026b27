#include "adapters/dvcqg_portal/portal_request.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::adapters::dvcqg {
namespace {

using lienthong::v1::DossierStatusUpdate;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

bool IsPortalStatus(lienthong::v1::DossierStatus status) {
  return status >= lienthong::v1::NEW &&
         status <= lienthong::v1::RESULT_RETURNED;
}

// "" for an unset time, as the public source sends unknown dates.
std::string OptionalTime(bool set, const google::protobuf::Timestamp& time) {
  return set ? FormatPortalTime(time) : std::string();
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

wire::SignInRequest BuildSignIn(absl::string_view username,
                                absl::string_view password) {
  wire::SignInRequest request;
  request.set_username(std::string(username));
  request.set_password(std::string(password));
  return request;
}

absl::StatusOr<wire::DossierSyncRequest> BuildDossierSync(
    const DossierStatusUpdate& update, bool is_updating,
    absl::string_view madonvi) {
  if (update.dossier_code().empty()) return Invalid("dossier code is empty");
  if (update.procedure_code().empty()) {
    return Invalid("procedure code is empty");
  }
  if (!update.has_registration()) {
    return Invalid("the dossier's registration is missing");
  }
  if (!IsPortalStatus(update.status())) {
    return Invalid("dossier status must be 1..10");
  }
  const lienthong::v1::DossierRegistration& r = update.registration();
  wire::DossierSyncRequest request;
  request.set_madonvi(std::string(madonvi));
  request.set_service(kRegisterDossierService);
  request.set_isupdating(is_updating ? "True" : "False");
  wire::DossierBody& body = *request.add_data();
  body.set_mahoso(update.dossier_code());
  body.set_matthc(update.procedure_code());
  body.set_tentthc(r.procedure_name());
  body.set_malinhvuc(r.field_code());
  body.set_tenlinhvuc(r.field_name());
  body.set_chuhoso(r.applicant().name());
  body.set_loaidoituong(
      r.applicant().type() == lienthong::v1::APPLICANT_ORGANISATION ? "2"
                                                                    : "1");
  body.set_madoituong(r.applicant().id());
  body.set_email(r.applicant().email());
  body.set_sodienthoai(r.applicant().phone());
  body.set_trichyeuhoso(r.summary());
  body.set_ngaytiepnhan(OptionalTime(r.has_received(), r.received()));
  body.set_ngayhentra(OptionalTime(r.has_due(), r.due()));
  body.set_trangthaihoso(absl::StrCat(static_cast<int>(update.status())));
  body.set_ngaytra(OptionalTime(r.has_returned(), r.returned()));
  body.set_hinhthuc(r.result_by_post() ? "1" : "0");
  body.set_ngayketthucxuly(OptionalTime(r.has_finished(), r.finished()));
  body.set_donvixuly(r.handling_unit());
  body.set_ghichu(r.note());
  return request;
}

absl::StatusOr<wire::ProgressRequest> BuildProgress(
    const DossierStatusUpdate& update, absl::string_view madonvi) {
  if (update.dossier_code().empty()) return Invalid("dossier code is empty");
  if (!IsPortalStatus(update.status())) {
    return Invalid("dossier status must be 1..10");
  }
  if (!update.has_time()) return Invalid("dossier status time is unset");
  wire::ProgressRequest request;
  request.set_madonvi(std::string(madonvi));
  request.set_service(kProgressService);
  wire::ProgressBody& body = *request.add_data();
  body.set_mahoso(update.dossier_code());
  body.set_nguoixuly(update.handler());
  body.set_chucdanh(update.handler_title());
  body.set_thoidiemxuly(FormatPortalTime(update.time()));
  body.set_phongbanxuly(update.department());
  body.set_noidungxuly(update.note());
  body.set_trangthai(absl::StrCat(static_cast<int>(update.status())));
  body.set_ngaybatdau(OptionalTime(update.has_step_start(), update.step_start()));
  body.set_ngayketthuctheoquydinh(
      OptionalTime(update.has_step_due(), update.step_due()));
  return request;
}

wire::LookupRequest BuildLookup(absl::string_view dossier_code,
                                absl::string_view madonvi) {
  wire::LookupRequest request;
  request.set_madonvi(std::string(madonvi));
  request.set_service(kLookupService);
  request.set_mahoso(std::string(dossier_code));
  return request;
}

absl::StatusOr<wire::ServiceSyncRequest> BuildServicePublication(
    const lienthong::v1::Procedure& procedure, bool is_updating, bool withdraw,
    absl::string_view madonvi) {
  if (procedure.code().empty()) return Invalid("procedure code is empty");
  if (procedure.national_code().empty()) {
    return Invalid("the procedure's national code is empty");
  }
  wire::ServiceSyncRequest request;
  request.set_madonvi(std::string(madonvi));
  request.set_service(kPublishServiceService);
  request.set_isupdating(is_updating ? "True" : "False");
  wire::OnlineServiceBody& body = *request.add_data();
  body.set_matthc(procedure.national_code());
  body.set_mathutucdiaphuong(procedure.code());
  if (withdraw) {
    body.set_trangthai("0");
    return request;
  }
  if (procedure.name().empty()) return Invalid("procedure name is empty");
  absl::string_view level = ServiceLevelCode(procedure.level());
  if (level.empty()) {
    return Invalid("procedure level must be fully or partly online");
  }
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
  body.set_trangthai("1");
  return request;
}

wire::CatalogueListRequest BuildCatalogueList(absl::string_view madonvi) {
  wire::CatalogueListRequest request;
  request.set_madonvi(std::string(madonvi));
  request.set_service(kCatalogueListService);
  return request;
}

wire::ProcedureRequest BuildProcedureRead(absl::string_view national_code,
                                          absl::string_view madonvi) {
  wire::ProcedureRequest request;
  request.set_madonvi(std::string(madonvi));
  request.set_service(kProcedureService);
  request.set_matthc(std::string(national_code));
  return request;
}

absl::StatusOr<std::string> ToJsonWithSession(
    google::protobuf::Message& request, absl::string_view session) {
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByName("session");
  if (field != nullptr &&
      field->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
      !field->is_repeated()) {
    request.GetReflection()->SetString(&request, field, std::string(session));
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(request, &json, options)
           .ok()) {
    return absl::InternalError("cannot write the portal's JSON body");
  }
  return json;
}

}  // namespace lienthong::adapters::dvcqg
