// SqliteBundleStore: records (personal data) sealed under the store's key
// and bound to their bundle, a store opened with another key refused, and a
// store of schema version 1 (records in the clear) sealed when opened; and
// only bundles with no work left deleted when their time is up.
#include "gateway/bundle/bundle_store.h"

#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::bundle {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

// Synthetic personal data.
constexpr char kMotherId[] = "001190012345";
constexpr char kMotherName[] = "Trần Thị Thử Nghiệm";

const std::string& Key() {
  static const std::string* const key = new std::string(32, 'k');
  return *key;
}

internal::StoredBundle Bundle(const std::string& id,
                              const std::string& dossier) {
  internal::StoredBundle b;
  b.set_id(id);
  b.set_kind(lienthong::v1::BIRTH);
  b.set_dossier_code(dossier);
  b.set_state(lienthong::v1::BUNDLE_RUNNING);
  (*b.mutable_data())["mother.citizen_id"] = kMotherId;
  (*b.mutable_data())["mother.full_name"] = kMotherName;
  b.mutable_created()->set_seconds(1764547200);
  return b;
}

// Every byte of the store's files (database, WAL), as one string.
std::string FileBytes(const std::string& path) {
  std::string all;
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(path + suffix, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    all += bytes.str();
  }
  return all;
}

// Runs `sql` on the file at `path` with SQLite itself.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

class BundleStoreTest : public ::testing::Test {
 protected:
  // Writes bundles b-1 .. b-`count` (dossiers ...-00001 on) with Key().
  void WriteBundles(int count) {
    auto store = SqliteBundleStore::Open(path_, Key());
    ASSERT_THAT(store, IsOk());
    std::vector<internal::StoredBundle> bundles;
    for (int i = 1; i <= count; ++i) {
      bundles.push_back(Bundle(absl::StrCat("b-", i),
                               absl::StrCat("000.00.01.H31-251201-0000", i)));
    }
    std::vector<const internal::StoredBundle*> all;
    for (const auto& b : bundles) all.push_back(&b);
    ASSERT_THAT((*store)->Write(all), IsOk());
  }

  lienthong::testing::ScratchDir dir_;
  const std::string path_ = dir_.File("bundles.db");
};

TEST_F(BundleStoreTest, RecordsAreSealedAndReadBack) {
  WriteBundles(1);
  const std::string bytes = FileBytes(path_);
  EXPECT_THAT(bytes,
              HasSubstr("000.00.01.H31-251201-00001"));  // a clear column
  EXPECT_THAT(bytes, Not(HasSubstr(kMotherId)));
  EXPECT_THAT(bytes, Not(HasSubstr(kMotherName)));
  EXPECT_THAT(bytes, Not(HasSubstr("mother.full_name")));

  auto reopened = SqliteBundleStore::Open(path_, Key());
  ASSERT_THAT(reopened, IsOk());
  auto open = (*reopened)->LoadOpen();
  ASSERT_THAT(open, IsOk());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].bundle.data().at("mother.citizen_id"), kMotherId);
  EXPECT_EQ((*open)[0].bundle.data().at("mother.full_name"), kMotherName);
}

