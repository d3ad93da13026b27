#include "gateway/audit/audit_log.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gateway/audit/audit_store.h"
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::CitizenIdFor;
using ::lienthong::audit::testutil::FaultyStore;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

std::unique_ptr<AuditLog> OpenLog(const AuditLog::Options& options) {
  auto log = AuditLog::Open(options);
  EXPECT_THAT(log, IsOk());
  return log.ok() ? *std::move(log) : nullptr;
}

// Opens a log over a FaultyStore wrapping the SQLite store at options.path.
std::unique_ptr<AuditLog> OpenFaultyLog(const AuditLog::Options& options,
                                        FaultyStore** faulty) {
  auto sqlite = SqliteAuditStore::Open(options.path);
  EXPECT_THAT(sqlite, IsOk());
  auto store = std::make_unique<FaultyStore>(*std::move(sqlite));
  *faulty = store.get();
  auto log = AuditLog::Open(options, std::move(store));
  EXPECT_THAT(log, IsOk());
  return log.ok() ? *std::move(log) : nullptr;
}

void ExpectIntact(const AuditLog& log) {
  auto report = VerifyStore(log.store(), log.public_key());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
}

TEST(AuditLogTest, ChainsRecordsAndResumesAfterReopen) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  std::vector<AuditRecord> written;
  {
    auto log = OpenLog(options);
    for (uint64_t i = 1; i <= 3; ++i) {
      auto record = log->AppendSync(SampleRecord(i, log->citizen_key()));
      ASSERT_THAT(record, IsOk());
      written.push_back(*record);
    }
    EXPECT_EQ(log->durable_sequence(), 3u);
    EXPECT_THAT(log->Close(), IsOk());
  }
  EXPECT_EQ(written[0].sequence(), 1u);
  EXPECT_EQ(written[0].prev_hash(), GenesisHash());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(written[i].sequence(), i + 1);
    EXPECT_TRUE(RecordHashMatches(written[i]));
    EXPECT_EQ(written[i].node(), "gw-test");
    EXPECT_TRUE(written[i].has_time());
    if (i > 0) {
      EXPECT_EQ(written[i].prev_hash(), written[i - 1].hash());
    }
  }

  auto log = OpenLog(options);
  EXPECT_EQ(log->durable_sequence(), 3u);
  auto fourth = log->AppendSync(SampleRecord(4, log->citizen_key()));
  ASSERT_THAT(fourth, IsOk());
  EXPECT_EQ(fourth->sequence(), 4u);
  EXPECT_EQ(fourth->prev_hash(), written[2].hash());
  ASSERT_THAT(log->Close(), IsOk());
  // A checkpoint at each clean shutdown: after 3, after 4.
  auto report = VerifyStore(log->store(), log->public_key());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_EQ(report->records_checked(), 4u);
  EXPECT_EQ(report->checkpoints_checked(), 2u);
  EXPECT_EQ(report->last_checkpoint_sequence(), 4u);
}

TEST(AuditLogTest, KeepsGivenTimeAndNodeAndRejectsBadTime) {
  ScratchDir dir;
  auto log = OpenLog(TestOptions(dir));
  AuditRecord record = SampleRecord(1, log->citizen_key());
  record.mutable_time()->set_seconds(1752544984);
  record.mutable_time()->set_nanos(5);
  record.set_node("gw-other");
  record.set_sequence(999);               // Overwritten.
  record.set_hash(std::string(64, 'f'));  // Overwritten.
  auto written = log->AppendSync(record);
  ASSERT_THAT(written, IsOk());
  EXPECT_EQ(written->time().seconds(), 1752544984);
  EXPECT_EQ(written->time().nanos(), 5);
  EXPECT_EQ(written->node(), "gw-other");
  EXPECT_EQ(written->sequence(), 1u);
  EXPECT_TRUE(RecordHashMatches(*written));

  record.mutable_time()->set_seconds(-5);
  EXPECT_THAT(log->AppendSync(record),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time")));
  EXPECT_EQ(log->durable_sequence(), 1u);
}

TEST(AuditLogTest, SignsACheckpointEveryNRecordsAndAtClose) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.checkpoint_every = 10;
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 1, 35), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  std::vector<uint64_t> sequences;
  ASSERT_THAT(log->store().ScanCheckpoints(0,
                                           [&](const AuditCheckpoint& c) {
                                             sequences.push_back(c.sequence());
                                             EXPECT_EQ(c.node(), "gw-test");
                                             return true;
                                           }),
              IsOk());
  EXPECT_THAT(sequences, ::testing::ElementsAre(10, 20, 30, 35));
  ExpectIntact(*log);
}

