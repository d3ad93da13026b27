// Orchestrator: runs every bundle as a durable saga (saga.h) over the
// bundle store, calling agencies through a StepInvoker by the adapter
// names of the bundle's definition: the core knows no agency.
//
// One engine thread takes events in batches (API commands, agency answers,
// timers) and, for each batch: applies them to copies of the bundles they
// touch, starts the steps that became ready, writes the changed bundles in
// one store transaction, and only then installs them, answers the API
// calls, sends the steps that are due and hands their progress to the
// portal. So every transition is durable before it is acknowledged or acted
// on, and after a crash each bundle resumes where the store has it: a step
// that was RUNNING is sent again under the same idempotency key, with the
// inputs kept when its generation started (the agency answers the repeat
// as it answered the first), progress not yet handed over is handed over
// again (a repeat is recognised by the outbox).
//
// Agency calls: every step call goes through the StepInvoker (breaker,
// in-flight cap, a few quick retries), then is audited like any call
// (caller, dossier, the step's subject as a keyed hash, adapter, attempts,
// outcome, digests of request and answer). Its answer is acted on only
// once that record is durable; a call that cannot be audited is not made.
// A transient failure (agency down, slow, overloaded, breaker open) waits
// min..max with jitter, doubling, then the step is sent again, for as long
// as it takes; the bundle shows the last error and turns overdue when past
// its deadline. A refusal, or a request the adapter cannot form
// (INVALID_ARGUMENT), stops the steps that follow and waits for an officer.
// An officer's stop waits for the steps with their agencies, which go on
// being sent until they answer; the answer that leaves none ends the
// bundle (saga.h).
//
// Deadlines are computed when read, with the current calendar, so a changed
// holiday file moves them.
//
// Thread-safety: every public method is thread-safe. Callbacks (`done`,
// watchers) run on the engine thread and must be quick and not call back
// into the orchestrator synchronously.
#ifndef LIENTHONG_GATEWAY_BUNDLE_ORCHESTRATOR_H_
#define LIENTHONG_GATEWAY_BUNDLE_ORCHESTRATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/bundle/bundle_store.h"
#include "gateway/bundle/bundle_view.h"
#include "gateway/bundle/inbox.h"
#include "gateway/bundle/progress_sink.h"
#include "gateway/bundle/saga.h"
#include "gateway/bundle/step_invoker.h"
#include "gateway/calendar/holiday_file.h"
#include "gateway/resilience/clock.h"
#include "gateway/resilience/timer.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::audit {
class AuditLog;
}  // namespace lienthong::audit

namespace lienthong::bundle {

class BundleMetrics;

// The audit record method of a step call: this prefix and the operation,
// e.g. "lienthong.bundle.Step/register_birth".
inline constexpr char kStepAuditMethod[] = "lienthong.bundle.Step/";

struct OrchestratorOptions {
  resilience::Clock* clock = resilience::RealClock();
  // Wait after a step's transient failure: doubling from min to max, with
  // jitter (half to all of it), at least what the agency asked for.
  absl::Duration retry_min = absl::Seconds(1);
  absl::Duration retry_max = absl::Seconds(300);
  // Time limit of one call to an agency (its quick retries included).
  absl::Duration call_timeout = absl::Seconds(30);
  // NguoiXuLy of the bundles' updates.
  std::string handler = "Hệ thống liên thông";
  // How often the holiday file is looked at.
  absl::Duration calendar_refresh = absl::Seconds(60);
  // Bundles with no work left are deleted from the store this long after
  // their last change, looked for every prune_every.
  absl::Duration keep_ended = absl::Hours(24 * 90);
  absl::Duration prune_every = absl::Hours(1);
  // How long Stop waits for calls under way.
  absl::Duration stop_grace = absl::Seconds(5);
  // Makes bundle ids; default "b-" and 16 random hex digits.
  std::function<std::string()> new_id;
};

// Counts for metrics, read when scraped.
struct OrchestratorCounts {
  // Open bundles by kind and state.
  std::map<std::pair<lienthong::v1::BundleKind, lienthong::v1::BundleState>,
           int64_t>
      open;
  // Open bundles past their deadline, by kind.
  std::map<lienthong::v1::BundleKind, int64_t> overdue;
  // Steps not done past their own deadline, by step name.
  std::map<std::string, int64_t> steps_overdue;
  // Progress updates not yet handed to the portal synchronisation.
  int64_t progress_pending = 0;
};

class Orchestrator {
 public:
  // `sink` may be null (portal synchronisation off: progress is recorded
  // and counted as handed over). REQUIRES: every pointer given outlives the
  // orchestrator; `definitions` passed CheckDefinitions.
  Orchestrator(
      BundleStore* store, StepInvoker* invoker, ProgressSink* sink,
      calendar::CalendarSource* calendar,
      std::map<lienthong::v1::BundleKind, lienthong::config::v1::BundleDefinition>
          definitions,
      OrchestratorOptions options = {});
  // Stop()s.
  ~Orchestrator();

  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  // Where step calls are audited (null: nowhere) and counted (null: not).
  // REQUIRES: before Start; they outlive Stop.
  void SetAuditLog(audit::AuditLog* log) { audit_ = log; }
  void SetMetrics(BundleMetrics* metrics) { metrics_ = metrics; }

