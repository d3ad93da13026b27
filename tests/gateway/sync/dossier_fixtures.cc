#include "tests/gateway/sync/dossier_fixtures.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace lienthong::sync::testutil {
namespace {

constexpr char kBirthProcedure[] = "1.001193.000.00.00.H31";

}  // namespace

std::string DossierCode(int n) {
  return absl::StrFormat("000.00.01.H31-250715-%05d", n);
}

lienthong::v1::DossierStatusUpdate StatusUpdate(
    int dossier, lienthong::v1::DossierStatus status, int64_t minute) {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code(DossierCode(dossier));
  u.set_procedure_code(kBirthProcedure);
  u.set_status(status);
  u.mutable_time()->set_seconds(kT0 - 86400 + minute * 60);
  u.set_handler("cb01");
  return u;
}

lienthong::v1::DossierRegistration Registration(int64_t received_seconds,
                                                absl::string_view applicant) {
  lienthong::v1::DossierRegistration r;
  r.set_procedure_name("Đăng ký khai sinh");
  r.set_field_code("G09-TP05");
  r.set_field_name("Hộ tịch");
  r.mutable_applicant()->set_name(std::string(applicant));
  r.mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
  r.mutable_applicant()->set_phone("0912345678");
  r.mutable_applicant()->set_email("mai.tran@example.vn");
  r.set_summary("Khai sinh cho con");
  r.mutable_received()->set_seconds(received_seconds);
  r.set_handling_unit("UBND xã Tân Hưng");
  return r;
}

lienthong::v1::DossierStatusUpdate Registered(
    lienthong::v1::DossierStatusUpdate update, absl::string_view applicant) {
  *update.mutable_registration() = Registration(kT0 - 86400, applicant);
  return update;
}

google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate> Batch(
    std::vector<lienthong::v1::DossierStatusUpdate> updates) {
  google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate> batch;
  for (auto& u : updates) *batch.Add() = std::move(u);
  return batch;
}

lienthong::v1::DossierStatusUpdate NewDossierWithRegistration(
    absl::string_view dossier_code) {
  lienthong::v1::DossierStatusUpdate update;
  update.set_dossier_code(std::string(dossier_code));
  update.set_procedure_code(kBirthProcedure);
  update.set_status(lienthong::v1::NEW);
  update.mutable_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 60);
  *update.mutable_registration() = Registration(update.time().seconds());
  return update;
}

}  // namespace lienthong::sync::testutil
