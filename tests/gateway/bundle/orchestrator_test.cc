// The orchestrator over a real SQLite bundle store, with scripted agencies
// (FakeInvoker) and a sink that checks progress as the outbox does.
#include "gateway/bundle/orchestrator.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "gateway/audit/audit_log.h"
#include "gateway/bundle/bundle_data.h"
#include "gateway/bundle/proto_time.h"
#include "gateway/bundle/step_audit.h"
#include "gateway/sync/dossier_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/gateway/bundle/bundle_test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::bundle {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using testing::BirthRequest;
using ::testing::Contains;
using testing::DeathRequest;
using ::testing::ElementsAre;
using testing::FakeInvoker;
using testing::FakeSink;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using v1::Bundle;

constexpr char kCaller[] = "spiffe://lienthong.local/dossier-system";

constexpr char kWithdrawn[] = "Người nộp hồ sơ rút hồ sơ";

// The updates that stop the dossier ("Dừng liên thông: <reason>").
int StopUpdates(const Bundle& bundle) {
  int stops = 0;
  for (const auto& p : bundle.progress()) {
    stops += p.status() == v1::STOPPED &&
             absl::StartsWith(p.note(), "Dừng liên thông: ");
  }
  return stops;
}

std::vector<int> Statuses(const Bundle& bundle) {
  std::vector<int> statuses;
  for (const auto& p : bundle.progress()) statuses.push_back(p.status());
  return statuses;
}

const v1::BundleStep& StepOf(const Bundle& bundle, const std::string& name) {
  for (const auto& step : bundle.steps()) {
    if (step.name() == name) return step;
  }
  ADD_FAILURE() << "no step " << name;
  static const v1::BundleStep* const kNone = new v1::BundleStep;
  return *kNone;
}

// The SQLite store, whose next writes can be made to fail as a full or
// broken disk would make them.
class FailingStore final : public BundleStore {
 public:
  explicit FailingStore(BundleStore* store) : store_(store) {}
  void FailNextWrites(int n) { failures_ = n; }
  int failed() const { return failed_; }

  absl::StatusOr<std::vector<StoredRow>> LoadOpen() override {
    return store_->LoadOpen();
  }
  absl::StatusOr<std::vector<int64_t>> Write(
      absl::Span<const internal::StoredBundle* const> bundles) override {
    if (failures_.fetch_sub(1) > 0) {
      ++failed_;
      return absl::UnavailableError("bundle store: disk I/O error");
    }
    return store_->Write(bundles);
  }
  absl::StatusOr<std::optional<StoredRow>> Get(absl::string_view id) override {
    return store_->Get(id);
  }
  absl::StatusOr<std::optional<StoredRow>> FindByDossier(
      absl::string_view dossier_code) override {
    return store_->FindByDossier(dossier_code);
  }
  absl::StatusOr<std::vector<StoredRow>> List(
      const BundleQuery& query) override {
    return store_->List(query);
  }
  absl::StatusOr<int> DeleteEnded(absl::Time before, int limit) override {
    return store_->DeleteEnded(before, limit);
  }

 private:
  BundleStore* const store_;
  std::atomic<int> failures_{0};
  std::atomic<int> failed_{0};
};

class OrchestratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("bundles.db");
    auto store = SqliteBundleStore::Open(path_, std::string(32, 'k'));
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    calendar_ = std::make_unique<calendar::CalendarSource>(
        calendar::WorkingCalendar());
  }

  void TearDown() override {
    if (orchestrator_ != nullptr) orchestrator_->Stop();
  }

  void StartOrchestrator(resilience::Clock* clock = resilience::RealClock(),
                         BundleStore* store = nullptr) {
    ASSERT_THAT(TryStartOrchestrator(clock, store), IsOk());
  }

  absl::Status TryStartOrchestrator(resilience::Clock* clock,
                                    BundleStore* store,
                                    StepInvoker* invoker = nullptr) {
    OrchestratorOptions options;
    options.clock = clock;
    options.retry_min = absl::Milliseconds(5);
    options.retry_max = absl::Milliseconds(40);
    options.call_timeout = absl::Seconds(5);
    options.stop_grace = absl::Milliseconds(100);
    options.keep_ended = keep_ended_;
    options.prune_every = prune_every_;
    orchestrator_ = std::make_unique<Orchestrator>(
        store != nullptr ? store : store_.get(),
        invoker != nullptr ? invoker : &invoker_, &sink_, calendar_.get(),
        std::map<v1::BundleKind, config::v1::BundleDefinition>{
            {v1::BIRTH, testing::BirthDefinition()},
            {v1::DEATH, testing::DeathDefinition()}},
        options);
    orchestrator_->SetAuditLog(audit_.get());
    return orchestrator_->Start();
  }

  absl::StatusOr<Bundle> Start(const v1::StartBundleRequest& request) {
    StartCommand command;
    command.request = request;
    absl::StatusOr<BundleData> data = DataOfRequest(request, absl::Now());
    if (!data.ok()) return data.status();
    command.data = *std::move(data);
    command.caller = kCaller;
    command.request_sha256 = audit::Sha256Hex(request.SerializeAsString());
    return Wait([&](BundleDone done) {
      orchestrator_->StartBundle(std::move(command), std::move(done));
    });
  }

  absl::StatusOr<Bundle> Retry(const Bundle& bundle, const std::string& step,
                               std::map<std::string, std::string> corrections) {
    ResolveCommand command{bundle.bundle_id(), step, false, "",
                           std::move(corrections)};
    return Wait([&](BundleDone done) {
      orchestrator_->Resolve(std::move(command), std::move(done));
    });
  }

  absl::StatusOr<Bundle> Stop(const Bundle& bundle, const std::string& reason) {
    ResolveCommand command{bundle.bundle_id(), "", true, reason, {}};
    return Wait([&](BundleDone done) {
      orchestrator_->Resolve(std::move(command), std::move(done));
    });
  }

  template <typename Call>
  absl::StatusOr<Bundle> Wait(Call call) {
    absl::Notification answered;
    absl::StatusOr<Bundle> result;
    call([&](absl::StatusOr<Bundle> r) {
      result = std::move(r);
      answered.Notify();
    });
    answered.WaitForNotification();
    return result;
  }

  // Returns the bundle once `done(view)` holds, watching its changes (up to
  // 10 s).
  Bundle WaitUntil(const std::string& id,
                   std::function<bool(const Bundle&)> done) {
    // Shared with the watcher: a call under way may follow Unwatch.
    struct Seen {
      absl::Mutex mu;
      Bundle latest ABSL_GUARDED_BY(mu);
      bool notified ABSL_GUARDED_BY(mu) = false;
    };
    auto seen = std::make_shared<Seen>();
    auto watched = orchestrator_->Watch(id, [seen](const Bundle& view) {
      absl::MutexLock lock(&seen->mu);
      seen->latest = view;
      seen->notified = true;
    });
    EXPECT_THAT(watched, IsOk());
    if (!watched.ok()) return Bundle();
    {
      absl::MutexLock lock(&seen->mu);
      // A view sent between Watch's start and here is newer than the one
      // it returned.
      if (!seen->notified) seen->latest = watched->first;
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(seen->mu) {
        return done(seen->latest);
      };
      EXPECT_TRUE(
          seen->mu.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10)))
          << seen->latest.DebugString();
    }
    orchestrator_->Unwatch(id, watched->second);
    absl::MutexLock lock(&seen->mu);
    return seen->latest;
  }

  // The calls the agencies received for `dossier`, in order.
  std::vector<testing::ReceivedCall> CallsFor(const std::string& dossier) {
    std::vector<testing::ReceivedCall> calls;
    for (testing::ReceivedCall& call : invoker_.calls()) {
      if (call.request.dossier_code == dossier) {
        calls.push_back(std::move(call));
      }
    }
    return calls;
  }

  static bool Ended(const Bundle& b) {
    return b.state() == v1::BUNDLE_COMPLETED || b.state() == v1::BUNDLE_STOPPED;
  }

  // OrchestratorOptions' keep_ended and prune_every for the next start.
  absl::Duration keep_ended_ = absl::Hours(24 * 90);
  absl::Duration prune_every_ = absl::Hours(1);
  audit::testutil::ScratchDir dir_;
  std::string path_;
  std::unique_ptr<SqliteBundleStore> store_;
  std::unique_ptr<calendar::CalendarSource> calendar_;
  std::unique_ptr<audit::AuditLog> audit_;
  FakeInvoker invoker_;
  FakeSink sink_;
  std::unique_ptr<Orchestrator> orchestrator_;
};

