#include "gateway/storage/schema.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::storage {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    path_ = absl::StrCat(::testing::TempDir(), "/schema-", getpid(), "-",
                         counter++, ".db");
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove(absl::StrCat(path_, suffix).c_str());
    }
  }

  std::unique_ptr<Database> Open() {
    OpenOptions options;
    options.label = "test store";
    auto db = Database::Open(path_, options);
    EXPECT_THAT(db, IsOk());
    return db.ok() ? *std::move(db) : nullptr;
  }

  // Three upgrades that note in `ran_` which of them ran.
  std::vector<SchemaUpgrade> Upgrades(int count) {
    std::vector<SchemaUpgrade> all = {
        {1, "CREATE TABLE items(id INTEGER PRIMARY KEY, state INTEGER)",
         [this](Database&) {
           ran_.push_back(1);
           return absl::OkStatus();
         }},
        {2, "ALTER TABLE items ADD COLUMN job_id TEXT",
         [this](Database&) {
           ran_.push_back(2);
           return absl::OkStatus();
         }},
        {3, "",
         [this](Database& db) {
           ran_.push_back(3);
           return db.Exec("CREATE INDEX items_job ON items(job_id)");
         }},
    };
    all.resize(count);
    return all;
  }

  std::string path_;
  std::vector<int> ran_;
};

TEST_F(SchemaTest, ANewFileRunsEveryUpgradeInOrderAndOnlyOnce) {
  {
    auto db = Open();
    ASSERT_NE(db, nullptr);
    EXPECT_THAT(UpgradeSchema(*db, Upgrades(3)), IsOkAndHolds(0));
    EXPECT_THAT(SchemaVersion(*db), IsOkAndHolds(3));
  }
  EXPECT_THAT(ran_, ElementsAre(1, 2, 3));
  ran_.clear();
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(UpgradeSchema(*db, Upgrades(3)), IsOkAndHolds(3));
  EXPECT_THAT(ran_, IsEmpty());
  EXPECT_THAT(db->Exec("INSERT INTO items(state, job_id) VALUES (0, 'j')"),
              IsOk());
}

TEST_F(SchemaTest, AnOlderFileRunsOnlyTheMissingUpgrades) {
  {
    auto db = Open();
    ASSERT_NE(db, nullptr);
    ASSERT_THAT(UpgradeSchema(*db, Upgrades(1)), IsOkAndHolds(0));
    ASSERT_THAT(db->Exec("INSERT INTO items(state) VALUES (2)"), IsOk());
  }
  ran_.clear();
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(UpgradeSchema(*db, Upgrades(3)), IsOkAndHolds(1));
  EXPECT_THAT(ran_, ElementsAre(2, 3));
  auto q = db->Prepare("SELECT state, job_id FROM items");
  ASSERT_THAT(q, IsOk());
  ASSERT_THAT(q->Step(), IsOkAndHolds(true));
  EXPECT_EQ(q->Int(0), 2);  // The row survived the upgrades.
  EXPECT_TRUE(q->IsNull(1));
}

TEST_F(SchemaTest, AFileNewerThanTheCodeIsRefused) {
  {
    auto db = Open();
    ASSERT_NE(db, nullptr);
    ASSERT_THAT(UpgradeSchema(*db, Upgrades(3)), IsOk());
  }
  ran_.clear();
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(UpgradeSchema(*db, Upgrades(2)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("test store"), HasSubstr(path_),
                             HasSubstr("schema version 3, newer than this "
                                       "gateway's 2"))));
  EXPECT_THAT(ran_, IsEmpty());
  EXPECT_THAT(CheckSchemaNotNewer(*db, 2),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(CheckSchemaNotNewer(*db, 3), IsOk());
  EXPECT_THAT(SchemaVersion(*db), IsOkAndHolds(3));
}

// A negative version (PRAGMA user_version is any 32-bit number) is no
// gateway's: refused, not taken as a position in the list of upgrades.
TEST_F(SchemaTest, ANegativeVersionIsRefused) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("PRAGMA user_version=-1"), IsOk());
  const auto refused = StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("schema version -1, which no "
                                          "gateway writes"));
  EXPECT_THAT(UpgradeSchema(*db, Upgrades(2)), refused);
  EXPECT_THAT(CheckSchemaNotNewer(*db, 2), refused);
  EXPECT_THAT(ran_, IsEmpty());
}

TEST_F(SchemaTest, AFailedUpgradeLeavesTheFileAsItWas) {
  {
    auto db = Open();
    ASSERT_NE(db, nullptr);
    ASSERT_THAT(UpgradeSchema(*db, Upgrades(1)), IsOk());
  }
  std::vector<SchemaUpgrade> upgrades = Upgrades(3);
  upgrades[2].apply = [](Database& db) {
    return absl::UnavailableError("disk full");
  };
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(UpgradeSchema(*db, upgrades),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("disk full")));
  EXPECT_THAT(SchemaVersion(*db), IsOkAndHolds(1));
  // Upgrade 2's column was rolled back with the rest.
  EXPECT_THAT(db->Prepare("SELECT job_id FROM items"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("no such column")));
}

TEST_F(SchemaTest, UpgradesMustBeNumberedFromOne) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  std::vector<SchemaUpgrade> upgrades = Upgrades(3);
  upgrades[1].to_version = 3;
  EXPECT_THAT(UpgradeSchema(*db, upgrades),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("numbered 1, 2, 3")));
  EXPECT_THAT(ran_, IsEmpty());
  EXPECT_THAT(SchemaVersion(*db), IsOkAndHolds(0));
}

}  // namespace
}  // namespace lienthong::storage
