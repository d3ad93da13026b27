// deploy/debian, the package's own files, against the unit and each other
// (the package itself is built and linted by scripts/package.sh): the
// maintainer scripts parse under dash, postinst makes the folders the unit
// and its credentials use and postrm purge removes them, every conffile is
// a file package.cmake installs under /etc, and the lintian overrides give
// a reason for each tag.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy/deploy_testing.h"
#include "tests/testing/subprocess.h"

namespace lienthong::deploy_testing {
namespace {

using ::lienthong::testing::SourcePath;
using ::testing::HasSubstr;

std::string Debian(const std::string& file) {
  return ReadFile(SourcePath("deploy/debian/" + file));
}

TEST(PackageFilesTest, MaintainerScriptsParseUnderDash) {
  const std::string dash = FindTool("dash");
  if (dash.empty()) GTEST_SKIP() << "dash is not installed: scripts not parsed";
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    const std::string text = Debian(script);
    ASSERT_THAT(text, HasSubstr("#!/bin/sh\n")) << script;
    EXPECT_THAT(text, HasSubstr("\nset -e\n")) << script;
    auto run = RunTool(
        {dash, "-n", SourcePath(std::string("deploy/debian/") + script)});
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->exit_code, 0) << script << ": " << run->output;
  }
}

TEST(PackageFilesTest, PostinstMakesWhatTheUnitUsesAndPurgeRemovesIt) {
  const std::string unit =
      ReadFile(SourcePath("deploy/systemd/lienthong-gateway.service"));
  const std::string postinst = Debian("postinst");
  const std::string postrm = Debian("postrm");
  // The unit's user, state folder and credentials folder.
  ASSERT_THAT(unit, HasSubstr("\nUser=lienthong\n"));
  ASSERT_THAT(unit, HasSubstr("\nStateDirectory=lienthong\n"));
  ASSERT_THAT(unit, HasSubstr("\nLogsDirectory=lienthong\n"));
  ASSERT_THAT(unit, HasSubstr(":/etc/lienthong/credentials/"));
  EXPECT_THAT(postinst, HasSubstr("adduser --system --group"));
  EXPECT_THAT(
      postinst,
      HasSubstr("-o lienthong -g lienthong -m 0700 /var/lib/lienthong"));
  EXPECT_THAT(
      postinst,
      HasSubstr("-o lienthong -g lienthong -m 0700 /var/log/lienthong"));
  EXPECT_THAT(postinst, HasSubstr("chmod 0750 /etc/lienthong\n"));
  EXPECT_THAT(postinst, HasSubstr("chown root:lienthong /etc/lienthong\n"));
  EXPECT_THAT(postinst,
              HasSubstr("-o root -g root -m 0700 /etc/lienthong/credentials"));
  EXPECT_THAT(postrm, HasSubstr("\"$1\" = \"purge\""));
  EXPECT_THAT(postrm, HasSubstr("rm -rf /var/lib/lienthong /var/log/lienthong "
                                "/etc/lienthong\n"));
  EXPECT_THAT(postrm, HasSubstr("deluser --system"));
}

TEST(PackageFilesTest, LogrotateRotatesTheAccessLogTheProductionConfigWrites) {
  // The unit's LogsDirectory=lienthong is /var/log/lienthong.
  const std::string unit =
      ReadFile(SourcePath("deploy/systemd/lienthong-gateway.service"));
  ASSERT_THAT(unit, HasSubstr("\nLogsDirectory=lienthong\n"));
  ASSERT_THAT(unit, HasSubstr("\nExecReload=/bin/kill -HUP $MAINPID\n"));
  EXPECT_THAT(ReadFile(SourcePath("deploy/systemd/gateway.yaml")),
              HasSubstr("\n  access_log_file: ${LOGS_DIRECTORY}/access.log\n"));
  const std::string rules = ReadFile(SourcePath("deploy/logrotate/lienthong"));
  EXPECT_THAT(rules, HasSubstr("\n/var/log/lienthong/access.log {\n"));
  EXPECT_THAT(rules, HasSubstr("\tsu lienthong lienthong\n"));
  EXPECT_THAT(rules, HasSubstr("\tcreate 0600 lienthong lienthong\n"));
  // The reload's SIGHUP reopens the renamed file.
  EXPECT_THAT(rules, HasSubstr("systemctl reload lienthong-gateway.service"));
}

TEST(PackageFilesTest, ConffilesAreInstalledUnderEtc) {
  const std::string cmake = Debian("package.cmake");
  int conffiles = 0;
  for (absl::string_view line :
       absl::StrSplit(Debian("conffiles"), '\n', absl::SkipEmpty())) {
    ++conffiles;
    ASSERT_TRUE(absl::StartsWith(line, "/etc/")) << line;
    const std::string file(line.substr(line.rfind('/') + 1));
    const std::string dir(line.substr(0, line.rfind('/')));
    EXPECT_THAT(cmake, HasSubstr("/" + file + " DESTINATION " + dir + ")"))
        << line;
  }
  // The config and logrotate's rules at least: an emptied or moved list
  // would check nothing.
  EXPECT_GE(conffiles, 2);
}

TEST(PackageFilesTest, EachLintianOverrideHasAReason) {
  bool reason = false;
  int overrides = 0;
  for (absl::string_view line :
       absl::StrSplit(Debian("lintian-overrides"), '\n')) {
    if (absl::StartsWith(line, "#")) {
      reason = true;
    } else if (line.empty()) {
      reason = false;
    } else {
      EXPECT_TRUE(reason) << "no comment above: " << line;
      EXPECT_TRUE(absl::StartsWith(line, "lienthong: ")) << line;
      ++overrides;
    }
  }
  EXPECT_GT(overrides, 0);
}

}  // namespace
}  // namespace lienthong::deploy_testing
