// Offline verification of export files (VerifyExportFile). Tampering with
// the journal itself is in tamper_test.cc.
#include "gateway/audit/verify.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/anchor.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/query.h"
#include "gateway/audit/record.h"
#include "gateway/audit/signing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::ReadEntries;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Offline verification of exports.

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path,
                const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : lines) out << line << "\n";
}

// Returns the index of the record line for `sequence`.
size_t RecordLine(const std::vector<std::string>& lines, uint64_t sequence) {
  const std::string needle = absl::StrCat("\"sequence\":\"", sequence, "\"");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!IsCheckpointLine(lines[i]) &&
        lines[i].find(needle) != std::string::npos) {
      return i;
    }
  }
  ADD_FAILURE() << "no record line " << sequence;
  return 0;
}

size_t CheckpointLine(const std::vector<std::string>& lines,
                      uint64_t sequence) {
  const std::string needle = absl::StrCat("\"sequence\":\"", sequence, "\"");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (IsCheckpointLine(lines[i]) &&
        lines[i].find(needle) != std::string::npos) {
      return i;
    }
  }
  ADD_FAILURE() << "no checkpoint line " << sequence;
  return 0;
}

class ExportTest : public ::testing::Test {
 protected:
  // Records 1 (LOG_OPENED) to 5301; checkpoints when opened, every 1000,
  // at each segment's end and at the clean stop.
  static constexpr uint64_t kExported = 5301;

  void SetUp() override {
    AuditLog::Options options = TestOptions(dir_);
    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    ASSERT_THAT(AppendMany(*log_, 1, kExported - 1), IsOk());
    ASSERT_THAT(log_->Close(), IsOk());
    for (const auto& e : ReadEntries(options.journal_dir)) {
      checkpoints_ += e.is_checkpoint;
    }
    path_ = dir_.File("export.jsonl");
    ASSERT_THAT(ExportToFile(options.journal_dir, absl::InfinitePast(), path_),
                IsOk());
    lines_ = ReadLines(path_);
    options_.key = &log_->public_key();
  }

  VerifyReport VerifyLines(const std::vector<std::string>& lines) {
    const std::string path = dir_.File("tampered.jsonl");
    WriteLines(path, lines);
    auto report = VerifyExportFile(path, options_);
    EXPECT_THAT(report, IsOk());
    return report.ok() ? *report : VerifyReport();
  }

  uint64_t checkpoints_ = 0;
  VerifyOptions options_;

  ScratchDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::string path_;
  std::vector<std::string> lines_;
};

TEST_F(ExportTest, WholeExportVerifiesOffline) {
  ASSERT_EQ(lines_.size(), kExported + checkpoints_);
  ASSERT_GE(checkpoints_, 7u);
  for (size_t i = 0; i < checkpoints_; ++i) {
    EXPECT_TRUE(IsCheckpointLine(lines_[i]));
  }
  auto report = VerifyExportFile(path_, options_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_EQ(report->records_checked(), kExported);
  EXPECT_EQ(report->checkpoints_checked(), checkpoints_);
  EXPECT_EQ(report->last_checkpoint_sequence(), kExported);
}

// A damaged frame hides the rest of its segment from the reader: the export
// is refused, naming the place, and no file is left that would read as
// whole (before, the export left those records out and succeeded).
TEST_F(ExportTest, AnExportOfADamagedJournalIsRefusedAndLeavesNoFile) {
  const std::string& journal = log_->options().journal_dir;
  std::string needle;
  for (const auto& e : ReadEntries(journal)) {
    if (!e.is_checkpoint && e.record.sequence() == 200) {
      needle = e.record.request_sha256();
    }
  }
  ASSERT_FALSE(needle.empty());
  ASSERT_EQ(testutil::FlipBitAfter(journal, needle, 3, 0x04), 1);
  const std::string path = dir_.File("damaged.jsonl");
  EXPECT_THAT(ExportToFile(journal, absl::InfinitePast(), path),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("damaged in segment 1 at byte"),
                             HasSubstr("lienthong audit verify --journal"))));
  EXPECT_FALSE(std::ifstream(path).good());
  EXPECT_FALSE(std::ifstream(path + ".partial").good());
}

