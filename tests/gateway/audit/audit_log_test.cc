#include "gateway/audit/audit_log.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gateway/audit/anchor.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/journal_format.h"
#include "gateway/audit/query.h"
#include "gateway/audit/refusals.h"
#include "gateway/audit/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::CitizenIdFor;
using ::lienthong::audit::testutil::FaultyIo;
using ::lienthong::audit::testutil::OpenLog;
using ::lienthong::audit::testutil::ReadAll;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The journal's entries, in order.
struct Entries {
  std::vector<AuditRecord> records;
  std::vector<AuditCheckpoint> checkpoints;
};

Entries ReadEntries(const std::string& journal_dir) {
  Entries out;
  EXPECT_THAT(ReadJournal(journal_dir, {}, {},
                          [&](const JournalPosition&, const Frame& frame) {
                            const int n = static_cast<int>(frame.payload.size());
                            if (frame.type == FrameType::kRecord) {
                              out.records.emplace_back().ParseFromArray(
                                  frame.payload.data(), n);
                            } else {
                              out.checkpoints.emplace_back().ParseFromArray(
                                  frame.payload.data(), n);
                            }
                            return true;
                          }),
              IsOk());
  return out;
}

void ExpectIntact(const AuditLog& log) {
  auto report = log.Verify();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
}

TEST(AuditLogTest, ChainsRecordsAndResumesAfterReopen) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  std::vector<AuditRecord> written;
  {
    auto log = OpenLog(options);
    ASSERT_TRUE(log->ready());
    for (uint64_t i = 1; i <= 3; ++i) {
      auto record = log->AppendSync(SampleRecord(i, log->citizen_key()));
      ASSERT_THAT(record, IsOk());
      written.push_back(*record);
    }
    EXPECT_EQ(log->durable_sequence(), 4u);  // after the LOG_OPENED record
    EXPECT_THAT(log->Close(), IsOk());
  }
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(written[i].sequence(), i + 2);
    EXPECT_TRUE(RecordHashMatches(written[i]));
    EXPECT_EQ(written[i].node(), "gw-test");
    if (i > 0) {
      EXPECT_EQ(written[i].prev_hash(), written[i - 1].hash());
    }
  }

  auto log = OpenLog(options);
  EXPECT_EQ(log->durable_sequence(), 5u);  // a LOG_OPENED record again
  auto next = log->AppendSync(SampleRecord(4, log->citizen_key()));
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->sequence(), 6u);
  ASSERT_THAT(log->Close(), IsOk());

  Entries entries = ReadEntries(options.journal_dir);
  ASSERT_EQ(entries.records.size(), 6u);
  EXPECT_EQ(entries.records[0].kind(), AuditRecord::LOG_OPENED);
  EXPECT_EQ(entries.records[0].prev_hash(), GenesisHash());
  EXPECT_THAT(entries.records[0].details(), HasSubstr("journal=new"));
  EXPECT_EQ(entries.records[4].kind(), AuditRecord::LOG_OPENED);
  EXPECT_THAT(entries.records[4].details(), HasSubstr("previous_stop=clean"));
  EXPECT_EQ(entries.records[4].prev_hash(), written[2].hash());
  // Opened, clean stop, opened, clean stop: each naming the one before.
  std::vector<AuditCheckpoint::Reason> reasons;
  for (size_t i = 0; i < entries.checkpoints.size(); ++i) {
    const AuditCheckpoint& c = entries.checkpoints[i];
    reasons.push_back(c.reason());
    EXPECT_EQ(c.index(), i + 1);
    EXPECT_EQ(c.prev_checkpoint_hash(),
              i == 0 ? GenesisHash()
                     : entries.checkpoints[i - 1].checkpoint_hash());
  }
  EXPECT_THAT(reasons,
              ElementsAre(AuditCheckpoint::OPENED, AuditCheckpoint::CLEAN_STOP,
                          AuditCheckpoint::OPENED, AuditCheckpoint::CLEAN_STOP));
  ExpectIntact(*log);
}

