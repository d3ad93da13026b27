// Tests of what operators do to a journal: opening a new epoch after a
// break (epoch.h) and archiving old segments (archive.h).
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/archive.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/epoch.h"
#include "gateway/audit/indexer.h"
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::Entry;
using ::lienthong::audit::testutil::ReadAll;
using ::lienthong::audit::testutil::ReadEntries;
using ::lienthong::audit::testutil::RecordAt;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::audit::testutil::WriteEntries;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::AuditArchiveAnchor;
using ::lienthong::v1::AuditArchiveManifest;
using ::testing::HasSubstr;

// An ARCHIVED line as someone with the files would read and write it.
AuditArchiveAnchor ParseAnchor(const std::string& line) {
  AuditArchiveAnchor anchor;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &anchor).ok());
  return anchor;
}
std::string Json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(message, &json, options)
          .ok());
  return json;
}

class OperatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = TestOptions(dir_);
    auto key = SigningKey::FromPemFile(options_.signing_key_file);
    ASSERT_THAT(key, IsOk());
    key_.emplace(*std::move(key));
  }

  // Appends `count` records (with times from `base`) in one gateway run.
  void Run(uint64_t count, absl::Time base = absl::InfinitePast()) {
    auto log = AuditLog::Open(options_);
    ASSERT_THAT(log, IsOk());
    ASSERT_TRUE((*log)->ready()) << (*log)->Readiness();
    ASSERT_THAT(AppendMany(**log, 1, count, base), IsOk());
    ASSERT_THAT((*log)->Close(), IsOk());
  }

  VerifyReport Verify(bool anchors = true, const std::string& archive = "") {
    VerifyOptions verify;
    verify.key = &key_->public_key();
    verify.key_pinned = true;
    if (anchors) verify.anchor_file = options_.anchor_file;
    verify.archive_dir = archive;
    auto report = VerifyJournal(options_.journal_dir, verify);
    EXPECT_THAT(report, IsOk());
    return report.ok() ? *report : VerifyReport();
  }

  // The EPOCH_OPENED records a gateway opened on the journal now finds
  // through its index (up to 1,000 records); -1 when the query fails.
  int EpochRecordsFound() {
    auto log = AuditLog::Open(options_);
    EXPECT_THAT(log, IsOk());
    if (!log.ok()) return -1;
    lienthong::v1::QueryAuditRequest all;
    all.set_page_size(1000);
    auto found = QueryAudit((*log)->index(), all, (*log)->citizen_key());
    EXPECT_THAT(found, IsOk());
    if (!found.ok()) return -1;
    int epochs = 0;
    for (const AuditRecord& r : *found) {
      EXPECT_LT(r.sequence(), uint64_t{1} << 63);
      epochs += r.kind() == AuditRecord::EPOCH_OPENED;
    }
    return epochs;
  }

  // Archiving this journal's segments older than `age` into dir_/archive.
  ArchiveOptions Archiving(absl::Duration age = absl::Hours(24 * 90)) const {
    ArchiveOptions archive;
    archive.journal_dir = options_.journal_dir;
    archive.archive_dir = dir_.File("archive");
    archive.cutoff = absl::Now() - age;
    archive.key = &*key_;
    return archive;
  }

  // Builds a new index of the journal at dir_/NAME with an Indexer of its
  // own, as `lienthong audit reindex` does; returns the records it found
  // missing (-1 on failure) and leaves the last record indexed in `*last`.
  int64_t ReindexMissing(const std::string& name, uint64_t* last) {
    Journal::Options journal_options;
    journal_options.dir = options_.journal_dir;
    journal_options.prepare_in_background = false;
    auto journal = Journal::Open(journal_options);
    EXPECT_THAT(journal, IsOk());
    auto index =
        SqliteAuditIndex::Open(dir_.File(name), {options_.journal_dir});
    EXPECT_THAT(index, IsOk());
    if (!journal.ok() || !index.ok()) return -1;
    Indexer::Options indexing;
    indexing.journal_dir = options_.journal_dir;
    indexing.journal_id = (*journal)->tail().journal_id;
    Indexer indexer(indexing, index->get(), [] { return Indexer::Durable{}; });
    absl::Status ran = indexer.RunOnce();
    EXPECT_THAT(ran, IsOk());
    *last = indexer.indexed_sequence();
    return ran.ok() ? static_cast<int64_t>(indexer.missing_records()) : -1;
  }

  NewEpochOptions Epoch() const {
    NewEpochOptions epoch;
    epoch.journal_dir = options_.journal_dir;
    epoch.anchor_file = options_.anchor_file;
    epoch.key = &*key_;
    epoch.key_pinned = true;
    epoch.node = "gw-test";
    epoch.opened_by = "Nguyen Van B, security team";
    epoch.reason = "ticket SEC-142: inspected";
    epoch.segment_bytes = options_.segment_bytes;
    return epoch;
  }

  ScratchDir dir_;
  AuditLog::Options options_;
  std::optional<SigningKey> key_;
};

TEST_F(OperatorTest, ANewEpochAcknowledgesADamagedFrameAndTheLogContinues) {
  Run(500);
  // A bit flips in record 300's frame; the writes after it are whole.
  std::vector<Entry> entries = ReadEntries(options_.journal_dir);
  const std::string needle =
      entries[RecordAt(entries, 300)].record.request_sha256();
  ASSERT_EQ(testutil::FlipBitAfter(options_.journal_dir, needle, 0, 0x01), 1);

  {
    auto log = AuditLog::Open(options_);
    ASSERT_THAT(log, IsOk());
    EXPECT_FALSE((*log)->ready());
    EXPECT_THAT((*log)->Readiness().message(), HasSubstr("damaged"));
    // The operator cannot open an epoch while the gateway holds the journal.
    EXPECT_THAT(OpenNewEpoch(Epoch()),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("in use")));
  }
  const VerifyReport broken = Verify();
  ASSERT_FALSE(broken.intact());
  EXPECT_EQ(broken.problem(), VerifyReport::CORRUPT);
  EXPECT_EQ(broken.first_bad_sequence(), 300u);

  auto opened = OpenNewEpoch(Epoch());
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(opened->epoch_break.epoch(), 2u);
  EXPECT_EQ(opened->epoch_break.problem(), VerifyReport::CORRUPT);
  EXPECT_EQ(opened->epoch_break.first_bad_sequence(), 300u);

  Run(100);  // ready again
  const VerifyReport report = Verify();
  EXPECT_TRUE(report.intact()) << report.DebugString();
  ASSERT_EQ(report.acknowledged_breaks_size(), 1);
  EXPECT_EQ(report.acknowledged_breaks(0).opened_by(),
            "Nguyen Van B, security team");
  EXPECT_EQ(report.acknowledged_breaks(0).problem(), VerifyReport::CORRUPT);
  // The epoch record is in the log like any record, and queryable.
  EXPECT_EQ(EpochRecordsFound(), 1);
}

