// Tests of the `lienthong audit` commands that need no server: argument
// errors, times, table and report formatting, keygen, and export followed by
// offline verification (intact and tampered).
#include "gateway/cli/audit_commands.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/journal.h"
#include "gateway/cli/audit_admin_commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/gateway/cli/run_cli.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::AuditRecord;
using ::lienthong::v1::VerifyAuditResponse;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using Result = testing::CliResult;
using testing::RunLienthong;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

class AuditCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"LIENTHONG_SERVER", "LIENTHONG_CA",
                             "LIENTHONG_CERT", "LIENTHONG_KEY"}) {
      unsetenv(name);
    }
  }

  // Creates keys with `audit keygen` and a journal of `count` records (and
  // the LOG_OPENED record first) signed with them, a second apart from
  // `first`; returns its folder.
  std::string MakeJournal(
      int count, absl::Time first = absl::FromUnixSeconds(1910044800)) {
    Result keygen = RunLienthong({"audit", "keygen", "--signing-key",
                                  signing_.c_str(), "--hmac-key", hmac_.c_str(),
                                  "--digest-key", digest_.c_str()});
    EXPECT_EQ(keygen.code, 0) << keygen.err;
    audit::AuditLog::Options options;
    options.path = dir_.File("audit.db");
    options.journal_dir = dir_.File("journal");
    options.anchor_file = anchors_;
    options.segment_bytes = 1 << 20;
    options.node = "gw-test";
    options.signing_key_file = signing_;
    options.hmac_key_file = hmac_;
    options.digest_key_file = digest_;
    options.checkpoint_every = 10;
    auto log = audit::AuditLog::Open(options);
    EXPECT_TRUE(log.ok()) << log.status();
    EXPECT_TRUE(audit::testutil::AppendMany(**log, 1, count, first).ok());
    EXPECT_TRUE((*log)->Close().ok());
    fingerprint_ = (*log)->public_key().fingerprint();
    return options.journal_dir;
  }

  audit::testutil::ScratchDir dir_;
  const std::string signing_ = dir_.File("signing.pem");
  const std::string hmac_ = dir_.File("hmac.key");
  const std::string digest_ = dir_.File("digest.key");
  const std::string anchors_ = dir_.File("anchors.jsonl");
  std::string fingerprint_;
};

struct ErrorCase {
  std::vector<std::string> args;
  const char* message;
};

TEST_F(AuditCommandsTest, BadCommandLinesAreUsageErrorsBeforeAnyConnection) {
  const ErrorCase kCases[] = {
      {{"audit"}, "A subcommand is required"},
      {{"audit", "query", "--since", "yesterday"}, "--since is not a time"},
      {{"audit", "query", "--until", "2025-02-30"}, "--until"},
      {{"audit", "query", "--since", "2025-07-02", "--until", "2025-07-01"},
       "--until must be after --since"},
      {{"audit", "query", "--citizen", "12345"}, "--citizen"},
      {{"audit", "query", "--officer", "00108500432"}, "--officer"},
      {{"audit", "query", "--limit", "-1"}, "--limit"},
      {{"audit", "query", "--limit", "many"}, "--limit"},
      {{"audit", "verify", "--file", "x.jsonl"}, "--file needs --public-key"},
      {{"audit", "verify", "--journal", "j"}, "--journal needs --public-key"},
      {{"audit", "verify", "--public-key", "k.pem"},
       "are used with --journal or --file"},
      {{"audit", "verify", "--file", "x", "--journal", "j", "--public-key",
        "k"},
       "not both"},
      {{"audit", "verify", "--file", "x", "--archive", "a", "--public-key",
        "k"},
       "--archive is used with --journal"},
      // Key files are read within a limit: one with no end is refused.
      {{"audit", "verify", "--file", "x", "--public-key", "/dev/zero"},
       "--public-key: '/dev/zero' is larger than 65536 bytes"},
      {{"audit", "new-epoch", "--journal", "/tmp", "--signing-key", "/dev/zero",
        "--operator", "me", "--reason", "why"},
       "--signing-key: '/dev/zero' is larger than 65536 bytes"},
      {{"audit", "export", "--out", "x.jsonl"}, "--journal is required"},
      {{"audit", "export", "--journal", "/nonexistent/j", "--out", "x"},
       "--journal: no such folder"},
      {{"audit", "export", "--since", "soon", "--journal", "a", "--out", "x"},
       "--since is not a time"},
      {{"audit", "keygen"}, "give --signing-key, --hmac-key, --digest-key"},
      {{"audit", "new-epoch", "--journal", "/nonexistent/j", "--signing-key",
        "k", "--operator", "me", "--reason", "why"},
       "--journal: no such folder"},
      {{"audit", "new-epoch", "--journal", "/tmp", "--signing-key", "k",
        "--operator", " ", "--reason", "why"},
       "--operator"},
      {{"audit", "reindex", "--journal", "/nonexistent/j", "--index", "i"},
       "no audit journal"},
      {{"audit", "archive", "--journal", "/tmp", "--archive-dir", "a",
        "--older-than", "soon", "--signing-key", "k"},
       "--older-than is not a positive duration"},
  };
  for (const ErrorCase& c : kCases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    Result result = RunLienthong(c.args);
    EXPECT_EQ(result.code, 1);
    EXPECT_THAT(result.err, StartsWith("lienthong: usage: "));
    EXPECT_THAT(result.err, HasSubstr(c.message));
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);
    EXPECT_EQ(result.out, "");
  }
}

