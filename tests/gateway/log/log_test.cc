#include "gateway/log/log.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/log/access_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::log {
namespace {

using ::lienthong::testing::ScratchDir;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::SizeIs;

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

TEST(LogTest, ALineCutShortByASignalIsFinished) {
  // stderr as a pipe read slowly: a line longer than the pipe holds is
  // written in parts, and a signal that arrives between them makes write(2)
  // return what it has written so far.
  struct sigaction action = {};
  action.sa_handler = [](int) {};
  sigemptyset(&action.sa_mask);  // no SA_RESTART
  struct sigaction saved_action;
  ASSERT_EQ(sigaction(SIGUSR1, &action, &saved_action), 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const int saved = dup(STDERR_FILENO);
  ASSERT_EQ(dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
  const std::string message(1 << 20, 'm');
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Error(message);
    done = true;
  });
  std::string out;
  char buffer[4096];
  while (!done) {
    pthread_kill(writer.native_handle(), SIGUSR1);
    struct pollfd readable = {fds[0], POLLIN, 0};
    if (::poll(&readable, 1, 10) != 1) continue;
    const ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    ASSERT_GT(n, 0);
    out.append(buffer, static_cast<size_t>(n));
  }
  writer.join();
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[1]);
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof(buffer))) > 0;) {
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  sigaction(SIGUSR1, &saved_action, nullptr);
  EXPECT_THAT(out, HasSubstr(absl::StrCat(R"("msg":")", message, "\"}\n")));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(LogTest, TheTimeIsTheTimeOfWritingAcrossSeconds) {
  // Two lines in different seconds: each carries its own second.
  for (int i = 0; i < 2; ++i) {
    const absl::Time before = absl::Now();
    const std::string line = CaptureStderr([] { Info("tick"); });
    const absl::Time after = absl::Now();
    const size_t at = line.find(R"("ts":")");
    ASSERT_NE(at, std::string::npos) << line;
    absl::Time ts;
    std::string error;
    ASSERT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%E3SZ", line.substr(at + 6, 24),
                                absl::UTCTimeZone(), &ts, &error))
        << line << error;
    EXPECT_GE(ts, absl::FromUnixMillis(absl::ToUnixMillis(before)));
    EXPECT_LE(ts, after);
    absl::SleepFor(absl::Milliseconds(1100));
  }
}

TEST(LogTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\re\tf\x01g"),
            "a\\\"b\\\\c\\nd\\re\\tf\\u0001g");
  // Other UTF-8 stays as it is.
  EXPECT_EQ(JsonEscape("Nguyễn Văn A"), "Nguyễn Văn A");
  // DEL and C1 controls, a right-to-left override (a spoofed caller would
  // show reordered) and U+2028/U+2029 are escaped; ill-formed UTF-8 becomes
  // U+FFFD, so that every line is valid JSON.
  EXPECT_EQ(JsonEscape("a\x7f\xc2\x85\xe2\x80\xaez\xe2\x80\xa8"),
            "a\\u007f\\u0085\\u202ez\\u2028");
  EXPECT_EQ(JsonEscape("\xff\xfe!\xe1\xba"),
            "\xef\xbf\xbd\xef\xbf\xbd!\xef\xbf\xbd");
  std::string out = "x";
  AppendJsonEscaped("\"", &out);
  EXPECT_EQ(out, "x\\\"");
  const std::string line = CaptureStderr([] {
    Warning("bad \"reply\"\n", {{"k\"", "v\x1f"}});
  });
  EXPECT_THAT(
      line,
      ::testing::HasSubstr(
          R"("level":"warning","msg":"bad \"reply\"\n","k\"":"v\u001f"})"));
}

TEST(LogTest, BelowTheLevelWritesNothing) {
  SetLevel(Level::kWarning);
  EXPECT_EQ(CaptureStderr([] { Info("hidden"); }), "");
  SetLevel(Level::kInfo);
}

