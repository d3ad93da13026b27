// DeliveryWorker against a fake portal that answers asynchronously after a
// random short delay, so deliveries of many dossiers overlap.
#include "gateway/sync/delivery_worker.h"

#include <time.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "gateway/metrics/registry.h"
#include "gateway/resilience/timer.h"
#include "gateway/sync/sync_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/sync/dossier_fixtures.h"
#include "tests/gateway/sync/fresh_outbox_path.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::v1::DossierStatus;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using adapters::PortalOutcome;

struct Call {
  std::string op;  // create, update, withdraw, register, status
  std::string code;
  std::string idempotency_key;
  int status = 0;  // dossiers
  bool may_have_arrived = false;  // status
  std::string procedure;  // MaTTHC: national (register, procedures)
  absl::Time deadline = absl::InfiniteFuture();  // the call's context's
};

using Script = std::function<absl::StatusOr<PortalOutcome>(const Call&)>;

PortalOutcome Applied() { return PortalOutcome{}; }
PortalOutcome Rejected(std::string reason) {
  return PortalOutcome{PortalOutcome::Kind::kRejected, std::move(reason)};
}
absl::Status Down() {
  return adapters::MarkRetriable(absl::UnavailableError("the portal is down"));
}

class FakePortal final : public adapters::PortalAdapter {
 public:
  explicit FakePortal(Script script) : script_(std::move(script)) {}
  ~FakePortal() override { timers_.Shutdown(); }

  void CreateProcedure(const lienthong::v1::Procedure& p,
                       const std::string& key,
                       const adapters::CallContext& context,
                       adapters::Callback<PortalOutcome> done) override {
    Handle({"create", p.code(), key, 0, false, p.national_code(),
            context.deadline},
           std::move(done));
  }
  void UpdateProcedure(const lienthong::v1::Procedure& p,
                       const std::string& key,
                       const adapters::CallContext& context,
                       adapters::Callback<PortalOutcome> done) override {
    Handle({"update", p.code(), key, 0, false, p.national_code(),
            context.deadline},
           std::move(done));
  }
  void WithdrawProcedure(const lienthong::v1::Procedure& p,
                         const std::string& key, const adapters::CallContext&,
                         adapters::Callback<PortalOutcome> done) override {
    Handle({"withdraw", p.code(), key, 0, false, p.national_code()},
           std::move(done));
  }
  void RegisterDossier(const lienthong::v1::DossierStatusUpdate& u,
                       const std::string& key, const adapters::CallContext&,
                       adapters::Callback<PortalOutcome> done) override {
    Handle({"register", u.dossier_code(), key, static_cast<int>(u.status()),
            false, u.procedure_code()},
           std::move(done));
  }
  void PushDossierStatus(const lienthong::v1::DossierStatusUpdate& u,
                         const std::string& key, bool may_have_arrived,
                         const adapters::CallContext&,
                         adapters::Callback<PortalOutcome> done) override {
    Handle({"status", u.dossier_code(), key, static_cast<int>(u.status()),
            may_have_arrived, ""},
           std::move(done));
  }

  void SetScript(Script script) {
    absl::MutexLock lock(&mu_);
    script_ = std::move(script);
  }
  std::vector<Call> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // What the portal applied, in order (each idempotency key once).
  std::vector<Call> applied() const {
    absl::MutexLock lock(&mu_);
    return applied_;
  }
  int max_per_code() const {
    absl::MutexLock lock(&mu_);
    return max_per_code_;
  }
  int max_total() const {
    absl::MutexLock lock(&mu_);
    return max_total_;
  }

