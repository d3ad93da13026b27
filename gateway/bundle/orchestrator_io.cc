// The orchestrator's dealings with the outside: sending steps to agencies
// (audited), waiting out transient failures, handing progress to the
// portal, the calendar, and the read side (views, lists, watches, counts).
#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_log.h"
#include "gateway/bundle/orchestrator.h"
#include "gateway/bundle/proto_time.h"
#include "gateway/bundle/saga.h"
#include "gateway/bundle/step_audit.h"
#include "gateway/log/log.h"

namespace lienthong::bundle {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// Most stored bundles one ListBundles call looks at to fill a page.
constexpr int kMaxScanned = 5000;

ProgressUpdate UpdateOf(const StoredBundle& bundle, int k) {
  const StoredProgress& p = bundle.progress(k);
  ProgressUpdate update;
  update.dossier_code = bundle.dossier_code();
  update.procedure_code = bundle.definition().procedure_code();
  update.status = static_cast<lienthong::v1::DossierStatus>(p.status());
  update.time = FromProtoTime(p.time());
  update.handler = bundle.handler();
  update.agency = p.agency();
  update.note = p.note();
  if (IsSet(p.step_start())) update.step_start = FromProtoTime(p.step_start());
  if (IsSet(p.step_due())) update.step_due = FromProtoTime(p.step_due());
  if (k == 0) {
    const auto& data = bundle.data();
    auto value = [&data](const char* key) {
      auto it = data.find(key);
      return it == data.end() ? std::string() : it->second;
    };
    DossierFacts facts;
    facts.procedure_name = bundle.definition().title();
    facts.field_code = bundle.definition().field_code();
    facts.field_name = bundle.definition().field_name();
    facts.applicant_name = value("applicant.full_name");
    facts.applicant_id = value("applicant.citizen_id");
    facts.summary = bundle.definition().title();
    facts.received = FromProtoTime(bundle.created());
    facts.due = IsSet(bundle.due_at_start()) ? FromProtoTime(bundle.due_at_start())
                                             : facts.received;
    facts.handling_unit = bundle.officer().unit_code();
    update.registration = std::move(facts);
  }
  return update;
}

bool Refusable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition ||
         status.code() == absl::StatusCode::kInvalidArgument;
}

// The agency call of step `i` of `bundle` and the facts its audit record
// states.
void StepCallOf(const StoredBundle& bundle, int i,
                adapters::StepRequest* request, StepCallFacts* facts) {
  const auto& def = bundle.definition().steps(i);
  request->operation = def.operation();
  // As fixed when the step's generation started: every send under one
  // idempotency key is the same request.
  request->inputs = SentInputs(bundle, i);
  request->idempotency_key = IdempotencyKey(bundle, i);
  request->dossier_code = bundle.dossier_code();
  facts->caller = bundle.caller();
  facts->caller_cert_sha256 = bundle.caller_cert_sha256();
  facts->officer = bundle.officer();
  facts->operation = def.operation();
  facts->purpose = def.procedure_code().empty()
                       ? bundle.definition().procedure_code()
                       : def.procedure_code();
  facts->dossier_code = bundle.dossier_code();
  facts->subject = SentSubject(bundle, i);
  facts->adapter = def.adapter();
}

}  // namespace

absl::Duration Orchestrator::Backoff(int failures) {
  absl::Duration wait = options_.retry_min;
  for (int i = 1; i < failures && wait < options_.retry_max; ++i) wait *= 2;
  wait = std::min(wait, options_.retry_max);
  // Half to all of it, so that bundles failed together spread out.
  const double share =
      0.5 + 0.5 * std::uniform_real_distribution<double>(0, 1)(rng_);
  return wait * share;
}

void Orchestrator::ScheduleRetry(const std::string& id, int step, int generation,
                                 absl::Duration at_least) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  StepRun& run = it->second->runs[step];
  if (run.waiting) return;
  run.waiting = true;
  const absl::Duration wait = std::max(Backoff(std::max(run.failures, 1)), at_least);
  timers_.Schedule(absl::Now() + wait, [inbox = inbox_, id, step, generation] {
    Event due;
    due.kind = Event::Kind::kRetryDue;
    due.bundle_id = id;
    due.step = step;
    due.generation = generation;
    inbox->Post(std::move(due));
  });
}

