#include "gateway/bundle/saga.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/bundle/bundle_data.h"
#include "gateway/bundle/proto_time.h"
#include "gateway/status/bounded_text.h"
#include "gateway/validation/citizen_id.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::bundle {
namespace {

using lienthong::config::v1::BundleStepDefinition;
using lienthong::v1::DossierStatus;

// Longest refusal reason carried in a portal note, bytes.
constexpr size_t kMaxNoteReasonBytes = 300;

// A reason (an agency's refusal, an officer's stop) as a portal note carries
// it: citizen IDs in it masked (the bundle keeps it whole for officers), cut
// to kMaxNoteReasonBytes.
std::string NoteReason(absl::string_view reason) {
  return CutWithEllipsis(validation::MaskCitizenIdsInText(reason),
                         kMaxNoteReasonBytes);
}

const BundleStepDefinition& Def(const StoredBundle& bundle, int i) {
  return bundle.definition().steps(i);
}

std::string StepTitle(const StoredBundle& bundle, int i) {
  const BundleStepDefinition& def = Def(bundle, i);
  return def.title().empty() ? def.name() : def.title();
}

DossierStatus LastStatus(const StoredBundle& bundle) {
  if (bundle.progress().empty()) return lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
  return static_cast<DossierStatus>(
      bundle.progress(bundle.progress_size() - 1).status());
}

// Appends a progress update at the transition time `at`.
StoredProgress& AddProgress(StoredBundle& bundle, DossierStatus status,
                            absl::Time at, std::string agency,
                            std::string note, std::string step = "") {
  StoredProgress& p = *bundle.add_progress();
  p.set_status(status);
  *p.mutable_time() = ToProtoTime(at);
  p.set_agency(std::move(agency));
  p.set_note(std::move(note));
  p.set_step(std::move(step));
  *bundle.mutable_last_change() = ToProtoTime(at);
  return p;
}

// The department bundle-wide updates name: the handler kept at start.
const std::string& BundleAgency(const StoredBundle& bundle) {
  return bundle.handler();
}

// RUNNING or WAITING_FOR_OFFICER by whether a step waits for an officer;
// whether the bundle ends is Conclude's. With a stop asked for, a refused
// step waits for no one (it is not sent again): the bundle runs until its
// steps with their agencies have answered.
void UpdateState(StoredBundle& bundle) {
  if (HasEnded(bundle)) return;
  bool refused = false;
  for (const StoredStep& step : bundle.steps()) {
    refused = refused || step.state() == lienthong::v1::STEP_REFUSED;
  }
  bundle.set_state(refused && !StopRequested(bundle)
                       ? lienthong::v1::BUNDLE_WAITING_FOR_OFFICER
                       : lienthong::v1::BUNDLE_RUNNING);
}

// Whether some step is with its agency: sent, or waiting to be sent again
// after a failure that may have been a timeout.
bool AnyRunning(const StoredBundle& bundle) {
  return std::any_of(bundle.steps().begin(), bundle.steps().end(),
                     [](const StoredStep& step) {
                       return step.state() == lienthong::v1::STEP_RUNNING;
                     });
}

bool AllDone(const StoredBundle& bundle) {
  return std::all_of(bundle.steps().begin(), bundle.steps().end(),
                     [](const StoredStep& step) {
                       return step.state() == lienthong::v1::STEP_DONE;
                     });
}

// Stops the bundle for the reason kept, just after `now`: every step not
// DONE SKIPPED, STOPPED, finished, and the portal told why. REQUIRES: it
// has not ended and no step is RUNNING (Conclude checks both).
void ApplyStop(StoredBundle& bundle, absl::Time now) {
  const absl::Time at = NextChangeTime(bundle, now);
  for (StoredStep& step : *bundle.mutable_steps()) {
    if (step.state() != lienthong::v1::STEP_DONE) {
      step.set_state(lienthong::v1::STEP_SKIPPED);
    }
  }
  bundle.set_state(lienthong::v1::BUNDLE_STOPPED);
  *bundle.mutable_finished() = ToProtoTime(at);
  AddProgress(
      bundle, lienthong::v1::STOPPED, at, BundleAgency(bundle),
      absl::StrCat("Dừng liên thông: ", NoteReason(bundle.stop_reason())));
}

// The one rule by which a bundle ends, after an agency's answer or an
// officer's stop at `now`: COMPLETED once every step is done (a stop asked
// for while the last steps were with their agencies included: each agency
// applied its step, so nothing is left to stop); otherwise STOPPED once a
// stop was asked for and no step is with its agency any more. A RUNNING
// step holds the stop because its agency may apply it whatever the
// gateway decides: marking it SKIPPED ("not run") could be false, and its
// answer, outputs included, would be dropped.
void Conclude(StoredBundle& bundle, absl::Time now) {
  if (HasEnded(bundle)) return;
  if (AllDone(bundle)) {
    bundle.set_state(lienthong::v1::BUNDLE_COMPLETED);
    const absl::Time end = NextChangeTime(bundle, now);
    *bundle.mutable_finished() = ToProtoTime(end);
    AddProgress(
        bundle, lienthong::v1::FINISHED, end, BundleAgency(bundle),
        absl::StrCat("Hoàn thành liên thông: ", bundle.definition().title()));
    return;
  }
  if (StopRequested(bundle) && !AnyRunning(bundle)) ApplyStop(bundle, now);
}

// Fixes what step `i` sends under its current generation: its inputs and
// subject as the data and the earlier steps' outputs give them now.
void KeepRequest(StoredBundle& bundle, int i) {
  StoredStepRequest request;
  request.set_generation(bundle.steps(i).generation());
  for (auto& [input, value] : StepInputs(bundle, i)) {
    (*request.mutable_inputs())[input] = std::move(value);
  }
  request.set_subject(StepSubject(bundle, i));
  *bundle.mutable_steps(i)->mutable_request() = std::move(request);
}

// Step `i`'s request kept for its current generation, or null (a record
// written before requests were kept).
const StoredStepRequest* KeptRequest(const StoredBundle& bundle, int i) {
  const StoredStep& step = bundle.steps(i);
  if (!step.has_request() || step.request().generation() != step.generation()) {
    return nullptr;
  }
  return &step.request();
}

// Step `i` is RUNNING in a record written before requests were kept.
bool IsUnkept(const StoredBundle& bundle, int i) {
  return bundle.steps(i).state() == lienthong::v1::STEP_RUNNING &&
         KeptRequest(bundle, i) == nullptr;
}

// Marks step `i` RUNNING at `at` with the note `note`.
void Run(StoredBundle& bundle, int i, absl::Time at,
         const calendar::WorkingCalendar& calendar, std::string note) {
  // Every send of this generation, after a crash too, carries this copy:
  // durable with the transition, before the first send.
  KeepRequest(bundle, i);
  StoredStep& step = *bundle.mutable_steps(i);
  step.set_state(lienthong::v1::STEP_RUNNING);
  if (!IsSet(step.ready_at())) *step.mutable_ready_at() = ToProtoTime(at);
  if (!IsSet(step.started_at())) *step.mutable_started_at() = ToProtoTime(at);
  step.clear_refusal_reason();
  StoredProgress& p = AddProgress(bundle, lienthong::v1::PROCESSING, at,
                                  Def(bundle, i).agency(), std::move(note),
                                  step.name());
  *p.mutable_step_start() = step.ready_at();
  if (std::optional<absl::Time> due = StepDeadline(bundle, i, calendar)) {
    *p.mutable_step_due() = ToProtoTime(*due);
  }
  UpdateState(bundle);
}

}  // namespace

