#include "gateway/sync/outbox.h"

#include <sqlite3.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/sync/dossier_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/sync/dossier_fixtures.h"
#include "tests/gateway/sync/fresh_outbox_path.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::sync::testutil::Batch;
using ::lienthong::sync::testutil::DossierCode;
using ::lienthong::sync::testutil::kT0;
using ::lienthong::sync::testutil::Registered;
using ::lienthong::sync::testutil::StatusUpdate;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::DossierStatus;
using ::lienthong::v1::ProcedurePlan;
using ::lienthong::v1::SyncJob;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

lienthong::v1::Procedure Proc(const std::string& code, const std::string& name) {
  lienthong::v1::Procedure p;
  p.set_code(code);
  p.set_name(name);
  p.set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  return p;
}

DeliveryResult Delivered(int64_t id) {
  DeliveryResult r;
  r.id = id;
  r.kind = DeliveryResult::Kind::kDelivered;
  return r;
}

DeliveryResult Dead(int64_t id, bool refused) {
  DeliveryResult r;
  r.id = id;
  r.kind = DeliveryResult::Kind::kDead;
  r.message = "the portal refused it: Từ chối";
  r.refused = refused;
  return r;
}

DeliveryResult Retry(int64_t id, absl::Time at) {
  DeliveryResult r;
  r.id = id;
  r.kind = DeliveryResult::Kind::kRetry;
  r.next_attempt = at;
  r.message = "the portal is unavailable (HTTP 503)";
  return r;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::FreshOutboxPath("outbox_test");
    Reopen();
  }

  void Reopen() {
    outbox_.reset();
    OutboxOptions options;
    options.path = path_;
    options.key = testing::TestOutboxKey();
    options.clock = &clock_;
    auto opened = Outbox::Open(options);
    ASSERT_THAT(opened, IsOk());
    outbox_ = *std::move(opened);
  }

  std::vector<OutboxItem> Claim(int n = 100,
                                std::vector<DeliveryResult> finished = {}) {
    auto claimed = outbox_->FinishAndClaim(finished, n);
    EXPECT_THAT(claimed, IsOk());
    return claimed.ok() ? *claimed : std::vector<OutboxItem>{};
  }

  // Claims and delivers one item at a time until none is left; returns
  // each as "<sequence> registration <applicant>" or "<sequence> step
  // <status>". `check` sees each item first.
  std::vector<std::string> DeliverOneByOne(
      const std::function<void(const OutboxItem&)>& check = {}) {
    std::vector<std::string> order;
    for (int i = 0; i < 10; ++i) {
      std::vector<OutboxItem> items = Claim();
      if (items.empty()) break;
      EXPECT_THAT(items, SizeIs(1));
      const OutboxItem& item = items[0];
      if (check) check(item);
      order.push_back(absl::StrCat(
          item.sequence, item.registration ? " registration " : " step ",
          item.registration ? item.dossier.registration().applicant().name()
                            : DossierStatusName(item.dossier.status())));
      Claim(0, {Delivered(item.id)});
    }
    return order;
  }

  static std::vector<std::string> Keys(const std::vector<OutboxItem>& items) {
    std::vector<std::string> keys;
    for (const OutboxItem& item : items) {
      keys.push_back(absl::StrCat(item.key, "#", item.sequence));
    }
    return keys;
  }

  resilience::FakeClock clock_{absl::FromUnixSeconds(kT0)};
  std::string path_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxTest, PushIsDurableAndRepeatsAreDuplicates) {
  auto pushed = outbox_->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
             StatusUpdate(1, lienthong::v1::ACCEPTED, 1),
             Registered(StatusUpdate(2, lienthong::v1::NEW, 0)),
             // A repeat within the batch, its registration the same.
             Registered(StatusUpdate(2, lienthong::v1::NEW, 0))}));
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->accepted, 3);
  EXPECT_EQ(pushed->duplicates, 1);
  EXPECT_EQ(pushed->registrations, 2);
  const std::string id = outbox_->outbox_id();
  EXPECT_THAT(id, SizeIs(16));

  Reopen();  // what was acknowledged is there after a restart
  EXPECT_EQ(outbox_->outbox_id(), id);
  auto again = outbox_->PushDossierUpdates(
      Batch({StatusUpdate(1, lienthong::v1::ACCEPTED, 1),  // repeat of an old one
             StatusUpdate(1, lienthong::v1::PROCESSING, 2)}));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->accepted, 1);
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_EQ(again->registrations, 0);
  auto counts = outbox_->Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->pending, 6);  // two registrations, four steps
}

// An update is known by its dossier, status and time. One that repeats
// them with other content (a handover to another officer in the same
// second) is not a repeat: it is refused, naming why, in the same batch or
// a later push and after a restart (until 2026-12-07 it was counted a
// duplicate and never sent). The same again is still a duplicate, also
// along with a registration given again.
TEST_F(OutboxTest, AnUpdateRepeatingAnotherWithOtherContentIsRefused) {
  lienthong::v1::DossierStatusUpdate first =
      StatusUpdate(1, lienthong::v1::PROCESSING, 1);
  lienthong::v1::DossierStatusUpdate handover = first;
  handover.set_handler("cb02");
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                         StatusUpdate(1, lienthong::v1::ACCEPTED, 0), first})),
              IsOk());
  for (bool reopened : {false, true}) {
    SCOPED_TRACE(reopened ? "after a restart" : "");
    if (reopened) Reopen();
    EXPECT_THAT(
        outbox_->PushDossierUpdates(Batch({handover})),
        StatusIs(absl::StatusCode::kFailedPrecondition,
                 AllOf(HasSubstr("updates[0]: dossier 000.00.01.H31-250715-"
                                 "00001 already has an accepted PROCESSING "
                                 "update at this time"),
                       HasSubstr("give this step its own time"))));
    auto repeat = outbox_->PushDossierUpdates(Batch({first}));
    ASSERT_THAT(repeat, IsOk());
    EXPECT_EQ(repeat->duplicates, 1);
  }
  lienthong::v1::DossierStatusUpdate later = first;
  later.mutable_time()->set_seconds(first.time().seconds() + 60);
  lienthong::v1::DossierStatusUpdate later_handover = later;
  later_handover.set_handler("cb02");
  EXPECT_THAT(outbox_->PushDossierUpdates(Batch({later, later_handover})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("updates[1]: dossier")));
  auto counts = outbox_->Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->pending, 4);  // the refused batch queued nothing
}

TEST_F(OutboxTest, ImpossibleTransitionFailsTheWholeBatch) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::FINISHED, 0)),
                         StatusUpdate(1, lienthong::v1::RESULT_RETURNED, 1)})),
              IsOk());
  EXPECT_THAT(
      outbox_->PushDossierUpdates(
          Batch({Registered(StatusUpdate(2, lienthong::v1::NEW, 0)),
                 StatusUpdate(1, lienthong::v1::PROCESSING, 2)})),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "updates[1]: dossier 000.00.01.H31-250715-00001 cannot go from "
               "RESULT_RETURNED to PROCESSING"));
  // Within a batch, each update is checked against the one before it.
  EXPECT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(3, lienthong::v1::NEW, 0)),
                         StatusUpdate(3, lienthong::v1::FINISHED, 1)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot go from NEW to FINISHED")));
  // A later status dated earlier is refused too.
  EXPECT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(4, lienthong::v1::NEW, 10)),
                         StatusUpdate(4, lienthong::v1::ACCEPTED, 9)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("dated before the last accepted status NEW")));
  EXPECT_THAT(outbox_->PushDossierUpdates(Batch({StatusUpdate(5, {}, 0)})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("updates[0].status: ")));
  auto counts = outbox_->Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->pending, 3);  // only the first batch
}