// The anchor file emptied or removed beside a journal past its first
// checkpoint would hide a cut journal end: the log opens not ready (until
// 2026-12-07 it opened ready, noting "not compared"), until an operator
// opens a new epoch, whose checkpoint starts the file again.
TEST_F(OperatorTest, AnAnchorFileEmptiedOrRemovedIsABreakUntilANewEpoch) {
  Run(500);
  for (bool removed : {false, true}) {
    SCOPED_TRACE(removed ? "removed" : "emptied");
    if (removed) {
      std::filesystem::remove(options_.anchor_file);
    } else {
      std::ofstream(options_.anchor_file, std::ios::trunc);
    }
    auto log = AuditLog::Open(options_);
    ASSERT_THAT(log, IsOk());
    EXPECT_FALSE((*log)->ready());
    EXPECT_THAT((*log)->Readiness().message(),
                HasSubstr("but the anchor file"));
  }
  ASSERT_THAT(OpenNewEpoch(Epoch()), IsOk());
  Run(100);  // ready again
}

// A segment whose header cannot be read (a flipped bit in its checksum) is
// damage like a damaged frame: the gateway starts not ready saying where,
// verify reports it and reads on, and an operator can open a new epoch; not
// a journal nothing can open.
TEST_F(OperatorTest, ANewEpochAcknowledgesASegmentWhoseHeaderCannotBeRead) {
  for (bool last : {false, true}) {
    SCOPED_TRACE(last ? "the last segment" : "the first segment");
    ScratchDir dir;
    options_ = TestOptions(dir);
    auto key = SigningKey::FromPemFile(options_.signing_key_file);
    ASSERT_THAT(key, IsOk());
    key_.emplace(*std::move(key));
    Run(6000);  // three or more 1 MiB segments
    auto segments = ListSegments(options_.journal_dir);
    ASSERT_THAT(segments, IsOk());
    ASSERT_GE(segments->size(), 3u);
    // The last one with data, or the first.
    SegmentFile hit = segments->front();
    if (last) {
      for (const SegmentFile& file : *segments) {
        if (ReadAll(file.path).find_first_not_of('\0', kSegmentHeaderSize) !=
            std::string::npos) {
          hit = file;
        }
      }
    }
    {
      std::fstream file(hit.path,
                        std::ios::binary | std::ios::in | std::ios::out);
      file.seekp(9);  // in the segment number, under the header's checksum
      file.put('\x7f');
    }
    const std::string where = absl::StrCat("segment ", hit.number, " offset 0");
    {
      // At the journal's end it stops the gateway; further back it is
      // verify's to find, as a damaged frame there is (opening verifies
      // from the last checkpoint).
      auto log = AuditLog::Open(options_);
      ASSERT_THAT(log, IsOk());
      EXPECT_EQ((*log)->ready(), !last);
      if (last) {
        EXPECT_THAT((*log)->Readiness().message(),
                    ::testing::AllOf(HasSubstr("damaged at " + where),
                                     HasSubstr("header's checksum")));
      }
    }
    const VerifyReport broken = Verify();
    EXPECT_FALSE(broken.intact());
    EXPECT_THAT(
        broken.detail(),
        ::testing::AllOf(HasSubstr(where), HasSubstr("header's checksum")));

    auto opened = OpenNewEpoch(Epoch());
    ASSERT_THAT(opened, IsOk());
    EXPECT_EQ(opened->epoch_break.epoch(), 2u);
    Run(100);  // ready again, past the damage
    const VerifyReport report = Verify();
    EXPECT_TRUE(report.intact()) << report.DebugString();
    ASSERT_EQ(report.acknowledged_breaks_size(), 1);
    EXPECT_THAT(report.acknowledged_breaks(0).detail(),
                HasSubstr("header's checksum"));
  }
}

TEST_F(OperatorTest, ANewEpochAcknowledgesATailCutWithItsCheckpoints) {
  Run(3000);  // 1 MiB segments: several, sealed
  std::vector<Entry> entries = ReadEntries(options_.journal_dir);
  entries.resize(RecordAt(entries, 1500) + 1);  // cut, checkpoints and all
  ASSERT_THAT(WriteEntries(options_.journal_dir, entries, options_.segment_bytes),
              IsOk());
  {
    auto log = AuditLog::Open(options_);
    ASSERT_THAT(log, IsOk());
    EXPECT_FALSE((*log)->ready());
    EXPECT_THAT((*log)->Readiness().message(), HasSubstr("anchor file holds"));
  }
  auto opened = OpenNewEpoch(Epoch());
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(opened->epoch_break.problem(), VerifyReport::TRUNCATED);
  EXPECT_EQ(opened->epoch_break.first_bad_sequence(), 1501u);
  Run(10);
  const VerifyReport report = Verify();
  EXPECT_TRUE(report.intact()) << report.DebugString();
  ASSERT_EQ(report.acknowledged_breaks_size(), 1);
  EXPECT_EQ(report.acknowledged_breaks(0).problem(), VerifyReport::TRUNCATED);
}

// A record in the broken part numbered past INT64_MAX (written by someone
// with access to the journal) does not number the new epoch: its records
// go on from the journal's own numbers and queries find them.
TEST_F(OperatorTest, ANewEpochIsNotNumberedFromARecordPastInt64) {
  Run(50);
  std::vector<Entry> entries = ReadEntries(options_.journal_dir);
  const size_t at = RecordAt(entries, 40);
  ASSERT_LT(at, entries.size());
  entries[at].record.set_sequence(uint64_t{1} << 63);
  ASSERT_THAT(
      WriteEntries(options_.journal_dir, entries, options_.segment_bytes),
      IsOk());
  ASSERT_FALSE(Verify().intact());
  auto opened = OpenNewEpoch(Epoch());
  ASSERT_THAT(opened, IsOk());
  Run(10);
  EXPECT_EQ(EpochRecordsFound(), 1);  // every record numbered below 2^63
}

