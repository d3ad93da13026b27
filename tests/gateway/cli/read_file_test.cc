// Tests of ReadFileAtMost: files within and over the limit, and unreadable
// ones.
#include "gateway/cli/read_file.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::cli {
namespace {

using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::ScratchDir;
using ::lienthong::testing::StatusIs;

TEST(ReadFileAtMostTest, ReadsUpToTheLimitAndRefusesMore) {
  ScratchDir dir("read-file");
  const std::string ten = "0123456789";
  const std::string path = dir.File("ten.txt");
  std::ofstream(path, std::ios::binary) << ten;
  EXPECT_THAT(ReadFileAtMost(path, 10), IsOkAndHolds(ten));
  EXPECT_THAT(ReadFileAtMost(path, size_t{1} << 20), IsOkAndHolds(ten));
  EXPECT_THAT(
      ReadFileAtMost(path, 9),
      StatusIs(absl::StatusCode::kFailedPrecondition, "larger than 9 bytes"));
  const std::string empty = dir.File("empty.txt");
  std::ofstream(empty, std::ios::binary).flush();
  EXPECT_THAT(ReadFileAtMost(empty, 0), IsOkAndHolds(std::string()));
}

TEST(ReadFileAtMostTest, SaysWhyAFileCannotBeRead) {
  EXPECT_THAT(ReadFileAtMost("/nonexistent/file.json", 10),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "cannot read: No such file or directory"));
}

TEST(ReadFileAtMostTest, AFolderIsNotAnEmptyFile) {
  ScratchDir dir("read-file");
  EXPECT_THAT(ReadFileAtMost(dir.path(), 10),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "cannot read: Is a directory"));
}

TEST(ReadFileAtMostTest, TheLimitInMiB) {
  ScratchDir dir("read-file");
  const std::string path = dir.File("big.bin");
  std::ofstream(path, std::ios::binary) << std::string((1 << 20) + 1, 'x');
  EXPECT_THAT(
      ReadFileAtMost(path, size_t{1} << 20),
      StatusIs(absl::StatusCode::kFailedPrecondition, "larger than 1 MiB"));
}

}  // namespace
}  // namespace lienthong::cli
