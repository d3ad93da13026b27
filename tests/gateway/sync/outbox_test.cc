#include "gateway/sync/outbox.h"

#include <sqlite3.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/sync/fresh_outbox_path.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::DossierStatus;
using ::lienthong::v1::ProcedurePlan;
using ::lienthong::v1::SyncJob;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kT0 = 1752537600;  // 2025-07-15 00:00:00 UTC

std::string Dossier(int n) {
  return absl::StrFormat("000.00.01.H31-250715-%05d", n);
}

lienthong::v1::DossierStatusUpdate Update(int dossier, DossierStatus status,
                                          int64_t minute) {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code(Dossier(dossier));
  u.set_procedure_code("1.001193.000.00.00.H31");
  u.set_status(status);
  u.mutable_time()->set_seconds(kT0 - 86400 + minute * 60);
  u.set_handler("cb01");
  return u;
}

google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate> Batch(
    std::vector<lienthong::v1::DossierStatusUpdate> updates) {
  google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate> batch;
  for (auto& u : updates) *batch.Add() = std::move(u);
  return batch;
}

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
      Batch({Update(1, lienthong::v1::NEW, 0),
             Update(1, lienthong::v1::ACCEPTED, 1),
             Update(2, lienthong::v1::NEW, 0),
             Update(2, lienthong::v1::NEW, 0)}));  // repeat within the batch
  ASSERT_THAT(pushed, IsOk());
  EXPECT_EQ(pushed->accepted, 3);
  EXPECT_EQ(pushed->duplicates, 1);
  const std::string id = outbox_->outbox_id();
  EXPECT_THAT(id, SizeIs(16));

  Reopen();  // what was acknowledged is there after a restart
  EXPECT_EQ(outbox_->outbox_id(), id);
  auto again = outbox_->PushDossierUpdates(
      Batch({Update(1, lienthong::v1::ACCEPTED, 1),  // repeat of an old one
             Update(1, lienthong::v1::PROCESSING, 2)}));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->accepted, 1);
  EXPECT_EQ(again->duplicates, 1);
  auto counts = outbox_->Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->pending, 4);
}

TEST_F(OutboxTest, ImpossibleTransitionFailsTheWholeBatch) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(1, lienthong::v1::FINISHED, 0),
                         Update(1, lienthong::v1::RESULT_RETURNED, 1)})),
              IsOk());
  EXPECT_THAT(
      outbox_->PushDossierUpdates(
          Batch({Update(2, lienthong::v1::NEW, 0),
                 Update(1, lienthong::v1::PROCESSING, 2)})),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "updates[1]: dossier 000.00.01.H31-250715-00001 cannot go from "
               "RESULT_RETURNED to PROCESSING"));
  // Within a batch, each update is checked against the one before it.
  EXPECT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(3, lienthong::v1::NEW, 0),
                         Update(3, lienthong::v1::FINISHED, 1)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot go from NEW to FINISHED")));
  // A later status dated earlier is refused too.
  EXPECT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(4, lienthong::v1::NEW, 10),
                         Update(4, lienthong::v1::ACCEPTED, 9)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("dated before the last accepted status NEW")));
  EXPECT_THAT(outbox_->PushDossierUpdates(Batch({Update(5, {}, 0)})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("updates[0].status: ")));
  auto counts = outbox_->Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->pending, 2);  // only the first batch
}

TEST_F(OutboxTest, OnlyTheHeadOfEachKeyIsDueAndOrderHolds) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(1, lienthong::v1::NEW, 0),
                         Update(1, lienthong::v1::ACCEPTED, 1),
                         Update(2, lienthong::v1::NEW, 0),
                         Update(1, lienthong::v1::PROCESSING, 2)})),
              IsOk());
  std::vector<OutboxItem> first = Claim();
  EXPECT_THAT(Keys(first), ElementsAre(Dossier(1) + "#1", Dossier(2) + "#1"));
  EXPECT_EQ(first[0].dossier.status(), lienthong::v1::NEW);
  EXPECT_EQ(first[0].idempotency_key,
            absl::StrCat(outbox_->outbox_id(), "-d1-", Dossier(1)));
  EXPECT_THAT(Claim(), IsEmpty());  // both keys are in flight

  std::vector<OutboxItem> second = Claim(100, {Delivered(first[0].id)});
  // The claim list is made before the outcome is applied.
  EXPECT_THAT(second, IsEmpty());
  std::vector<OutboxItem> third = Claim();
  EXPECT_THAT(Keys(third), ElementsAre(Dossier(1) + "#2"));
  EXPECT_THAT(Keys(Claim(100, {Delivered(third[0].id)})), IsEmpty());
  EXPECT_THAT(Keys(Claim()), ElementsAre(Dossier(1) + "#3"));
}

