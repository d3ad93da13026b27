// Tests of the sync command group: parsing and formatting on their own, the
// command line through RunCli, and the command functions against a fake
// PortalSyncService over real mutual TLS on 127.0.0.1:0 (with the development
// certificates made for the tests, as cli_tls_test does).
#include "gateway/cli/sync_commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gateway/cli/app.h"
#include "gateway/cli/job_watcher.h"
#include "gateway/cli/progress.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/server.h"
#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "lienthong/v1/portal.grpc.pb.h"
#include "tests/gateway/cli/run_cli.h"
#include "tests/gateway/cli/tls_server.h"

namespace lienthong::cli {
namespace {

namespace fs = std::filesystem;
using ::lienthong::v1::DeadLetter;
using ::lienthong::v1::DossierStatus;
using ::lienthong::v1::GetSyncJobRequest;
using ::lienthong::v1::ListDeadLettersRequest;
using ::lienthong::v1::ListDeadLettersResponse;
using ::lienthong::v1::ProcedurePlan;
using ::lienthong::v1::PushDossierStatusRequest;
using ::lienthong::v1::PushDossierStatusResponse;
using ::lienthong::v1::RetryDeadLettersRequest;
using ::lienthong::v1::RetryDeadLettersResponse;
using ::lienthong::v1::SyncJob;
using ::lienthong::v1::SyncProceduresRequest;
using ::lienthong::v1::SyncProceduresResponse;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kCode1[] = "1.001193.000.00.00.H31";
constexpr char kCode2[] = "2.000123.000.00.00.H31";
constexpr char kDossier[] = "000.00.01.H31-250715-00123";
constexpr char kJobId[] = "job-1";

// 2025-07-15 10:12:03 in Vietnam.
google::protobuf::Timestamp Jul15() {
  google::protobuf::Timestamp t;
  t.set_seconds(absl::ToUnixSeconds(absl::FromCivil(
      absl::CivilSecond(2025, 7, 15, 3, 12, 3), absl::UTCTimeZone())));
  return t;
}

SyncJob Job(SyncJob::State state, int delivered, int dead, int total) {
  SyncJob job;
  job.set_job_id(kJobId);
  job.set_state(state);
  job.set_delivered(delivered);
  job.set_dead_lettered(dead);
  job.set_total(total);
  return job;
}

std::string WriteFile(const fs::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
  return path.string();
}

// ---------------------------------------------------------------------------
// Progress display.

TEST(ProgressTest, RenderBar) {
  struct Case {
    ProgressCounts counts;
    int width;
    const char* bar;
  };
  const Case kCases[] = {
      {{0, 0, 10}, 10, "[..........]"},
      {{5, 0, 10}, 10, "[#####.....]"},
      {{5, 2, 10}, 10, "[#####xx...]"},
      {{0, 3, 3}, 10, "[xxxxxxxxxx]"},
      {{10, 0, 10}, 10, "[##########]"},
      {{12, 0, 10}, 10, "[##########]"},
      {{312, 0, 415}, 10, "[#######...]"},
      {{1, 0, 3}, 10, "[###.......]"},
      {{0, 0, 0}, 4, "[....]"},
      {{1, 0, 2}, 30, "[###############...............]"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(RenderBar(c.counts, c.width), c.bar)
        << c.counts.done << "+" << c.counts.failed << "/" << c.counts.total;
  }
}

TEST(ProgressTest, RenderPercentAndElapsed) {
  EXPECT_EQ(RenderPercent({312, 0, 415}), "[ 75%]");
  EXPECT_EQ(RenderPercent({1, 1, 3}), "[ 66%]");
  EXPECT_EQ(RenderPercent({415, 0, 415}), "[100%]");
  EXPECT_EQ(RenderPercent({500, 0, 415}), "[100%]");
  EXPECT_EQ(RenderPercent({0, 0, 0}), "[  0%]");

  EXPECT_EQ(FormatElapsed(absl::ZeroDuration()), "0 s");
  EXPECT_EQ(FormatElapsed(absl::Milliseconds(12700)), "12 s");
  EXPECT_EQ(FormatElapsed(absl::Seconds(60)), "1 min 00 s");
  EXPECT_EQ(FormatElapsed(absl::Seconds(125)), "2 min 05 s");
  EXPECT_EQ(FormatElapsed(absl::Seconds(3600 + 125)), "1 h 02 min");
  EXPECT_EQ(FormatElapsed(absl::Seconds(-5)), "0 s");
}

TEST(ProgressTest, TerminalRedrawsOneLine) {
  std::ostringstream out;
  ProgressBar bar(out, ProgressBar::Mode::kTerminal, absl::Seconds(5));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  bar.Show({0, 0, 2}, "0/2", t0);
  bar.Show({1, 0, 2}, "1/2", t0);
  bar.Finish({2, 0, 2}, "2/2");
  bar.Show({2, 0, 2}, "after the end", t0);
  bar.Break();
  EXPECT_EQ(out.str(),
            "\r[..............................] 0/2\x1b[K"
            "\r[###############...............] 1/2\x1b[K"
            "\r[##############################] 2/2\x1b[K\n");
}

TEST(ProgressTest, TerminalBreakEndsAHalfDrawnLineOnce) {
  std::ostringstream out;
  ProgressBar bar(out, ProgressBar::Mode::kTerminal, absl::Seconds(5));
  bar.Show({1, 0, 2}, "1/2", absl::FromUnixSeconds(1000));
  bar.Break();
  bar.Break();
  EXPECT_EQ(out.str(), "\r[###############...............] 1/2\x1b[K\n");
}

TEST(ProgressTest, PlainLinesAtTheInterval) {
  std::ostringstream out;
  ProgressBar bar(out, ProgressBar::Mode::kPlain, absl::Seconds(5));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  bar.Show({0, 0, 4}, "first", t0);
  bar.Show({1, 0, 4}, "too soon", t0 + absl::Seconds(4));
  bar.Show({2, 0, 4}, "interval passed", t0 + absl::Seconds(5));
  bar.Break();  // nothing to end in plain mode
  bar.Show({3, 0, 4}, "too soon again", t0 + absl::Seconds(6));
  bar.Finish({3, 1, 4}, "final, whatever the interval");
  bar.Finish({4, 0, 4}, "only once");
  EXPECT_EQ(out.str(),
            "[  0%] first\n"
            "[ 50%] interval passed\n"
            "[100%] final, whatever the interval\n");
}

// ---------------------------------------------------------------------------
// Formatting.

TEST(FormatTest, JobProgressAsTheBarShowsIt) {
  const SyncJob job = Job(SyncJob::RUNNING, 312, 0, 415);
  EXPECT_EQ(FormatJobProgress(job, absl::Seconds(12)),
            "312/415 delivered, 0 dead-lettered, 12 s");
  EXPECT_EQ(absl::StrCat(RenderBar({312, 0, 415}, 10), " ",
                         FormatJobProgress(job, absl::Seconds(12))),
            "[#######...] 312/415 delivered, 0 dead-lettered, 12 s");
}

TEST(FormatTest, PlanSummaryAndDetails) {
  SyncProceduresResponse response;
  auto add = [&](const char* code, ProcedurePlan::Action action) {
    ProcedurePlan* plan = response.add_plan();
    plan->set_code(code);
    plan->set_action(action);
  };
  add(kCode1, ProcedurePlan::CREATE);
  add("12.000001.000.00.00.H31", ProcedurePlan::UPDATE);
  add(kCode2, ProcedurePlan::UNCHANGED);
  add("3.000001.000.00.00.H31", ProcedurePlan::WITHDRAW);
  add("3.000002.000.00.00.H31", static_cast<ProcedurePlan::Action>(9));
  response.set_creates(1);
  response.set_updates(1);
  response.set_unchanged(1);
  response.set_withdrawals(1);
  EXPECT_EQ(FormatPlanSummary(response),
            "Plan: 1 to create, 1 to update, 1 unchanged, 1 to withdraw.");
  SyncProceduresResponse superseding = response;
  superseding.set_dead_letters_superseded(2);
  EXPECT_EQ(FormatPlanSummary(superseding),
            "Plan: 1 to create, 1 to update, 1 unchanged, 1 to withdraw. 2 "
            "dead letter(s) of unchanged procedures to supersede: the "
            "portal already holds what the catalogue says.");

  std::vector<lienthong::v1::Procedure> procedures(3);
  procedures[0].set_code(kCode1);
  procedures[0].set_name("Đăng ký khai sinh");
  procedures[1].set_code("12.000001.000.00.00.H31");
  procedures[1].set_name("Cấp giấy phép");
  procedures[2].set_code(kCode2);
  procedures[2].set_name("Tên");
  EXPECT_EQ(FormatPlanDetails(response, procedures),
            "  create     1.001193.000.00.00.H31   Đăng ký khai sinh\n"
            "  update     12.000001.000.00.00.H31  Cấp giấy phép\n"
            "  unchanged  2.000123.000.00.00.H31   Tên\n"
            "  withdraw   3.000001.000.00.00.H31\n"
            "  action 9   3.000002.000.00.00.H31\n");
}

TEST(FormatTest, TimestampInVietnamTime) {
  EXPECT_EQ(FormatTimestamp(Jul15()), "2025-07-15 10:12:03 +07");
  EXPECT_EQ(FormatTimestamp(google::protobuf::Timestamp()), "-");
}

TEST(FormatTest, JobStatus) {
  SyncJob job = Job(SyncJob::RUNNING, 312, 0, 415);
  *job.mutable_created() = Jul15();
  EXPECT_EQ(FormatJobStatus(job),
            "Job:            job-1\n"
            "State:          RUNNING\n"
            "Delivered:      312 of 415\n"
            "Dead-lettered:  0\n"
            "Created:        2025-07-15 10:12:03 +07\n");
}

TEST(FormatTest, DeadLetterTable) {
  EXPECT_EQ(FormatDeadLetterTable({}), "No dead letters.\n");
  std::vector<DeadLetter> letters(2);
  letters[0].set_id("dl-1");
  letters[0].set_kind("procedure");
  letters[0].set_code(kCode1);
  letters[0].set_attempts(5);
  *letters[0].mutable_failed_at() = Jul15();
  letters[0].set_reason("Mã TTHC không tồn tại");
  letters[1].set_id("dl-22");
  letters[1].set_kind("dossier");
  letters[1].set_code(kDossier);
  letters[1].set_attempts(12);
  letters[1].set_reason("Trạng thái\nkhông hợp lệ");
  constexpr absl::string_view kRow = "%-5s  %-9s  %-26s  %-8s  %-23s  %s\n";
  const absl::ParsedFormat<'s', 's', 's', 's', 's', 's'> row(kRow);
  EXPECT_EQ(
      FormatDeadLetterTable(letters),
      absl::StrCat(
          absl::StrFormat(row, "ID", "KIND", "CODE", "ATTEMPTS", "FAILED AT",
                          "REASON"),
          absl::StrFormat(row, "dl-1", "procedure", kCode1, "5",
                          "2025-07-15 10:12:03 +07", "Mã TTHC không tồn tại"),
          absl::StrFormat(row, "dl-22", "dossier", kDossier, "12", "-",
                          "Trạng thái không hợp lệ")));
}

TEST(FormatTest, DeadLetterColumnsAlignByCharacters) {
  std::vector<DeadLetter> letters(2);
  letters[0].set_id("thư-1");  // 5 characters, 6 bytes
  letters[0].set_reason("x");
  letters[1].set_id("abcde");
  letters[1].set_reason("y");
  std::vector<std::string> lines =
      absl::StrSplit(FormatDeadLetterTable(letters), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[1], StartsWith("thư-1  "));
  EXPECT_THAT(lines[2], StartsWith("abcde  "));
  EXPECT_EQ(lines[1].size(), lines[2].size() + 1);  // the one extra byte
}

// ---------------------------------------------------------------------------
// Parsing the push options.

TEST(ParseTest, DossierStatus) {
  struct Case {
    const char* text;
    DossierStatus status;
  };
  const Case kCases[] = {
      {"1", lienthong::v1::NEW},
      {"4", lienthong::v1::PROCESSING},
      {" 10 ", lienthong::v1::RESULT_RETURNED},
      {"PROCESSING", lienthong::v1::PROCESSING},
      {"processing", lienthong::v1::PROCESSING},
      {"result-returned", lienthong::v1::RESULT_RETURNED},
      {"More documents needed", lienthong::v1::MORE_DOCUMENTS_NEEDED},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<DossierStatus> status = ParseDossierStatus(c.text);
    ASSERT_TRUE(status.ok()) << c.text << ": " << status.status();
    EXPECT_EQ(*status, c.status) << c.text;
  }
  for (const char* bad :
       {"", "0", "11", "-1", "4.0", "done", "DOSSIER_STATUS_UNSPECIFIED"}) {
    absl::StatusOr<DossierStatus> status = ParseDossierStatus(bad);
    EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(std::string(status.status().message()),
                HasSubstr("1 NEW, 2 ACCEPTED, 3 REFUSED, 4 PROCESSING"))
        << bad;
  }
}

TEST(ParseTest, StatusTime) {
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2025, 7, 16, 12),
                                         absl::FixedTimeZone(7 * 3600));
  const int64_t jul15 = Jul15().seconds();
  struct Case {
    const char* text;
    int64_t seconds;
    int32_t nanos;
  };
  const Case kCases[] = {
      {"", absl::ToUnixSeconds(now), 0},
      {"2025-07-15T10:12:03+07:00", jul15, 0},
      {"2025-07-15T03:12:03Z", jul15, 0},
      {"2025-07-15 10:12:03", jul15, 0},
      {"2025-07-15T10:12:03", jul15, 0},
      {"20250715101203", jul15, 0},
      {"2025-07-15T10:12:03.5+07:00", jul15, 500000000},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<google::protobuf::Timestamp> time =
        ParseStatusTime(c.text, now);
    ASSERT_TRUE(time.ok()) << c.text << ": " << time.status();
    EXPECT_EQ(time->seconds(), c.seconds) << c.text;
    EXPECT_EQ(time->nanos(), c.nanos) << c.text;
  }
  struct Bad {
    const char* text;
    const char* why;
  };
  const Bad kBad[] = {
      {"15/07/2025 10:12", "expected 2025-07-15T10:12:03+07:00"},
      {"2025-07-15", "expected"},
      {"20250715", "expected"},
      {"2025-02-30 10:00:00", "expected"},
      {"2025-07-15 25:00:00", "expected"},
      {"2025-07-16 14:00:00", "more than an hour in the future"},
      {"1999-12-31 23:59:59", "before the year 2000"},
  };
  for (const Bad& b : kBad) {
    absl::StatusOr<google::protobuf::Timestamp> time =
        ParseStatusTime(b.text, now);
    EXPECT_EQ(time.status().code(), absl::StatusCode::kInvalidArgument)
        << b.text;
    EXPECT_THAT(std::string(time.status().message()), HasSubstr(b.why))
        << b.text;
  }
}

TEST(ParseTest, BuildPushRequest) {
  const absl::Time now = absl::FromUnixSeconds(Jul15().seconds() + 3600);
  PushArgs args{kDossier,        kCode1,
                "PROCESSING",    "2025-07-15 10:12:03",
                "Trần Thị Bình", "Đang thẩm định"};
  absl::StatusOr<PushDossierStatusRequest> request =
      BuildPushRequest(args, now);
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->updates_size(), 1);
  const auto& update = request->updates(0);
  EXPECT_EQ(update.dossier_code(), kDossier);
  EXPECT_EQ(update.procedure_code(), kCode1);
  EXPECT_EQ(update.status(), lienthong::v1::PROCESSING);
  EXPECT_EQ(update.time().seconds(), Jul15().seconds());
  EXPECT_EQ(update.handler(), "Trần Thị Bình");
  EXPECT_EQ(update.note(), "Đang thẩm định");