// A new bundle whose id is already another dossier's (ids are random) is
// refused by the store: the stored one is left as it was.
TEST_F(OrchestratorTest, AStoredBundleIsNotOverwrittenByAnotherDossiers) {
  StoredBundle first;
  first.set_id("b-0000000000000001");
  first.set_dossier_code("000.00.31.H31-260105-00011");
  first.set_kind(v1::BIRTH);
  first.set_state(v1::BUNDLE_RUNNING);
  ASSERT_THAT(store_->Write(std::vector<const StoredBundle*>{&first}), IsOk());
  StoredBundle second = first;
  second.set_dossier_code("000.00.31.H31-260105-00012");
  EXPECT_THAT(store_->Write(std::vector<const StoredBundle*>{&second}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("already another dossier's")));
  auto found = store_->FindByDossier(first.dossier_code());
  ASSERT_THAT(found, IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->bundle.dossier_code(), first.dossier_code());
  auto other = store_->FindByDossier(second.dossier_code());
  ASSERT_THAT(other, IsOk());
  EXPECT_FALSE(other->has_value());
  // The same bundle written again (its next state) is an update.
  first.set_state(v1::BUNDLE_COMPLETED);
  ASSERT_THAT(store_->Write(std::vector<const StoredBundle*>{&first}), IsOk());
  found = store_->FindByDossier(first.dossier_code());
  ASSERT_THAT(found, IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->bundle.state(), v1::BUNDLE_COMPLETED);
}

TEST_F(OrchestratorTest, BirthBundleRunsEveryStepWithOutputsFlowing) {
  StartOrchestrator();
  auto started = Start(BirthRequest("000.00.31.H31-260105-00001"));
  ASSERT_THAT(started, IsOk());
  EXPECT_EQ(started->state(), v1::BUNDLE_RUNNING);
  Bundle done = WaitUntil(started->bundle_id(), Ended);
  ASSERT_EQ(done.state(), v1::BUNDLE_COMPLETED);

  std::vector<testing::ReceivedCall> calls = invoker_.calls();
  ASSERT_THAT(calls, SizeIs(3));
  EXPECT_EQ(calls[0].request.operation, "register_birth");
  EXPECT_EQ(calls[0].request.idempotency_key,
            absl::StrCat(done.bundle_id(), ".civil_status.g0"));
  EXPECT_EQ(calls[0].request.inputs.at("mother_citizen_id"), testing::kMotherId);
  EXPECT_EQ(calls[0].request.inputs.at("registration_province"), "33");
  EXPECT_EQ(calls[0].request.inputs.count("father_citizen_id"), 0u);
  // Residence and the health card follow civil status, in parallel, with
  // its outputs.
  const std::string certificate =
      StepOf(done, "civil_status").outputs().at("birth_certificate_number");
  for (int k : {1, 2}) {
    EXPECT_EQ(calls[k].request.inputs.at("citizen_id"), "033226100042");
    EXPECT_EQ(calls[k].request.inputs.at("birth_certificate_number"), certificate);
    EXPECT_EQ(calls[k].request.dossier_code, "000.00.31.H31-260105-00001");
  }
  for (const auto& step : done.steps()) {
    EXPECT_EQ(step.state(), v1::STEP_DONE) << step.name();
    EXPECT_FALSE(step.outputs().empty()) << step.name();
  }
  EXPECT_EQ(StepOf(done, "residence").deadline_working_days(), 2);
  EXPECT_EQ(done.deadline_working_days(), 3);

  // Start, three sent, three done, finished: in time order, each a
  // transition the portal allows, and all handed over.
  EXPECT_EQ(done.progress_size(), 8);
  EXPECT_EQ(Statuses(done).back(), v1::FINISHED);
  for (int k = 1; k < done.progress_size(); ++k) {
    EXPECT_LT(FromProtoTime(done.progress(k - 1).time()),
              FromProtoTime(done.progress(k).time()));
  }
  Bundle queued = WaitUntil(done.bundle_id(), [](const Bundle& b) {
    return std::all_of(b.progress().begin(), b.progress().end(),
                       [](const auto& p) { return p.queued(); });
  });
  std::vector<ProgressUpdate> sent = sink_.queued();
  ASSERT_THAT(sent, SizeIs(8));
  EXPECT_EQ(sent[0].note, absl::StrCat("Tiếp nhận hồ sơ liên thông: ", done.title()));
  EXPECT_EQ(sent[1].agency, "UBND xã (hộ tịch)");
  EXPECT_EQ(sent.back().status, v1::FINISHED);
  // The first update registers the dossier, from the stored bundle: its
  // received time is the start, its due date the deadline at the start.
  ASSERT_TRUE(sent[0].registration.has_value());
  const DossierFacts& facts = *sent[0].registration;
  EXPECT_EQ(facts.procedure_name, done.title());
  EXPECT_EQ(facts.applicant_id, testing::kMotherId);
  EXPECT_EQ(facts.applicant_name, "Mẹ của trẻ");
  EXPECT_EQ(facts.received, FromProtoTime(done.created()));
  EXPECT_EQ(facts.due, FromProtoTime(done.deadline()));
  EXPECT_EQ(facts.handling_unit, "000.00.31.H31");
  for (size_t k = 1; k < sent.size(); ++k) {
    EXPECT_FALSE(sent[k].registration.has_value()) << k;
  }
  for (const auto& [key, count] : invoker_.applied_per_key()) {
    EXPECT_EQ(count, 1) << key;
  }
}