TEST(AuditLogTest, GroupCommitsConcurrentAppenders) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  ScratchDir dir;
  FaultyStore* store = nullptr;  // Passing through; counts transactions.
  auto log = OpenFaultyLog(TestOptions(dir), &store);
  std::vector<std::vector<uint64_t>> sequences(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto record = log->AppendSync(
            SampleRecord(t * kPerThread + i, log->citizen_key()));
        ASSERT_THAT(record, IsOk());
        sequences[t].push_back(record->sequence());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::vector<uint64_t> all;
  for (const auto& s : sequences) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1);
  EXPECT_EQ(log->durable_sequence(), all.size());
  // Group commit: far fewer transactions than records.
  EXPECT_LT(store->writes(), kThreads * kPerThread / 2);
  ASSERT_THAT(log->Close(), IsOk());
  auto report = VerifyStore(log->store(), log->public_key());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_EQ(report->records_checked(), all.size());
}

TEST(AuditLogTest, FailsClosedWhileTheStoreFailsThenResumes) {
  ScratchDir dir;
  FaultyStore* store = nullptr;
  auto log = OpenFaultyLog(TestOptions(dir), &store);
  ASSERT_THAT(AppendMany(*log, 1, 10), IsOk());

  store->set_mode(FaultyStore::Mode::kFail);
  std::atomic<int> acknowledged{0};
  std::atomic<int> unavailable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto result =
            log->AppendSync(SampleRecord(100 + t * 50 + i, log->citizen_key()));
        if (result.ok()) ++acknowledged;
        if (absl::IsUnavailable(result.status()) &&
            result.status().message() == "audit store unavailable") {
          ++unavailable;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(acknowledged.load(), 0);
  EXPECT_EQ(unavailable.load(), 200);
  EXPECT_EQ(log->durable_sequence(), 10u);
  auto last = log->store().LastRecord();
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ((*last)->sequence(), 10u);

  // Appends keep failing until a write succeeds, then the chain resumes
  // from what is durable.
  EXPECT_THAT(log->AppendSync(SampleRecord(1000, log->citizen_key())),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  store->set_mode(FaultyStore::Mode::kPass);
  auto resumed = log->AppendSync(SampleRecord(1001, log->citizen_key()));
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->sequence(), 11u);
  EXPECT_EQ(resumed->prev_hash(), (*last)->hash());
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
}

TEST(AuditLogTest, ResumesAfterAFailedCommitThatReachedTheDisk) {
  ScratchDir dir;
  FaultyStore* store = nullptr;
  auto log = OpenFaultyLog(TestOptions(dir), &store);
  ASSERT_THAT(AppendMany(*log, 1, 5), IsOk());
  store->set_mode(FaultyStore::Mode::kWriteThenFail);
  EXPECT_THAT(log->AppendSync(SampleRecord(6, log->citizen_key())),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  store->set_mode(FaultyStore::Mode::kPass);
  // Record 6 is in the store though its caller was told UNAVAILABLE: the
  // head is reloaded, so the chain continues after it, not over it.
  auto next = log->AppendSync(SampleRecord(7, log->citizen_key()));
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->sequence(), 7u);
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
}

TEST(AuditLogTest, LockedSqliteStoreFailsClosedThenRecovers) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.busy_timeout = absl::Milliseconds(50);
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 1, 5), IsOk());

  // Another process holds the write lock: the store cannot be written.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(options.path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  bool called = false;
  absl::Notification done;
  absl::Status status;
  log->Append(SampleRecord(6, log->citizen_key()), [&](absl::Status s) {
    called = true;
    status = s;
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_TRUE(called);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               "audit store unavailable"));
  EXPECT_THAT(log->AppendSync(SampleRecord(7, log->citizen_key())),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);
  auto resumed = log->AppendSync(SampleRecord(8, log->citizen_key()));
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->sequence(), 6u);
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
}