  struct Case {
    void (*edit)(PushArgs&);
    const char* message;
  };
  const Case kCases[] = {
      {[](PushArgs& a) { a.dossier_code = "D1"; }, "--dossier: expected"},
      {[](PushArgs& a) { a.procedure_code = "1.001193"; },
       "--procedure: a national base code"},
      {[](PushArgs& a) { a.status = "11"; }, "--status: expected a number"},
      {[](PushArgs& a) { a.time = "yesterday"; }, "--time: expected"},
      {[](PushArgs& a) { a.handler = "Tr\xE1\xBA"; },
       "--handler: not valid UTF-8"},
      {[](PushArgs& a) { a.note = std::string(2001, 'x'); },
       "--note: longer than 2000 bytes"},
      {[](PushArgs& a) {
         a.handler.clear();
         for (int i = 0; i < 100; ++i) a.handler += "Trần ";  // 600 bytes
       },
       "--handler: longer than 256 bytes"},
  };
  for (const Case& c : kCases) {
    PushArgs bad = args;
    c.edit(bad);
    absl::StatusOr<PushDossierStatusRequest> result =
        BuildPushRequest(bad, now);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message;
    EXPECT_THAT(std::string(result.status().message()), StartsWith(c.message));
  }
}

// ---------------------------------------------------------------------------
// The command line (nothing is sent: every case fails before connecting or
// needs no connection).

