// The orchestrator's engine: its life, the batches and what each event
// changes. Calls, progress, reads and watches are in orchestrator_io.cc.
#include "gateway/bundle/orchestrator.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/common/retriable.h"
#include "gateway/bundle/bundle_metrics.h"
#include "gateway/bundle/proto_time.h"
#include "gateway/bundle/saga.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"

namespace lienthong::bundle {

struct Orchestrator::Batch {
  // Working copies of the bundles the batch changes, by id, in first-touch
  // order; `created` are new.
  std::vector<std::string> order;
  absl::flat_hash_map<std::string, StoredBundle> working;
  std::set<std::string> created;
  // Commands to answer after the commit: with the view of bundle `id`, with
  // `view` as it is, or with `error`.
  struct Reply {
    BundleDone done;
    std::string id;
    std::optional<lienthong::v1::Bundle> view;
    absl::Status error;
  };
  std::vector<Reply> replies;
  // Bundles whose due steps to send and whose progress to hand over after
  // the commit, besides those changed.
  std::set<std::string> launch;
  std::set<std::string> push;
  // Markers to post again if the commit fails.
  std::vector<Event> again;
  // Agency answers recorded in the working copies (events of RunBatch's):
  // if the commit fails they are applied again, not asked for again.
  std::vector<Event*> recorded;
  // Step calls to count once the commit has succeeded: adapter, operation,
  // outcome.
  std::vector<std::array<std::string, 3>> step_calls;

