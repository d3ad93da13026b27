// CataloguePuller against a fake portal: a read stores the catalogue and
// puts it in use; a failed read keeps the previous one; reads at start only
// when none is stored; one read at a time; after Stop() returns, the portal
// adapter is not called again.
#include "gateway/sync/catalogue_pull.h"

#include <sys/resource.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/sync/fresh_outbox_path.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::v1::CataloguePull;
using ::lienthong::v1::NationalProcedure;
using Verdict = NationalCatalogue::Verdict;

std::string Code(int n) { return absl::StrFormat("1.%06d", n); }

// A portal that takes no pushes: the fakes below answer the catalogue's
// two calls.
class CatalogueOnly : public adapters::PortalAdapter {
 public:
  void CreateProcedure(const lienthong::v1::Procedure&, const std::string&,
                       const adapters::CallContext&,
                       adapters::Callback<adapters::PortalOutcome> d) override {
    std::move(d)(absl::UnimplementedError("not here"));
  }
  void UpdateProcedure(const lienthong::v1::Procedure&, const std::string&,
                       const adapters::CallContext&,
                       adapters::Callback<adapters::PortalOutcome> d) override {
    std::move(d)(absl::UnimplementedError("not here"));
  }
  void WithdrawProcedure(const lienthong::v1::Procedure&, const std::string&,
                         const adapters::CallContext&,
                         adapters::Callback<adapters::PortalOutcome> d) override {
    std::move(d)(absl::UnimplementedError("not here"));
  }
  void RegisterDossier(const lienthong::v1::DossierStatusUpdate&,
                       const std::string&, const adapters::CallContext&,
                       adapters::Callback<adapters::PortalOutcome> d) override {
    std::move(d)(absl::UnimplementedError("not here"));
  }
  void PushDossierStatus(const lienthong::v1::DossierStatusUpdate&,
                         const std::string&, bool, const adapters::CallContext&,
                         adapters::Callback<adapters::PortalOutcome> d) override {
    std::move(d)(absl::UnimplementedError("not here"));
  }
};

// Lists `listed` codes; reads each in full, but for the scripted failures.
class FakeCatalogue final : public CatalogueOnly {
 public:
  void ListNationalProcedures(
      const adapters::CallContext&,
      adapters::Callback<std::vector<NationalProcedure>> done) override {
    absl::Status failure;
    std::vector<NationalProcedure> list;
    {
      absl::MutexLock lock(&mu_);
      ++lists_;
      if (hold_list_) {
        held_ = std::move(done);
        return;
      }
      failure = list_failure_;
      for (const std::string& code : codes_) {
        list.emplace_back().set_code(code);
      }
    }
    if (!failure.ok()) {
      std::move(done)(failure);
      return;
    }
    std::move(done)(adapters::Reply<std::vector<NationalProcedure>>{list, ""});
  }

  void GetNationalProcedure(
      const std::string& code, const adapters::CallContext&,
      adapters::Callback<NationalProcedure> done) override {
    bool failing = false;
    {
      absl::MutexLock lock(&mu_);
      ++reads_[code];
      if (code == not_found_) {
        done_later_.push_back([done = std::move(done)]() mutable {
          std::move(done)(absl::NotFoundError("no such procedure"));
        });
        return;
      }
      failing = code == failing_;
    }
    if (failing) {
      std::move(done)(adapters::MarkRetriable(absl::UnavailableError("503")));
      return;
    }
    NationalProcedure p;
    p.set_code(code);
    p.set_name("Thủ tục " + code);
    p.set_detailed(true);
    std::move(done)(adapters::Reply<NationalProcedure>{p, ""});
  }

