// The deploy/ files under the linters their tools ship: yamllint (with
// deploy/.yamllint) on the Kubernetes manifests and the production config,
// `haproxy -c` on the pass-through snippet, merged under a global section
// like Debian's, and `logrotate --debug` on the access log's rotation. Each
// check is shown live: a copy with a planted mistake fails it. Skipped,
// saying so, where the tool is not installed.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy/deploy_testing.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/subprocess.h"

namespace lienthong::deploy_testing {
namespace {

using ::lienthong::testing::SourcePath;
using ::testing::HasSubstr;
using ::testing::Not;

class YamllintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tool_ = FindTool("yamllint");
    if (tool_.empty()) {
      GTEST_SKIP() << "yamllint is not installed (scripts/install-deps.sh "
                      "installs it): manifests not linted";
    }
  }

  ToolRun Lint(const std::vector<std::string>& paths) {
    std::vector<std::string> argv = {
        tool_,      "--strict", "--format",
        "parsable", "-c",       SourcePath("deploy/.yamllint")};
    argv.insert(argv.end(), paths.begin(), paths.end());
    auto run = RunTool(argv);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : ToolRun{};
  }

  std::string tool_;
};

TEST_F(YamllintTest, ManifestsAndProductionConfigAreClean) {
  // deploy/examples is the developers' sample, edited by every adapter's
  // author; the deployable files are these.
  const ToolRun run =
      Lint({SourcePath("deploy/kubernetes"), SourcePath("deploy/systemd")});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "");
}

TEST_F(YamllintTest, PlantedMistakesAreFound) {
  const ::lienthong::testing::ScratchDir scratch("yamllint");
  const std::string& folder = scratch.path();
  ASSERT_FALSE(folder.empty());
  const std::string original =
      ReadFile(SourcePath("deploy/kubernetes/services.yaml"));
  ASSERT_THAT(original, HasSubstr("\nspec:\n"));
  struct Case {
    const char* mistake;
    std::string text;
    const char* rule;
  };
  const Case kCases[] = {
      {"a key twice", original + "metadata:\n  name: again\n",
       "key-duplicates"},
      {"trailing spaces",
       absl::StrReplaceAll(original, {{"\nspec:\n", "\nspec:  \n"}}),
       "trailing-spaces"},
      {"a tab", absl::StrReplaceAll(original, {{"\nspec:\n", "\nspec:\t\n"}}),
       "syntax"},
      {"a bare yes", original + "---\nenabled: yes\n", "truthy"},
  };
  for (const Case& c : kCases) {
    const std::string path = folder + "/manifest.yaml";
    ASSERT_TRUE(WriteFile(path, c.text));
    const ToolRun run = Lint({path});
    EXPECT_NE(run.exit_code, 0) << c.mistake;
    EXPECT_THAT(run.output, HasSubstr(c.rule)) << c.mistake;
  }
}

// Debian's /etc/haproxy/haproxy.cfg global section, which the snippet is
// merged under (it logs through `log global`).
constexpr char kDebianGlobal[] = R"(global
  log /dev/log local0
  log /dev/log local1 notice
  chroot /var/lib/haproxy
  user haproxy
  group haproxy
  daemon

)";

class HaproxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tool_ = FindTool("haproxy");
    if (tool_.empty()) {
      GTEST_SKIP() << "haproxy is not installed (scripts/install-deps.sh "
                      "installs it): deploy/haproxy/haproxy.cfg not checked";
    }
    snippet_ = ReadFile(SourcePath("deploy/haproxy/haproxy.cfg"));
    ASSERT_FALSE(snippet_.empty());
    ASSERT_FALSE(folder_.empty());
  }

  ToolRun Check(const std::string& snippet) {
    const std::string path = folder_ + "/haproxy.cfg";
    EXPECT_TRUE(WriteFile(path, absl::StrCat(kDebianGlobal, snippet)));
    auto run = RunTool({tool_, "-c", "-f", path});
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : ToolRun{};
  }

  std::string tool_;
  std::string snippet_;
  const ::lienthong::testing::ScratchDir scratch_{"haproxy"};
  const std::string folder_ = scratch_.path();
};