  // Answers every command: with its error, or its view.
  void Answer() {
    for (Reply& reply : replies) {
      if (!reply.error.ok()) {
        std::move(reply.done)(reply.error);
      } else if (reply.view.has_value()) {
        std::move(reply.done)(*std::move(reply.view));
      } else {
        std::move(reply.done)(absl::InternalError("bundle vanished"));
      }
    }
  }
};

namespace {

// Seeded with 256 bits from the system: from one 32-bit seed, two of many
// starts would repeat each other's bundle ids.
std::mt19937_64 SeededEngine() {
  std::random_device device;
  std::array<uint32_t, 8> words;
  for (uint32_t& word : words) word = device();
  std::seed_seq seed(words.begin(), words.end());
  return std::mt19937_64(seed);
}

}  // namespace

Orchestrator::Orchestrator(
    BundleStore* store, StepInvoker* invoker, ProgressSink* sink,
    calendar::CalendarSource* calendar,
    std::map<lienthong::v1::BundleKind, lienthong::config::v1::BundleDefinition>
        definitions,
    OrchestratorOptions options)
    : store_(store),
      invoker_(invoker),
      sink_(sink),
      calendar_(calendar),
      definitions_(std::move(definitions)),
      options_(std::move(options)),
      inbox_(std::make_shared<Inbox>()),
      rng_(SeededEngine()) {}

Orchestrator::~Orchestrator() { Stop(); }

absl::Status Orchestrator::Start() {
  absl::StatusOr<std::vector<StoredRow>> rows = store_->LoadOpen();
  if (!rows.ok()) return rows.status();
  {
    absl::MutexLock lock(&mu_);
    for (StoredRow& row : *rows) {
      auto live = std::make_unique<Live>();
      live->seq = row.seq;
      live->stored = std::move(row.bundle);
      live->runs.resize(live->stored.steps_size());
      live->pushed = live->stored.progress_queued();
      open_by_dossier_[live->stored.dossier_code()] = live->stored.id();
      open_[live->stored.id()] = std::move(live);
    }
    log::Info("bundles resumed", {{"open", absl::StrCat(open_.size())}});
  }
  LIENTHONG_RETURN_IF_ERROR(CheckOpenSteps(*invoker_));
  Event recover;
  recover.kind = Event::Kind::kRecover;
  inbox_->Post(std::move(recover));
  started_ = true;
  engine_ = std::thread([this] { EngineLoop(); });
  ScheduleCalendarRefresh();
  SchedulePrune();
  return absl::OkStatus();
}

void Orchestrator::Stop() {
  if (!started_) return;
  started_ = false;
  for (Event& left : inbox_->Close()) {
    if (left.done) {
      std::move(left.done)(absl::UnavailableError("the gateway is stopping"));
    }
  }
  if (engine_.joinable()) engine_.join();
  timers_.Shutdown();
  inbox_->Drain(options_.stop_grace);
}

void Orchestrator::StartBundle(StartCommand command, BundleDone done) {
  Event event;
  event.kind = Event::Kind::kStart;
  event.start = std::make_shared<const StartCommand>(std::move(command));
  event.done = std::move(done);
  if (!inbox_->Post(std::move(event))) {
    std::move(event.done)(absl::UnavailableError("the gateway is stopping"));
  }
}

void Orchestrator::Resolve(ResolveCommand command, BundleDone done) {
  Event event;
  event.kind = Event::Kind::kResolve;
  event.resolve = std::make_shared<const ResolveCommand>(std::move(command));
  event.done = std::move(done);
  if (!inbox_->Post(std::move(event))) {
    std::move(event.done)(absl::UnavailableError("the gateway is stopping"));
  }
}

void Orchestrator::EngineLoop() {
  while (true) {
    std::vector<Event> events = inbox_->Take(absl::Seconds(1));
    if (events.empty()) {
      if (inbox_->closed()) return;
      continue;
    }
    RunBatch(std::move(events));
  }
}

StoredBundle* Orchestrator::Working(const std::string& id, Batch& batch) {
  auto it = batch.working.find(id);
  if (it != batch.working.end()) return &it->second;
  auto live = open_.find(id);
  if (live == open_.end()) return nullptr;
  batch.order.push_back(id);
  return &batch.working.emplace(id, live->second->stored).first->second;
}

void Orchestrator::RunBatch(std::vector<Event> events) {
  Batch batch;
  {
    absl::MutexLock lock(&mu_);
    for (Event& event : events) Apply(event, batch);
    const std::shared_ptr<const calendar::WorkingCalendar> calendar =
        calendar_->current();
    const absl::Time now = options_.clock->Now();
    for (const std::string& id : batch.order) {
      StoredBundle& bundle = batch.working[id];
      for (int i : ReadySteps(bundle)) StartStep(bundle, i, now, *calendar);
    }
  }
  std::vector<const StoredBundle*> writes;
  for (const std::string& id : batch.order) writes.push_back(&batch.working[id]);
  absl::StatusOr<std::vector<int64_t>> seqs =
      writes.empty() ? std::vector<int64_t>{} : store_->Write(writes);
  if (!seqs.ok()) {
    log::Error("bundle store write failed; the changes are retried",
               {{"reason", seqs.status().message()},
                {"bundles", absl::StrCat(writes.size())}});
    RetryLater(batch, seqs.status());
    return;
  }
  std::vector<std::pair<Watcher, lienthong::v1::Bundle>> notify;
  {
    absl::MutexLock lock(&mu_);
    Install(batch, *seqs);
    notify = Settle(batch);
  }
  if (metrics_ != nullptr) {
    for (const auto& [adapter, operation, outcome] : batch.step_calls) {
      metrics_->StepCall(adapter, operation, outcome);
    }
  }
  batch.launch.insert(batch.order.begin(), batch.order.end());
  batch.push.insert(batch.order.begin(), batch.order.end());
  for (const std::string& id : batch.launch) LaunchRunning(id);
  for (const std::string& id : batch.push) PushProgress(id);
  for (auto& [watcher, view] : notify) watcher(view);
  batch.Answer();
}

void Orchestrator::RetryLater(Batch& batch, const absl::Status& write_error) {
  for (Batch::Reply& reply : batch.replies) {
    std::move(reply.done)(reply.error.ok() ? write_error : reply.error);
  }
  // What the batch was to do is asked for again a second later: the agency
  // answers it recorded are applied again (their steps count as in flight
  // meanwhile, so they are not sent again), due retries and hand-overs
  // happen, markers are written.
  auto again = std::make_shared<std::vector<Event>>(std::move(batch.again));
  {
    absl::MutexLock lock(&mu_);
    for (Event* answer : batch.recorded) {
      auto it = open_.find(answer->bundle_id);
      if (it == open_.end()) continue;
      // As before the answer came (it is counted again when applied).
      StepRun& run = it->second->runs[answer->step];
      run.in_flight = true;
      run.in_flight_generation = answer->generation;
      run.attempts -= answer->attempts;
      run.last_error =
          "answered; the answer waits for the bundle store to record it";
      again->push_back(std::move(*answer));
    }
  }
  std::set<std::string> launch = std::move(batch.launch);
  std::set<std::string> push = std::move(batch.push);
  launch.insert(batch.order.begin(), batch.order.end());
  push.insert(batch.order.begin(), batch.order.end());
  for (const std::string& id : launch) {
    again->emplace_back().kind = Event::Kind::kRetryDue;
    again->back().bundle_id = id;
  }
  for (const std::string& id : push) {
    again->emplace_back().kind = Event::Kind::kPushDue;
    again->back().bundle_id = id;
  }
  timers_.Schedule(absl::Now() + absl::Seconds(1), [inbox = inbox_, again] {
    for (Event& event : *again) inbox->Post(std::move(event));
  });
}

std::vector<std::pair<Orchestrator::Watcher, lienthong::v1::Bundle>>
Orchestrator::Settle(Batch& batch) {
  for (Batch::Reply& reply : batch.replies) {
    if (!reply.error.ok() || reply.view.has_value()) continue;
    auto it = open_.find(reply.id);
    if (it != open_.end()) reply.view = View(*it->second);
  }
  std::vector<std::pair<Watcher, lienthong::v1::Bundle>> notify;
  for (const std::string& id : batch.order) {
    auto watchers = watchers_.find(id);
    auto live = open_.find(id);
    if (watchers == watchers_.end() || live == open_.end()) continue;
    const lienthong::v1::Bundle view = View(*live->second);
    for (const auto& [handle, watcher] : watchers->second) {
      notify.emplace_back(watcher, view);
    }
  }
  // Bundles that ended with nothing left to hand over leave memory.
  for (const std::string& id : batch.order) {
    auto it = open_.find(id);
    if (it == open_.end()) continue;
    const StoredBundle& stored = it->second->stored;
    if (HasEnded(stored) &&
        stored.progress_queued() >= stored.progress_size()) {
      open_by_dossier_.erase(stored.dossier_code());
      open_.erase(it);
    }
  }
  return notify;
}

void Orchestrator::LaunchRunning(const std::string& id) {
  std::vector<int> running;
  {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    for (int i = 0; i < it->second->stored.steps_size(); ++i) {
      if (it->second->stored.steps(i).state() == lienthong::v1::STEP_RUNNING) {
        running.push_back(i);
      }
    }
  }
  for (int i : running) Launch(id, i);
}

void Orchestrator::Install(Batch& batch, const std::vector<int64_t>& seqs) {
  for (size_t k = 0; k < batch.order.size(); ++k) {
    const std::string& id = batch.order[k];
    std::unique_ptr<Live>& live = open_[id];
    if (live == nullptr) {
      live = std::make_unique<Live>();
      live->seq = seqs[k];
      open_by_dossier_[batch.working[id].dossier_code()] = id;
      if (metrics_ != nullptr) metrics_->Started(batch.working[id].kind());
    }
    const bool was_open = !HasEnded(live->stored);
    live->stored = std::move(batch.working[id]);
    live->runs.resize(live->stored.steps_size());
    if (was_open && HasEnded(live->stored) && metrics_ != nullptr) {
      metrics_->Finished(live->stored.kind(), live->stored.state());
    }
  }
}

void Orchestrator::Apply(Event& event, Batch& batch) {
  switch (event.kind) {
    case Event::Kind::kStart:
      ApplyStart(event, batch);
      return;
    case Event::Kind::kResolve:
      ApplyResolve(event, batch);
      return;
    case Event::Kind::kAnswer:
      ApplyAnswer(event, batch);
      return;
    case Event::Kind::kRetryDue: {
      auto it = open_.find(event.bundle_id);
      if (it == open_.end()) return;
      if (event.step >= 0 &&
          static_cast<size_t>(event.step) < it->second->runs.size()) {
        it->second->runs[event.step].waiting = false;
      }
      batch.launch.insert(event.bundle_id);
      return;
    }
    case Event::Kind::kPushDue: {
      auto it = open_.find(event.bundle_id);
      if (it != open_.end()) it->second->push_due = false;
      batch.push.insert(event.bundle_id);
      return;
    }
    case Event::Kind::kProgressQueued: {
      StoredBundle* bundle = Working(event.bundle_id, batch);
      if (bundle == nullptr) return;
      for (const auto& [index, reason] : event.refused) {
        if (index < bundle->progress_size()) {
          bundle->mutable_progress(index)->set_refused(reason);
        }
      }
      bundle->set_progress_queued(std::max(bundle->progress_queued(),
                                           std::min(event.queued,
                                                    bundle->progress_size())));
      Event again;
      again.kind = Event::Kind::kProgressQueued;
      again.bundle_id = event.bundle_id;
      again.queued = event.queued;
      again.refused = event.refused;
      batch.again.push_back(std::move(again));
      return;
    }
    case Event::Kind::kRecover:
      for (const auto& [id, live] : open_) {
        batch.launch.insert(id);
        batch.push.insert(id);
        if (!ReadySteps(live->stored).empty()) Working(id, batch);
        // Steps running in a record written before requests were kept:
        // what they send from now on is fixed (and written before they are
        // sent again), as the data gives it now.
        if (HasUnkeptRequests(live->stored)) {
          KeepUnkeptRequests(*Working(id, batch));
        }
      }
      return;
  }
}

void Orchestrator::ApplyStart(Event& event, Batch& batch) {
  const StartCommand& command = *event.start;
  const std::string& dossier = command.request.dossier_code();
  auto answer_existing = [&](const StoredBundle& existing,
                             std::optional<lienthong::v1::Bundle> view) {
    if (existing.request_sha256() != command.request_sha256) {
      batch.replies.push_back(
          {std::move(event.done), "", std::nullopt,
           absl::AlreadyExistsError(absl::StrCat(
               "dossier ", dossier, " already has bundle ", existing.id(),
               ", started with other data"))});
      return;
    }
    batch.replies.push_back(
        {std::move(event.done), existing.id(), std::move(view), absl::OkStatus()});
  };
  for (const std::string& id : batch.created) {
    if (batch.working[id].dossier_code() == dossier) {
      answer_existing(batch.working[id], std::nullopt);
      return;
    }
  }
  if (auto it = open_by_dossier_.find(dossier); it != open_by_dossier_.end()) {
    const StoredBundle* existing = Working(it->second, batch);
    if (existing != nullptr) {
      answer_existing(*existing, std::nullopt);
      return;
    }
  }
  absl::StatusOr<std::optional<StoredRow>> row = store_->FindByDossier(dossier);
  if (!row.ok()) {
    batch.replies.push_back({std::move(event.done), "", std::nullopt, row.status()});
    return;
  }
  if (row->has_value()) {
    const StoredBundle& ended = (*row)->bundle;
    answer_existing(ended, ViewOf(ended, {}, *calendar_->current(),
                                  options_.clock->Now()));
    return;
  }
  auto definition = definitions_.find(command.request.kind());
  if (definition == definitions_.end()) {
    batch.replies.push_back(
        {std::move(event.done), "", std::nullopt,
         absl::InvalidArgumentError(absl::StrCat(
             "kind: no ",
             lienthong::v1::BundleKind_Name(command.request.kind()),
             " bundle is configured in this gateway"))});
    return;
  }
  const absl::Time now = options_.clock->Now();
  NewBundleArgs args = StartArgs(command, definition->second, now);
  const std::string id = args.id;
  batch.working.emplace(id, NewBundle(std::move(args), now));
  batch.order.push_back(id);
  batch.created.insert(id);
  batch.replies.push_back(
      {std::move(event.done), id, std::nullopt, absl::OkStatus()});
}

NewBundleArgs Orchestrator::StartArgs(
    const StartCommand& command,
    const lienthong::config::v1::BundleDefinition& definition, absl::Time now) {
  NewBundleArgs args;
  args.id = options_.new_id
                ? options_.new_id()
                : absl::StrFormat("b-%016x", static_cast<uint64_t>(rng_()));
  args.kind = command.request.kind();
  args.definition = definition;
  args.data = command.data;
  args.caller = command.caller;
  args.caller_cert_sha256 = command.caller_cert_sha256;
  args.officer = command.request.officer();
  args.needs_verification = command.request.needs_verification();
  args.request_sha256 = command.request_sha256;
  args.handler = options_.handler;
  // The deadline the bundle would have now, for its registration.
  StoredBundle draft;
  draft.set_needs_verification(args.needs_verification);
  *draft.mutable_definition() = args.definition;
  *draft.mutable_created() = ToProtoTime(now);
  args.due = BundleDeadline(draft, *calendar_->current());
  return args;
}

void Orchestrator::ApplyResolve(Event& event, Batch& batch) {
  const ResolveCommand& command = *event.resolve;
  auto reply_error = [&](absl::Status error) {
    batch.replies.push_back({std::move(event.done), "", std::nullopt, error});
  };
  StoredBundle* bundle = Working(command.bundle_id, batch);
  if (bundle == nullptr) {
    absl::StatusOr<std::optional<StoredRow>> row = store_->Get(command.bundle_id);
    if (!row.ok()) return reply_error(row.status());
    return reply_error(row->has_value()
                           ? absl::FailedPreconditionError("the bundle has ended")
                           : absl::NotFoundError("no bundle with that id"));
  }
  const absl::Time now = options_.clock->Now();
  absl::Status applied =
      command.stop ? StopBundle(*bundle, command.reason, now)
                   : RetryStep(*bundle, command.step, command.corrections, now,
                               *calendar_->current());
  if (!applied.ok()) return reply_error(applied);
  if (!command.stop) {
    auto live = open_.find(command.bundle_id);
    const int i = FindStep(*bundle, command.step);
    if (live != open_.end() && i >= 0 &&
        static_cast<size_t>(i) < live->second->runs.size()) {
      StepRun& run = live->second->runs[i];
      run.failures = 0;
      run.attempts = 0;
      run.last_error.clear();
    }
  }
  batch.replies.push_back(
      {std::move(event.done), command.bundle_id, std::nullopt, absl::OkStatus()});
}

void Orchestrator::ApplyAnswer(Event& event, Batch& batch) {
  auto it = open_.find(event.bundle_id);
  if (it == open_.end()) return;
  Live& live = *it->second;
  if (event.step < 0 || static_cast<size_t>(event.step) >= live.runs.size()) {
    return;
  }
  StepRun& run = live.runs[event.step];
  if (run.in_flight && run.in_flight_generation == event.generation) {
    run.in_flight = false;
  }
  const StoredBundle& current = batch.working.count(event.bundle_id) > 0
                                    ? batch.working[event.bundle_id]
                                    : live.stored;
  const StoredStep& step = current.steps(event.step);
  if (step.state() != lienthong::v1::STEP_RUNNING ||
      step.generation() != event.generation) {
    // An answer to an earlier generation. (A bundle stops only once no step
    // is RUNNING: a stop asked for meanwhile waits for their answers, so no
    // answer a stop made obsolete is dropped here.)
    return;
  }
  run.attempts += event.attempts;
  const auto& def = current.definition().steps(event.step);
  if (!event.audited.ok()) {
    run.last_error =
        "the call's audit record could not be written; it is sent again";
    ScheduleRetry(event.bundle_id, event.step, event.generation,
                  absl::ZeroDuration());
    return;
  }
  const absl::Time now = options_.clock->Now();
  if (event.outcome.ok()) {
    StepAnswer answer;
    answer.refused = event.outcome->kind == adapters::StepOutcome::Kind::kRefused;
    answer.outputs = event.outcome->outputs;
    answer.reason = event.outcome->reason;
    RecordAnswer(*Working(event.bundle_id, batch), event.step, event.generation,
                 answer, now);
    batch.recorded.push_back(&event);
    run.failures = 0;
    run.last_error.clear();
    batch.step_calls.push_back(
        {def.adapter(), def.operation(), answer.refused ? "refused" : "done"});
    return;
  }
  const absl::Status& status = event.outcome.status();
  // The agency found the request invalid (HTTP 400, 422, or 409: it holds
  // another under this key), or nothing was sent: the adapter could not
  // form the request, or the running config has no adapter of that name
  // any more (renamed or removed since the bundle started). Sending again
  // would not change that, and a stop would wait for it forever: the
  // officer decides.
  if (status.code() == absl::StatusCode::kInvalidArgument ||
      status.code() == absl::StatusCode::kFailedPrecondition) {
    const bool sent = status.code() == absl::StatusCode::kInvalidArgument &&
                      !adapters::WasNotSent(status);
    StepAnswer answer;
    answer.refused = true;
    answer.reason = absl::StrCat(sent ? "the agency refused the request: "
                                      : "Lienthong could not send the step: ",
                                 status.message());
    RecordAnswer(*Working(event.bundle_id, batch), event.step, event.generation,
                 answer, now);
    batch.recorded.push_back(&event);
    batch.step_calls.push_back(
        {def.adapter(), def.operation(),
         status.code() == absl::StatusCode::kInvalidArgument ? "invalid"
                                                             : "unconfigured"});
    return;
  }
  ++run.failures;
  run.last_error = std::string(status.message());
  if (metrics_ != nullptr) {
    metrics_->StepCall(def.adapter(), def.operation(), "retry");
  }
  ScheduleRetry(event.bundle_id, event.step, event.generation,
                adapters::RetryAfter(status).value_or(absl::ZeroDuration()));
}

}  // namespace lienthong::bundle