 private:
  void Handle(Call call, adapters::Callback<PortalOutcome> done) {
    absl::StatusOr<PortalOutcome> answer;
    absl::Duration delay;
    {
      absl::MutexLock lock(&mu_);
      calls_.push_back(call);
      max_per_code_ = std::max(max_per_code_, ++in_flight_[call.code]);
      max_total_ = std::max(max_total_, ++total_);
      answer = script_(call);
      if (answer.ok() && answer->kind == PortalOutcome::Kind::kApplied &&
          seen_keys_.insert(call.idempotency_key).second) {
        applied_.push_back(call);
      }
      delay = absl::Microseconds(std::uniform_int_distribution<int>(0, 2000)(rng_));
    }
    timers_.Schedule(absl::Now() + delay, [this, code = call.code, answer,
                                           done = std::move(done)]() mutable {
      {
        absl::MutexLock lock(&mu_);
        --in_flight_[code];
        --total_;
      }
      if (answer.ok()) {
        std::move(done)(adapters::Reply<PortalOutcome>{*answer, ""});
      } else {
        std::move(done)(answer.status());
      }
    });
  }

  mutable absl::Mutex mu_;
  Script script_;
  std::vector<Call> calls_;
  std::vector<Call> applied_;
  std::set<std::string> seen_keys_;
  std::map<std::string, int> in_flight_;
  int total_ = 0;
  int max_per_code_ = 0;
  int max_total_ = 0;
  std::mt19937 rng_{42};
  resilience::TimerQueue timers_;
};

using testutil::kT0;  // 2025-07-15 00:00:00 UTC

std::string Dossier(int n) {
  return absl::StrFormat("000.00.01.H31-250715-%05d", n);
}

// Step `status` of `dossier` at `minute`. The first step (minute 0)
// carries the dossier's registration, as a first update must.
lienthong::v1::DossierStatusUpdate Update(int dossier, DossierStatus status,
                                          int minute) {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code(Dossier(dossier));
  u.set_procedure_code("1.001193.000.00.00.H31");
  u.set_status(status);
  u.mutable_time()->set_seconds(kT0 - 86400 + minute * 60);
  if (minute == 0) {
    *u.mutable_registration() = testutil::Registration(u.time().seconds());
  }
  return u;
}

// What the portal applied for each dossier, in order: "R" for its
// registration, then the statuses.
std::map<std::string, std::vector<std::string>> Applied(
    const std::vector<Call>& calls) {
  std::map<std::string, std::vector<std::string>> order;
  for (const Call& call : calls) {
    if (call.op != "register" && call.op != "status") continue;
    order[call.code].push_back(call.op == "register" ? "R"
                                                     : absl::StrCat(call.status));
  }
  return order;
}

constexpr DossierStatus kLife[] = {
    lienthong::v1::NEW, lienthong::v1::ACCEPTED, lienthong::v1::PROCESSING,
    lienthong::v1::FINISHED, lienthong::v1::RESULT_RETURNED};

class DeliveryWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OutboxOptions options;
    options.path = testing::FreshOutboxPath("delivery_worker_test");
    options.key = testing::TestOutboxKey();
    auto opened = Outbox::Open(options);
    ASSERT_THAT(opened, IsOk());
    outbox_ = *std::move(opened);
    options_.max_in_flight = 8;
    options_.backoff.initial_backoff = absl::Milliseconds(5);
    options_.backoff.max_backoff = absl::Milliseconds(20);
    options_.seed = 7;
  }

  void StartWorker(Script script) {
    portal_ = std::make_unique<FakePortal>(std::move(script));
    worker_ = std::make_unique<DeliveryWorker>(outbox_.get(), portal_.get(),
                                               options_);
    worker_->SetMetrics(metrics_);
    worker_->Start();
  }

  void Push(std::vector<lienthong::v1::DossierStatusUpdate> updates) {
    google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate> batch;
    for (auto& u : updates) *batch.Add() = std::move(u);
    ASSERT_THAT(outbox_->PushDossierUpdates(batch), IsOk());
  }

  // Waits until nothing is pending or in flight (or `dead` letters exist
  // and nothing else can move), polling the store.
  bool WaitSettled(int64_t dead = 0,
                   absl::Duration timeout = absl::Seconds(30)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      auto counts = outbox_->Counts();
      if (counts.ok() && counts->in_flight == 0 && counts->dead == dead &&
          (counts->pending == 0 || (dead > 0 && !outbox_->NextDue()))) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  std::unique_ptr<Outbox> outbox_;
  DeliveryWorkerOptions options_;
  SyncMetrics* metrics_ = nullptr;  // set before StartWorker
  std::unique_ptr<FakePortal> portal_;
  std::unique_ptr<DeliveryWorker> worker_;
};

