#include "gateway/bundle/outbox_progress_sink.h"

#include "gateway/bundle/proto_time.h"

namespace lienthong::bundle {
namespace {

// DongBoHoSoMC from what the bundle knows: the applicant is a citizen,
// known by the personal ID the bundle was started with.
void FillRegistration(const DossierFacts& facts,
                      lienthong::v1::DossierRegistration& r) {
  r.set_procedure_name(facts.procedure_name);
  r.set_field_code(facts.field_code);
  r.set_field_name(facts.field_name);
  r.mutable_applicant()->set_name(facts.applicant_name);
  r.mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
  r.mutable_applicant()->set_id(facts.applicant_id);
  r.set_summary(facts.summary);
  *r.mutable_received() = ToProtoTime(facts.received);
  if (facts.due > facts.received) *r.mutable_due() = ToProtoTime(facts.due);
  r.set_handling_unit(facts.handling_unit);
}

}  // namespace

absl::Status OutboxProgressSink::Push(absl::Span<const ProgressUpdate> updates) {
  google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate> batch;
  for (const ProgressUpdate& u : updates) {
    lienthong::v1::DossierStatusUpdate& update = *batch.Add();
    update.set_dossier_code(u.dossier_code);
    update.set_procedure_code(u.procedure_code);
    update.set_status(u.status);
    *update.mutable_time() = ToProtoTime(u.time);
    update.set_handler(u.handler);
    update.set_department(u.agency);  // PhongBanXuLy: the agency
    update.set_note(u.note);          // NoiDungXuLy
    if (u.step_start.has_value()) *update.mutable_step_start() = ToProtoTime(*u.step_start);
    if (u.step_due.has_value()) *update.mutable_step_due() = ToProtoTime(*u.step_due);
    if (u.registration.has_value()) {
      FillRegistration(*u.registration, *update.mutable_registration());
    }
  }
  return outbox_->PushDossierUpdates(batch).status();
}

}  // namespace lienthong::bundle