TEST_F(OperatorTest, AnotherChangeInTheBrokenEpochIsNotAcknowledged) {
  Run(500);
  std::vector<Entry> entries = ReadEntries(options_.journal_dir);
  entries.resize(RecordAt(entries, 400) + 1);
  ASSERT_THAT(WriteEntries(options_.journal_dir, entries, options_.segment_bytes),
              IsOk());
  ASSERT_THAT(OpenNewEpoch(Epoch()), IsOk());
  ASSERT_TRUE(Verify().intact());
  // Later, someone edits record 100, before the acknowledged break.
  entries = ReadEntries(options_.journal_dir);
  entries[RecordAt(entries, 100)].record.set_outcome("NOT_FOUND");
  ASSERT_THAT(WriteEntries(options_.journal_dir, entries, options_.segment_bytes),
              IsOk());
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.intact());
  EXPECT_EQ(report.problem(), VerifyReport::EDITED);
  EXPECT_EQ(report.first_bad_sequence(), 100u);
}

TEST_F(OperatorTest, AnEpochsTextMustReadBack) {
  NewEpochOptions epoch = Epoch();
  epoch.opened_by = "Tr\xe1n";  // Latin-1: a proto string could not hold it
  EXPECT_THAT(OpenNewEpoch(epoch),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("who opens it: not valid UTF-8")));
  epoch = Epoch();
  epoch.reason = "ticket\x1b[2J";
  EXPECT_THAT(OpenNewEpoch(epoch),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("reason: contains control characters")));
}

TEST_F(OperatorTest, NoEpochWithoutABreak) {
  Run(50);
  EXPECT_THAT(OpenNewEpoch(Epoch()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no break to acknowledge")));
  NewEpochOptions anonymous = Epoch();
  anonymous.opened_by.clear();
  EXPECT_THAT(OpenNewEpoch(anonymous),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  // A node name longer than a gateway's would make an anchor line its
  // readers refuse; so would an archive's.
  NewEpochOptions long_node = Epoch();
  long_node.node = std::string(kMaxNodeBytes + 1, 'n');
  EXPECT_THAT(OpenNewEpoch(long_node),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("node name is at most 256 bytes")));
  ArchiveOptions archive = Archiving();
  archive.node = long_node.node;
  EXPECT_THAT(ArchiveSegments(archive),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("node name is at most 256 bytes")));
}

TEST_F(OperatorTest, ArchivesChainAndTheWholeHistoryStillVerifies) {
  const absl::Time old = absl::Now() - absl::Hours(24 * 400);
  Run(6000, old);  // 1 MiB segments: ~3 sealed with old records
  ArchiveOptions archive = Archiving();
  archive.node = "gw-test";
  archive.index_path = options_.path;
  std::vector<ReadProgress> seen;
  archive.progress = [&](const ReadProgress& p) { seen.push_back(p); };
  auto first = ArchiveSegments(archive);
  ASSERT_THAT(first, IsOk());
  ASSERT_EQ(first->archive, 1u);
  EXPECT_GE(first->segments.size(), 2u);
  // Progress: the verification's reads, then one step per segment copied,
  // on one scale that ends full.
  const size_t copies = first->segments.size();
  ASSERT_GT(seen.size(), copies);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_STREQ(seen[i].stage, i < seen.size() - copies ? "verifying" : "copying")
        << i;
    EXPECT_EQ(seen[i].total, seen.back().total) << i;
    if (i > 0) {
      EXPECT_GT(seen[i].done, seen[i - 1].done) << i;
    }
  }
  EXPECT_EQ(seen.back().done, seen.back().total);
  archive.progress = nullptr;
  for (const std::string& name : first->segments) {
    EXPECT_FALSE(std::filesystem::exists(
        absl::StrCat(options_.journal_dir, "/", name)));
    EXPECT_TRUE(std::filesystem::exists(
        absl::StrCat(first->folder, "/", name)));
  }

  // The gateway goes on (its journal's end is untouched) and more old
  // records follow; a second archive names the first.
  Run(3000, old + absl::Hours(1));
  auto second = ArchiveSegments(archive);
  ASSERT_THAT(second, IsOk());
  ASSERT_EQ(second->archive, 2u);
  auto anchors = ReadArchiveAnchors(options_.journal_dir);
  ASSERT_THAT(anchors, IsOk());
  ASSERT_EQ(anchors->size(), 2u);
  EXPECT_EQ((*anchors)[1].manifest().prev_manifest_sha256(),
            (*anchors)[0].manifest_sha256());

  const VerifyReport live = Verify();
  EXPECT_TRUE(live.intact()) << live.DebugString();
  EXPECT_LT(live.records_checked(), 9002u);
  const VerifyReport whole = Verify(true, archive.archive_dir);
  EXPECT_TRUE(whole.intact()) << whole.DebugString();
  EXPECT_EQ(whole.records_checked(), 9002u);  // and two LOG_OPENED records
  EXPECT_EQ(whole.archives_checked(), 2u);

  // Archived records left the query index.
  auto log = AuditLog::Open(options_);
  ASSERT_THAT(log, IsOk());
  EXPECT_TRUE((*log)->ready());
  lienthong::v1::QueryAuditRequest request;
  request.set_page_size(1);
  auto page = QueryAudit((*log)->index(), request, (*log)->citizen_key());
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().sequence(), second->last_sequence + 1);
  log->reset();

  // Tampering with an archive, or with the anchors, is caught.
  auto archived = ListSegments(first->folder);
  ASSERT_THAT(archived, IsOk());
  std::string bytes = ReadAll(archived->front().path);
  bytes[4096] ^= 0x01;
  std::ofstream(archived->front().path, std::ios::binary | std::ios::trunc)
      << bytes;
  const VerifyReport changed = Verify(true, archive.archive_dir);
  EXPECT_FALSE(changed.intact());
  EXPECT_EQ(changed.problem(), VerifyReport::CORRUPT);
  EXPECT_THAT(changed.detail(), HasSubstr("was changed"));
  std::filesystem::remove(options_.journal_dir + "/ARCHIVED");
  const VerifyReport unanchored = Verify();
  EXPECT_FALSE(unanchored.intact());
  EXPECT_EQ(unanchored.problem(), VerifyReport::DELETED);
  EXPECT_EQ(unanchored.first_bad_sequence(), 1u);
}

