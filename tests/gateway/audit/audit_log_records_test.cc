// AuditLog: which records Append takes, and what the journal, the index and
// an export keep of them. The log's life (reopening, checkpoints, group
// commit, failing closed) is in audit_log_test.cc.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/journal.h"
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
using ::lienthong::audit::testutil::OpenLog;
using ::lienthong::audit::testutil::ReadAll;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::audit::testutil::WriteEntries;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void ExpectIntact(const AuditLog& log) {
  auto report = log.Verify();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
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
  EXPECT_EQ(written->sequence(), 2u);
  EXPECT_TRUE(RecordHashMatches(*written));

  record.mutable_time()->set_seconds(-5);
  EXPECT_THAT(log->AppendSync(record),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time")));
  EXPECT_EQ(log->durable_sequence(), 2u);
}

// A record larger than a journal frame holds is refused, not written where
// no reader would accept it; the log goes on.
TEST(AuditLogTest, ARecordTooLargeForAFrameIsRefused) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.segment_bytes = 16 << 20;
  auto log = OpenLog(options);
  AuditRecord huge = SampleRecord(1, log->citizen_key());
  huge.set_details(std::string(2 << 20, 'd'));
  EXPECT_THAT(log->AppendSync(huge),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a record must be under")));
  ASSERT_THAT(log->AppendSync(SampleRecord(2, log->citizen_key())), IsOk());
  EXPECT_TRUE(log->healthy());
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
}

// With the smallest segments, a record a frame would hold but an empty
// segment with its checkpoints would not is refused too: the writer started
// a new segment for it again and again, never writing it.
TEST(AuditLogTest, ARecordTooLargeForAnEmptySegmentIsRefused) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.segment_bytes = kMinSegmentBytes;
  auto log = OpenLog(options);
  AuditRecord large = SampleRecord(1, log->citizen_key());
  large.set_details(std::string(kMaxFramePayload - 1024, 'd'));
  EXPECT_THAT(log->AppendSync(large),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a record must be under")));
  ASSERT_THAT(log->AppendSync(SampleRecord(2, log->citizen_key())), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  ExpectIntact(*log);
}

// Every kind but CALL is the log's own word: what it found on opening, an
// operator's new epoch, a count of refusals. A caller's record of such a
// kind, or of a kind this code does not know, is refused rather than
// written as if the log had made it, and the log goes on.
TEST(AuditLogTest, RecordsOfTheLogsOwnKindsAreRefused) {
  struct Case {
    AuditRecord::Kind kind;
    const char* name;
  };
  const Case kCases[] = {
      {AuditRecord::LOG_OPENED, "LOG_OPENED"},
      {AuditRecord::EPOCH_OPENED, "EPOCH_OPENED"},
      {AuditRecord::REFUSALS_COALESCED, "REFUSALS_COALESCED"},
      {static_cast<AuditRecord::Kind>(99), "99"},
  };
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  auto log = OpenLog(options);
  ASSERT_NE(log, nullptr);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    AuditRecord record = SampleRecord(1, log->citizen_key());
    record.set_kind(c.kind);
    EXPECT_THAT(log->AppendSync(record),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat("audit record of kind ", c.name,
                                                " refused"))));
    // A call audited with it is not answered as if it were audited.
    absl::Status released;
    log->AppendThenRelease(std::move(record), /*wait_for_durable=*/true,
                           absl::OkStatus(),
                           [&](absl::Status s) { released = std::move(s); });
    EXPECT_THAT(released, StatusIs(absl::StatusCode::kUnavailable,
                                   HasSubstr(kAnswerWithheld)));
  }
  EXPECT_EQ(log->durable_sequence(), 1u);  // the log's LOG_OPENED record
  ASSERT_THAT(log->AppendSync(SampleRecord(2, log->citizen_key())), IsOk());
  EXPECT_TRUE(log->healthy());
  ASSERT_THAT(log->Close(), IsOk());
  std::vector<AuditRecord::Kind> kinds;
  for (const testutil::Entry& e : testutil::ReadEntries(options.journal_dir)) {
    if (!e.is_checkpoint) kinds.push_back(e.record.kind());
  }
  EXPECT_THAT(kinds, ElementsAre(AuditRecord::LOG_OPENED, AuditRecord::CALL));
  ExpectIntact(*log);
}

