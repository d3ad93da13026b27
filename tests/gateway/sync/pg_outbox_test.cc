// PgOutbox (gateway/sync/pg_outbox.h) against a real PostgreSQL 15: two
// outboxes on one database stand for two replicas.
#include "gateway/sync/pg_outbox.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/storage/pg/pg_pool.h"
#include "gateway/sync/dossier_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/sync/dossier_fixtures.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::lienthong::sync::testutil::Batch;
using ::lienthong::sync::testutil::DossierCode;
using ::lienthong::sync::testutil::Registered;
using ::lienthong::sync::testutil::StatusUpdate;
using ::lienthong::v1::DossierStatus;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::SizeIs;

DeliveryResult Result(int64_t id, DeliveryResult::Kind kind,
                      bool refused = false) {
  DeliveryResult r;
  r.id = id;
  r.kind = kind;
  r.refused = refused;
  r.message = "the portal refused it";
  return r;
}

class PgOutboxTest : public ::lienthong::testing::PgServerTest {
 protected:
  void SetUp() override {
    PgServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // A database of its own per test.
    static int next = 0;
    database_ = absl::StrCat("outbox_", ++next);
    dsn_ = NewDatabase(database_);
    ASSERT_FALSE(dsn_.empty());
    ASSERT_THAT(PgOutbox::Migrate(PoolOptions()).status(), IsOk());
  }
  storage::pg::PoolOptions PoolOptions() const {
    storage::pg::PoolOptions options;
    options.dsn = dsn_;
    options.size = 2;
    return options;
  }
  std::unique_ptr<PgOutbox> Open(const std::string& replica,
                                 absl::Duration lease = absl::Seconds(30)) {
    PgOutboxOptions options;
    options.pool = PoolOptions();
    options.key = std::string(32, 'k');
    options.replica = replica;
    options.lease = lease;
    auto opened = PgOutbox::Open(options);
    EXPECT_THAT(opened.status(), IsOk());
    return opened.ok() ? *std::move(opened) : nullptr;
  }

  std::string database_;
  std::string dsn_;  // database_'s connection string
};


TEST_F(PgOutboxTest, DeliversInOrderPerDossierOneInFlight) {
  auto outbox = Open("a");
  ASSERT_NE(outbox, nullptr);
  auto pushed = outbox->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
             StatusUpdate(1, lienthong::v1::ACCEPTED, 1),
             Registered(StatusUpdate(2, lienthong::v1::NEW, 0))}));
  ASSERT_THAT(pushed.status(), IsOk());
  EXPECT_EQ(pushed->accepted, 3);
  EXPECT_EQ(pushed->registrations, 2);
  // Heads only: dossier 1's registration and dossier 2's.
  auto claimed = outbox->FinishAndClaim({}, 10);
  ASSERT_THAT(claimed.status(), IsOk());
  ASSERT_THAT(*claimed, SizeIs(2));
  for (const OutboxItem& item : *claimed) {
    EXPECT_TRUE(item.registration);
    EXPECT_EQ(item.sequence, 1);
    EXPECT_FALSE(item.maybe_sent);
    EXPECT_EQ(item.dossier.registration().applicant().name(), "Trần Thị Mai");
    EXPECT_THAT(item.idempotency_key,
                HasSubstr(absl::StrCat("-d1-", item.key)));
  }
  EXPECT_THAT(outbox->FinishAndClaim({}, 10), IsOkAndHolds(SizeIs(0)));
  std::vector<DeliveryResult> done;
  for (const OutboxItem& item : *claimed) {
    done.push_back(Result(item.id, DeliveryResult::Kind::kDelivered));
  }
  auto next = outbox->FinishAndClaim(done, 10);
  ASSERT_THAT(next.status(), IsOk());
  ASSERT_THAT(*next, SizeIs(2));  // each dossier's NEW
  for (const OutboxItem& item : *next) {
    EXPECT_EQ(item.sequence, 2);
    EXPECT_FALSE(item.registration);
    EXPECT_EQ(item.dossier.status(), lienthong::v1::NEW);
  }
  auto counts = outbox->Counts();
  ASSERT_THAT(counts.status(), IsOk());
  EXPECT_EQ(counts->delivered, 2);
  EXPECT_EQ(counts->in_flight, 2);
  EXPECT_EQ(counts->pending, 1);  // dossier 1's ACCEPTED waits its turn
  EXPECT_THAT(outbox->CheckIntegrity(), IsOk());
}