TEST(AuditLogTest, SignsChainedCheckpointsEveryNRecordsAndAtClose) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.checkpoint_every = 10;
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 1, 35), IsOk());  // records 2..36
  ASSERT_THAT(log->Close(), IsOk());
  std::vector<uint64_t> sequences;
  for (const AuditCheckpoint& c : ReadEntries(options.journal_dir).checkpoints) {
    sequences.push_back(c.sequence());
    EXPECT_EQ(c.node(), "gw-test");
    EXPECT_EQ(c.checkpoint_every(), 10u);
    EXPECT_THAT(VerifyCheckpoint(c, log->public_key()), IsOk());
  }
  EXPECT_THAT(sequences, ElementsAre(1, 10, 20, 30, 36));
  // The anchors hold the same checkpoints.
  auto anchors = ReadAnchorFile(options.anchor_file);
  ASSERT_THAT(anchors, IsOk());
  ASSERT_EQ(anchors->size(), 5u);
  EXPECT_EQ(anchors->back().sequence(), 36u);
  EXPECT_EQ(anchors->back().reason(), AuditCheckpoint::CLEAN_STOP);
  ExpectIntact(*log);
}

// The last anchor, which the gateway compares with the journal's last
// checkpoint when it opens, is the one the whole file ends with: nothing
// written after the anchors (blank lines, an unfinished line, more than the
// end ReadLastAnchor reads) may hide it and let a cut journal pass.
// An anchor line a crash left unfinished (and the zeros after it) is cut
// before the next checkpoint is appended, so the file stays readable line
// by line and the log verifies against it.
TEST(AuditLogTest, AnUnfinishedAnchorLineIsCutBeforeTheNextIsAppended) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  {
    auto log = OpenLog(options);
    ASSERT_THAT(AppendMany(*log, 1, 5), IsOk());
    ASSERT_THAT(log->Close(), IsOk());
  }
  auto before = ReadAnchorFile(options.anchor_file);
  ASSERT_THAT(before, IsOk());
  std::ofstream(options.anchor_file, std::ios::app | std::ios::binary)
      << "{\"type\":\"checkpoint\",\"index\":" << std::string(7, '\0');
  auto log = OpenLog(options);
  ASSERT_TRUE(log->ready()) << log->Readiness();
  ASSERT_THAT(AppendMany(*log, 100, 3), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  auto after = ReadAnchorFile(options.anchor_file);
  ASSERT_THAT(after, IsOk());
  EXPECT_GT(after->size(), before->size());
  ExpectIntact(*log);
}