TEST_F(OrchestratorTest,
       AnEndedBundleIsDeletedOnlyOnceItsProgressIsHandedOver) {
  keep_ended_ = absl::ZeroDuration();
  prune_every_ = absl::Milliseconds(20);
  sink_.SetFailing(true);  // the outbox cannot take its progress yet
  StartOrchestrator();
  auto started = Start(BirthRequest("000.00.31.H31-260105-00007"));
  ASSERT_THAT(started, IsOk());
  Bundle done = WaitUntil(started->bundle_id(), Ended);
  ASSERT_EQ(done.state(), v1::BUNDLE_COMPLETED);
  // Ended, but its progress is not handed over: kept through many prunes.
  absl::SleepFor(absl::Milliseconds(200));
  auto kept = store_->Get(done.bundle_id());
  ASSERT_THAT(kept, IsOk());
  EXPECT_TRUE(kept->has_value());

  sink_.SetFailing(false);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  absl::StatusOr<std::optional<StoredRow>> row = store_->Get(done.bundle_id());
  while (row.ok() && row->has_value() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    row = store_->Get(done.bundle_id());
  }
  ASSERT_THAT(row, IsOk());
  EXPECT_FALSE(row->has_value()) << "still stored after 20 s";
  EXPECT_THAT(sink_.queued(), SizeIs(8));  // all handed over first
}