// Claims and delivers until nothing is left to claim; how many delivered.
int DeliverAll(PgOutbox& outbox) {
  int delivered = 0;
  std::vector<DeliveryResult> done;
  for (int round = 0; round < 20; ++round) {
    auto claimed = outbox.FinishAndClaim(done, 10);
    EXPECT_THAT(claimed.status(), IsOk());
    if (!claimed.ok() || claimed->empty()) break;
    done.clear();
    for (const OutboxItem& item : *claimed) {
      done.push_back(Result(item.id, DeliveryResult::Kind::kDelivered));
    }
    delivered += static_cast<int>(done.size());
  }
  return delivered;
}

// Pruning goes past the delivered updates it keeps for duplicate detection
// (a dossier's updates dated at its last accepted time, but for that
// update): with one of them the oldest and steps of one row, later passes
// still delete the rest.
TEST_F(PgOutboxTest, PruningGoesPastTheUpdatesItKeeps) {
  using lienthong::v1::ACCEPTED;
  using lienthong::v1::MORE_DOCUMENTS_NEEDED;
  using lienthong::v1::NEW;
  using lienthong::v1::PROCESSING;
  auto outbox = Open("a");
  ASSERT_NE(outbox, nullptr);
  ASSERT_THAT(outbox->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(6, PROCESSING, 3)),
                         StatusUpdate(6, MORE_DOCUMENTS_NEEDED, 3)})),
              IsOk());
  ASSERT_EQ(DeliverAll(*outbox), 3);
  ASSERT_THAT(
      outbox->PushDossierUpdates(Batch({Registered(StatusUpdate(1, NEW, 0)),
                                        StatusUpdate(1, ACCEPTED, 1),
                                        StatusUpdate(1, PROCESSING, 2)})),
      IsOk());
  ASSERT_EQ(DeliverAll(*outbox), 4);
  int64_t deleted = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int step = 0;; ++step) {
      ASSERT_LT(step, 20) << "the pass never ends";
      auto progress = outbox->PruneDelivered(absl::Now() + absl::Hours(1), 1);
      ASSERT_THAT(progress, IsOk());
      deleted += progress->deleted;
      if (progress->pass_done) break;
    }
  }
  // Dossier 6's PROCESSING stays (MORE_DOCUMENTS_NEEDED has its time).
  EXPECT_EQ(deleted, 6);
  auto counts = outbox->Counts();
  ASSERT_THAT(counts.status(), IsOk());
  EXPECT_EQ(counts->delivered, 1);
  // Still a duplicate, still refused as one.
  auto again =
      outbox->PushDossierUpdates(Batch({StatusUpdate(6, PROCESSING, 3)}));
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->accepted, 0);
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_THAT(outbox->CheckIntegrity(), IsOk());
}