TEST_F(AuditCommandsTest, CitizenIdIsNotEchoedInErrors) {
  Result result = RunLienthong({"audit", "query", "--citizen", "0330850123"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, Not(HasSubstr("0330850123")));
}

TEST_F(AuditCommandsTest, EveryCommandHasHelpWithExamples) {
  for (const char* command : {"query", "verify", "export", "keygen",
                              "new-epoch", "reindex", "archive"}) {
    SCOPED_TRACE(command);
    Result result = RunLienthong({"audit", command, "--help"});
    EXPECT_EQ(result.code, 0);
    EXPECT_THAT(result.out, HasSubstr("Examples:"));
    EXPECT_THAT(result.out,
                HasSubstr(absl::StrCat("lienthong audit ", command)));
  }
  EXPECT_THAT(RunLienthong({"audit", "verify", "--help"}).out,
              HasSubstr("Exit code 9"));
}

TEST(ParseAuditTimeTest, AcceptsRfc3339AndDatesInVietnamTime) {
  auto date = ParseAuditTime("2025-07-15", "--since");
  ASSERT_TRUE(date.ok()) << date.status();
  EXPECT_EQ(*date, absl::FromCivil(absl::CivilSecond(2025, 7, 14, 17, 0, 0),
                                   absl::UTCTimeZone()));
  auto utc = ParseAuditTime("2025-07-15T02:03:04Z", "--since");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(*utc, absl::FromCivil(absl::CivilSecond(2025, 7, 15, 2, 3, 4),
                                  absl::UTCTimeZone()));
  auto offset = ParseAuditTime("2025-07-15T09:03:04.5+07:00", "--since");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, *utc + absl::Milliseconds(500));
  for (const char* bad : {"2025-02-30", "2025-07-15 09:00", "15/07/2025", "",
                          "2025-07-15T09:03:04"}) {
    SCOPED_TRACE(bad);
    auto parsed = ParseAuditTime(bad, "--until");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("--until"));
  }
}

TEST(BuildQueryAuditRequestTest, CarriesEveryFilter) {
  AuditQueryArgs args;
  args.since = "2025-07-01";
  args.until = "2025-08-01T00:00:00Z";
  args.caller = "spiffe://lienthong.local/dossier-system";
  args.method = "lienthong.v1.PopulationService/LookupCitizen";
  args.citizen = "033085012345";
  args.officer = "001085004321";
  args.dossier = "000.00.01.H31-250715-00123";
  args.outcome = "PERMISSION_DENIED";
  auto request = BuildQueryAuditRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(
      request->start_time().seconds(),
      absl::ToUnixSeconds(absl::FromCivil(
          absl::CivilSecond(2025, 6, 30, 17, 0, 0), absl::UTCTimeZone())));
  EXPECT_EQ(request->end_time().seconds(),
            absl::ToUnixSeconds(absl::FromCivil(
                absl::CivilSecond(2025, 8, 1, 0, 0, 0), absl::UTCTimeZone())));
  EXPECT_EQ(request->caller(), args.caller);
  EXPECT_EQ(request->method(), args.method);
  EXPECT_EQ(request->citizen_id(), args.citizen);
  EXPECT_EQ(request->officer_citizen_id(), args.officer);
  EXPECT_EQ(request->dossier_id(), args.dossier);
  EXPECT_EQ(request->outcome(), args.outcome);
  EXPECT_FALSE(BuildQueryAuditRequest(AuditQueryArgs())->has_start_time());
}

