// A dossier's dead registration replaced by a later one on the SQLite outbox
// (gateway/sync/outbox.h, Items): whether the later one was queued after it
// died (outbox_test.cc) or, here, while it was still pending.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"
#include "gateway/sync/outbox.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/sync/dossier_fixtures.h"
#include "tests/gateway/sync/fresh_outbox_path.h"
#include "tests/gateway/sync/outbox_driver.h"
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
using ::lienthong::sync::testutil::kT0;
using ::lienthong::sync::testutil::Registered;
using ::lienthong::sync::testutil::StatusUpdate;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::v1::ACCEPTED;
using ::lienthong::v1::NEW;
using ::lienthong::v1::PROCESSING;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The first column of each row of `sql` (one parameter: dossier 1's code),
// read through a connection of its own, as an operator's sqlite3 would.
std::vector<std::string> Rows(const std::string& path, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  sqlite3_stmt* q = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot read " << path << ": " << sqlite3_errmsg(db);
  } else {
    const std::string code = DossierCode(1);
    sqlite3_bind_text(q, 1, code.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(q) == SQLITE_ROW) {
      rows.push_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
    }
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return rows;
}

// Dossier 1's items in the file, by id, as "<seq>:<state>".
std::vector<std::string> StoredItems(const std::string& path) {
  return Rows(path,
              "SELECT CAST(seq AS TEXT) || ':' || CASE state "
              "WHEN 0 THEN 'pending' WHEN 1 THEN 'in_flight' "
              "WHEN 2 THEN 'delivered' WHEN 3 THEN 'dead' "
              "ELSE 'superseded' END FROM items WHERE key=? ORDER BY id");
}

class OutboxRegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::FreshOutboxPath("outbox_registration_test");
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

  resilience::FakeClock clock_{absl::FromUnixSeconds(kT0)};
  std::string path_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxRegistrationTest,
       RegistrationRefusedWhileACorrectionWaitsIsReplacedByIt) {
  const OutboxItem refused =
      QueueACorrectionBehindAPendingRegistration(*outbox_);
  Record(*outbox_, {Dead(refused, /*refused=*/true)});

  // The correction goes first, at once, with its own content.
  std::vector<OutboxItem> next = Claim(*outbox_);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].sequence, 3);
  EXPECT_TRUE(next[0].registration);
  EXPECT_EQ(next[0].dossier.registration().applicant().name(),
            kCorrectedApplicant);
  // The refused one is superseded, as when the correction comes after it
  // died: out of the dead letters, its personal data gone.
  EXPECT_THAT(DeadLetters(*outbox_), IsEmpty());
  EXPECT_THAT(outbox_->RetryDeadLetters({}), IsOkAndHolds(0));
  EXPECT_THAT(StoredItems(path_), ElementsAre("1:superseded", "5:pending",
                                              "3:in_flight", "6:pending"));
  EXPECT_THAT(Rows(path_,
                   "SELECT CAST(length(payload) AS TEXT) FROM items "
                   "WHERE key=? AND seq=1"),
              ElementsAre("0"));

  // The same order read back from the file; the steps that waited open in
  // their new places, under keys of their own.
  Reopen();
  EXPECT_THAT(DeliverOneByOne(*outbox_,
                              [&](const OutboxItem& item) {
                                EXPECT_EQ(item.idempotency_key,
                                          absl::StrCat(outbox_->outbox_id(),
                                                       "-d", item.sequence, "-",
                                                       DossierCode(1)));
                              }),
              ElementsAre(absl::StrCat("3 registration ", kCorrectedApplicant),
                          "5 step NEW", "6 step ACCEPTED"));
  // Later updates follow the moved steps.
  Push(*outbox_, {StatusUpdate(1, PROCESSING, 2)});
  EXPECT_THAT(DeliverOneByOne(*outbox_), ElementsAre("7 step PROCESSING"));
}

