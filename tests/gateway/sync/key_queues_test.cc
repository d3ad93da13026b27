#include "gateway/sync/key_queues.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::sync {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::Pair;

const absl::Time kT0 = absl::FromUnixSeconds(1752537600);

KeyQueues::Item Pending(int64_t id, absl::Time due = kT0) {
  return {id, ItemState::kPending, due};
}

// "<key>:<id>" of each due head, in the order Due() gives them.
std::vector<std::string> DueNow(const KeyQueues& queues, absl::Time now,
                                int max = 100) {
  std::vector<std::string> out;
  for (const KeyQueues::Head& head : queues.Due(now, max)) {
    out.push_back(absl::StrCat(head.key, ":", head.id));
  }
  return out;
}

TEST(KeyQueuesTest, OnlyTheHeadOfAKeyIsDueAndItemsLeaveInSequence) {
  KeyQueues queues;
  // Put out of order: the sequence decides, not the order of Put.
  queues.Put("dA", 2, Pending(12));
  queues.Put("dA", 1, Pending(11));
  queues.Put("dA", 3, Pending(13));
  EXPECT_THAT(DueNow(queues, kT0), ElementsAre("dA:11"));
  std::vector<int64_t> left;
  for (int i = 0; i < 3; ++i) {
    std::vector<KeyQueues::Head> heads = queues.Due(kT0, 10);
    ASSERT_EQ(heads.size(), 1u);
    left.push_back(heads[0].id);
    ASSERT_TRUE(queues.Claim(heads[0].id, heads[0].key));
    // One in flight per key: nothing else of it is due meanwhile.
    EXPECT_THAT(DueNow(queues, kT0), IsEmpty());
    ASSERT_TRUE(queues.Land(heads[0].id, KeyQueues::Landing::kDelivered));
  }
  EXPECT_THAT(left, ElementsAre(11, 12, 13));
  EXPECT_EQ(queues.NextDue(), std::nullopt);
  EXPECT_EQ(queues.OpenCounts().pending, 0);
}

TEST(KeyQueuesTest, HeadsOfAllKeysAreDueOldestFirstTiesById) {
  KeyQueues queues;
  // dA has many items waiting; dB and pC one each. Every key gets its turn
  // by its head's due time, not by how much it has queued.
  for (int seq = 1; seq <= 5; ++seq) queues.Put("dA", seq, Pending(seq));
  queues.Put("dB", 1, Pending(20, kT0 - absl::Seconds(5)));
  queues.Put("pC", 1, Pending(7));
  queues.Put("dD", 1, Pending(30, kT0 + absl::Seconds(1)));  // not yet
  EXPECT_THAT(DueNow(queues, kT0), ElementsAre("dB:20", "dA:1", "pC:7"));
  EXPECT_THAT(DueNow(queues, kT0, 2), ElementsAre("dB:20", "dA:1"));
  EXPECT_THAT(DueNow(queues, kT0 + absl::Seconds(1)),
              ElementsAre("dB:20", "dA:1", "pC:7", "dD:30"));
  EXPECT_THAT(queues.NextDue(), Optional(kT0 - absl::Seconds(5)));
}

TEST(KeyQueuesTest, ARetryWaitsItsTurnAndExpediteBringsItBack) {
  KeyQueues queues;
  queues.Put("dA", 1, Pending(1));
  queues.Put("dA", 2, Pending(2));
  queues.Put("dB", 1, Pending(3));
  ASSERT_TRUE(queues.Claim(1, "dA"));
  const absl::Time later = kT0 + absl::Minutes(5);
  ASSERT_TRUE(queues.Land(1, KeyQueues::Landing::kPending, later));
  // The retried head keeps its place in its key: item 2 does not overtake.
  EXPECT_THAT(DueNow(queues, kT0), ElementsAre("dB:3"));
  EXPECT_THAT(DueNow(queues, later), ElementsAre("dB:3", "dA:1"));
  queues.Expedite(kT0);
  EXPECT_THAT(DueNow(queues, kT0), ElementsAre("dA:1", "dB:3"));
}

