// Tests of the `lienthong bundle` commands that need no server: the request
// built from a file and the options, the resolve request, argument errors
// (nothing sent), and the tables of a bundle and of a list.
#include "gateway/cli/bundle_commands.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/cli/sync_commands.h"
#include "gmock/gmock.h"
#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "lienthong/v1/bundle.grpc.pb.h"
#include "tests/gateway/cli/run_cli.h"
#include "tests/gateway/cli/tls_server.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::Bundle;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::RunLienthong;

constexpr char kOfficerId[] = "033085012345";

// Writes `text` to `name` in this program's scratch folder (removed when it
// ends); returns the file's path.
std::string WriteTemp(const std::string& name, const std::string& text) {
  static const ::lienthong::testing::ScratchDir folder("bundle-commands");
  const std::string path = folder.File(name);
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

constexpr char kBirthJson[] = R"({
  "kind": "BIRTH",
  "dossier_code": "000.00.31.H31-260105-00001",
  "applicant": {"citizen_id": "033190012345", "full_name": "Lê Thị Hoa",
                "relationship": "mẹ"},
  "birth": {
    "child_full_name": "Nguyễn Minh Khang",
    "child_birth_date": {"year": 2026, "month": 1, "day": 2},
    "child_gender": "GENDER_MALE",
    "mother": {"citizen_id": "033190012345", "full_name": "Lê Thị Hoa"},
    "permanent_address": {"province_code": "33", "commune_code": "12103",
                          "detail": "Thôn 3"}
  }
})";

BundleStartArgs StartArgs(const std::string& file) {
  BundleStartArgs args;
  args.file = file;
  args.officer = {kOfficerId, "000.00.31.H31", "canbo.hotich"};
  return args;
}

TEST(BundleCommandsTest, StartRequestIsTheFileWithTheOptionsOverIt) {
  const std::string file = WriteTemp("birth.json", kBirthJson);
  auto request = BuildStartBundleRequest(StartArgs(file));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->kind(), lienthong::v1::BIRTH);
  EXPECT_EQ(request->dossier_code(), "000.00.31.H31-260105-00001");
  EXPECT_EQ(request->birth().mother().full_name(), "Lê Thị Hoa");
  EXPECT_EQ(request->birth().child_birth_date().day(), 2);
  EXPECT_EQ(request->officer().citizen_id(), kOfficerId);
  EXPECT_EQ(request->officer().account(), "canbo.hotich");
  EXPECT_FALSE(request->needs_verification());

  BundleStartArgs args = StartArgs(file);
  args.kind = "death";
  args.dossier = "000.00.31.H31-260105-00002";
  args.verification = true;
  request = BuildStartBundleRequest(args);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->kind(), lienthong::v1::DEATH);
  EXPECT_EQ(request->dossier_code(), "000.00.31.H31-260105-00002");
  EXPECT_TRUE(request->needs_verification());
}

TEST(BundleCommandsTest, StartRefusesBadInputNamingTheOption) {
  const std::string file = WriteTemp("birth2.json", kBirthJson);
  BundleStartArgs no_file = StartArgs("");
  EXPECT_THAT(BuildStartBundleRequest(no_file).status().message(),
              HasSubstr("--file is required"));
  EXPECT_EQ(
      BuildStartBundleRequest(StartArgs("/nonexistent/b.json"))
          .status()
          .message(),
      "--file /nonexistent/b.json: cannot read: No such file or directory");
  const std::string broken = WriteTemp("broken.json", R"({"kind": "BIRTH", )");
  EXPECT_THAT(BuildStartBundleRequest(StartArgs(broken)).status().message(),
              HasSubstr("not a StartBundleRequest"));
  // Protobuf quotes the file around a syntax error: not in the message.
  std::string no_comma = kBirthJson;
  no_comma.replace(no_comma.find("\"033190012345\",") + 14, 1, "");
  EXPECT_THAT(
      BuildStartBundleRequest(StartArgs(WriteTemp("no_comma.json", no_comma)))
          .status()
          .message(),
      AllOf(HasSubstr("not a StartBundleRequest: line 4, column 46: "),
            Not(HasSubstr("033190012345"))));
  BundleStartArgs kind = StartArgs(file);
  kind.kind = "marriage";
  EXPECT_THAT(BuildStartBundleRequest(kind).status().message(),
              HasSubstr("--kind must be birth or death"));
  BundleStartArgs dossier = StartArgs(file);
  dossier.dossier = "not a code";
  EXPECT_FALSE(BuildStartBundleRequest(dossier).ok());
  BundleStartArgs officer = StartArgs(file);
  officer.officer.account.clear();
  EXPECT_THAT(BuildStartBundleRequest(officer).status().message(),
              HasSubstr("--officer-account"));
}

