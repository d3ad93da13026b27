// Verifying an exported audit log (VerifyExportFile, `lienthong audit
// verify --file`), which a security team runs on a file that has been
// elsewhere. Whatever the file holds, the answer is a report (verify.h:
// tampering is a report, not an error) with no more records checked than
// the file has lines, and nothing crashes. The inputs are either a whole
// file, or edits (lines dropped, repeated, swapped, bytes changed, lines
// cut) of a real export of 40 records signed at start-up; that export as
// written verifies intact; an edit verifies intact only if the records it
// reads as signed (up to last_checkpoint_sequence) are a run of the
// export's own, in order. Two edits cannot be told from a genuine export
// (verify.h): head lines cut (an export `since` a later time), and the last
// checkpoint dropped, which leaves an unsigned tail that only the anchors
// could check.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/line_edits.h"
#include "tests/gateway/audit/test_util.h"

namespace {

using lienthong::audit::AuditLog;
using lienthong::audit::ExportLine;
using lienthong::audit::VerifyExportFile;
using lienthong::audit::VerifyReport;
using lienthong::audit::testutil::ScratchDir;

// A signed export and the key that verifies it, made once.
struct Fixture {
  ScratchDir dir;
  std::unique_ptr<AuditLog> log;
  std::vector<std::string> lines;
  std::string input;  // where each input is written

  Fixture() {
    const AuditLog::Options options =
        lienthong::audit::testutil::TestOptions(dir);
    auto opened = AuditLog::Open(options);
    if (!opened.ok()) Die("cannot open the audit log");
    log = *std::move(opened);
    if (!lienthong::audit::testutil::AppendMany(*log, 1, 40).ok() ||
        !log->Close().ok()) {
      Die("cannot write the audit log");
    }
    const std::string exported = dir.File("export.jsonl");
    if (!lienthong::audit::ExportToFile(options.journal_dir,
                                        absl::InfinitePast(), exported)
             .ok()) {
      Die("cannot export the audit log");
    }
    std::ifstream in(exported);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() < 40) Die("the export is short");
    input = dir.File("input.jsonl");
  }

  static void Die(const char* what) {
    std::fprintf(stderr, "audit_export_fuzz: %s\n", what);
    std::abort();
  }

  VerifyReport Verify(const std::string& content, size_t lines_in_file) {
    {
      std::ofstream out(input, std::ios::trunc | std::ios::binary);
      out << content;
    }
    lienthong::audit::VerifyOptions options;
    options.key = &log->public_key();
    auto report = VerifyExportFile(input, options);
    FUZZ_CHECK(report.ok());
    FUZZ_CHECK(report->records_checked() <= lines_in_file);
    return *std::move(report);
  }
};

// What a verifier reads of an export's lines: its checkpoints in order and
// its records in order, each as its parsed message's bytes, or, for a line
// that does not parse, the line itself marked so that it equals no message.
struct Reading {
  std::vector<std::string> checkpoints;
  std::vector<std::string> records;
  bool operator==(const Reading& other) const {
    return checkpoints == other.checkpoints && records == other.records;
  }
};

Reading Read(const std::vector<std::string>& lines) {
  Reading reading;
  for (const std::string& line : lines) {
    if (line.empty()) continue;  // skipped by the verifier
    absl::StatusOr<ExportLine> parsed = lienthong::audit::ParseExportLine(line);
    const bool checkpoint = lienthong::audit::IsCheckpointLine(line);
    std::vector<std::string>& into =
        checkpoint ? reading.checkpoints : reading.records;
    if (!parsed.ok() ||
        (parsed->type == ExportLine::Type::kCheckpoint) != checkpoint) {
      into.push_back("unreadable:" + line);
    } else if (checkpoint) {
      into.push_back("message:" + parsed->checkpoint.SerializeAsString());
    } else {
      into.push_back("message:" + parsed->record.SerializeAsString());
    }
  }
  return reading;
}

Fixture& TheFixture() {
  static Fixture fixture;  // its folder is removed at exit
  return fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& fixture = TheFixture();
  // The first byte picks: even, the rest is the file; odd, the rest is up
  // to 8 edits (line_edits.h) to the real export.
  if (size < 1) return 0;
  if (data[0] % 2 == 0) {
    const std::string content(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
    size_t newlines = 1;
    for (char c : content) newlines += c == '\n';
    fixture.Verify(content, newlines);
    return 0;
  }
  std::vector<std::string> lines = fixture.lines;
  EditLines(lines, data, size, 1, 8);
  std::string content;
  for (const std::string& line : lines) content += line + "\n";
  const VerifyReport report = fixture.Verify(content, lines.size());
  if (lines == fixture.lines) FUZZ_CHECK(report.intact());
  if (!report.intact()) return 0;
  static const Reading* const original = new Reading(Read(fixture.lines));
  const Reading edited = Read(lines);
  if (edited == *original) return 0;
  // The export's records are sequences 1, 2, ... in order: the edited
  // file's first is the export's `first`th, and from there to the last
  // signed sequence they are the export's.
  const auto& records = original->records;
  const uint64_t signed_up_to = report.last_checkpoint_sequence();
  if (edited.records.empty() || signed_up_to == 0) return 0;
  const auto first =
      std::find(records.begin(), records.end(), edited.records.front());
  FUZZ_CHECK(first != records.end());
  const uint64_t skipped = static_cast<uint64_t>(first - records.begin());
  FUZZ_CHECK(signed_up_to <= records.size());
  if (signed_up_to <= skipped) return 0;
  const uint64_t run = signed_up_to - skipped;
  FUZZ_CHECK(run <= edited.records.size());
  FUZZ_CHECK(std::equal(first, first + static_cast<long>(run),
                        edited.records.begin()));
  return 0;
}
