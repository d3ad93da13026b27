// A dossier's dead registration replaced by a later one on the PostgreSQL
// outbox (gateway/sync/pg_outbox.h), as on SQLite
// (outbox_registration_test.cc): whether the later one was queued after it
// died (pg_outbox_test.cc) or, here, while it was still pending.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/storage/pg/pg_pool.h"
#include "gateway/sync/pg_outbox.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/sync/dossier_fixtures.h"
#include "tests/gateway/sync/outbox_driver.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::sync::testing::Claim;
using ::lienthong::sync::testing::Dead;
using ::lienthong::sync::testing::DeadLetters;
using ::lienthong::sync::testing::Delivered;
using ::lienthong::sync::testing::DeliverOneByOne;
using ::lienthong::sync::testing::kCorrectedApplicant;
using ::lienthong::sync::testing::kFirstApplicant;
using ::lienthong::sync::testing::kRecorrectedApplicant;
using ::lienthong::sync::testing::Push;
using ::lienthong::sync::testing::QueueACorrectionBehindAPendingRegistration;
using ::lienthong::sync::testing::Record;
using ::lienthong::sync::testutil::DossierCode;
using ::lienthong::sync::testutil::Registered;
using ::lienthong::sync::testutil::StatusUpdate;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::v1::ACCEPTED;
using ::lienthong::v1::NEW;
using ::lienthong::v1::PROCESSING;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PgOutboxRegistrationTest : public ::lienthong::testing::PgServerTest {
 protected:
  void SetUp() override {
    PgServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // A database of its own per test.
    static int next = 0;
    const std::string dsn =
        NewDatabase(absl::StrCat("outbox_registration_", ++next));
    ASSERT_FALSE(dsn.empty());
    pool_options_.dsn = dsn;
    pool_options_.size = 2;
    ASSERT_THAT(PgOutbox::Migrate(pool_options_).status(), IsOk());
    auto pool = storage::pg::Pool::Create(pool_options_);
    ASSERT_THAT(pool.status(), IsOk());
    pool_ = *std::move(pool);
    a_ = Open("a");
    ASSERT_NE(a_, nullptr);
  }

  std::unique_ptr<PgOutbox> Open(const std::string& replica) {
    PgOutboxOptions options;
    options.pool = pool_options_;
    options.key = std::string(32, 'k');
    options.replica = replica;
    auto opened = PgOutbox::Open(options);
    EXPECT_THAT(opened.status(), IsOk());
    return opened.ok() ? *std::move(opened) : nullptr;
  }

  // The first column of each row of `sql` (one parameter: dossier 1's
  // code), read directly from the database.
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> rows;
    auto r = pool_->Run(sql, {DossierCode(1)});
    EXPECT_THAT(r.status(), IsOk());
    for (int row = 0; r.ok() && row < r->rows(); ++row) {
      rows.push_back(r->Text(row, 0));
    }
    return rows;
  }

  // Dossier 1's items, by id, as "<seq>:<state>".
  std::vector<std::string> StoredItems() {
    return Rows(
        "SELECT CAST(seq AS TEXT) || ':' || CASE state "
        "WHEN 0 THEN 'pending' WHEN 1 THEN 'in_flight' "
        "WHEN 2 THEN 'delivered' WHEN 3 THEN 'dead' "
        "ELSE 'superseded' END FROM outbox_items WHERE key=$1 "
        "ORDER BY id");
  }

  storage::pg::PoolOptions pool_options_;
  std::unique_ptr<storage::pg::Pool> pool_;
  std::unique_ptr<PgOutbox> a_;
};

TEST_F(PgOutboxRegistrationTest,
       RegistrationRefusedWhileACorrectionWaitsIsReplacedByIt) {
  const OutboxItem refused = QueueACorrectionBehindAPendingRegistration(*a_);
  Record(*a_, {Dead(refused, /*refused=*/true)});

  // The correction goes first, at once, with its own content.
  std::vector<OutboxItem> next = Claim(*a_);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].sequence, 3);
  EXPECT_TRUE(next[0].registration);
  EXPECT_EQ(next[0].dossier.registration().applicant().name(),
            kCorrectedApplicant);
  // The refused one is superseded: out of the dead letters, its personal
  // data gone.
  EXPECT_THAT(DeadLetters(*a_), IsEmpty());
  EXPECT_THAT(a_->RetryDeadLetters({absl::StrCat(refused.id)}),
              IsOkAndHolds(0));
  EXPECT_THAT(StoredItems(), ElementsAre("1:superseded", "5:pending",
                                         "3:in_flight", "6:pending"));
  EXPECT_THAT(Rows("SELECT CAST(octet_length(payload) AS TEXT) FROM "
                   "outbox_items WHERE key=$1 AND seq=1"),
              ElementsAre("0"));
  Record(*a_, {Delivered(next[0])});

  // Another replica goes on in the same order; the steps that waited open
  // in their new places, under keys of their own.
  std::unique_ptr<PgOutbox> b = Open("b");
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(DeliverOneByOne(*b,
                              [&](const OutboxItem& item) {
                                EXPECT_EQ(item.idempotency_key,
                                          absl::StrCat(b->outbox_id(), "-d",
                                                       item.sequence, "-",
                                                       DossierCode(1)));
                              }),
              ElementsAre("5 step NEW", "6 step ACCEPTED"));
  // Later updates follow the moved steps.
  Push(*b, {StatusUpdate(1, PROCESSING, 2)});
  EXPECT_THAT(DeliverOneByOne(*a_), ElementsAre("7 step PROCESSING"));
  EXPECT_THAT(a_->CheckIntegrity(), IsOk());
}