// Archived without --index, the index keeps rows of records no longer in
// the journal: a query passes over them to the records that are.
TEST_F(OperatorTest, AVerifyThatAnArchivingOvertakesStillReadsIntact) {
  const absl::Time old = absl::Now() - absl::Hours(24 * 400);
  Run(6000, old);  // 1 MiB segments: ~3 sealed with old records
  const uint64_t all = Verify().records_checked();
  VerifyOptions verify;
  verify.key = &key_->public_key();
  verify.key_pinned = true;
  verify.anchor_file = options_.anchor_file;
  // While verify reads the first segment, `lienthong audit archive` moves
  // the old ones away, as an operator's cron job could.
  int archived = 0;
  verify.progress = [&](const ReadProgress&) {
    if (archived++ > 0) return;
    auto moved = ArchiveSegments(Archiving());
    ASSERT_THAT(moved, IsOk());
    ASSERT_GE(moved->segments.size(), 2u);
  };
  auto report = VerifyJournal(options_.journal_dir, verify);
  ASSERT_THAT(report, IsOk());
  EXPECT_GT(archived, 0);
  EXPECT_TRUE(report->intact()) << report->detail();
  // What a verify after the archiving reads: the records still live, from
  // the archive's signed head.
  const VerifyReport after = Verify();
  EXPECT_TRUE(after.intact()) << after.detail();
  EXPECT_GT(after.records_checked(), 0u);
  EXPECT_EQ(report->records_checked(), after.records_checked());
  // And with the archive folder, the whole history.
  EXPECT_GT(all, 6000u);
  EXPECT_EQ(Verify(true, dir_.File("archive")).records_checked(), all);
}

TEST_F(OperatorTest, AQueryPassesOverRowsOfArchivedRecords) {
  Run(6000, absl::Now() - absl::Hours(24 * 400));
  {
    auto log = AuditLog::Open(options_);
    ASSERT_THAT(log, IsOk());
    lienthong::v1::QueryAuditRequest all;
    all.set_page_size(1);
    ASSERT_THAT(QueryAudit((*log)->index(), all, (*log)->citizen_key()),
                IsOk());  // indexed up to the end
  }
  auto archived = ArchiveSegments(Archiving());  // no index_path
  ASSERT_THAT(archived, IsOk());
  ASSERT_GE(archived->segments.size(), 2u);
  auto log = AuditLog::Open(options_);
  ASSERT_THAT(log, IsOk());
  lienthong::v1::QueryAuditRequest request;
  request.set_page_size(100);
  auto page = QueryAudit((*log)->index(), request, (*log)->citizen_key());
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 100u);
  EXPECT_EQ(page->front().sequence(), archived->last_sequence + 1);
  EXPECT_EQ(page->back().sequence(), archived->last_sequence + 100);
}

// A live segment removed (not archived) before the indexer reached it: its
// records are counted as missing, and the rest is still indexed. Archived
// segments are not missing.
TEST_F(OperatorTest, RecordsOfARemovedSegmentAreCountedMissingNotSkipped) {
  Run(6000, absl::Now() - absl::Hours(24 * 400));  // archived below
  Run(9000);
  auto segments = ListSegments(options_.journal_dir);
  ASSERT_THAT(segments, IsOk());
  ASSERT_GE(segments->size(), 4u);
  uint64_t last = 0;
  EXPECT_EQ(ReindexMissing("whole.db", &last), 0);
  const uint64_t all = last;
  ASSERT_GT(all, 15000u);

  auto archived = ArchiveSegments(Archiving());
  ASSERT_THAT(archived, IsOk());
  ASSERT_GE(archived->segments.size(), 1u);
  EXPECT_EQ(ReindexMissing("after-archive.db", &last), 0);
  EXPECT_EQ(last, all);

  segments = ListSegments(options_.journal_dir);
  ASSERT_THAT(segments, IsOk());
  ASSERT_GE(segments->size(), 3u);
  auto records_in = [](const std::vector<Entry>& entries) {
    uint64_t n = 0;
    for (const Entry& e : entries) n += !e.is_checkpoint;
    return n;
  };
  const uint64_t before = records_in(ReadEntries(options_.journal_dir));
  std::filesystem::remove((*segments)[1].path);
  const uint64_t removed =
      before - records_in(ReadEntries(options_.journal_dir));
  ASSERT_GT(removed, 0u);
  EXPECT_EQ(ReindexMissing("after-removal.db", &last),
            static_cast<int64_t>(removed));
  EXPECT_EQ(last, all);
}

// Two journals given one archive folder: the second's first archive would
// have the first's number; the first's archive is left as it is and the
// second archives nothing. A journal's own unfinished archive is replaced.
TEST_F(OperatorTest,
       AnotherJournalsArchiveIsNeverReplacedAnOwnUnfinishedOneIs) {
  const absl::Time old = absl::Now() - absl::Hours(24 * 400);
  Run(6000, old);
  ArchiveOptions archive = Archiving();
  auto first = ArchiveSegments(archive);
  ASSERT_THAT(first, IsOk());
  ASSERT_EQ(first->archive, 1u);
  const std::string manifest = ReadAll(first->folder + "/MANIFEST.json");
  ASSERT_FALSE(manifest.empty());

  ScratchDir other_dir;
  const AuditLog::Options other = TestOptions(other_dir);
  {
    auto log = AuditLog::Open(other);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT(AppendMany(**log, 1, 6000, old), IsOk());
    ASSERT_THAT((*log)->Close(), IsOk());
  }
  auto other_key = SigningKey::FromPemFile(other.signing_key_file);
  ASSERT_THAT(other_key, IsOk());
  ArchiveOptions second = archive;
  second.journal_dir = other.journal_dir;
  second.key = &*other_key;
  EXPECT_THAT(ArchiveSegments(second),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not an unfinished archive of this journal")));
  EXPECT_EQ(ReadAll(first->folder + "/MANIFEST.json"), manifest);
  auto still = ListSegments(other.journal_dir);
  ASSERT_THAT(still, IsOk());
  EXPECT_GE(still->size(), 3u);  // nothing left the second journal

  // This journal's own unfinished archive (a run that stopped between its
  // rename and its anchor) is made again.
  Run(3000, old + absl::Hours(1));
  const std::string unfinished = archive.archive_dir + "/000002";
  std::filesystem::create_directories(unfinished);
  std::filesystem::copy_file(first->folder + "/MANIFEST.json",
                             unfinished + "/MANIFEST.json");
  auto again = ArchiveSegments(archive);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->archive, 2u);
  const VerifyReport whole = Verify(true, archive.archive_dir);
  EXPECT_TRUE(whole.intact()) << whole.DebugString();
  EXPECT_EQ(whole.archives_checked(), 2u);
}