TEST_F(OrchestratorTest, RefusedStepHoldsTheStepsAfterItUntilAnOfficerRetries) {
  invoker_.SetAgency("civil-status", [](const adapters::StepRequest& r)
                                         -> absl::StatusOr<adapters::StepOutcome> {
    if (r.inputs.at("mother_full_name") != "Đúng Tên") {
      adapters::StepOutcome refused;
      refused.kind = adapters::StepOutcome::Kind::kRefused;
      refused.reason = "Thông tin của mẹ không khớp";
      return refused;
    }
    return FakeInvoker::Apply(r);
  });
  StartOrchestrator();
  auto started = Start(BirthRequest("000.00.31.H31-260105-00002"));
  ASSERT_THAT(started, IsOk());
  Bundle waiting = WaitUntil(started->bundle_id(), [](const Bundle& b) {
    return b.state() == v1::BUNDLE_WAITING_FOR_OFFICER;
  });
  EXPECT_EQ(StepOf(waiting, "civil_status").state(), v1::STEP_REFUSED);
  EXPECT_EQ(StepOf(waiting, "civil_status").refusal_reason(),
            "Thông tin của mẹ không khớp");
  EXPECT_EQ(StepOf(waiting, "residence").state(), v1::STEP_PENDING);
  EXPECT_EQ(StepOf(waiting, "health_insurance").state(), v1::STEP_PENDING);
  EXPECT_THAT(invoker_.calls(), SizeIs(1));
  EXPECT_EQ(Statuses(waiting).back(), v1::MORE_DOCUMENTS_NEEDED);

  // Not refused: refused.
  EXPECT_THAT(Retry(waiting, "residence", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not waiting for an officer")));
  auto resolved = Retry(waiting, "civil_status", {{"mother.full_name", "Đúng Tên"}});
  ASSERT_THAT(resolved, IsOk());
  EXPECT_EQ(resolved->state(), v1::BUNDLE_RUNNING);
  Bundle done = WaitUntil(started->bundle_id(), Ended);
  EXPECT_EQ(done.state(), v1::BUNDLE_COMPLETED);
  EXPECT_EQ(StepOf(done, "civil_status").resolutions(), 1);
  std::vector<testing::ReceivedCall> calls = invoker_.calls();
  ASSERT_THAT(calls, SizeIs(4));
  // The corrected step is a new request: a new key, the corrected name.
  EXPECT_EQ(calls[1].request.idempotency_key,
            absl::StrCat(done.bundle_id(), ".civil_status.g1"));
  EXPECT_EQ(calls[1].request.inputs.at("mother_full_name"), "Đúng Tên");
}

TEST_F(OrchestratorTest, StopEndsTheBundleWithItsReason) {
  invoker_.SetAgency("residence", [](const adapters::StepRequest&)
                                      -> absl::StatusOr<adapters::StepOutcome> {
    adapters::StepOutcome refused;
    refused.kind = adapters::StepOutcome::Kind::kRefused;
    refused.reason = "Không tìm thấy thông tin cư trú";
    return refused;
  });
  StartOrchestrator();
  auto started = Start(DeathRequest("000.00.31.H31-260105-00003"));
  ASSERT_THAT(started, IsOk());
  // The funeral allowance does not follow residence: it goes on.
  Bundle waiting = WaitUntil(started->bundle_id(), [](const Bundle& b) {
    return b.state() == v1::BUNDLE_WAITING_FOR_OFFICER &&
           StepOf(b, "funeral_allowance").state() == v1::STEP_DONE;
  });
  EXPECT_EQ(StepOf(waiting, "residence").state(), v1::STEP_REFUSED);

  // No step is with its agency: the stop takes effect at once.
  auto stopped = Stop(waiting, "Người nộp hồ sơ rút hồ sơ");
  ASSERT_THAT(stopped, IsOk());
  EXPECT_EQ(stopped->state(), v1::BUNDLE_STOPPED);
  EXPECT_TRUE(stopped->stop_requested());
  EXPECT_EQ(stopped->stop_reason(), "Người nộp hồ sơ rút hồ sơ");
  EXPECT_EQ(StopUpdates(*stopped), 1);
  auto view = orchestrator_->Get(started->bundle_id(), "");
  ASSERT_THAT(view, IsOk());
  EXPECT_EQ(view->state(), v1::BUNDLE_STOPPED);
  EXPECT_EQ(StepOf(*view, "residence").state(), v1::STEP_SKIPPED);
  EXPECT_EQ(StepOf(*view, "funeral_allowance").state(), v1::STEP_DONE);
  EXPECT_EQ(Statuses(*view).back(), v1::STOPPED);
  EXPECT_THAT(Stop(*view, "again"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("has ended")));
}

// The refusal a stopped bundle's step answers with, and the answers of an
// agency that times out once, and of an adapter that cannot form the
// request or is not configured any more (the step is then refused:
// transient failures are retried until the agency answers, never given
// up).
absl::StatusOr<adapters::StepOutcome> RefuseMotherName(
    const adapters::StepRequest&) {
  adapters::StepOutcome refused;
  refused.kind = adapters::StepOutcome::Kind::kRefused;
  refused.reason = "Thông tin của mẹ không khớp";
  return refused;
}
absl::StatusOr<adapters::StepOutcome> TimeOut(const adapters::StepRequest&) {
  return adapters::MarkRetriable(absl::DeadlineExceededError(
      "agency 'civil-status' did not answer in time"));
}
absl::StatusOr<adapters::StepOutcome> CannotForm(const adapters::StepRequest&) {
  return adapters::MarkNotSent(
      absl::InvalidArgumentError("mother_full_name: required"));
}
// An agency that answered HTTP 409: the request reached it.
absl::StatusOr<adapters::StepOutcome> KeyHeldByAnother(
    const adapters::StepRequest&) {
  return absl::InvalidArgumentError(
      "the agency holds other content under this idempotency key (HTTP 409)");
}
// What RuntimeStepInvoker answers for a step whose adapter the running
// config no longer has (renamed or removed since the bundle started).
absl::StatusOr<adapters::StepOutcome> NotConfigured(
    const adapters::StepRequest&) {
  return absl::FailedPreconditionError(
      "adapter 'civil-status' is not configured for agency steps (any more)");
}

// A stop while a step is with its agency (which may be applying it) is
// accepted at once and takes effect with the step's answer, whatever it
// is: the answer is recorded, no step starts after it, the steps not done
// are skipped, and the portal is told once.
TEST_F(OrchestratorTest,
       AStopWhileAStepIsWithItsAgencyTakesEffectWithItsAnswer) {
  struct Case {
    const char* name;
    FakeInvoker::Agency answer;
    // Civil status once stopped, its recorded refusal, the calls it took.
    v1::StepState civil_status;
    const char* refusal;
    size_t calls;
  };
  const Case kCases[] = {
      {"done", &FakeInvoker::Apply, v1::STEP_DONE, "", 1},
      {"refused", &RefuseMotherName, v1::STEP_SKIPPED,
       "Thông tin của mẹ không khớp", 1},
      {"cannot be formed", &CannotForm, v1::STEP_SKIPPED,
       "Lienthong could not send the step", 1},
      {"invalid at the agency", &KeyHeldByAnother, v1::STEP_SKIPPED,
       "the agency refused the request: the agency holds other content", 1},
      {"adapter no longer configured", &NotConfigured, v1::STEP_SKIPPED,
       "is not configured for agency steps", 1},
      // Sent again under its key, as without a stop, until it answers.
      {"timed out, then done", &TimeOut, v1::STEP_DONE, "", 2},
  };
  StartOrchestrator();
  int seq = 20;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const std::string dossier = absl::StrCat("000.00.31.H31-260105-000", seq++);
    // Civil status has the birth; residence and the health card wait for it.
    invoker_.HoldAdapter("civil-status");
    auto started = Start(BirthRequest(dossier));
    ASSERT_THAT(started, IsOk());
    const std::string id = started->bundle_id();
    WaitUntil(id, [&](const Bundle&) { return !CallsFor(dossier).empty(); });

    auto asked = Stop(*started, kWithdrawn);
    ASSERT_THAT(asked, IsOk());
    EXPECT_TRUE(asked->stop_requested());
    EXPECT_EQ(asked->stop_reason(), kWithdrawn);
    EXPECT_EQ(asked->state(), v1::BUNDLE_RUNNING);
    EXPECT_EQ(StepOf(*asked, "civil_status").state(), v1::STEP_RUNNING);
    EXPECT_EQ(StopUpdates(*asked), 0);

    invoker_.ReleaseWith(c.answer);
    Bundle stopped = WaitUntil(id, Ended);
    EXPECT_EQ(stopped.state(), v1::BUNDLE_STOPPED);
    EXPECT_TRUE(stopped.stop_requested());
    EXPECT_EQ(stopped.stop_reason(), kWithdrawn);
    EXPECT_TRUE(stopped.has_finished());
    const v1::BundleStep& civil = StepOf(stopped, "civil_status");
    EXPECT_EQ(civil.state(), c.civil_status);
    EXPECT_THAT(civil.refusal_reason(), HasSubstr(c.refusal));
    EXPECT_EQ(civil.outputs().count("birth_certificate_number"),
              c.civil_status == v1::STEP_DONE ? 1u : 0u);
    EXPECT_EQ(StepOf(stopped, "residence").state(), v1::STEP_SKIPPED);
    EXPECT_EQ(StepOf(stopped, "health_insurance").state(), v1::STEP_SKIPPED);
    EXPECT_EQ(StopUpdates(stopped), 1);
    EXPECT_EQ(Statuses(stopped).back(), v1::STOPPED);
    // Nobody will ask the citizen for documents of a dossier being stopped.
    EXPECT_THAT(Statuses(stopped), Not(Contains(v1::MORE_DOCUMENTS_NEEDED)));
    std::vector<testing::ReceivedCall> calls = CallsFor(dossier);
    ASSERT_THAT(calls, SizeIs(c.calls));
    for (const testing::ReceivedCall& call : calls) {
      EXPECT_EQ(call.adapter, "civil-status");
      EXPECT_EQ(call.request.idempotency_key,
                absl::StrCat(id, ".civil_status.g0"));
    }
    WaitUntil(id, [](const Bundle& b) {
      return b.progress(b.progress_size() - 1).queued();
    });
    int stops_at_portal = 0;
    for (const ProgressUpdate& update : sink_.queued()) {
      stops_at_portal += update.dossier_code == dossier &&
                         update.status == v1::STOPPED &&
                         absl::StartsWith(update.note, "Dừng liên thông: ");
    }
    EXPECT_EQ(stops_at_portal, 1);
  }
}

// While a stop waits for a step with its agency, a refused step is not
// sent again and a second stop changes nothing (the first reason stays).
TEST_F(OrchestratorTest, AStopAskedForHoldsTheRefusedSteps) {
  invoker_.SetAgency("residence",
                     [](const adapters::StepRequest&)
                         -> absl::StatusOr<adapters::StepOutcome> {
                       adapters::StepOutcome refused;
                       refused.kind = adapters::StepOutcome::Kind::kRefused;
                       refused.reason = "Không tìm thấy thông tin cư trú";
                       return refused;
                     });
  invoker_.HoldAdapter("labour-affairs");
  StartOrchestrator();
  const std::string dossier = "000.00.31.H31-260105-00030";
  auto started = Start(DeathRequest(dossier));
  ASSERT_THAT(started, IsOk());
  const std::string id = started->bundle_id();
  Bundle waiting = WaitUntil(id, [&](const Bundle& b) {
    return b.state() == v1::BUNDLE_WAITING_FOR_OFFICER &&
           StepOf(b, "funeral_allowance").state() == v1::STEP_RUNNING &&
           CallsFor(dossier).size() == 3;
  });
  ASSERT_EQ(StepOf(waiting, "residence").state(), v1::STEP_REFUSED);

  auto asked = Stop(waiting, kWithdrawn);
  ASSERT_THAT(asked, IsOk());
  EXPECT_TRUE(asked->stop_requested());
  // The refused step waits for no one now: the bundle runs until the
  // funeral allowance has answered.
  EXPECT_EQ(asked->state(), v1::BUNDLE_RUNNING);
  EXPECT_THAT(Retry(*asked, "residence", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("a stop of the bundle was requested")));
  auto again = Stop(*asked, "Lý do khác");
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->stop_requested());
  EXPECT_EQ(again->stop_reason(), kWithdrawn);
  EXPECT_EQ(again->state(), v1::BUNDLE_RUNNING);
  EXPECT_EQ(again->progress_size(), asked->progress_size());

  // The funeral allowance is granted: recorded, then the bundle stops.
  invoker_.Release();
  Bundle stopped = WaitUntil(id, Ended);
  EXPECT_EQ(stopped.state(), v1::BUNDLE_STOPPED);
  EXPECT_EQ(stopped.stop_reason(), kWithdrawn);
  EXPECT_EQ(StepOf(stopped, "civil_status").state(), v1::STEP_DONE);
  EXPECT_EQ(StepOf(stopped, "funeral_allowance").state(), v1::STEP_DONE);
  EXPECT_EQ(
      StepOf(stopped, "funeral_allowance").outputs().count("decision_number"),
      1u);
  EXPECT_EQ(StepOf(stopped, "residence").state(), v1::STEP_SKIPPED);
  EXPECT_EQ(StepOf(stopped, "residence").refusal_reason(),
            "Không tìm thấy thông tin cư trú");
  EXPECT_EQ(StopUpdates(stopped), 1);
  // Residence was not sent again.
  EXPECT_THAT(CallsFor(dossier), SizeIs(3));
}

