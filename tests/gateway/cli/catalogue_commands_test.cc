// `lienthong catalogue pull` against a fake PortalSyncService over real
// mutual TLS: the read is started (or joined), followed to its end with a
// progress display, and its outcome printed with the right exit code. And
// the catalogue files' lists as `lienthong sync procedures` pushes them: one
// entry over the limit is refused before anything is sent.
#include "gateway/cli/catalogue_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/cli/catalogue.h"
#include "gateway/cli/sync_commands.h"
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

using ::lienthong::v1::CataloguePull;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::CliResult;
using testing::RunLienthong;

// Reads 3 procedures in full, one more at each GetCataloguePull, then ends
// as `end` says.
class FakeCatalogueService final
    : public lienthong::v1::PortalSyncService::Service {
 public:
  explicit FakeCatalogueService(CataloguePull::State end, bool running)
      : end_(end), running_(running) {}

  grpc::Status PullCatalogue(grpc::ServerContext*,
                             const lienthong::v1::PullCatalogueRequest*,
                             CataloguePull* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++pulls_;
    *response = State();
    response->set_started_now(!running_);
    return grpc::Status::OK;
  }
  grpc::Status GetCataloguePull(grpc::ServerContext*,
                                const lienthong::v1::GetCataloguePullRequest*,
                                CataloguePull* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++read_;
    *response = State();
    return grpc::Status::OK;
  }
  int pulls() {
    std::lock_guard<std::mutex> lock(mu_);
    return pulls_;
  }

 private:
  CataloguePull State() {
    CataloguePull pull;
    pull.set_listed(3);
    pull.set_detailed(std::min(read_, 3));
    pull.set_state(read_ >= 3 ? end_ : CataloguePull::RUNNING);
    if (pull.state() == CataloguePull::FAILED) {
      pull.set_error("the list could not be read: the portal is unreachable");
      pull.set_catalogue_procedures(120);
    }
    if (pull.state() == CataloguePull::DONE) pull.set_catalogue_procedures(3);
    return pull;
  }

  const CataloguePull::State end_;
  const bool running_;
  std::mutex mu_;
  int read_ = 0;
  int pulls_ = 0;
};

class CataloguePullCliTest : public ::testing::Test {
 protected:
  ExitCode Run(FakeCatalogueService& fake, CataloguePullArgs args = {}) {
    int port = 0;
    auto server = testing::StartTlsServer({&fake}, &port);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return ExitCode::kOther;
    options_.connection = testing::DossierSystemConnection(port);
    CataloguePollOptions poll;
    poll.interval = absl::Milliseconds(1);
    poll.plain_interval = absl::ZeroDuration();
    ExitCode code = RunCataloguePull(args, options_, poll, out_, err_);
    (*server)->Shutdown();
    return code;
  }