TEST_F(DeliveryWorkerTest, OrderPerDossierHoldsWithConcurrencyAcrossDossiers) {
  StartWorker([](const Call&) { return Applied(); });
  constexpr int kDossiers = 200;
  // Status by status across every dossier, as a provincial system pushes.
  for (int step = 0; step < 5; ++step) {
    std::vector<lienthong::v1::DossierStatusUpdate> batch;
    for (int d = 1; d <= kDossiers; ++d) {
      batch.push_back(Update(d, kLife[step], step));
    }
    Push(batch);
  }
  ASSERT_TRUE(WaitSettled());
  auto order = Applied(portal_->applied());
  ASSERT_THAT(order, SizeIs(kDossiers));
  for (const auto& [code, steps] : order) {
    EXPECT_THAT(steps, ElementsAre("R", "1", "2", "4", "9", "10")) << code;
  }
  EXPECT_THAT(portal_->calls(), SizeIs(kDossiers * 6));  // each sent once
  EXPECT_EQ(portal_->max_per_code(), 1);
  EXPECT_GT(portal_->max_total(), 1);
  EXPECT_LE(portal_->max_total(), options_.max_in_flight);
  EXPECT_EQ(worker_->counters().delivered, kDossiers * 6);
  // Nothing was sent twice, so nothing was looked up first.
  for (const Call& call : portal_->calls()) EXPECT_FALSE(call.may_have_arrived);
}

// A sync of one procedure, the birth registration.
lienthong::v1::SyncProceduresRequest OneProcedure() {
  lienthong::v1::SyncProceduresRequest request;
  lienthong::v1::Procedure* p = request.add_procedures();
  p->set_code("1.001193.000.00.00.H31");
  p->set_name("Đăng ký khai sinh");
  p->set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  return request;
}

TEST_F(DeliveryWorkerTest, AlreadyExistsTurnsIntoAnUpdate) {
  StartWorker([](const Call& call) -> absl::StatusOr<PortalOutcome> {
    if (call.op == "create") {
      return PortalOutcome{PortalOutcome::Kind::kAlreadyExists, ""};
    }
    return Applied();
  });
  lienthong::v1::SyncProceduresRequest request = OneProcedure();
  auto sync = outbox_->SyncProcedures(request);
  ASSERT_THAT(sync, IsOk());
  ASSERT_TRUE(WaitSettled());
  std::vector<Call> calls = portal_->calls();
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[0].op, "create");
  EXPECT_EQ(calls[1].op, "update");
  EXPECT_EQ(calls[1].idempotency_key, calls[0].idempotency_key + "-u");
  EXPECT_EQ(outbox_->GetJob(sync->job_id())->state(),
            lienthong::v1::SyncJob::DONE);
  // The portal now holds it: the same catalogue is unchanged, a new
  // version is an update.
  auto again = outbox_->SyncProcedures(request);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->unchanged(), 1);
  request.mutable_procedures(0)->set_fees("Miễn phí");
  auto changed = outbox_->SyncProcedures(request);
  ASSERT_THAT(changed, IsOk());
  EXPECT_EQ(changed->updates(), 1);
  ASSERT_TRUE(WaitSettled());
  EXPECT_EQ(portal_->calls().back().op, "update");
}