// The stop asked for is durable: after a restart the step with its agency
// is sent again under its key, no other step starts, and its answer stops
// the bundle.
TEST_F(OrchestratorTest, AStopAskedForSurvivesARestart) {
  invoker_.HoldAdapter("civil-status");
  StartOrchestrator();
  const std::string dossier = "000.00.31.H31-260105-00031";
  auto started = Start(BirthRequest(dossier));
  ASSERT_THAT(started, IsOk());
  const std::string id = started->bundle_id();
  WaitUntil(id, [&](const Bundle&) { return CallsFor(dossier).size() == 1; });
  auto asked = Stop(*started, kWithdrawn);
  ASSERT_THAT(asked, IsOk());
  ASSERT_TRUE(asked->stop_requested());

  // The gateway stops; the agency's answer to it is lost.
  orchestrator_->Stop();
  orchestrator_.reset();
  invoker_.Release();
  invoker_.HoldAdapter("civil-status");
  StartOrchestrator();
  auto resumed = orchestrator_->Get(id, "");
  ASSERT_THAT(resumed, IsOk());
  EXPECT_TRUE(resumed->stop_requested());
  EXPECT_EQ(resumed->stop_reason(), kWithdrawn);
  EXPECT_EQ(resumed->state(), v1::BUNDLE_RUNNING);
  EXPECT_EQ(StepOf(*resumed, "civil_status").state(), v1::STEP_RUNNING);

  invoker_.Release();
  Bundle stopped = WaitUntil(id, Ended);
  EXPECT_EQ(stopped.state(), v1::BUNDLE_STOPPED);
  EXPECT_EQ(StepOf(stopped, "civil_status").state(), v1::STEP_DONE);
  EXPECT_EQ(StepOf(stopped, "residence").state(), v1::STEP_SKIPPED);
  EXPECT_EQ(StepOf(stopped, "health_insurance").state(), v1::STEP_SKIPPED);
  EXPECT_EQ(StopUpdates(stopped), 1);
  std::vector<testing::ReceivedCall> calls = CallsFor(dossier);
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[1].adapter, "civil-status");
  EXPECT_EQ(calls[1].request.idempotency_key, calls[0].request.idempotency_key);
}

// A stop asked for while the bundle's last step is with its agency: the
// agency applies it, every step is done, and the bundle completes, as
// nothing is left to stop; the request stays visible.
TEST_F(OrchestratorTest, AStopWhoseLastStepIsAppliedEndsCompleted) {
  // The police have the removal of permanent residence and have not
  // answered yet; the funeral allowance answers.
  invoker_.HoldAdapter("residence");
  StartOrchestrator();
  auto started = Start(DeathRequest("000.00.31.H31-260105-00010"));
  ASSERT_THAT(started, IsOk());
  const std::string id = started->bundle_id();
  Bundle sent = WaitUntil(id, [&](const Bundle& b) {
    bool residence_called = false;
    for (const auto& call : invoker_.calls()) {
      residence_called = residence_called || call.adapter == "residence";
    }
    return residence_called &&
           StepOf(b, "funeral_allowance").state() == v1::STEP_DONE;
  });
  ASSERT_EQ(StepOf(sent, "residence").state(), v1::STEP_RUNNING);

  auto asked = Stop(sent, kWithdrawn);
  ASSERT_THAT(asked, IsOk());
  EXPECT_TRUE(asked->stop_requested());
  EXPECT_EQ(asked->state(), v1::BUNDLE_RUNNING);
  EXPECT_EQ(StepOf(*asked, "residence").state(), v1::STEP_RUNNING);
  EXPECT_NE(Statuses(*asked).back(), v1::STOPPED);

  // The agency applies it: the step is done with the agency's outputs.
  invoker_.Release();
  Bundle done = WaitUntil(id, Ended);
  EXPECT_EQ(done.state(), v1::BUNDLE_COMPLETED);
  EXPECT_TRUE(done.stop_requested());
  EXPECT_EQ(done.stop_reason(), kWithdrawn);
  const v1::BundleStep& residence = StepOf(done, "residence");
  EXPECT_EQ(residence.state(), v1::STEP_DONE);
  ASSERT_EQ(residence.outputs().count("removal_number"), 1u);
  EXPECT_EQ(residence.outputs().at("removal_number"),
            absl::StrCat("removal_number-", id, ".residence.g0"));
  EXPECT_EQ(Statuses(done).back(), v1::FINISHED);
  EXPECT_EQ(StopUpdates(done), 0);
}

// Steps not yet sent (PENDING) and refused ones do not hold a stop: they
// are skipped.
TEST_F(OrchestratorTest, StopSkipsStepsNotYetSent) {
  invoker_.SetAgency("civil-status",
                     [](const adapters::StepRequest&)
                         -> absl::StatusOr<adapters::StepOutcome> {
                       adapters::StepOutcome refused;
                       refused.kind = adapters::StepOutcome::Kind::kRefused;
                       refused.reason = "Thông tin của mẹ không khớp";
                       return refused;
                     });
  StartOrchestrator();
  auto started = Start(BirthRequest("000.00.31.H31-260105-00011"));
  ASSERT_THAT(started, IsOk());
  Bundle waiting = WaitUntil(started->bundle_id(), [](const Bundle& b) {
    return b.state() == v1::BUNDLE_WAITING_FOR_OFFICER;
  });
  ASSERT_EQ(StepOf(waiting, "residence").state(), v1::STEP_PENDING);

  auto stopped = Stop(waiting, "Người nộp hồ sơ rút hồ sơ");
  ASSERT_THAT(stopped, IsOk());
  EXPECT_EQ(stopped->state(), v1::BUNDLE_STOPPED);
  for (const auto& step : stopped->steps()) {
    EXPECT_EQ(step.state(), v1::STEP_SKIPPED) << step.name();
  }
  EXPECT_EQ(Statuses(*stopped).back(), v1::STOPPED);
  // Nothing was sent after the refusal.
  EXPECT_THAT(invoker_.calls(), SizeIs(1));
}

