// The bundle's state machine, as pure functions over a StoredBundle: what a
// bundle is when it starts, which steps may start, what an agency's answer
// and an officer's decision change, and the progress update each change
// sends to the national portal. The orchestrator (orchestrator.h) makes
// each change durable and acts on it; nothing here does I/O.
//
//   bundle: RUNNING --a step refused--> WAITING_FOR_OFFICER
//           WAITING --retry with corrections--> RUNNING
//           RUNNING|WAITING --stop--> STOPPED      (steps not done: SKIPPED;
//                   with steps RUNNING, once the last of them has its
//                   answer: meanwhile no step starts or is sent again)
//           RUNNING --every step done--> COMPLETED
//   step:   PENDING --the steps it follows are done--> RUNNING
//           RUNNING --agency applied--> DONE
//           RUNNING --agency refused--> REFUSED --retry--> RUNNING (g + 1)
//
// A refused step holds the steps that follow it (directly or not); steps
// that do not depend on it go on. A step's idempotency key is
// "<bundle id>.<step>.g<generation>": a repeat after a failure or a crash
// is the same request to the agency, a retry after a correction a new one.
// So what a generation sends is fixed (kept in the step) when it starts: a
// correction for another step, while this one is still being sent, does
// not change it.
//
// Progress to the portal (DossierStatus): PROCESSING when the bundle starts
// and for every step sent, sent again or done; MORE_DOCUMENTS_NEEDED when a
// step is refused (PROCESSING when the dossier already waits for more
// documents, as the portal allows no repeat of that status, or when a stop
// was asked for, as nobody will ask for them); FINISHED when every step is
// done; STOPPED when an officer's stop takes effect. Each update's time
// is the transition's, never earlier than the one before, so a re-push
// after a crash is the same update.
//
// How a bundle ends is decided in one place (saga.cc's Conclude), after
// every agency's answer (RecordAnswer) and every stop (StopBundle):
// COMPLETED once every step is done; otherwise STOPPED once a stop was
// asked for and no step is with its agency any more.
//
// Thread-compatible: callers serialise changes to one bundle.
#ifndef LIENTHONG_GATEWAY_BUNDLE_SAGA_H_
#define LIENTHONG_GATEWAY_BUNDLE_SAGA_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gateway/bundle/bundle_data.h"
#include "gateway/bundle/bundle_record.pb.h"
#include "gateway/calendar/working_calendar.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::bundle {

using internal::StoredBundle;
using internal::StoredProgress;
using internal::StoredStep;
using internal::StoredStepRequest;

// What starts a bundle.
struct NewBundleArgs {
  std::string id;
  lienthong::v1::BundleKind kind = lienthong::v1::BUNDLE_KIND_UNSPECIFIED;
  lienthong::config::v1::BundleDefinition definition;
  BundleData data;
  std::string caller;
  std::string caller_cert_sha256;
  lienthong::v1::Officer officer;
  bool needs_verification = false;
  std::string request_sha256;
  // NguoiXuLy and the department of bundle-wide updates.
  std::string handler;
  // The bundle's deadline by the calendar at its start.
  absl::Time due;
};

// Returns the new bundle, RUNNING, every step PENDING, with its first
// progress update, at `now`.
StoredBundle NewBundle(NewBundleArgs args, absl::Time now);

// Returns the time of the next transition: `now`, or just after the last
// one when the clock is behind it.
absl::Time NextChangeTime(const StoredBundle& bundle, absl::Time now);

// Returns the indexes of the PENDING steps whose steps are all DONE, in
// definition order; none once the bundle has ended or a stop was asked for.
std::vector<int> ReadySteps(const StoredBundle& bundle);

// Marks step `i` RUNNING at `now` and adds its progress update (its due
// time by `calendar`). REQUIRES: `i` is in ReadySteps(bundle).
void StartStep(StoredBundle& bundle, int i, absl::Time now,
               const calendar::WorkingCalendar& calendar);