// Records hold callers' and national systems' text: nothing in it reaches
// the operator's terminal as a control sequence.
TEST(FormatAuditTableTest, RecordTextCannotActOnTheTerminal) {
  AuditRecord record;
  record.set_sequence(7);
  record.set_caller("spiffe://x");
  record.set_method("lienthong.v1.PopulationService/LookupCitizen");
  record.set_dossier_id("\x1b]0;owned\x07\x1b[2J");
  record.set_outcome(
      "OK\xc2\x9b"
      "31m");
  const std::string table = FormatAuditTable({record});
  EXPECT_EQ(table.find('\x1b'), std::string::npos) << table;
  EXPECT_EQ(table.find('\x07'), std::string::npos) << table;
  EXPECT_EQ(table.find("\xc2\x9b"), std::string::npos) << table;
  EXPECT_NE(table.find("\xEF\xBF\xBD]0;owned"), std::string::npos) << table;
}

TEST(FormatAuditTableTest, AlignsColumns) {
  AuditRecord a;
  a.set_sequence(9);
  a.mutable_time()->set_seconds(1752544984);  // 2025-07-15 02:03:04 UTC
  a.set_caller("spiffe://lienthong.local/dossier-system");
  a.set_method("lienthong.v1.PopulationService/LookupCitizen");
  a.set_purpose("1.001193");
  a.set_dossier_id("000.00.01.H31-250715-00123");
  a.set_citizen_masked("033*******45");
  a.set_officer_masked("001*******21");
  a.set_national_system("population");
  a.set_outcome("OK");
  a.set_latency_us(12345);
  AuditRecord b;
  b.set_sequence(10);
  b.mutable_time()->set_seconds(1752544985);
  b.set_caller("spiffe://x");
  b.set_method("lienthong.v1.IdentityService/VerifyIdentity");
  b.set_outcome("PERMISSION_DENIED");
  b.set_latency_us(87);
  const std::vector<AuditRecord> records = {a, b};
  EXPECT_EQ(
      FormatAuditTable(records),
      "SEQ  TIME (+07)           CALLER                                   "
      "METHOD                           PURPOSE   DOSSIER                     "
      "CITIZEN       OFFICER       SYSTEM      OUTCOME            LATENCY\n"
      "  9  2025-07-15 09:03:04  spiffe://lienthong.local/dossier-system  "
      "PopulationService/LookupCitizen  1.001193  000.00.01.H31-250715-00123  "
      "033*******45  001*******21  population  OK                 12.3 ms\n"
      " 10  2025-07-15 09:03:05  spiffe://x                               "
      "IdentityService/VerifyIdentity   -         -                           "
      "-             -             -           PERMISSION_DENIED    87 us\n");
  EXPECT_EQ(FormatAuditTable({}), "No matching audit records.\n");
}

TEST(FormatVerifyReportTest, NamesTheFirstBadRecordAndTheProblem) {
  VerifyAuditResponse report;
  report.set_first_bad_sequence(42);
  report.set_problem(VerifyAuditResponse::REORDERED);
  report.set_detail("record 42 belongs after record 43");
  report.set_records_checked(41);
  report.set_key_pinned(true);
  EXPECT_EQ(FormatVerifyReport(report),
            "Audit log NOT intact: record 42: reordered.\n"
            "record 42 belongs after record 43\n"
            "Checked good before it: 41 records, 0 checkpoints.\n");
  report.set_first_bad_checkpoint(7);
  report.set_key_pinned(false);
  EXPECT_EQ(FormatVerifyReport(report),
            "Audit log NOT intact: record 42: reordered.\n"
            "Checkpoint #7.\n"
            "record 42 belongs after record 43\n"
            "Checked good before it: 41 records, 0 checkpoints.\n"
            "Note: the key was not pinned by fingerprint (--key-sha256 / "
            "audit.signing_key_sha256).\n");
  const std::pair<VerifyAuditResponse::Problem, const char*> kNames[] = {
      {VerifyAuditResponse::EDITED, "edited"},
      {VerifyAuditResponse::DELETED, "deleted"},
      {VerifyAuditResponse::REORDERED, "reordered"},
      {VerifyAuditResponse::INSERTED, "inserted"},
      {VerifyAuditResponse::TRUNCATED, "truncated"},
      {VerifyAuditResponse::BAD_SIGNATURE, "bad signature"},
      {VerifyAuditResponse::CORRUPT, "corrupt"},
      {VerifyAuditResponse::CHECKPOINT_MISSING, "checkpoint missing"},
  };
  for (const auto& [problem, name] : kNames) {
    EXPECT_EQ(ProblemName(problem), name);
  }
}