TEST(AuditLogTest, FailsFastWhenTooManyRecordsWait) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.max_pending = 2;
  FaultyStore* store = nullptr;
  auto log = OpenFaultyLog(options, &store);
  store->Hold();  // The writer takes the first record and hangs in Write.
  absl::Mutex mu;
  std::vector<absl::Status> results;
  const auto append = [&](uint64_t i) {
    log->Append(SampleRecord(i, log->citizen_key()), [&](absl::Status s) {
      absl::MutexLock lock(&mu);
      results.push_back(s);
    });
  };
  append(1);
  store->AwaitHeldWrite();
  append(2);
  append(3);
  append(4);  // Two are waiting already.
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_THAT(results[0],
                StatusIs(absl::StatusCode::kUnavailable, "audit queue full"));
  }
  store->Release();
  ASSERT_THAT(log->Close(), IsOk());
  absl::MutexLock lock(&mu);
  ASSERT_EQ(results.size(), 4u);
  for (size_t i = 1; i < results.size(); ++i) EXPECT_THAT(results[i], IsOk());
  EXPECT_EQ(log->durable_sequence(), 3u);
}

TEST(AuditLogTest, AppendAfterCloseFails) {
  ScratchDir dir;
  auto log = OpenLog(TestOptions(dir));
  ASSERT_THAT(log->Close(), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  EXPECT_THAT(log->AppendSync(SampleRecord(1, log->citizen_key())),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("closed")));
}

TEST(AuditLogTest, RefusesToOpenAStoreCutBeforeItsCheckpoint) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  {
    auto log = OpenLog(options);
    ASSERT_THAT(AppendMany(*log, 1, 5), IsOk());
  }  // Checkpoint at 5.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(options.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM records WHERE sequence > 3", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(
      AuditLog::Open(options),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cut off")));
}

TEST(AuditLogTest, ValidatesOptions) {
  ScratchDir dir;
  const AuditLog::Options good = TestOptions(dir);
  struct Case {
    const char* name;
    void (*change)(AuditLog::Options&);
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"no node", [](AuditLog::Options& o) { o.node.clear(); },
       absl::StatusCode::kInvalidArgument},
      {"no path", [](AuditLog::Options& o) { o.path.clear(); },
       absl::StatusCode::kInvalidArgument},
      {"no signing key",
       [](AuditLog::Options& o) { o.signing_key_file.clear(); },
       absl::StatusCode::kInvalidArgument},
      {"missing signing key",
       [](AuditLog::Options& o) { o.signing_key_file += ".missing"; },
       absl::StatusCode::kNotFound},
      {"no hmac key", [](AuditLog::Options& o) { o.hmac_key.clear(); },
       absl::StatusCode::kInvalidArgument},
      {"short hmac key", [](AuditLog::Options& o) { o.hmac_key = "short"; },
       absl::StatusCode::kInvalidArgument},
      {"checkpoint_every 0",
       [](AuditLog::Options& o) { o.checkpoint_every = 0; },
       absl::StatusCode::kInvalidArgument},
      {"unopenable store",
       [](AuditLog::Options& o) { o.path = "/nonexistent/dir/audit.db"; },
       absl::StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AuditLog::Options options = good;
    c.change(options);
    EXPECT_THAT(AuditLog::Open(options), StatusIs(c.code, ::testing::_));
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(AuditLogTest, NoPlaintextCitizenIdInTheStoreOrExport) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 0, 500), IsOk());
  // Look while the WAL still holds the records, and after it is merged
  // into the database file (when the last connection closes).
  const std::string wal = ReadAll(options.path + "-wal");
  ASSERT_THAT(log->Close(), IsOk());
  ASSERT_THAT(ExportToFile(log->store(), absl::InfinitePast(),
                           dir.File("export.jsonl")),
              IsOk());
  log.reset();
  const std::string db = ReadAll(options.path);
  const std::string exported = ReadAll(dir.File("export.jsonl"));
  ASSERT_GT(db.size(), 0u);
  ASSERT_GT(exported.size(), 0u);
  ASSERT_NE(wal.find("033******"), std::string::npos);  // Masked forms are.
  ASSERT_NE(db.find("033******"), std::string::npos);
  for (uint64_t i = 0; i < 97; ++i) {
    const std::string id = CitizenIdFor(i);
    SCOPED_TRACE(id);
    EXPECT_EQ(db.find(id), std::string::npos);
    EXPECT_EQ(wal.find(id), std::string::npos);
    EXPECT_EQ(exported.find(id), std::string::npos);
  }
}