// A journal whose segments are all gone (removed, or lost with a disk)
// does not begin again at record 1 as if new while the anchor file or the
// archive anchors say it held records: it opens not ready, saying so.
TEST_F(OperatorTest, AJournalEmptiedOfItsSegmentsDoesNotBeginAgain) {
  const absl::Time old = absl::Now() - absl::Hours(24 * 400);
  Run(6000, old);
  auto RemoveSegments = [this] {
    auto segments = ListSegments(options_.journal_dir);
    ASSERT_THAT(segments, IsOk());
    for (const SegmentFile& file : *segments) {
      std::filesystem::remove(file.path);
    }
  };
  auto ReasonOnOpen = [this]() -> std::string {
    auto log = AuditLog::Open(options_);
    EXPECT_THAT(log, IsOk());
    if (!log.ok()) return "";
    return (*log)->ready() ? "ready"
                           : std::string((*log)->Readiness().message());
  };
  ScratchDir copy_dir;
  const std::string saved = copy_dir.File("journal");
  std::filesystem::copy(options_.journal_dir, saved);
  RemoveSegments();
  EXPECT_THAT(ReasonOnOpen(),
              HasSubstr("the journal holds nothing, but the anchor file holds "
                        "checkpoint #"));
  // The operator's way on: a new epoch acknowledging it.
  ASSERT_THAT(OpenNewEpoch(Epoch()), IsOk());
  EXPECT_EQ(ReasonOnOpen(), "ready");
  // Archived, then the live segments gone: the archive anchors say so even
  // without the anchor file.
  std::filesystem::remove_all(options_.journal_dir);
  std::filesystem::copy(saved, options_.journal_dir);
  ArchiveOptions archive = Archiving();
  ASSERT_THAT(ArchiveSegments(archive), IsOk());
  RemoveSegments();
  std::filesystem::remove(options_.anchor_file);
  EXPECT_THAT(ReasonOnOpen(), HasSubstr("the journal holds nothing after "
                                        "archive 1"));
  // A journal meant to begin anew (its folder and anchor file cleared).
  std::filesystem::remove_all(options_.journal_dir);
  EXPECT_EQ(ReasonOnOpen(), "ready");
}

TEST_F(OperatorTest, AJournalEmptiedAfterArchivingGoesOnInANewEpoch) {
  Run(6000, absl::Now() - absl::Hours(24 * 400));
  ArchiveOptions archive = Archiving();
  auto archived = ArchiveSegments(archive);
  ASSERT_THAT(archived, IsOk());
  ASSERT_EQ(archived->archive, 1u);
  auto anchors = ReadArchiveAnchors(options_.journal_dir);
  ASSERT_THAT(anchors, IsOk());
  ASSERT_EQ(anchors->size(), 1u);
  const uint64_t last_archived = anchors->back().manifest().last_segment();
  const uint64_t last_sequence = anchors->back().manifest().last_sequence();
  auto segments = ListSegments(options_.journal_dir);
  ASSERT_THAT(segments, IsOk());
  for (const SegmentFile& file : *segments) std::filesystem::remove(file.path);
  {
    auto log = AuditLog::Open(options_);  // as a gateway started on it
    ASSERT_THAT(log, IsOk());
    EXPECT_FALSE((*log)->ready());
  }
  const VerifyReport broken = Verify();
  EXPECT_FALSE(broken.intact());
  EXPECT_EQ(broken.problem(), VerifyReport::TRUNCATED);
  EXPECT_EQ(broken.first_bad_sequence(), last_sequence + 1);

  auto opened = OpenNewEpoch(Epoch());
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(opened->sequence, last_sequence + 1);
  EXPECT_EQ(opened->epoch_break.first_bad_sequence(), last_sequence + 1);
  Run(10);
  // The live journal goes on after the archived segments, so verify and the
  // next archiving run do not take its segments for archived ones.
  segments = ListSegments(options_.journal_dir);
  ASSERT_THAT(segments, IsOk());
  ASSERT_FALSE(segments->empty());
  EXPECT_GT(segments->front().number, last_archived);
  uint64_t head = 0;
  for (const std::string& archives : {std::string(), archive.archive_dir}) {
    const VerifyReport report = Verify(true, archives);
    head = report.last_sequence();
    EXPECT_TRUE(report.intact()) << report.DebugString();
    ASSERT_EQ(report.acknowledged_breaks_size(), 1);
    EXPECT_EQ(report.acknowledged_breaks(0).problem(), VerifyReport::TRUNCATED);
  }
  archive.cutoff = absl::Now() + absl::Hours(1);
  ASSERT_THAT(ArchiveSegments(archive), IsOk());
  const VerifyReport after = Verify(true, archive.archive_dir);
  EXPECT_TRUE(after.intact()) << after.DebugString();
  EXPECT_GT(head, last_sequence + 10);  // the epoch's record and Run's
  EXPECT_EQ(after.last_sequence(), head);
}