TEST_F(BundleStoreTest, AnotherKeyIsRefusedWithoutReadingAnything) {
  WriteBundles(1);
  auto other = SqliteBundleStore::Open(path_, std::string(32, 'x'));
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kFailedPrecondition,
                              HasSubstr("sealed under another key")));
  EXPECT_THAT(SqliteBundleStore::Open(path_, "short"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32")));
}

TEST_F(BundleStoreTest, ARecordMovedToAnotherBundleIsDataLoss) {
  WriteBundles(2);
  // Someone with write access to the file copies b-1's record onto b-2.
  RawExec(path_,
          "UPDATE bundles SET record = (SELECT record FROM bundles WHERE id = "
          "'b-1') WHERE id = 'b-2'");
  auto store = SqliteBundleStore::Open(path_, Key());
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT((*store)->Get("b-1"), IsOk());
  EXPECT_THAT((*store)->Get("b-2"), StatusIs(absl::StatusCode::kDataLoss,
                                             HasSubstr("fails its seal")));
}

TEST_F(BundleStoreTest, AVersionOneStoreIsSealedWhenOpened) {
  // The store as version 1 wrote it: the record in the clear.
  const internal::StoredBundle b = Bundle("b-1", "000.00.01.H31-251201-00001");
  std::string hex;
  for (unsigned char c : b.SerializeAsString()) {
    static const char kDigits[] = "0123456789ABCDEF";
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  RawExec(
      path_,
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE bundles(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT "
      "NOT NULL UNIQUE, dossier_code TEXT NOT NULL UNIQUE, kind INTEGER NOT "
      "NULL, state INTEGER NOT NULL, needs_work INTEGER NOT NULL, "
      "created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL, record "
      "BLOB NOT NULL);"
      "CREATE INDEX bundles_by_state ON bundles(state, seq);"
      "CREATE INDEX bundles_with_work ON bundles(needs_work, seq);"
      "INSERT INTO bundles(id, dossier_code, kind, state, needs_work, "
      "created_us, updated_us, record) VALUES('b-1', "
      "'000.00.01.H31-251201-00001', 1, 1, 1, 0, 0, X'" +
          hex +
          "');"
          "PRAGMA user_version = 1;");
  ASSERT_THAT(FileBytes(path_), HasSubstr(kMotherName));
  {
    auto store = SqliteBundleStore::Open(path_, Key());
    ASSERT_THAT(store, IsOk());
    auto read = (*store)->Get("b-1");
    ASSERT_THAT(read, IsOk());
    ASSERT_TRUE(read->has_value());
    EXPECT_EQ((*read)->bundle.data().at("mother.full_name"), kMotherName);
  }
  // Folded into the database file; the clear bytes were overwritten.
  RawExec(path_, "PRAGMA wal_checkpoint(TRUNCATE)");
  const std::string bytes = FileBytes(path_);
  EXPECT_THAT(bytes, Not(HasSubstr(kMotherName)));
  EXPECT_THAT(bytes, Not(HasSubstr(kMotherId)));
  // And the upgraded store knows its key.
  EXPECT_THAT(SqliteBundleStore::Open(path_, std::string(32, 'x')),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("sealed under another key")));
}

TEST_F(BundleStoreTest, DeleteEndedTakesOnlyBundlesWithNoWorkLeft) {
  auto store = SqliteBundleStore::Open(path_, Key());
  ASSERT_THAT(store, IsOk());
  internal::StoredBundle ended = Bundle("b-1", "000.00.01.H31-251201-00001");
  ended.set_state(lienthong::v1::BUNDLE_COMPLETED);
  const internal::StoredBundle running =
      Bundle("b-2", "000.00.01.H31-251201-00002");
  // Stopped, but one progress update not yet handed to the portal sync.
  internal::StoredBundle unsent = Bundle("b-3", "000.00.01.H31-251201-00003");
  unsent.set_state(lienthong::v1::BUNDLE_STOPPED);
  unsent.add_progress();
  internal::StoredBundle ended_too =
      Bundle("b-4", "000.00.01.H31-251201-00004");
  ended_too.set_state(lienthong::v1::BUNDLE_STOPPED);
  const internal::StoredBundle* all[] = {&ended, &running, &unsent, &ended_too};
  ASSERT_THAT((*store)->Write(all), IsOk());

  // Written now: nothing was last changed an hour ago.
  EXPECT_THAT((*store)->DeleteEnded(absl::Now() - absl::Hours(1), 100),
              IsOkAndHolds(0));
  // At most `limit`, oldest first.
  const absl::Time later = absl::Now() + absl::Hours(1);
  EXPECT_THAT((*store)->DeleteEnded(later, 1), IsOkAndHolds(1));
  EXPECT_THAT((*store)->DeleteEnded(later, 100), IsOkAndHolds(1));
  EXPECT_THAT((*store)->DeleteEnded(later, 100), IsOkAndHolds(0));
  for (const char* gone : {"b-1", "b-4"}) {
    auto row = (*store)->Get(gone);
    ASSERT_THAT(row, IsOk());
    EXPECT_FALSE(row->has_value()) << gone;
  }
  for (const char* kept : {"b-2", "b-3"}) {
    auto row = (*store)->Get(kept);
    ASSERT_THAT(row, IsOk());
    EXPECT_TRUE(row->has_value()) << kept;
  }
  EXPECT_THAT((*store)->LoadOpen(), IsOkAndHolds(SizeIs(2)));
}

}  // namespace
}  // namespace lienthong::bundle