TEST_F(AuditCommandsTest, KeygenCreatesKeysOnceAndPrintsThePublicKey) {
  Result first = RunLienthong({"audit", "keygen", "--signing-key",
                               signing_.c_str(), "--hmac-key", hmac_.c_str()});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  EXPECT_THAT(ReadFile(signing_), HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_EQ(ReadFile(hmac_).size(), 65u);  // 64 hex digits and a newline
  EXPECT_TRUE(audit::CitizenKey::FromFile(hmac_).ok());
  auto key = audit::PublicKey::FromPemFile(signing_);
  ASSERT_TRUE(key.ok());
  EXPECT_THAT(first.out, HasSubstr(key->fingerprint()));

  const std::string before = ReadFile(signing_);
  Result again =
      RunLienthong({"audit", "keygen", "--signing-key", signing_.c_str()});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("never overwritten"));
  EXPECT_EQ(ReadFile(signing_), before);
}

TEST_F(AuditCommandsTest, ExportVerifiesOfflineAndTamperingIsNamed) {
  const std::string journal = MakeJournal(50);
  const std::string exported = dir_.File("audit.jsonl");
  Result exporting = RunLienthong({"audit", "export", "--journal",
                                   journal.c_str(), "--out", exported.c_str()});
  ASSERT_EQ(exporting.code, 0) << exporting.err;

  Result intact = RunLienthong({"audit", "verify", "--file", exported.c_str(),
                                "--public-key", signing_.c_str(),
                                "--key-sha256", fingerprint_.c_str()});
  EXPECT_EQ(intact.code, 0) << intact.err << intact.out;
  EXPECT_THAT(intact.out, StartsWith("Audit log intact: 51 records"));
  EXPECT_THAT(intact.out, Not(HasSubstr("not pinned")));

  Result json = RunLienthong({"audit", "verify", "--file", exported.c_str(),
                              "--public-key", signing_.c_str(), "--json"});
  EXPECT_EQ(json.code, 0);
  EXPECT_THAT(json.out, HasSubstr("\"intact\":true"));

  // Edit record 20's outcome in the export.
  std::vector<std::string> lines = absl::StrSplit(ReadFile(exported), '\n');
  bool edited = false;
  for (std::string& line : lines) {
    if (line.find("\"type\":\"record\"") != std::string::npos &&
        line.find("\"sequence\":\"20\"") != std::string::npos) {
      line = absl::StrReplaceAll(
          line, {{"\"outcome\":\"OK\"", "\"outcome\":\"NOT_FOUND\""},
                 {"\"outcome\":\"UNAVAILABLE\"", "\"outcome\":\"NOT_FOUND\""},
                 {"\"outcome\":\"PERMISSION_DENIED\"",
                  "\"outcome\":\"NOT_FOUND\""}});
      edited = true;
    }
  }
  ASSERT_TRUE(edited);
  const std::string tampered = dir_.File("tampered.jsonl");
  WriteFile(tampered, absl::StrJoin(lines, "\n"));
  Result bad = RunLienthong({"audit", "verify", "--file", tampered.c_str(),
                             "--public-key", signing_.c_str()});
  EXPECT_EQ(bad.code, static_cast<int>(kExitAuditNotIntact));
  EXPECT_THAT(bad.out, StartsWith("Audit log NOT intact: record 20: edited."));

  // Another gateway's key: the checkpoints do not verify; a pin that is not
  // the key's is refused before verifying anything.
  const std::string other = dir_.File("other.pem");
  ASSERT_EQ(
      RunLienthong({"audit", "keygen", "--signing-key", other.c_str()}).code,
      0);
  Result wrong_key =
      RunLienthong({"audit", "verify", "--file", exported.c_str(),
                    "--public-key", other.c_str()});
  EXPECT_EQ(wrong_key.code, static_cast<int>(kExitAuditNotIntact));
  EXPECT_THAT(wrong_key.out, HasSubstr("bad signature"));
  Result wrong_pin =
      RunLienthong({"audit", "verify", "--file", exported.c_str(),
                    "--public-key", other.c_str(), "--key-sha256",
                    fingerprint_.c_str()});
  EXPECT_EQ(wrong_pin.code, 1);
  EXPECT_THAT(wrong_pin.err, HasSubstr("--key-sha256"));
}