// An export never goes through a symbolic link: one planted where the file
// is to go would have it truncate and take over (0600) the file it names.
TEST(AuditLogTest, AnExportRefusesASymbolicLink) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 0, 10), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  const std::string target = dir.File("config.yaml");
  { std::ofstream(target) << "keep"; }
  ::chmod(target.c_str(), 0644);
  const std::string link = dir.File("export.jsonl");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_THAT(ExportToFile(options.journal_dir, absl::InfinitePast(), link),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is a symbolic link")));
  EXPECT_EQ(ReadAll(target), "keep");
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

// An export replaces its file only once whole: one that fails leaves the
// file it would have replaced as it was, and no shorter file beside it.
TEST(AuditLogTest, AFailedExportLeavesTheOldFileAsItWas) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 0, 10), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  const std::string path = dir.File("export.jsonl");
  { std::ofstream(path) << "last month's export\n"; }
  EXPECT_FALSE(
      ExportToFile(dir.File("no-journal"), absl::InfinitePast(), path).ok());
  EXPECT_EQ(ReadAll(path), "last month's export\n");
  EXPECT_NE(::access((path + ".partial").c_str(), F_OK), 0);
  // A good one replaces it, owner-only.
  ASSERT_THAT(ExportToFile(options.journal_dir, absl::InfinitePast(), path),
              IsOk());
  EXPECT_THAT(ReadAll(path), HasSubstr("\"kind\""));
  EXPECT_EQ(ReadAll(path).find("last month"), std::string::npos);
  EXPECT_NE(::access((path + ".partial").c_str(), F_OK), 0);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(AuditLogTest, NoPlaintextCitizenIdInTheJournalIndexOrExport) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  auto log = OpenLog(options);
  ASSERT_THAT(AppendMany(*log, 0, 500), IsOk());
  lienthong::v1::QueryAuditRequest request;
  ASSERT_THAT(QueryAudit(log->index(), request, log->citizen_key()), IsOk());
  ASSERT_THAT(log->Close(), IsOk());
  ASSERT_THAT(ExportToFile(options.journal_dir, absl::InfinitePast(),
                           dir.File("export.jsonl")),
              IsOk());
  std::string journal;
  auto segments = ListSegments(options.journal_dir);
  ASSERT_THAT(segments, IsOk());
  for (const auto& s : *segments) journal += ReadAll(s.path);
  const std::string index =
      ReadAll(options.path) + ReadAll(options.path + "-wal");
  const std::string exported = ReadAll(dir.File("export.jsonl"));
  ASSERT_NE(journal.find("033*******"),
            std::string::npos);  // Masked forms are.
  // The index holds the filter columns and where each record is, not the
  // record: its dossier IDs are there, the masked forms are not needed.
  ASSERT_NE(index.find("000.00.01.H31-250715-00499"), std::string::npos);
  EXPECT_EQ(index.find("033*******"), std::string::npos);
  for (uint64_t i = 0; i < 97; ++i) {
    const std::string id = CitizenIdFor(i);
    SCOPED_TRACE(id);
    EXPECT_EQ(journal.find(id), std::string::npos);
    EXPECT_EQ(index.find(id), std::string::npos);
    EXPECT_EQ(exported.find(id), std::string::npos);
  }
}

// The record of a call on behalf of an officer, numbered `i`.
AuditRecord OfficerRecord(uint64_t i, const CitizenKey& key) {
  AuditRecord r = SampleRecord(i, key);
  key.FillOfficer("001085004321", "000.00.31.H31", "can.bo@hungyen.gov.vn", &r);
  return r;
}

TEST(AuditLogTest, OfficersSurviveInTheJournalAndIndexAndAreCoveredByTheChain) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  std::optional<PublicKey> public_key;
  uint64_t officer_sequence = 0;
  {
    auto log = OpenLog(options);
    ASSERT_THAT(log->AppendSync(SampleRecord(1, log->citizen_key())), IsOk());
    auto appended = log->AppendSync(OfficerRecord(2, log->citizen_key()));
    ASSERT_THAT(appended, IsOk());
    officer_sequence = appended->sequence();
    ASSERT_THAT(log->Close(), IsOk());
  }
  auto log = OpenLog(options);
  ASSERT_NE(log, nullptr);
  // In the journal, as written.
  std::vector<AuditRecord> calls;
  for (const testutil::Entry& e : testutil::ReadEntries(options.journal_dir)) {
    if (!e.is_checkpoint && e.record.kind() == AuditRecord::CALL) {
      calls.push_back(e.record);
    }
  }
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].officer_hmac(), "");
  EXPECT_EQ(calls[1].sequence(), officer_sequence);
  EXPECT_EQ(calls[1].officer_hmac(), log->citizen_key().Hmac("001085004321"));
  EXPECT_EQ(calls[1].officer_masked(), "001*******21");
  EXPECT_EQ(calls[1].officer_unit_code(), "000.00.31.H31");
  EXPECT_EQ(calls[1].officer_account_hmac(),
            log->citizen_key().Hmac("can.bo@hungyen.gov.vn"));
  EXPECT_TRUE(RecordHashMatches(calls[1]));
  // And as a query answers (the index points into the journal).
  QueryFilter filter;
  filter.after_sequence = officer_sequence - 1;
  filter.limit = 1;
  auto queried = log->index().Query(filter);
  ASSERT_THAT(queried, IsOk());
  ASSERT_EQ(queried->size(), 1u);
  EXPECT_EQ((*queried)[0].officer_masked(), "001*******21");
  EXPECT_EQ((*queried)[0].officer_hmac(), calls[1].officer_hmac());
  ExpectIntact(*log);
  public_key.emplace(log->public_key());
  ASSERT_THAT(log->Close(), IsOk());
  log.reset();

  // Someone who can write the journal removes the officer: detected at
  // that record.
  std::vector<testutil::Entry> entries =
      testutil::ReadEntries(options.journal_dir);
  const size_t at = testutil::RecordAt(entries, officer_sequence);
  ASSERT_LT(at, entries.size());
  AuditRecord& edited = entries[at].record;
  edited.clear_officer_hmac();
  edited.clear_officer_masked();
  edited.clear_officer_unit_code();
  edited.clear_officer_account_hmac();
  ASSERT_THAT(WriteEntries(options.journal_dir, entries, options.segment_bytes),
              IsOk());
  VerifyOptions verify;
  verify.key = &*public_key;
  auto report = VerifyJournal(options.journal_dir, verify);
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->intact());
  EXPECT_EQ(report->first_bad_sequence(), officer_sequence);
}

}  // namespace
}  // namespace lienthong::audit