// The whole file at `path`, or "" when it cannot be read.
std::string ReadAll(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return out;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// Waits up to 5 s for `path` to hold at least `bytes` bytes.
bool WaitForSize(const std::string& path, size_t bytes) {
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (ReadAll(path).size() < bytes) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// A line of `size` bytes, the newline included.
std::string LineOf(size_t size, char fill) {
  return std::string(size - 1, fill) + "\n";
}

// Options under which nothing is written until Flush() or destruction.
AccessFile::Options OnlyWhenAsked() {
  AccessFile::Options options;
  options.flush_interval = absl::Hours(1);
  options.flush_bytes = 1 << 30;
  return options;
}

TEST(AccessFileTest, AccessLinesGoToTheFileWhateverTheLevelAndNotToStderr) {
  const ScratchDir dir("access-file");
  auto file = AccessFile::Open(dir.File("access.log"));
  ASSERT_TRUE(file.ok()) << file.status();
  SetLevel(Level::kWarning);
  SetAccessFile(file->get());
  const std::string err = CaptureStderr([] {
    WriteAccess({{"method", "lienthong.v1.PopulationService/LookupCitizen"},
                 {"code", "OK"}});
    WriteAccess({{"method", "lienthong.v1.RecordService/GetRecord"}});
  });
  SetAccessFile(nullptr);
  SetLevel(Level::kInfo);
  (*file)->Flush();
  EXPECT_EQ(err, "");
  const std::vector<std::string> lines = Lines(ReadAll(dir.File("access.log")));
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_THAT(lines[0], MatchesRegex(R"(\{"ts":"[-0-9T:.]+Z","level":"info",)"
                                     R"("msg":"access","method":"lienthong\.v1\.)"
                                     R"(PopulationService/LookupCitizen",)"
                                     R"("code":"OK"\})"));
  EXPECT_THAT(lines[1], HasSubstr(R"("method":"lienthong.v1.RecordService/GetRecord")"));
  struct stat st;
  ASSERT_EQ(::stat(dir.File("access.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(AccessFileTest, WithoutAFileAccessLinesGoToStderrAtInfo) {
  SetAccessFile(nullptr);
  EXPECT_THAT(CaptureStderr([] { WriteAccess({{"code", "OK"}}); }),
              HasSubstr(R"("level":"info","msg":"access","code":"OK"})"));
  SetLevel(Level::kWarning);
  EXPECT_EQ(CaptureStderr([] { WriteAccess({{"code", "OK"}}); }), "");
  SetLevel(Level::kInfo);
}

TEST(AccessFileTest,
     OnStderrLinesFollowTheLevelInWholeLineWritesOfAtMostPipeBuf) {
  // stderr as a packet socket: each read returns one write(2) whole.
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
  const int saved = dup(STDERR_FILENO);
  ASSERT_EQ(dup2(fds[0], STDERR_FILENO), STDERR_FILENO);
  std::vector<std::string> writes;
  {
    std::unique_ptr<AccessFile> file = AccessFile::Stderr(OnlyWhenAsked());
    EXPECT_TRUE(file->is_stderr());
    SetAccessFile(file.get());
    SetLevel(Level::kWarning);
    WriteAccess({{"code", "below the level"}});
    SetLevel(Level::kInfo);
    for (int i = 0; i < 100; ++i) WriteAccess({{"n", absl::StrCat(i)}});
    file->Append(LineOf(3 * PIPE_BUF, 'x'));
    file->Append(LineOf(10, 'y'));
    SetAccessFile(nullptr);
    file->Reopen();  // nothing to reopen: stderr stays
    file->Flush();
    char buffer[4 * PIPE_BUF];
    while (writes.empty() || writes.back() != LineOf(10, 'y')) {
      const ssize_t n = ::recv(fds[1], buffer, sizeof(buffer), MSG_DONTWAIT);
      ASSERT_GT(n, 0) << "a write is missing";
      writes.emplace_back(buffer, static_cast<size_t>(n));
    }
  }
  // The access log is gone and stderr is still open.
  EXPECT_NE(::fcntl(STDERR_FILENO, F_GETFD), -1);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[0]);
  close(fds[1]);
  // The 100 lines at info, none below; in several writes of whole lines of
  // at most PIPE_BUF bytes; the line longer than that alone in one write.
  ASSERT_GE(writes.size(), 4u);
  std::string text;
  for (size_t i = 0; i + 2 < writes.size(); ++i) {
    EXPECT_LE(writes[i].size(), size_t{PIPE_BUF});
    EXPECT_EQ(writes[i].back(), '\n');
    text += writes[i];
  }
  EXPECT_EQ(writes[writes.size() - 2], LineOf(3 * PIPE_BUF, 'x'));
  const std::vector<std::string> lines = Lines(text);
  ASSERT_THAT(lines, SizeIs(100));
  EXPECT_THAT(lines[0], HasSubstr(R"("msg":"access","n":"0"})"));
  EXPECT_THAT(lines[99], HasSubstr(R"("msg":"access","n":"99"})"));
  EXPECT_THAT(text, Not(HasSubstr("below the level")));
}

TEST(AccessFileTest, LinesAreWrittenWithinTheIntervalWithoutBeingAsked) {
  const ScratchDir dir("access-file");
  AccessFile::Options options;
  options.flush_interval = absl::Milliseconds(20);
  auto file = AccessFile::Open(dir.File("access.log"), options);
  ASSERT_TRUE(file.ok()) << file.status();
  (*file)->Append(LineOf(40, 'a'));
  EXPECT_TRUE(WaitForSize(dir.File("access.log"), 40));
}

TEST(AccessFileTest, AFullBatchIsWrittenAtOnceAndTheRestAtTheEnd) {
  const ScratchDir dir("access-file");
  AccessFile::Options options = OnlyWhenAsked();
  options.flush_bytes = 100;
  auto file = AccessFile::Open(dir.File("access.log"), options);
  ASSERT_TRUE(file.ok()) << file.status();
  for (int i = 0; i < 3; ++i) (*file)->Append(LineOf(50, 'a' + i));
  // The batch reached 100 bytes at the second line; the hour-long interval
  // is not waited for.
  ASSERT_TRUE(WaitForSize(dir.File("access.log"), 100));
  (*file)->Append(LineOf(50, 'z'));
  file->reset();
  const std::vector<std::string> lines = Lines(ReadAll(dir.File("access.log")));
  ASSERT_THAT(lines, SizeIs(4));
  EXPECT_EQ(lines[0][0], 'a');
  EXPECT_EQ(lines[1][0], 'b');
  EXPECT_EQ(lines[2][0], 'c');
  EXPECT_EQ(lines[3][0], 'z');
}

TEST(AccessFileTest, ReopenAfterARenameStartsANewFile) {
  const ScratchDir dir("access-file");
  auto file = AccessFile::Open(dir.File("access.log"), OnlyWhenAsked());
  ASSERT_TRUE(file.ok()) << file.status();
  (*file)->Append(LineOf(10, 'a'));
  (*file)->Flush();
  ASSERT_EQ(::rename(dir.File("access.log").c_str(),
                     dir.File("access.log.1").c_str()),
            0);
  // Before the reopen the renamed file still gets the lines.
  (*file)->Append(LineOf(10, 'b'));
  (*file)->Flush();
  (*file)->Reopen();
  (*file)->Append(LineOf(10, 'c'));
  (*file)->Flush();
  EXPECT_EQ(ReadAll(dir.File("access.log.1")), LineOf(10, 'a') + LineOf(10, 'b'));
  EXPECT_EQ(ReadAll(dir.File("access.log")), LineOf(10, 'c'));
}

TEST(AccessFileTest, LinesBeyondTheBufferLimitAreDroppedAndCounted) {
  const ScratchDir dir("access-file");
  AccessFile::Options options = OnlyWhenAsked();
  options.max_buffered_bytes = 1000;
  auto file = AccessFile::Open(dir.File("access.log"), options);
  ASSERT_TRUE(file.ok()) << file.status();
  for (int i = 0; i < 25; ++i) (*file)->Append(LineOf(100, 'a'));
  EXPECT_EQ((*file)->dropped_lines(), 15u);
  (*file)->Flush();
  EXPECT_THAT(Lines(ReadAll(dir.File("access.log"))), SizeIs(10));
  // Written out, the buffer takes lines again.
  (*file)->Append(LineOf(100, 'b'));
  EXPECT_EQ((*file)->dropped_lines(), 15u);
}

// With a stderr sink (the gateway's), a warning from any thread is queued
// for the sink's own thread: a reader of stderr that stopped reading (a
// full pipe) holds up no thread but that one.
TEST(AccessFileTest, WithAStderrSinkAWarningWaitsForNoReader) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  // Fill the pipe, then make writes to it block again.
  const int flags = ::fcntl(pipe_fds[1], F_GETFL);
  ASSERT_EQ(::fcntl(pipe_fds[1], F_SETFL, flags | O_NONBLOCK), 0);
  const std::string chunk(4096, 'f');
  while (::write(pipe_fds[1], chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(::fcntl(pipe_fds[1], F_SETFL, flags), 0);
  const int saved_stderr = ::dup(STDERR_FILENO);
  ASSERT_GE(saved_stderr, 0);
  ASSERT_EQ(::dup2(pipe_fds[1], STDERR_FILENO), STDERR_FILENO);
  auto sink = AccessFile::Stderr(OnlyWhenAsked());
  log::SetStderrSink(sink.get());
  std::atomic<bool> returned{false};
  std::thread warner([&] {
    log::Warning("the upstream's reply is unusable");
    returned = true;
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (!returned && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));  // polling the warner
  }
  EXPECT_TRUE(returned) << "log::Warning waited for the reader of stderr";
  // Read the pipe to its end, so that whatever waits to write finishes.
  std::string read;
  std::thread reader([&] {
    char buffer[4096];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
      read.append(buffer, static_cast<size_t>(n));
    }
  });
  warner.join();
  log::SetStderrSink(nullptr);
  sink.reset();  // writes what it holds
  ASSERT_EQ(::dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
  ::close(saved_stderr);
  ::close(pipe_fds[1]);
  reader.join();
  ::close(pipe_fds[0]);
  EXPECT_THAT(read, HasSubstr("the upstream's reply is unusable"));
}

// Files of this process cannot grow past `limit` bytes (EFBIG, not the
// signal): a batch of 30 lines of 100 bytes is cut there, on a line's end
// (1,000) or inside a line (1,050).
TEST(AccessFileTest, AFailedWriteIsCountedSaidOnceAndTheFileGoesOnAfter) {
  for (const size_t limit : {1000, 1050}) {
    SCOPED_TRACE(limit);
    const ScratchDir dir("access-file");
    auto file = AccessFile::Open(dir.File("access.log"), OnlyWhenAsked());
    ASSERT_TRUE(file.ok()) << file.status();
    struct rlimit saved;
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = saved;
    small.rlim_cur = limit;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    const std::string err = CaptureStderr([&] {
      for (int i = 0; i < 30; ++i) (*file)->Append(LineOf(100, 'a'));
      (*file)->Flush();
      (*file)->Append(LineOf(100, 'b'));
      (*file)->Flush();
    });
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    ::signal(SIGXFSZ, old_handler);
    EXPECT_EQ((*file)->write_failures(), 2u);
    // The 20 lines after the 10 written whole, and the next batch's one.
    EXPECT_EQ((*file)->dropped_lines(), 21u);
    // Said once for the two failures, naming the file and the reason.
    const std::vector<std::string> said = Lines(err);
    ASSERT_THAT(said, SizeIs(1)) << err;
    EXPECT_THAT(
        said[0],
        HasSubstr(R"("level":"error","msg":"access log cannot be written)"));
    EXPECT_THAT(said[0], HasSubstr(dir.File("access.log")));
    EXPECT_THAT(said[0], HasSubstr("File too large"));
    // Writable again: the next line is on a line of its own (after the cut
    // line's end), and that is said.
    const std::string again = CaptureStderr([&] {
      (*file)->Append(LineOf(100, 'c'));
      (*file)->Flush();
    });
    EXPECT_THAT(again, HasSubstr("access log written again"));
    const std::string content = ReadAll(dir.File("access.log"));
    const std::vector<std::string> lines = Lines(content);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), std::string(99, 'c'));
    EXPECT_EQ(content.size(), limit + (limit % 100 == 0 ? 0 : 1) + 100);
    EXPECT_FALSE(absl::StrContains(content, "\n\n"));  // no empty line
  }
}

TEST(AccessFileTest, CheckOpenableCreatesNothingAndNamesWhatIsWrong) {
  const ScratchDir dir("access-file");
  EXPECT_TRUE(AccessFile::CheckOpenable(dir.File("access.log")).ok());
  EXPECT_EQ(ReadAll(dir.File("access.log")), "");
  EXPECT_NE(::access(dir.File("access.log").c_str(), F_OK), 0);

  const absl::Status no_folder =
      AccessFile::CheckOpenable(dir.File("missing/access.log"));
  EXPECT_EQ(no_folder.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(no_folder.message(),
              HasSubstr(absl::StrCat("its folder '", dir.File("missing"),
                                     "' does not exist")));
  const absl::Status folder = AccessFile::CheckOpenable(dir.path());
  EXPECT_FALSE(folder.ok());
  EXPECT_THAT(folder.message(), HasSubstr("Is a directory"));
  EXPECT_FALSE(AccessFile::CheckOpenable("").ok());
  // A FIFO (no reader) is refused at once, not waited on.
  ASSERT_EQ(::mkfifo(dir.File("fifo").c_str(), 0600), 0);
  EXPECT_FALSE(AccessFile::CheckOpenable(dir.File("fifo")).ok());
  EXPECT_FALSE(AccessFile::Open(dir.File("fifo")).ok());
  EXPECT_FALSE(AccessFile::Open(dir.File("missing/access.log")).ok());
}

// A repeated message is due every `every`, and at once after the clock
// stepped back: an hour back must not silence it for an hour.
TEST(DueTest, EveryIntervalAndAfterTheClockSteppedBack) {
  const absl::Time last = absl::FromUnixSeconds(1'780'000'000);
  EXPECT_TRUE(Due(absl::InfinitePast(), last, absl::Minutes(1)));
  EXPECT_FALSE(Due(last, last, absl::Minutes(1)));
  EXPECT_FALSE(Due(last, last + absl::Seconds(59), absl::Minutes(1)));
  EXPECT_TRUE(Due(last, last + absl::Minutes(1), absl::Minutes(1)));
  EXPECT_TRUE(Due(last, last - absl::Seconds(1), absl::Minutes(1)));
  EXPECT_TRUE(Due(last, last - absl::Hours(1), absl::Minutes(1)));
}

}  // namespace
}  // namespace lienthong::log