StoredBundle NewBundle(NewBundleArgs args, absl::Time now) {
  StoredBundle bundle;
  bundle.set_id(std::move(args.id));
  bundle.set_kind(args.kind);
  bundle.set_dossier_code(args.data["dossier.code"]);
  for (auto& [key, value] : args.data) (*bundle.mutable_data())[key] = value;
  bundle.set_handler(args.handler);
  bundle.set_caller(std::move(args.caller));
  bundle.set_caller_cert_sha256(std::move(args.caller_cert_sha256));
  *bundle.mutable_officer() = std::move(args.officer);
  bundle.set_needs_verification(args.needs_verification);
  bundle.set_request_sha256(std::move(args.request_sha256));
  bundle.set_state(lienthong::v1::BUNDLE_RUNNING);
  *bundle.mutable_created() = ToProtoTime(now);
  *bundle.mutable_due_at_start() = ToProtoTime(args.due);
  for (const BundleStepDefinition& def : args.definition.steps()) {
    StoredStep& step = *bundle.add_steps();
    step.set_name(def.name());
    step.set_state(lienthong::v1::STEP_PENDING);
  }
  const std::string title = args.definition.title();
  *bundle.mutable_definition() = std::move(args.definition);
  AddProgress(bundle, lienthong::v1::PROCESSING, now, args.handler,
              absl::StrCat("Tiếp nhận hồ sơ liên thông: ", title));
  return bundle;
}

absl::Time NextChangeTime(const StoredBundle& bundle, absl::Time now) {
  // The store keeps microseconds: compare what it will keep.
  now = absl::FromUnixMicros(absl::ToUnixMicros(now));
  if (!IsSet(bundle.last_change())) return now;
  const absl::Time last = FromProtoTime(bundle.last_change());
  return now > last ? now : last + absl::Microseconds(1);
}