TEST_F(PgOutboxTest, RulesAndDuplicatesAsOnSqlite) {
  auto outbox = Open("a");
  ASSERT_NE(outbox, nullptr);
  EXPECT_THAT(outbox->PushDossierUpdates(
                  Batch({StatusUpdate(1, lienthong::v1::NEW, 0)})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("updates[0].registration")));
  ASSERT_THAT(outbox->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))}))
                  .status(),
              IsOk());
  auto again = outbox->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))}));
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_EQ(again->accepted, 0);
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_THAT(outbox->PushDossierUpdates(
                  Batch({StatusUpdate(1, lienthong::v1::RESULT_RETURNED, 1)})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot go from")));
  // The same dossier, status and time with other content is not a repeat.
  lienthong::v1::DossierStatusUpdate accepted =
      StatusUpdate(1, lienthong::v1::ACCEPTED, 1);
  ASSERT_THAT(outbox->PushDossierUpdates(Batch({accepted})).status(), IsOk());
  lienthong::v1::DossierStatusUpdate other = accepted;
  other.set_note("tiếp nhận lại");
  EXPECT_THAT(outbox->PushDossierUpdates(Batch({other})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("with other content")));
  auto same = outbox->PushDossierUpdates(Batch({accepted}));
  ASSERT_THAT(same.status(), IsOk());
  EXPECT_EQ(same->duplicates, 1);
}

TEST_F(PgOutboxTest, TwoReplicasNeverClaimOneItemAndKeepOrder) {
  auto a = Open("a");
  auto b = Open("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->outbox_id(), b->outbox_id());
  constexpr int kDossiers = 40;
  // Pushes of the same dossiers from both replicas at once.
  std::vector<std::thread> pushers;
  for (PgOutbox* outbox : {a.get(), b.get()}) {
    pushers.emplace_back([outbox] {
      for (int d = 0; d < kDossiers; ++d) {
        EXPECT_THAT(outbox->PushDossierUpdates(
                        Batch({Registered(StatusUpdate(d, lienthong::v1::NEW, 0)),
                               StatusUpdate(d, lienthong::v1::ACCEPTED, 1),
                               StatusUpdate(d, lienthong::v1::PROCESSING, 2)}))
                        .status(),
                    IsOk());
      }
    });
  }
  for (std::thread& t : pushers) t.join();
  // Both deliver; each key's sequences arrive in order, each once.
  std::mutex mu;
  std::map<std::string, std::vector<int64_t>> delivered;
  std::atomic<int> total{0};
  std::vector<std::thread> workers;
  for (PgOutbox* outbox : {a.get(), b.get()}) {
    workers.emplace_back([&, outbox] {
      std::vector<DeliveryResult> done;
      for (int spins = 0; spins < 2000 && total < kDossiers * 4; ++spins) {
        auto claimed = outbox->FinishAndClaim(done, 8);
        ASSERT_THAT(claimed.status(), IsOk());
        done.clear();
        std::lock_guard<std::mutex> lock(mu);
        for (const OutboxItem& item : *claimed) {
          delivered[item.key].push_back(item.sequence);
          done.push_back(Result(item.id, DeliveryResult::Kind::kDelivered));
          ++total;
        }
      }
      ASSERT_THAT(outbox->FinishAndClaim(done, 0).status(), IsOk());
    });
  }
  for (std::thread& t : workers) t.join();
  ASSERT_EQ(delivered.size(), static_cast<size_t>(kDossiers));
  for (const auto& [key, seqs] : delivered) {
    EXPECT_THAT(seqs, ::testing::ElementsAre(1, 2, 3, 4)) << key;
  }
  EXPECT_EQ(a->lost_leases() + b->lost_leases(), 0);
}

TEST_F(PgOutboxTest, ExpiredLeaseGoesToAnotherReplicaAndTheLateResultIsDropped) {
  // 2 s leases, renewed every 667 ms: a renewal would have to be late by
  // 1.3 s (a loaded machine) for b to take the item while a lives.
  auto a = Open("a", absl::Seconds(2));
  auto b = Open("b", absl::Seconds(2));
  ASSERT_THAT(a->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))}))
                  .status(),
              IsOk());
  auto held = a->FinishAndClaim({}, 1);
  ASSERT_THAT(held.status(), IsOk());
  ASSERT_THAT(*held, SizeIs(1));
  const int64_t id = (*held)[0].id;
  // While a lives, it renews its lease: b finds nothing.
  absl::SleepFor(absl::Milliseconds(3000));
  EXPECT_THAT(b->FinishAndClaim({}, 1), IsOkAndHolds(SizeIs(0)));
  // a dies (its renewal stops); its lease runs out; b takes the item.
  const std::string a_owner = a->lease_owner();
  storage::pg::PoolOptions pool_options = PoolOptions();
  a.reset();
  absl::StatusOr<std::vector<OutboxItem>> taken;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    absl::SleepFor(absl::Milliseconds(100));
    taken = b->FinishAndClaim({}, 1);
    ASSERT_THAT(taken.status(), IsOk());
  } while (taken->empty() && absl::Now() < give_up);
  ASSERT_THAT(*taken, SizeIs(1));
  EXPECT_EQ((*taken)[0].id, id);
  EXPECT_TRUE((*taken)[0].maybe_sent);
  EXPECT_EQ((*taken)[0].idempotency_key, (*held)[0].idempotency_key);
  // A replica that lost the lease (a's result arriving late) is ignored.
  auto late = Open("a-late");
  auto pool = storage::pg::Pool::Create(pool_options);
  ASSERT_THAT(pool.status(), IsOk());
  ASSERT_THAT(late->FinishAndClaim({Result(id, DeliveryResult::Kind::kDead)},
                                   0)
                  .status(),
              IsOk());
  EXPECT_EQ(late->lost_leases(), 1);
  ASSERT_THAT(b->FinishAndClaim({Result(id, DeliveryResult::Kind::kDelivered)},
                                0)
                  .status(),
              IsOk());
  auto state = (*pool)->Run("SELECT state, lease_owner IS NULL, "
                            "octet_length(payload) FROM outbox_items "
                            "WHERE id=$1",
                            {absl::StrCat(id)});
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(state->Int64(0, 0), 2);       // delivered, by b
  EXPECT_EQ(state->Text(0, 1), "t");
  EXPECT_EQ(state->Int64(0, 2), 0);       // the sealed payload wiped
  EXPECT_NE(a_owner, b->lease_owner());
}

