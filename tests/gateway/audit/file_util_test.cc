// Reading the files an operator names (file_util.h): a line at a time or
// whole, never past the limit the file's format sets, so that /dev/zero, a
// pipe fed forever or a file of one huge line is refused, not read until
// memory runs out. The formats' own limits are tested with their readers in
// verify_test.cc and epoch_archive_test.cc.
#include "gateway/audit/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/audit/anchor.h"
#include "gateway/audit/record.h"
#include "gateway/audit/signing.h"
#include "gateway/storage/database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::unique_ptr<LineReader> OpenReader(const std::string& path,
                                       size_t max_line_bytes) {
  auto reader = LineReader::Open(path, max_line_bytes, "test file");
  EXPECT_THAT(reader, IsOk());
  return reader.ok() ? *std::move(reader) : nullptr;
}

TEST(LineReaderTest, ReadsLinesAsGetlineDoesAcrossBuffers) {
  ScratchDir dir;
  const std::string path = dir.File("lines");
  const std::string long_line(200 << 10, 'l');  // spans several reads
  WriteFile(path, absl::StrCat("first\n\n", long_line, "\nlast"));
  std::unique_ptr<LineReader> reader = OpenReader(path, 256 << 10);
  ASSERT_NE(reader, nullptr);
  struct Want {
    std::string line;
    bool finished;
  };
  const Want wants[] = {
      {"first", true}, {"", true}, {long_line, true}, {"last", false}};
  std::string line;
  for (size_t i = 0; i < std::size(wants); ++i) {
    ASSERT_THAT(reader->Next(&line), IsOkAndHolds(true)) << i;
    EXPECT_EQ(line, wants[i].line) << i;
    EXPECT_EQ(reader->line_number(), i + 1);
    EXPECT_EQ(reader->finished(), wants[i].finished) << i;
  }
  EXPECT_THAT(reader->Next(&line), IsOkAndHolds(false));
}

TEST(LineReaderTest, ALineAtTheLimitIsReadALongerOneIsRefusedByNumber) {
  ScratchDir dir;
  const std::string path = dir.File("lines");
  WriteFile(path, "0123456789\nABCDEFGHIJK\n");
  std::unique_ptr<LineReader> reader = OpenReader(path, 10);
  ASSERT_NE(reader, nullptr);
  std::string line;
  ASSERT_THAT(reader->Next(&line), IsOkAndHolds(true));
  EXPECT_EQ(line, "0123456789");
  EXPECT_THAT(
      reader->Next(&line),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr(absl::StrCat("test file '", path,
                                            "' line 2 is longer than 10 "
                                            "bytes")),
                     Not(HasSubstr("ABCDEFGHIJ")))));
}

TEST(LineReaderTest, ANewlineThatNeverComesStopsAtTheLimit) {
  std::unique_ptr<LineReader> reader = OpenReader("/dev/zero", 1 << 20);
  ASSERT_NE(reader, nullptr);
  std::string line;
  EXPECT_THAT(reader->Next(&line),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("test file '/dev/zero' line 1 is longer "
                                 "than 1048576 bytes")));
  EXPECT_LE(line.size(), 1u << 20);
}

TEST(LineReaderTest, AMissingFileIsNotFound) {
  ScratchDir dir;
  EXPECT_THAT(LineReader::Open(dir.File("missing"), 10, "test file"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("cannot open the test file")));
}

// A FIFO whose writer never ends a line (`--anchors <(yes | tr -d '\n')`):
// the reader stops at the anchor line limit and closes it.
TEST(LineReaderTest, AFifoFedForeverIsRefusedAtTheLimit) {
  ScratchDir dir;
  const std::string fifo = dir.File("anchors.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Once the reader has closed its end the writer's write fails with EPIPE
  // instead of SIGPIPE ending the test.
  struct sigaction ignore = {};
  struct sigaction old = {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old), 0);
  std::thread writer([&fifo] {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    const std::string chunk(64 << 10, 'x');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    ::close(fd);
  });
  EXPECT_THAT(ReadAnchorFile(fifo),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat("anchor file '", fifo,
                                              "' line 1 is longer than ",
                                              kMaxAnchorLineBytes, " bytes"))));
  writer.join();
  ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(ReadWholeFileTest, ReadsUpToTheLimitAndRefusesMore) {
  ScratchDir dir;
  const std::string path = dir.File("whole");
  WriteFile(path, std::string(100, 'a'));
  EXPECT_THAT(ReadWholeFile(path, 100), IsOkAndHolds(std::string(100, 'a')));
  EXPECT_THAT(ReadWholeFile(path, 99),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat("'", path,
                                              "' is larger than 99 bytes"))));
  EXPECT_THAT(ReadWholeFile(dir.File("missing"), 99),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

// Key files are read whole: `--signing-key /dev/zero` is refused at
// kMaxKeyFileBytes, and real key files still load.
TEST(ReadWholeFileTest, KeyFilesStopAtTheirLimit) {
  const auto refused =
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr(absl::StrCat("'/dev/zero' is larger than ",
                                      kMaxKeyFileBytes, " bytes")));
  EXPECT_THAT(PublicKey::FromPemFile("/dev/zero"), refused);
  EXPECT_THAT(SigningKey::FromPemFile("/dev/zero"), refused);
  EXPECT_THAT(CitizenKey::FromFile("/dev/zero"), refused);
  EXPECT_THAT(DigestKey::FromFile("/dev/zero"), refused);

  ScratchDir dir;
  ASSERT_THAT(GenerateSigningKeyFile(dir.File("signing.pem")), IsOk());
  ASSERT_THAT(GenerateHmacKeyFile(dir.File("hmac.key")), IsOk());
  EXPECT_THAT(SigningKey::FromPemFile(dir.File("signing.pem")), IsOk());
  EXPECT_THAT(PublicKey::FromPemFile(dir.File("signing.pem")), IsOk());
  EXPECT_THAT(CitizenKey::FromFile(dir.File("hmac.key")), IsOk());
  EXPECT_THAT(DigestKey::FromFile(dir.File("hmac.key")), IsOk());
}

TEST(SyncPathTest, FoldersOfPathsAndFailuresNamingThePath) {
  EXPECT_EQ(storage::FolderOf("audit-anchors.jsonl"), ".");
  EXPECT_EQ(storage::FolderOf("/anchors.jsonl"), "/");
  EXPECT_EQ(storage::FolderOf("/var/lib/lienthong/anchors.jsonl"),
            "/var/lib/lienthong");
  ScratchDir dir;
  ASSERT_THAT(WriteNewSecretFile(dir.File("secret"), "x"), IsOk());
  EXPECT_THAT(SyncPath(dir.File("secret"), "test"), IsOk());
  EXPECT_THAT(SyncPath(storage::FolderOf(dir.File("secret")), "test"), IsOk());
  EXPECT_THAT(SyncPath(dir.File("missing"), "audit anchor file"),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("audit anchor file: cannot sync '"),
                             HasSubstr("missing': No such file"))));
}

}  // namespace
}  // namespace lienthong::audit