TEST(AuditLogTest, TheLastAnchorIsTheAnchorFilesLastWhateverFollowsIt) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.checkpoint_every = 10;
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 1, 35), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  const std::string anchors = ReadAll(options.anchor_file);
  auto all = ReadAnchorFile(options.anchor_file);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 5u);
  const std::string last = all->back().checkpoint_hash();
  auto write = [&](const std::string& text) {
    std::ofstream(options.anchor_file, std::ios::trunc | std::ios::binary)
        << text;
  };
  // Longer than any anchor line (kMaxAnchorLineBytes): no crash leaves it.
  const std::string long_run(100 << 10, 'x');
  // An unfinished last line, as a crash leaves one, and empty lines are
  // passed over.
  for (const std::string& after :
       {std::string(), std::string("\n"), std::string("\n\n\n"),
        std::string("{\"type\":\"checkpoint\""),
        std::string(100 << 10, '\n')}) {
    SCOPED_TRACE(after.size());
    write(anchors + after);
    auto whole = ReadAnchorFile(options.anchor_file);
    ASSERT_THAT(whole, IsOk());
    ASSERT_EQ(whole->size(), 5u);
    auto tail = ReadLastAnchor(options.anchor_file);
    ASSERT_THAT(tail, IsOk());
    ASSERT_TRUE(tail->has_value());
    EXPECT_EQ((*tail)->checkpoint_hash(), last);
  }
  // A last line that is no checkpoint fails both, however long it is, and
  // so does an unfinished one longer than any anchor.
  for (const std::string& bad :
       {std::string("x\n"), long_run + "\n", long_run}) {
    write(anchors + bad);
    EXPECT_THAT(
        ReadAnchorFile(options.anchor_file),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 6")));
    EXPECT_THAT(ReadLastAnchor(options.anchor_file),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  }
  // No anchors at all.
  for (const std::string& none : {std::string(), std::string("\n\n")}) {
    write(none);
    auto tail = ReadLastAnchor(options.anchor_file);
    ASSERT_THAT(tail, IsOk());
    EXPECT_FALSE(tail->has_value());
  }
}

// The anchor file `behind` checkpoints behind the journal (one: a crash
// between the journal's write and the anchor's; more: anchoring failed for a
// while) is normal; but the anchored checkpoint must be the one the
// journal's checkpoints go back to. Another replica's journal, signed with
// the same key, put in its place is not.
void ExpectOnlyTheAnchoredJournalReady(uint64_t behind) {
  SCOPED_TRACE(absl::StrCat(behind, " behind"));
  ScratchDir a_dir;
  ScratchDir b_dir;
  AuditLog::Options a = TestOptions(a_dir);
  AuditLog::Options b = TestOptions(b_dir);
  a.checkpoint_every = b.checkpoint_every = 10;
  b.signing_key_file = a.signing_key_file;  // replicas sharing one key
  b.signing_key_sha256 = a.signing_key_sha256;
  uint64_t a_last = 0;
  {
    auto log = OpenLog(a);
    ASSERT_NE(log, nullptr);
    ASSERT_THAT(AppendMany(*log, 1, 25), IsOk());
    ASSERT_THAT(log->Close(), IsOk());
    auto last = ReadLastAnchor(a.anchor_file);
    ASSERT_THAT(last, IsOk());
    ASSERT_TRUE(last->has_value());
    a_last = (*last)->index();
  }
  // B's journal ends `behind` checkpoints past A's (the last its clean
  // stop's).
  {
    auto log = OpenLog(b);
    ASSERT_NE(log, nullptr);
    for (uint64_t i = 1; log->stats().checkpoints < a_last + behind - 1; ++i) {
      ASSERT_THAT(AppendMany(*log, i, 1), IsOk());
    }
    ASSERT_EQ(log->stats().checkpoints, a_last + behind - 1);
    ASSERT_THAT(log->Close(), IsOk());
  }
  auto b_anchors = ReadAnchorFile(b.anchor_file);
  ASSERT_THAT(b_anchors, IsOk());
  ASSERT_EQ(b_anchors->size(), a_last + behind);
  // A copy of B's journal, with A's anchor file: as far behind as the case
  // below, but of another history.
  ScratchDir c_dir;
  AuditLog::Options c = b;
  c.path = c_dir.File("audit.db");
  c.journal_dir = c_dir.File("audit-journal");
  c.anchor_file = c_dir.File("anchors.jsonl");
  std::filesystem::create_directories(c.journal_dir);
  for (const auto& segment :
       std::filesystem::directory_iterator(b.journal_dir)) {
    if (segment.path().extension() == ".lock") continue;
    std::filesystem::copy_file(
        segment.path(),
        c.journal_dir + "/" + segment.path().filename().string());
  }
  std::filesystem::copy_file(a.anchor_file, c.anchor_file);

  // B's own anchor file without its last `behind` lines: as far behind,
  // and matching.
  std::string b_file = ReadAll(b.anchor_file);
  for (uint64_t i = 0; i < behind; ++i) {
    b_file.resize(b_file.rfind('\n', b_file.size() - 2) + 1);
  }
  std::ofstream(b.anchor_file, std::ios::trunc | std::ios::binary) << b_file;
  {
    auto log = OpenLog(b);
    ASSERT_NE(log, nullptr);
    EXPECT_TRUE(log->ready()) << log->Readiness();
    EXPECT_THAT(log->Close(), IsOk());
  }
  auto log = OpenLog(c);
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->ready());
  EXPECT_THAT(log->Readiness().message(),
              HasSubstr("is not the one the journal's"));
  EXPECT_THAT(log->Close(), IsOk());
}

TEST(AuditLogTest, AJournalThatDoesNotFollowTheAnchoredCheckpointIsNotReady) {
  ExpectOnlyTheAnchoredJournalReady(1);
  ExpectOnlyTheAnchoredJournalReady(3);
}