  void Set(std::vector<std::string> codes, std::string not_found = "",
           std::string failing = "") {
    absl::MutexLock lock(&mu_);
    codes_ = std::move(codes);
    not_found_ = std::move(not_found);
    failing_ = std::move(failing);
  }
  void FailList(absl::Status status) {
    absl::MutexLock lock(&mu_);
    list_failure_ = std::move(status);
  }
  void HoldList() {
    absl::MutexLock lock(&mu_);
    hold_list_ = true;
  }
  // Answers the held list and any held reads.
  void Release() {
    adapters::Callback<std::vector<NationalProcedure>> held;
    std::vector<NationalProcedure> list;
    {
      absl::MutexLock lock(&mu_);
      hold_list_ = false;
      held = std::move(held_);
      for (const std::string& code : codes_) list.emplace_back().set_code(code);
    }
    if (held) {
      std::move(held)(adapters::Reply<std::vector<NationalProcedure>>{list, ""});
    }
  }
  void AnswerLater() {
    std::vector<absl::AnyInvocable<void() &&>> later;
    {
      absl::MutexLock lock(&mu_);
      later.swap(done_later_);
    }
    for (auto& f : later) std::move(f)();
  }
  int lists() {
    absl::MutexLock lock(&mu_);
    return lists_;
  }
  int reads(const std::string& code) {
    absl::MutexLock lock(&mu_);
    return reads_[code];
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> codes_;
  std::string not_found_, failing_;
  absl::Status list_failure_;
  bool hold_list_ = false;
  adapters::Callback<std::vector<NationalProcedure>> held_;
  std::vector<absl::AnyInvocable<void() &&>> done_later_;
  std::map<std::string, int> reads_;
  int lists_ = 0;
};

// Answers on a thread of its own, as the HTTP client does, listing `listed`
// codes and reading each in full. Once told the puller has stopped
// (MarkStopped), any call it receives is late.
class ThreadedCatalogue final : public CatalogueOnly {
 public:
  explicit ThreadedCatalogue(int listed) {
    for (int i = 1; i <= listed; ++i) codes_.push_back(Code(i));
    answerer_ = std::thread([this] { Answer(); });
  }
  ~ThreadedCatalogue() override {
    {
      absl::MutexLock lock(&mu_);
      quit_ = true;
    }
    answerer_.join();
  }

  void ListNationalProcedures(
      const adapters::CallContext&,
      adapters::Callback<std::vector<NationalProcedure>> done) override {
    std::vector<NationalProcedure> list;
    list.reserve(codes_.size());
    for (const std::string& code : codes_) list.emplace_back().set_code(code);
    absl::MutexLock lock(&mu_);
    Called();
    answers_.push_back(
        [done = std::move(done), list = std::move(list)]() mutable {
          std::move(done)(adapters::Reply<std::vector<NationalProcedure>>{
              std::move(list), ""});
        });
  }

  void GetNationalProcedure(
      const std::string& code, const adapters::CallContext&,
      adapters::Callback<NationalProcedure> done) override {
    absl::MutexLock lock(&mu_);
    Called();
    if (hold_next_read_) {
      // The test calls Stop() meanwhile. Once the puller has let this call
      // through, Stop() must wait for it to return: it does once Stop() has
      // returned (the defect), or after a while.
      hold_next_read_ = false;
      held_ = true;
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(10));
      mu_.AwaitWithTimeout(absl::Condition(&stopped_), absl::Milliseconds(200));
    }
    NationalProcedure p;
    p.set_code(code);
    p.set_name("Thủ tục " + code);
    p.set_detailed(true);
    answers_.push_back([done = std::move(done), p = std::move(p)]() mutable {
      std::move(done)(adapters::Reply<NationalProcedure>{std::move(p), ""});
    });
  }

  // The next read's call returns only once Stopping() (and then Stopped(),
  // or a while) has come.
  void HoldNextRead() {
    absl::MutexLock lock(&mu_);
    hold_next_read_ = true;
  }
  // Whether the held read has come within 10 s.
  bool WaitHeld() {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&held_), absl::Seconds(10));
  }
  void Stopping() {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  void Stopped() {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  // Waits until every answer has been given, and the calls those led to
  // answered in turn.
  void Drain() {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answers_.empty() && !busy_;
    };
    mu_.Await(absl::Condition(&idle));
  }
  // For the next puller.
  void Reset() {
    absl::MutexLock lock(&mu_);
    stopping_ = stopped_ = held_ = false;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  int late_calls() {
    absl::MutexLock lock(&mu_);
    return late_calls_;
  }

 private:
  void Called() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++calls_;
    if (stopped_) ++late_calls_;
  }

  void Answer() {
    for (;;) {
      absl::AnyInvocable<void() &&> answer;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return quit_ || !answers_.empty();
        };
        mu_.Await(absl::Condition(&ready));
        if (quit_) return;
        answer = std::move(answers_.front());
        answers_.pop_front();
        busy_ = true;
      }
      std::move(answer)();  // may call the portal again, from this thread
      absl::MutexLock lock(&mu_);
      busy_ = false;
    }
  }

  std::vector<std::string> codes_;  // set before the thread starts
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> answers_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_next_read_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int late_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread answerer_;
};

