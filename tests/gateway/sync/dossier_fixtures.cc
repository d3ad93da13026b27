#include "tests/gateway/sync/dossier_fixtures.h"

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace lienthong::sync::testutil {

lienthong::v1::DossierStatusUpdate NewDossierWithRegistration(
    absl::string_view dossier_code) {
  lienthong::v1::DossierStatusUpdate update;
  update.set_dossier_code(std::string(dossier_code));
  update.set_procedure_code("1.001193.000.00.00.H31");
  update.set_status(lienthong::v1::NEW);
  update.mutable_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 60);
  // A dossier's first update carries its registration (synthetic).
  lienthong::v1::DossierRegistration* r = update.mutable_registration();
  r->set_procedure_name("Đăng ký khai sinh");
  r->set_field_code("G09-TP05");
  r->set_field_name("Hộ tịch");
  r->mutable_applicant()->set_name("Trần Thị Mai");
  r->mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
  r->set_summary("Khai sinh");
  *r->mutable_received() = update.time();
  r->set_handling_unit("UBND xã Tân Hưng");
  return update;
}

}  // namespace lienthong::sync::testutil