using testing::CliResult;
using testing::RunLienthong;

class SyncCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "lienthong_synccli_XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = new fs::path(tmpl);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    for (const char* name : {"LIENTHONG_SERVER", "LIENTHONG_CA",
                             "LIENTHONG_CERT", "LIENTHONG_KEY"}) {
      unsetenv(name);
    }
  }

  static std::string Good() {
    return WriteFile(*dir_ / "good.csv",
                     absl::StrCat("code,name,level\n", kCode1,
                                  ",Đăng ký khai sinh,TOAN_TRINH\n", kCode2,
                                  ",Cấp bản sao trích lục hộ tịch,MOT_PHAN\n"));
  }
  static std::string Bad() {
    return WriteFile(
        *dir_ / "bad.csv",
        absl::StrCat("code,name,level\n", kCode1,
                     ",Đăng ký khai sinh,TOAN_TRINH\n", ",Không mã,MOT_PHAN\n",
                     kCode1, ",Trùng,online\n"));
  }

  static inline fs::path* dir_ = nullptr;
};

TEST_F(SyncCliTest, UsageErrorsSendNothing) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::string good = Good();
  const Case kCases[] = {
      {{"sync"}, "lienthong: usage: A subcommand is required"},
      {{"sync", "frobnicate"}, "lienthong: usage: "},
      {{"sync", "procedures"}, "--file is required"},
      {{"sync", "procedures", "--file", "catalogue.xlsx"},
       "lienthong: usage: --file catalogue.xlsx: a catalogue file must end "
       "in .json or .csv"},
      {{"sync", "procedures", "--file", "/nonexistent/catalogue.json"},
       "lienthong: usage: /nonexistent/catalogue.json: cannot read: No such "
       "file or directory"},
      {{"sync", "procedures", "--file", good, "--skip-invalid",
        "--withdraw-missing"},
       "lienthong: usage: --skip-invalid cannot go with --withdraw-missing"},
      {{"sync", "procedures", "--file", good, "--wait", "-1"},
       "lienthong: usage: --wait: expected a number of seconds, 0 or more"},
      // Not numbers a deadline can be computed from.
      {{"sync", "procedures", "--file", good, "--wait", "nan"},
       "--wait: expected a number of seconds"},
      {{"sync", "status", "--job", kJobId, "--watch", "--wait", "inf"},
       "--wait: expected a number of seconds"},
      {{"sync", "status", "--job", kJobId, "--watch", "--wait", "-5"},
       "--wait: expected a number of seconds"},
      {{"sync", "push", "--file", good, "--max-batch-bytes", "0"},
       "--max-batch-bytes"},
      {{"sync", "procedures", "--file", good},
       "lienthong: usage: --cert is required"},
      {{"sync", "status"},
       "lienthong: usage: --job is required: give the job ID that "
       "'lienthong sync procedures' printed"},
      {{"sync", "status", "--job", kJobId},
       "lienthong: usage: --cert is required"},
      {{"sync", "dead-letters", "--id", "dl-1"}, "--retry"},
      {{"sync", "push", "--dossier", kDossier, "--procedure", kCode1},
       "--status is required"},
      {{"sync", "push", "--dossier", kDossier, "--procedure", kCode1,
        "--status", "11"},
       "lienthong: usage: --status: expected a number or name"},
      {{"sync", "push", "--dossier", "D-1", "--procedure", kCode1, "--status",
        "4"},
       "lienthong: usage: --dossier: "},
      {{"sync", "push", "--dossier", kDossier, "--procedure", kCode1,
        "--status", "4"},
       "lienthong: usage: --cert is required"},
  };
  for (const Case& c : kCases) {
    CliResult result = RunLienthong(c.args);
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    EXPECT_EQ(result.code, 1);
    EXPECT_THAT(result.err, HasSubstr(c.message));
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
        << result.err;
    EXPECT_EQ(result.out, "");
  }
}

TEST_F(SyncCliTest, HelpOnEveryCommandHasExamples) {
  for (const char* command : {"procedures", "status", "dead-letters", "push"}) {
    CliResult result = RunLienthong({"sync", command, "--help"});
    EXPECT_EQ(result.code, 0) << command;
    EXPECT_THAT(result.out, HasSubstr("Examples:\n  lienthong sync "))
        << command;
    EXPECT_THAT(result.out, HasSubstr("Exit codes:")) << command;
    EXPECT_THAT(result.out, HasSubstr("--server")) << command;
  }
  CliResult sync = RunLienthong({"sync", "--help"});
  EXPECT_EQ(sync.code, 0);
  EXPECT_THAT(sync.out, HasSubstr("procedures"));
  EXPECT_THAT(sync.out, HasSubstr("dead-letters"));
  EXPECT_THAT(RunLienthong({"sync", "procedures", "--help"}).out,
              HasSubstr("8 when the job ended with dead letters"));
}