TEST_F(OutboxTest, InFlightItemsArePendingAgainAfterACrash) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(1, lienthong::v1::NEW, 0)})),
              IsOk());
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(1));
  Reopen();
  std::vector<OutboxItem> again = Claim();
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].id, claimed[0].id);
  EXPECT_EQ(again[0].idempotency_key, claimed[0].idempotency_key);
}

TEST_F(OutboxTest, RetriesWaitTheirTurnAndCanBeExpedited) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(1, lienthong::v1::NEW, 0)})),
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
  ASSERT_TRUE(retried[0].first_failure.has_value());
  EXPECT_EQ(*retried[0].first_failure, later - absl::Seconds(30));

  EXPECT_THAT(Claim(100, {Retry(retried[0].id, clock_.Now() + absl::Hours(1))}),
              IsEmpty());
  ASSERT_THAT(outbox_->ExpediteRetries(), IsOk());
  EXPECT_THAT(Claim(), SizeIs(1));
}

TEST_F(OutboxTest, DeadLetterBlocksItsDossierUntilRetriedWithANewKey) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(1, lienthong::v1::NEW, 0),
                         Update(1, lienthong::v1::ACCEPTED, 1),
                         Update(2, lienthong::v1::NEW, 0)})),
              IsOk());
  std::vector<OutboxItem> first = Claim();
  ASSERT_THAT(first, SizeIs(2));
  Claim(0, {Dead(first[0].id, /*refused=*/true), Delivered(first[1].id)});
  EXPECT_THAT(Claim(), IsEmpty());  // dossier 1's ACCEPTED waits

  auto page = outbox_->ListDeadLetters(0, "");
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->dead_letters(), SizeIs(1));
  const lienthong::v1::DeadLetter& letter = page->dead_letters(0);
  EXPECT_EQ(letter.kind(), "dossier");
  EXPECT_EQ(letter.code(), Dossier(1));
  EXPECT_EQ(letter.reason(), "the portal refused it: Từ chối");
  EXPECT_EQ(letter.attempts(), 1);
  EXPECT_EQ(letter.failed_at().seconds(), kT0);

  EXPECT_THAT(outbox_->RetryDeadLetters({"x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'x'")));
  auto requeued = outbox_->RetryDeadLetters({letter.id(), "999"});
  ASSERT_THAT(requeued, IsOk());
  EXPECT_EQ(*requeued, 1);
  std::vector<OutboxItem> again = Claim();
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].id, first[0].id);
  // The portal answers a known key with its first answer: a new key.
  EXPECT_EQ(again[0].idempotency_key, first[0].idempotency_key + "-r1");
  Claim(0, {Delivered(again[0].id)});
  EXPECT_THAT(Keys(Claim()), ElementsAre(Dossier(1) + "#2"));
}

TEST_F(OutboxTest, GivenUpItemKeepsItsKeyWhenRetried) {
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(1, lienthong::v1::NEW, 0)})),
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
  for (int i = 1; i <= 5; ++i) updates.push_back(Update(i, lienthong::v1::NEW, 0));
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