TEST(AuditLogTest, GroupCommitsConcurrentAppenders) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  ScratchDir dir;
  FaultyIo io;  // passing through; counts writes
  AuditLog::Options options = TestOptions(dir);
  options.io = &io;
  auto log = OpenLog(options);
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
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 2);
  // Group commit: far fewer writes (each one fdatasync) than records.
  EXPECT_LT(io.writes(), kThreads * kPerThread / 2);
  EXPECT_EQ(log->stats().writes, static_cast<uint64_t>(io.writes()));
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
}

// Verifying a log that is being written, with its anchors: a checkpoint
// anchored while the verification starts is within the walk, not read as
// the tail cut off with its checkpoints (TRUNCATED).
TEST(AuditLogTest, VerifyWhileWritingWithAnchorsIsIntact) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.checkpoint_every = 1;  // an anchor for every write
  auto log = OpenLog(options);
  ASSERT_NE(log, nullptr);
  ASSERT_THAT(AppendMany(*log, 1, 1000), IsOk());  // a long anchor file
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t i = 1001; !stop; ++i) {
      ASSERT_THAT(log->AppendSync(SampleRecord(i, log->citizen_key())), IsOk());
      absl::SleepFor(absl::Microseconds(200));  // a busy gateway's pace
    }
  });
  for (int round = 0; round < 5; ++round) {
    absl::StatusOr<VerifyReport> report = log->Verify();
    ASSERT_THAT(report, IsOk());
    EXPECT_TRUE(report->intact()) << report->DebugString();
  }
  stop = true;
  writer.join();
  ASSERT_THAT(log->Close(), IsOk());
}

TEST(AuditLogTest, FailsClosedWhileTheDiskFailsThenResumes) {
  ScratchDir dir;
  FaultyIo io;
  AuditLog::Options options = TestOptions(dir);
  options.io = &io;
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 1, 10), IsOk());  // records 2..11
  io.set_mode(FaultyIo::Mode::kFail);
  std::atomic<int> acknowledged{0};
  std::atomic<int> unavailable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto result =
            log->AppendSync(SampleRecord(100 + t * 50 + i, log->citizen_key()));
        if (result.ok()) ++acknowledged;
        if (absl::IsUnavailable(result.status())) ++unavailable;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(acknowledged.load(), 0);
  EXPECT_EQ(unavailable.load(), 200);
  EXPECT_FALSE(log->healthy());
  EXPECT_THAT(log->CanAppend(), StatusIs(absl::StatusCode::kUnavailable,
                                         HasSubstr("cannot be written")));
  EXPECT_EQ(log->durable_sequence(), 11u);

  io.set_mode(FaultyIo::Mode::kPass);
  auto resumed = log->AppendSync(SampleRecord(1001, log->citizen_key()));
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->sequence(), 12u);
  EXPECT_TRUE(log->healthy());
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
  EXPECT_EQ(ReadEntries(options.journal_dir).records.size(), 12u);
}

// The next segment cannot be made (here a folder stands where its file is
// prepared; on a real disk: no inodes left, a quota): the writes that need
// it fail closed, and the log says it cannot be written, as for a failed
// write, until a write succeeds again.
TEST(AuditLogTest, ASegmentThatCannotBeMadeFailsClosedLikeAFailedWrite) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  auto log = OpenLog(options);
  const std::string blocker =
      absl::StrCat(options.journal_dir, "/", SegmentFileName(2), ".tmp");
  ASSERT_TRUE(std::filesystem::create_directory(blocker));
  absl::Status failed;
  uint64_t i = 1;
  for (; i < 100000 && failed.ok(); ++i) {
    failed = log->AppendSync(SampleRecord(i, log->citizen_key())).status();
  }
  ASSERT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_FALSE(log->healthy());
  EXPECT_THAT(log->CanAppend(), StatusIs(absl::StatusCode::kUnavailable,
                                         HasSubstr("cannot be written")));
  EXPECT_GT(log->stats().write_failures, 0u);
  const uint64_t durable = log->durable_sequence();

  std::filesystem::remove(blocker);
  auto resumed = log->AppendSync(SampleRecord(i, log->citizen_key()));
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->sequence(), durable + 1);
  EXPECT_TRUE(log->healthy());
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
}