TEST_F(DeliveryWorkerTest, FallbackUpdateKeepsTheCreatesDeadline) {
  // Under a PostgreSQL lease the attempt timeout is two thirds of the
  // lease, so that no attempt is still out when another replica takes the
  // item over: the update a create falls back to must not start a timeout
  // of its own.
  StartWorker([](const Call& call) -> absl::StatusOr<PortalOutcome> {
    if (call.op == "create") {
      // The answer takes a while: a deadline set when the update goes out
      // would be that much later.
      absl::SleepFor(absl::Milliseconds(20));
      return PortalOutcome{PortalOutcome::Kind::kAlreadyExists, ""};
    }
    return Applied();
  });
  ASSERT_THAT(outbox_->SyncProcedures(OneProcedure()), IsOk());
  ASSERT_TRUE(WaitSettled());
  std::vector<Call> calls = portal_->calls();
  ASSERT_THAT(calls, SizeIs(2));
  ASSERT_EQ(calls[0].op, "create");
  ASSERT_EQ(calls[1].op, "update");
  EXPECT_LT(calls[0].deadline, absl::InfiniteFuture());
  EXPECT_LE(calls[1].deadline, calls[0].deadline);
}

TEST_F(DeliveryWorkerTest, RejectionDeadLettersAndBlocksOnlyItsDossier) {
  StartWorker([](const Call& call) -> absl::StatusOr<PortalOutcome> {
    if (call.code == Dossier(2) && call.status == 2) {
      return Rejected("Từ chối: hồ sơ không hợp lệ (CCCD 033.085.012.345)");
    }
    return Applied();
  });
  for (int step = 0; step < 3; ++step) {
    std::vector<lienthong::v1::DossierStatusUpdate> batch;
    for (int d = 1; d <= 3; ++d) batch.push_back(Update(d, kLife[step], step));
    Push(batch);
  }
  ASSERT_TRUE(WaitSettled(/*dead=*/1));
  auto order = Applied(portal_->applied());
  EXPECT_THAT(order[Dossier(1)], ElementsAre("R", "1", "2", "4"));
  EXPECT_THAT(order[Dossier(2)], ElementsAre("R", "1"));  // PROCESSING waits
  EXPECT_THAT(order[Dossier(3)], ElementsAre("R", "1", "2", "4"));
  auto letters = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(letters, IsOk());
  ASSERT_THAT(letters->dead_letters(), SizeIs(1));
  EXPECT_EQ(letters->dead_letters(0).code(), Dossier(2));
  // The citizen's ID the portal quoted is kept masked.
  EXPECT_EQ(letters->dead_letters(0).reason(),
            "the portal refused it: Từ chối: hồ sơ không hợp lệ (CCCD "
            "033*******45)");

  // The operator has it fixed at the portal and retries.
  portal_->SetScript([](const Call&) { return Applied(); });
  ASSERT_THAT(outbox_->RetryDeadLetters({}), IsOk());
  ASSERT_TRUE(WaitSettled());
  order = Applied(portal_->applied());
  EXPECT_THAT(order[Dossier(2)], ElementsAre("R", "1", "2", "4"));
}

TEST_F(DeliveryWorkerTest, RetriableFailuresAreRetriedThenGivenUp) {
  options_.breaker.consecutive_failures = 0;  // isolate per-item retries
  options_.breaker.failure_ratio = 0;
  options_.give_up_after = absl::Milliseconds(300);
  int failures_left = 3;
  StartWorker([&failures_left](const Call& call) -> absl::StatusOr<PortalOutcome> {
    if (call.code == Dossier(1) && failures_left > 0) {
      --failures_left;
      return Down();
    }
    if (call.code == Dossier(2)) return Down();  // never recovers
    return Applied();
  });
  Push({Update(1, lienthong::v1::NEW, 0), Update(2, lienthong::v1::NEW, 0)});
  ASSERT_TRUE(WaitSettled(/*dead=*/1));
  // Dossier 1's registration: three failures, then applied; then its NEW.
  int calls1 = 0;
  for (const Call& call : portal_->calls()) calls1 += call.code == Dossier(1);
  EXPECT_EQ(calls1, 5);
  EXPECT_THAT(Applied(portal_->applied())[Dossier(1)], ElementsAre("R", "1"));
  auto letters = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(letters, IsOk());
  ASSERT_THAT(letters->dead_letters(), SizeIs(1));
  EXPECT_EQ(letters->dead_letters(0).code(), Dossier(2));
  EXPECT_THAT(letters->dead_letters(0).reason(),
              ::testing::StartsWith("the portal kept failing for "));
  EXPECT_GE(worker_->counters().retries, 3);
}