TEST_F(HaproxyTest, SnippetIsValidWithoutWarnings) {
  const ToolRun run = Check(snippet_);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Configuration file is valid"));
  EXPECT_THAT(run.output, Not(HasSubstr("WARNING"))) << run.output;
}

TEST_F(HaproxyTest, SnippetPassesTlsThroughAndChecksTheAdminEndpoint) {
  // TCP mode: HAProxy never terminates the gateway's mutual TLS.
  EXPECT_THAT(snippet_, HasSubstr("\n  mode tcp\n"));
  EXPECT_THAT(snippet_, Not(HasSubstr(" ssl ")));
  EXPECT_THAT(snippet_, Not(HasSubstr("crt ")));
  // Health from the admin endpoint's /healthz, on the port the production
  // config's admin.address uses.
  const std::string config =
      ReadFile(SourcePath("deploy/systemd/gateway.yaml"));
  ASSERT_THAT(config, HasSubstr("address: 0.0.0.0:8443"));
  ASSERT_THAT(config, HasSubstr(":9464"));
  EXPECT_THAT(snippet_, HasSubstr("uri /healthz"));
  EXPECT_THAT(snippet_, HasSubstr("check port 9464"));
  EXPECT_THAT(snippet_, HasSubstr("bind :8443"));
}

TEST_F(HaproxyTest, CheckFindsPlantedMistakes) {
  const ToolRun unknown = Check(absl::StrReplaceAll(
      snippet_, {{"balance leastconn", "balance leastcon"}}));
  EXPECT_NE(unknown.exit_code, 0) << unknown.output;
  const ToolRun no_backend = Check(
      absl::StrReplaceAll(snippet_, {{"default_backend lienthong_gateways",
                                      "default_backend lienthong_gateway"}}));
  EXPECT_NE(no_backend.exit_code, 0) << no_backend.output;
}

// deploy/logrotate/lienthong, parsed by logrotate itself in debug mode
// (which changes nothing), with root for the lienthong user that a test
// machine does not have.
class LogrotateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tool_ = FindTool("logrotate");
    if (tool_.empty()) {
      GTEST_SKIP() << "logrotate is not installed (scripts/install-deps.sh "
                      "installs it): deploy/logrotate/lienthong not checked";
    }
    rules_ = ReadFile(SourcePath("deploy/logrotate/lienthong"));
    ASSERT_FALSE(rules_.empty());
    ASSERT_FALSE(folder_.empty());
  }

  ToolRun Check(const std::string& rules) {
    const std::string path = folder_ + "/lienthong";
    EXPECT_TRUE(WriteFile(
        path, absl::StrReplaceAll(rules, {{"lienthong lienthong", "root root"}})));
    auto run = RunTool({tool_, "--debug", "--state", folder_ + "/state", path});
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : ToolRun{};
  }

  std::string tool_;
  std::string rules_;
  const ::lienthong::testing::ScratchDir scratch_{"logrotate"};
  const std::string folder_ = scratch_.path();
};

TEST_F(LogrotateTest, RulesParseAndNameTheProductionAccessLog) {
  const ToolRun run = Check(rules_);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("/var/log/lienthong/access.log"));
  EXPECT_THAT(run.output, Not(HasSubstr("error"))) << run.output;
}

TEST_F(LogrotateTest, CheckFindsPlantedMistakes) {
  // A bad value fails the parse; an unknown option is only reported (and
  // ignored), which the clean run above would show.
  const ToolRun count = Check(
      absl::StrReplaceAll(rules_, {{"rotate 30", "rotate thirty"}}));
  EXPECT_NE(count.exit_code, 0) << count.output;
  const ToolRun unknown =
      Check(absl::StrReplaceAll(rules_, {{"daily", "dayly"}}));
  EXPECT_THAT(unknown.output, HasSubstr("error")) << unknown.output;
}

}  // namespace
}  // namespace lienthong::deploy_testing