TEST_F(OutboxTest, OnlyTheHeadOfEachKeyIsDueAndOrderHolds) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                         StatusUpdate(1, lienthong::v1::ACCEPTED, 1),
                         Registered(StatusUpdate(2, lienthong::v1::NEW, 0)),
                         StatusUpdate(1, lienthong::v1::PROCESSING, 2)})),
              IsOk());
  // Each dossier's registration first, opened from its seal.
  std::vector<OutboxItem> first = Claim();
  EXPECT_THAT(Keys(first), ElementsAre(DossierCode(1) + "#1", DossierCode(2) + "#1"));
  EXPECT_TRUE(first[0].registration);
  EXPECT_EQ(first[0].dossier.registration().applicant().name(), "Trần Thị Mai");
  EXPECT_EQ(first[0].dossier.status(), lienthong::v1::NEW);
  EXPECT_EQ(first[0].idempotency_key,
            absl::StrCat(outbox_->outbox_id(), "-d1-", DossierCode(1)));
  EXPECT_FALSE(first[0].maybe_sent);
  EXPECT_THAT(Claim(), IsEmpty());  // both keys are in flight

  std::vector<OutboxItem> second = Claim(100, {Delivered(first[0].id)});
  // The claim list is made before the outcome is applied.
  EXPECT_THAT(second, IsEmpty());
  std::vector<OutboxItem> third = Claim();
  EXPECT_THAT(Keys(third), ElementsAre(DossierCode(1) + "#2"));
  EXPECT_FALSE(third[0].registration);
  EXPECT_FALSE(third[0].dossier.has_registration());
  EXPECT_EQ(third[0].dossier.status(), lienthong::v1::NEW);
  EXPECT_THAT(Keys(Claim(100, {Delivered(third[0].id)})), IsEmpty());
  EXPECT_THAT(Keys(Claim()), ElementsAre(DossierCode(1) + "#3"));
}

TEST_F(OutboxTest, InFlightItemsArePendingAgainAfterACrash) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              IsOk());
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(1));
  EXPECT_FALSE(claimed[0].maybe_sent);
  Reopen();
  std::vector<OutboxItem> again = Claim();
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].id, claimed[0].id);
  EXPECT_EQ(again[0].idempotency_key, claimed[0].idempotency_key);
  // Its first attempt may have reached the portal.
  EXPECT_TRUE(again[0].maybe_sent);
}

TEST_F(OutboxTest, ASecondOpenOfTheFileIsRefusedWhileTheFirstLives) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              IsOk());
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(1));
  OutboxOptions options;
  options.path = path_;
  options.key = testing::TestOutboxKey();
  options.clock = &clock_;
  // A second gateway on the file would turn the flight back to pending and
  // send it again beside the first.
  EXPECT_THAT(Outbox::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("in use by another process")));
  EXPECT_THAT(Claim(), IsEmpty());
  Claim(0, {Delivered(claimed[0].id)});
  outbox_.reset();
  auto reopened = Outbox::Open(options);
  ASSERT_THAT(reopened, IsOk());
  // The registration's delivery stands; its step is next.
  auto next = (*reopened)->FinishAndClaim({}, 100);
  ASSERT_THAT(next, IsOkAndHolds(SizeIs(1)));
  EXPECT_FALSE((*next)[0].registration);
  EXPECT_EQ((*next)[0].sequence, claimed[0].sequence + 1);
}

TEST_F(OutboxTest, RetriesWaitTheirTurnAndCanBeExpedited) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              IsOk());
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(1));
  const absl::Time later = clock_.Now() + absl::Seconds(30);
  EXPECT_THAT(Claim(100, {Retry(claimed[0].id, later)}), IsEmpty());
  EXPECT_THAT(Claim(), IsEmpty());
  EXPECT_EQ(outbox_->NextDue(), later);
  clock_.Advance(absl::Seconds(31));
  std::vector<OutboxItem> retried = Claim();
  ASSERT_THAT(retried, SizeIs(1));
  EXPECT_EQ(retried[0].attempts, 1);
  EXPECT_TRUE(retried[0].maybe_sent);
  ASSERT_TRUE(retried[0].first_failure.has_value());
  EXPECT_EQ(*retried[0].first_failure, later - absl::Seconds(30));

  EXPECT_THAT(Claim(100, {Retry(retried[0].id, clock_.Now() + absl::Hours(1))}),
              IsEmpty());
  // Expedited to a time still ahead: due then, not now.
  const absl::Time settle = clock_.Now() + absl::Seconds(10);
  ASSERT_THAT(outbox_->ExpediteRetries(settle), IsOk());
  EXPECT_EQ(outbox_->NextDue(), settle);
  EXPECT_THAT(Claim(), IsEmpty());
  clock_.Advance(absl::Seconds(10));
  EXPECT_THAT(Claim(), SizeIs(1));
}

TEST_F(OutboxTest, DeadLetterBlocksItsDossierUntilRetriedWithANewKey) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                         StatusUpdate(1, lienthong::v1::ACCEPTED, 1),
                         Registered(StatusUpdate(2, lienthong::v1::NEW, 0))})),
              IsOk());
  std::vector<OutboxItem> first = Claim();
  ASSERT_THAT(first, SizeIs(2));
  Claim(0, {Dead(first[0].id, /*refused=*/true), Delivered(first[1].id)});
  // Dossier 1's steps wait behind its refused registration; dossier 2
  // goes on.
  EXPECT_THAT(Keys(Claim()), ElementsAre(DossierCode(2) + "#2"));

  auto page = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->dead_letters(), SizeIs(1));
  const lienthong::v1::DeadLetter& letter = page->dead_letters(0);
  EXPECT_EQ(letter.kind(), "registration");
  EXPECT_EQ(letter.code(), DossierCode(1));
  EXPECT_EQ(letter.reason(), "the portal refused it: Từ chối");
  EXPECT_EQ(letter.attempts(), 1);
  EXPECT_EQ(letter.failed_at().seconds(), kT0);

  EXPECT_THAT(outbox_->RetryDeadLetters({"x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'x'")));
  // Named twice (and once with a leading zero): put back once.
  auto requeued = outbox_->RetryDeadLetters(
      {letter.id(), "999", letter.id(), absl::StrCat("0", letter.id())});
  ASSERT_THAT(requeued, IsOk());
  EXPECT_EQ(*requeued, 1);
  std::vector<OutboxItem> again = Claim();
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].id, first[0].id);
  // The portal answers a known key with its first answer: a new key.
  EXPECT_EQ(again[0].idempotency_key, first[0].idempotency_key + "-r1");
  Claim(0, {Delivered(again[0].id)});
  EXPECT_THAT(Keys(Claim()), ElementsAre(DossierCode(1) + "#2"));
}

TEST_F(OutboxTest, GivenUpItemKeepsItsKeyWhenRetried) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              IsOk());
  std::vector<OutboxItem> first = Claim();
  Claim(0, {Dead(first[0].id, /*refused=*/false)});
  ASSERT_THAT(outbox_->RetryDeadLetters({}), IsOk());
  std::vector<OutboxItem> again = Claim();
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].idempotency_key, first[0].idempotency_key);
}