TEST_F(AuditCommandsTest, VerifiesAJournalWithItsAnchorsOffline) {
  const std::string journal = MakeJournal(50);
  Result intact = RunLienthong(
      {"audit", "verify", "--journal", journal.c_str(), "--public-key",
       signing_.c_str(), "--key-sha256", fingerprint_.c_str(), "--anchors",
       anchors_.c_str()});
  EXPECT_EQ(intact.code, 0) << intact.err << intact.out;
  EXPECT_THAT(intact.out, StartsWith("Audit log intact: 51 records"));
  EXPECT_THAT(intact.out, HasSubstr("anchored checkpoints match"));

  // Cut the journal's end, checkpoints and all: only the anchors show it.
  std::vector<audit::testutil::Entry> entries =
      audit::testutil::ReadEntries(journal);
  entries.resize(audit::testutil::RecordAt(entries, 30) + 2);  // and its checkpoint
  ASSERT_TRUE(audit::testutil::WriteEntries(journal, entries, 1 << 20).ok());
  Result alone = RunLienthong({"audit", "verify", "--journal", journal.c_str(),
                               "--public-key", signing_.c_str()});
  EXPECT_EQ(alone.code, 0) << alone.out;
  Result anchored = RunLienthong(
      {"audit", "verify", "--journal", journal.c_str(), "--public-key",
       signing_.c_str(), "--anchors", anchors_.c_str()});
  EXPECT_EQ(anchored.code, static_cast<int>(kExitAuditNotIntact));
  EXPECT_THAT(anchored.out,
              StartsWith("Audit log NOT intact: record 31: truncated."));
}