// The anchor's signature covers its manifest's digest; the manifest beside
// it says where the archives end, where verification without them starts
// and up to which segment the next archiving removes. Edited to end at a
// later seal, the live segments up to it deleted, it is caught, and
// archiving removes nothing; so is any other change, and one whose digest
// was made to match is not signed.
TEST_F(OperatorTest, AnEditedArchiveAnchorHeadIsCaught) {
  const absl::Time old = absl::Now() - absl::Hours(24 * 400);
  Run(6000, old);
  ArchiveOptions archive = Archiving();
  ASSERT_THAT(ArchiveSegments(archive), IsOk());
  Run(3000, old + absl::Hours(1));
  const std::string archived = options_.journal_dir + "/ARCHIVED";
  const std::string genuine = ReadAll(archived);
  ASSERT_FALSE(genuine.empty());
  const AuditArchiveAnchor anchor =
      ParseAnchor(genuine.substr(0, genuine.find('\n')));
  auto Rewrite = [&](const AuditArchiveAnchor& edited) {
    std::ofstream(archived, std::ios::binary | std::ios::trunc)
        << Json(edited) << "\n";
  };

  const std::vector<std::function<void(AuditArchiveManifest&)>> edits = {
      [](AuditArchiveManifest& m) {
        m.set_last_sequence(m.last_sequence() + 1);
      },
      [](AuditArchiveManifest& m) { m.set_last_hash(std::string(64, 'a')); },
      [](AuditArchiveManifest& m) { m.set_last_segment(m.last_segment() + 1); },
      [](AuditArchiveManifest& m) {
        m.set_last_checkpoint_index(m.last_checkpoint_index() + 1);
      },
      [](AuditArchiveManifest& m) { m.set_epoch(m.epoch() + 1); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    AuditArchiveAnchor edited = anchor;
    edits[i](*edited.mutable_manifest());
    Rewrite(edited);
    EXPECT_THAT(ReadArchiveAnchors(options_.journal_dir),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("archive anchor 1: its manifest does not "
                                   "match its signed digest")))
        << i;
  }
  std::ofstream(archived, std::ios::binary | std::ios::trunc) << genuine;
  ASSERT_THAT(ReadArchiveAnchors(options_.journal_dir), IsOk());

  // The head at the end of the second live segment: its last record and
  // its seal.
  auto segments = ListSegments(options_.journal_dir);
  ASSERT_THAT(segments, IsOk());
  ASSERT_GE(segments->size(), 3u);
  const uint64_t target = (*segments)[1].number;
  AuditRecord last;
  AuditCheckpoint seal;
  ASSERT_THAT(ReadJournal(options_.journal_dir, {target, 0}, {target, 0},
                          [&](const JournalPosition&, const Frame& frame) {
                            const int size =
                                static_cast<int>(frame.payload.size());
                            if (frame.type == FrameType::kRecord) {
                              last.ParseFromArray(frame.payload.data(), size);
                            } else {
                              seal.ParseFromArray(frame.payload.data(), size);
                            }
                            return true;
                          }),
              IsOk());
  ASSERT_EQ(seal.reason(), AuditCheckpoint::SEGMENT_SEALED);
  AuditArchiveAnchor forged = anchor;
  AuditArchiveManifest& m = *forged.mutable_manifest();
  m.set_last_segment(target);
  m.set_last_sequence(last.sequence());
  m.set_last_hash(last.hash());
  m.set_last_checkpoint_index(seal.index());
  m.set_last_checkpoint_hash(seal.checkpoint_hash());
  m.set_last_checkpoint_sequence(seal.sequence());
  m.set_last_checkpoint_every(seal.checkpoint_every());
  m.set_epoch(seal.epoch());
  *m.mutable_last_time() = last.time();
  for (const SegmentFile& file : *segments) {
    if (file.number <= target) std::filesystem::remove(file.path);
  }
  auto left = ListSegments(options_.journal_dir);
  ASSERT_THAT(left, IsOk());
  auto ExpectCaught = [&](const std::string& why,
                          absl::StatusCode archive_code) {
    for (bool anchors : {true, false}) {
      const VerifyReport report = Verify(anchors);
      EXPECT_FALSE(report.intact()) << report.DebugString();
      EXPECT_EQ(report.problem(), VerifyReport::BAD_SIGNATURE);
      EXPECT_THAT(report.detail(), HasSubstr(why));
    }
    EXPECT_THAT(ArchiveSegments(archive),
                StatusIs(archive_code, HasSubstr(why)));
    auto now = ListSegments(options_.journal_dir);
    ASSERT_THAT(now, IsOk());
    EXPECT_EQ(now->size(), left->size());  // nothing removed
  };
  Rewrite(forged);
  ExpectCaught("its manifest does not match its signed digest",
               absl::StatusCode::kInvalidArgument);
  // The digest made to match the edited manifest: the signature fails.
  forged.set_manifest_sha256(Sha256Hex(Json(forged.manifest())));
  Rewrite(forged);
  ExpectCaught("does not verify", absl::StatusCode::kFailedPrecondition);
}

// Archiving keeps the last sealed segment: a gateway that crashes before
// the live segment's first checkpoint (here, none is due) restarts from
// its seal, ready.
TEST_F(OperatorTest, AGatewayThatCrashesAfterArchivingStartsReady) {
  options_.checkpoint_every = 1000000;
  auto log = AuditLog::Open(options_);
  ASSERT_THAT(log, IsOk());
  ASSERT_TRUE((*log)->ready()) << (*log)->Readiness();
  // 1 MiB segments: three sealed, records only in the fourth.
  ASSERT_THAT(AppendMany(**log, 1, 6000, absl::Now() - absl::Hours(24 * 400)),
              IsOk());
  auto archived = ArchiveSegments(Archiving());
  ASSERT_THAT(archived, IsOk());
  ASSERT_GT(archived->archive, 0u);
  // The crash: the journal and the anchors as they are while the log runs.
  ScratchDir crash_dir;
  AuditLog::Options crashed = options_;
  crashed.path = crash_dir.File("audit.db");
  crashed.journal_dir = crash_dir.File("audit-journal");
  crashed.anchor_file = crash_dir.File("anchors.jsonl");
  std::filesystem::copy(options_.journal_dir, crashed.journal_dir);
  std::filesystem::copy_file(options_.anchor_file, crashed.anchor_file);
  ASSERT_THAT((*log)->Close(), IsOk());
  log->reset();

  auto restarted = AuditLog::Open(crashed);
  ASSERT_THAT(restarted, IsOk());
  EXPECT_TRUE((*restarted)->ready()) << (*restarted)->Readiness();
}