TEST(KeyQueuesTest, ReleaseKeepsTheDueTimeAndADeadHeadBlocksItsKey) {
  KeyQueues queues;
  queues.Put("dA", 1, Pending(1, kT0 - absl::Seconds(1)));
  queues.Put("dA", 2, Pending(2));
  ASSERT_TRUE(queues.Claim(1, "dA"));
  ASSERT_TRUE(queues.Land(1, KeyQueues::Landing::kPending));  // released
  EXPECT_THAT(queues.NextDue(), Optional(kT0 - absl::Seconds(1)));
  ASSERT_TRUE(queues.Claim(1, "dA"));
  ASSERT_TRUE(queues.Land(1, KeyQueues::Landing::kDead));
  EXPECT_THAT(DueNow(queues, kT0 + absl::Hours(1)), IsEmpty());
  EXPECT_THAT(queues.DeadItems("dA"), ElementsAre(Pair(1, 1)));
  EXPECT_TRUE(queues.HasQueued("dA"));  // item 2 waits behind it
  // Put back (an operator's retry): due again, before item 2.
  queues.Put("dA", 1, Pending(1, kT0));
  EXPECT_THAT(DueNow(queues, kT0), ElementsAre("dA:1"));
  EXPECT_THAT(queues.DeadItems("dA"), IsEmpty());
}

TEST(KeyQueuesTest, LandingAnItemNotInFlightChangesNothing) {
  KeyQueues queues;
  queues.Put("dA", 1, Pending(1));
  EXPECT_FALSE(queues.Land(1, KeyQueues::Landing::kDelivered));
  EXPECT_FALSE(queues.Land(99, KeyQueues::Landing::kDead));
  EXPECT_THAT(DueNow(queues, kT0), ElementsAre("dA:1"));
  ASSERT_TRUE(queues.Claim(1, "dA"));
  ASSERT_TRUE(queues.Land(1, KeyQueues::Landing::kDelivered));
  // Landed once; a second report of it is ignored.
  EXPECT_FALSE(queues.Land(1, KeyQueues::Landing::kDead));
  EXPECT_FALSE(queues.Claim(1, "dA"));
}

TEST(KeyQueuesTest, ParkedAndSupersededItems) {
  KeyQueues queues;
  queues.Put("pX", 1, Pending(1));
  queues.Put("pX", 2, Pending(2));
  // Unreadable when claimed: dead without a flight.
  ASSERT_TRUE(queues.Park(1, "pX"));
  EXPECT_FALSE(queues.Land(1, KeyQueues::Landing::kDelivered));
  EXPECT_THAT(DueNow(queues, kT0), IsEmpty());
  // A later change supersedes the dead item: the next one is the head.
  queues.Erase("pX", 1);
  EXPECT_THAT(DueNow(queues, kT0), ElementsAre("pX:2"));
}

TEST(KeyQueuesTest, CountsAndQueuedChanges) {
  KeyQueues queues;
  queues.Put("pX", 1, Pending(1));
  queues.Put("pX", 2, Pending(2));
  queues.Put("pY", 1, Pending(3));
  queues.Put("dZ", 1, Pending(4));
  ASSERT_TRUE(queues.Claim(1, "pX"));
  ASSERT_TRUE(queues.Claim(3, "pY"));
  ASSERT_TRUE(queues.Land(3, KeyQueues::Landing::kDead));
  const KeyQueues::Counts counts = queues.OpenCounts();
  EXPECT_EQ(counts.pending, 2);
  EXPECT_EQ(counts.in_flight, 1);
  EXPECT_EQ(counts.dead, 1);
  EXPECT_TRUE(queues.HasQueued("pX"));
  EXPECT_FALSE(queues.HasQueued("pY"));  // only a dead letter
  EXPECT_FALSE(queues.HasQueued("pW"));
  queues.Clear();
  EXPECT_EQ(queues.OpenCounts().pending, 0);
  EXPECT_EQ(queues.NextDue(), std::nullopt);
}

}  // namespace
}  // namespace lienthong::sync