// The CPU this process has used so far, user and system.
absl::Duration ProcessCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) +
         absl::DurationFromTimeval(usage.ru_stime);
}

class CataloguePullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::FreshOutboxPath("catalogue_pull_test");
    OutboxOptions options;
    options.path = path_;
    options.key = testing::TestOutboxKey();
    auto opened = Outbox::Open(options);
    ASSERT_THAT(opened, IsOk());
    outbox_ = *std::move(opened);
  }

  std::unique_ptr<CataloguePuller> NewPuller() {
    auto puller = std::make_unique<CataloguePuller>(
        outbox_.get(), &portal_, &catalogue_, CataloguePullerOptions{});
    EXPECT_THAT(puller->LoadStored(), IsOk());
    return puller;
  }

  // Waits for the latest read to end; its state.
  CataloguePull WaitEnded(CataloguePuller& puller) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      std::optional<CataloguePull> pull = puller.Latest();
      if (pull.has_value() && pull->state() != CataloguePull::RUNNING) {
        return *pull;
      }
      absl::SleepFor(absl::Milliseconds(2));  // polling the puller
    }
    ADD_FAILURE() << "the read never ended";
    return CataloguePull();
  }

  std::string path_;
  std::unique_ptr<Outbox> outbox_;
  FakeCatalogue portal_;
  NationalCatalogue catalogue_;
};

TEST_F(CataloguePullTest, AReadIsStoredAndPutInUse) {
  std::vector<std::string> codes;
  for (int i = 1; i <= 50; ++i) codes.push_back(Code(i));
  portal_.Set(codes, /*not_found=*/Code(7), /*failing=*/Code(9));
  EXPECT_EQ(catalogue_.Check(Code(1)), Verdict::kNoCatalogue);
  auto puller = NewPuller();
  puller->Start();  // none stored: reads at once
  std::thread answer_later([&] {
    for (int i = 0; i < 200 && portal_.reads(Code(7)) == 0; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    portal_.AnswerLater();
  });
  CataloguePull pull = WaitEnded(*puller);
  answer_later.join();
  EXPECT_EQ(pull.state(), CataloguePull::DONE) << pull.error();
  EXPECT_EQ(pull.listed(), 50);
  EXPECT_EQ(pull.detailed(), 48);
  EXPECT_EQ(pull.detail_failures(), 2);  // not found; failing twice
  EXPECT_EQ(portal_.reads(Code(9)), 2);
  EXPECT_EQ(pull.catalogue_procedures(), 50);
  EXPECT_TRUE(pull.has_catalogue_pulled());
  EXPECT_EQ(catalogue_.Check(Code(9)), Verdict::kKnown);  // code and name
  EXPECT_EQ(catalogue_.Check(Code(51)), Verdict::kUnknown);
  puller->Stop();

  // Stored: the next start puts it in use and reads nothing.
  NationalCatalogue fresh;
  CataloguePuller again(outbox_.get(), &portal_, &fresh, {});
  ASSERT_THAT(again.LoadStored(), IsOk());
  EXPECT_EQ(fresh.size(), 50);
  const int lists = portal_.lists();
  again.Start();
  absl::SleepFor(absl::Milliseconds(100));  // a read at start would be out
  EXPECT_EQ(portal_.lists(), lists);
  EXPECT_FALSE(again.Latest().has_value());
  again.Stop();
  auto stored = outbox_->ReadNationalCatalogue();
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->codes.size(), 50u);
}

TEST_F(CataloguePullTest, AFailedReadKeepsTheCatalogueInUse) {
  portal_.Set({Code(1), Code(2)});
  auto puller = NewPuller();
  puller->Start();
  ASSERT_EQ(WaitEnded(*puller).state(), CataloguePull::DONE);
  ASSERT_EQ(catalogue_.size(), 2);

  portal_.FailList(adapters::MarkRetriable(absl::UnavailableError("down")));
  CataloguePull started = puller->PullNow();
  EXPECT_TRUE(started.started_now());
  CataloguePull failed = WaitEnded(*puller);
  EXPECT_EQ(failed.state(), CataloguePull::FAILED);
  EXPECT_THAT(failed.error(), ::testing::HasSubstr("the list could not be read"));
  EXPECT_EQ(failed.catalogue_procedures(), 2);
  EXPECT_EQ(catalogue_.Check(Code(2)), Verdict::kKnown);

  // An empty list is a failed read, not an empty catalogue.
  portal_.FailList(absl::OkStatus());
  portal_.Set({});
  puller->PullNow();
  CataloguePull empty = WaitEnded(*puller);
  EXPECT_EQ(empty.state(), CataloguePull::FAILED);
  EXPECT_EQ(empty.error(), "the portal listed no procedures");
  EXPECT_EQ(catalogue_.size(), 2);
}