TEST_F(OutboxRegistrationTest,
       GivenUpRegistrationIsReplacedByTheLatestOfThoseQueuedBehindIt) {
  Push(*outbox_,
       {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant),
        Registered(StatusUpdate(1, ACCEPTED, 1), kCorrectedApplicant),
        Registered(StatusUpdate(1, PROCESSING, 2), kRecorrectedApplicant)});
  std::vector<OutboxItem> first = Claim(*outbox_);
  ASSERT_EQ(first.size(), 1u);
  Record(*outbox_, {Dead(first[0], /*refused=*/false)});

  // The registration between them is older content: superseded too.
  EXPECT_THAT(StoredItems(path_),
              ElementsAre("1:superseded", "7:pending", "3:superseded",
                          "8:pending", "5:pending", "9:pending"));
  EXPECT_THAT(
      DeliverOneByOne(*outbox_),
      ElementsAre(absl::StrCat("5 registration ", kRecorrectedApplicant),
                  "7 step NEW", "8 step ACCEPTED", "9 step PROCESSING"));
}

TEST_F(OutboxRegistrationTest,
       UnreadableRegistrationIsReplacedLikeARefusedOne) {
  Push(*outbox_,
       {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant),
        Registered(StatusUpdate(1, ACCEPTED, 1), kCorrectedApplicant)});
  // Dossier 1's first registration damaged on disk: parked when claimed.
  outbox_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "UPDATE items SET payload=zeroblob(64) WHERE seq=1",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  Reopen();
  EXPECT_THAT(Claim(*outbox_), IsEmpty());
  EXPECT_THAT(DeliverOneByOne(*outbox_),
              ElementsAre(absl::StrCat("3 registration ", kCorrectedApplicant),
                          "5 step NEW", "6 step ACCEPTED"));
  EXPECT_THAT(DeadLetters(*outbox_), IsEmpty());
}

TEST_F(OutboxRegistrationTest,
       RefusedStepIsNotReplacedByARegistrationBehindIt) {
  Push(*outbox_, {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant)});
  std::vector<OutboxItem> registration = Claim(*outbox_);
  ASSERT_EQ(registration.size(), 1u);
  Record(*outbox_, {Delivered(registration[0])});
  std::vector<OutboxItem> step = Claim(*outbox_);
  ASSERT_EQ(step.size(), 1u);
  ASSERT_EQ(step[0].sequence, 2);
  // Corrected while the step is in flight; then the step is refused.
  Push(*outbox_,
       {Registered(StatusUpdate(1, ACCEPTED, 1), kCorrectedApplicant)});
  Record(*outbox_, {Dead(step[0], /*refused=*/true)});

  // A refused step is part of the dossier's history: it stays, and blocks.
  EXPECT_THAT(Claim(*outbox_), IsEmpty());
  EXPECT_THAT(DeadLetters(*outbox_),
              ElementsAre(absl::StrCat("dossier ", DossierCode(1))));
  EXPECT_THAT(StoredItems(path_),
              ElementsAre("1:delivered", "2:dead", "3:pending", "4:pending"));
}

TEST_F(OutboxRegistrationTest, RefusedRegistrationWithNoneBehindItBlocks) {
  Push(*outbox_, {Registered(StatusUpdate(1, NEW, 0), kFirstApplicant),
                  StatusUpdate(1, ACCEPTED, 1)});
  std::vector<OutboxItem> refused = Claim(*outbox_);
  ASSERT_EQ(refused.size(), 1u);
  Record(*outbox_, {Dead(refused[0], /*refused=*/true)});
  // Progress without a registration replaces nothing either.
  Push(*outbox_, {StatusUpdate(1, PROCESSING, 2)});

  EXPECT_THAT(Claim(*outbox_), IsEmpty());
  EXPECT_THAT(DeadLetters(*outbox_),
              ElementsAre(absl::StrCat("registration ", DossierCode(1))));
  EXPECT_THAT(StoredItems(path_),
              ElementsAre("1:dead", "2:pending", "3:pending", "4:pending"));
}

}  // namespace
}  // namespace lienthong::sync