TEST_F(DeliveryWorkerTest, OutageEndsAndBackoffsAreNotSatOut) {
  // Long item backoffs: without the breaker's recovery every item that
  // failed would wait up to a minute.
  options_.backoff.initial_backoff = absl::Seconds(30);
  options_.backoff.max_backoff = absl::Seconds(60);
  options_.breaker.consecutive_failures = 3;
  options_.breaker.open_duration = absl::Milliseconds(50);
  absl::Mutex mu;
  bool down = true;
  StartWorker([&](const Call&) -> absl::StatusOr<PortalOutcome> {
    absl::MutexLock lock(&mu);
    if (down) return Down();
    return Applied();
  });
  std::vector<lienthong::v1::DossierStatusUpdate> batch;
  for (int d = 1; d <= 50; ++d) batch.push_back(Update(d, lienthong::v1::NEW, 0));
  Push(batch);
  const absl::Time noticed_by = absl::Now() + absl::Seconds(10);
  while (worker_->breaker_state() == resilience::BreakerState::kClosed &&
         absl::Now() < noticed_by) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(200));  // a few probe rounds
  const int64_t attempts_while_down = worker_->counters().attempts;
  // The breaker held the attempts down: probes, not the whole queue.
  EXPECT_LT(attempts_while_down, 30);
  EXPECT_NE(worker_->breaker_state(), resilience::BreakerState::kClosed);
  {
    absl::MutexLock lock(&mu);
    down = false;
  }
  const absl::Time back = absl::Now();
  ASSERT_TRUE(WaitSettled(0, absl::Seconds(20)));
  EXPECT_LT(absl::Now() - back, absl::Seconds(10));
  EXPECT_THAT(portal_->applied(), SizeIs(100));  // registrations and NEWs
}

// Process CPU time used so far.
absl::Duration ProcessCpu() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

// A few dossiers the portal fails on (while it serves the rest) open the
// breaker too; its first probe, a healthy item, closes it. That was no
// outage: those items keep their own backoff instead of being made due at
// once, which sent them again every open_duration, reopening the breaker.
TEST_F(DeliveryWorkerTest, ItemsFailingOnTheirOwnKeepTheirBackoff) {
  options_.backoff.initial_backoff = absl::Seconds(30);
  options_.backoff.max_backoff = absl::Seconds(60);
  options_.breaker.consecutive_failures = 3;
  options_.breaker.open_duration = absl::Milliseconds(50);
  absl::Mutex mu;
  std::map<std::string, int> calls;
  StartWorker([&](const Call& call) -> absl::StatusOr<PortalOutcome> {
    absl::MutexLock lock(&mu);
    ++calls[call.code];
    for (int d = 1; d <= 5; ++d) {
      if (call.code == Dossier(d)) return Down();
    }
    return Applied();
  });
  std::vector<lienthong::v1::DossierStatusUpdate> bad;
  for (int d = 1; d <= 5; ++d) bad.push_back(Update(d, lienthong::v1::NEW, 0));
  Push(bad);
  // A healthy dossier now and then, so probes succeed.
  for (int d = 100; d < 115; ++d) {
    absl::SleepFor(absl::Milliseconds(100));
    Push({Update(d, lienthong::v1::NEW, 0)});
  }
  // Until the last healthy dossier has been delivered (its registration,
  // then its status), however long that takes on a loaded machine. Then
  // the worker stops: the script uses `mu` and `calls`, which end with this
  // test's body, before the fixture would stop it.
  const auto delivered = [this] {
    for (const Call& call : portal_->applied()) {
      if (call.op == "status" && call.code == Dossier(114)) return true;
    }
    return false;
  };
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!delivered() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));  // polling the portal
  }
  worker_.reset();
  absl::MutexLock lock(&mu);
  for (int d = 1; d <= 5; ++d) {
    // The first try (and at most one more), not one every probe for a
    // second and a half.
    EXPECT_LE(calls[Dossier(d)], 3) << Dossier(d);
  }
  EXPECT_GE(calls[Dossier(114)], 1);
}