TEST_F(OutboxTest, DeadLettersPage) {
  std::vector<lienthong::v1::DossierStatusUpdate> updates;
  for (int i = 1; i <= 5; ++i) {
    updates.push_back(Registered(StatusUpdate(i, lienthong::v1::NEW, 0)));
  }
  ASSERT_THAT(outbox_->PushDossierUpdates(Batch(updates)), IsOk());
  std::vector<DeliveryResult> dead;
  for (const OutboxItem& item : Claim()) dead.push_back(Dead(item.id, true));
  Claim(0, dead);
  auto first = outbox_->ListDeadLetters(2, "");
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(first->dead_letters(), SizeIs(2));
  auto second = outbox_->ListDeadLetters(2, first->next_page_token());
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(second->dead_letters(), SizeIs(2));
  auto third = outbox_->ListDeadLetters(2, second->next_page_token());
  ASSERT_THAT(third, IsOk());
  EXPECT_THAT(third->dead_letters(), SizeIs(1));
  EXPECT_EQ(third->next_page_token(), "");
  EXPECT_THAT(outbox_->ListDeadLetters(2, "abc"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token")));
}

lienthong::v1::SyncProceduresRequest Catalogue(
    std::vector<lienthong::v1::Procedure> procedures, bool dry_run = false,
    bool withdraw_missing = false) {
  lienthong::v1::SyncProceduresRequest request;
  for (auto& p : procedures) *request.add_procedures() = std::move(p);
  request.set_dry_run(dry_run);
  request.set_withdraw_missing(withdraw_missing);
  return request;
}

TEST_F(OutboxTest, SyncPlansQueuesAndCountsAJob) {
  auto dry = outbox_->SyncProcedures(
      Catalogue({Proc("1.000001", "A"), Proc("1.000002", "B")}, true));
  ASSERT_THAT(dry, IsOk());
  EXPECT_EQ(dry->creates(), 2);
  EXPECT_EQ(dry->job_id(), "");
  EXPECT_THAT(Claim(), IsEmpty());  // a dry run queues nothing

  auto sync = outbox_->SyncProcedures(
      Catalogue({Proc("1.000001", "A"), Proc("1.000002", "B")}));
  ASSERT_THAT(sync, IsOk());
  EXPECT_EQ(sync->creates(), 2);
  ASSERT_THAT(sync->job_id(), HasSubstr("job-20250715000000-"));
  auto job = outbox_->GetJob(sync->job_id());
  ASSERT_THAT(job, IsOk());
  EXPECT_EQ(job->state(), SyncJob::QUEUED);
  EXPECT_EQ(job->total(), 2);

  // The same catalogue again while its changes are queued: nothing new.
  auto repeat = outbox_->SyncProcedures(
      Catalogue({Proc("1.000001", "A"), Proc("1.000002", "B")}));
  ASSERT_THAT(repeat, IsOk());
  EXPECT_EQ(repeat->unchanged(), 2);
  EXPECT_EQ(repeat->job_id(), "");

  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(2));
  EXPECT_FALSE(claimed[0].portal_has_procedure);
  EXPECT_FALSE(claimed[0].withdraw);
  EXPECT_EQ(claimed[0].procedure.name(), "A");
  EXPECT_EQ(claimed[0].job_id, sync->job_id());
  EXPECT_EQ(outbox_->GetJob(sync->job_id())->state(), SyncJob::RUNNING);
  Claim(0, {Delivered(claimed[0].id), Dead(claimed[1].id, true)});
  job = outbox_->GetJob(sync->job_id());
  ASSERT_THAT(job, IsOk());
  EXPECT_EQ(job->state(), SyncJob::DONE_WITH_ERRORS);
  EXPECT_EQ(job->delivered(), 1);
  EXPECT_EQ(job->dead_lettered(), 1);

  // Against what the portal acknowledged: A is there, B never arrived.
  auto next = outbox_->SyncProcedures(
      Catalogue({Proc("1.000001", "A v2"), Proc("1.000002", "B"),
                 Proc("1.000003", "C")},
                false, false));
  ASSERT_THAT(next, IsOk());
  std::vector<std::pair<std::string, ProcedurePlan::Action>> steps;
  for (const auto& p : next->plan()) steps.emplace_back(p.code(), p.action());
  EXPECT_THAT(steps, ElementsAre(::testing::Pair("1.000001", ProcedurePlan::UPDATE),
                                 ::testing::Pair("1.000002", ProcedurePlan::CREATE),
                                 ::testing::Pair("1.000003", ProcedurePlan::CREATE)));
  // B's dead letter is replaced by the new change.
  auto letters = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(letters, IsOk());
  EXPECT_THAT(letters->dead_letters(), IsEmpty());
  std::vector<OutboxItem> items = Claim();
  ASSERT_THAT(items, SizeIs(3));
  EXPECT_TRUE(items[0].portal_has_procedure);  // A: an update is due
  EXPECT_EQ(items[0].sequence, 2);
  EXPECT_FALSE(items[1].portal_has_procedure);
  Claim(0, {Delivered(items[0].id), Delivered(items[1].id),
            Delivered(items[2].id)});
  EXPECT_EQ(outbox_->GetJob(next->job_id())->state(), SyncJob::DONE);

  auto withdraw = outbox_->SyncProcedures(
      Catalogue({Proc("1.000001", "A v2")}, false, true));
  ASSERT_THAT(withdraw, IsOk());
  EXPECT_EQ(withdraw->unchanged(), 1);
  EXPECT_EQ(withdraw->withdrawals(), 2);
  std::vector<OutboxItem> gone = Claim();
  ASSERT_THAT(gone, SizeIs(2));
  EXPECT_TRUE(gone[0].withdraw);
  Claim(0, {Delivered(gone[0].id), Delivered(gone[1].id)});
  // Withdrawn codes come back as creates.
  auto back = outbox_->SyncProcedures(
      Catalogue({Proc("1.000001", "A v2"), Proc("1.000002", "B")}, true));
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->creates(), 1);
  EXPECT_EQ(back->unchanged(), 1);
  EXPECT_THAT(outbox_->GetJob("job-nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-nope")));
}

TEST_F(OutboxTest, BadCatalogueQueuesNothing) {
  auto sync = outbox_->SyncProcedures(
      Catalogue({Proc("1.000001", "A"), Proc("1.000001", "A again")}));
  EXPECT_THAT(sync, StatusIs(absl::StatusCode::kInvalidArgument,
                             HasSubstr("procedures[1] (1.000001): code "
                                       "repeats procedures[0]")));
  EXPECT_THAT(Claim(), IsEmpty());
}

TEST_F(OutboxTest, DeadLetterOfAProcedureLeftAsThePortalHoldsItIsSuperseded) {
  // A is on the portal; its withdrawal is refused for good.
  ASSERT_THAT(outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")})),
              IsOk());
  std::vector<OutboxItem> created = Claim();
  ASSERT_THAT(created, SizeIs(1));
  Claim(0, {Delivered(created[0].id)});
  ASSERT_THAT(outbox_->SyncProcedures(Catalogue({}, false, true)), IsOk());
  std::vector<OutboxItem> withdrawal = Claim();
  ASSERT_THAT(withdrawal, SizeIs(1));
  ASSERT_TRUE(withdrawal[0].withdraw);
  Claim(0, {Dead(withdrawal[0].id, /*refused=*/true)});

  // The operator keeps A after all: nothing to send, and the withdrawal,
  // retried, would take A off the portal. A dry run says so ...
  auto dry = outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")}, true));
  ASSERT_THAT(dry, IsOk());
  EXPECT_EQ(dry->unchanged(), 1);
  EXPECT_EQ(dry->dead_letters_superseded(), 1);
  ASSERT_THAT(outbox_->ListDeadLetters(0, "")->dead_letters(), SizeIs(1));
  // ... and the sync replaces it, with no job.
  auto kept = outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")}));
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->unchanged(), 1);
  EXPECT_EQ(kept->dead_letters_superseded(), 1);
  EXPECT_EQ(kept->job_id(), "");
  EXPECT_THAT(outbox_->ListDeadLetters(0, "")->dead_letters(), IsEmpty());
  EXPECT_THAT(outbox_->RetryDeadLetters({}), IsOkAndHolds(0));
  EXPECT_THAT(Claim(), IsEmpty());
  // Also after a restart.
  Reopen();
  EXPECT_THAT(outbox_->ListDeadLetters(0, "")->dead_letters(), IsEmpty());
  EXPECT_THAT(Claim(), IsEmpty());
  EXPECT_THAT(outbox_->CheckIntegrity(), IsOk());
}