  // Loads every bundle with work left and starts the engine, which resumes
  // them. UNAVAILABLE or DATA_LOSS from the store. REQUIRES: called once.
  absl::Status Start();

  // Stops the engine: waiting commands are answered UNAVAILABLE; calls
  // under way get up to stop_grace, then their answers are ignored (the
  // agency remembers them; the next start sends them again under the same
  // key). Idempotent.
  void Stop();

  // Starts a bundle; `done` gets its view once it is durable, the view of
  // the bundle already started for a repeat (same request_sha256), or
  // ALREADY_EXISTS (the dossier has another bundle), INVALID_ARGUMENT (no
  // definition of the kind), UNAVAILABLE (store, or stopped).
  void StartBundle(StartCommand command, BundleDone done);

  // Applies an officer's decision; `done` gets the view once it is durable,
  // or NOT_FOUND, INVALID_ARGUMENT (unknown step), FAILED_PRECONDITION
  // (step not refused, bundle ended, a retry after a stop was asked for),
  // UNAVAILABLE. A stop while steps are with their agencies is answered
  // with stop_requested and takes effect once they have answered: their
  // calls go on as before (StopBundle).
  void Resolve(ResolveCommand command, BundleDone done);

  // The bundle by id (or, with an empty id, by dossier). NOT_FOUND,
  // UNAVAILABLE.
  absl::StatusOr<lienthong::v1::Bundle> Get(absl::string_view bundle_id,
                                            absl::string_view dossier_code);

  // ListBundles (bundle.proto). INVALID_ARGUMENT for a bad page token or
  // size; UNAVAILABLE.
  absl::StatusOr<lienthong::v1::ListBundlesResponse> List(
      const lienthong::v1::ListBundlesRequest& request);

  // Calls `watcher` with the bundle's view after every durable change, from
  // the engine thread, until Unwatch; one call already under way when
  // Unwatch returns may still follow, so what the watcher uses must outlive
  // it (share it). Returns the view now and a handle, or NOT_FOUND. A bundle
  // that has ended and has nothing left to hand over is returned without
  // registering (handle 0): it changes no more.
  using Watcher = std::function<void(const lienthong::v1::Bundle&)>;
  absl::StatusOr<std::pair<lienthong::v1::Bundle, int64_t>> Watch(
      const std::string& bundle_id, Watcher watcher);
  void Unwatch(const std::string& bundle_id, int64_t handle);