TEST_F(OrchestratorTest, TransientFailuresAreSentAgainUnderTheSameKey) {
  auto failures = std::make_shared<std::atomic<int>>(0);
  invoker_.SetAgency("residence", [failures](const adapters::StepRequest& r)
                                      -> absl::StatusOr<adapters::StepOutcome> {
    if (failures->fetch_add(1) < 3) {
      return adapters::MarkRetriable(
          absl::UnavailableError("agency 'residence' failed with HTTP 503"));
    }
    return FakeInvoker::Apply(r);
  });
  StartOrchestrator();
  auto started = Start(BirthRequest("000.00.31.H31-260105-00004"));
  ASSERT_THAT(started, IsOk());
  Bundle done = WaitUntil(started->bundle_id(), Ended);
  EXPECT_EQ(done.state(), v1::BUNDLE_COMPLETED);
  std::vector<std::string> residence_keys;
  for (const auto& call : invoker_.calls()) {
    if (call.adapter == "residence") {
      residence_keys.push_back(call.request.idempotency_key);
    }
  }
  ASSERT_THAT(residence_keys, SizeIs(4));
  for (const std::string& key : residence_keys) {
    EXPECT_EQ(key, absl::StrCat(done.bundle_id(), ".residence.g0"));
  }
  EXPECT_EQ(StepOf(done, "residence").attempts(), 4);
  // No progress update for a retry: it changes no status.
  EXPECT_EQ(done.progress_size(), 8);
}

TEST_F(OrchestratorTest, RestartResumesAStepSentBeforeTheCrashUnderItsKey) {
  invoker_.Hold(true);
  StartOrchestrator();
  auto started = Start(DeathRequest("000.00.31.H31-260105-00005"));
  ASSERT_THAT(started, IsOk());
  WaitUntil(started->bundle_id(), [&](const Bundle&) {
    return invoker_.calls().size() == 1;
  });
  // The gateway dies with the call unanswered; its answer is lost.
  orchestrator_->Stop();
  orchestrator_.reset();
  invoker_.Release();
  StartOrchestrator();
  Bundle done = WaitUntil(started->bundle_id(), Ended);
  EXPECT_EQ(done.state(), v1::BUNDLE_COMPLETED);
  std::vector<testing::ReceivedCall> calls = invoker_.calls();
  ASSERT_THAT(calls, SizeIs(4));
  EXPECT_EQ(calls[0].request.idempotency_key, calls[1].request.idempotency_key);
  EXPECT_EQ(calls[1].request.operation, "register_death");
  // Every update handed over once, in order, however often pushed.
  Bundle queued = WaitUntil(done.bundle_id(), [](const Bundle& b) {
    return b.progress(b.progress_size() - 1).queued();
  });
  EXPECT_THAT(sink_.queued(), SizeIs(queued.progress_size()));
}

// The agencies of `inner` but one, as a config without that adapter.
class WithoutAdapter final : public StepInvoker {
 public:
  WithoutAdapter(StepInvoker* inner, std::string gone)
      : inner_(inner), gone_(std::move(gone)) {}
  absl::StatusOr<std::vector<adapters::StepOperation>> Operations(
      absl::string_view adapter) const override {
    if (adapter == gone_) return absl::NotFoundError("no such adapter");
    return inner_->Operations(adapter);
  }
  void Invoke(absl::string_view adapter, adapters::StepRequest request,
              const adapters::CallContext& context, Done done) override {
    inner_->Invoke(adapter, std::move(request), context, std::move(done));
  }

 private:
  StepInvoker* const inner_;
  const std::string gone_;
};

// A restart whose config lacks the adapter of a step that was with its
// agency is refused, naming it: the step would have been recorded as not
// sent (it may have been) and sent again under a new key once retried.
// Started again with the adapter, the step goes on under its key.
TEST_F(OrchestratorTest, ARestartWithoutTheAdapterOfAnOpenStepIsRefused) {
  invoker_.Hold(true);
  StartOrchestrator();
  auto started = Start(DeathRequest("000.00.31.H31-260105-00007"));
  ASSERT_THAT(started, IsOk());
  WaitUntil(started->bundle_id(),
            [&](const Bundle&) { return invoker_.calls().size() == 1; });
  orchestrator_->Stop();
  orchestrator_.reset();
  const std::string gone = invoker_.calls()[0].adapter;
  WithoutAdapter without(&invoker_, gone);
  EXPECT_THAT(
      TryStartOrchestrator(resilience::RealClock(), nullptr, &without),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("000.00.31.H31-260105-00007"),
                     HasSubstr(absl::StrCat("on adapter '", gone, "'")))));
  orchestrator_.reset();
  invoker_.Release();
  StartOrchestrator();
  EXPECT_EQ(WaitUntil(started->bundle_id(), Ended).state(),
            v1::BUNDLE_COMPLETED);
  std::vector<testing::ReceivedCall> calls = invoker_.calls();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls[0].request.idempotency_key, calls[1].request.idempotency_key);
}

// Residence and the funeral allowance run in parallel. Residence is refused
// for the deceased's name; while the funeral allowance is still being sent
// again after transient failures (the agency may have applied it already),
// an officer corrects the name and resends residence. The funeral
// allowance's repeats stay the request its key was first sent with; only
// residence's new generation carries the corrected name.
TEST_F(OrchestratorTest,
       ACorrectionDoesNotChangeWhatAnotherStepSendsUnderItsKey) {
  static constexpr char kOldName[] = "Người đã mất";  // DeathRequest's
  static constexpr char kNewName[] = "Nguyễn Văn An";
  invoker_.SetAgency(
      "residence",
      [](const adapters::StepRequest& r)
          -> absl::StatusOr<adapters::StepOutcome> {
        auto name = r.inputs.find("full_name");
        if (name == r.inputs.end() || name->second != kNewName) {
          adapters::StepOutcome refused;
          refused.kind = adapters::StepOutcome::Kind::kRefused;
          refused.reason =
              "Họ tên không khớp với Cơ sở dữ liệu quốc gia về dân cư";
          return refused;
        }
        return FakeInvoker::Apply(r);
      });
  // Times out until the correction, and twice after it: at least one send
  // is formed after the corrected data is installed.
  auto corrected = std::make_shared<std::atomic<bool>>(false);
  auto after = std::make_shared<std::atomic<int>>(0);
  invoker_.SetAgency(
      "labour-affairs",
      [corrected, after](const adapters::StepRequest& r)
          -> absl::StatusOr<adapters::StepOutcome> {
        if (!corrected->load() || after->fetch_add(1) < 2) {
          return adapters::MarkRetriable(absl::DeadlineExceededError(
              "agency 'labour-affairs' did not answer in time"));
        }
        return FakeInvoker::Apply(r);
      });
  StartOrchestrator();
  auto started = Start(DeathRequest("000.00.31.H31-260105-00012"));
  ASSERT_THAT(started, IsOk());
  const std::string id = started->bundle_id();
  auto calls_to = [&](const std::string& adapter) {
    std::vector<adapters::StepRequest> requests;
    for (const auto& call : invoker_.calls()) {
      if (call.adapter == adapter) requests.push_back(call.request);
    }
    return requests;
  };
  Bundle waiting = WaitUntil(id, [](const Bundle& b) {
    return StepOf(b, "residence").state() == v1::STEP_REFUSED;
  });
  for (int k = 0; k < 1000 && calls_to("labour-affairs").empty(); ++k) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_THAT(calls_to("labour-affairs"), Not(SizeIs(0)));
  ASSERT_EQ(StepOf(waiting, "funeral_allowance").state(), v1::STEP_RUNNING);

  ASSERT_THAT(Retry(waiting, "residence", {{"deceased.full_name", kNewName}}),
              IsOk());
  corrected->store(true);
  Bundle done = WaitUntil(id, Ended);
  ASSERT_EQ(done.state(), v1::BUNDLE_COMPLETED);

  std::vector<adapters::StepRequest> funeral = calls_to("labour-affairs");
  ASSERT_GE(funeral.size(), 4u);
  EXPECT_EQ(funeral[0].inputs.at("deceased_full_name"), kOldName);
  for (const adapters::StepRequest& request : funeral) {
    EXPECT_EQ(request.idempotency_key,
              absl::StrCat(id, ".funeral_allowance.g0"));
    EXPECT_EQ(request.inputs, funeral[0].inputs);
  }
  std::vector<adapters::StepRequest> residence = calls_to("residence");
  ASSERT_THAT(residence, SizeIs(2));
  EXPECT_EQ(residence[0].idempotency_key, absl::StrCat(id, ".residence.g0"));
  EXPECT_EQ(residence[0].inputs.at("full_name"), kOldName);
  EXPECT_EQ(residence[1].idempotency_key, absl::StrCat(id, ".residence.g1"));
  EXPECT_EQ(residence[1].inputs.at("full_name"), kNewName);
}