void Orchestrator::Launch(const std::string& id, int i) {
  adapters::StepRequest request;
  StepCallFacts facts;
  int generation = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    Live& live = *it->second;
    const StoredBundle& bundle = live.stored;
    if (bundle.steps(i).state() != lienthong::v1::STEP_RUNNING) return;
    StepRun& run = live.runs[i];
    if (run.in_flight || run.waiting) return;
    generation = bundle.steps(i).generation();
    if (audit_ != nullptr && !audit_->healthy()) {
      run.last_error =
          "audit log unavailable: no call is made that cannot be audited";
      ScheduleRetry(id, i, generation, absl::ZeroDuration());
      return;
    }
    run.in_flight = true;
    run.in_flight_generation = generation;
    StepCallOf(bundle, i, &request, &facts);
  }
  if (audit_ != nullptr) {
    facts.request_sha256 = RequestDigest(request, audit_->digest_key());
  }
  facts.start = absl::Now();
  adapters::CallContext context;
  context.deadline = facts.start + options_.call_timeout;
  context.caller = facts.caller;
  context.trace_id = request.idempotency_key;
  inbox_->CallStarted();
  const std::string adapter = facts.adapter;
  invoker_->Invoke(
      adapter, std::move(request), context,
      [inbox = inbox_, audit = audit_, facts = std::move(facts), id, i,
       generation](absl::StatusOr<adapters::StepOutcome> outcome,
                   int attempts) mutable {
        Event answer;
        answer.kind = Event::Kind::kAnswer;
        answer.bundle_id = id;
        answer.step = i;
        answer.generation = generation;
        answer.attempts = attempts;
        if (audit == nullptr) {
          answer.outcome = std::move(outcome);
          inbox->Post(std::move(answer));
        } else if (inbox->Enter()) {
          lienthong::v1::AuditRecord record =
              StepAuditRecord(facts, outcome, attempts, absl::Now(),
                              audit->citizen_key(), audit->digest_key());
          answer.outcome = std::move(outcome);
          audit->Append(std::move(record),
                        [inbox, answer = std::move(answer)](
                            absl::Status durable) mutable {
                          answer.audited = std::move(durable);
                          inbox->Post(std::move(answer));
                        });
          inbox->Leave();
        }
        inbox->CallEnded();
      });
}

void Orchestrator::PushProgress(const std::string& id) {
  std::vector<ProgressUpdate> updates;
  int from = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    const StoredBundle& bundle = it->second->stored;
    from = std::max(it->second->pushed, bundle.progress_queued());
    for (int k = from; k < bundle.progress_size(); ++k) {
      updates.push_back(UpdateOf(bundle, k));
    }
  }
  if (updates.empty()) return;
  Event queued;
  queued.kind = Event::Kind::kProgressQueued;
  queued.bundle_id = id;
  queued.queued = from + static_cast<int>(updates.size());
  absl::Status status = sink_ == nullptr ? absl::OkStatus() : sink_->Push(updates);
  if (!status.ok() && !Refusable(status)) queued.queued = from;
  if (Refusable(status)) {
    // Find which: each on its own, the others still go.
    for (size_t k = 0; k < updates.size(); ++k) {
      absl::Status one = sink_->Push({updates[k]});
      if (Refusable(one)) {
        queued.refused[from + static_cast<int>(k)] = std::string(one.message());
        log::Warning("portal progress update refused",
                     {{"bundle", id}, {"reason", one.message()}});
      } else if (!one.ok()) {
        queued.queued = from + static_cast<int>(k);
        status = one;
        break;
      }
    }
    if (Refusable(status)) status = absl::OkStatus();
  }
  if (queued.queued > from || !queued.refused.empty()) {
    {
      absl::MutexLock lock(&mu_);
      auto it = open_.find(id);
      if (it != open_.end()) it->second->pushed = queued.queued;
    }
    inbox_->Post(std::move(queued));
  }
  if (!status.ok()) {
    {
      absl::MutexLock lock(&mu_);
      auto it = open_.find(id);
      if (it == open_.end() || it->second->push_due) return;
      it->second->push_due = true;
    }
    log::Warning("portal progress cannot be queued yet; trying again",
                 {{"bundle", id}, {"reason", status.message()}});
    timers_.Schedule(absl::Now() + absl::Seconds(2), [inbox = inbox_, id] {
      Event due;
      due.kind = Event::Kind::kPushDue;
      due.bundle_id = id;
      inbox->Post(std::move(due));
    });
  }
}