bool HasEnded(const StoredBundle& bundle) {
  return bundle.state() == lienthong::v1::BUNDLE_COMPLETED ||
         bundle.state() == lienthong::v1::BUNDLE_STOPPED;
}

bool StopRequested(const StoredBundle& bundle) {
  return IsSet(bundle.stop_requested());
}

int FindStep(const StoredBundle& bundle, absl::string_view name) {
  for (int i = 0; i < bundle.steps_size(); ++i) {
    if (bundle.steps(i).name() == name) return i;
  }
  return -1;
}

std::vector<int> ReadySteps(const StoredBundle& bundle) {
  std::vector<int> ready;
  // A stop asked for waits only for the steps already with their agencies.
  if (HasEnded(bundle) || StopRequested(bundle)) return ready;
  for (int i = 0; i < bundle.steps_size(); ++i) {
    if (bundle.steps(i).state() != lienthong::v1::STEP_PENDING) continue;
    bool deps_done = true;
    for (const std::string& after : Def(bundle, i).after()) {
      const int j = FindStep(bundle, after);
      deps_done = deps_done && j >= 0 &&
                  bundle.steps(j).state() == lienthong::v1::STEP_DONE;
    }
    if (deps_done) ready.push_back(i);
  }
  return ready;
}

void StartStep(StoredBundle& bundle, int i, absl::Time now,
               const calendar::WorkingCalendar& calendar) {
  const absl::Time at = NextChangeTime(bundle, now);
  Run(bundle, i, at, calendar,
      absl::StrCat(StepTitle(bundle, i), ": đã gửi ", Def(bundle, i).agency()));
}