// A bundle written before steps kept what they send resumes as before: its
// running step is sent again from the bundle's data, under its key.
TEST_F(OrchestratorTest, AStepStoredWithoutItsRequestResumesFromTheData) {
  invoker_.Hold(true);
  StartOrchestrator();
  auto started = Start(DeathRequest("000.00.31.H31-260105-00013"));
  ASSERT_THAT(started, IsOk());
  const std::string id = started->bundle_id();
  WaitUntil(id, [&](const Bundle&) { return invoker_.calls().size() == 1; });
  orchestrator_->Stop();
  orchestrator_.reset();
  // The record as the earlier gateway wrote it.
  auto row = store_->Get(id);
  ASSERT_THAT(row, IsOk());
  ASSERT_TRUE(row->has_value());
  StoredBundle old = (*row)->bundle;
  ASSERT_TRUE(old.steps(0).has_request());
  old.mutable_steps(0)->clear_request();
  const StoredBundle* writes[] = {&old};
  ASSERT_THAT(store_->Write(writes), IsOk());
  invoker_.Release();

  StartOrchestrator();
  Bundle done = WaitUntil(id, Ended);
  EXPECT_EQ(done.state(), v1::BUNDLE_COMPLETED);
  std::vector<testing::ReceivedCall> calls = invoker_.calls();
  ASSERT_THAT(calls, SizeIs(4));
  EXPECT_EQ(calls[1].request.idempotency_key, calls[0].request.idempotency_key);
  EXPECT_EQ(calls[1].request.inputs, calls[0].request.inputs);
  EXPECT_EQ(calls[1].request.inputs.at("deceased_full_name"), "Người đã mất");
}

// A start the store cannot write is refused with the store's error and
// leaves nothing; a step's answer the store cannot write is kept and
// applied again until the store takes it, without asking the agency again,
// and the bundle completes.
TEST_F(OrchestratorTest, WritesTheStoreRefusesLoseNothing) {
  FailingStore store(store_.get());
  invoker_.Hold(true);
  StartOrchestrator(resilience::RealClock(), &store);
  store.FailNextWrites(1);
  EXPECT_THAT(Start(DeathRequest("000.00.31.H31-260105-00009")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("disk I/O")));
  auto found = store_->FindByDossier("000.00.31.H31-260105-00009");
  ASSERT_THAT(found, IsOk());
  EXPECT_FALSE(found->has_value());
  EXPECT_TRUE(invoker_.calls().empty());

  auto started = Start(DeathRequest("000.00.31.H31-260105-00009"));
  ASSERT_THAT(started, IsOk());
  WaitUntil(started->bundle_id(),
            [&](const Bundle&) { return invoker_.calls().size() == 1; });
  // The answer's write fails, and so do the next two tries, a second apart.
  store.FailNextWrites(3);
  invoker_.Release();
  Bundle done = WaitUntil(started->bundle_id(), Ended);
  EXPECT_EQ(done.state(), v1::BUNDLE_COMPLETED);
  EXPECT_EQ(store.failed(), 4);
  // Each step called once: the civil status answer was not asked for again.
  std::vector<testing::ReceivedCall> calls = invoker_.calls();
  ASSERT_THAT(calls, SizeIs(3));
  std::set<std::string> keys;
  for (const auto& call : calls) keys.insert(call.request.idempotency_key);
  EXPECT_THAT(keys, SizeIs(3));
  EXPECT_EQ(calls[0].request.operation, "register_death");
  EXPECT_FALSE(StepOf(done, "civil_status").outputs().empty());
  EXPECT_EQ(StepOf(done, "civil_status").attempts(), 1);
}

TEST_F(OrchestratorTest, ARepeatedStartIsTheSameBundleAndOtherDataIsRefused) {
  StartOrchestrator();
  v1::StartBundleRequest request = BirthRequest("000.00.31.H31-260105-00006");
  auto first = Start(request);
  auto again = Start(request);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(first->bundle_id(), again->bundle_id());
  request.mutable_birth()->set_child_full_name("Tên khác");
  EXPECT_THAT(Start(request),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("already has bundle " + first->bundle_id())));
  WaitUntil(first->bundle_id(), Ended);
  // Once ended (and out of memory), still the same answers.
  auto after = Start(BirthRequest("000.00.31.H31-260105-00006"));
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->bundle_id(), first->bundle_id());
  EXPECT_EQ(after->state(), v1::BUNDLE_COMPLETED);
}

TEST_F(OrchestratorTest, ProgressWaitsForTheOutboxAndIsHandedOverOnce) {
  sink_.SetFailing(true);
  StartOrchestrator();
  auto started = Start(DeathRequest("000.00.31.H31-260105-00007"));
  ASSERT_THAT(started, IsOk());
  Bundle done = WaitUntil(started->bundle_id(), Ended);
  EXPECT_EQ(done.state(), v1::BUNDLE_COMPLETED);
  EXPECT_GT(orchestrator_->Counts().progress_pending, 0);
  EXPECT_THAT(sink_.queued(), SizeIs(0));
  // However often the bundle changed while the outbox failed, one timer
  // (every 2 s) tries again: at most three tries in 4.5 s.
  const int tried = sink_.failed_pushes();
  absl::SleepFor(absl::Milliseconds(4500));
  EXPECT_LE(sink_.failed_pushes() - tried, 3);
  EXPECT_GE(sink_.failed_pushes() - tried, 1);
  sink_.SetFailing(false);
  Bundle queued = WaitUntil(done.bundle_id(), [](const Bundle& b) {
    return b.progress(b.progress_size() - 1).queued();
  });
  EXPECT_THAT(sink_.queued(), SizeIs(queued.progress_size()));
  EXPECT_EQ(orchestrator_->Counts().progress_pending, 0);
}