void Orchestrator::ScheduleCalendarRefresh() {
  timers_.Schedule(absl::Now() + options_.calendar_refresh, [this] {
    absl::StatusOr<bool> changed = calendar_->Refresh();
    if (!changed.ok()) {
      log::Error("holiday file refused; the calendar in use stays",
                 {{"reason", changed.status().message()}});
    } else if (*changed) {
      log::Info("holiday file reloaded", {{"file", calendar_->path()}});
    }
    ScheduleCalendarRefresh();
  });
}

void Orchestrator::SchedulePrune() {
  timers_.Schedule(absl::Now() + options_.prune_every, [this] {
    // At most 10,000 a time: a backlog is worked off over several rounds
    // without holding the store long.
    constexpr int kBatch = 1000;
    int deleted = 0;
    for (int round = 0; round < 10; ++round) {
      absl::StatusOr<int> n =
          store_->DeleteEnded(absl::Now() - options_.keep_ended, kBatch);
      if (!n.ok()) {
        log::Error("ended bundles could not be deleted",
                   {{"reason", n.status().message()}});
        break;
      }
      deleted += *n;
      if (*n < kBatch) break;
    }
    if (deleted > 0) {
      log::Info("ended bundles deleted", {{"count", absl::StrCat(deleted)}});
    }
    SchedulePrune();
  });
}

absl::StatusOr<bool> Orchestrator::RefreshCalendar() {
  return calendar_->Refresh();
}

lienthong::v1::Bundle Orchestrator::View(const Live& live) const {
  std::vector<StepLiveInfo> info;
  for (const StepRun& run : live.runs) info.push_back({run.attempts, run.last_error});
  return ViewOf(live.stored, info, *calendar_->current(), options_.clock->Now());
}

absl::StatusOr<lienthong::v1::Bundle> Orchestrator::Get(
    absl::string_view bundle_id, absl::string_view dossier_code) {
  {
    absl::MutexLock lock(&mu_);
    std::string id(bundle_id);
    if (id.empty()) {
      auto by_dossier = open_by_dossier_.find(dossier_code);
      if (by_dossier != open_by_dossier_.end()) id = by_dossier->second;
    }
    auto it = open_.find(id);
    if (it != open_.end()) return View(*it->second);
  }
  absl::StatusOr<std::optional<StoredRow>> row =
      bundle_id.empty() ? store_->FindByDossier(dossier_code)
                        : store_->Get(bundle_id);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return absl::NotFoundError("no such bundle");
  return ViewOf((*row)->bundle, {}, *calendar_->current(), options_.clock->Now());
}

