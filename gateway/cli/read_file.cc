// Reading a file within a size (declared in read_file.h).
#include "gateway/cli/read_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace lienthong::cli {
namespace {

absl::Status CannotRead() {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot read: ", std::strerror(errno)));
}

absl::Status TooLarge(size_t max_bytes) {
  constexpr size_t kMiB = size_t{1} << 20;
  return absl::FailedPreconditionError(
      max_bytes % kMiB == 0
          ? absl::StrCat("larger than ", max_bytes / kMiB, " MiB")
          : absl::StrCat("larger than ", max_bytes, " bytes"));
}

}  // namespace

absl::StatusOr<std::string> ReadFileAtMost(const std::string& path,
                                           size_t max_bytes) {
  // A folder opens as a stream that reads as empty.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    return CannotRead();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return CannotRead();
  std::string contents;
  // A regular file says its size: refused unread when over, else read into
  // one allocation of that size. A pipe does not (tellg fails), and a file
  // may grow while it is read: the loop below checks as it goes.
  if (in.seekg(0, std::ios::end)) {
    const std::streamoff size = in.tellg();
    if (size > 0 && static_cast<uint64_t>(size) > max_bytes) {
      return TooLarge(max_bytes);
    }
    if (size > 0) contents.reserve(static_cast<size_t>(size));
  }
  in.clear();
  in.seekg(0, std::ios::beg);
  in.clear();
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    contents.append(buffer, static_cast<size_t>(in.gcount()));
    if (contents.size() > max_bytes) return TooLarge(max_bytes);
  }
  if (in.bad()) return CannotRead();
  return contents;
}

}  // namespace lienthong::cli
