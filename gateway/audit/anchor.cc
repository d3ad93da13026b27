#include "gateway/audit/anchor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/audit/query.h"

namespace lienthong::audit {
namespace {

// How much of the file's end ReadLastAnchor reads: a few checkpoint lines.
constexpr off_t kTailBytes = 64 << 10;

absl::StatusOr<lienthong::v1::AuditCheckpoint> ParseAnchorLine(
    absl::string_view line, uint64_t number, const std::string& path) {
  absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
  if (!parsed.ok() || parsed->type != ExportLine::Type::kCheckpoint) {
    return absl::InvalidArgumentError(absl::StrCat(
        "anchor file '", path, "' line ", number, " is not a checkpoint"));
  }
  return std::move(parsed->checkpoint);
}

// Cuts an unfinished last line of the file (a crash or a failed write in
// the middle of one, with what zeros followed it), so that the next line
// starts a line of its own instead of joining it into one that no reader
// accepts. The lines before it are kept.
absl::Status CutUnfinishedLine(int fd, const std::string& path) {
  auto failed = [&path](const char* what) {
    return absl::UnavailableError(absl::StrCat("cannot ", what,
                                               " the audit anchor file '", path,
                                               "': ", std::strerror(errno)));
  };
  struct stat st;
  if (::fstat(fd, &st) != 0) return failed("inspect");
  if (st.st_size == 0) return absl::OkStatus();
  const off_t from = std::max<off_t>(0, st.st_size - kTailBytes);
  std::string tail(static_cast<size_t>(st.st_size - from), '\0');
  if (::pread(fd, tail.data(), tail.size(), from) !=
      static_cast<ssize_t>(tail.size())) {
    return failed("read");
  }
  if (tail.back() == '\n') return absl::OkStatus();
  const size_t newline = tail.rfind('\n');
  if (newline == std::string::npos && from > 0) {
    return absl::UnavailableError(absl::StrCat("the audit anchor file '", path,
                                               "' ends in a line of over ",
                                               kTailBytes, " bytes"));
  }
  const off_t keep =
      newline == std::string::npos ? 0 : from + static_cast<off_t>(newline) + 1;
  if (::ftruncate(fd, keep) != 0) return failed("cut the unfinished line of");
  if (::fdatasync(fd) != 0) return failed("sync");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AnchorSink>> AnchorSink::Open(Options options) {
  int fd = -1;
  if (!options.file.empty()) {
    fd = ::open(options.file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
                0600);
    if (fd < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot open the audit anchor file '", options.file,
                       "': ", std::strerror(errno)));
    }
  }
  return std::unique_ptr<AnchorSink>(new AnchorSink(std::move(options), fd));
}

AnchorSink::~AnchorSink() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status AnchorSink::Publish(
    absl::Span<const lienthong::v1::AuditCheckpoint> checkpoints) {
  std::string lines;
  for (const auto& checkpoint : checkpoints) {
    const std::string line = CheckpointJsonLine(checkpoint);
    if (options_.syslog) {
      ::syslog(LOG_AUTHPRIV | LOG_NOTICE, "lienthong-audit checkpoint %.*s",
               static_cast<int>(line.size() - 1), line.data());
    }
    lines += line;
  }
  if (fd_ < 0 || lines.empty()) return absl::OkStatus();
  if (!end_checked_) {
    if (absl::Status cut = CutUnfinishedLine(fd_, options_.file); !cut.ok()) {
      return cut;
    }
    end_checked_ = true;
  }
  // Until this write has been synced whole, the file's end is unknown.
  end_checked_ = false;
  // O_APPEND: one write lands whole at the end, even with other writers.
  const char* data = lines.data();
  size_t left = lines.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot write the audit anchor file '", options_.file,
                       "': ", std::strerror(n < 0 ? errno : EIO)));
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot sync the audit anchor file '", options_.file,
                     "': ", std::strerror(errno)));
  }
  end_checked_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<lienthong::v1::AuditCheckpoint>> ReadAnchorFile(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open the anchor file '", path, "'"));
  }
  std::vector<lienthong::v1::AuditCheckpoint> out;
  std::string line;
  uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (in.eof()) break;  // No newline: an unfinished last line.
    if (line.empty()) continue;
    absl::StatusOr<lienthong::v1::AuditCheckpoint> checkpoint =
        ParseAnchorLine(line, number, path);
    if (!checkpoint.ok()) return checkpoint.status();
    out.push_back(*std::move(checkpoint));
  }
  if (in.bad()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the anchor file '", path, "'"));
  }
  return out;
}

absl::StatusOr<std::optional<lienthong::v1::AuditCheckpoint>> ReadLastAnchor(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return absl::UnavailableError(absl::StrCat(
        "cannot open the anchor file '", path, "': ", std::strerror(errno)));
  }
  struct stat st;
  std::string tail;
  off_t from = 0;
  if (::fstat(fd, &st) == 0) {
    from = st.st_size > kTailBytes ? st.st_size - kTailBytes : 0;
    tail.resize(static_cast<size_t>(st.st_size - from));
    ssize_t n = ::pread(fd, tail.data(), tail.size(), from);
    tail.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  ::close(fd);
  // The last line as ReadAnchorFile reads the file: whole (what follows
  // the last newline is unfinished), and empty lines skipped. A line that
  // starts before the tail read, or a tail that holds none, is left to
  // ReadAnchorFile: nothing appended after the anchors may hide them.
  size_t end = tail.rfind('\n');
  while (end != std::string::npos && end > 0 && tail[end - 1] == '\n') --end;
  const size_t before =
      end == std::string::npos || end == 0 ? std::string::npos
                                           : tail.rfind('\n', end - 1);
  if (before == std::string::npos && from > 0) {
    absl::StatusOr<std::vector<lienthong::v1::AuditCheckpoint>> all =
        ReadAnchorFile(path);
    if (!all.ok()) return all.status();
    if (all->empty()) return std::nullopt;
    return std::optional<lienthong::v1::AuditCheckpoint>(
        std::move(all->back()));
  }
  if (end == std::string::npos || end == 0) return std::nullopt;
  const size_t start = before == std::string::npos ? 0 : before + 1;
  absl::string_view line(tail.data() + start, end - start);
  absl::StatusOr<lienthong::v1::AuditCheckpoint> checkpoint =
      ParseAnchorLine(line, 0, path);
  if (!checkpoint.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the last line of the anchor file '", path, "' is not a checkpoint"));
  }
  return std::optional<lienthong::v1::AuditCheckpoint>(*std::move(checkpoint));
}

}  // namespace lienthong::audit
