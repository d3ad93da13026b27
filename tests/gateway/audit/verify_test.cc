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
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace lienthong::audit