// The portal refuses a procedure change while its correction, synced as the
// change was on its way, waits behind it: the correction replaces the dead
// letter (before, it waited behind it for good, and the dead letter,
// retried, sent the refused content again).
TEST_F(OutboxTest, AProcedureChangeQueuedBehindOneThatDiesReplacesIt) {
  ASSERT_THAT(outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A?")})),
              IsOk());
  std::vector<OutboxItem> refused = Claim();
  ASSERT_THAT(refused, SizeIs(1));
  ASSERT_THAT(outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")})),
              IsOk());
  Claim(0, {Dead(refused[0].id, /*refused=*/true)});
  std::vector<OutboxItem> corrected = Claim();
  ASSERT_THAT(corrected, SizeIs(1));
  EXPECT_EQ(corrected[0].procedure.name(), "A");
  EXPECT_THAT(outbox_->ListDeadLetters(0, "")->dead_letters(), IsEmpty());
  EXPECT_THAT(Claim(0, {Delivered(corrected[0].id)}), IsEmpty());
  Reopen();
  EXPECT_THAT(Claim(), IsEmpty());
  EXPECT_THAT(outbox_->ListDeadLetters(0, "")->dead_letters(), IsEmpty());
  EXPECT_THAT(outbox_->CheckIntegrity(), IsOk());
  // A procedure change that dies with nothing behind it stays a dead letter.
  ASSERT_THAT(outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A!")})),
              IsOk());
  std::vector<OutboxItem> alone = Claim();
  ASSERT_THAT(alone, SizeIs(1));
  EXPECT_THAT(Claim(100, {Dead(alone[0].id, /*refused=*/true)}), IsEmpty());
  EXPECT_THAT(outbox_->ListDeadLetters(0, "")->dead_letters(), SizeIs(1));
}

TEST(OutboxOpenTest, MakesItsFolder) {
  const ::lienthong::testing::ScratchDir scratch("outbox-open");
  const std::string dir = scratch.File("nested");
  OutboxOptions options;
  options.path = dir + "/outbox.db";
  options.key = testing::TestOutboxKey();
  auto opened = Outbox::Open(options);
  ASSERT_THAT(opened, IsOk());
  EXPECT_THAT((*opened)->CheckIntegrity(), IsOk());
  options.path = "/proc/no-such-place/outbox.db";
  EXPECT_THAT(Outbox::Open(options),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("outbox")));
}

TEST_F(OutboxTest, ListenersHearOfWorkAndJobs) {
  int work = 0;
  std::vector<std::string> jobs;
  outbox_->SetWorkListener([&work] { ++work; });
  outbox_->SetJobListener([&jobs](const std::vector<std::string>& ids) {
    jobs.insert(jobs.end(), ids.begin(), ids.end());
  });
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              IsOk());
  EXPECT_EQ(work, 1);
  auto sync = outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")}));
  ASSERT_THAT(sync, IsOk());
  EXPECT_EQ(work, 2);
  std::vector<OutboxItem> claimed = Claim();
  EXPECT_THAT(jobs, ElementsAre(sync->job_id()));  // started
  std::vector<DeliveryResult> done;
  for (const OutboxItem& item : claimed) done.push_back(Delivered(item.id));
  Claim(0, done);
  EXPECT_THAT(jobs, ElementsAre(sync->job_id(), sync->job_id()));
  EXPECT_THAT(outbox_->CheckIntegrity(), IsOk());
}

// Every item in the store as "<key>#<seq>:<state>", by id; read through a
// connection of its own, as an operator's sqlite3 would.
std::vector<std::string> StoredItems(const std::string& path) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT key, seq, state FROM items ORDER BY id", -1,
                     &q, nullptr);
  while (sqlite3_step(q) == SQLITE_ROW) {
    constexpr const char* kStates[] = {"pending", "in_flight", "delivered",
                                       "dead", "superseded"};
    rows.push_back(absl::StrCat(
        reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "#",
        sqlite3_column_int64(q, 1), ":", kStates[sqlite3_column_int(q, 2)]));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return rows;
}