// Returns step `i`'s inputs by the definition's sources: data keys and
// earlier steps' outputs; sources without a value are left out (the
// adapter refuses a missing required input).
std::map<std::string, std::string> StepInputs(const StoredBundle& bundle, int i);

// Returns the citizen ID step `i` concerns (its `subject` source), or "".
std::string StepSubject(const StoredBundle& bundle, int i);

// Returns what step `i` sends under its current generation: the inputs and
// subject fixed when the generation started, or, for a record written
// before they were kept, StepInputs and StepSubject now.
std::map<std::string, std::string> SentInputs(const StoredBundle& bundle,
                                              int i);
std::string SentSubject(const StoredBundle& bundle, int i);

// Returns whether a RUNNING step has nothing kept for its generation (a
// record written before requests were kept); KeepUnkeptRequests fixes, for
// each, what it sends from then on, as built from the data now.
bool HasUnkeptRequests(const StoredBundle& bundle);
void KeepUnkeptRequests(StoredBundle& bundle);

// Returns step `i`'s idempotency key.
std::string IdempotencyKey(const StoredBundle& bundle, int i);

// Returns the index of the step named `name`, or -1.
int FindStep(const StoredBundle& bundle, absl::string_view name);

// An agency's answer to step `i` sent under `generation`.
struct StepAnswer {
  bool refused = false;
  std::map<std::string, std::string> outputs;
  std::string reason;
};

// Records `answer` at `now`: DONE with the outputs, or REFUSED with the
// reason; then COMPLETED when every step is done, or STOPPED when a stop
// was asked for and this was the last step with its agency. Returns false,
// changing nothing, when the step is not RUNNING under `generation` (a late
// answer to an earlier generation, or the bundle ended).
bool RecordAnswer(StoredBundle& bundle, int i, int generation,
                  const StepAnswer& answer, absl::Time now);

// An officer sends refused step `step` again at `now` with `corrections`
// applied to the data (empty values clear a key): RUNNING under the next
// generation. FAILED_PRECONDITION when the bundle has ended, a stop of it
// was asked for, or the step is not REFUSED; INVALID_ARGUMENT for an
// unknown step. Corrections must have been checked (CheckCorrection).
absl::Status RetryStep(StoredBundle& bundle, absl::string_view step,
                       const std::map<std::string, std::string>& corrections,
                       absl::Time now,
                       const calendar::WorkingCalendar& calendar);

// An officer stops the bundle at `now` for `reason`: the request and the
// reason are kept (stop_requested, stop_reason). With no step RUNNING it
// takes effect at once: STOPPED, every step not DONE SKIPPED, the progress
// update. A RUNNING step is with its agency, which may be applying it, so
// it cannot be said not to have run: the stop then waits for the answers
// of the RUNNING steps (no other step starts meanwhile) and RecordAnswer
// applies it with the last one. A stop asked for again before it took
// effect changes nothing (the first reason stays) and is OK.
// FAILED_PRECONDITION when the bundle has ended. REQUIRES: `reason` is not
// empty (CheckStopReason).
absl::Status StopBundle(StoredBundle& bundle, const std::string& reason,
                        absl::Time now);

// Returns true once the bundle is COMPLETED or STOPPED.
bool HasEnded(const StoredBundle& bundle);

// Returns true once an officer asked to stop the bundle (it may still wait
// for steps with their agencies, or have stopped). Records written before
// stops were kept as requests lack it.
bool StopRequested(const StoredBundle& bundle);

// The bundle's deadline (from `created`) and step `i`'s (from ready_at;
// nullopt without a limit or before it is ready), by `calendar`.
absl::Time BundleDeadline(const StoredBundle& bundle,
                          const calendar::WorkingCalendar& calendar);
std::optional<absl::Time> StepDeadline(const StoredBundle& bundle, int i,
                                       const calendar::WorkingCalendar& calendar);
// The bundle's limit in working days (3 or 5 by default).
int BundleWorkingDays(const StoredBundle& bundle);

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_SAGA_H_