// An anchor line that a failed write left unfinished (a full disk; zeros
// after it) is cut before the next archive's anchor is appended, so that
// ARCHIVED stays readable line by line.
TEST_F(OperatorTest, AnUnfinishedArchiveAnchorLineIsCutBeforeTheNext) {
  const absl::Time old = absl::Now() - absl::Hours(24 * 400);
  Run(6000, old);
  ArchiveOptions archive = Archiving();
  ASSERT_THAT(ArchiveSegments(archive), IsOk());
  std::ofstream(options_.journal_dir + "/ARCHIVED",
                std::ios::app | std::ios::binary)
      << "{\"manifest\":{\"archive\":\"2\"," << std::string(7, '\0');
  Run(3000, old + absl::Hours(1));
  auto second = ArchiveSegments(archive);
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->archive, 2u);
  auto anchors = ReadArchiveAnchors(options_.journal_dir);
  ASSERT_THAT(anchors, IsOk());
  EXPECT_EQ(anchors->size(), 2u);
  const VerifyReport whole = Verify(true, archive.archive_dir);
  EXPECT_TRUE(whole.intact()) << whole.DebugString();
  EXPECT_EQ(whole.archives_checked(), 2u);
}

TEST_F(OperatorTest, NothingRecentIsArchived) {
  Run(6000);  // records of now
  ArchiveOptions archive = Archiving(absl::Hours(24));
  auto result = ArchiveSegments(archive);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->archive, 0u);
  EXPECT_TRUE(Verify().intact());
}

// Must show: an archive file swapped for one that never ends (/dev/zero)
// is read only up to what its format allows: a segment up to its size in
// the signed manifest, a manifest up to kMaxManifestBytes, ARCHIVED up to
// kMaxArchiveAnchorLineBytes a line; each is named, and the genuine files
// still verify.
TEST_F(OperatorTest, ArchiveFilesThatNeverEndAreReadOnlyToTheirLimits) {
  Run(6000, absl::Now() - absl::Hours(24 * 400));
  ArchiveOptions archive = Archiving();
  auto first = ArchiveSegments(archive);
  ASSERT_THAT(first, IsOk());
  ASSERT_FALSE(first->segments.empty());
  EXPECT_TRUE(Verify(true, archive.archive_dir).intact());
  // Swaps `path` for /dev/zero, calls `check`, and puts it back.
  auto swapped = [](const std::string& path,
                    const std::function<void()>& check) {
    std::filesystem::rename(path, path + ".kept");
    std::filesystem::create_symlink("/dev/zero", path);
    check();
    std::filesystem::remove(path);
    std::filesystem::rename(path + ".kept", path);
  };
  const std::string segment =
      absl::StrCat(first->folder, "/", first->segments.front());
  swapped(segment, [&] {
    const VerifyReport report = Verify(true, archive.archive_dir);
    EXPECT_EQ(report.problem(), VerifyReport::CORRUPT) << report.detail();
    EXPECT_THAT(report.detail(), HasSubstr(absl::StrCat(
                                     first->segments.front(), " was changed: '",
                                     segment, "' is longer than")));
  });
  const std::string manifest = first->folder + "/MANIFEST.json";
  swapped(manifest, [&] {
    const VerifyReport report = Verify(true, archive.archive_dir);
    EXPECT_EQ(report.problem(), VerifyReport::CORRUPT) << report.detail();
    EXPECT_THAT(report.detail(),
                HasSubstr(absl::StrCat("'", manifest, "' is larger than ",
                                       kMaxManifestBytes, " bytes")));
  });
  const std::string anchors = options_.journal_dir + "/ARCHIVED";
  swapped(anchors, [&] {
    const std::string refused = absl::StrCat(
        "archive anchors file '", anchors, "' line 1 is longer than ",
        kMaxArchiveAnchorLineBytes, " bytes");
    EXPECT_THAT(
        ReadArchiveAnchors(options_.journal_dir),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(refused)));
    const VerifyReport report = Verify();
    EXPECT_EQ(report.problem(), VerifyReport::BAD_SIGNATURE) << report.detail();
    EXPECT_THAT(report.detail(), HasSubstr(refused));
  });
  EXPECT_TRUE(Verify(true, archive.archive_dir).intact());
}

// Must show: an archive run never writes a manifest its readers refuse: it
// takes the oldest segments whose listing fits the manifest limit, says
// that more wait, and the next runs take the rest, each archive verifying.
// (The limit is lowered to the size one run over all of them would write:
// the 64 MiB default holds over 500,000 segments.)
TEST_F(OperatorTest, AnArchiveTakesWhatItsManifestHoldsAndLeavesTheRest) {
  Run(9000, absl::Now() - absl::Hours(24 * 400));  // several old segments
  // One run without the lower limit, on a copy: what it takes and writes.
  ScratchDir copy_dir;
  ArchiveOptions whole = Archiving();
  whole.journal_dir = copy_dir.File("journal");
  whole.archive_dir = copy_dir.File("archive");
  std::filesystem::copy(options_.journal_dir, whole.journal_dir);
  auto all = ArchiveSegments(whole);
  ASSERT_THAT(all, IsOk());
  ASSERT_GE(all->segments.size(), 2u);
  EXPECT_FALSE(all->more_to_archive);
  const uint64_t whole_manifest =
      std::filesystem::file_size(all->folder + "/MANIFEST.json");

  ArchiveOptions archive = Archiving();
  archive.max_manifest_bytes = whole_manifest - 1;
  std::vector<ArchiveResult> runs;
  std::vector<std::string> archived;
  for (int i = 0; i < 20; ++i) {
    auto run = ArchiveSegments(archive);
    ASSERT_THAT(run, IsOk());
    if (run->archive == 0) break;
    EXPECT_LE(std::filesystem::file_size(run->folder + "/MANIFEST.json"),
              archive.max_manifest_bytes);
    archived.insert(archived.end(), run->segments.begin(), run->segments.end());
    runs.push_back(*std::move(run));
  }
  ASSERT_GE(runs.size(), 2u);
  EXPECT_LT(runs.front().segments.size(), all->segments.size());
  EXPECT_TRUE(runs.front().more_to_archive);
  EXPECT_FALSE(runs.back().more_to_archive);
  // Each segment once, oldest first, none left behind.
  EXPECT_EQ(archived, all->segments);
  const VerifyReport report = Verify(true, archive.archive_dir);
  EXPECT_TRUE(report.intact()) << report.DebugString();
  EXPECT_EQ(report.archives_checked(), runs.size());
  EXPECT_TRUE(Verify().intact());  // from the last anchor, without them
}