TEST_F(OutboxTest, PruneDeletesOldDeliveredItemsAndKeepsTheRest) {
  using lienthong::v1::ACCEPTED;
  using lienthong::v1::MORE_DOCUMENTS_NEEDED;
  using lienthong::v1::NEW;
  using lienthong::v1::PROCESSING;
  // Each dossier's registration first, then: dossier 1, four statuses, all
  // delivered. Dossier 2: NEW delivered, ACCEPTED still pending. Dossier 3:
  // its registration a dead letter, NEW behind it. Dossier 5: delivered only
  // later. Dossier 6: two statuses at the same minute. And a procedure,
  // delivered.
  ASSERT_THAT(
      outbox_->PushDossierUpdates(Batch(
          {Registered(StatusUpdate(1, NEW, 0)), StatusUpdate(1, ACCEPTED, 1),
           StatusUpdate(1, PROCESSING, 2), StatusUpdate(1, PROCESSING, 3),
           Registered(StatusUpdate(2, NEW, 0)), StatusUpdate(2, ACCEPTED, 1),
           Registered(StatusUpdate(3, NEW, 0)), Registered(StatusUpdate(5, NEW, 0)),
           Registered(StatusUpdate(6, PROCESSING, 3)),
           StatusUpdate(6, MORE_DOCUMENTS_NEEDED, 3)})),
      IsOk());
  ASSERT_THAT(outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")})),
              IsOk());
  // Deliver what the story says, head by head.
  for (int round = 0; round < 6; ++round) {
    std::vector<DeliveryResult> done;
    for (const OutboxItem& item : Claim()) {
      if (item.key == DossierCode(3)) {
        done.push_back(Dead(item.id, /*refused=*/true));
      } else if (item.key == DossierCode(2) && item.sequence == 3) {
        done.push_back(Retry(item.id, clock_.Now() + absl::Hours(1000)));
      } else if (item.key != DossierCode(5)) {
        done.push_back(Delivered(item.id));
      } else {
        DeliveryResult release;
        release.id = item.id;
        release.kind = DeliveryResult::Kind::kRelease;
        done.push_back(release);
      }
    }
    Claim(0, done);
  }
  // Eight days on, dossier 5 is delivered, and dossier 4 is new.
  clock_.Advance(absl::Hours(8 * 24));
  for (int step = 1; step <= 2; ++step) {
    std::vector<OutboxItem> late = Claim();
    ASSERT_THAT(Keys(late), ElementsAre(absl::StrCat(DossierCode(5), "#", step)));
    Claim(0, {Delivered(late[0].id)});
  }
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(4, NEW, 60 * 24 * 8))})),
              IsOk());
  for (int step = 1; step <= 2; ++step) {
    std::vector<OutboxItem> fresh = Claim();
    ASSERT_THAT(Keys(fresh), ElementsAre(absl::StrCat(DossierCode(4), "#", step)));
    Claim(0, {Delivered(fresh[0].id)});
  }
  const std::vector<std::string> before = StoredItems(path_);
  ASSERT_THAT(before, SizeIs(18));

  // A pass in steps of two items, to the end.
  const absl::Time cutoff = clock_.Now() - absl::Hours(7 * 24);
  int64_t examined = 0, deleted = 0;
  for (int step = 0;; ++step) {
    ASSERT_LT(step, 20) << "the pass never ends";
    auto progress = outbox_->PruneDelivered(cutoff, 2);
    ASSERT_THAT(progress, IsOk());
    EXPECT_LE(progress->examined, 2);
    examined += progress->examined;
    deleted += progress->deleted;
    if (progress->pass_done) break;
  }
  // Dossier 4's items are younger than the cutoff: the pass stops before
  // them. Delivered registrations go (a repeat is told by the dossier's
  // registration digest).
  EXPECT_EQ(examined, 16);
  EXPECT_EQ(deleted, 10);
  EXPECT_THAT(
      StoredItems(path_),
      ElementsAre(DossierCode(2) + "#3:pending", DossierCode(3) + "#1:dead",
                  DossierCode(3) + "#2:pending",
                  DossierCode(5) + "#1:delivered",  // delivered lately
                  DossierCode(5) + "#2:delivered",
                  // Same time as the last status: kept, see below.
                  DossierCode(6) + "#2:delivered", DossierCode(4) + "#1:delivered",
                  DossierCode(4) + "#2:delivered"));
  // A second pass finds nothing more.
  auto again = outbox_->PruneDelivered(cutoff, 100);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->pass_done);
  EXPECT_EQ(again->deleted, 0);

  // Repeats are still never queued again: the last accepted update is a
  // duplicate (the dossiers table knows it), as is dossier 6's kept
  // PROCESSING, which could otherwise follow MORE_DOCUMENTS_NEEDED again.
  auto repeats = outbox_->PushDossierUpdates(
      Batch({StatusUpdate(1, PROCESSING, 3), StatusUpdate(6, PROCESSING, 3),
             StatusUpdate(6, MORE_DOCUMENTS_NEEDED, 3)}));
  ASSERT_THAT(repeats, IsOk());
  EXPECT_EQ(repeats->accepted, 0);
  EXPECT_EQ(repeats->duplicates, 3);
  // A repeat of an older, pruned one is refused: PROCESSING may follow
  // PROCESSING, but not dated before it; ACCEPTED may not follow at all.
  EXPECT_THAT(outbox_->PushDossierUpdates(Batch({StatusUpdate(1, PROCESSING, 2)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("dated before the last accepted status")));
  EXPECT_THAT(outbox_->PushDossierUpdates(Batch({StatusUpdate(1, ACCEPTED, 1)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot go from PROCESSING to ACCEPTED")));
  // Sequences and idempotency keys go on where they were.
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({StatusUpdate(1, MORE_DOCUMENTS_NEEDED, 60 * 24 * 8)})),
              IsOk());
  std::vector<OutboxItem> next = Claim();
  ASSERT_THAT(Keys(next), ElementsAre(DossierCode(1) + "#6"));
  EXPECT_EQ(next[0].idempotency_key,
            absl::StrCat(outbox_->outbox_id(), "-d6-", DossierCode(1)));
  // The catalogue still plans against what the portal acknowledged.
  auto catalogue = outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")}));
  ASSERT_THAT(catalogue, IsOk());
  EXPECT_EQ(catalogue->unchanged(), 1);
  // Pending and dead items keep their place in their dossier's order.
  ASSERT_THAT(outbox_->RetryDeadLetters({}), IsOk());
  clock_.Advance(absl::Hours(1000));
  EXPECT_THAT(Keys(Claim()), ElementsAre(DossierCode(3) + "#1", DossierCode(2) + "#3"));
  EXPECT_THAT(outbox_->CheckIntegrity(), IsOk());
}

// Finished sync jobs are pruned like delivered items, and only they.
class OutboxJobPruneTest : public OutboxTest {
 protected:
  static constexpr absl::Duration kRetention = absl::Hours(7 * 24);

  // Syncs new procedures `codes` as one job; returns its id.
  std::string NewJob(const std::vector<std::string>& codes) {
    std::vector<lienthong::v1::Procedure> procedures;
    for (const std::string& code : codes) {
      procedures.push_back(Proc(code, code));
    }
    auto sync = outbox_->SyncProcedures(Catalogue(procedures));
    EXPECT_THAT(sync, IsOk());
    return sync.ok() ? sync->job_id() : "";
  }

  // Delivers every due item.
  void DeliverAll() {
    std::vector<DeliveryResult> done;
    for (const OutboxItem& item : Claim()) done.push_back(Delivered(item.id));
    Claim(0, done);
  }

  // Runs a whole pass with the usual retention, a row per step so that it
  // resumes across kept and deleted rows; returns its totals.
  PruneProgress PrunePass() {
    const absl::Time cutoff = clock_.Now() - kRetention;
    PruneProgress total;
    for (int step = 0; step < 1000 && !total.pass_done; ++step) {
      auto progress = outbox_->PruneDelivered(cutoff, 1);
      EXPECT_THAT(progress, IsOk());
      if (!progress.ok()) break;
      EXPECT_LE(progress->examined + progress->jobs_examined, 1);
      total.examined += progress->examined;
      total.deleted += progress->deleted;
      total.jobs_examined += progress->jobs_examined;
      total.jobs_deleted += progress->jobs_deleted;
      total.pass_done = progress->pass_done;
    }
    EXPECT_TRUE(total.pass_done) << "the pass never ends";
    return total;
  }
};

TEST_F(OutboxJobPruneTest, FinishedOldJobIsPruned) {
  const std::string job = NewJob({"1.000001", "1.000002"});
  const std::string other = NewJob({"1.000003"});
  DeliverAll();
  ASSERT_EQ(outbox_->GetJob(job)->state(), SyncJob::DONE);
  clock_.Advance(kRetention + absl::Hours(1));
  PruneProgress pass = PrunePass();
  EXPECT_EQ(pass.deleted, 3);
  EXPECT_EQ(pass.jobs_examined, 2);
  EXPECT_EQ(pass.jobs_deleted, 2);
  EXPECT_THAT(StoredItems(path_), IsEmpty());
  for (const std::string& id : {job, other}) {
    EXPECT_THAT(outbox_->GetJob(id),
                StatusIs(absl::StatusCode::kNotFound,
                         ::testing::AllOf(HasSubstr(id), HasSubstr("pruned"))));
  }
  // The catalogue still plans against what the portal acknowledged.
  auto again = outbox_->SyncProcedures(
      Catalogue({Proc("1.000001", "1.000001"), Proc("1.000002", "1.000002")}));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->unchanged(), 2);
  EXPECT_EQ(again->job_id(), "");
  EXPECT_THAT(outbox_->CheckIntegrity(), IsOk());
}

TEST_F(OutboxJobPruneTest, FinishedRecentJobIsKept) {
  // Made long ago, but its last item was delivered only lately: the time
  // that counts is when it finished.
  const std::string job = NewJob({"1.000001", "1.000002"});
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(2));
  Claim(0, {Delivered(claimed[0].id),
            Retry(claimed[1].id, clock_.Now() + absl::Hours(1))});
  clock_.Advance(kRetention - absl::Hours(1));
  DeliverAll();
  clock_.Advance(absl::Hours(2));  // made before the cutoff, finished after
  PruneProgress pass = PrunePass();
  EXPECT_EQ(pass.deleted, 1);  // the item delivered long ago
  EXPECT_EQ(pass.jobs_deleted, 0);
  auto kept = outbox_->GetJob(job);
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->state(), SyncJob::DONE);
  EXPECT_EQ(kept->delivered(), 2);

  // Once it is old enough, it goes.
  clock_.Advance(kRetention);
  EXPECT_EQ(PrunePass().jobs_deleted, 1);
  EXPECT_THAT(outbox_->GetJob(job),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("pruned")));
}