// A claim whose commit succeeded but whose answer was lost (the
// connection dropped during COMMIT: "commit outcome unknown") leaves an
// item leased to this replica that its worker never saw. That lease is not
// renewed: it expires and the item is claimed again, here by the same
// replica, as maybe sent. The item the worker does hold keeps its lease.
TEST_F(PgOutboxTest, AnOwnLeaseTheWorkerNeverSawExpiresAndIsClaimedAgain) {
  auto a = Open("a", absl::Seconds(1));
  ASSERT_NE(a, nullptr);
  ASSERT_THAT(a->PushDossierUpdates(
                   Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                          Registered(StatusUpdate(2, lienthong::v1::NEW, 0))}))
                  .status(),
              IsOk());
  auto held = a->FinishAndClaim({}, 1);
  ASSERT_THAT(held.status(), IsOk());
  ASSERT_THAT(*held, SizeIs(1));
  // The lost claim (the other dossier's head), as its committed
  // transaction left it.
  auto pool = storage::pg::Pool::Create(PoolOptions());
  ASSERT_THAT(pool.status(), IsOk());
  auto orphaned = (*pool)->Run(
      "UPDATE outbox_items SET state=1, sent=true, lease_owner=$1, "
      "lease_until=(extract(epoch from clock_timestamp())*1000000)::bigint "
      "+ 1000000 WHERE id=(SELECT min(id) FROM outbox_items WHERE state=0 "
      "AND key<>$2) RETURNING id",
      {a->lease_owner(), (*held)[0].key});
  ASSERT_THAT(orphaned.status(), IsOk());
  ASSERT_EQ(orphaned->rows(), 1);
  const int64_t lost = orphaned->Int64(0, 0);
  ASSERT_NE(lost, (*held)[0].id);

  absl::StatusOr<std::vector<OutboxItem>> again;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    absl::SleepFor(absl::Milliseconds(100));
    again = a->FinishAndClaim({}, 5);
    ASSERT_THAT(again.status(), IsOk());
  } while (again->empty() && absl::Now() < give_up);
  ASSERT_THAT(*again, SizeIs(1));
  EXPECT_EQ((*again)[0].id, lost);
  EXPECT_TRUE((*again)[0].maybe_sent);
  // Renewed all along: the held item is still a's alone.
  auto b = Open("b", absl::Seconds(1));
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(b->FinishAndClaim({}, 5), IsOkAndHolds(SizeIs(0)));
  EXPECT_THAT(a->FinishAndClaim(
                   {Result((*held)[0].id, DeliveryResult::Kind::kDelivered),
                    Result(lost, DeliveryResult::Kind::kDelivered)},
                   0)
                  .status(),
              IsOk());
  EXPECT_EQ(a->lost_leases(), 0);
  EXPECT_THAT(a->CheckIntegrity(), IsOk());
}