  CommonOptions options_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CataloguePullCliTest, FollowsTheReadToItsEnd) {
  FakeCatalogueService fake(CataloguePull::DONE, /*running=*/false);
  EXPECT_EQ(Run(fake), ExitCode::kOk) << err_.str();
  const std::string out = out_.str();
  EXPECT_THAT(out, StartsWith("The gateway started reading the national "
                              "procedure database.\n"));
  EXPECT_THAT(out, HasSubstr("] 1/3 read in full, 0 not read, "));
  EXPECT_THAT(out, HasSubstr("[100%] 3/3 read in full, 0 not read, "));
  EXPECT_THAT(out, HasSubstr("Read 3 procedures of the national procedure "
                             "database (3 in full); the gateway checks "
                             "procedure codes against them.\n"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CataloguePullCliTest, AFailedReadExitsSevenAndSaysWhatStays) {
  FakeCatalogueService fake(CataloguePull::FAILED, /*running=*/true);
  EXPECT_EQ(Run(fake), ExitCode::kOther);
  EXPECT_THAT(out_.str(), StartsWith("The gateway was already reading"));
  EXPECT_THAT(out_.str(),
              HasSubstr("The read failed: the list could not be read: the "
                        "portal is unreachable. The previous catalogue (120 "
                        "procedures) stays in use.\n"));
}

TEST(CatalogueOutcomeTest, TheFailureTextIsOnePlainLine) {
  CataloguePull pull;
  pull.set_state(CataloguePull::FAILED);
  pull.set_error("portal said\x1b[2J\nno");
  EXPECT_EQ(FormatCatalogueOutcome(pull),
            "The read failed: portal said\xEF\xBF\xBD[2J no. No catalogue is "
            "in use: procedure codes go unchecked.");
}

TEST_F(CataloguePullCliTest, NoWatchAndJson) {
  FakeCatalogueService fake(CataloguePull::DONE, false);
  CataloguePullArgs args;
  args.no_watch = true;
  EXPECT_EQ(Run(fake, args), ExitCode::kOk);
  EXPECT_THAT(out_.str(), HasSubstr("A read is under way"));
  out_.str("");
  options_.json = true;
  FakeCatalogueService again(CataloguePull::DONE, false);
  EXPECT_EQ(Run(again), ExitCode::kOk);
  CataloguePull printed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(out_.str(), &printed).ok())
      << out_.str();
  EXPECT_EQ(printed.state(), CataloguePull::DONE);
  EXPECT_EQ(printed.detailed(), 3);
}

TEST(CataloguePullCliHelpTest, HelpAndUsage) {
  CliResult help = RunLienthong({"catalogue", "pull", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("Examples:\n  lienthong catalogue pull"));
  EXPECT_THAT(help.out, HasSubstr("LayDanhSachTTHC"));
  CliResult no_cert = RunLienthong({"catalogue", "pull"});
  EXPECT_EQ(no_cert.code, 1);
  EXPECT_THAT(no_cert.err, HasSubstr("--cert is required"));
}

// ---------------------------------------------------------------------------
// Lists in a catalogue file pushed with `lienthong sync procedures`.

constexpr char kCode[] = "1.001193.000.00.00.H31";

// Plans every procedure it is sent as a creation, for a dry run.
class FakeProceduresService final
    : public lienthong::v1::PortalSyncService::Service {
 public:
  grpc::Status SyncProcedures(
      grpc::ServerContext*, const lienthong::v1::SyncProceduresRequest* request,
      lienthong::v1::SyncProceduresResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    last_ = *request;
    for (const auto& procedure : request->procedures()) {
      lienthong::v1::ProcedurePlan* plan = response->add_plan();
      plan->set_code(procedure.code());
      plan->set_action(lienthong::v1::ProcedurePlan::CREATE);
      response->set_creates(response->creates() + 1);
    }
    return grpc::Status::OK;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  lienthong::v1::SyncProceduresRequest last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  std::mutex mu_;
  int calls_ = 0;
  lienthong::v1::SyncProceduresRequest last_;
};

// "Giấy tờ 1" to "Giấy tờ n".
std::vector<std::string> Entries(int n) {
  std::vector<std::string> entries;
  for (int i = 1; i <= n; ++i) entries.push_back(absl::StrCat("Giấy tờ ", i));
  return entries;
}

// One procedure (line 2) with `n` required documents in one cell.
std::string CsvWithDocuments(int n) {
  return absl::StrCat("code,name,level,required_documents\n", kCode,
                      ",Đăng ký khai sinh,TOAN_TRINH,\"",
                      absl::StrJoin(Entries(n), ";"), "\"\n");
}

// One procedure (row 1, on line 2) with `n` legal bases in an array.
std::string JsonWithLegalBasis(int n) {
  return absl::StrCat(
      "[\n  {\"code\": \"", kCode,
      "\", \"name\": \"Đăng ký khai sinh\", \"level\": \"TOAN_TRINH\",\n"
      "   \"legal_basis\": [\"",
      absl::StrJoin(Entries(n), "\", \""), "\"]}\n]\n");
}

class CatalogueListPushTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (std::filesystem::temp_directory_path() /
                        "lienthong_catalogue_lists_XXXXXX")
                           .string();
    if (mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = new std::filesystem::path(tmpl);
  }
  static void TearDownTestSuite() {
    if (dir_ == nullptr) return;
    std::error_code ignored;
    std::filesystem::remove_all(*dir_, ignored);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(dir_, nullptr) << "could not make a temporary folder";
    int port = 0;
    auto server = testing::StartTlsServer({&fake_}, &port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    options_.connection = testing::DossierSystemConnection(port);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  // Runs `lienthong sync procedures --file <dir>/<name> --dry-run` on a file
  // holding `contents`.
  ExitCode Push(const std::string& name, const std::string& contents) {
    args_.file = (*dir_ / name).string();
    std::ofstream(args_.file, std::ios::binary) << contents;
    args_.dry_run = true;
    out_.str("");
    err_.str("");
    return RunSyncProcedures(args_, options_, WatchOptions(), out_, err_);
  }

  static inline std::filesystem::path* dir_ = nullptr;

  FakeProceduresService fake_;
  std::unique_ptr<grpc::Server> server_;
  CommonOptions options_;
  SyncProceduresArgs args_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CatalogueListPushTest, OneEntryOverTheLimitIsRefusedAndNothingSent) {
  ASSERT_EQ(kMaxListEntries, 200);
  struct Case {
    const char* name;
    std::string contents;
    const char* problem;
  };
  const Case kCases[] = {
      {"documents.csv", CsvWithDocuments(201),
       "row 2: required_documents: 201 entries (at most 200)"},
      {"legal_basis.json", JsonWithLegalBasis(201),
       "row 1 (line 2): legal_basis: 201 entries (at most 200)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Push(c.name, c.contents), ExitCode::kInvalidArgument);
    EXPECT_EQ(err_.str(),
              absl::StrCat("lienthong: ", args_.file,
                           ": 1 of 1 row bad; nothing was sent:\n  ", c.problem,
                           "\nlienthong: fix them, or send only the good "
                           "rows with --skip-invalid\n"));
    EXPECT_EQ(out_.str(), "");
  }
  EXPECT_EQ(fake_.calls(), 0);
}

TEST_F(CatalogueListPushTest, ExactlyAtTheLimitIsSent) {
  EXPECT_EQ(Push("documents.csv", CsvWithDocuments(kMaxListEntries)),
            ExitCode::kOk)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("Dry run: nothing was queued.\n"));
  ASSERT_EQ(fake_.calls(), 1);
  lienthong::v1::SyncProceduresRequest sent = fake_.last();
  ASSERT_EQ(sent.procedures_size(), 1);
  EXPECT_EQ(sent.procedures(0).required_documents_size(), kMaxListEntries);
  EXPECT_EQ(sent.procedures(0).required_documents(kMaxListEntries - 1),
            "Giấy tờ 200");

  EXPECT_EQ(Push("legal_basis.json", JsonWithLegalBasis(kMaxListEntries)),
            ExitCode::kOk)
      << err_.str();
  ASSERT_EQ(fake_.calls(), 2);
  sent = fake_.last();
  ASSERT_EQ(sent.procedures_size(), 1);
  EXPECT_EQ(sent.procedures(0).legal_basis_size(), kMaxListEntries);
  EXPECT_EQ(sent.procedures(0).legal_basis(kMaxListEntries - 1), "Giấy tờ 200");
}

}  // namespace
}  // namespace lienthong::cli
