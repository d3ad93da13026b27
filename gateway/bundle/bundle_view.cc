#include "gateway/bundle/bundle_view.h"

#include "gateway/bundle/proto_time.h"
#include "gateway/bundle/saga.h"

namespace lienthong::bundle {

lienthong::v1::Bundle ViewOf(const internal::StoredBundle& bundle,
                             const std::vector<StepLiveInfo>& live,
                             const calendar::WorkingCalendar& calendar,
                             absl::Time now) {
  lienthong::v1::Bundle view;
  view.set_bundle_id(bundle.id());
  view.set_kind(bundle.kind());
  view.set_dossier_code(bundle.dossier_code());
  view.set_procedure_code(bundle.definition().procedure_code());
  view.set_title(bundle.definition().title());
  view.set_state(bundle.state());
  *view.mutable_created() = bundle.created();
  if (IsSet(bundle.finished())) *view.mutable_finished() = bundle.finished();
  view.set_needs_verification(bundle.needs_verification());
  view.set_deadline_working_days(BundleWorkingDays(bundle));
  const absl::Time deadline = BundleDeadline(bundle, calendar);
  *view.mutable_deadline() = ToProtoTime(deadline);
  const bool ended = HasEnded(bundle);
  view.set_overdue(!ended && now >= deadline);
  view.set_stop_reason(bundle.stop_reason());
  // Bundles stopped before stops were kept as requests have no request
  // time: a stop took effect at once then.
  view.set_stop_requested(StopRequested(bundle) ||
                          bundle.state() == lienthong::v1::BUNDLE_STOPPED);
  for (int i = 0; i < bundle.steps_size(); ++i) {
    const internal::StoredStep& stored = bundle.steps(i);
    const auto& def = bundle.definition().steps(i);
    lienthong::v1::BundleStep& step = *view.add_steps();
    step.set_name(stored.name());
    step.set_title(def.title());
    step.set_agency(def.agency());
    step.set_adapter(def.adapter());
    step.set_state(stored.state());
    for (const std::string& after : def.after()) step.add_after(after);
    for (const auto& [name, value] : stored.outputs()) {
      (*step.mutable_outputs())[name] = value;
    }
    step.set_refusal_reason(stored.refusal_reason());
    step.set_resolutions(stored.generation());
    if (static_cast<size_t>(i) < live.size()) {
      step.set_attempts(live[i].attempts);
      if (stored.state() == lienthong::v1::STEP_RUNNING) {
        step.set_last_error(live[i].last_error);
      }
    }
    if (IsSet(stored.ready_at())) *step.mutable_ready_at() = stored.ready_at();
    if (IsSet(stored.started_at())) {
      *step.mutable_started_at() = stored.started_at();
    }
    if (IsSet(stored.finished_at())) {
      *step.mutable_finished_at() = stored.finished_at();
    }
    step.set_deadline_working_days(def.deadline_working_days());
    if (std::optional<absl::Time> due = StepDeadline(bundle, i, calendar)) {
      *step.mutable_deadline() = ToProtoTime(*due);
      const bool open = stored.state() == lienthong::v1::STEP_RUNNING ||
                        stored.state() == lienthong::v1::STEP_REFUSED;
      step.set_overdue(!ended && open && now >= *due);
    }
  }
  for (int i = 0; i < bundle.progress_size(); ++i) {
    const internal::StoredProgress& stored = bundle.progress(i);
    lienthong::v1::BundleProgress& p = *view.add_progress();
    p.set_status(stored.status());
    *p.mutable_time() = stored.time();
    p.set_agency(stored.agency());
    p.set_note(stored.note());
    p.set_queued(i < bundle.progress_queued() && stored.refused().empty());
  }
  return view;
}

}  // namespace lienthong::bundle