TEST_F(SyncCliTest, CheckValidatesWithoutConnecting) {
  const std::string good = Good();
  CliResult ok =
      RunLienthong({"sync", "procedures", "--file", good, "--check"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, absl::StrCat(good, ": 2 procedures, every row good.\n"));

  const std::string bad = Bad();
  CliResult refused =
      RunLienthong({"sync", "procedures", "--file", bad, "--check"});
  EXPECT_EQ(refused.code, 3);
  EXPECT_EQ(
      refused.err,
      absl::StrCat("lienthong: ", bad, ": 2 of 3 rows bad:\n",
                   "  row 3: missing code\n",
                   "  row 4: wrong level \"online\": expected "
                   "fully_online, partly_online, TOAN_TRINH or "
                   "MOT_PHAN\n",
                   "  row 4: duplicate code ", kCode1, " (first at row 2)\n"));
}

TEST_F(SyncCliTest, BadRowsAreReportedBeforeAnyConnection) {
  const std::string bad = Bad();
  CliResult result = RunLienthong({"sync", "procedures", "--file", bad});
  EXPECT_EQ(result.code, 3);
  EXPECT_THAT(result.err,
              StartsWith(absl::StrCat("lienthong: ", bad,
                                      ": 2 of 3 rows bad; nothing was sent:\n"
                                      "  row 3: missing code\n")));
  EXPECT_THAT(result.err,
              EndsWith("lienthong: fix them, or send only the good rows with "
                       "--skip-invalid\n"));

  const std::string broken = WriteFile(*dir_ / "broken.json", "[{\"code\": ");
  result = RunLienthong({"sync", "procedures", "--file", broken});
  EXPECT_EQ(result.code, 3);
  EXPECT_EQ(result.err,
            absl::StrCat("lienthong: ", broken,
                         ": line 1, column 11: unexpected end of file; "
                         "expected a value; nothing was sent\n"));
}

// ---------------------------------------------------------------------------
// Against a fake PortalSyncService over mutual TLS.

// Blocks until the caller gives up.
void WaitForCancel(grpc::ServerContext* context) {
  while (!context->IsCancelled()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// One WatchSyncJob stream: these messages, then `status`, or with `hang`
// silence until the caller cancels.
struct WatchScript {
  std::vector<SyncJob> messages;
  grpc::Status status = grpc::Status::OK;
  bool hang = false;
};

class FakePortalSync final : public lienthong::v1::PortalSyncService::Service {
 public:
  grpc::Status SyncProcedures(grpc::ServerContext*,
                              const SyncProceduresRequest* request,
                              SyncProceduresResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++sync_calls_;
    last_sync_ = *request;
    if (!sync_error_.ok()) return sync_error_;
    std::set<std::string> sent;
    for (const auto& procedure : request->procedures()) {
      sent.insert(procedure.code());
      ProcedurePlan* plan = response->add_plan();
      plan->set_code(procedure.code());
      auto it = portal_.find(procedure.code());
      if (it == portal_.end()) {
        plan->set_action(ProcedurePlan::CREATE);
        response->set_creates(response->creates() + 1);
      } else if (it->second != procedure.name()) {
        plan->set_action(ProcedurePlan::UPDATE);
        response->set_updates(response->updates() + 1);
      } else {
        plan->set_action(ProcedurePlan::UNCHANGED);
        response->set_unchanged(response->unchanged() + 1);
      }
    }
    if (request->withdraw_missing()) {
      for (const auto& [code, name] : portal_) {
        if (sent.count(code) > 0) continue;
        ProcedurePlan* plan = response->add_plan();
        plan->set_code(code);
        plan->set_action(ProcedurePlan::WITHDRAW);
        response->set_withdrawals(response->withdrawals() + 1);
      }
    }
    if (!request->dry_run() &&
        response->creates() + response->updates() + response->withdrawals() >
            0) {
      response->set_job_id(kJobId);
    }
    return grpc::Status::OK;
  }

  grpc::Status WatchSyncJob(grpc::ServerContext* context,
                            const GetSyncJobRequest* request,
                            grpc::ServerWriter<SyncJob>* writer) override {
    WatchScript script;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++watch_calls_;
      if (request->job_id() != kJobId) {
        return grpc::Status(grpc::NOT_FOUND, "no such sync job");
      }
      if (!scripts_.empty()) {
        script = scripts_[std::min(next_script_++, scripts_.size() - 1)];
      }
    }
    for (const SyncJob& message : script.messages) writer->Write(message);
    if (script.hang) {
      WaitForCancel(context);
      return grpc::Status(grpc::CANCELLED, "caller gave up");
    }
    return script.status;
  }

  grpc::Status GetSyncJob(grpc::ServerContext*,
                          const GetSyncJobRequest* request,
                          SyncJob* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++get_calls_;
    if (request->job_id() != kJobId) {
      return grpc::Status(grpc::NOT_FOUND, "no such sync job");
    }
    *response = job_;
    return grpc::Status::OK;
  }

  grpc::Status PushDossierStatus(grpc::ServerContext*,
                                 const PushDossierStatusRequest* request,
                                 PushDossierStatusResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_push_ = *request;
    push_bytes_.push_back(request->ByteSizeLong());
    for (const auto& update : request->updates()) {
      if (update.dossier_code() == "000.00.01.H31-250715-99999") {
        return grpc::Status(grpc::FAILED_PRECONDITION,
                            "dossier 000.00.01.H31-250715-99999 cannot go "
                            "from RESULT_RETURNED back to PROCESSING");
      }
      const std::string key =
          absl::StrCat(update.dossier_code(), "/", update.status(), "/",
                       update.time().seconds());
      if (pushed_.insert(key).second) {
        response->set_accepted(response->accepted() + 1);
      } else {
        response->set_duplicates(response->duplicates() + 1);
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status ListDeadLetters(grpc::ServerContext*,
                               const ListDeadLettersRequest* request,
                               ListDeadLettersResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    page_sizes_.push_back(request->page_size());
    // Pages of at most two, so that the client has to follow the tokens.
    const size_t size = std::min(request->page_size(), 2);
    size_t start = 0;
    if (!request->page_token().empty()) {
      start = std::stoul(request->page_token());
    }
    const size_t end = std::min(start + size, dead_letters_.size());
    for (size_t i = start; i < end; ++i) {
      *response->add_dead_letters() = dead_letters_[i];
    }
    if (end < dead_letters_.size()) {
      response->set_next_page_token(std::to_string(end));
    }
    return grpc::Status::OK;
  }

  grpc::Status RetryDeadLetters(grpc::ServerContext*,
                                const RetryDeadLettersRequest* request,
                                RetryDeadLettersResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_retry_ = *request;
    response->set_requeued(request->ids_size() > 0
                               ? request->ids_size()
                               : static_cast<int>(dead_letters_.size()));
    return grpc::Status::OK;
  }

  // Set-up, before the calls.
  void SetPortal(std::map<std::string, std::string> portal) {
    std::lock_guard<std::mutex> lock(mu_);
    portal_ = std::move(portal);
  }
  void SetSyncError(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    sync_error_ = std::move(status);
  }
  void SetScripts(std::vector<WatchScript> scripts) {
    std::lock_guard<std::mutex> lock(mu_);
    scripts_ = std::move(scripts);
    next_script_ = 0;
  }
  void SetJob(SyncJob job) {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = std::move(job);
  }
  void SetDeadLetters(std::vector<DeadLetter> dead_letters) {
    std::lock_guard<std::mutex> lock(mu_);
    dead_letters_ = std::move(dead_letters);
  }

  // What happened.
  int sync_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return sync_calls_;
  }
  int watch_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return watch_calls_;
  }
  int get_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return get_calls_;
  }
  SyncProceduresRequest last_sync() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_sync_;
  }
  PushDossierStatusRequest last_push() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_push_;
  }
  RetryDeadLettersRequest last_retry() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_retry_;
  }
  // The size of each PushDossierStatus request, in order.
  std::vector<size_t> push_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return push_bytes_;
  }
  std::vector<int> page_sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return page_sizes_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> portal_;  // code -> name acknowledged
  grpc::Status sync_error_;
  std::vector<WatchScript> scripts_;
  size_t next_script_ = 0;
  SyncJob job_;
  std::vector<DeadLetter> dead_letters_;
  std::set<std::string> pushed_;
  int sync_calls_ = 0;
  int watch_calls_ = 0;
  int get_calls_ = 0;
  SyncProceduresRequest last_sync_;
  PushDossierStatusRequest last_push_;
  RetryDeadLettersRequest last_retry_;
  std::vector<int> page_sizes_;
  std::vector<size_t> push_bytes_;
};