namespace {

// The value of a source ("data.<key>", "steps.<step>.<output>"), if any.
std::optional<std::string> SourceValue(const StoredBundle& bundle,
                                       const std::string& source) {
  if (absl::StartsWith(source, "data.")) {
    auto it = bundle.data().find(source.substr(5));
    if (it == bundle.data().end() || it->second.empty()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> parts = absl::StrSplit(source, '.');
  if (parts.size() != 3 || parts[0] != "steps") return std::nullopt;
  const int j = FindStep(bundle, parts[1]);
  if (j < 0) return std::nullopt;
  auto it = bundle.steps(j).outputs().find(parts[2]);
  if (it == bundle.steps(j).outputs().end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::map<std::string, std::string> StepInputs(const StoredBundle& bundle,
                                              int i) {
  std::map<std::string, std::string> inputs;
  for (const auto& [input, source] : Def(bundle, i).inputs()) {
    if (std::optional<std::string> value = SourceValue(bundle, source)) {
      inputs[input] = *std::move(value);
    }
  }
  return inputs;
}

std::string StepSubject(const StoredBundle& bundle, int i) {
  const std::string& source = Def(bundle, i).subject();
  if (source.empty()) return "";
  return SourceValue(bundle, source).value_or("");
}

std::map<std::string, std::string> SentInputs(const StoredBundle& bundle,
                                              int i) {
  const StoredStepRequest* kept = KeptRequest(bundle, i);
  if (kept == nullptr) return StepInputs(bundle, i);
  std::map<std::string, std::string> inputs;
  for (const auto& [input, value] : kept->inputs()) inputs[input] = value;
  return inputs;
}

std::string SentSubject(const StoredBundle& bundle, int i) {
  const StoredStepRequest* kept = KeptRequest(bundle, i);
  return kept == nullptr ? StepSubject(bundle, i) : kept->subject();
}

bool HasUnkeptRequests(const StoredBundle& bundle) {
  for (int i = 0; i < bundle.steps_size(); ++i) {
    if (IsUnkept(bundle, i)) return true;
  }
  return false;
}

void KeepUnkeptRequests(StoredBundle& bundle) {
  for (int i = 0; i < bundle.steps_size(); ++i) {
    if (IsUnkept(bundle, i)) KeepRequest(bundle, i);
  }
}

std::string IdempotencyKey(const StoredBundle& bundle, int i) {
  return absl::StrCat(bundle.id(), ".", bundle.steps(i).name(), ".g",
                      bundle.steps(i).generation());
}

bool RecordAnswer(StoredBundle& bundle, int i, int generation,
                  const StepAnswer& answer, absl::Time now) {
  if (i < 0 || i >= bundle.steps_size() || HasEnded(bundle)) return false;
  StoredStep& step = *bundle.mutable_steps(i);
  if (step.state() != lienthong::v1::STEP_RUNNING ||
      step.generation() != generation) {
    return false;
  }
  const absl::Time at = NextChangeTime(bundle, now);
  *step.mutable_finished_at() = ToProtoTime(at);
  // Not sent again under this generation: the copy of the data goes.
  step.clear_request();
  const std::string title = StepTitle(bundle, i);
  const std::string& agency = Def(bundle, i).agency();
  if (answer.refused) {
    step.set_state(lienthong::v1::STEP_REFUSED);
    step.set_refusal_reason(answer.reason);
    // With a stop asked for, no officer will ask the citizen for documents:
    // the dossier goes on to STOPPED (Conclude).
    const DossierStatus status =
        (LastStatus(bundle) == lienthong::v1::MORE_DOCUMENTS_NEEDED ||
         StopRequested(bundle))
            ? lienthong::v1::PROCESSING
            : lienthong::v1::MORE_DOCUMENTS_NEEDED;
    AddProgress(
        bundle, status, at, agency,
        absl::StrCat(title, ": bị từ chối: ", NoteReason(answer.reason)),
        step.name());
  } else {
    step.set_state(lienthong::v1::STEP_DONE);
    step.mutable_outputs()->clear();
    for (const auto& [name, value] : answer.outputs) {
      (*step.mutable_outputs())[name] = value;
    }
    AddProgress(bundle, lienthong::v1::PROCESSING, at, agency,
                absl::StrCat(title, ": hoàn thành"), step.name());
  }
  UpdateState(bundle);
  Conclude(bundle, at);
  return true;
}

absl::Status RetryStep(StoredBundle& bundle, absl::string_view name,
                       const std::map<std::string, std::string>& corrections,
                       absl::Time now,
                       const calendar::WorkingCalendar& calendar) {
  const int i = FindStep(bundle, name);
  if (i < 0) {
    return absl::InvalidArgumentError("step: no such step in this bundle");
  }
  if (HasEnded(bundle)) {
    return absl::FailedPreconditionError("the bundle has ended");
  }
  if (StopRequested(bundle)) {
    return absl::FailedPreconditionError(
        "a stop of the bundle was requested: no step is sent again; it stops "
        "once the steps with their agencies have answered");
  }
  if (bundle.steps(i).state() != lienthong::v1::STEP_REFUSED) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", name, " is not waiting for an officer"));
  }
  // Keys that go together stay together once corrected.
  const auto has = [&](const std::string& key) {
    auto corrected = corrections.find(key);
    return corrected != corrections.end() ? !corrected->second.empty()
                                          : bundle.data().contains(key);
  };
  if (absl::Status paired = CheckPairedKeys(bundle.kind(), has); !paired.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrections: ", paired.message()));
  }
  for (const auto& [key, value] : corrections) {
    if (value.empty()) {
      bundle.mutable_data()->erase(key);
    } else {
      (*bundle.mutable_data())[key] = value;
    }
  }
  StoredStep& step = *bundle.mutable_steps(i);
  step.set_generation(step.generation() + 1);
  step.clear_finished_at();
  const absl::Time at = NextChangeTime(bundle, now);
  Run(bundle, i, at, calendar,
      absl::StrCat(StepTitle(bundle, i), ": gửi lại ",
                   Def(bundle, i).agency(),
                   corrections.empty() ? "" : " sau khi sửa thông tin"));
  return absl::OkStatus();
}

absl::Status StopBundle(StoredBundle& bundle, const std::string& reason,
                        absl::Time now) {
  if (HasEnded(bundle)) {
    return absl::FailedPreconditionError("the bundle has ended");
  }
  // Asked again before it took effect: the first request stands.
  if (StopRequested(bundle)) return absl::OkStatus();
  *bundle.mutable_stop_requested() = ToProtoTime(NextChangeTime(bundle, now));
  bundle.set_stop_reason(reason);
  // At once, or, with steps with their agencies, once they have answered;
  // a refused step no longer waits for an officer meanwhile.
  UpdateState(bundle);
  Conclude(bundle, now);
  return absl::OkStatus();
}

int BundleWorkingDays(const StoredBundle& bundle) {
  const auto& def = bundle.definition();
  const int normal =
      def.deadline_working_days() > 0 ? def.deadline_working_days() : 3;
  if (!bundle.needs_verification()) return normal;
  return def.verification_deadline_working_days() > 0
             ? def.verification_deadline_working_days()
             : std::max(normal, 5);
}

absl::Time BundleDeadline(const StoredBundle& bundle,
                          const calendar::WorkingCalendar& calendar) {
  return calendar.Deadline(FromProtoTime(bundle.created()),
                           BundleWorkingDays(bundle));
}

std::optional<absl::Time> StepDeadline(const StoredBundle& bundle, int i,
                                       const calendar::WorkingCalendar& calendar) {
  const int days = Def(bundle, i).deadline_working_days();
  const StoredStep& step = bundle.steps(i);
  if (days <= 0 || !IsSet(step.ready_at())) return std::nullopt;
  return calendar.Deadline(FromProtoTime(step.ready_at()), days);
}

}  // namespace lienthong::bundle