TEST_F(PgOutboxRegistrationTest,
       CorrectionPushedThroughAnotherReplicaReplacesTheRegistrationInFlight) {
  Push(*a_, {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant)});
  std::vector<OutboxItem> flying = Claim(*a_);
  ASSERT_EQ(flying.size(), 1u);
  std::unique_ptr<PgOutbox> b = Open("b");
  ASSERT_NE(b, nullptr);
  Push(*b, {Registered(StatusUpdate(1, ACCEPTED, 1), kCorrectedApplicant)});
  Record(*a_, {Dead(flying[0], /*refused=*/true)});

  EXPECT_THAT(DeliverOneByOne(*b),
              ElementsAre(absl::StrCat("3 registration ", kCorrectedApplicant),
                          "5 step NEW", "6 step ACCEPTED"));
}

TEST_F(PgOutboxRegistrationTest,
       GivenUpRegistrationIsReplacedByTheLatestOfThoseQueuedBehindIt) {
  Push(*a_,
       {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant),
        Registered(StatusUpdate(1, ACCEPTED, 1), kCorrectedApplicant),
        Registered(StatusUpdate(1, PROCESSING, 2), kRecorrectedApplicant)});
  std::vector<OutboxItem> first = Claim(*a_);
  ASSERT_EQ(first.size(), 1u);
  Record(*a_, {Dead(first[0], /*refused=*/false)});

  // The registration between them is older content: superseded too.
  EXPECT_THAT(StoredItems(),
              ElementsAre("1:superseded", "7:pending", "3:superseded",
                          "8:pending", "5:pending", "9:pending"));
  EXPECT_THAT(
      DeliverOneByOne(*a_),
      ElementsAre(absl::StrCat("5 registration ", kRecorrectedApplicant),
                  "7 step NEW", "8 step ACCEPTED", "9 step PROCESSING"));
}

TEST_F(PgOutboxRegistrationTest,
       UnreadableRegistrationIsReplacedLikeARefusedOne) {
  Push(*a_, {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant),
             Registered(StatusUpdate(1, ACCEPTED, 1), kCorrectedApplicant)});
  // Dossier 1's first registration damaged in the database: parked when
  // claimed.
  ASSERT_THAT(pool_
                  ->Run("UPDATE outbox_items SET payload="
                        "decode(repeat('00', 64), 'hex') WHERE seq=1")
                  .status(),
              IsOk());
  EXPECT_THAT(Claim(*a_), IsEmpty());
  EXPECT_THAT(DeliverOneByOne(*a_),
              ElementsAre(absl::StrCat("3 registration ", kCorrectedApplicant),
                          "5 step NEW", "6 step ACCEPTED"));
  EXPECT_THAT(DeadLetters(*a_), IsEmpty());
}

TEST_F(PgOutboxRegistrationTest,
       RefusedStepIsNotReplacedByARegistrationBehindIt) {
  Push(*a_, {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant)});
  std::vector<OutboxItem> registration = Claim(*a_);
  ASSERT_EQ(registration.size(), 1u);
  Record(*a_, {Delivered(registration[0])});
  std::vector<OutboxItem> step = Claim(*a_);
  ASSERT_EQ(step.size(), 1u);
  ASSERT_EQ(step[0].sequence, 2);
  // Corrected while the step is in flight; then the step is refused.
  Push(*a_, {Registered(StatusUpdate(1, ACCEPTED, 1), kCorrectedApplicant)});
  Record(*a_, {Dead(step[0], /*refused=*/true)});

  // A refused step is part of the dossier's history: it stays, and blocks.
  EXPECT_THAT(Claim(*a_), IsEmpty());
  EXPECT_THAT(DeadLetters(*a_),
              ElementsAre(absl::StrCat("dossier ", DossierCode(1))));
  EXPECT_THAT(StoredItems(),
              ElementsAre("1:delivered", "2:dead", "3:pending", "4:pending"));
}

TEST_F(PgOutboxRegistrationTest, RefusedRegistrationWithNoneBehindItBlocks) {
  Push(*a_, {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant),
             StatusUpdate(1, ACCEPTED, 1)});
  std::vector<OutboxItem> refused = Claim(*a_);
  ASSERT_EQ(refused.size(), 1u);
  Record(*a_, {Dead(refused[0], /*refused=*/true)});
  // Progress without a registration replaces nothing either.
  Push(*a_, {StatusUpdate(1, PROCESSING, 2)});

  EXPECT_THAT(Claim(*a_), IsEmpty());
  EXPECT_THAT(DeadLetters(*a_),
              ElementsAre(absl::StrCat("registration ", DossierCode(1))));
  EXPECT_THAT(StoredItems(),
              ElementsAre("1:dead", "2:pending", "3:pending", "4:pending"));
}

}  // namespace
}  // namespace lienthong::sync