// The request goes in one call, which the gateway refuses over its default
// listener.limits.max_message_bytes: a larger file is refused, and an endless
// one is not read into memory.
TEST(BundleCommandsTest, StartReadsAFileOnlyUpToTheGatewaysMessageLimit) {
  ASSERT_EQ(kGatewayDefaultMaxMessageBytes, size_t{1} << 20);
  // Valid JSON, padded with spaces to the limit: read whole.
  std::string padded = kBirthJson;
  padded.append(kGatewayDefaultMaxMessageBytes - padded.size(), ' ');
  auto request =
      BuildStartBundleRequest(StartArgs(WriteTemp("at_limit.json", padded)));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->birth().mother().full_name(), "Lê Thị Hoa");
  // One byte more, or no end at all.
  const std::string over = WriteTemp("over_limit.json", padded + " ");
  for (const std::string& file : {over, std::string("/dev/zero")}) {
    SCOPED_TRACE(file);
    const absl::Status status =
        BuildStartBundleRequest(StartArgs(file)).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(),
              absl::StrCat("--file ", file, ": larger than 1 MiB"));
  }
  // A usage error, before any connection.
  auto result = RunLienthong({"bundle", "start", "--file", "/dev/zero"});
  EXPECT_EQ(result.code, static_cast<int>(ExitCode::kUsage));
  EXPECT_EQ(result.err,
            "lienthong: usage: --file /dev/zero: larger than 1 MiB\n");
  EXPECT_EQ(result.out, "");
}