class SyncTlsTest : public ::testing::Test {
 protected:
  // The folder holds the catalogue files the tests write.
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "lienthong_sync_XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = new fs::path(tmpl);
  }

  static void TearDownTestSuite() {
    if (dir_ != nullptr) {
      std::error_code ignored;
      fs::remove_all(*dir_, ignored);
      delete dir_;
      dir_ = nullptr;
    }
  }

  // The server is the gateway and the client the dossier system, both from
  // the development CA.
  void SetUp() override {
    ASSERT_NE(dir_, nullptr) << "could not make a temporary folder";
    // Refusing what the gateway refuses by default: a request over 1 MiB.
    auto server = testing::StartTlsServer(
        {&portal_}, &port_, static_cast<int>(kGatewayDefaultMaxMessageBytes));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    options_.connection = testing::DossierSystemConnection(port_);

    // Fast and hermetic: every refresh prints (plain mode), reconnects do
    // not wait, and nothing depends on the real intervals.
    watch_.terminal = false;
    watch_.tick = absl::Milliseconds(10);
    watch_.plain_interval = absl::ZeroDuration();
    watch_.idle_timeout = absl::Seconds(30);
    watch_.reconnect_backoff = absl::Milliseconds(1);
    watch_.max_reconnects = 3;

    catalogue_ = WriteFile(
        *dir_ / "catalogue.json",
        absl::StrCat("[{\"code\": \"", kCode1,
                     "\", \"name\": \"\u0110a\xCC\x86ng ky\xCC\x81 khai sinh\","
                     " \"level\": \"TOAN_TRINH\"},\n {\"code\": \"",
                     kCode2,
                     "\", \"name\": \"Cấp bản sao trích lục hộ tịch\","
                     " \"level\": \"MOT_PHAN\"}]\n"));
    procedures_.file = catalogue_;
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
    }
  }

  ExitCode Procedures() {
    Clear();
    return RunSyncProcedures(procedures_, options_, watch_, out_, err_);
  }
  ExitCode Status(const SyncStatusArgs& args) {
    Clear();
    return RunSyncStatus(args, options_, watch_, out_, err_);
  }
  ExitCode DeadLetters(const DeadLettersArgs& args) {
    Clear();
    return RunDeadLetters(args, options_, out_, err_);
  }
  ExitCode Push(const PushArgs& args) {
    Clear();
    return RunPush(args, options_, out_, err_);
  }
  void Clear() {
    out_.str("");
    err_.str("");
  }

  static inline fs::path* dir_ = nullptr;

  FakePortalSync portal_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  CommonOptions options_;
  WatchOptions watch_;
  std::string catalogue_;
  SyncProceduresArgs procedures_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(SyncTlsTest, DryRunSendsTheValidatedCatalogueAndQueuesNothing) {
  portal_.SetPortal({{kCode2, "Cấp bản sao trích lục hộ tịch"}});
  procedures_.dry_run = true;
  procedures_.verbose = true;
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  EXPECT_EQ(out_.str(),
            absl::StrCat("Catalogue ", catalogue_, ": 2 procedures.\n",
                         "Plan: 1 to create, 0 to update, 1 unchanged, 0 to "
                         "withdraw.\n",
                         "  create     1.001193.000.00.00.H31  Đăng ký khai "
                         "sinh\n",
                         "  unchanged  2.000123.000.00.00.H31  Cấp bản sao "
                         "trích lục hộ tịch\n",
                         "Dry run: nothing was queued.\n"));
  EXPECT_EQ(err_.str(), "");
  SyncProceduresRequest sent = portal_.last_sync();
  EXPECT_TRUE(sent.dry_run());
  EXPECT_FALSE(sent.withdraw_missing());
  ASSERT_EQ(sent.procedures_size(), 2);
  EXPECT_EQ(sent.procedures(0).name(), "Đăng ký khai sinh");  // NFC now
  EXPECT_EQ(sent.procedures(0).level(),
            lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  EXPECT_EQ(sent.procedures(1).level(),
            lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE);
  EXPECT_EQ(portal_.watch_calls(), 0);
}

TEST_F(SyncTlsTest, BadRowsSendNothing) {
  procedures_.file =
      WriteFile(*dir_ / "bad.json",
                absl::StrCat("[{\"code\": \"", kCode1,
                             "\", \"name\": \"A\", \"level\": \"TOAN_TRINH\"},",
                             "{\"name\": \"B\", \"level\": \"x\"}]"));
  EXPECT_EQ(Procedures(), ExitCode::kInvalidArgument);
  EXPECT_EQ(err_.str(),
            absl::StrCat("lienthong: ", procedures_.file,
                         ": 1 of 2 rows bad; nothing was sent:\n"
                         "  row 2 (line 1): missing code\n"
                         "  row 2 (line 1): wrong level \"x\": expected "
                         "fully_online, partly_online, TOAN_TRINH or "
                         "MOT_PHAN\n"
                         "lienthong: fix them, or send only the good rows "
                         "with --skip-invalid\n"));
  EXPECT_EQ(portal_.sync_calls(), 0);
}

TEST_F(SyncTlsTest, SkipInvalidSendsTheGoodRowsAndListsTheOthers) {
  procedures_.file =
      WriteFile(*dir_ / "mixed.csv",
                absl::StrCat("code,name,level\n", kCode1, ",A,TOAN_TRINH\n",
                             ",B,MOT_PHAN\n", kCode2, ",C,MOT_PHAN\n"));
  procedures_.skip_invalid = true;
  portal_.SetScripts({{{Job(SyncJob::DONE, 2, 0, 2)}}});
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  EXPECT_EQ(err_.str(), absl::StrCat("lienthong: ", procedures_.file,
                                     ": skipping 1 of 3 rows:\n"
                                     "  row 3: missing code\n"));
  SyncProceduresRequest sent = portal_.last_sync();
  ASSERT_EQ(sent.procedures_size(), 2);
  EXPECT_EQ(sent.procedures(0).code(), kCode1);
  EXPECT_EQ(sent.procedures(1).code(), kCode2);
}

TEST_F(SyncTlsTest, FollowsTheJobToDoneInPlainLines) {
  portal_.SetScripts(
      {{{Job(SyncJob::RUNNING, 1, 0, 2), Job(SyncJob::DONE, 2, 0, 2)}}});
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  const std::string out = out_.str();
  EXPECT_THAT(out, StartsWith(absl::StrCat(
                       "Catalogue ", catalogue_, ": 2 procedures.\n",
                       "Plan: 2 to create, 0 to update, 0 unchanged, 0 to "
                       "withdraw.\n",
                       "Job job-1 queued.\n",
                       "Watching until the portal has acknowledged every "
                       "change (Ctrl-C stops watching, not the job).\n",
                       "[  0%] 0/2 delivered, 0 dead-lettered, 0 s\n")));
  EXPECT_THAT(out, HasSubstr("[ 50%] 1/2 delivered, 0 dead-lettered, "));
  EXPECT_THAT(out, HasSubstr("[100%] 2/2 delivered, 0 dead-lettered, "));
  EXPECT_THAT(out, EndsWith(" s.\n"));
  EXPECT_THAT(out, HasSubstr("Done: the portal acknowledged 2 changes in "));
  EXPECT_THAT(out, Not(HasSubstr("\r")));
  EXPECT_EQ(err_.str(), "");
  EXPECT_FALSE(portal_.last_sync().dry_run());
  EXPECT_EQ(portal_.watch_calls(), 1);
}

TEST_F(SyncTlsTest, DoneWithErrorsHasItsOwnExitCodeAndAHint) {
  portal_.SetScripts({{{Job(SyncJob::DONE_WITH_ERRORS, 1, 1, 2)}}});
  EXPECT_EQ(Procedures(), kExitJobHasDeadLetters);
  EXPECT_EQ(static_cast<int>(kExitJobHasDeadLetters), 8);
  EXPECT_THAT(out_.str(), HasSubstr("[100%] 1/2 delivered, 1 dead-lettered"));
  EXPECT_THAT(out_.str(),
              HasSubstr("Done with errors: 1 delivered, 1 dead-lettered, in "));
  EXPECT_EQ(err_.str(),
            "lienthong: the portal refused 1 change for good: see why with "
            "'lienthong sync dead-letters', and requeue with 'lienthong sync "
            "dead-letters --retry' once the cause is fixed\n");
}

TEST_F(SyncTlsTest, TerminalRedrawsTheBarInPlace) {
  watch_.terminal = true;
  portal_.SetScripts(
      {{{Job(SyncJob::RUNNING, 1, 0, 2), Job(SyncJob::DONE, 2, 0, 2)}}});
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  const std::string out = out_.str();
  EXPECT_THAT(out, HasSubstr("\r[..............................] 0/2 "
                             "delivered, 0 dead-lettered, 0 s\x1b[K"));
  EXPECT_THAT(out, HasSubstr("\r[###############...............] 1/2 "
                             "delivered, 0 dead-lettered, "));
  EXPECT_THAT(out, HasSubstr("\r[##############################] 2/2 "
                             "delivered, 0 dead-lettered, "));
  EXPECT_THAT(out, HasSubstr("\x1b[K\nDone: the portal acknowledged 2 "
                             "changes in "));
  EXPECT_THAT(out, Not(HasSubstr("%]")));
}

TEST_F(SyncTlsTest, ReconnectsWhenTheStreamBreaks) {
  portal_.SetScripts({{{Job(SyncJob::RUNNING, 1, 0, 2)},
                       grpc::Status(grpc::UNAVAILABLE, "gateway restarting")},
                      {{Job(SyncJob::DONE, 2, 0, 2)}}});
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  EXPECT_EQ(err_.str(),
            "lienthong: lost the progress stream (UNAVAILABLE: gateway "
            "restarting); reconnecting in 0 s\n");
  EXPECT_EQ(portal_.watch_calls(), 2);
  EXPECT_THAT(out_.str(), HasSubstr("Done: the portal acknowledged 2"));
}

TEST_F(SyncTlsTest, GivesUpAfterTooManyBrokenStreams) {
  watch_.max_reconnects = 2;
  portal_.SetScripts(
      {{{}, grpc::Status(grpc::UNAVAILABLE, "gateway restarting")}});
  EXPECT_EQ(Procedures(), ExitCode::kConnection);
  EXPECT_EQ(portal_.watch_calls(), 3);
  EXPECT_THAT(err_.str(),
              EndsWith("lienthong: UNAVAILABLE: gateway restarting\n"
                       "lienthong: gave up watching; the job goes on: follow "
                       "it with 'lienthong sync status --job job-1 "
                       "--watch'\n"));
}

// The gateway sends the job's state first on each stream: a stream that
// breaks after it brings nothing new, and still counts as a failure.
TEST_F(SyncTlsTest, StreamsThatBreakAfterTheSameStateStillGiveUp) {
  watch_.max_reconnects = 2;
  portal_.SetScripts({{{Job(SyncJob::RUNNING, 1, 0, 2)},
                       grpc::Status(grpc::UNAVAILABLE, "gateway restarting")}});
  portal_.SetJob(Job(SyncJob::RUNNING, 1, 0, 2));
  EXPECT_EQ(Procedures(), ExitCode::kConnection);
  EXPECT_EQ(portal_.watch_calls(), 3);
  EXPECT_THAT(err_.str(), HasSubstr("gave up watching"));
}

TEST_F(SyncTlsTest, AStreamClosedEarlyIsCheckedWithGetSyncJob) {
  portal_.SetScripts({{{Job(SyncJob::RUNNING, 1, 0, 2)}}});
  portal_.SetJob(Job(SyncJob::DONE, 2, 0, 2));
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  EXPECT_EQ(portal_.watch_calls(), 1);
  EXPECT_EQ(portal_.get_calls(), 1);
  EXPECT_THAT(out_.str(), HasSubstr("Done: the portal acknowledged 2"));
}

TEST_F(SyncTlsTest, ASilentStreamIsReopened) {
  watch_.idle_timeout = absl::Milliseconds(200);
  portal_.SetScripts({{{Job(SyncJob::RUNNING, 1, 0, 2)}, {}, true},
                      {{Job(SyncJob::DONE, 2, 0, 2)}}});
  portal_.SetJob(Job(SyncJob::RUNNING, 1, 0, 2));
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  EXPECT_EQ(portal_.watch_calls(), 2);
  EXPECT_EQ(portal_.get_calls(), 1);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(SyncTlsTest, WaitRunsOutButTheJobGoesOn) {
  watch_.wait = absl::Milliseconds(300);
  portal_.SetScripts({{{Job(SyncJob::RUNNING, 1, 0, 2)}, {}, true}});
  EXPECT_EQ(Procedures(), ExitCode::kDeadlineExceeded);
  EXPECT_EQ(err_.str(),
            "lienthong: still RUNNING after --wait 0 s; the job goes on: "
            "follow it with 'lienthong sync status --job job-1 --watch'\n");
}

TEST_F(SyncTlsTest, NothingToChange) {
  portal_.SetPortal({{kCode1, "Đăng ký khai sinh"},
                     {kCode2, "Cấp bản sao trích lục hộ tịch"}});
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  EXPECT_THAT(out_.str(),
              EndsWith("Plan: 0 to create, 0 to update, 2 unchanged, 0 to "
                       "withdraw.\nNothing to change: the portal has this "
                       "catalogue already.\n"));
  EXPECT_EQ(portal_.watch_calls(), 0);
}

TEST_F(SyncTlsTest, WithdrawMissingAndNoWatch) {
  portal_.SetPortal({{"3.000001.000.00.00.H31", "Cũ"}});
  procedures_.withdraw_missing = true;
  procedures_.no_watch = true;
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  EXPECT_TRUE(portal_.last_sync().withdraw_missing());
  EXPECT_THAT(out_.str(),
              EndsWith("Plan: 2 to create, 0 to update, 0 unchanged, 1 to "
                       "withdraw.\nJob job-1 queued.\nFollow it with "
                       "'lienthong sync status --job job-1 --watch'.\n"));
  EXPECT_EQ(portal_.watch_calls(), 0);
}

TEST_F(SyncTlsTest, JsonPrintsTheResponseThenTheFinalJob) {
  options_.json = true;
  portal_.SetScripts(
      {{{Job(SyncJob::RUNNING, 1, 0, 2), Job(SyncJob::DONE, 2, 0, 2)}}});
  EXPECT_EQ(Procedures(), ExitCode::kOk) << err_.str();
  std::vector<std::string> lines =
      absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out_.str();
  SyncProceduresResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(lines[0], &response).ok());
  EXPECT_EQ(response.job_id(), kJobId);
  EXPECT_EQ(response.creates(), 2);
  SyncJob job;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[1], &job).ok());
  EXPECT_EQ(job.state(), SyncJob::DONE);
  EXPECT_EQ(job.delivered(), 2);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(SyncTlsTest, TheGatewayRefusingTheCatalogueIsOneLine) {
  portal_.SetSyncError(
      grpc::Status(grpc::INVALID_ARGUMENT, "procedures[1]: name\nis too long"));
  EXPECT_EQ(Procedures(), ExitCode::kInvalidArgument);
  EXPECT_EQ(err_.str(),
            "lienthong: INVALID_ARGUMENT: procedures[1]: name is too long\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(SyncTlsTest, Status) {
  SyncJob job = Job(SyncJob::RUNNING, 1, 0, 2);
  *job.mutable_created() = Jul15();
  portal_.SetJob(job);
  EXPECT_EQ(Status({kJobId, false}), ExitCode::kOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "Job:            job-1\n"
            "State:          RUNNING\n"
            "Delivered:      1 of 2\n"
            "Dead-lettered:  0\n"
            "Created:        2025-07-15 10:12:03 +07\n");

  EXPECT_EQ(Status({"job-404", false}), ExitCode::kNotFound);
  EXPECT_EQ(err_.str(), "lienthong: NOT_FOUND: no such sync job\n");

  portal_.SetJob(Job(SyncJob::DONE_WITH_ERRORS, 1, 1, 2));
  EXPECT_EQ(Status({kJobId, false}), kExitJobHasDeadLetters);
  EXPECT_THAT(err_.str(), HasSubstr("'lienthong sync dead-letters'"));

  options_.json = true;
  portal_.SetJob(Job(SyncJob::DONE, 2, 0, 2));
  EXPECT_EQ(Status({kJobId, false}), ExitCode::kOk);
  SyncJob parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(out_.str(), &parsed).ok());
  EXPECT_EQ(parsed.state(), SyncJob::DONE);
}

