// The SQLite audit store on gateway/storage: its file, its schema version,
// read-only opening, and AuditLog::Check (what `lienthong-gateway --check`
// asks of the audit settings without writing).
#include "gateway/audit/audit_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gateway/audit/audit_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

void RunSql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

int ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777)
                                        : -1;
}

TEST(SqliteAuditStoreTest, TheStoreAndItsLogFilesAreOwnerOnly) {
  ScratchDir dir;
  const std::string path = dir.File("audit.db");
  auto store = SqliteAuditStore::Open(path);
  ASSERT_THAT(store, IsOk());
  auto key = CitizenKey::FromBytes(testutil::kTestHmacKey);
  ASSERT_THAT(key, IsOk());
  AuditRecord record = SampleRecord(1, *key);
  record.set_sequence(1);
  ASSERT_THAT((*store)->Write({record}, {}), IsOk());
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(path + "-wal"), 0600);
  EXPECT_EQ(ModeOf(path + "-shm"), 0600);
}

TEST(SqliteAuditStoreTest, RecordLookupsKeepTheirTypeAndKeyHash) {
  ScratchDir dir;
  auto store = SqliteAuditStore::Open(dir.File("audit.db"));
  ASSERT_THAT(store, IsOk());
  auto key = CitizenKey::FromBytes(testutil::kTestHmacKey);
  ASSERT_THAT(key, IsOk());
  AuditRecord record = SampleRecord(1, *key);
  record.set_sequence(1);
  record.set_record_type("enterprise");
  record.set_record_key_hmac(key->Hmac(RecordKeyText({{"tax_code", "1"}})));
  ASSERT_THAT((*store)->Write({record}, {}), IsOk());
  std::vector<AuditRecord> read;
  ASSERT_THAT((*store)->ScanRecords(1, [&](const AuditRecord& r) {
    read.push_back(r);
    return true;
  }), IsOk());
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].record_type(), "enterprise");
  EXPECT_EQ(read[0].record_key_hmac(), record.record_key_hmac());
  EXPECT_EQ(CanonicalEncoding(read[0]), CanonicalEncoding(record));
}

TEST(SqliteAuditStoreTest, AStoreFromANewerGatewayIsRefused) {
  ScratchDir dir;
  const std::string path = dir.File("audit.db");
  ASSERT_THAT(SqliteAuditStore::Open(path), IsOk());
  RunSql(path, "PRAGMA user_version=4");
  EXPECT_THAT(SqliteAuditStore::Open(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema version 4, newer than this "
                                 "gateway's 3")));
  EXPECT_THAT(SqliteAuditStore::OpenReadOnly(path, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema version 4")));
}

TEST(SqliteAuditStoreTest, AFileThatIsNoDatabaseIsUnavailable) {
  ScratchDir dir;
  const std::string path = dir.File("audit.db");
  {
    std::ofstream out(path);
    out << std::string(8192, '#');
  }
  EXPECT_THAT(SqliteAuditStore::Open(path),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("audit store")));
}

TEST(SqliteAuditStoreTest, ReadOnlyStoresReadButNeverWriteOrCreate) {
  ScratchDir dir;
  const std::string path = dir.File("audit.db");
  EXPECT_THAT(SqliteAuditStore::OpenReadOnly(path, {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
  {
    AuditLog::Options options = TestOptions(dir);
    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT(AppendMany(**log, 1, 3), IsOk());
  }
  auto store = SqliteAuditStore::OpenReadOnly(path, {});
  ASSERT_THAT(store, IsOk());
  auto last = (*store)->LastRecord();
  ASSERT_THAT(last, IsOk());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->sequence(), 3u);
  EXPECT_THAT((*store)->Write({**last}, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("read-only")));
}

TEST(AuditLogCheckTest, PassesWhatOpenAcceptsWithoutWritingAnything) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  // No store yet: Open would create it; Check must not.
  EXPECT_THAT(AuditLog::Check(options), IsOk());
  EXPECT_NE(::access(options.path.c_str(), F_OK), 0);
  {
    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT(AppendMany(**log, 1, 5), IsOk());
  }
  struct stat before;
  ASSERT_EQ(::stat(options.path.c_str(), &before), 0);
  EXPECT_THAT(AuditLog::Check(options), IsOk());
  struct stat after;
  ASSERT_EQ(::stat(options.path.c_str(), &after), 0);
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(after.st_mtime, before.st_mtime);
  auto store = SqliteAuditStore::OpenReadOnly(options.path, {});
  ASSERT_THAT(store, IsOk());
  auto last = (*store)->LastRecord();
  ASSERT_THAT(last, IsOk());
  EXPECT_THAT(*last, Optional(::testing::Property(&AuditRecord::sequence, 5u)));
}

TEST(AuditLogCheckTest, RefusesWhatOpenWouldRefuse) {
  ScratchDir dir;
  const AuditLog::Options good = TestOptions(dir);
  {
    auto log = AuditLog::Open(good);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT(AppendMany(**log, 1, 5), IsOk());
  }
  AuditLog::Options no_key = good;
  no_key.signing_key_file = dir.File("missing.pem");
  EXPECT_THAT(AuditLog::Check(no_key),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  AuditLog::Options short_key = good;
  short_key.hmac_key = "short";
  EXPECT_THAT(AuditLog::Check(short_key),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  AuditLog::Options no_node = good;
  no_node.node.clear();
  EXPECT_THAT(AuditLog::Check(no_node),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("node name")));
  // Records cut off before the last checkpoint (at 5).
  RunSql(good.path, "DELETE FROM records WHERE sequence > 3");
  EXPECT_THAT(AuditLog::Check(good),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cut off")));
  RunSql(good.path, "PRAGMA user_version=9");
  EXPECT_THAT(AuditLog::Check(good),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema version 9")));
}

}  // namespace
}  // namespace lienthong::audit