TEST(BundleCommandsTest, ResolveIsARetryWithCorrectionsOrAStopWithAReason) {
  BundleResolveArgs args;
  args.bundle_id = "b-3f9a6c21d4e8b7a0";
  args.step = "residence";
  args.sets = {"address.commune_code=12104", "applicant.full_name=Lê Thị Hoa"};
  args.officer = {kOfficerId, "000.00.31.H31", "canbo.motcua"};
  auto retry = BuildResolveRequest(args);
  ASSERT_TRUE(retry.ok()) << retry.status();
  ASSERT_TRUE(retry->has_retry());
  EXPECT_EQ(retry->step(), "residence");
  EXPECT_EQ(retry->retry().corrections().at("address.commune_code"), "12104");
  EXPECT_EQ(retry->retry().corrections().at("applicant.full_name"), "Lê Thị Hoa");
  EXPECT_EQ(retry->officer().account(), "canbo.motcua");

  BundleResolveArgs stop = args;
  stop.sets.clear();
  stop.stop = true;
  stop.reason = "Người nộp hồ sơ rút hồ sơ";
  auto stopped = BuildResolveRequest(stop);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_TRUE(stopped->has_stop());
  EXPECT_EQ(stopped->stop().reason(), "Người nộp hồ sơ rút hồ sơ");

  BundleResolveArgs bad = args;
  bad.sets = {"=12104"};
  EXPECT_THAT(BuildResolveRequest(bad).status().message(),
              HasSubstr("--set must be key=value"));
  bad.sets = {"no-equals"};
  EXPECT_FALSE(BuildResolveRequest(bad).ok());
  // One key twice: refused, naming the key and neither value.
  bad.sets = {"applicant.full_name=Lê Thị Hoa", "address.commune_code=12104",
              "applicant.full_name=Lê Thị Hòa"};
  const absl::Status twice = BuildResolveRequest(bad).status();
  EXPECT_EQ(twice.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(twice.message(),
              HasSubstr("--set gives 'applicant.full_name' twice"));
  EXPECT_THAT(twice.message(), Not(HasSubstr("Hoa")));
  bad = stop;
  bad.reason = "  ";
  EXPECT_THAT(BuildResolveRequest(bad).status().message(),
              HasSubstr("--stop needs --reason"));
  bad = stop;
  bad.sets = {"a=b"};
  EXPECT_THAT(BuildResolveRequest(bad).status().message(),
              HasSubstr("cannot go with --set"));
  bad = args;
  bad.step.clear();
  EXPECT_THAT(BuildResolveRequest(bad).status().message(), HasSubstr("--step"));
  bad = args;
  bad.bundle_id.clear();
  EXPECT_THAT(BuildResolveRequest(bad).status().message(), HasSubstr("--id"));
}

TEST(BundleCommandsTest, UsageErrorsSendNothing) {
  auto result = RunLienthong({"bundle", "status"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("--id or --dossier"));
  result = RunLienthong({"bundle", "watch", "--id", "b-1", "--dossier",
                         "000.00.31.H31-260105-00001"});
  EXPECT_EQ(result.code, 1);
  result = RunLienthong({"bundle", "list", "--state", "sleeping"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("--state must be"));
  result = RunLienthong({"bundle", "resolve", "--id", "b-1", "--stop"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("--reason"));
  result = RunLienthong({"bundle"});
  EXPECT_NE(result.code, 0);
}

TEST(BundleCommandsTest, HelpListsEverySubcommandAndTheWatchExitCodes) {
  auto result = RunLienthong({"bundle", "--help"});
  EXPECT_EQ(result.code, 0);
  for (const char* sub : {"start", "status", "watch", "resolve", "overdue", "list"}) {
    EXPECT_THAT(result.out, HasSubstr(sub));
  }
  result = RunLienthong({"bundle", "watch", "--help"});
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.out, HasSubstr("10 the bundle was stopped"));
  EXPECT_THAT(result.out, HasSubstr("--until-officer"));
}

// Each subcommand's own options, as its --help lists them (an option line
// starts "  --name "), and options of its siblings it must not take.
TEST(BundleCommandsTest, EachSubcommandHasItsOwnOptions) {
  struct Case {
    const char* sub;
    std::vector<const char*> has;
    std::vector<const char*> lacks;
  };
  const Case kCases[] = {
      {"start",
       {"--file", "--kind", "--dossier", "--verification", "--watch",
        "--until-officer", "--wait", "--json"},
       {"--id", "--step", "--state"}},
      {"status",
       {"--id", "--dossier", "--json"},
       {"--until-officer", "--wait"}},
      {"watch", {"--id", "--dossier", "--until-officer", "--wait"}, {"--file"}},
      {"resolve",
       {"--id", "--step", "--set", "--stop", "--reason"},
       {"--dossier", "--wait"}},
      {"overdue", {"--agency", "--kind", "--json"}, {"--state", "--overdue"}},
      {"list", {"--state", "--overdue", "--agency", "--kind"}, {"--wait"}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.sub);
    auto result = RunLienthong({"bundle", c.sub, "--help"});
    EXPECT_EQ(result.code, 0);
    for (const char* option : c.has) {
      EXPECT_THAT(result.out, HasSubstr(absl::StrCat("\n  ", option, " ")))
          << option;
    }
    for (const char* option : c.lacks) {
      EXPECT_THAT(result.out, Not(HasSubstr(absl::StrCat("\n  ", option, " "))))
          << option;
    }
  }
  // Refused while parsing, before anything is sent.
  auto result = RunLienthong({"bundle", "overdue", "--state", "running"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("not expected"));
  result = RunLienthong({"bundle", "start", "--wait", "soon"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("--wait"));
}

// A negative --wait once meant "forever", and "nan" or "inf" cannot make a
// deadline: each is a usage error, before anything is sent.
TEST(BundleCommandsTest, WaitIsAFiniteNumberOfSecondsOrUsage) {
  for (const char* wait : {"-5", "nan", "inf"}) {
    SCOPED_TRACE(wait);
    auto result =
        RunLienthong({"bundle", "watch", "--id", "b-1", "--wait", wait});
    EXPECT_EQ(result.code, static_cast<int>(ExitCode::kUsage));
    EXPECT_THAT(result.err,
                StartsWith("lienthong: usage: --wait: expected a number of "
                           "seconds, 0 or more"));
    EXPECT_EQ(result.out, "");
  }
  auto result = RunLienthong(
      {"bundle", "start", "--file", "b.json", "--watch", "--wait", "-1"});
  EXPECT_EQ(result.code, static_cast<int>(ExitCode::kUsage));
  EXPECT_THAT(result.err, HasSubstr("--wait: expected a number of seconds"));
}

Bundle SampleBundle() {
  Bundle b;
  b.set_bundle_id("b-3f9a6c21d4e8b7a0");
  b.set_kind(lienthong::v1::BIRTH);
  b.set_title("Liên thông khai sinh");
  b.set_dossier_code("000.00.31.H31-260105-00001");
  b.set_state(lienthong::v1::BUNDLE_WAITING_FOR_OFFICER);
  b.mutable_created()->set_seconds(1767578400);   // 2026-01-05 09:00 +07
  b.mutable_deadline()->set_seconds(1767837600);  // 2026-01-08 09:00 +07
  b.set_deadline_working_days(3);
  b.set_overdue(true);
  auto* civil = b.add_steps();
  civil->set_name("civil_status");
  civil->set_agency("UBND xã (hộ tịch)");
  civil->set_state(lienthong::v1::STEP_DONE);
  (*civil->mutable_outputs())["citizen_id"] = "033226000123";
  (*civil->mutable_outputs())["birth_certificate_number"] = "KS.033.2026.000101";
  auto* residence = b.add_steps();
  residence->set_name("residence");
  residence->set_agency("Công an xã");
  residence->set_state(lienthong::v1::STEP_REFUSED);
  residence->set_refusal_reason("Không tìm thấy địa chỉ\nđăng ký thường trú");
  residence->add_after("civil_status");
  auto* card = b.add_steps();
  card->set_name("health_insurance");
  card->set_agency("Bảo hiểm xã hội tỉnh");
  card->set_state(lienthong::v1::STEP_RUNNING);
  card->set_attempts(3);
  card->set_last_error("agency unavailable");
  return b;
}

// A gateway that hands out the same page token again: the command stops,
// saying so, instead of reading that page forever.
class RepeatingBundles final : public lienthong::v1::BundleService::Service {
 public:
  grpc::Status ListBundles(grpc::ServerContext*,
                           const lienthong::v1::ListBundlesRequest* request,
                           lienthong::v1::ListBundlesResponse* page) override {
    ++calls;
    page->add_bundles()->set_bundle_id(absl::StrCat("b-", calls.load()));
    // p1, p2, p1, ...: a cycle, not only a token repeated at once.
    page->set_next_page_token(request->page_token() == "p1" ? "p2" : "p1");
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
};

TEST(BundleCommandsTest, ListStopsWhenAPageTokenComesAgain) {
  RepeatingBundles bundles;
  int port = 0;
  auto server = testing::StartTlsServer({&bundles}, &port);
  ASSERT_TRUE(server.ok()) << server.status();
  CommonOptions options;
  options.connection = testing::DossierSystemConnection(port);
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunBundleList(BundleListArgs(), options, out, err),
            ExitCode::kOther);
  EXPECT_THAT(err.str(), HasSubstr("same page token twice"));
  EXPECT_EQ(bundles.calls.load(), 3);
  (*server)->Shutdown(std::chrono::system_clock::now());
}

// A gateway whose WatchBundle streams break: each stream shows the bundle
// as `views` has it for that stream (the last for any later one), then
// ends UNAVAILABLE, as a gateway restarting or closing a connection at its
// maximum age does; a stream whose view has ended ends OK.
class BreakingWatch final : public lienthong::v1::BundleService::Service {
 public:
  explicit BreakingWatch(std::vector<lienthong::v1::BundleState> views)
      : views_(std::move(views)) {}
  grpc::Status WatchBundle(grpc::ServerContext*,
                           const lienthong::v1::GetBundleRequest*,
                           grpc::ServerWriter<Bundle>* writer) override {
    const int stream = streams++;
    Bundle view = SampleBundle();
    view.set_state(views_[std::min<size_t>(stream, views_.size() - 1)]);
    writer->Write(view);
    if (view.state() == lienthong::v1::BUNDLE_COMPLETED) {
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway going away");
  }
  std::atomic<int> streams{0};

 private:
  const std::vector<lienthong::v1::BundleState> views_;
};

struct WatchRun {
  ExitCode code;
  std::string out;
  std::string err;
};

WatchRun Watch(BreakingWatch& gateway, BundleWatchOptions watch) {
  int port = 0;
  auto server = testing::StartTlsServer({&gateway}, &port);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return {ExitCode::kOther, "", ""};
  CommonOptions options;
  options.connection = testing::DossierSystemConnection(port);
  watch.reconnect_backoff = absl::Milliseconds(1);
  std::ostringstream out;
  std::ostringstream err;
  const ExitCode code =
      RunBundleWatch({"b-3f9a6c21d4e8b7a0", ""}, options, watch, out, err);
  (*server)->Shutdown(std::chrono::system_clock::now());
  return {code, out.str(), err.str()};
}

TEST(BundleCommandsTest, WatchOpensALostStreamAgainUntilTheBundleEnds) {
  BreakingWatch gateway({lienthong::v1::BUNDLE_RUNNING,
                         lienthong::v1::BUNDLE_RUNNING,
                         lienthong::v1::BUNDLE_COMPLETED});
  const WatchRun run = Watch(gateway, BundleWatchOptions());
  EXPECT_EQ(run.code, ExitCode::kOk) << run.err;
  EXPECT_EQ(gateway.streams.load(), 3);
  EXPECT_THAT(run.err, HasSubstr("lost the bundle's stream (UNAVAILABLE: "
                                 "gateway going away); reconnecting in "));
  // The view shown again after a reconnection is no change: one line for
  // the bundle running, one for it completed.
  EXPECT_THAT(run.out, HasSubstr(": running"));
  EXPECT_THAT(run.out, HasSubstr(": completed"));
}

TEST(BundleCommandsTest, WatchGivesUpOnAStreamThatKeepsBreakingUnchanged) {
  BreakingWatch gateway({lienthong::v1::BUNDLE_RUNNING});
  BundleWatchOptions watch;
  watch.max_reconnects = 3;
  const WatchRun run = Watch(gateway, watch);
  EXPECT_EQ(run.code, ExitCode::kConnection);
  EXPECT_EQ(gateway.streams.load(), 4);  // the first and three more
  EXPECT_THAT(run.err,
              HasSubstr("the bundle goes on; follow it with 'lienthong "
                        "bundle watch --id b-3f9a6c21d4e8b7a0'"));
}

TEST(BundleCommandsTest, BundleTableShowsEachStepWithItsDetail) {
  const std::string text = FormatBundle(SampleBundle());
  EXPECT_THAT(text, HasSubstr("b-3f9a6c21d4e8b7a0"));
  EXPECT_THAT(text, HasSubstr("waiting for officer"));
  EXPECT_THAT(text, HasSubstr("OVERDUE (3 working days)"));
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::vector<std::string> steps;
  bool table = false;
  for (const std::string& line : lines) {
    if (absl::StartsWith(line, "STEP")) table = true;
    if (table && !line.empty()) steps.push_back(line);
  }
  ASSERT_EQ(steps.size(), 4u) << text;
  EXPECT_THAT(steps[1], HasSubstr("birth_certificate_number=KS.033.2026.000101 "
                                  "citizen_id=033226000123"));
  EXPECT_THAT(steps[1], HasSubstr("done"));
  // The reason's newline does not break the table.
  EXPECT_THAT(steps[2],
              HasSubstr("refused: Không tìm thấy địa chỉ đăng ký thường trú"));
  EXPECT_THAT(steps[3], HasSubstr("retrying (3 calls): agency unavailable"));
  // Columns line up, counted in characters (Vietnamese agency names).
  const size_t state_column = steps[0].find("STATE");
  auto column_of = [](const std::string& line, const std::string& word) {
    // Characters before `word`, not bytes.
    const std::string before = line.substr(0, line.find(word));
    size_t chars = 0;
    for (char c : before) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return chars;
  };
  EXPECT_EQ(column_of(steps[1], "done"), state_column);
  EXPECT_EQ(column_of(steps[2], "refused"), state_column);
  EXPECT_EQ(column_of(steps[3], "running"), state_column);
}

// What `bundle watch` prints of the gateway's text is one line each, with
// nothing a terminal would act on.
TEST(BundleCommandsTest, WatchLinesShowTheGatewaysTextAsPlainLines) {
  Bundle b = SampleBundle();
  b.set_bundle_id("b-1\x1b]0;owned\x07");
  b.mutable_steps(0)->set_name("civil\nstatus");
  b.mutable_steps(0)->set_agency("UBND\x1b[2J");
  for (const std::string& line : BundleChanges(nullptr, b)) {
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
    EXPECT_EQ(line.find('\x07'), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  }
  const std::vector<std::string> lines = BundleChanges(nullptr, b);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_THAT(lines[0],
              HasSubstr("bundle b-1\xEF\xBF\xBD]0;owned\xEF\xBF\xBD: "));
  EXPECT_THAT(lines[1], HasSubstr("civil status (UBND\xEF\xBF\xBD[2J): "));
}

TEST(BundleCommandsTest, ListTableSaysWhereEachBundleWaits) {
  EXPECT_EQ(FormatBundleList({}), "No bundles.\n");
  const std::string text = FormatBundleList({SampleBundle()});
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << text;
  EXPECT_THAT(lines[0], StartsWith("BUNDLE"));
  EXPECT_THAT(lines[1], HasSubstr("birth"));
  EXPECT_THAT(lines[1], HasSubstr("OVERDUE"));
  EXPECT_THAT(lines[1],
              HasSubstr("residence (refused), health_insurance (running)"));
  EXPECT_THAT(lines[1], Not(HasSubstr("civil_status")));
}

// A stop asked for while a step is with its agency: the bundle says so, and
// what it waits for, until the stop takes effect.
TEST(BundleCommandsTest, AStopThatWaitsSaysWhichStepsItWaitsFor) {
  Bundle asked = SampleBundle();
  asked.set_stop_requested(true);
  asked.set_stop_reason("Người nộp hồ sơ rút hồ sơ");
  const std::string text = FormatBundle(asked);
  EXPECT_THAT(text, HasSubstr("waiting for officer, stop requested"));
  EXPECT_THAT(text, HasSubstr("takes effect once health_insurance (Bảo hiểm "
                              "xã hội tỉnh) has answered"));
  EXPECT_THAT(text, HasSubstr("Người nộp hồ sơ rút hồ sơ"));
  EXPECT_EQ(StopPendingNote(asked),
            "\nStop requested: it takes effect once the step with its agency "
            "has answered (health_insurance (Bảo hiểm xã hội tỉnh)); no other "
            "step starts meanwhile.\n");
  EXPECT_THAT(FormatBundleList({asked}),
              HasSubstr("waiting for officer, stop requested"));

  // Two steps with their agencies.
  Bundle two = asked;
  two.mutable_steps(1)->set_state(lienthong::v1::STEP_RUNNING);
  EXPECT_THAT(StopPendingNote(two),
              HasSubstr("once the steps with their agencies have answered "
                        "(residence (Công an xã), health_insurance (Bảo hiểm "
                        "xã hội tỉnh))"));

  // No stop asked for, or one that took effect: nothing to say.
  EXPECT_EQ(StopPendingNote(SampleBundle()), "");
  EXPECT_THAT(FormatBundle(SampleBundle()), Not(HasSubstr("stop requested")));
  Bundle stopped = asked;
  stopped.set_state(lienthong::v1::BUNDLE_STOPPED);
  for (auto& step : *stopped.mutable_steps()) {
    if (step.state() != lienthong::v1::STEP_DONE) {
      step.set_state(lienthong::v1::STEP_SKIPPED);
    }
  }
  EXPECT_EQ(StopPendingNote(stopped), "");
  EXPECT_THAT(FormatBundle(stopped), Not(HasSubstr("stop requested")));
  EXPECT_THAT(FormatBundle(stopped), HasSubstr("Người nộp hồ sơ rút hồ sơ"));
}

}  // namespace
}  // namespace lienthong::cli