// What a progress display sees of one verification.
struct ProgressSeen {
  std::vector<VerifyProgress> reports;
  std::function<void(const VerifyProgress&)> Hook() {
    return [this](const VerifyProgress& p) { reports.push_back(p); };
  }
  // Done never goes back, the total never changes, and records only grow.
  void ExpectSteady() const {
    for (size_t i = 1; i < reports.size(); ++i) {
      EXPECT_GE(reports[i].done, reports[i - 1].done) << i;
      EXPECT_EQ(reports[i].total, reports[0].total) << i;
      EXPECT_GE(reports[i].records, reports[i - 1].records) << i;
    }
  }
};

TEST_F(ExportTest, VerifyAndExportReportTheirProgressUntilTheWholeIsRead) {
  const std::string& journal = log_->options().journal_dir;
  auto segments = ListSegments(journal);
  ASSERT_THAT(segments, IsOk());
  ASSERT_GE(segments->size(), 3u);

  // A journal: each segment once for the checkpoints, once for the records.
  ProgressSeen seen;
  VerifyOptions options = options_;
  options.progress = seen.Hook();
  auto report = VerifyJournal(journal, options);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact());
  ASSERT_EQ(seen.reports.size(), 2 * segments->size());
  seen.ExpectSteady();
  EXPECT_EQ(seen.reports.front().done, 1u);
  EXPECT_EQ(seen.reports.front().records, 0u);  // checkpoints first
  EXPECT_EQ(seen.reports.back().done, 2 * segments->size());
  EXPECT_EQ(seen.reports.back().total, 2 * segments->size());
  EXPECT_EQ(seen.reports.back().records, kExported);

  // An export file: in bytes, read twice.
  ProgressSeen file;
  options.progress = file.Hook();
  report = VerifyExportFile(path_, options);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact());
  ASSERT_GE(file.reports.size(), 2u);
  file.ExpectSteady();
  const uint64_t size = std::filesystem::file_size(path_);
  EXPECT_EQ(file.reports.back().done, 2 * size);
  EXPECT_EQ(file.reports.back().total, 2 * size);
  EXPECT_EQ(file.reports.back().records, kExported);  // not the checkpoints

  // Exporting reads the journal twice too: where to start, then the records.
  ProgressSeen exporting;
  ASSERT_THAT(ExportToFile(journal, absl::InfinitePast(),
                           dir_.File("again.jsonl"), exporting.Hook()),
              IsOk());
  ASSERT_EQ(exporting.reports.size(), 2 * segments->size());
  exporting.ExpectSteady();
  EXPECT_EQ(exporting.reports.back().done, 2 * segments->size());
  EXPECT_EQ(exporting.reports.back().total, 2 * segments->size());
  EXPECT_EQ(exporting.reports.back().records, kExported);
}

// A gateway keeps appending while it exports (the help says it may run):
// the export ends at the last record its first pass saw, whose checkpoints
// it holds, and verifies intact. Records appended between its two passes,
// without their checkpoints, failed the cadence check.
TEST(LiveExportTest, AnExportWhileRecordsAreAppendedVerifies) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);
  options.checkpoint_every = 10;
  auto opened = AuditLog::Open(options);
  ASSERT_THAT(opened, IsOk());
  std::unique_ptr<AuditLog> log = *std::move(opened);
  ASSERT_THAT(AppendMany(*log, 1, 40), IsOk());
  std::vector<std::string> lines;
  bool appended = false;
  ASSERT_THAT(Export(options.journal_dir, absl::InfinitePast(),
                     [&](absl::string_view line) -> absl::Status {
                       if (!appended) {
                         appended = true;
                         absl::Status more = AppendMany(*log, 41, 25);
                         if (!more.ok()) return more;
                       }
                       lines.emplace_back(line);
                       return absl::OkStatus();
                     }),
              IsOk());
  ASSERT_TRUE(appended);
  const std::string path = dir.File("live.jsonl");
  WriteLines(path, lines);
  VerifyOptions verify;
  verify.key = &log->public_key();
  auto report = VerifyExportFile(path, verify);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_GE(report->records_checked(), 40u);
  ASSERT_THAT(log->Close(), IsOk());
}

