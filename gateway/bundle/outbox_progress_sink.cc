#include "gateway/bundle/outbox_progress_sink.h"

#include "absl/strings/str_cat.h"
#include "gateway/bundle/proto_time.h"

namespace lienthong::bundle {

absl::Status OutboxProgressSink::Push(absl::Span<const ProgressUpdate> updates) {
  google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate> batch;
  for (const ProgressUpdate& u : updates) {
    lienthong::v1::DossierStatusUpdate& update = *batch.Add();
    update.set_dossier_code(u.dossier_code);
    update.set_procedure_code(u.procedure_code);
    update.set_status(u.status);
    *update.mutable_time() = ToProtoTime(u.time);
    update.set_handler(u.handler);
    // The portal's update of today has one free text (GhiChu): the
    // department and what it did.
    update.set_note(u.agency.empty() ? u.note
                                     : absl::StrCat(u.agency, ": ", u.note));
    // u.registration: the portal protocol of this outbox has no dossier
    // registration; the one that has takes it from here.
  }
  return outbox_->PushDossierUpdates(batch).status();
}

}  // namespace lienthong::bundle