TEST_F(DeliveryWorkerTest, StopLeavesUnansweredItemsForTheNextStart) {
  options_.stop_grace = absl::Milliseconds(600);
  // A portal that never answers.
  class Silent final : public adapters::PortalAdapter {
   public:
    void CreateProcedure(const lienthong::v1::Procedure&, const std::string&,
                         const adapters::CallContext&,
                         adapters::Callback<PortalOutcome> d) override {
      absl::MutexLock lock(&mu_);
      held_.push_back(std::move(d));
    }
    void UpdateProcedure(const lienthong::v1::Procedure&, const std::string&,
                         const adapters::CallContext&,
                         adapters::Callback<PortalOutcome> d) override {
      absl::MutexLock lock(&mu_);
      held_.push_back(std::move(d));
    }
    void WithdrawProcedure(const lienthong::v1::Procedure&, const std::string&,
                           const adapters::CallContext&,
                           adapters::Callback<PortalOutcome> d) override {
      absl::MutexLock lock(&mu_);
      held_.push_back(std::move(d));
    }
    void RegisterDossier(const lienthong::v1::DossierStatusUpdate&,
                         const std::string&, const adapters::CallContext&,
                         adapters::Callback<PortalOutcome> d) override {
      absl::MutexLock lock(&mu_);
      held_.push_back(std::move(d));
    }
    void PushDossierStatus(const lienthong::v1::DossierStatusUpdate&,
                           const std::string&, bool,
                           const adapters::CallContext&,
                           adapters::Callback<PortalOutcome> d) override {
      absl::MutexLock lock(&mu_);
      held_.push_back(std::move(d));
    }
    size_t held() {
      absl::MutexLock lock(&mu_);
      return held_.size();
    }
    absl::Mutex mu_;
    std::vector<adapters::Callback<PortalOutcome>> held_;
  } silent;
  DeliveryWorker worker(outbox_.get(), &silent, options_);
  worker.Start();
  Push({Update(1, lienthong::v1::NEW, 0)});
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (silent.held() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  ASSERT_EQ(silent.held(), 1u);
  // Stop waits out the grace for the answer without spinning: it once
  // looked for work again and again, a whole core for the grace.
  const absl::Duration cpu_before = ProcessCpu();
  const absl::Time stop_started = absl::Now();
  worker.Stop();
  EXPECT_GE(absl::Now() - stop_started, absl::Milliseconds(550));
  EXPECT_LT(ProcessCpu() - cpu_before, absl::Milliseconds(100));
  auto counts = outbox_->Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->in_flight, 1);  // recovered to pending at the next Open
  // A late answer after the worker is gone changes nothing.
  std::move(silent.held_[0])(adapters::Reply<PortalOutcome>{Applied(), ""});
  EXPECT_EQ(outbox_->Counts()->in_flight, 1);
}

