
#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/cli/run_cli.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using Result = testing::CliResult;
using testing::RunLienthong;

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"LIENTHONG_SERVER", "LIENTHONG_CA", "LIENTHONG_CERT", "LIENTHONG_KEY",
          "LIENTHONG_OFFICER_ID", "LIENTHONG_OFFICER_UNIT",
          "LIENTHONG_OFFICER_ACCOUNT"}) {
      unsetenv(name);
    }
  }
  void TearDown() override { SetUp(); }

  // The officer, as an operator's shell would set it.
  static void SetOfficerEnvironment() {
    setenv("LIENTHONG_OFFICER_ID", "001085004321", 1);
    setenv("LIENTHONG_OFFICER_UNIT", "000.00.31.H31", 1);
    setenv("LIENTHONG_OFFICER_ACCOUNT", "nguyenvana", 1);
  }
};

struct ErrorCase {
  std::vector<std::string> args;
  int code;
  const char* message;
};

TEST_F(AppTest, BadCommandLinesFailLocallyWithOneLine) {
  SetOfficerEnvironment();
  const ErrorCase kCases[] = {
      {{}, 1, "lienthong: usage: A subcommand is required"},
      {{"frobnicate"}, 1, "lienthong: usage: "},
      {{"verify", "--name", "An"}, 1, "--id is required"},
      {{"verify", "--id", "033085012345"}, 1, "--name is required"},
      {{"verify", "--id", "033085012345", "--name", "An", "--bogus"},
       1,
       "--bogus"},
      {{"verify", "--id", "033085012345", "--name", "Nguyễn Văn An", "--dob",
        "1985-13-40"},
       1,
       "lienthong: usage: --dob: month 13 is not 01..12"},
      {{"verify", "--id", "0330850123", "--name", "An"},
       1,
       "lienthong: usage: --id: expected a 12-digit"},
      {{"lookup", "--id", "033085012345", "--purpose", "1.001193"},
       1,
       "--dossier is required"},
      {{"lookup", "--id", "033085012345", "--purpose", "1.001193", "--dossier",
        "D", "--fields", "name,nmae"},
       1,
       "--fields: unknown field \"nmae\""},
      {{"verify", "--id", "033085012345", "--name", "An"},
       1,
       "lienthong: usage: --cert is required (or set LIENTHONG_CERT)"},
      {{"verify", "--id", "033085012345", "--name", "An", "--cert", "c.pem"},
       1,
       "lienthong: usage: --key is required"},
      {{"verify", "--id", "033085012345", "--name", "An", "--timeout", "abc"},
       1,
       "--timeout"},
      {{"verify", "--id", "033085012345", "--name", "An", "--cert", "c.pem",
        "--key", "c.key", "--timeout", "0"},
       1,
       "lienthong: usage: --timeout 0: must be more than 0"},
      {{"verify", "--id", "033085012345", "--name", "An", "--cert",
        "/nonexistent/client.pem", "--key", "/nonexistent/client.key"},
       2,
       "lienthong: tls: --cert /nonexistent/client.pem: cannot read: No such "
       "file or directory"},
      {{"lookup", "--id", "033085012345", "--purpose", "1.001193", "--dossier",
        "D", "--ca", "/nonexistent/ca.pem", "--cert", "/nonexistent/client.pem",
        "--key", "/nonexistent/client.key"},
       2,
       "lienthong: tls: --ca /nonexistent/ca.pem: cannot read"},
  };
  for (const ErrorCase& c : kCases) {
    Result r = RunLienthong(c.args);
    SCOPED_TRACE(r.err);
    EXPECT_EQ(r.code, c.code);
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_THAT(r.err, StartsWith("lienthong: "));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    EXPECT_EQ(r.out, "");
  }
}