TEST(OutboxOpenTest, MakesItsFolder) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/outbox_open_",
                                       getpid(), "/nested");
  OutboxOptions options;
  options.path = dir + "/outbox.db";
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
                  Batch({Update(1, lienthong::v1::NEW, 0)})),
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
  // Dossier 1: four statuses, all delivered. Dossier 2: NEW delivered,
  // ACCEPTED still pending. Dossier 3: NEW a dead letter. Dossier 5: NEW,
  // delivered only later. Dossier 6: two statuses at the same minute. And a
  // procedure, delivered.
  ASSERT_THAT(
      outbox_->PushDossierUpdates(Batch(
          {Update(1, NEW, 0), Update(1, ACCEPTED, 1), Update(1, PROCESSING, 2),
           Update(1, PROCESSING, 3), Update(2, NEW, 0), Update(2, ACCEPTED, 1),
           Update(3, NEW, 0), Update(5, NEW, 0), Update(6, PROCESSING, 3),
           Update(6, MORE_DOCUMENTS_NEEDED, 3)})),
      IsOk());
  ASSERT_THAT(outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")})),
              IsOk());
  // Deliver what the story says, head by head.
  for (int round = 0; round < 4; ++round) {
    std::vector<DeliveryResult> done;
    for (const OutboxItem& item : Claim()) {
      if (item.key == Dossier(3)) {
        done.push_back(Dead(item.id, /*refused=*/true));
      } else if (item.key == Dossier(2) && item.sequence == 2) {
        done.push_back(Retry(item.id, clock_.Now() + absl::Hours(1000)));
      } else if (item.key != Dossier(5)) {
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
  // Eight days on, dossier 5's NEW is delivered, and dossier 4 is new.
  clock_.Advance(absl::Hours(8 * 24));
  std::vector<OutboxItem> late = Claim();
  ASSERT_THAT(Keys(late), ElementsAre(Dossier(5) + "#1"));
  Claim(0, {Delivered(late[0].id)});
  ASSERT_THAT(outbox_->PushDossierUpdates(Batch({Update(4, NEW, 60 * 24 * 8)})),
              IsOk());
  std::vector<OutboxItem> fresh = Claim();
  ASSERT_THAT(Keys(fresh), ElementsAre(Dossier(4) + "#1"));
  Claim(0, {Delivered(fresh[0].id)});
  const std::vector<std::string> before = StoredItems(path_);
  ASSERT_THAT(before, SizeIs(12));

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
  // Dossier 4's item is younger than the cutoff: the pass stops before it.
  EXPECT_EQ(examined, 11);
  EXPECT_EQ(deleted, 7);
  EXPECT_THAT(
      StoredItems(path_),
      ElementsAre(Dossier(2) + "#2:pending", Dossier(3) + "#1:dead",
                  Dossier(5) + "#1:delivered",  // delivered lately
                  // Same time as the last status: kept, see below.
                  Dossier(6) + "#1:delivered", Dossier(4) + "#1:delivered"));
  // A second pass finds nothing more.
  auto again = outbox_->PruneDelivered(cutoff, 100);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->pass_done);
  EXPECT_EQ(again->deleted, 0);

  // Repeats are still never queued again: the last accepted update is a
  // duplicate (the dossiers table knows it), as is dossier 6's kept
  // PROCESSING, which could otherwise follow MORE_DOCUMENTS_NEEDED again.
  auto repeats = outbox_->PushDossierUpdates(
      Batch({Update(1, PROCESSING, 3), Update(6, PROCESSING, 3),
             Update(6, MORE_DOCUMENTS_NEEDED, 3)}));
  ASSERT_THAT(repeats, IsOk());
  EXPECT_EQ(repeats->accepted, 0);
  EXPECT_EQ(repeats->duplicates, 3);
  // A repeat of an older, pruned one is refused: PROCESSING may follow
  // PROCESSING, but not dated before it; ACCEPTED may not follow at all.
  EXPECT_THAT(outbox_->PushDossierUpdates(Batch({Update(1, PROCESSING, 2)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("dated before the last accepted status")));
  EXPECT_THAT(outbox_->PushDossierUpdates(Batch({Update(1, ACCEPTED, 1)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot go from PROCESSING to ACCEPTED")));
  // Sequences and idempotency keys go on where they were.
  ASSERT_THAT(outbox_->PushDossierUpdates(
                  Batch({Update(1, MORE_DOCUMENTS_NEEDED, 60 * 24 * 8)})),
              IsOk());
  std::vector<OutboxItem> next = Claim();
  ASSERT_THAT(Keys(next), ElementsAre(Dossier(1) + "#5"));
  EXPECT_EQ(next[0].idempotency_key,
            absl::StrCat(outbox_->outbox_id(), "-d5-", Dossier(1)));
  // The catalogue still plans against what the portal acknowledged.
  auto catalogue = outbox_->SyncProcedures(Catalogue({Proc("1.000001", "A")}));
  ASSERT_THAT(catalogue, IsOk());
  EXPECT_EQ(catalogue->unchanged(), 1);
  // Pending and dead items keep their place in their dossier's order.
  ASSERT_THAT(outbox_->RetryDeadLetters({}), IsOk());
  clock_.Advance(absl::Hours(1000));
  EXPECT_THAT(Keys(Claim()), ElementsAre(Dossier(3) + "#1", Dossier(2) + "#2"));
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
      outbox_->PushDossierUpdates(Batch({Update(1, lienthong::v1::NEW, 0),
                                         Update(1, lienthong::v1::ACCEPTED, 1),
                                         Update(2, lienthong::v1::NEW, 0),
                                         Update(3, lienthong::v1::NEW, 0)})),
      IsOk());
  OutboxCounts counts = outbox_->OpenCounts();
  EXPECT_EQ(counts.pending, 4);
  std::vector<OutboxItem> claimed = Claim();
  ASSERT_THAT(claimed, SizeIs(3));
  counts = outbox_->OpenCounts();
  EXPECT_EQ(counts.pending, 1);
  EXPECT_EQ(counts.in_flight, 3);
  Claim(0, {Delivered(claimed[0].id), Dead(claimed[1].id, true)});
  counts = outbox_->OpenCounts();
  EXPECT_EQ(counts.pending, 1);
  EXPECT_EQ(counts.in_flight, 1);
  EXPECT_EQ(counts.dead, 1);
  EXPECT_EQ(counts.delivered, 0);
  Reopen();  // rebuilt from the store: the one in flight is pending again
  counts = outbox_->OpenCounts();
  EXPECT_EQ(counts.pending, 2);
  EXPECT_EQ(counts.in_flight, 0);
  EXPECT_EQ(counts.dead, 1);
}

}  // namespace
}  // namespace lienthong::sync