TEST_F(ExportTest, ExportSinceATimeVerifiesOnItsOwn) {
  auto from = ParseExportLine(lines_[RecordLine(lines_, 2500)]);
  ASSERT_THAT(from, IsOk());
  // Records are appended in order, so times only grow; start at 2500's.
  const std::string path = dir_.File("since.jsonl");
  ASSERT_THAT(ExportToFile(log_->options().journal_dir,
                           FromProtoTime(from->record.time()), path),
              IsOk());
  auto report = VerifyExportFile(path, options_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  // Records with the same time as 2500 may come just before it.
  EXPECT_GE(report->records_checked(), kExported - 2500 + 1);
  EXPECT_LT(report->records_checked(), kExported);
  EXPECT_GE(report->checkpoints_checked(), 4u);  // 3000, 4000, 5000, 5301...
}

// Must show: a partial export holds every checkpoint from its first record
// on (query.h), and the anchor file holds them too. Stripped of them, with
// the records after its first rewritten and re-hashed, it would read as a
// partial export not yet signed; the anchors name the first one missing.
TEST_F(ExportTest, AnExportStrippedOfItsCheckpointsIsCaughtByTheAnchors) {
  options_.anchor_file = log_->options().anchor_file;
  // A genuine one, starting at 1501's time, verifies with them.
  auto from = ParseExportLine(lines_[RecordLine(lines_, 1501)]);
  ASSERT_THAT(from, IsOk());
  const std::string since = dir_.File("since.jsonl");
  ASSERT_THAT(ExportToFile(log_->options().journal_dir,
                           FromProtoTime(from->record.time()), since),
              IsOk());
  auto genuine = VerifyExportFile(since, options_);
  ASSERT_THAT(genuine, IsOk());
  EXPECT_TRUE(genuine->intact()) << genuine->DebugString();
  EXPECT_GE(genuine->anchors_checked(), 4u);  // 2000, 3000, 4000, 5000...

  std::vector<std::string> lines;
  uint64_t first_signed = UINT64_MAX;  // the first signed after 1500
  std::string prev_hash;
  for (const std::string& line : lines_) {
    auto parsed = ParseExportLine(line);
    ASSERT_THAT(parsed, IsOk());
    if (parsed->type == ExportLine::Type::kCheckpoint) {
      if (parsed->checkpoint.sequence() > 1500) {
        first_signed =
            std::min<uint64_t>(first_signed, parsed->checkpoint.sequence());
      }
      continue;
    }
    AuditRecord& record = parsed->record;
    if (record.sequence() <= 1500) continue;
    if (record.sequence() == 3000) record.set_outcome("NOT_FOUND");
    if (record.sequence() >= 3000) {
      record.set_prev_hash(prev_hash);
      record.set_hash(*ComputeRecordHash(record));
    }
    prev_hash = record.hash();
    std::string rewritten = RecordJsonLine(record);
    rewritten.pop_back();  // the newline
    lines.push_back(std::move(rewritten));
  }
  ASSERT_LT(first_signed, 2001u);
  const VerifyReport report = VerifyLines(lines);
  EXPECT_FALSE(report.intact());
  EXPECT_EQ(VerifyReport::Problem_Name(report.problem()),
            VerifyReport::Problem_Name(VerifyReport::CHECKPOINT_MISSING))
      << report.detail();
  EXPECT_EQ(report.first_bad_sequence(), first_signed) << report.detail();
}

// Must show: a partial export takes its first record's link on trust, so
// stripped of every checkpoint nothing signed covers its records; without
// the anchors it is not intact, at its first record.
TEST_F(ExportTest, APartialExportWithNoCheckpointIsNotIntactWithoutAnchors) {
  auto from = ParseExportLine(lines_[RecordLine(lines_, 1501)]);
  ASSERT_THAT(from, IsOk());
  const std::string since = dir_.File("since.jsonl");
  ASSERT_THAT(ExportToFile(log_->options().journal_dir,
                           FromProtoTime(from->record.time()), since),
              IsOk());
  std::vector<std::string> lines = ReadLines(since);
  lines.erase(std::remove_if(lines.begin(), lines.end(),
                             [](const std::string& line) {
                               return IsCheckpointLine(line);
                             }),
              lines.end());
  ASSERT_FALSE(lines.empty());
  auto first = ParseExportLine(lines.front());
  ASSERT_THAT(first, IsOk());
  const uint64_t first_sequence = first->record.sequence();
  ASSERT_GT(first_sequence, 1u);  // partial: not checked from the genesis

  const VerifyReport report = VerifyLines(lines);
  EXPECT_FALSE(report.intact());
  EXPECT_EQ(VerifyReport::Problem_Name(report.problem()),
            VerifyReport::Problem_Name(VerifyReport::CHECKPOINT_MISSING))
      << report.detail();
  EXPECT_EQ(report.first_bad_sequence(), first_sequence) << report.detail();
  EXPECT_THAT(report.detail(),
              HasSubstr(absl::StrCat("no signed checkpoint covers records ",
                                     first_sequence, "..", kExported)));
  EXPECT_EQ(report.checkpoints_checked(), 0u);
}

// A running log's records after its last checkpoint are its normal
// unsigned tail: the journal verifies with them, within the cadence. An
// export of only those records holds no checkpoint, anchors or not, so
// nothing proves them; once the log signs them (here at its clean stop),
// the same export verifies.
TEST(UnsignedTailTest, AnExportOfOnlyUnsignedRecordsIsNotIntactUntilSigned) {
  ScratchDir dir;
  auto opened = AuditLog::Open(TestOptions(dir));
  ASSERT_THAT(opened, IsOk());
  std::unique_ptr<AuditLog> log = *std::move(opened);
  // Records 2..11 after the OPENED checkpoint of record 1, sample i at
  // base + i s, so that the export below starts at record 5 exactly.
  const absl::Time base = absl::Now() + absl::Hours(1);
  ASSERT_THAT(AppendMany(*log, 1, 10, base), IsOk());
  auto journal = log->Verify();
  ASSERT_THAT(journal, IsOk());
  EXPECT_TRUE(journal->intact()) << journal->DebugString();
  EXPECT_EQ(journal->last_sequence(), 11u);
  EXPECT_EQ(journal->last_checkpoint_sequence(), 1u);

  const std::string path = dir.File("tail.jsonl");
  const std::string& journal_dir = log->options().journal_dir;
  ASSERT_THAT(ExportToFile(journal_dir, base + absl::Seconds(4), path), IsOk());
  VerifyOptions options;
  options.key = &log->public_key();
  options.anchor_file = log->options().anchor_file;
  auto tail = VerifyExportFile(path, options);
  ASSERT_THAT(tail, IsOk());
  EXPECT_FALSE(tail->intact());
  EXPECT_EQ(VerifyReport::Problem_Name(tail->problem()),
            VerifyReport::Problem_Name(VerifyReport::CHECKPOINT_MISSING))
      << tail->detail();
  EXPECT_EQ(tail->first_bad_sequence(), 5u) << tail->detail();
  EXPECT_THAT(tail->detail(),
              HasSubstr("no signed checkpoint covers records 5..11"));

  ASSERT_THAT(log->Close(), IsOk());
  ASSERT_THAT(ExportToFile(journal_dir, base + absl::Seconds(4), path), IsOk());
  auto signed_tail = VerifyExportFile(path, options);
  ASSERT_THAT(signed_tail, IsOk());
  EXPECT_TRUE(signed_tail->intact()) << signed_tail->DebugString();
  EXPECT_EQ(signed_tail->checkpoints_checked(), 1u);  // the clean stop's
  EXPECT_EQ(signed_tail->last_checkpoint_sequence(), 11u);
}

TEST_F(ExportTest, MissingFileIsNotFound) {
  EXPECT_THAT(
      VerifyExportFile(dir_.File("missing.jsonl"), options_),
      lienthong::testing::StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(ExportTest, TamperingWithTheFileIsCaught) {
  struct Case {
    const char* name;
    std::function<void(std::vector<std::string>&)> tamper;
    VerifyReport::Problem problem;
    uint64_t first_bad_sequence;
  };
  const Case cases[] = {
      {"edit a field",
       [](std::vector<std::string>& lines) {
         std::string& line = lines[RecordLine(lines, 1234)];
         const size_t at = line.find("\"dossier_id\":\"000.");
         ASSERT_NE(at, std::string::npos);
         line[at + 15] = '1';
       },
       VerifyReport::EDITED, 1234},
      {"garble a line",
       [](std::vector<std::string>& lines) {
         lines[RecordLine(lines, 777)] = "{\"type\":\"record\",\"sequence\":";
       },
       VerifyReport::EDITED, 777},
      {"delete a line",
       [](std::vector<std::string>& lines) {
         lines.erase(lines.begin() + RecordLine(lines, 2000));
       },
       VerifyReport::DELETED, 2000},
      {"swap two lines",
       [](std::vector<std::string>& lines) {
         std::swap(lines[RecordLine(lines, 3000)],
                   lines[RecordLine(lines, 3100)]);
       },
       VerifyReport::REORDERED, 3000},
      {"duplicate a line",
       [](std::vector<std::string>& lines) {
         const size_t at = RecordLine(lines, 4000);
         lines.insert(lines.begin() + at + 1, lines[at]);
       },
       VerifyReport::INSERTED, 4000},
      {"cut the end",
       [](std::vector<std::string>& lines) {
         lines.resize(RecordLine(lines, 4500) + 1);
       },
       VerifyReport::TRUNCATED, 4501},
      {"cut the first records",
       [](std::vector<std::string>& lines) {
         lines.erase(lines.begin() + RecordLine(lines, 1),
                     lines.begin() + RecordLine(lines, 1501));
       },
       VerifyReport::DELETED, 1500},
      {"strip every checkpoint",
       [](std::vector<std::string>& lines) {
         lines.erase(std::remove_if(lines.begin(), lines.end(),
                                    [](const std::string& line) {
                                      return IsCheckpointLine(line);
                                    }),
                     lines.end());
       },
       // From the genesis the first record must be signed at once.
       VerifyReport::CHECKPOINT_MISSING, 1},
      {"flip a checkpoint signature",
       [](std::vector<std::string>& lines) {
         std::string& line = lines[CheckpointLine(lines, 2000)];
         const size_t at = line.find("\"signature\":\"");
         ASSERT_NE(at, std::string::npos);
         char& c = line[at + 20];
         c = c == '0' ? '1' : '0';
       },
       VerifyReport::BAD_SIGNATURE, 2000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> lines = lines_;
    c.tamper(lines);
    const VerifyReport report = VerifyLines(lines);
    EXPECT_FALSE(report.intact());
    EXPECT_EQ(VerifyReport::Problem_Name(report.problem()),
              VerifyReport::Problem_Name(c.problem))
        << report.detail();
    EXPECT_EQ(report.first_bad_sequence(), c.first_bad_sequence)
        << report.detail();
  }
}

// Must show: an export line longer than any record or checkpoint line can
// be is refused, naming the file and the line but not its content, before
// memory runs out; a line at the limit is only a record that is not valid.
TEST_F(ExportTest, AnExportLineLongerThanAnyRecordIsRefusedByItsNumber) {
  auto genuine = VerifyExportFile(path_, options_);
  ASSERT_THAT(genuine, IsOk());
  EXPECT_TRUE(genuine->intact()) << genuine->DebugString();

  std::vector<std::string> lines = lines_;
  const size_t at = RecordLine(lines, 777);
  lines[at] = std::string(kMaxExportLineBytes, 'x');
  const VerifyReport at_limit = VerifyLines(lines);
  EXPECT_EQ(at_limit.problem(), VerifyReport::EDITED) << at_limit.detail();
  EXPECT_EQ(at_limit.first_bad_sequence(), 777u);

  lines[at].push_back('x');
  const std::string path = dir_.File("long-line.jsonl");
  WriteLines(path, lines);
  EXPECT_THAT(
      VerifyExportFile(path, options_),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr(absl::StrCat("export file '", path, "' line ",
                                            at + 1, " is longer than ",
                                            kMaxExportLineBytes, " bytes")),
                     Not(HasSubstr("xxxx")))));
}

// Must show: `audit verify /dev/zero` and `--anchors /dev/zero` (a line
// that never ends) stop at their format's line limit.
TEST_F(ExportTest, DevZeroIsRefusedAtTheLineLimitAsAnExportAndAsAnchors) {
  EXPECT_THAT(VerifyExportFile("/dev/zero", options_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(
                           "export file '/dev/zero' line 1 is longer than ",
                           kMaxExportLineBytes, " bytes"))));
  const auto refused = StatusIs(
      absl::StatusCode::kInvalidArgument,
      HasSubstr(absl::StrCat("anchor file '/dev/zero' line 1 is longer than ",
                             kMaxAnchorLineBytes, " bytes")));
  options_.anchor_file = "/dev/zero";
  EXPECT_THAT(VerifyExportFile(path_, options_), refused);
  EXPECT_THAT(VerifyJournal(log_->options().journal_dir, options_), refused);
  EXPECT_THAT(ReadLastAnchor("/dev/zero"), refused);
}

// Must show: an anchor line longer than any checkpoint line is refused by
// its number, ended or not, by `verify --anchors` and the gateway's start-up
// check alike; the genuine file still verifies, and a line at the limit is
// only a line that is not a checkpoint.
TEST_F(ExportTest, AnAnchorLineLongerThanAnyCheckpointIsRefusedByItsNumber) {
  const std::string journal = log_->options().journal_dir;
  options_.anchor_file = log_->options().anchor_file;
  auto genuine = VerifyJournal(journal, options_);
  ASSERT_THAT(genuine, IsOk());
  EXPECT_TRUE(genuine->intact()) << genuine->DebugString();
  EXPECT_GT(genuine->anchors_checked(), 0u);

  std::vector<std::string> lines = ReadLines(options_.anchor_file);
  ASSERT_FALSE(lines.empty());
  const std::string path = dir_.File("long-anchors.jsonl");
  const std::string line = absl::StrCat("line ", lines.size() + 1);
  lines.push_back(std::string(kMaxAnchorLineBytes, 'x'));
  WriteLines(path, lines);
  EXPECT_THAT(ReadAnchorFile(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(line + " is not a checkpoint")));

  lines.back().push_back('x');
  WriteLines(path, lines);
  const auto refused =
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr(absl::StrCat("anchor file '", path, "' ", line,
                                            " is longer than ",
                                            kMaxAnchorLineBytes, " bytes")),
                     Not(HasSubstr("xxxx"))));
  options_.anchor_file = path;
  EXPECT_THAT(ReadAnchorFile(path), refused);
  EXPECT_THAT(ReadLastAnchor(path), refused);
  EXPECT_THAT(VerifyJournal(journal, options_), refused);
  // Unended, it is no crash's unfinished line either: none is that long.
  const std::string last = lines.back();
  lines.pop_back();
  WriteLines(path, lines);
  std::ofstream(path, std::ios::app | std::ios::binary) << last;
  EXPECT_THAT(ReadAnchorFile(path), refused);
  EXPECT_THAT(ReadLastAnchor(path), refused);
}

}  // namespace
}  // namespace lienthong::audit