TEST(AuditLogTest, AWriteWhoseSyncFailedIsZeroedNotContinued) {
  ScratchDir dir;
  FaultyIo io;
  AuditLog::Options options = TestOptions(dir);
  options.io = &io;
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 1, 5), IsOk());  // records 2..6
  AuditRecord lost = SampleRecord(6, log->citizen_key());
  lost.set_dossier_id("000.00.01.H31-250715-LOST1");
  io.set_mode(FaultyIo::Mode::kWriteThenFail);
  EXPECT_THAT(log->AppendSync(lost),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  io.set_mode(FaultyIo::Mode::kPass);
  // The record reached the page cache, perhaps the disk; its caller was
  // told UNAVAILABLE. The next write first zeroes it, so the chain goes on
  // from what was acknowledged.
  auto next = log->AppendSync(SampleRecord(7, log->citizen_key()));
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->sequence(), 7u);
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
  for (const AuditRecord& r : ReadEntries(options.journal_dir).records) {
    EXPECT_NE(r.dossier_id(), lost.dossier_id());
  }
}

TEST(AuditLogTest, FailsFastWhenTooManyRecordsWait) {
  ScratchDir dir;
  FaultyIo io;
  AuditLog::Options options = TestOptions(dir);
  options.max_pending = 2;
  options.io = &io;
  auto log = OpenLog(options);
  io.Hold();  // The writer takes the first record and hangs in its write.
  absl::Mutex mu;
  std::vector<absl::Status> results;
  const auto append = [&](uint64_t i) {
    log->Append(SampleRecord(i, log->citizen_key()), [&](absl::Status s) {
      absl::MutexLock lock(&mu);
      results.push_back(s);
    });
  };
  append(1);
  io.AwaitHeldWrite();
  append(2);
  append(3);
  append(4);  // Two are waiting already.
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_THAT(results[0],
                StatusIs(absl::StatusCode::kUnavailable, "audit queue full"));
  }
  io.Release();
  ASSERT_THAT(log->Close(), IsOk());
  absl::MutexLock lock(&mu);
  ASSERT_EQ(results.size(), 4u);
  for (size_t i = 1; i < results.size(); ++i) EXPECT_THAT(results[i], IsOk());
  EXPECT_EQ(log->durable_sequence(), 4u);
}

TEST(AuditLogTest, AppendAfterCloseFails) {
  ScratchDir dir;
  auto log = OpenLog(TestOptions(dir));
  ASSERT_THAT(log->Close(), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  EXPECT_THAT(log->AppendSync(SampleRecord(1, log->citizen_key())),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("closed")));
}

TEST(AuditLogTest, OneProcessAtATime) {
  ScratchDir dir;
  auto log = OpenLog(TestOptions(dir));
  EXPECT_THAT(AuditLog::Open(TestOptions(dir)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("in use by another process")));
}

TEST(AuditLogTest, ValidatesOptionsAndThePin) {
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
      {"another key pinned",
       [](AuditLog::Options& o) { o.signing_key_sha256 = std::string(64, 'a'); },
       absl::StatusCode::kFailedPrecondition},
      {"no hmac key", [](AuditLog::Options& o) { o.hmac_key.clear(); },
       absl::StatusCode::kInvalidArgument},
      {"short hmac key", [](AuditLog::Options& o) { o.hmac_key = "short"; },
       absl::StatusCode::kInvalidArgument},
      {"short digest key", [](AuditLog::Options& o) { o.digest_key = "short"; },
       absl::StatusCode::kInvalidArgument},
      {"checkpoint_every 0",
       [](AuditLog::Options& o) { o.checkpoint_every = 0; },
       absl::StatusCode::kInvalidArgument},
      {"tiny segments", [](AuditLog::Options& o) { o.segment_bytes = 4096; },
       absl::StatusCode::kInvalidArgument},
      {"unopenable journal",
       [](AuditLog::Options& o) { o.journal_dir = "/nonexistent/dir/j"; },
       absl::StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AuditLog::Options options = good;
    c.change(options);
    EXPECT_THAT(AuditLog::Open(options), StatusIs(c.code, ::testing::_));
  }
}