TEST_F(OutboxJobPruneTest, OldJobWithADeadLetterIsKept) {
  const std::string job = NewJob({"1.000001", "1.000002"});
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(2));
  Claim(0, {Delivered(claimed[0].id), Dead(claimed[1].id, /*refused=*/true)});
  clock_.Advance(kRetention * 2);
  PruneProgress pass = PrunePass();
  EXPECT_EQ(pass.jobs_examined, 1);
  EXPECT_EQ(pass.jobs_deleted, 0);
  auto kept = outbox_->GetJob(job);
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->state(), SyncJob::DONE_WITH_ERRORS);
  EXPECT_EQ(kept->dead_lettered(), 1);

  // Retried and delivered: finished, and pruned a retention later.
  ASSERT_THAT(outbox_->RetryDeadLetters({}), IsOk());
  EXPECT_EQ(PrunePass().jobs_deleted, 0);  // pending again
  DeliverAll();
  ASSERT_EQ(outbox_->GetJob(job)->state(), SyncJob::DONE);
  EXPECT_EQ(PrunePass().jobs_deleted, 0);  // just finished
  clock_.Advance(kRetention + absl::Hours(1));
  EXPECT_EQ(PrunePass().jobs_deleted, 1);
  EXPECT_THAT(outbox_->GetJob(job),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("pruned")));
}

TEST_F(OutboxJobPruneTest, UnreadableItemIsADeadLetterOfItsJob) {
  const std::string job = NewJob({"1.000001", "1.000002"});
  // Disk corruption of the first item's payload (not a valid message).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE items SET payload=X'FFFF' WHERE id=(SELECT "
                         "MIN(id) FROM items)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(1));
  EXPECT_EQ(claimed[0].key, "1.000002");
  auto running = outbox_->GetJob(job);
  ASSERT_THAT(running, IsOk());
  EXPECT_EQ(running->dead_lettered(), 1);
  Claim(0, {Delivered(claimed[0].id)});
  auto ended = outbox_->GetJob(job);
  ASSERT_THAT(ended, IsOk());
  EXPECT_EQ(ended->state(), SyncJob::DONE_WITH_ERRORS);
  EXPECT_EQ(ended->delivered(), 1);
  EXPECT_EQ(ended->dead_lettered(), 1);
  auto letters = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(letters, IsOk());
  ASSERT_THAT(letters->dead_letters(), SizeIs(1));
  EXPECT_EQ(letters->dead_letters(0).code(), "1.000001");
  EXPECT_THAT(letters->dead_letters(0).reason(),
              HasSubstr("stored item unreadable"));
  // Kept like any job with a dead letter.
  clock_.Advance(kRetention * 2);
  EXPECT_EQ(PrunePass().jobs_deleted, 0);
  EXPECT_THAT(outbox_->GetJob(job), IsOk());
}

TEST_F(OutboxJobPruneTest, JobWhoseDeadLetterWasSupersededIsPruned) {
  // A later change of the procedure replaces the dead letter: nothing of
  // the job is left to retry.
  const std::string job = NewJob({"1.000001"});
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(1));
  Claim(0, {Dead(claimed[0].id, /*refused=*/true)});
  clock_.Advance(kRetention * 2);
  auto next = outbox_->SyncProcedures(Catalogue({Proc("1.000001", "v2")}));
  ASSERT_THAT(next, IsOk());
  DeliverAll();
  EXPECT_EQ(PrunePass().jobs_deleted, 1);
  EXPECT_THAT(outbox_->GetJob(job),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("pruned")));
  EXPECT_THAT(outbox_->GetJob(next->job_id()), IsOk());  // finished lately
}

TEST_F(OutboxJobPruneTest, OldJobWithPendingItemsIsKept) {
  // One job under way: an item delivered, one to retry, one in flight.
  // Another never started.
  const std::string running = NewJob({"1.000001", "1.000002", "1.000003"});
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(3));
  Claim(0, {Delivered(claimed[0].id),
            Retry(claimed[1].id, clock_.Now() + absl::Hours(1))});
  const std::string queued = NewJob({"1.000004"});
  clock_.Advance(kRetention * 2);
  PruneProgress pass = PrunePass();
  EXPECT_EQ(pass.deleted, 1);  // the delivered item only
  EXPECT_EQ(pass.jobs_examined, 2);
  EXPECT_EQ(pass.jobs_deleted, 0);
  auto kept = outbox_->GetJob(running);
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->state(), SyncJob::RUNNING);
  EXPECT_EQ(kept->delivered(), 1);
  kept = outbox_->GetJob(queued);
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->state(), SyncJob::QUEUED);

  // After a crash the one in flight is pending again: still kept.
  Reopen();
  EXPECT_EQ(PrunePass().jobs_deleted, 0);
  EXPECT_THAT(outbox_->GetJob(running), IsOk());
}

TEST_F(OutboxTest, OpenCountsFollowTheItems) {
  ASSERT_THAT(
      outbox_->PushDossierUpdates(
          Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                 StatusUpdate(1, lienthong::v1::ACCEPTED, 1),
                 Registered(StatusUpdate(2, lienthong::v1::NEW, 0)),
                 Registered(StatusUpdate(3, lienthong::v1::NEW, 0))})),
      IsOk());
  OutboxCounts counts = outbox_->OpenCounts();
  EXPECT_EQ(counts.pending, 7);  // three registrations, four steps
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(3));
  counts = outbox_->OpenCounts();
  EXPECT_EQ(counts.pending, 4);
  EXPECT_EQ(counts.in_flight, 3);
  Claim(0, {Delivered(claimed[0].id), Dead(claimed[1].id, true)});
  counts = outbox_->OpenCounts();
  EXPECT_EQ(counts.pending, 4);
  EXPECT_EQ(counts.in_flight, 1);
  EXPECT_EQ(counts.dead, 1);
  EXPECT_EQ(counts.delivered, 0);
  Reopen();  // rebuilt from the store: the one in flight is pending again
  counts = outbox_->OpenCounts();
  EXPECT_EQ(counts.pending, 5);
  EXPECT_EQ(counts.in_flight, 0);
  EXPECT_EQ(counts.dead, 1);
}

// ---- Registrations ---------------------------------------------------------

TEST_F(OutboxTest, FirstUpdateOfADossierNeedsItsRegistration) {
  EXPECT_THAT(
      outbox_->PushDossierUpdates(
          Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                 StatusUpdate(2, lienthong::v1::NEW, 0)})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "updates[1].registration: required with the first update of "
               "dossier 000.00.01.H31-250715-00002, which the gateway has not "
               "registered with the portal"));
  EXPECT_THAT(Claim(), IsEmpty());  // nothing of the batch was queued
  // A malformed registration is named, its value not repeated.
  lienthong::v1::DossierStatusUpdate bad =
      Registered(StatusUpdate(1, lienthong::v1::NEW, 0));
  bad.mutable_registration()->mutable_applicant()->set_phone("call me 0912");
  EXPECT_THAT(outbox_->PushDossierUpdates(Batch({bad})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "updates[0].registration.applicant.phone: not a phone "
                       "number"));
  // Once registered, later updates need none.
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              IsOk());
  EXPECT_THAT(outbox_->PushDossierUpdates(
                  Batch({StatusUpdate(1, lienthong::v1::ACCEPTED, 1)})),
              IsOk());
}

TEST_F(OutboxTest, RegistrationIsSentAgainOnlyWhenItChanged) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              IsOk());
  // The same registration with the next update: not queued again.
  auto same = outbox_->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, lienthong::v1::ACCEPTED, 1))}));
  ASSERT_THAT(same, IsOk());
  EXPECT_EQ(same->registrations, 0);
  EXPECT_EQ(same->accepted, 1);
  // Changed: queued before its update, in the dossier's order.
  auto changed = outbox_->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, lienthong::v1::PROCESSING, 2), "Trần Thị Mây")}));
  ASSERT_THAT(changed, IsOk());
  EXPECT_EQ(changed->registrations, 1);
  // Changed again along with a repeat of an update: the update stays a
  // duplicate, the registration is queued.
  auto repeat = outbox_->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, lienthong::v1::PROCESSING, 2), "Trần Mây")}));
  ASSERT_THAT(repeat, IsOk());
  EXPECT_EQ(repeat->duplicates, 1);
  EXPECT_EQ(repeat->registrations, 1);
  // A late repeat of an older update with its older registration: nothing
  // queued (it would send the old content, and the old status, after the
  // newer ones).
  auto late = outbox_->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, lienthong::v1::ACCEPTED, 1))}));
  ASSERT_THAT(late, IsOk());
  EXPECT_EQ(late->duplicates, 1);
  EXPECT_EQ(late->registrations, 0);
  EXPECT_THAT(DeliverOneByOne(),
              ElementsAre("1 registration Trần Thị Mai", "2 step NEW",
                          "3 step ACCEPTED", "4 registration Trần Thị Mây",
                          "5 step PROCESSING", "6 registration Trần Mây"));
}