  // Whether `invoker` offers every operation the open bundles' steps still
  // to run (pending or running) call, as each bundle's own copy of its
  // definition names them: a step whose adapter is gone would be recorded
  // as not sent, though a run before a restart may have sent it, and sent
  // again under a new key once an officer retries it. FAILED_PRECONDITION
  // naming the first such step (its bundle by dossier code). Start checks
  // it with the running adapters; a reload, with the new ones.
  absl::Status CheckOpenSteps(const StepInvoker& invoker) const;

  // For metrics. Thread-safe.
  OrchestratorCounts Counts() const;

  // Re-reads the holiday file (SIGHUP). Returns whether it changed, or its
  // error (the calendar in use stays).
  absl::StatusOr<bool> RefreshCalendar();

 private:
  struct StepRun {
    bool in_flight = false;
    int in_flight_generation = -1;
    bool waiting = false;  // a retry timer is set
    int failures = 0;
    int attempts = 0;
    std::string last_error;
  };
  struct Live {
    int64_t seq = 0;
    StoredBundle stored;
    std::vector<StepRun> runs;
    // progress[0 .. pushed) handed over in this process (durable marker in
    // stored.progress_queued follows).
    int pushed = 0;
    // A timer will hand the rest over again (the sink failed): one per
    // bundle, however often the bundle changes meanwhile.
    bool push_due = false;
  };
  // A batch's work: copies of the bundles it changes, what to do after
  // the commit.
  struct Batch;

  void EngineLoop();
  void RunBatch(std::vector<Event> events);
  void Apply(Event& event, Batch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyStart(Event& event, Batch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What a new bundle for `command` is made of, started at `now`.
  NewBundleArgs StartArgs(
      const StartCommand& command,
      const lienthong::config::v1::BundleDefinition& definition, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyResolve(Event& event, Batch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyAnswer(Event& event, Batch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  StoredBundle* Working(const std::string& id, Batch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // RunBatch's steps after the store's write: on failure, answers the
  // commands with the error and, a second later, asks again for what the
  // batch was to do (apply the agency answers it recorded, send due steps,
  // hand over progress, write its markers).
  void RetryLater(Batch& batch, const absl::Status& write_error);
  // On success, the written bundles become the live ones (Install); then
  // Settle fills the replies' views, drops the bundles that ended with
  // nothing left to hand over, and returns each changed bundle's watchers
  // with its view, to call outside the lock.
  void Install(Batch& batch, const std::vector<int64_t>& seqs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<std::pair<Watcher, lienthong::v1::Bundle>> Settle(Batch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Launches each of bundle `id`'s running steps (Launch skips those in
  // flight or waiting for a retry).
  void LaunchRunning(const std::string& id) ABSL_LOCKS_EXCLUDED(mu_);
  void Launch(const std::string& id, int step);
  void ScheduleRetry(const std::string& id, int step, int generation,
                     absl::Duration at_least)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PushProgress(const std::string& id);
  void ScheduleCalendarRefresh();
  // Deletes what keep_ended allows, then schedules itself again.
  void SchedulePrune();
  lienthong::v1::Bundle View(const Live& live) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Duration Backoff(int failures) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  BundleStore* const store_;
  StepInvoker* const invoker_;
  ProgressSink* const sink_;
  calendar::CalendarSource* const calendar_;
  const std::map<lienthong::v1::BundleKind,
                 lienthong::config::v1::BundleDefinition>
      definitions_;
  const OrchestratorOptions options_;
  audit::AuditLog* audit_ = nullptr;
  BundleMetrics* metrics_ = nullptr;

  std::shared_ptr<Inbox> inbox_;
  resilience::TimerQueue timers_;
  std::thread engine_;
  bool started_ = false;

  mutable absl::Mutex mu_;
  // Bundles with work left, by id; written by the engine thread only.
  absl::flat_hash_map<std::string, std::unique_ptr<Live>> open_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> open_by_dossier_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<int64_t, Watcher>> watchers_
      ABSL_GUARDED_BY(mu_);
  int64_t next_watch_ ABSL_GUARDED_BY(mu_) = 1;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_ORCHESTRATOR_H_