TEST(AuditLogTest, SegmentsRollOverSealedAndTheJournalVerifies) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);  // 1 MiB segments
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 1, 6000), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  auto segments = ListSegments(options.journal_dir);
  ASSERT_THAT(segments, IsOk());
  ASSERT_GE(segments->size(), 3u);
  int seals = 0;
  for (const AuditCheckpoint& c : ReadEntries(options.journal_dir).checkpoints) {
    seals += c.reason() == AuditCheckpoint::SEGMENT_SEALED;
  }
  // Every full segment ends with its seal (the last, and one prepared
  // ahead, do not).
  EXPECT_GE(seals, static_cast<int>(segments->size()) - 2);
  ExpectIntact(*log);
  log.reset();
  auto reopened = OpenLog(options);
  EXPECT_TRUE(reopened->ready()) << reopened->Readiness();
  EXPECT_EQ(reopened->durable_sequence(), 6002u);
}

// A live segment deleted from under the index: a query that needs its
// records fails (DATA_LOSS) instead of answering without them as if the
// segment had been archived.
TEST(AuditLogTest, AQueryNeedingADeletedLiveSegmentFails) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);  // 1 MiB segments
  // One citizen's records: in every segment.
  lienthong::v1::QueryAuditRequest request;
  request.set_citizen_id(CitizenIdFor(5));
  request.set_page_size(1000);
  {
    auto log = OpenLog(options);
    ASSERT_THAT(AppendMany(*log, 1, 6000), IsOk());
    // Indexed to the end (a query catches up) before the segment goes.
    ASSERT_THAT(QueryAudit(log->index(), request, log->citizen_key()), IsOk());
    ASSERT_THAT(log->Close(), IsOk());
  }
  auto segments = ListSegments(options.journal_dir);
  ASSERT_THAT(segments, IsOk());
  ASSERT_GE(segments->size(), 3u);
  ASSERT_TRUE(std::filesystem::remove((*segments)[1].path));
  auto log = OpenLog(options);
  auto found = QueryAudit(log->index(), request, log->citizen_key());
  EXPECT_THAT(found,
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("is missing")));
}

// Where each segment of the journal in `dir` ends: its last frame's
// checkpoint reason (REASON_UNSPECIFIED for a record), by segment number.
std::map<uint64_t, AuditCheckpoint::Reason> SegmentEnds(
    const std::string& dir) {
  std::map<uint64_t, AuditCheckpoint::Reason> ends;
  EXPECT_THAT(ReadJournal(dir, {}, {},
                          [&](const JournalPosition& at, const Frame& frame) {
                            AuditCheckpoint c;
                            if (frame.type == FrameType::kCheckpoint) {
                              c.ParseFromArray(
                                  frame.payload.data(),
                                  static_cast<int>(frame.payload.size()));
                            }
                            ends[at.segment] = c.reason();
                            return true;
                          }),
              IsOk());
  return ends;
}

// However near its segment's end a run stops, the journal goes on to the
// next segment only after sealing it: a segment without its seal would hold
// back archiving for good.
TEST(AuditLogTest, ASegmentARunLeftNearlyFullIsSealedBeforeTheNext) {
  for (uint64_t left : {2100, 3000, 3900, 4300, 4600, 4900, 5200, 5500}) {
    SCOPED_TRACE(absl::StrCat(left, " bytes left"));
    ScratchDir dir;
    const AuditLog::Options options = TestOptions(dir);
    {
      auto log = OpenLog(options);
      ASSERT_THAT(AppendMany(*log, 1, 10), IsOk());
      ASSERT_THAT(log->Close(), IsOk());
    }
    // The segment is cut to end `left` bytes after the journal's end (a
    // segment is filled to its file's own size).
    uint64_t end = 0;
    ASSERT_THAT(ReadJournal(options.journal_dir, {}, {},
                            [&](const JournalPosition& at, const Frame& f) {
                              end = at.offset + f.size;
                              return true;
                            }),
                IsOk());
    const std::string first =
        absl::StrCat(options.journal_dir, "/", SegmentFileName(1));
    ASSERT_EQ(::truncate(first.c_str(), static_cast<off_t>(end + left)), 0);
    // Runs that only start and stop, then one that writes.
    for (int run = 0; run < 3; ++run) {
      auto log = OpenLog(options);
      ASSERT_TRUE(log->ready()) << log->Readiness();
      ASSERT_THAT(log->Close(), IsOk());
    }
    auto log = OpenLog(options);
    ASSERT_TRUE(log->ready()) << log->Readiness();
    ASSERT_THAT(AppendMany(*log, 11, 10), IsOk());
    ASSERT_THAT(log->Close(), IsOk());
    ExpectIntact(*log);
    const std::map<uint64_t, AuditCheckpoint::Reason> ends =
        SegmentEnds(options.journal_dir);
    ASSERT_GE(ends.size(), 2u);  // the runs went on to segment 2
    for (const auto& [segment, reason] : ends) {
      if (segment == ends.rbegin()->first) {
        EXPECT_EQ(reason, AuditCheckpoint::CLEAN_STOP);
      } else {
        EXPECT_EQ(reason, AuditCheckpoint::SEGMENT_SEALED)
            << "segment " << segment;
      }
    }
  }
}