TEST_F(SyncTlsTest, StatusWatchFollowsTheJob) {
  portal_.SetJob(Job(SyncJob::RUNNING, 1, 0, 2));
  portal_.SetScripts({{{Job(SyncJob::DONE, 2, 0, 2)}}});
  EXPECT_EQ(Status({kJobId, true}), ExitCode::kOk) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("Job:            job-1\n"
                                     "State:          RUNNING\n"));
  EXPECT_THAT(out_.str(), HasSubstr("[ 50%] 1/2 delivered"));
  EXPECT_THAT(out_.str(), HasSubstr("Done: the portal acknowledged 2"));
  EXPECT_EQ(portal_.watch_calls(), 1);
}

std::vector<DeadLetter> ThreeDeadLetters() {
  std::vector<DeadLetter> letters(3);
  for (int i = 0; i < 3; ++i) {
    letters[i].set_id(absl::StrCat("dl-", i + 1));
    letters[i].set_kind(i == 0 ? "procedure" : "dossier");
    letters[i].set_code(i == 0 ? kCode1 : kDossier);
    letters[i].set_reason("Mã TTHC không tồn tại");
    letters[i].set_attempts(5);
    *letters[i].mutable_failed_at() = Jul15();
  }
  return letters;
}

TEST_F(SyncTlsTest, DeadLettersFollowEveryPage) {
  portal_.SetDeadLetters(ThreeDeadLetters());
  EXPECT_EQ(DeadLetters({}), ExitCode::kOk) << err_.str();
  EXPECT_EQ(out_.str(),
            absl::StrCat(FormatDeadLetterTable(ThreeDeadLetters()),
                         "\n3 dead letters. Requeue with 'lienthong sync "
                         "dead-letters --retry' (all) or --retry --id ID ... "
                         "once the cause is fixed.\n"));
  EXPECT_THAT(portal_.page_sizes(), ElementsAre(500, 500));

  options_.json = true;
  EXPECT_EQ(DeadLetters({}), ExitCode::kOk);
  std::vector<std::string> lines =
      absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  DeadLetter parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(lines[2], &parsed).ok());
  EXPECT_EQ(parsed.id(), "dl-3");
  EXPECT_EQ(parsed.reason(), "Mã TTHC không tồn tại");
}

TEST_F(SyncTlsTest, NoDeadLetters) {
  EXPECT_EQ(DeadLetters({}), ExitCode::kOk);
  EXPECT_EQ(out_.str(), "No dead letters.\n");
}

TEST_F(SyncTlsTest, RetryDeadLetters) {
  portal_.SetDeadLetters(ThreeDeadLetters());
  EXPECT_EQ(DeadLetters({true, {}}), ExitCode::kOk) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("Requeued 3 dead letters; "));
  EXPECT_THAT(portal_.last_retry().ids(), IsEmpty());

  EXPECT_EQ(DeadLetters({true, {"dl-1", "dl-3"}}), ExitCode::kOk);
  EXPECT_THAT(out_.str(), StartsWith("Requeued 2 dead letters; "));
  EXPECT_THAT(portal_.last_retry().ids(), ElementsAre("dl-1", "dl-3"));

  EXPECT_EQ(DeadLetters({false, {"dl-1"}}), ExitCode::kUsage);
  EXPECT_EQ(err_.str(), "lienthong: usage: --id needs --retry\n");
}