TEST_F(DeliveryWorkerTest, MetricsMoveAndDeliveredItemsArePruned) {
  metrics::Registry registry;
  SyncMetrics metrics(registry);
  metrics.WatchOutbox(outbox_.get());
  metrics_ = &metrics;
  // Everything delivered is old at once; passes come often.
  options_.delivered_retention = absl::Milliseconds(1);
  options_.prune_interval = absl::Milliseconds(10);
  options_.prune_batch = 2;
  options_.breaker.consecutive_failures = 0;
  options_.breaker.failure_ratio = 0;

  Push({Update(1, kLife[0], 0), Update(2, kLife[0], 0), Update(3, kLife[0], 0),
        Update(1, kLife[1], 1), Update(2, kLife[1], 1),
        Update(3, kLife[1], 1)});
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("\nlienthong_portal_sync_outbox_depth 9\n"));
  EXPECT_THAT(text, HasSubstr("\nlienthong_portal_sync_dead_letters 0\n"));
  EXPECT_THAT(text, HasSubstr("\nlienthong_portal_sync_delivered_total"
                              "{kind=\"dossier\"} 0\n"));

  // Dossier 2's ACCEPTED is refused; dossier 3's registration fails once.
  absl::Mutex mu;
  bool failed_once = false;
  StartWorker([&](const Call& call) -> absl::StatusOr<PortalOutcome> {
    if (call.code == Dossier(2) && call.status == 2 && call.op == "status") {
      return Rejected("Sai");
    }
    absl::MutexLock lock(&mu);
    if (call.code == Dossier(3) && !failed_once) {
      failed_once = true;
      return Down();
    }
    return Applied();
  });
  ASSERT_TRUE(WaitSettled(/*dead=*/1));
  // Eight delivered (three registrations, five steps); the pruner takes
  // them all (each dossier's last accepted update too: the dossiers table
  // answers its repeats).
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (worker_->counters().pruned < 8 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(worker_->counters().pruned, 8);
  auto counts = outbox_->Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->delivered, 0);
  EXPECT_EQ(counts->dead, 1);

  text = registry.Render();
  for (const char* line : {
           "\nlienthong_portal_sync_outbox_depth 0\n",
           "\nlienthong_portal_sync_dead_letters 1\n",
           "\nlienthong_portal_sync_delivered_total{kind=\"dossier\"} 8\n",
           "\nlienthong_portal_sync_delivered_total{kind=\"procedure\"} 0\n",
           "\nlienthong_portal_sync_delivery_failures_total{kind=\"dossier\","
           "outcome=\"retry\"} 1\n",
           "\nlienthong_portal_sync_delivery_failures_total{kind=\"dossier\","
           "outcome=\"dead_letter\"} 1\n",
           "\nlienthong_portal_sync_pruned_total 8\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  worker_->Stop();
  worker_.reset();
  metrics.WatchOutbox(nullptr);  // as when the outbox goes: gauges read 0
  EXPECT_THAT(registry.Render(),
              HasSubstr("\nlienthong_portal_sync_dead_letters 0\n"));
}

TEST_F(DeliveryWorkerTest, RedeliveryOfAStepSaysItMayHaveArrived) {
  options_.breaker.consecutive_failures = 0;
  options_.breaker.failure_ratio = 0;
  options_.attempt_timeout = absl::Milliseconds(300);
  int timeouts_left = 1;
  std::vector<absl::Time> status_sent;  // on the worker's thread
  StartWorker([&timeouts_left, &status_sent](
                  const Call& call) -> absl::StatusOr<PortalOutcome> {
    if (call.op == "status") status_sent.push_back(absl::Now());
    if (call.op == "status" && timeouts_left > 0) {
      --timeouts_left;  // unanswered: it may or may not have arrived
      return adapters::MarkRetriable(
          absl::DeadlineExceededError("the portal did not answer in time"));
    }
    return Applied();
  });
  Push({Update(1, lienthong::v1::NEW, 0)});
  ASSERT_TRUE(WaitSettled());
  std::vector<Call> calls = portal_->calls();
  ASSERT_THAT(calls, SizeIs(3));
  EXPECT_EQ(calls[0].op, "register");
  // The registration goes out with the national procedure code.
  EXPECT_EQ(calls[0].procedure, "1.001193");
  EXPECT_EQ(calls[1].op, "status");
  EXPECT_FALSE(calls[1].may_have_arrived);
  EXPECT_EQ(calls[2].op, "status");
  EXPECT_TRUE(calls[2].may_have_arrived);
  EXPECT_EQ(calls[2].idempotency_key, calls[1].idempotency_key);
  // Not before the timed-out attempt could have been applied at the portal,
  // however short the backoff (5 to 20 ms here).
  ASSERT_THAT(status_sent, SizeIs(2));
  EXPECT_GE(status_sent[1] - status_sent[0], options_.attempt_timeout);
}

// An outage of timeouts: when it ends, the items whose attempts timed out
// are not sent again at once, since the portal may still be applying them
// (the look before resending would not find them yet): not before
// attempt_timeout after the last timeout. Backoffs are still not sat out.
TEST_F(DeliveryWorkerTest, OutageOfTimeoutsEndsWithoutResendingAtOnce) {
  options_.backoff.initial_backoff = absl::Seconds(30);
  options_.backoff.max_backoff = absl::Seconds(60);
  options_.breaker.consecutive_failures = 3;
  options_.breaker.open_duration = absl::Milliseconds(50);
  options_.attempt_timeout = absl::Seconds(1);
  absl::Mutex mu;
  bool down = true;
  std::map<std::string, std::vector<absl::Time>> sent;  // by dossier
  std::map<std::string, absl::Time> timed_out;          // the last, by dossier
  StartWorker([&](const Call& call) -> absl::StatusOr<PortalOutcome> {
    absl::MutexLock lock(&mu);
    const absl::Time now = absl::Now();
    sent[call.code].push_back(now);
    if (!down) return Applied();
    timed_out[call.code] = now;
    return adapters::MarkRetriable(
        absl::DeadlineExceededError("the portal did not answer in time"));
  });
  std::vector<lienthong::v1::DossierStatusUpdate> batch;
  for (int d = 1; d <= 20; ++d)
    batch.push_back(Update(d, lienthong::v1::NEW, 0));
  Push(batch);
  const absl::Time noticed_by = absl::Now() + absl::Seconds(10);
  while (worker_->breaker_state() == resilience::BreakerState::kClosed &&
         absl::Now() < noticed_by) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_NE(worker_->breaker_state(), resilience::BreakerState::kClosed);
  // A few probe rounds, failing: an outage, not items failing on their own.
  absl::SleepFor(absl::Milliseconds(200));
  {
    absl::MutexLock lock(&mu);
    down = false;
  }
  const absl::Time back = absl::Now();
  ASSERT_TRUE(WaitSettled(0, absl::Seconds(20)));
  EXPECT_LT(absl::Now() - back, absl::Seconds(10));  // not 30 s backoffs
  EXPECT_THAT(portal_->applied(), SizeIs(40));       // registrations and NEWs
  worker_.reset();  // the script's captures end with this body
  absl::MutexLock lock(&mu);
  ASSERT_FALSE(timed_out.empty());
  for (const auto& [code, when] : timed_out) {
    const std::vector<absl::Time>& times = sent[code];
    const auto next = std::upper_bound(times.begin(), times.end(), when);
    ASSERT_NE(next, times.end()) << code;
    EXPECT_GE(*next - when, options_.attempt_timeout) << code;
  }
}

TEST(DeliveryWorkerOptionsTest, PruningOptionsAreChecked) {
  DeliveryWorkerOptions options;
  EXPECT_THAT(ValidateDeliveryWorkerOptions(options), IsOk());
  EXPECT_EQ(options.delivered_retention, absl::Hours(168));
  options.delivered_retention = absl::ZeroDuration();
  EXPECT_FALSE(ValidateDeliveryWorkerOptions(options).ok());
  options = DeliveryWorkerOptions();
  options.prune_batch = 0;
  EXPECT_FALSE(ValidateDeliveryWorkerOptions(options).ok());
  options = DeliveryWorkerOptions();
  options.prune_interval = absl::ZeroDuration();
  EXPECT_FALSE(ValidateDeliveryWorkerOptions(options).ok());
}

}  // namespace
}  // namespace lienthong::sync