TEST(AuditLogTest, RefusalsAreCoalescedPerCallerMethodAndOutcome) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.coalesce_window = absl::Hours(1);  // one window for the test
  auto log = OpenLog(options);
  auto refused = [&](const std::string& caller, const std::string& outcome) {
    AuditRecord r;
    r.set_caller(caller);
    r.set_method("lienthong.v1.PopulationService/LookupCitizen");
    r.set_outcome(outcome);
    absl::Notification released;
    absl::Status answer;
    log->AppendThenRelease(r, true, absl::PermissionDeniedError("no"),
                           [&](absl::Status s) {
                             answer = s;
                             released.Notify();
                           });
    released.WaitForNotification();
    EXPECT_THAT(answer, StatusIs(absl::StatusCode::kPermissionDenied, "no"));
  };
  for (int i = 0; i < 50; ++i) refused("spiffe://x/flooder", "PERMISSION_DENIED");
  for (int i = 0; i < 3; ++i) refused("spiffe://x/other", "PERMISSION_DENIED");
  refused("spiffe://x/flooder", "UNAUTHENTICATED");
  // An allowed call is never coalesced.
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(log->AppendSync(SampleRecord(0, log->citizen_key())), IsOk());
  }
  ASSERT_THAT(log->Close(), IsOk());  // writes the open windows' counts
  int full = 0, coalesced = 0, calls = 0;
  uint64_t counted = 0;
  for (const AuditRecord& r : ReadEntries(options.journal_dir).records) {
    if (r.kind() == AuditRecord::REFUSALS_COALESCED) {
      ++coalesced;
      counted += r.count();
      EXPECT_THAT(r.details(), HasSubstr("first="));
    } else if (r.kind() == AuditRecord::CALL && r.attempts() == 0 &&
               absl::StartsWith(r.caller(), "spiffe://x/")) {
      ++full;
    } else if (r.kind() == AuditRecord::CALL) {
      ++calls;
    }
  }
  EXPECT_EQ(full, 3);       // the first of each (caller, method, outcome)
  EXPECT_EQ(coalesced, 2);  // the flooder's and the other's windows
  EXPECT_EQ(counted, 49u + 2u);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(log->stats().refusals_coalesced, 51u);
  ExpectIntact(*log);
}

// An auditor's search refused for what it asked keeps one record per call;
// a caller refused for itself (over its rate limit, not authenticated) is
// coalesced as on any other method, or a client with no rights could fill
// the journal with refused searches.
TEST(RefusalCoalescerTest, AuditSearchesRefusedForTheCallerAreCoalesced) {
  const struct {
    const char* method;
    const char* outcome;
    bool coalesced;
  } kCases[] = {
      {"lienthong.v1.AuditService/QueryAudit", "PERMISSION_DENIED", false},
      {"lienthong.v1.AuditService/QueryAudit", "INVALID_ARGUMENT", false},
      {"lienthong.v1.AuditService/QueryAudit", "RESOURCE_EXHAUSTED", true},
      {"lienthong.v1.AuditService/VerifyAudit", "UNAUTHENTICATED", true},
      {"lienthong.v1.AuditService/VerifyAudit", "UNIMPLEMENTED", true},
      {"lienthong.v1.AuditService/QueryAudit", "OK", false},
      {"lienthong.v1.PopulationService/LookupCitizen", "PERMISSION_DENIED",
       true},
  };
  for (const auto& c : kCases) {
    AuditRecord r;
    r.set_method(c.method);
    r.set_outcome(c.outcome);
    EXPECT_EQ(RefusalCoalescer::IsRefusal(r), c.coalesced)
        << c.method << " " << c.outcome;
  }
}