TEST_F(OrchestratorTest, OverdueBundlesAreCountedAndListed) {
  // Friday 13 February 2026, 10:00 in Vietnam; Tết the week after.
  resilience::FakeClock clock(absl::FromCivil(
      absl::CivilSecond(2026, 2, 13, 10, 0, 0), calendar::VietnamTime()));
  auto tet = calendar::WorkingCalendar::Create(
      {{2026,
        {{absl::CivilDay(2026, 2, 16), "Tết"}, {absl::CivilDay(2026, 2, 17), "Tết"},
         {absl::CivilDay(2026, 2, 18), "Tết"}, {absl::CivilDay(2026, 2, 19), "Tết"},
         {absl::CivilDay(2026, 2, 20), "Tết"}},
        {}}});
  ASSERT_THAT(tet, IsOk());
  calendar_ = std::make_unique<calendar::CalendarSource>(*std::move(tet));
  invoker_.Hold(true);  // the civil-status system never answers
  StartOrchestrator(&clock);
  auto started = Start(BirthRequest("000.00.31.H31-260213-00008"));
  ASSERT_THAT(started, IsOk());
  // Due at the end of Wednesday 25 February (Mon 23, Tue 24, Wed 25).
  EXPECT_EQ(FromProtoTime(started->deadline()),
            absl::FromCivil(absl::CivilSecond(2026, 2, 26, 0, 0, 0),
                            calendar::VietnamTime()));
  EXPECT_FALSE(started->overdue());
  clock.SetTime(absl::FromCivil(absl::CivilSecond(2026, 2, 25, 23, 59, 0),
                                calendar::VietnamTime()));
  EXPECT_EQ(orchestrator_->Counts().overdue[v1::BIRTH], 0);
  clock.Advance(absl::Minutes(2));
  EXPECT_EQ(orchestrator_->Counts().overdue[v1::BIRTH], 1);
  v1::ListBundlesRequest overdue;
  overdue.set_overdue_only(true);
  auto listed = orchestrator_->List(overdue);
  ASSERT_THAT(listed, IsOk());
  ASSERT_THAT(listed->bundles(), SizeIs(1));
  EXPECT_TRUE(listed->bundles(0).overdue());
  // Waiting at civil status, not at residence.
  v1::ListBundlesRequest at_civil;
  at_civil.set_agency("civil-status");
  EXPECT_THAT(orchestrator_->List(at_civil)->bundles(), SizeIs(1));
  at_civil.set_agency("residence");
  EXPECT_THAT(orchestrator_->List(at_civil)->bundles(), SizeIs(0));
  v1::ListBundlesRequest completed;
  completed.add_states(v1::BUNDLE_COMPLETED);
  EXPECT_THAT(orchestrator_->List(completed)->bundles(), SizeIs(0));
  // Each state counts once; a number that is no state, or no kind, is
  // refused.
  v1::ListBundlesRequest repeated;
  for (int i = 0; i < 100000; ++i) repeated.add_states(v1::BUNDLE_RUNNING);
  EXPECT_THAT(orchestrator_->List(repeated)->bundles(), SizeIs(1));
  v1::ListBundlesRequest unknown;
  unknown.add_states(static_cast<v1::BundleState>(7));
  EXPECT_THAT(orchestrator_->List(unknown),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "states: 7 is not a bundle state"));
  unknown.clear_states();
  unknown.set_kind(static_cast<v1::BundleKind>(9));
  EXPECT_THAT(orchestrator_->List(unknown),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "kind: 9 is not a bundle kind"));
  orchestrator_->Stop();
  invoker_.Release();
}

TEST_F(OrchestratorTest, EveryStepCallIsAuditedWithTheSubjectHashed) {
  auto log = audit::AuditLog::Open(audit::testutil::TestOptions(dir_));
  ASSERT_THAT(log, IsOk());
  audit_ = *std::move(log);
  StartOrchestrator();
  auto started = Start(BirthRequest("000.00.31.H31-260105-00009"));
  ASSERT_THAT(started, IsOk());
  WaitUntil(started->bundle_id(), Ended);
  audit::QueryFilter filter;
  filter.dossier_id = "000.00.31.H31-260105-00009";
  auto records = audit_->index().Query(filter);
  ASSERT_THAT(records, IsOk());
  ASSERT_THAT(*records, SizeIs(3));
  const auto& birth = (*records)[0];
  EXPECT_EQ(birth.method(), "lienthong.bundle.Step/register_birth");
  EXPECT_EQ(birth.caller(), kCaller);
  EXPECT_EQ(birth.national_system(), "civil-status");
  EXPECT_EQ(birth.purpose(), "1.001193");
  EXPECT_EQ(birth.outcome(), "OK");
  EXPECT_EQ(birth.citizen_hmac(), audit_->citizen_key().Hmac(testing::kMotherId));
  EXPECT_NE(birth.citizen_masked(), testing::kMotherId);
  EXPECT_EQ(birth.request_sha256().size(), 64u);
  // The later steps concern the child, by the ID civil status gave.
  EXPECT_EQ((*records)[1].citizen_hmac(),
            audit_->citizen_key().Hmac("033226100042"));
  orchestrator_->Stop();
  ASSERT_THAT(audit_->Close(), IsOk());
}

// A step's digests are keyed, as every record's: a plain hash of an
// agency's refusal quoting an ID would let a reader of the record try
// every candidate of the masked digits.
TEST(StepAuditTest, DigestsAreKeyed) {
  auto citizens = audit::CitizenKey::FromBytes(std::string(32, 'c'));
  auto digests = audit::DigestKey::FromBytes(std::string(32, 'd'));
  auto other = audit::DigestKey::FromBytes(std::string(32, 'e'));
  ASSERT_THAT(citizens, IsOk());
  ASSERT_THAT(digests, IsOk());
  ASSERT_THAT(other, IsOk());
  adapters::StepRequest request;
  request.operation = "register_birth";
  request.idempotency_key = "b-1.civil_status.g0";
  request.inputs["mother.citizen_id"] = testing::kMotherId;
  StepCallFacts facts;
  facts.request_sha256 = RequestDigest(request, *digests);
  EXPECT_EQ(facts.request_sha256.size(), 64u);
  EXPECT_NE(facts.request_sha256, RequestDigest(request, *other));
  const std::string reason =
      absl::StrCat("no citizen ", testing::kMotherId, " in the register");
  adapters::StepOutcome refused;
  refused.kind = adapters::StepOutcome::Kind::kRefused;
  refused.reason = reason;
  const absl::Time now = absl::Now();
  v1::AuditRecord record =
      StepAuditRecord(facts, refused, 1, now, *citizens, *digests);
  EXPECT_EQ(record.request_sha256(), facts.request_sha256);
  EXPECT_EQ(record.outcome(), "FAILED_PRECONDITION");
  EXPECT_EQ(record.response_sha256(), digests->Digest(reason));
  EXPECT_NE(record.response_sha256(), audit::Sha256Hex(reason));
  adapters::StepOutcome applied;
  applied.outputs["citizen_id"] = "033226100042";
  record = StepAuditRecord(facts, applied, 1, now, *citizens, *digests);
  EXPECT_EQ(record.outcome(), "OK");
  EXPECT_EQ(record.response_sha256().size(), 64u);
  EXPECT_NE(record.response_sha256(),
            StepAuditRecord(facts, applied, 1, now, *citizens, *other)
                .response_sha256());
}

}  // namespace
}  // namespace lienthong::bundle