TEST_F(PgOutboxTest, DeadLettersBlockTheirDossierUntilRetriedWithANewKey) {
  auto outbox = Open("a");
  ASSERT_THAT(outbox->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0)),
                         StatusUpdate(1, lienthong::v1::ACCEPTED, 1)}))
                  .status(),
              IsOk());
  auto first = outbox->FinishAndClaim({}, 5);
  ASSERT_THAT(*first, SizeIs(1));
  const OutboxItem item = (*first)[0];
  EXPECT_THAT(outbox->FinishAndClaim(
                  {Result(item.id, DeliveryResult::Kind::kDead, true)}, 5),
              IsOkAndHolds(SizeIs(0)));
  auto letters = outbox->ListDeadLetters(0, "");
  ASSERT_THAT(letters.status(), IsOk());
  ASSERT_EQ(letters->dead_letters_size(), 1);
  EXPECT_EQ(letters->dead_letters(0).kind(), "registration");
  EXPECT_EQ(letters->dead_letters(0).code(), DossierCode(1));
  EXPECT_THAT(outbox->RetryDeadLetters({"x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, _));
  EXPECT_THAT(outbox->RetryDeadLetters({letters->dead_letters(0).id()}),
              IsOkAndHolds(1));
  auto again = outbox->FinishAndClaim({}, 5);
  ASSERT_THAT(*again, SizeIs(1));
  EXPECT_EQ((*again)[0].id, item.id);
  EXPECT_EQ((*again)[0].idempotency_key, item.idempotency_key + "-r1");
  EXPECT_TRUE((*again)[0].maybe_sent);
}

TEST_F(PgOutboxTest, ChangedRegistrationReplacesARefusedOneAheadOfItsSteps) {
  using lienthong::v1::ACCEPTED;
  using lienthong::v1::NEW;
  auto outbox = Open("a");
  ASSERT_NE(outbox, nullptr);
  ASSERT_THAT(
      outbox
          ->PushDossierUpdates(Batch({Registered(StatusUpdate(1, NEW, 0)),
                                      StatusUpdate(1, ACCEPTED, 1),
                                      Registered(StatusUpdate(2, NEW, 0))}))
          .status(),
      IsOk());
  auto first = outbox->FinishAndClaim({}, 5);
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_THAT(*first, SizeIs(2));
  // Dossier 1's registration refused; dossier 2's NEW refused.
  const OutboxItem refused =
      (*first)[0].key == DossierCode(1) ? (*first)[0] : (*first)[1];
  const OutboxItem other =
      (*first)[0].key == DossierCode(1) ? (*first)[1] : (*first)[0];
  auto step = outbox->FinishAndClaim(
      {Result(refused.id, DeliveryResult::Kind::kDead, true),
       Result(other.id, DeliveryResult::Kind::kDelivered)},
      5);
  ASSERT_THAT(step.status(), IsOk());
  ASSERT_THAT(*step, SizeIs(1));
  EXPECT_EQ((*step)[0].key, DossierCode(2));
  EXPECT_THAT(
      outbox->FinishAndClaim(
          {Result((*step)[0].id, DeliveryResult::Kind::kDead, true)}, 5),
      IsOkAndHolds(SizeIs(0)));

  // Both corrected along with their last accepted update again: dossier
  // 1's registration is replaced and goes first; dossier 2's refused step
  // is part of its history and stays.
  auto corrected = outbox->PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, ACCEPTED, 1), "Trần Thị Mây"),
             Registered(StatusUpdate(2, NEW, 0), "Trần Thị Mây")}));
  ASSERT_THAT(corrected.status(), IsOk());
  EXPECT_EQ(corrected->registrations, 2);
  auto letters = outbox->ListDeadLetters(0, "");
  ASSERT_THAT(letters.status(), IsOk());
  ASSERT_EQ(letters->dead_letters_size(), 1);
  EXPECT_EQ(letters->dead_letters(0).code(), DossierCode(2));
  EXPECT_EQ(letters->dead_letters(0).kind(), "dossier");
  std::vector<std::string> order;
  std::vector<DeliveryResult> done;
  for (int round = 0; round < 10; ++round) {
    auto claimed = outbox->FinishAndClaim(done, 5);
    ASSERT_THAT(claimed.status(), IsOk());
    if (claimed->empty()) break;
    ASSERT_THAT(*claimed, SizeIs(1));
    const OutboxItem& item = (*claimed)[0];
    EXPECT_EQ(item.key, DossierCode(1));
    order.push_back(absl::StrCat(
        item.sequence, item.registration ? " registration " : " step ",
        item.registration ? item.dossier.registration().applicant().name()
                          : DossierStatusName(item.dossier.status())));
    EXPECT_THAT(item.idempotency_key,
                ::testing::EndsWith(
                    absl::StrCat("-d", item.sequence, "-", DossierCode(1))));
    done = {Result(item.id, DeliveryResult::Kind::kDelivered)};
  }
  EXPECT_THAT(order, ::testing::ElementsAre("4 registration Trần Thị Mây",
                                            "5 step NEW", "6 step ACCEPTED"));
  // Superseded, the refused registration can no longer be put back.
  EXPECT_THAT(outbox->RetryDeadLetters({absl::StrCat(refused.id)}),
              IsOkAndHolds(0));
  EXPECT_THAT(outbox->CheckIntegrity(), IsOk());
}