TEST_F(OutboxTest, ProgressNeverGoesBeforeItsRegistrationAcrossCrashes) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                         StatusUpdate(1, lienthong::v1::ACCEPTED, 1)})),
              IsOk());
  // A crash with the registration in flight: after the restart the
  // registration is due again, and nothing else of the dossier.
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(Keys(claimed), ElementsAre(DossierCode(1) + "#1"));
  ASSERT_TRUE(claimed[0].registration);
  Reopen();
  claimed = Claim();
  ASSERT_THAT(Keys(claimed), ElementsAre(DossierCode(1) + "#1"));
  EXPECT_TRUE(claimed[0].registration);
  EXPECT_TRUE(claimed[0].maybe_sent);
  // A crash right after the registration was recorded delivered: the step
  // comes next, never the registration again, never the step before it.
  Claim(0, {Delivered(claimed[0].id)});
  Reopen();
  claimed = Claim();
  ASSERT_THAT(Keys(claimed), ElementsAre(DossierCode(1) + "#2"));
  EXPECT_FALSE(claimed[0].registration);
  EXPECT_FALSE(claimed[0].maybe_sent);
  // Refused, the registration holds the dossier's steps back.
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(2, lienthong::v1::NEW, 0))})),
              IsOk());
  std::vector<OutboxItem> second = Claim();
  ASSERT_THAT(Keys(second), ElementsAre(DossierCode(2) + "#1"));
  Claim(0, {Dead(second[0].id, /*refused=*/true)});
  Reopen();
  // Dossier 1's step, in flight at the crash, is due again; dossier 2's
  // NEW is not.
  EXPECT_THAT(Keys(Claim()), ElementsAre(DossierCode(1) + "#2"));
}

// ---- Personal data at rest --------------------------------------------------

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int64_t PayloadSize(const std::string& path, int64_t id) {
  sqlite3* db = nullptr;
  int64_t size = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "SELECT length(payload) FROM items WHERE id=?", -1,
                       &q, nullptr);
    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW) size = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return size;
}

TEST_F(OutboxTest, PersonalDataIsSealedAtRestAndWipedOnDelivery) {
  lienthong::v1::DossierStatusUpdate first =
      Registered(StatusUpdate(1, lienthong::v1::NEW, 0), "Đỗ Thị Hồng Nhung");
  first.mutable_registration()->mutable_applicant()->set_phone("0987654321");
  first.mutable_registration()->mutable_applicant()->set_email(
      "nhung.do@example.vn");
  first.set_handler("Lê Văn Tám");
  ASSERT_THAT(outbox_->PushDossierUpdates(Batch({first})), IsOk());
  // Neither file holds the applicant's name, phone, e-mail, nor the
  // official's name in clear: they wait sealed.
  for (const char* suffix : {"", "-wal"}) {
    const std::string bytes = FileBytes(path_ + suffix);
    ASSERT_FALSE(bytes.empty()) << suffix;
    for (const std::string& secret :
         {std::string("Đỗ Thị Hồng Nhung"), std::string("0987654321"),
          std::string("nhung.do@example.vn"), std::string("Lê Văn Tám")}) {
      EXPECT_EQ(bytes.find(secret), std::string::npos)
          << secret << " in clear in outbox.db" << suffix;
    }
  }
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(1));
  EXPECT_EQ(claimed[0].dossier.registration().applicant().phone(), "0987654321");
  EXPECT_GT(PayloadSize(path_, claimed[0].id), 0);
  Claim(0, {Delivered(claimed[0].id)});
  // Wiped with its delivery, not only when pruned.
  EXPECT_EQ(PayloadSize(path_, claimed[0].id), 0);
  // A retried dead letter keeps its payload until delivered.
  std::vector<OutboxItem> step = Claim();
  ASSERT_THAT(step, SizeIs(1));
  Claim(0, {Dead(step[0].id, true)});
  EXPECT_GT(PayloadSize(path_, step[0].id), 0);
  ASSERT_THAT(outbox_->RetryDeadLetters({}), IsOk());
  std::vector<OutboxItem> again = Claim();
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].dossier.handler(), "Lê Văn Tám");
}

void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// The first column of the first row of `sql`, -1 when there is none.
int64_t QueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t value = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
      value = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return value;
}

// Flips the lowest bit of byte `at` of item (`key`, `seq`)'s payload.
void FlipBit(const std::string& path, const std::string& key, int seq,
             int at) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT payload FROM items WHERE key=? AND seq=?", -1,
                     &q, nullptr);
  sqlite3_bind_text(q, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(q, 2, seq);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  std::string payload(static_cast<const char*>(sqlite3_column_blob(q, 0)),
                      sqlite3_column_bytes(q, 0));
  sqlite3_finalize(q);
  ASSERT_LT(at, static_cast<int>(payload.size()));
  payload[at] = static_cast<char>(payload[at] ^ 0x01);
  sqlite3_prepare_v2(db, "UPDATE items SET payload=? WHERE key=? AND seq=?",
                     -1, &q, nullptr);
  sqlite3_bind_blob(q, 1, payload.data(), static_cast<int>(payload.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 2, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(q, 3, seq);
  ASSERT_EQ(sqlite3_step(q), SQLITE_DONE);
  sqlite3_finalize(q);
  sqlite3_close(db);
}

TEST_F(OutboxTest, TamperedPayloadIsADeadLetterAndTheRestGoesOn) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                         Registered(StatusUpdate(2, lienthong::v1::NEW, 0))})),
              IsOk());
  // One bit of dossier 1's sealed registration flipped on disk.
  FlipBit(path_, DossierCode(1), 1, 20);
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(Keys(claimed), ElementsAre(DossierCode(2) + "#1"));
  Claim(0, {Delivered(claimed[0].id)});
  EXPECT_THAT(Keys(Claim()), ElementsAre(DossierCode(2) + "#2"));
  auto letters = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(letters, IsOk());
  ASSERT_THAT(letters->dead_letters(), SizeIs(1));
  EXPECT_EQ(letters->dead_letters(0).code(), DossierCode(1));
  EXPECT_EQ(letters->dead_letters(0).kind(), "registration");
  EXPECT_THAT(letters->dead_letters(0).reason(), HasSubstr("integrity check"));
  // Retried, it fails again the same way; never delivered as garbage.
  ASSERT_THAT(outbox_->RetryDeadLetters({}), IsOk());
  EXPECT_THAT(Claim(), IsEmpty());
  auto counts = outbox_->Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->dead, 1);
}

// ---- A refused registration replaced ---------------------------------------