absl::Status Orchestrator::CheckOpenSteps(const StepInvoker& invoker) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, live] : open_) {
    const StoredBundle& bundle = live->stored;
    for (int i = 0; i < bundle.steps_size(); ++i) {
      const lienthong::v1::StepState state = bundle.steps(i).state();
      if (state != lienthong::v1::STEP_PENDING &&
          state != lienthong::v1::STEP_RUNNING) {
        continue;
      }
      if (i >= bundle.definition().steps_size()) break;
      const auto& def = bundle.definition().steps(i);
      absl::StatusOr<std::vector<adapters::StepOperation>> ops =
          invoker.Operations(def.adapter());
      if (!ops.ok() || FindOperation(*ops, def.operation()) == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the open bundle of dossier ", bundle.dossier_code(), " has step '",
            def.name(), "' still to run on adapter '", def.adapter(),
            "' (operation '", def.operation(),
            "'), which this config does not offer: keep that adapter until "
            "the bundles that started with it end, or stop them first"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<lienthong::v1::ListBundlesResponse> Orchestrator::List(
    const lienthong::v1::ListBundlesRequest& request) {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: 0 (", kDefaultPageSize, ") to ", kMaxPageSize));
  }
  const int page = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  BundleQuery query;
  if (!request.page_token().empty() &&
      !absl::SimpleAtoi(request.page_token(), &query.after_seq)) {
    return absl::InvalidArgumentError("page_token: not one this gateway gave");
  }
  // Each state once: a request repeating one does not make the store's
  // query any longer.
  std::set<int> states;
  for (int s : request.states()) {
    if (s == lienthong::v1::BUNDLE_STATE_UNSPECIFIED ||
        !lienthong::v1::BundleState_IsValid(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat("states: ", s, " is not a bundle state"));
    }
    states.insert(s);
  }
  for (int s : states) {
    query.states.push_back(static_cast<lienthong::v1::BundleState>(s));
  }
  if (!lienthong::v1::BundleKind_IsValid(request.kind())) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind: ", request.kind(), " is not a bundle kind"));
  }
  query.kind = request.kind();
  query.limit = 500;
  lienthong::v1::ListBundlesResponse response;
  int scanned = 0;
  while (true) {
    absl::StatusOr<std::vector<StoredRow>> rows = store_->List(query);
    if (!rows.ok()) return rows.status();
    for (StoredRow& row : *rows) {
      ++scanned;
      query.after_seq = row.seq;
      lienthong::v1::Bundle view;
      {
        absl::MutexLock lock(&mu_);
        auto it = open_.find(row.bundle.id());
        view = it != open_.end()
                   ? View(*it->second)
                   : ViewOf(row.bundle, {}, *calendar_->current(),
                            options_.clock->Now());
      }
      if (request.overdue_only() && !view.overdue()) continue;
      if (!request.agency().empty() &&
          std::none_of(view.steps().begin(), view.steps().end(),
                       [&](const lienthong::v1::BundleStep& s) {
                         return s.adapter() == request.agency() &&
                                (s.state() == lienthong::v1::STEP_RUNNING ||
                                 s.state() == lienthong::v1::STEP_REFUSED);
                       })) {
        continue;
      }
      *response.add_bundles() = std::move(view);
      if (response.bundles_size() >= page) break;
    }
    const bool more = static_cast<int>(rows->size()) == query.limit;
    if (response.bundles_size() >= page || scanned >= kMaxScanned) {
      if (more || response.bundles_size() >= page) {
        response.set_next_page_token(absl::StrCat(query.after_seq));
      }
      return response;
    }
    if (!more) return response;
  }
}

absl::StatusOr<std::pair<lienthong::v1::Bundle, int64_t>> Orchestrator::Watch(
    const std::string& bundle_id, Watcher watcher) {
  {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(bundle_id);
    if (it != open_.end()) {
      const int64_t handle = next_watch_++;
      watchers_[bundle_id][handle] = std::move(watcher);
      return std::make_pair(View(*it->second), handle);
    }
  }
  absl::StatusOr<lienthong::v1::Bundle> ended = Get(bundle_id, "");
  if (!ended.ok()) return ended.status();
  return std::make_pair(*std::move(ended), int64_t{0});
}

void Orchestrator::Unwatch(const std::string& bundle_id, int64_t handle) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(bundle_id);
  if (it == watchers_.end()) return;
  it->second.erase(handle);
  if (it->second.empty()) watchers_.erase(it);
}

OrchestratorCounts Orchestrator::Counts() const {
  OrchestratorCounts counts;
  const std::shared_ptr<const calendar::WorkingCalendar> calendar =
      calendar_->current();
  const absl::Time now = options_.clock->Now();
  absl::MutexLock lock(&mu_);
  for (const auto& [id, live] : open_) {
    const StoredBundle& b = live->stored;
    counts.progress_pending += b.progress_size() - b.progress_queued();
    if (HasEnded(b)) continue;
    ++counts.open[{b.kind(), b.state()}];
    if (now >= BundleDeadline(b, *calendar)) ++counts.overdue[b.kind()];
    for (int i = 0; i < b.steps_size(); ++i) {
      const auto state = b.steps(i).state();
      if (state != lienthong::v1::STEP_RUNNING &&
          state != lienthong::v1::STEP_REFUSED) {
        continue;
      }
      std::optional<absl::Time> due = StepDeadline(b, i, *calendar);
      if (due.has_value() && now >= *due) ++counts.steps_overdue[b.steps(i).name()];
    }
  }
  return counts;
}

}  // namespace lienthong::bundle