TEST_F(PgOutboxTest, RefusesAnotherKeyAndAnUnmigratedSchema) {
  auto outbox = Open("a");
  PgOutboxOptions other;
  other.pool = PoolOptions();
  other.key = std::string(32, 'x');
  EXPECT_THAT(PgOutbox::Open(other).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("another key")));
  other.pool.dsn = server_->dsn();  // the postgres database: no schema
  other.key = std::string(32, 'k');
  EXPECT_THAT(PgOutbox::Open(other).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--migrate")));
}

lienthong::v1::SyncProceduresRequest Catalogue(int n, const std::string& name) {
  lienthong::v1::SyncProceduresRequest request;
  for (int i = 0; i < n; ++i) {
    lienthong::v1::Procedure* p = request.add_procedures();
    p->set_code(absl::StrFormat("1.%06d.000.00.00.H31", 1000 + i));
    p->set_name(absl::StrCat(name, " ", i));
    p->set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  }
  return request;
}

TEST_F(PgOutboxTest, CatalogueJobsAcrossReplicas) {
  auto a = Open("a");
  auto b = Open("b");
  std::atomic<int> told{0};
  a->SetJobListener([&told](const std::vector<std::string>&) { ++told; });
  auto synced = b->SyncProcedures(Catalogue(3, "Thủ tục"));
  ASSERT_THAT(synced.status(), IsOk());
  EXPECT_EQ(synced->creates(), 3);
  ASSERT_FALSE(synced->job_id().empty());
  // The same catalogue again through the other replica: nothing new.
  auto again = a->SyncProcedures(Catalogue(3, "Thủ tục"));
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->unchanged(), 3);
  EXPECT_TRUE(again->job_id().empty());
  auto job = a->GetJob(synced->job_id());
  ASSERT_THAT(job.status(), IsOk());
  EXPECT_EQ(job->state(), lienthong::v1::SyncJob::QUEUED);
  EXPECT_EQ(job->total(), 3);
  // Replica a delivers them; the job ends; b's later sync updates one.
  auto claimed = a->FinishAndClaim({}, 10);
  ASSERT_THAT(claimed.status(), IsOk());
  ASSERT_THAT(*claimed, SizeIs(3));
  std::vector<DeliveryResult> done;
  for (const OutboxItem& item : *claimed) {
    EXPECT_EQ(item.kind, ItemKind::kProcedure);
    EXPECT_FALSE(item.portal_has_procedure);
    EXPECT_EQ(item.job_id, synced->job_id());
    EXPECT_THAT(item.procedure.name(), HasSubstr("Thủ tục"));
    done.push_back(Result(item.id, DeliveryResult::Kind::kDelivered));
  }
  ASSERT_THAT(a->FinishAndClaim(done, 0).status(), IsOk());
  job = b->GetJob(synced->job_id());
  ASSERT_THAT(job.status(), IsOk());
  EXPECT_EQ(job->state(), lienthong::v1::SyncJob::DONE);
  EXPECT_EQ(job->delivered(), 3);
  auto changed = Catalogue(3, "Thủ tục");
  changed.mutable_procedures(1)->set_name("Thủ tục đổi tên");
  auto update = b->SyncProcedures(changed);
  ASSERT_THAT(update.status(), IsOk());
  EXPECT_EQ(update->updates(), 1);
  EXPECT_EQ(update->unchanged(), 2);
  auto next = a->FinishAndClaim({}, 10);
  ASSERT_THAT(next.status(), IsOk());
  ASSERT_THAT(*next, SizeIs(1));
  EXPECT_TRUE((*next)[0].portal_has_procedure);  // an update, not a create
  EXPECT_EQ((*next)[0].sequence, 2);
  EXPECT_THAT(a->GetJob("job-none").status(),
              StatusIs(absl::StatusCode::kNotFound, _));
  // Replica a heard of b's jobs from its renewal thread.
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (told == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_GT(told.load(), 0);
  a->SetJobListener(nullptr);
}