// Words no option took are not echoed: after a forgotten --dob, or an
// unquoted name, they are a citizen's data.
TEST_F(AppTest, ArgumentsNoOptionTookAreCountedNotShown) {
  SetOfficerEnvironment();
  Result r = RunLienthong({"verify", "--id", "033085012345", "--name", "Nguyễn",
                           "Văn", "An", "12/03/1985", "--bogus=7"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--bogus"));
  EXPECT_THAT(r.err, HasSubstr("3 values no option takes"));
  for (const char* secret : {"12/03/1985", "Văn", "An ", "=7"}) {
    EXPECT_THAT(r.err, Not(HasSubstr(secret))) << r.err;
  }
}

TEST_F(AppTest, OfficerComesFromOptionsOrEnvironment) {
  const std::vector<std::string> verify = {"verify", "--id", "033085012345",
                                           "--name", "An"};
  Result r = RunLienthong(verify);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "lienthong: usage: --officer-id is required (or set "
            "LIENTHONG_OFFICER_ID): the population database answers only on "
            "behalf of a named officer\n");
  std::vector<std::string> args = verify;
  args.insert(args.end(), {"--officer-id", "001085004321", "--officer-unit",
                           "000.00.31.H31", "--officer-account", "nguyenvana"});
  r = RunLienthong(args);
  EXPECT_THAT(r.err, HasSubstr("--cert is required"));  // past the officer
  SetOfficerEnvironment();
  r = RunLienthong(verify);
  EXPECT_THAT(r.err, HasSubstr("--cert is required"));
  // The command line wins over the environment; the ID is never echoed.
  args = verify;
  args.insert(args.end(), {"--officer-id", "003085004321"});
  r = RunLienthong(args);
  EXPECT_EQ(r.err,
            "lienthong: usage: --officer-id has an unknown province code\n");
  r = RunLienthong({"lookup", "--id", "033085012345", "--purpose", "1.001193",
                    "--dossier", "D", "--officer-account", "a b"});
  EXPECT_THAT(r.err, HasSubstr("lienthong: usage: --officer-account must be"));
}

TEST_F(AppTest, TlsFilesDefaultFromEnvironment) {
  SetOfficerEnvironment();
  setenv("LIENTHONG_CERT", "/nonexistent/env-client.pem", 1);
  setenv("LIENTHONG_KEY", "/nonexistent/env-client.key", 1);
  Result r = RunLienthong({"verify", "--id", "033085012345", "--name", "An"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "lienthong: tls: --cert /nonexistent/env-client.pem: cannot read: "
            "No such file or directory\n");
  // The command line wins over the environment.
  r = RunLienthong({"verify", "--id", "033085012345", "--name", "An", "--cert",
                    "/nonexistent/flag.pem"});
  EXPECT_THAT(r.err, HasSubstr("--cert /nonexistent/flag.pem"));
}

// A TLS file is read within a limit (1 MiB, far above a system's whole CA
// bundle): one with no end is refused, not read into memory.
TEST_F(AppTest, TlsFilesAreReadWithinALimit) {
  SetOfficerEnvironment();
  const std::vector<std::string> verify = {"verify", "--id", "033085012345",
                                           "--name", "An"};
  const struct {
    std::vector<std::string> files;
    const char* message;
  } kCases[] = {
      {{"--ca", "/dev/zero", "--cert", "/dev/null", "--key", "/dev/null"},
       "--ca /dev/zero: larger than 1 MiB"},
      {{"--cert", "/dev/zero", "--key", "/dev/null"},
       "--cert /dev/zero: larger than 1 MiB"},
      {{"--cert", "/dev/null", "--key", "/dev/zero"},
       "--key /dev/zero: larger than 1 MiB"},
  };
  for (const auto& c : kCases) {
    std::vector<std::string> args = verify;
    args.insert(args.end(), c.files.begin(), c.files.end());
    Result r = RunLienthong(args);
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, absl::StrCat("lienthong: tls: ", c.message, "\n"));
  }
}

TEST_F(AppTest, HelpOnEveryCommandHasExamplesAndExitCodes) {
  const std::vector<std::vector<std::string>> kHelps = {
      {"--help"}, {"-h"}, {"verify", "--help"}, {"lookup", "--help"}};
  for (const auto& args : kHelps) {
    Result r = RunLienthong(args);
    SCOPED_TRACE(r.out);
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr("Examples:\n  lienthong "));
    EXPECT_THAT(r.out, HasSubstr("Exit codes:\n  0  ok\n  1  usage error"));
    EXPECT_THAT(r.out, HasSubstr("4  PERMISSION_DENIED or UNAUTHENTICATED"));
  }
  Result verify = RunLienthong({"verify", "--help"});
  EXPECT_THAT(verify.out, HasSubstr("Usage: lienthong verify"));
  EXPECT_THAT(verify.out, HasSubstr("--dob DATE"));
  EXPECT_THAT(verify.out, HasSubstr("(Env:LIENTHONG_CERT)"));
  EXPECT_THAT(verify.out, HasSubstr("--server-name NAME"));
  EXPECT_THAT(verify.out, HasSubstr("--timeout SECONDS=10"));
  EXPECT_THAT(verify.out, HasSubstr("--officer-id ID"));
  EXPECT_THAT(verify.out, HasSubstr("(Env:LIENTHONG_OFFICER_ID)"));
  EXPECT_THAT(verify.out, HasSubstr("NO_MATCH"));
  Result lookup = RunLienthong({"lookup", "--help"});
  EXPECT_THAT(lookup.out, HasSubstr("--fields LIST"));
  EXPECT_THAT(lookup.out, HasSubstr("lienthong lookup --id"));
  EXPECT_THAT(lookup.out, HasSubstr("--officer-unit CODE"));
  EXPECT_THAT(lookup.out, HasSubstr("(Env:LIENTHONG_OFFICER_ACCOUNT)"));
}

// Refuses every byte, as a full disk or a closed standard output does.
class RefusingBuffer : public std::streambuf {
 protected:
  int_type overflow(int_type) override { return traits_type::eof(); }
};

TEST_F(AppTest, OutputThatCannotBeWrittenIsAFailure) {
  RefusingBuffer refusing;
  std::ostream out(&refusing);
  std::ostringstream err;
  lienthong::testing::ScratchDir dir("cli-output");
  const std::vector<std::string> args[] = {
      {"lienthong", "--version"},
      // The key files are written, but the public key never shown.
      {"lienthong", "audit", "keygen", "--signing-key", dir.File("signing.pem"),
       "--hmac-key", dir.File("hmac.key"), "--digest-key",
       dir.File("digest.key")}};
  for (const auto& arg : args) {
    std::vector<const char*> argv;
    for (const std::string& a : arg) argv.push_back(a.c_str());
    err.str("");
    EXPECT_EQ(RunCli(static_cast<int>(argv.size()), argv.data(), out, err), 7)
        << arg[1];
    EXPECT_THAT(err.str(), HasSubstr("cannot write the output")) << arg[1];
  }
}

TEST_F(AppTest, Version) {
  Result r = RunLienthong({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "lienthong 0.1.0\n");
}

}  // namespace
}  // namespace lienthong::cli
