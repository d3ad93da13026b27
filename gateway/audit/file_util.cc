#include "gateway/audit/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/database.h"

namespace lienthong::audit {
namespace {

// How much one read(2) asks for.
constexpr size_t kChunkBytes = 64 << 10;

// read(2), retried when a signal interrupts it.
ssize_t ReadRetrying(int fd, char* data, size_t size) {
  ssize_t n;
  do {
    n = ::read(fd, data, size);
  } while (n < 0 && errno == EINTR);
  return n;
}

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string contents;
  absl::Status status;
  while (status.ok()) {
    const size_t had = contents.size();
    // One byte past the limit tells a file at the limit from a longer one.
    const size_t want = std::min(kChunkBytes, max_bytes + 1 - had);
    contents.resize(had + want);
    const ssize_t n = ReadRetrying(fd, contents.data() + had, want);
    contents.resize(had + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n == 0) break;
    if (n < 0) {
      status = absl::UnavailableError(absl::StrCat("cannot read ", path));
    } else if (contents.size() > max_bytes) {
      status = absl::InvalidArgumentError(
          absl::StrCat("'", path, "' is larger than ", max_bytes,
                       " bytes, the most a valid one holds"));
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return contents;
}

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(
    const std::string& path, size_t max_line_bytes, absl::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    const std::string message = absl::StrCat("cannot open the ", what, " '",
                                             path, "': ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::UnavailableError(message);
  }
  return std::unique_ptr<LineReader>(
      new LineReader(path, max_line_bytes, std::string(what), fd));
}

LineReader::LineReader(std::string path, size_t max_line_bytes,
                       std::string what, int fd)
    : path_(std::move(path)),
      max_line_bytes_(max_line_bytes),
      what_(std::move(what)),
      fd_(fd),
      buffer_(kChunkBytes, '\0') {}

LineReader::~LineReader() { ::close(fd_); }

absl::StatusOr<bool> LineReader::Next(std::string* line) {
  line->clear();
  while (true) {
    if (begin_ == end_) {
      LIENTHONG_ASSIGN_OR_RETURN(const size_t got, Fill());
      if (got == 0) {
        if (line->empty()) return false;
        ++line_number_;
        finished_ = false;
        return true;
      }
    }
    const char* from = buffer_.data() + begin_;
    const char* newline =
        static_cast<const char*>(std::memchr(from, '\n', end_ - begin_));
    const size_t take = newline == nullptr
                            ? end_ - begin_
                            : static_cast<size_t>(newline - from);
    // Checked before the append: memory stays within the limit.
    if (take > max_line_bytes_ - line->size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what_, " '", path_, "' line ", line_number_ + 1, " is longer than ",
          max_line_bytes_, " bytes, longer than any valid line"));
    }
    line->append(from, take);
    begin_ += take;
    if (newline != nullptr) {
      ++begin_;
      ++line_number_;
      finished_ = true;
      return true;
    }
  }
}

absl::StatusOr<size_t> LineReader::Fill() {
  const ssize_t n = ReadRetrying(fd_, buffer_.data(), buffer_.size());
  if (n < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot read the ", what_, " '", path_, "': ", std::strerror(errno)));
  }
  begin_ = 0;
  end_ = static_cast<size_t>(n);
  return end_;
}

absl::Status SyncPath(const std::string& path, absl::string_view what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const int rc = fd < 0 ? -1 : ::fsync(fd);
  const int error = errno;
  if (fd >= 0) ::close(fd);
  if (rc == 0) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(what, ": cannot sync '", path, "': ", std::strerror(error)));
}

absl::Status WriteNewSecretFile(const std::string& path,
                                absl::string_view contents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  const char* data = contents.data();
  size_t left = contents.size();
  bool ok = true;
  while (ok && left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) {
      data += n;
      left -= static_cast<size_t>(n);
    }
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return SyncPath(storage::FolderOf(path), "key file");
}

}  // namespace lienthong::audit