TEST_F(PgOutboxTest, DeadLetterOfAProcedureLeftAsThePortalHoldsItIsSuperseded) {
  auto outbox = Open("a");
  ASSERT_THAT(outbox->SyncProcedures(Catalogue(1, "Thủ tục")).status(), IsOk());
  auto created = outbox->FinishAndClaim({}, 10);
  ASSERT_THAT(created.status(), IsOk());
  ASSERT_THAT(*created, SizeIs(1));
  // The procedure is on the portal; an update of it is refused for good.
  auto changed = Catalogue(1, "Thủ tục đổi tên");
  ASSERT_THAT(outbox->SyncProcedures(changed).status(), IsOk());
  auto update = outbox->FinishAndClaim(
      {Result((*created)[0].id, DeliveryResult::Kind::kDelivered)}, 10);
  ASSERT_THAT(update.status(), IsOk());
  ASSERT_THAT(*update, SizeIs(1));
  ASSERT_THAT(
      outbox
          ->FinishAndClaim(
              {Result((*update)[0].id, DeliveryResult::Kind::kDead, true)}, 0)
          .status(),
      IsOk());
  ASSERT_THAT(outbox->ListDeadLetters(0, "")->dead_letters(), SizeIs(1));
  // The catalogue goes back to what the portal holds: the update, retried,
  // would undo it, so the sync replaces it.
  auto kept = outbox->SyncProcedures(Catalogue(1, "Thủ tục"));
  ASSERT_THAT(kept.status(), IsOk());
  EXPECT_EQ(kept->unchanged(), 1);
  EXPECT_EQ(kept->dead_letters_superseded(), 1);
  EXPECT_TRUE(kept->job_id().empty());
  EXPECT_THAT(outbox->ListDeadLetters(0, "")->dead_letters(), SizeIs(0));
  EXPECT_THAT(outbox->RetryDeadLetters({}), IsOkAndHolds(0));
  EXPECT_THAT(outbox->FinishAndClaim({}, 10), IsOkAndHolds(SizeIs(0)));
}

// As on SQLite: a correction synced while the refused change was on its
// way replaces the dead letter instead of waiting behind it for good.
TEST_F(PgOutboxTest, AProcedureChangeQueuedBehindOneThatDiesReplacesIt) {
  auto outbox = Open("a");
  ASSERT_THAT(outbox->SyncProcedures(Catalogue(1, "Thủ tục?")).status(),
              IsOk());
  auto refused = outbox->FinishAndClaim({}, 10);
  ASSERT_THAT(refused.status(), IsOk());
  ASSERT_THAT(*refused, SizeIs(1));
  ASSERT_THAT(outbox->SyncProcedures(Catalogue(1, "Thủ tục")).status(), IsOk());
  ASSERT_THAT(
      outbox
          ->FinishAndClaim(
              {Result((*refused)[0].id, DeliveryResult::Kind::kDead, true)}, 0)
          .status(),
      IsOk());
  auto corrected = outbox->FinishAndClaim({}, 10);
  ASSERT_THAT(corrected.status(), IsOk());
  ASSERT_THAT(*corrected, SizeIs(1));
  EXPECT_EQ((*corrected)[0].procedure.name(), "Thủ tục 0");
  EXPECT_THAT(outbox->ListDeadLetters(0, "")->dead_letters(), SizeIs(0));
}