TEST_F(AuditCommandsTest, ALongOfflineVerifyShowsItsProgressOnTheErrorStream) {
  const std::string journal = MakeJournal(3000);  // a few 1 MiB segments
  OfflineVerifyArgs args;
  args.journal = journal;
  args.public_key = signing_;
  // A quick check shows nothing but its report.
  std::ostringstream out, err;
  EXPECT_EQ(RunAuditVerifyOffline(args, out, err), ExitCode::kOk) << err.str();
  EXPECT_THAT(out.str(), StartsWith("Audit log intact: 3001 records"));
  EXPECT_EQ(err.str(), "");

  // One past `progress_after`: a line when it shows first, and the last
  // (not a terminal: plain lines, no redrawing).
  args.progress_after = absl::ZeroDuration();
  std::ostringstream out2, err2;
  EXPECT_EQ(RunAuditVerifyOffline(args, out2, err2), ExitCode::kOk);
  EXPECT_EQ(out2.str(), out.str());
  const std::vector<std::string> lines =
      absl::StrSplit(err2.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << err2.str();
  EXPECT_THAT(lines[0], StartsWith("[ "));
  EXPECT_THAT(lines[0], HasSubstr("%] reading the checkpoints, "));
  EXPECT_THAT(lines[1], StartsWith("[100%] 3001 records checked, "));
  EXPECT_THAT(err2.str(), Not(HasSubstr("\r")));
}

TEST_F(AuditCommandsTest, ALongExportShowsItsProgressOnTheErrorStream) {
  const std::string journal = MakeJournal(3000);  // a few 1 MiB segments
  const std::string exported = dir_.File("all.jsonl");
  std::ostringstream out, err;
  EXPECT_EQ(RunAuditExport("", journal, exported, out, err), ExitCode::kOk)
      << err.str();
  EXPECT_EQ(err.str(), "");  // quick: no progress
  const std::string whole = ReadFile(exported);

  std::ostringstream out2, err2;
  EXPECT_EQ(RunAuditExport("", journal, exported, out2, err2,
                           absl::ZeroDuration()),
            ExitCode::kOk);
  EXPECT_EQ(ReadFile(exported), whole);
  const std::vector<std::string> lines =
      absl::StrSplit(err2.str(), '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u) << err2.str();
  EXPECT_THAT(lines.front(), HasSubstr("%] finding the first record, "));
  EXPECT_THAT(lines.back(), StartsWith("[100%] 3001 records written, "));
}

TEST_F(AuditCommandsTest, ALongReindexShowsItsProgressOnTheErrorStream) {
  const std::string journal = MakeJournal(3000);  // a few 1 MiB segments
  const std::string index = dir_.File("rebuilt.db");
  std::ostringstream out, err;
  EXPECT_EQ(RunAuditReindex(journal, index, out, err), ExitCode::kOk)
      << err.str();
  EXPECT_THAT(out.str(), HasSubstr("Indexed 3001 records, up to record 3001"));
  EXPECT_EQ(err.str(), "");  // quick: no progress

  std::ostringstream out2, err2;
  EXPECT_EQ(RunAuditReindex(journal, index, out2, err2, absl::ZeroDuration()),
            ExitCode::kOk);
  EXPECT_EQ(out2.str(), out.str());
  const std::vector<std::string> lines =
      absl::StrSplit(err2.str(), '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u) << err2.str();
  EXPECT_THAT(lines.front(), StartsWith("["));
  EXPECT_THAT(lines.back(), StartsWith("[100%] up to record 3001, "));
}

TEST_F(AuditCommandsTest, ALongArchiveShowsItsProgressOnTheErrorStream) {
  // Records from 400 days ago: the sealed segments are past a 90-day
  // retention.
  const std::string journal =
      MakeJournal(6000, absl::Now() - absl::Hours(24 * 400));
  ArchiveArgs args;
  args.journal = journal;
  args.older_than = "90d";
  args.signing_key = signing_;
  args.key_sha256 = fingerprint_;
  args.progress_after = absl::ZeroDuration();
  args.archive_dir = dir_.File("archive");
  std::ostringstream out, err;
  EXPECT_EQ(RunAuditArchive(args, out, err), ExitCode::kOk) << err.str();
  EXPECT_THAT(out.str(), StartsWith("Archive 1 ("));
  const std::vector<std::string> lines =
      absl::StrSplit(err.str(), '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u) << err.str();
  EXPECT_THAT(lines.front(), HasSubstr("%] verifying, "));
  EXPECT_THAT(lines.back(), StartsWith("[100%] copying, "));
  EXPECT_THAT(err.str(), Not(HasSubstr("\r")));

  // A quick run (here: nothing left old enough) shows no progress.
  args.progress_after = absl::Seconds(2);
  args.archive_dir = dir_.File("archive-again");
  std::ostringstream out2, err2;
  EXPECT_EQ(RunAuditArchive(args, out2, err2), ExitCode::kOk) << err2.str();
  EXPECT_THAT(out2.str(), StartsWith("Nothing to archive"));
  EXPECT_EQ(err2.str(), "");
}

TEST_F(AuditCommandsTest, NewEpochAndReindexWorkOnTheJournal) {
  const std::string journal = MakeJournal(50);
  Result nothing = RunLienthong(
      {"audit", "new-epoch", "--journal", journal.c_str(), "--signing-key",
       signing_.c_str(), "--anchors", anchors_.c_str(), "--operator",
       "Tran Thi C", "--reason", "drill", "--checkpoint-every", "10"});
  EXPECT_EQ(nothing.code, 7);
  EXPECT_THAT(nothing.err, HasSubstr("no break to acknowledge"));

  std::vector<audit::testutil::Entry> entries =
      audit::testutil::ReadEntries(journal);
  entries[audit::testutil::RecordAt(entries, 25)].record.set_outcome("OK!");
  ASSERT_TRUE(audit::testutil::WriteEntries(journal, entries, 1 << 20).ok());
  // Text that would not read back (Latin-1 from an old terminal) is
  // refused before anything is written.
  for (const std::string option : {"--operator", "--reason", "--node"}) {
    std::vector<std::string> args = {
        "audit",    "new-epoch",    "--journal", journal,      "--signing-key",
        signing_,   "--anchors",    anchors_,    "--operator", "Tran Thi C",
        "--reason", "ticket SEC-9", "--node",    "gw-1"};
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == option) args[i + 1] = "Tr\xe1n";
    }
    Result refused = RunLienthong(args);
    EXPECT_EQ(refused.code, 1) << option;
    EXPECT_THAT(refused.err, HasSubstr(option + ": not valid UTF-8"));
  }
  EXPECT_EQ(audit::testutil::ReadEntries(journal).size(), entries.size());
  Result opened = RunLienthong(
      {"audit", "new-epoch", "--journal", journal.c_str(), "--signing-key",
       signing_.c_str(), "--key-sha256", fingerprint_.c_str(), "--anchors",
       anchors_.c_str(), "--operator", "Tran Thi C", "--reason",
       "ticket SEC-9", "--checkpoint-every", "10"});
  ASSERT_EQ(opened.code, 0) << opened.err;
  EXPECT_THAT(opened.out, HasSubstr("Epoch 2 opened at record 52"));
  EXPECT_THAT(opened.out, HasSubstr("edited at record 25"));
  Result verify = RunLienthong(
      {"audit", "verify", "--journal", journal.c_str(), "--public-key",
       signing_.c_str(), "--anchors", anchors_.c_str()});
  EXPECT_EQ(verify.code, 0) << verify.out;
  EXPECT_THAT(verify.out, HasSubstr("Acknowledged break: epoch 2 opened by "
                                    "Tran Thi C (ticket SEC-9) after edited "
                                    "at record 25."));

  const std::string index = dir_.File("rebuilt.db");
  Result reindex = RunLienthong({"audit", "reindex", "--journal",
                                 journal.c_str(), "--index", index.c_str()});
  ASSERT_EQ(reindex.code, 0) << reindex.err;
  EXPECT_THAT(reindex.out, HasSubstr("Indexed 52 records, up to record 52"));
}

TEST_F(AuditCommandsTest, AReindexThatFindsRecordsMissingSaysSoAndExits7) {
  const std::string journal = MakeJournal(6000);
  auto segments = audit::ListSegments(journal);
  ASSERT_TRUE(segments.ok()) << segments.status();
  ASSERT_GE(segments->size(), 3u);
  ASSERT_TRUE(std::filesystem::remove((*segments)[1].path));
  Result reindex =
      RunLienthong({"audit", "reindex", "--journal", journal.c_str(), "--index",
                    dir_.File("rebuilt.db").c_str()});
  EXPECT_EQ(reindex.code, 7) << reindex.err;
  EXPECT_THAT(reindex.out, HasSubstr("up to record 6001"));
  EXPECT_THAT(reindex.err,
              HasSubstr("records are missing from the journal (numbers "
                        "skipped, not archived)"));
}

TEST_F(AuditCommandsTest, ExportSinceStartsAtThatTimeAndStillVerifies) {
  const std::string journal = MakeJournal(50);
  const std::string exported = dir_.File("since.jsonl");
  // Sample i has time 1910044800 + i s: 2030-07-11T00:00:00Z + i s.
  Result exporting =
      RunLienthong({"audit", "export", "--since", "2030-07-11T00:00:30Z",
                    "--journal", journal.c_str(), "--out", exported.c_str()});
  ASSERT_EQ(exporting.code, 0) << exporting.err;
  const std::string text = ReadFile(exported);
  EXPECT_THAT(text, Not(HasSubstr("\"sequence\":\"30\",\"time\"")));
  EXPECT_THAT(text, HasSubstr("\"sequence\":\"31\""));
  Result verify = RunLienthong({"audit", "verify", "--file", exported.c_str(),
                                "--public-key", signing_.c_str()});
  EXPECT_EQ(verify.code, 0) << verify.out;
}

TEST_F(AuditCommandsTest, VerifyFileReportsAMissingFileAsUsage) {
  ASSERT_EQ(
      RunLienthong({"audit", "keygen", "--signing-key", signing_.c_str()}).code,
      0);
  Result result = RunLienthong({"audit", "verify", "--file",
                                dir_.File("missing.jsonl").c_str(),
                                "--public-key", signing_.c_str()});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("--file"));
  Result bad_key =
      RunLienthong({"audit", "verify", "--file", "x.jsonl", "--public-key",
                    dir_.File("missing.pem").c_str()});
  EXPECT_EQ(bad_key.code, 1);
  EXPECT_THAT(bad_key.err, HasSubstr("--public-key"));
}

}  // namespace
}  // namespace lienthong::cli
