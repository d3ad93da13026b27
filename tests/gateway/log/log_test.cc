#include "gateway/log/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::log {
namespace {

using ::testing::MatchesRegex;

// Returns what `write` sends to standard error.
template <typename Fn>
std::string CaptureStderr(Fn write) {
  const ::lienthong::testing::ScratchDir dir("log-test");
  const int fd = ::open(dir.File("stderr").c_str(), O_RDWR | O_CREAT, 0600);
  EXPECT_GE(fd, 0);
  const int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  write();
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string out;
  char buffer[4096];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

TEST(LogTest, OneJsonLinePerEventWithUtcMillisecondTime) {
  const std::string line = CaptureStderr([] {
    Info("call done", {{"method", "lienthong.v1.PopulationService/Lookup"},
                       {"citizen", "033*******45"}});
  });
  EXPECT_THAT(
      line, MatchesRegex(R"(\{"ts":"20[0-9]{2}-[01][0-9]-[0-3][0-9]T)"
                         R"([0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z",)"
                         R"("level":"info","msg":"call done",)"
                         R"("method":"lienthong.v1.PopulationService/Lookup",)"
                         R"("citizen":"033\*\*\*\*\*\*\*45"\})"
                         "\n"));
}

TEST(LogTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\re\tf\x01g"),
            "a\\\"b\\\\c\\nd\\re\\tf\\u0001g");
  // Other UTF-8 stays as it is.
  EXPECT_EQ(JsonEscape("Nguyễn Văn A"), "Nguyễn Văn A");
  std::string out = "x";
  AppendJsonEscaped("\"", &out);
  EXPECT_EQ(out, "x\\\"");
  const std::string line = CaptureStderr([] {
    Warning("bad \"reply\"\n", {{"k\"", "v\x1f"}});
  });
  EXPECT_THAT(
      line,
      ::testing::HasSubstr(
          R"("level":"warning","msg":"bad \"reply\"\n","k"":"v\u001f"})"));
}

TEST(LogTest, BelowTheLevelWritesNothing) {
  SetLevel(Level::kWarning);
  EXPECT_EQ(CaptureStderr([] { Info("hidden"); }), "");
  SetLevel(Level::kInfo);
}

}  // namespace
}  // namespace lienthong::log