TEST(AuditLogTest, QueriesSeeEveryAcknowledgedRecordAndALostIndexIsRebuilt) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.index_interval = absl::Hours(1);  // only queries catch up
  {
    auto log = OpenLog(options);
    ASSERT_THAT(AppendMany(*log, 1, 300), IsOk());
    lienthong::v1::QueryAuditRequest request;
    request.set_citizen_id(CitizenIdFor(5));
    request.set_page_size(1000);
    auto found = QueryAudit(log->index(), request, log->citizen_key());
    ASSERT_THAT(found, IsOk());
    EXPECT_EQ(found->size(), 4u);  // i = 5, 102, 199, 296
  }
  std::filesystem::remove(options.path);
  auto log = OpenLog(options);
  lienthong::v1::QueryAuditRequest all;
  all.set_page_size(1000);
  auto found = QueryAudit(log->index(), all, log->citizen_key());
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(found->size(), 302u);  // 300 and two LOG_OPENED records
}

// A live segment removed before the indexer reached it: the next query's
// catching up counts its records as missing in the log's figures (the
// lienthong_audit_index_missing_records metric), not passed over.
TEST(AuditLogTest, RecordsOfALiveSegmentRemovedBeforeIndexingAreCounted) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.index_interval = absl::Hours(1);  // only queries catch up
  auto log = OpenLog(options);
  ASSERT_NE(log, nullptr);
  ASSERT_THAT(AppendMany(*log, 1, 6000), IsOk());
  auto segments = ListSegments(options.journal_dir);
  ASSERT_THAT(segments, IsOk());
  ASSERT_GE(segments->size(), 3u);
  const size_t before = ReadEntries(options.journal_dir).records.size();
  ASSERT_TRUE(std::filesystem::remove((*segments)[1].path));
  const size_t removed =
      before - ReadEntries(options.journal_dir).records.size();
  ASSERT_GT(removed, 0u);
  EXPECT_EQ(log->stats().index_missing_records, 0u);
  lienthong::v1::QueryAuditRequest request;
  request.set_page_size(1);
  ASSERT_THAT(QueryAudit(log->index(), request, log->citizen_key()), IsOk());
  EXPECT_EQ(log->stats().index_missing_records, removed);
  EXPECT_EQ(log->stats().indexed_sequence, log->stats().durable_sequence);
}

TEST(AuditLogTest, ReportsLowDiskSpaceBeforeWritesFail) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.min_free_bytes = uint64_t{1} << 62;
  auto log = OpenLog(options);
  EXPECT_THAT(log->Readiness(), StatusIs(absl::StatusCode::kUnavailable,
                                         HasSubstr("disk space low")));
  EXPECT_THAT(log->CanAppend(), IsOk());  // still writing
  EXPECT_GT(log->FreeBytes(), 0u);
}

// A store of the previous format, at its last version (2, with the
// officer's columns), that holds records is refused, not turned into an
// index (which would drop them); an empty one becomes the index.
TEST(AuditLogTest, APreviousFormatStoreWithOfficerColumnsIsRefusedNotDropped) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(options.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE records (sequence INTEGER PRIMARY KEY, "
                         "hash TEXT NOT NULL, officer_hmac TEXT NOT NULL "
                         "DEFAULT '');"
                         "CREATE TABLE checkpoints (sequence INTEGER PRIMARY "
                         "KEY, hash TEXT NOT NULL);"
                         "INSERT INTO records (sequence, hash) VALUES (1, 'x');"
                         "PRAGMA user_version=2;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  EXPECT_THAT(AuditLog::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("previous format holding 1 records")));
  ASSERT_EQ(sqlite3_open(options.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM records", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto log = OpenLog(options);
  ASSERT_NE(log, nullptr);
  ASSERT_THAT(AppendMany(*log, 1, 3), IsOk());
  ExpectIntact(*log);
  ASSERT_THAT(log->Close(), IsOk());
}

}  // namespace
}  // namespace lienthong::audit