TEST_F(SyncTlsTest, PushOneStatusChange) {
  PushArgs args{kDossier,        kCode1, "4", "2025-07-15 10:12:03",
                "Trần Thị Bình", ""};
  EXPECT_EQ(Push(args), ExitCode::kOk) << err_.str();
  EXPECT_EQ(out_.str(),
            absl::StrCat("Queued for the portal: dossier ", kDossier,
                         ", status 4 PROCESSING at 2025-07-15 10:12:03 +07."
                         "\n"));
  PushDossierStatusRequest sent = portal_.last_push();
  ASSERT_EQ(sent.updates_size(), 1);
  EXPECT_EQ(sent.updates(0).status(), lienthong::v1::PROCESSING);
  EXPECT_EQ(sent.updates(0).time().seconds(), Jul15().seconds());
  EXPECT_EQ(sent.updates(0).handler(), "Trần Thị Bình");

  EXPECT_EQ(Push(args), ExitCode::kOk);
  EXPECT_THAT(out_.str(), StartsWith("Accepted earlier, not queued again: "));

  options_.json = true;
  args.status = "RESULT_RETURNED";
  EXPECT_EQ(Push(args), ExitCode::kOk);
  PushDossierStatusResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(out_.str(), &response).ok());
  EXPECT_EQ(response.accepted(), 1);
}

TEST(ParseTest, BuildPushRequestWithTheRegistrationAndStepFields) {
  const absl::Time now = absl::FromUnixSeconds(Jul15().seconds() + 3600);
  PushArgs args{kDossier, kCode1, "NEW", "2025-07-15 10:12:03", "Lê Văn Tám",
                "Tiếp nhận"};
  args.handler_title = "Công chức";
  args.department = "Bộ phận một cửa";
  args.step_due = "2025-07-18 17:00:00";  // ahead: a legal end
  args.procedure_name = "Đăng ký khai sinh";
  args.field_code = "G09-TP05";
  args.field_name = "Hộ tịch";
  args.applicant_name = "Trần Thị Mai";
  args.applicant_type = "organisation";
  args.email = "mai@example.vn";
  args.phone = "0912 345 678";
  args.summary = "Khai sinh cho con";
  args.received = "2025-07-15 08:00:00";
  args.due = "2025-07-18 17:00:00";
  args.handling_unit = "UBND xã Tân Hưng";
  args.result_by_post = true;
  absl::StatusOr<PushDossierStatusRequest> request = BuildPushRequest(args, now);
  ASSERT_TRUE(request.ok()) << request.status();
  const auto& u = request->updates(0);
  EXPECT_EQ(u.handler_title(), "Công chức");
  EXPECT_EQ(u.department(), "Bộ phận một cửa");
  EXPECT_FALSE(u.has_step_start());
  EXPECT_EQ(u.step_due().seconds(), 1752832800);
  ASSERT_TRUE(u.has_registration());
  const auto& r = u.registration();
  EXPECT_EQ(r.applicant().type(), lienthong::v1::APPLICANT_ORGANISATION);
  EXPECT_EQ(r.applicant().phone(), "0912 345 678");
  EXPECT_EQ(r.received().seconds(), 1752541200);
  EXPECT_TRUE(r.result_by_post());
  EXPECT_EQ(r.handling_unit(), "UBND xã Tân Hưng");
  // Without any registration option, none is sent.
  PushArgs plain{kDossier, kCode1, "4", "", "", ""};
  auto bare = BuildPushRequest(plain, now);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_FALSE(bare->updates(0).has_registration());

  struct Case {
    void (*edit)(PushArgs&);
    const char* message;
  };
  const Case kCases[] = {
      {[](PushArgs& a) { a.email = "mai at example"; },
       "--email: not an e-mail address"},
      {[](PushArgs& a) { a.phone = "call me"; }, "--phone: not a phone number"},
      {[](PushArgs& a) { a.applicant_type = "robot"; },
       "--applicant-type: expected citizen or organisation"},
      {[](PushArgs& a) { a.summary.clear(); }, "--summary: required"},
      {[](PushArgs& a) { a.received.clear(); }, "--received: required"},
      {[](PushArgs& a) { a.received = "soon"; }, "--received: expected"},
      {[](PushArgs& a) { a.step_due = "2099-01-01 00:00:00"; },
       "--step-due: more than ten years"},
      {[](PushArgs& a) { a.department = std::string(300, 'x'); },
       "--department: longer than 256 bytes"},
  };
  for (const Case& c : kCases) {
    PushArgs bad = args;
    c.edit(bad);
    absl::StatusOr<PushDossierStatusRequest> result = BuildPushRequest(bad, now);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message;
    EXPECT_THAT(std::string(result.status().message()), StartsWith(c.message));
    EXPECT_THAT(std::string(result.status().message()),
                ::testing::Not(HasSubstr("0912")));
  }
}

constexpr char kUpdatesFile[] = R"({"updates": [
  {"dossier_code": "000.00.01.H31-250715-00123",
   "procedure_code": "1.001193.000.00.00.H31", "status": "NEW",
   "time": "2025-07-15T03:12:03Z",
   "registration": {"procedure_name": "Đăng ký khai sinh",
     "field_code": "G09-TP05", "field_name": "Hộ tịch",
     "applicant": {"name": "Trần Thị Mai", "type": "APPLICANT_CITIZEN",
                   "phone": "0912345678"},
     "summary": "Khai sinh cho con", "received": "2025-07-15T01:00:00Z",
     "handling_unit": "UBND xã Tân Hưng"}},
  {"dossierCode": "000.00.01.H31-250715-00123",
   "procedureCode": "1.001193.000.00.00.H31", "status": "ACCEPTED",
   "time": "2025-07-15T03:20:00Z", "handler": "Lê Văn Tám"}]})";

TEST(ParseTest, ParsePushFile) {
  const absl::Time now = absl::FromUnixSeconds(Jul15().seconds() + 3600);
  auto request = ParsePushFile(kUpdatesFile, now);
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->updates_size(), 2);
  EXPECT_EQ(request->updates(0).registration().applicant().name(),
            "Trần Thị Mai");
  EXPECT_EQ(request->updates(1).status(), lienthong::v1::ACCEPTED);
  EXPECT_EQ(request->updates(1).handler(), "Lê Văn Tám");

  std::string bad_phone = kUpdatesFile;
  bad_phone.replace(bad_phone.find("0912345678"), 10, "09-12");
  EXPECT_THAT(std::string(ParsePushFile(bad_phone, now).status().message()),
              StartsWith("updates[0].registration.applicant.phone: not a phone"));
  EXPECT_THAT(std::string(ParsePushFile("{\"updates\": [", now).status().message()),
              StartsWith("not a PushDossierStatusRequest in JSON"));
  EXPECT_THAT(std::string(ParsePushFile("{\"updatez\": []}", now).status().message()),
              StartsWith("not a PushDossierStatusRequest in JSON"));
  EXPECT_EQ(ParsePushFile("{}", now).status().message(),
            "the file has no updates");
  // Protobuf's reasons quote the file around a syntax error and a wrongly
  // typed value: neither reaches the message.
  std::string no_comma = kUpdatesFile;
  no_comma.erase(no_comma.find("\"APPLICANT_CITIZEN\",") + 19, 1);
  std::string typed = kUpdatesFile;
  typed.replace(typed.find("\"status\": \"ACCEPTED\""), 20,
                "\"status\": \"912345678\"");
  // A number for a string field is repeated unquoted.
  const std::string quoted_phone = "\"phone\": \"0912345678\"";
  std::string number = kUpdatesFile;
  number.replace(number.find(quoted_phone), quoted_phone.size(),
                 "\"phone\": 912345678");
  for (const std::string& file : {no_comma, typed, number}) {
    const absl::Status refused = ParsePushFile(file, now).status();
    EXPECT_THAT(std::string(refused.message()),
                StartsWith("not a PushDossierStatusRequest in JSON"));
    EXPECT_THAT(std::string(refused.message()),
                Not(HasSubstr("912345678")));
  }
  // A syntax error is placed in the file, in characters ("ễ" is one).
  EXPECT_EQ(ParsePushFile("{\n  \"updates\": [\n    {\"note\": \"Nguyễn\",\n"
                          "     \"status\" 3}]}",
                          now)
                .status()
                .message(),
            "not a PushDossierStatusRequest in JSON: line 4, column 15: "
            "Expected : between key:value pair.");
}