TEST_F(CataloguePullTest, OneReadAtATime) {
  portal_.Set({Code(1)});
  portal_.HoldList();
  auto puller = NewPuller();
  CataloguePull first = puller->PullNow();
  EXPECT_TRUE(first.started_now());
  EXPECT_EQ(first.state(), CataloguePull::RUNNING);
  CataloguePull second = puller->PullNow();
  EXPECT_FALSE(second.started_now());
  EXPECT_EQ(portal_.lists(), 1);
  puller->Start();  // the thread stores what the read brings
  // ... and waits for its end: it spun on the lock, a read begun before it
  // started having left it a time to read again already past.
  const absl::Duration cpu_before = ProcessCpu();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_LT(ProcessCpu() - cpu_before, absl::Milliseconds(150));
  portal_.Release();
  EXPECT_EQ(WaitEnded(*puller).state(), CataloguePull::DONE);
  EXPECT_EQ(catalogue_.Check(Code(1)), Verdict::kKnown);
}

TEST_F(CataloguePullTest, ReadsAgainEveryRefresh) {
  portal_.Set({Code(1)});
  CataloguePullerOptions options;
  options.refresh = absl::Milliseconds(100);
  CataloguePuller puller(outbox_.get(), &portal_, &catalogue_, options);
  ASSERT_THAT(puller.LoadStored(), IsOk());
  puller.Start();
  ASSERT_EQ(WaitEnded(puller).state(), CataloguePull::DONE);
  // The national database gains a procedure: the next refresh brings it.
  portal_.Set({Code(1), Code(2)});
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (catalogue_.Check(Code(2)) != Verdict::kKnown &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));  // polling the catalogue
  }
  EXPECT_EQ(catalogue_.Check(Code(2)), Verdict::kKnown);
  EXPECT_GE(portal_.lists(), 2);
  puller.Stop();
  auto stored = outbox_->ReadNationalCatalogue();
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->codes.size(), 2u);
}

// An answer lets the read go on (the list here: its reads go out, several
// at once); Stop() comes while the first of them is being called. The
// others must not go out, neither before Stop() returns (it waits for the
// call under way) nor after.
TEST_F(CataloguePullTest, NoCallReachesThePortalAfterStop) {
  ThreadedCatalogue portal(/*listed=*/100);
  portal.HoldNextRead();
  CataloguePuller puller(outbox_.get(), &portal, &catalogue_, {});
  puller.Start();  // none stored: reads at once
  ASSERT_TRUE(portal.WaitHeld());
  const int calls = portal.calls();  // the list and the held read
  portal.Stopping();
  puller.Stop();
  portal.Stopped();
  portal.Drain();  // the answers still out come back, and are dropped
  EXPECT_EQ(portal.late_calls(), 0);
  EXPECT_EQ(portal.calls(), calls);
}

// The same, by chance: Stop() at random points of reads under way.
TEST_F(CataloguePullTest, NoCallReachesThePortalAfterStopUnderLoad) {
  ThreadedCatalogue portal(/*listed=*/3000);
  std::mt19937 random(20220623);  // fixed: a failure can be replayed
  std::uniform_int_distribution<int> wait_us(0, 3000);
  int stops_after_calls = 0;  // stops that came once the portal was called
  for (int i = 0; i < 300 && portal.late_calls() == 0; ++i) {
    portal.Reset();
    auto puller = std::make_unique<CataloguePuller>(
        outbox_.get(), &portal, &catalogue_, CataloguePullerOptions{});
    const int before = portal.calls();
    puller->Start();
    puller->PullNow();
    absl::SleepFor(absl::Microseconds(wait_us(random)));  // reads under way
    if (portal.calls() > before) ++stops_after_calls;
    puller->Stop();
    portal.Stopped();
    portal.Drain();
    puller.reset();
  }
  EXPECT_EQ(portal.late_calls(), 0);
  // Stops that all came before the first call would have tested nothing.
  EXPECT_GT(stops_after_calls, 0);
}

}  // namespace
}  // namespace lienthong::sync