TEST_F(PgOutboxTest, UnreachableDatabaseIsUnavailableAndNothingIsLost) {
  auto outbox = Open("a");
  ASSERT_THAT(outbox->PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))}))
                  .status(),
              IsOk());
  ASSERT_THAT(server_->Stop(), IsOk());
  EXPECT_THAT(outbox->PushDossierUpdates(
                  Batch({StatusUpdate(1, lienthong::v1::ACCEPTED, 1)})),
              StatusIs(absl::StatusCode::kUnavailable, _));
  EXPECT_THAT(outbox->Ready(), StatusIs(absl::StatusCode::kUnavailable,
                                        HasSubstr("unreachable")));
  EXPECT_THAT(outbox->Ready().message(), ::testing::Not(HasSubstr(
                                             server_->password())));
  ASSERT_THAT(server_->Resume(), IsOk());
  absl::Status pushed;
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  do {
    pushed = outbox
                 ->PushDossierUpdates(
                     Batch({StatusUpdate(1, lienthong::v1::ACCEPTED, 1)}))
                 .status();
    if (!pushed.ok()) absl::SleepFor(absl::Milliseconds(200));
  } while (!pushed.ok() && absl::Now() < give_up);
  ASSERT_THAT(pushed, IsOk());
  EXPECT_THAT(outbox->Ready(), IsOk());
  auto counts = outbox->Counts();
  ASSERT_THAT(counts.status(), IsOk());
  EXPECT_EQ(counts->pending, 3);  // registration, NEW, ACCEPTED
}

// A gateway started while its database is down starts NOT CONNECTED: every
// call and Ready() fail UNAVAILABLE saying why; when the database is back
// the schema is checked first (one too old keeps it not connected, saying
// to run --migrate), and once it passes, pushes are taken.
TEST_F(PgOutboxTest, StartsNotConnectedWhileTheDatabaseIsDownAndChecksItWhenBack) {
  const std::string unmigrated_dsn = NewDatabase(database_ + "_unmigrated");
  ASSERT_FALSE(unmigrated_dsn.empty());
  PgOutboxOptions options;
  options.pool.dsn = unmigrated_dsn;
  options.pool.size = 2;
  options.pool.connect_timeout = absl::Seconds(2);
  options.pool.max_backoff = absl::Milliseconds(500);
  options.key = std::string(32, 'k');
  options.replica = "late";
  options.lease = absl::Seconds(3);  // tries again every second

  ASSERT_THAT(server_->Stop(), IsOk());
  auto opened = PgOutbox::Open(options);
  absl::Status down_ready;
  absl::Status down_push;
  if (opened.ok()) {
    down_ready = (*opened)->Ready();
    down_push = (*opened)
                    ->PushDossierUpdates(
                        Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))}))
                    .status();
  }
  ASSERT_THAT(server_->Resume(), IsOk());
  ASSERT_THAT(opened.status(), IsOk());
  PgOutbox& outbox = **opened;
  EXPECT_THAT(down_ready, StatusIs(absl::StatusCode::kUnavailable,
                                   HasSubstr("outbox database unreachable")));
  EXPECT_THAT(down_ready.message(),
              ::testing::Not(HasSubstr(server_->password())));
  EXPECT_THAT(down_push, StatusIs(absl::StatusCode::kUnavailable, _));

  // Back, but the schema is too old: not used, and Ready() says why.
  absl::Status ready;
  absl::Time give_up = absl::Now() + absl::Seconds(15);
  do {
    ready = outbox.Ready();
    if (absl::StrContains(ready.message(), "not usable")) break;
    absl::SleepFor(absl::Milliseconds(100));  // the renewal thread's retry
  } while (absl::Now() < give_up);
  EXPECT_THAT(ready, StatusIs(absl::StatusCode::kUnavailable,
                              HasSubstr("--migrate")));
  EXPECT_FALSE(outbox.connected());
  EXPECT_THAT(outbox.PushDossierUpdates(
                  Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))})),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("--migrate")));

  // Migrated: connected within a retry, and pushes are taken.
  ASSERT_THAT(PgOutbox::Migrate(options.pool).status(), IsOk());
  give_up = absl::Now() + absl::Seconds(15);
  while (!outbox.connected() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));  // the renewal thread's retry
  }
  ASSERT_TRUE(outbox.connected());
  EXPECT_THAT(outbox.Ready(), IsOk());
  auto pushed = outbox.PushDossierUpdates(
      Batch({Registered(StatusUpdate(1, lienthong::v1::NEW, 0))}));
  ASSERT_THAT(pushed.status(), IsOk());
  EXPECT_EQ(pushed->accepted, 1);
}

}  // namespace
}  // namespace lienthong::sync