TEST_F(OutboxTest, ChangedRegistrationReplacesARefusedOneAheadOfItsSteps) {
  using lienthong::v1::ACCEPTED;
  using lienthong::v1::NEW;
  using lienthong::v1::PROCESSING;
  ASSERT_THAT(
      outbox_->PushDossierUpdates(Batch(
          {Registered(StatusUpdate(1, NEW, 0)), StatusUpdate(1, ACCEPTED, 1)})),
      IsOk());
  std::vector<OutboxItem> refused = Claim();
  ASSERT_THAT(Keys(refused), ElementsAre(DossierCode(1) + "#1"));
  Claim(0, {Dead(refused[0].id, /*refused=*/true)});
  EXPECT_THAT(Claim(), IsEmpty());  // its steps wait behind it

  // Corrected, along with the last accepted update again.
  auto corrected = outbox_->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, ACCEPTED, 1), "Trần Thị Mây")}));
  ASSERT_THAT(corrected, IsOk());
  EXPECT_EQ(corrected->registrations, 1);
  EXPECT_EQ(corrected->duplicates, 1);
  std::vector<OutboxItem> next = Claim();
  ASSERT_THAT(Keys(next), ElementsAre(DossierCode(1) + "#4"));
  EXPECT_TRUE(next[0].registration);
  EXPECT_EQ(next[0].dossier.registration().applicant().name(), "Trần Thị Mây");
  // The refused one left the dead letters, as a replaced procedure item
  // does: retried, it would be sent as it was and refused again.
  auto letters = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(letters, IsOk());
  EXPECT_THAT(letters->dead_letters(), IsEmpty());
  auto retried = outbox_->RetryDeadLetters({});
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(*retried, 0);
  EXPECT_THAT(StoredItems(path_),
              ::testing::Contains(DossierCode(1) + "#1:superseded"));
  EXPECT_EQ(PayloadSize(path_, refused[0].id), 0);  // never to be sent
  // Nor is the portal's reason kept: it may quote the applicant.
  EXPECT_EQ(QueryInt(path_, absl::StrCat("SELECT count(*) FROM items WHERE "
                                         "last_error IS NOT NULL AND id=",
                                         refused[0].id)),
            0);

  // The same order read back from the file; the steps that waited open
  // in their new places, under keys of their own.
  Reopen();
  EXPECT_THAT(DeliverOneByOne([&](const OutboxItem& item) {
                EXPECT_EQ(item.idempotency_key,
                          absl::StrCat(outbox_->outbox_id(), "-d",
                                       item.sequence, "-", DossierCode(1)));
              }),
              ElementsAre("4 registration Trần Thị Mây", "5 step NEW",
                          "6 step ACCEPTED"));
  ASSERT_THAT(
      outbox_->PushDossierUpdates(Batch({StatusUpdate(1, PROCESSING, 2)})),
      IsOk());
  EXPECT_THAT(Keys(Claim()), ElementsAre(DossierCode(1) + "#7"));
}

TEST_F(OutboxTest, ChangedRegistrationLeavesARefusedStepInPlace) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              IsOk());
  std::vector<OutboxItem> registration = Claim();
  ASSERT_THAT(Keys(registration), ElementsAre(DossierCode(1) + "#1"));
  Claim(0, {Delivered(registration[0].id)});
  std::vector<OutboxItem> step = Claim();
  ASSERT_THAT(Keys(step), ElementsAre(DossierCode(1) + "#2"));
  Claim(0, {Dead(step[0].id, /*refused=*/true)});
  // A refused step is part of the dossier's history: a new registration
  // does not replace it, and waits behind it.
  auto changed = outbox_->PushDossierUpdates(Batch({Registered(
      StatusUpdate(1, lienthong::v1::ACCEPTED, 1), "Trần Thị Mây")}));
  ASSERT_THAT(changed, IsOk());
  EXPECT_EQ(changed->registrations, 1);
  EXPECT_THAT(Claim(), IsEmpty());
  auto letters = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(letters, IsOk());
  ASSERT_THAT(letters->dead_letters(), SizeIs(1));
  EXPECT_EQ(letters->dead_letters(0).kind(), "dossier");
  EXPECT_THAT(StoredItems(path_), ElementsAre(DossierCode(1) + "#1:delivered",
                                              DossierCode(1) + "#2:dead",
                                              DossierCode(1) + "#3:pending",
                                              DossierCode(1) + "#4:pending"));
}

TEST(OutboxOpenTest, RefusesAnotherKeyAndAnOlderSchema) {
  const std::string path = testing::FreshOutboxPath("outbox_open");
  OutboxOptions options;
  options.path = path;
  options.key = testing::TestOutboxKey();
  ASSERT_THAT(Outbox::Open(options), IsOk());
  options.key = std::string(32, 'x');
  EXPECT_THAT(Outbox::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("another key")));
  options.key = "short";
  EXPECT_THAT(Outbox::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32")));
  const std::string old = testing::FreshOutboxPath("outbox_v1");
  Exec(old, "PRAGMA user_version=1");
  options.path = old;
  options.key = testing::TestOutboxKey();
  EXPECT_THAT(Outbox::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema version 1")));
  // Refused as it was, not upgraded.
  EXPECT_EQ(QueryInt(old, "PRAGMA user_version"), 1);
  // A file from a newer gateway is refused too.
  const std::string newer = testing::FreshOutboxPath("outbox_v9");
  Exec(newer, "PRAGMA user_version=9");
  options.path = newer;
  EXPECT_THAT(Outbox::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("newer than this gateway's")));
}

// A file as gateways before the storage layer wrote it: schema version 2,
// with the index items_job (they made it on every open) or, written before
// that index existed, without it; and one written before the table
// national_procedures existed, which was stamped version 3 by the upgrade
// before this one without it. Made here by opening a new outbox and taking
// it back to that state. It opens, is upgraded to version 4 with the index
// and the table, and its queue goes on where it stopped.
TEST(OutboxOpenTest, OpensAndUpgradesAVersion2File) {
  const struct {
    const char* name;
    const char* back;
  } kCases[] = {
      {"with items_job", "PRAGMA user_version=2"},
      {"without items_job", "DROP INDEX items_job; PRAGMA user_version=2"},
      {"without national_procedures",
       "DROP TABLE national_procedures; PRAGMA user_version=3"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    const std::string path = testing::FreshOutboxPath("outbox_old");
    resilience::FakeClock clock{absl::FromUnixSeconds(kT0)};
    OutboxOptions options;
    options.path = path;
    options.key = testing::TestOutboxKey();
    options.clock = &clock;
    int64_t in_flight = 0;
    {
      auto outbox = Outbox::Open(options);
      ASSERT_THAT(outbox, IsOk());
      ASSERT_THAT((*outbox)->PushDossierUpdates(
                      Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                             StatusUpdate(1, lienthong::v1::ACCEPTED, 1)})),
                  IsOk());
      auto claimed = (*outbox)->FinishAndClaim({}, 10);
      ASSERT_THAT(claimed, IsOk());
      ASSERT_THAT(*claimed, SizeIs(1));
      in_flight = (*claimed)[0].id;
    }
    Exec(path, c.back);
    auto outbox = Outbox::Open(options);
    ASSERT_THAT(outbox, IsOk());
    EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), 4);
    EXPECT_EQ(QueryInt(path,
                       "SELECT count(*) FROM sqlite_master WHERE "
                       "name IN ('items_job', 'national_procedures')"),
              2);
    // The item left in flight comes again first, then the next in order.
    auto again = (*outbox)->FinishAndClaim({}, 10);
    ASSERT_THAT(again, IsOk());
    ASSERT_THAT(*again, SizeIs(1));
    EXPECT_EQ((*again)[0].id, in_flight);
    EXPECT_TRUE((*again)[0].maybe_sent);
    EXPECT_EQ((*again)[0].dossier.registration().applicant().name(),
              "Trần Thị Mai");
    auto next = (*outbox)->FinishAndClaim({Delivered(in_flight)}, 0);
    ASSERT_THAT(next, IsOk());
    auto last = (*outbox)->FinishAndClaim({}, 10);
    ASSERT_THAT(last, IsOk());
    ASSERT_THAT(*last, SizeIs(1));
    // The registration's progress item, its second.
    EXPECT_EQ((*last)[0].sequence, 2);
    EXPECT_FALSE((*last)[0].registration);
    EXPECT_THAT((*outbox)->CheckIntegrity(), IsOk());
  }
}

}  // namespace
}  // namespace lienthong::sync