// The record of a call on behalf of an officer, numbered `i`.
AuditRecord OfficerRecord(uint64_t i, const CitizenKey& key) {
  AuditRecord r = SampleRecord(i, key);
  key.FillOfficer("001085004321", "000.00.31.H31", "can.bo@hungyen.gov.vn", &r);
  return r;
}

// Every record in the store, in order.
std::vector<AuditRecord> StoredRecords(const AuditStore& store) {
  std::vector<AuditRecord> records;
  EXPECT_THAT(store.ScanRecords(1,
                                [&](const AuditRecord& r) {
                                  records.push_back(r);
                                  return true;
                                }),
              IsOk());
  return records;
}

TEST(AuditLogTest, OfficersAreStoredAndCoveredByTheChain) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  {
    auto log = OpenLog(options);
    ASSERT_THAT(log->AppendSync(SampleRecord(1, log->citizen_key())), IsOk());
    ASSERT_THAT(log->AppendSync(OfficerRecord(2, log->citizen_key())), IsOk());
    ASSERT_THAT(log->Close(), IsOk());
  }
  auto log = OpenLog(options);
  std::vector<AuditRecord> records = StoredRecords(log->store());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].officer_hmac(), "");
  EXPECT_EQ(records[1].officer_hmac(), log->citizen_key().Hmac("001085004321"));
  EXPECT_EQ(records[1].officer_masked(), "001******321");
  EXPECT_EQ(records[1].officer_unit_code(), "000.00.31.H31");
  EXPECT_EQ(records[1].officer_account_hmac(),
            log->citizen_key().Hmac("can.bo@hungyen.gov.vn"));
  EXPECT_TRUE(RecordHashMatches(records[1]));
  ExpectIntact(*log);
  ASSERT_THAT(log->Close(), IsOk());
  const PublicKey public_key = log->public_key();
  log.reset();

  // Someone who can write the database removes the officer: detected.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(options.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE records SET officer_hmac='', "
                         "officer_masked='', officer_unit_code='', "
                         "officer_account_hmac='' WHERE sequence=2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteAuditStore::Open(options.path);
  ASSERT_THAT(store, IsOk());
  auto report = VerifyStore(**store, public_key);
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->intact());
  EXPECT_EQ(report->first_bad_sequence(), 2u);
}

TEST(AuditLogTest, AVersionOneStoreGainsTheOfficerColumnsAndStaysIntact) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  {
    auto log = OpenLog(options);
    ASSERT_THAT(AppendMany(*log, 1, 5), IsOk());
    ASSERT_THAT(log->Close(), IsOk());
  }
  // Make it a file as the gateway wrote it before officers existed.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(options.path.c_str(), &db), SQLITE_OK);
  for (const char* column : {"officer_hmac", "officer_masked",
                             "officer_unit_code", "officer_account_hmac"}) {
    ASSERT_EQ(
        sqlite3_exec(
            db,
            absl::StrCat("ALTER TABLE records DROP COLUMN ", column).c_str(),
            nullptr, nullptr, nullptr),
        SQLITE_OK)
        << sqlite3_errmsg(db);
  }
  ASSERT_EQ(
      sqlite3_exec(db, "PRAGMA user_version=1", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);

  auto log = OpenLog(options);
  ASSERT_NE(log, nullptr);
  ASSERT_THAT(log->AppendSync(OfficerRecord(6, log->citizen_key())), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  std::vector<AuditRecord> records = StoredRecords(log->store());
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[5].officer_masked(), "001******321");
  auto report = VerifyStore(log->store(), log->public_key());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_EQ(report->records_checked(), 6u);
}

}  // namespace
}  // namespace lienthong::audit