TEST_F(SyncTlsTest, PushAFileOfUpdatesWithRegistrations) {
  PushArgs args;
  args.file = WriteFile(*dir_ / "updates.json", kUpdatesFile);
  // Dated in the test's past: far enough for any clock.
  EXPECT_EQ(Push(args), ExitCode::kOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "Queued for the portal: 2 of 2 updates and 0 registrations; 0 "
            "repeats of updates accepted earlier, not queued again.\n");
  PushDossierStatusRequest sent = portal_.last_push();
  ASSERT_EQ(sent.updates_size(), 2);
  EXPECT_TRUE(sent.updates(0).has_registration());
  EXPECT_EQ(sent.updates(0).registration().applicant().phone(), "0912345678");

  args.dossier_code = kDossier;
  EXPECT_EQ(Push(args), ExitCode::kUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--file takes the updates from the file"));
  // Any other update option too: it would be silently left out.
  args.dossier_code.clear();
  args.procedure_code = "1.001193.000.00.00.H31";
  err_.str("");
  EXPECT_EQ(Push(args), ExitCode::kUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--file takes the updates from the file"));
  args.procedure_code.clear();
  PushArgs missing;
  missing.file = (*dir_ / "nope.json").string();
  EXPECT_EQ(Push(missing), ExitCode::kUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--file: cannot read"));
}

// Returns `count` updates of distinct dossiers, each with a long note, as a
// --file holds them.
PushDossierStatusRequest ManyUpdates(int count) {
  PushDossierStatusRequest request;
  for (int i = 1; i <= count; ++i) {
    lienthong::v1::DossierStatusUpdate& update = *request.add_updates();
    update.set_dossier_code(absl::StrFormat("000.00.01.H31-250715-%05d", i));
    update.set_procedure_code(kCode1);
    update.set_status(lienthong::v1::PROCESSING);
    *update.mutable_time() = Jul15();
    update.set_handler("Nguyễn Văn Cán");
    update.set_handler_title("Công chức tư pháp - hộ tịch");
    std::string note;
    while (note.size() < 1500) note += "Thẩm định hồ sơ, đối chiếu giấy tờ. ";
    update.set_note(note);
  }
  return request;
}

TEST_F(SyncTlsTest, PushAFileOverTheGatewaysMessageLimitInSeveralCalls) {
  const PushDossierStatusRequest updates = ManyUpdates(800);
  // In one call the gateway (and this server) would refuse it all.
  ASSERT_GT(updates.ByteSizeLong(), kGatewayDefaultMaxMessageBytes);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(updates, &json).ok());
  PushArgs args;
  args.file = WriteFile(*dir_ / "many.json", json);
  EXPECT_EQ(Push(args), ExitCode::kOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "Queued for the portal: 800 of 800 updates and 0 registrations; 0 "
            "repeats of updates accepted earlier, not queued again.\n");
  const std::vector<size_t> calls = portal_.push_bytes();
  EXPECT_GE(calls.size(), 2u);
  for (size_t bytes : calls) EXPECT_LE(bytes, kDefaultMaxBatchBytes);

  // A smaller budget, more calls; an update alone over it goes alone.
  args.max_batch_bytes = 100;
  const std::string two = WriteFile(
      *dir_ / "two.json",
      absl::StrCat(
          R"({"updates": [{"dossier_code": "000.00.01.H31-250716-00001", )",
          R"("procedure_code": "1.001193.000.00.00.H31", "status": "NEW", )",
          R"("time": "2025-07-16T03:00:00Z"}, {"dossier_code": )",
          R"("000.00.01.H31-250716-00002", "procedure_code": )",
          R"("1.001193.000.00.00.H31", "status": "NEW", )",
          R"("time": "2025-07-16T03:00:00Z"}]})"));
  args.file = two;
  EXPECT_EQ(Push(args), ExitCode::kOk) << err_.str();
  EXPECT_EQ(portal_.push_bytes().size(), calls.size() + 2);
}

TEST_F(SyncTlsTest, PushACallTheGatewayFindsTooLargeSaysWhichSetting) {
  // A gateway whose listener.limits.max_message_bytes is under the budget.
  const PushDossierStatusRequest updates = ManyUpdates(800);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(updates, &json).ok());
  PushArgs args;
  args.file = WriteFile(*dir_ / "too_large.json", json);
  args.max_batch_bytes = 2 * kGatewayDefaultMaxMessageBytes;
  EXPECT_EQ(Push(args), ExitCode::kOther);
  EXPECT_THAT(err_.str(), StartsWith("lienthong: RESOURCE_EXHAUSTED: "));
  EXPECT_THAT(err_.str(),
              HasSubstr("give a --max-batch-bytes under the gateway's "
                        "listener.limits.max_message_bytes"));
  EXPECT_THAT(portal_.push_bytes(), IsEmpty());
}

TEST_F(SyncTlsTest, ACatalogueOverTheGatewaysMessageLimitNamesTheSetting) {
  // 1,200 procedures with long names: over 1 MiB in the one call.
  std::string csv = "code,name,level\n";
  const std::string name(900, 'a');
  for (int i = 1; i <= 1200; ++i) {
    absl::StrAppend(&csv, absl::StrFormat("1.%06d.000.00.00.H31,", i), name,
                    " ", i, ",TOAN_TRINH\n");
  }
  procedures_.file = WriteFile(*dir_ / "large.csv", csv);
  EXPECT_EQ(Procedures(), ExitCode::kOther);
  EXPECT_THAT(err_.str(), StartsWith("lienthong: the catalogue is "));
  EXPECT_THAT(err_.str(),
              HasSubstr(" bytes in one SyncProcedures call, which cannot be "
                        "split; the gateway refuses it unless its "
                        "listener.limits.max_message_bytes (default 1048576) "
                        "is above that\n"));
  EXPECT_THAT(err_.str(), HasSubstr("lienthong: RESOURCE_EXHAUSTED: "));
  EXPECT_EQ(portal_.sync_calls(), 0);
  EXPECT_EQ(out_.str(), "");

  // Under the default, but over what this gateway is configured to take.
  procedures_.file = catalogue_;
  portal_.SetSyncError(
      grpc::Status(grpc::RESOURCE_EXHAUSTED,
                   "Received message larger than max (300 vs. 256)"));
  EXPECT_EQ(Procedures(), ExitCode::kOther);
  EXPECT_THAT(err_.str(),
              StartsWith("lienthong: RESOURCE_EXHAUSTED: Received message "
                         "larger than max (300 vs. 256)\n"
                         "lienthong: the catalogue is "));
  EXPECT_THAT(err_.str(),
              EndsWith(" bytes in one SyncProcedures call, which cannot be "
                       "split; raise the gateway's "
                       "listener.limits.max_message_bytes above that\n"));
  // Another RESOURCE_EXHAUSTED (a rate limit) is not about the size.
  portal_.SetSyncError(
      grpc::Status(grpc::RESOURCE_EXHAUSTED, "too many requests"));
  EXPECT_EQ(Procedures(), ExitCode::kOther);
  EXPECT_EQ(err_.str(), "lienthong: RESOURCE_EXHAUSTED: too many requests\n");
}

TEST_F(SyncTlsTest, AWaitOfCenturiesIsNoOverflow) {
  auto channel = OpenChannel(options_.connection);
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto stub = lienthong::v1::PortalSyncService::NewStub(*channel);
  for (absl::Duration wait :
       {absl::Seconds(1e10), absl::Seconds(1e300), absl::InfiniteDuration()}) {
    SCOPED_TRACE(wait);
    portal_.SetScripts(
        {{{Job(SyncJob::RUNNING, 1, 0, 2), Job(SyncJob::DONE, 2, 0, 2)}}});
    watch_.wait = wait;
    SyncJob job;
    job.set_job_id(kJobId);
    Clear();
    EXPECT_EQ(FollowJob(*stub, job, options_, watch_, out_, err_),
              ExitCode::kOk)
        << err_.str();
    EXPECT_THAT(out_.str(), HasSubstr("Done: the portal acknowledged 2"));
  }
}

TEST_F(SyncTlsTest, PushAnImpossibleTransition) {
  PushArgs args{"000.00.01.H31-250715-99999", kCode1, "PROCESSING", "", "", ""};
  EXPECT_EQ(Push(args), ExitCode::kOther);
  EXPECT_EQ(err_.str(),
            "lienthong: FAILED_PRECONDITION: dossier "
            "000.00.01.H31-250715-99999 cannot go from RESULT_RETURNED back "
            "to PROCESSING\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(SyncTlsTest, NothingListeningIsAConnectionError) {
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  server_.reset();
  options_.connection.timeout_seconds = 2;
  procedures_.dry_run = true;
  EXPECT_EQ(Procedures(), ExitCode::kConnection);
  EXPECT_THAT(err_.str(), StartsWith("lienthong: UNAVAILABLE: "));
}

}  // namespace
}  // namespace lienthong::cli
