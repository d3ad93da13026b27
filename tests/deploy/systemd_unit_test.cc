// deploy/systemd/lienthong-gateway.service under systemd's own tools:
// `systemd-analyze verify` finds nothing to say about it (with ExecStart
// pointed at the built binary, as verify wants the program to exist, and
// without the man-page lookup, as the man pages exist only in the
// package), and `systemd-analyze security` rates its sandbox. Skipped,
// saying so, where systemd-analyze is not installed.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy/deploy_testing.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/subprocess.h"

namespace lienthong::deploy_testing {
namespace {

using ::lienthong::testing::BinaryPath;
using ::lienthong::testing::SourcePath;
using ::testing::HasSubstr;

constexpr char kInstalledBinary[] = "/usr/sbin/lienthong-gateway";

class SystemdUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tool_ = FindTool("systemd-analyze");
    if (tool_.empty()) {
      GTEST_SKIP() << "systemd-analyze is not installed (package systemd; "
                      "scripts/install-deps.sh installs it): unit not verified";
    }
    unit_ = ReadFile(SourcePath("deploy/systemd/lienthong-gateway.service"));
    ASSERT_THAT(unit_, HasSubstr(kInstalledBinary));
    ASSERT_FALSE(folder_.empty());
  }

  // Writes `unit` as lienthong-gateway.service with ExecStart at the built
  // binary; returns its path.
  std::string WriteUnit(const std::string& unit) {
    const std::string path = folder_ + "/lienthong-gateway.service";
    EXPECT_TRUE(WriteFile(
        path, absl::StrReplaceAll(unit, {{kInstalledBinary,
                                          BinaryPath("gateway/server/"
                                                     "lienthong-gateway")}})));
    return path;
  }

  ToolRun Verify(const std::string& unit) {
    auto run = RunTool({tool_, "verify", "--man=no", WriteUnit(unit)});
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : ToolRun{};
  }

  std::string tool_;
  std::string unit_;
  const ::lienthong::testing::ScratchDir scratch_{"systemd-unit"};
  const std::string folder_ = scratch_.path();
};

TEST_F(SystemdUnitTest, VerifyHasNothingToSay) {
  // verify exits 0 even for a directive it ignores; what it prints is the
  // verdict.
  const ToolRun run = Verify(unit_);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "");
}

TEST_F(SystemdUnitTest, VerifyCatchesWhatAMistypedUnitWouldSilentlyLose) {
  struct Case {
    const char* from;
    const char* to;
    const char* complaint;
  };
  const Case kMistakes[] = {
      {"ProtectSystem=strict", "ProtectSystem=strickt",
       "Failed to parse protect system value"},
      {"NoNewPrivileges=yes", "NoNewPrivilege=yes", "Unknown key"},
      {"Type=notify", "Type=notified", "Failed to parse service type"},
  };
  for (const Case& c : kMistakes) {
    ASSERT_THAT(unit_, HasSubstr(c.from));
    const ToolRun run = Verify(absl::StrReplaceAll(unit_, {{c.from, c.to}}));
    EXPECT_THAT(run.output, HasSubstr(c.complaint)) << c.to;
  }
  const ToolRun missing = Verify(absl::StrReplaceAll(
      unit_, {{kInstalledBinary, "/nonexistent/lienthong-gateway"}}));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.output, HasSubstr("is not executable"));
}

TEST_F(SystemdUnitTest, SandboxExposureIsLow) {
  // systemd's own rating of the sandbox, 0 (locked down) to 10 (none):
  // --threshold takes it times ten and fails above it.
  auto run = RunTool({tool_, "security", "--offline=yes", "--threshold=20",
                      "--no-pager", WriteUnit(unit_)});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->output;
  EXPECT_THAT(run->output, HasSubstr("Overall exposure level"));
  // And the check is live: without the sandbox the same unit fails it.
  std::string bare;
  for (absl::string_view line : absl::StrSplit(unit_, '\n')) {
    if (absl::StartsWith(line, "Protect") ||
        absl::StartsWith(line, "Private") ||
        absl::StartsWith(line, "Restrict") ||
        absl::StartsWith(line, "SystemCall") ||
        absl::StartsWith(line, "Capability") ||
        absl::StartsWith(line, "NoNewPrivileges") ||
        absl::StartsWith(line, "MemoryDeny")) {
      continue;
    }
    absl::StrAppend(&bare, line, "\n");
  }
  auto unsandboxed = RunTool({tool_, "security", "--offline=yes",
                              "--threshold=20", "--no-pager", WriteUnit(bare)});
  ASSERT_TRUE(unsandboxed.ok());
  EXPECT_NE(unsandboxed->exit_code, 0) << unsandboxed->output;
}

}  // namespace
}  // namespace lienthong::deploy_testing
