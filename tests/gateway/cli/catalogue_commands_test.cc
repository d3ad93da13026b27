// `lienthong catalogue pull` against a fake PortalSyncService over real
// mutual TLS: the read is started (or joined), followed to its end with a
// progress display, and its outcome printed with the right exit code.
#include "gateway/cli/catalogue_commands.h"

#include <mutex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
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

}  // namespace
}  // namespace lienthong::cli