TEST_F(OperatorTest, AManifestLimitOverTheReadersOrUnderOneSegmentIsRefused) {
  Run(6000, absl::Now() - absl::Hours(24 * 400));
  ArchiveOptions archive = Archiving();
  archive.max_manifest_bytes = kMaxManifestBytes + 1;
  EXPECT_THAT(ArchiveSegments(archive),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat("manifest is at most ",
                                              kMaxManifestBytes, " bytes"))));
  archive.max_manifest_bytes = 200;  // less than the fields besides segments
  EXPECT_THAT(ArchiveSegments(archive),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("of at most 200 bytes cannot list even one "
                                 "segment")));
  // Nothing was archived.
  EXPECT_FALSE(std::filesystem::exists(archive.archive_dir));
  auto anchors = ReadArchiveAnchors(options_.journal_dir);
  ASSERT_THAT(anchors, IsOk());
  EXPECT_TRUE(anchors->empty());
  EXPECT_TRUE(Verify().intact());
}

// Must show: a manifest entry's size bounds the read of its segment and is
// held to the file, whatever it says: 0 (less than a segment's header) is a
// malformed entry, not "no bound"; a file longer or shorter than its entry
// is named, with the sizes; a name that is not a segment's, or a segment
// file the manifest does not list, is refused before anything reads it.
// The manifests are checked as CheckArchives sees a signed one.
TEST_F(OperatorTest, AManifestEntrysSizeBoundsAndChecksItsSegment) {
  Run(6000, absl::Now() - absl::Hours(24 * 400));
  ArchiveOptions archive = Archiving();
  auto first = ArchiveSegments(archive);
  ASSERT_THAT(first, IsOk());
  auto anchors = ReadArchiveAnchors(options_.journal_dir);
  ASSERT_THAT(anchors, IsOk());
  ASSERT_EQ(anchors->size(), 1u);
  const AuditArchiveAnchor genuine = anchors->front();
  ASSERT_GE(genuine.manifest().segments_size(), 1);
  const std::string name = genuine.manifest().segments(0).name();
  const uint64_t bytes = genuine.manifest().segments(0).bytes();
  const std::string segment = absl::StrCat(first->folder, "/", name);
  const std::string manifest_path = first->folder + "/MANIFEST.json";
  const std::string kept_manifest = ReadAll(manifest_path);
  const std::string kept_segment = ReadAll(segment);
  ASSERT_EQ(kept_segment.size(), bytes);

  // Puts `manifest` in place, its digest in the anchor, and returns the
  // problem CheckArchives finds ("" for none).
  auto Problem = [&](const AuditArchiveManifest& manifest) -> std::string {
    const std::string json = Json(manifest);
    std::ofstream(manifest_path, std::ios::binary | std::ios::trunc) << json;
    AuditArchiveAnchor anchor = genuine;
    *anchor.mutable_manifest() = manifest;
    anchor.set_manifest_sha256(Sha256Hex(json));
    auto check = CheckArchives(archive.archive_dir,
                               std::vector<AuditArchiveAnchor>{anchor});
    EXPECT_THAT(check, IsOk());
    return check.ok() ? check->problem : "(failed)";
  };
  EXPECT_EQ(Problem(genuine.manifest()), "");

  AuditArchiveManifest zero = genuine.manifest();
  zero.mutable_segments(0)->set_bytes(0);
  EXPECT_THAT(Problem(zero),
              HasSubstr(absl::StrCat("its manifest's entry for ", name,
                                     " says 0 bytes, less than a segment's "
                                     "header")));
  AuditArchiveManifest header_less = genuine.manifest();
  header_less.mutable_segments(0)->set_bytes(kSegmentHeaderSize - 1);
  EXPECT_THAT(Problem(header_less),
              HasSubstr(absl::StrCat("entry for ", name, " says ",
                                     kSegmentHeaderSize - 1, " bytes")));
  AuditArchiveManifest escaping = genuine.manifest();
  escaping.mutable_segments(0)->set_name("../" + name);
  EXPECT_THAT(Problem(escaping),
              HasSubstr("lists an entry that is not a segment file"));

  // The genuine manifest; the file one byte longer, then one shorter.
  std::ofstream(segment, std::ios::binary | std::ios::app) << '\0';
  EXPECT_THAT(Problem(genuine.manifest()),
              HasSubstr(absl::StrCat(name, " was changed: '", segment,
                                     "' is longer than ", bytes, " bytes")));
  std::ofstream(segment, std::ios::binary | std::ios::trunc)
      << kept_segment.substr(0, kept_segment.size() - 1);
  EXPECT_THAT(Problem(genuine.manifest()),
              HasSubstr(absl::StrCat(name, " was changed: it holds ", bytes - 1,
                                     " bytes, its manifest says ", bytes)));
  std::ofstream(segment, std::ios::binary | std::ios::trunc) << kept_segment;
  EXPECT_EQ(Problem(genuine.manifest()), "");

  // A segment file the manifest does not list, beside those it does.
  const std::string stray_name =
      SegmentFileName(genuine.manifest().last_segment() + 1000);
  const std::string stray = absl::StrCat(first->folder, "/", stray_name);
  std::filesystem::copy_file(segment, stray);
  EXPECT_THAT(Problem(genuine.manifest()),
              HasSubstr(absl::StrCat("it holds ", stray_name,
                                     ", which its manifest does not list")));
  std::ofstream(manifest_path, std::ios::binary | std::ios::trunc)
      << kept_manifest;
  const VerifyReport report = Verify(true, archive.archive_dir);
  EXPECT_EQ(report.problem(), VerifyReport::CORRUPT) << report.DebugString();
  EXPECT_THAT(report.detail(), HasSubstr(stray_name));
  std::filesystem::remove(stray);
  const VerifyReport restored = Verify(true, archive.archive_dir);
  EXPECT_TRUE(restored.intact()) << restored.DebugString();
}

}  // namespace
}  // namespace lienthong::audit
