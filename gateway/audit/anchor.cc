#include "gateway/audit/anchor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/file_util.h"
#include "gateway/audit/query.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/database.h"

namespace lienthong::audit {
namespace {

// How much of the file's end is read for an unfinished last line: a few
// checkpoint lines.
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

// Calls `visit` with each checkpoint of the anchor file `reader` reads, in
// file order: an unfinished last line (a crash during a write) and empty
// lines are skipped; any other line that is not a checkpoint line fails
// with INVALID_ARGUMENT naming its number, as the reader does a line over
// kMaxAnchorLineBytes. Holds one line at a time.
absl::Status ScanAnchorLines(
    LineReader& reader, const std::string& path,
    absl::FunctionRef<void(lienthong::v1::AuditCheckpoint)> visit) {
  std::string line;
  while (true) {
    LIENTHONG_ASSIGN_OR_RETURN(const bool got, reader.Next(&line));
    if (!got || !reader.finished()) break;
    if (line.empty()) continue;
    LIENTHONG_ASSIGN_OR_RETURN(
        lienthong::v1::AuditCheckpoint checkpoint,
        ParseAnchorLine(line, reader.line_number(), path));
    visit(std::move(checkpoint));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LineReader>> OpenAnchorFile(
    const std::string& path) {
  return LineReader::Open(path, kMaxAnchorLineBytes, "anchor file");
}

}  // namespace

absl::StatusOr<std::unique_ptr<AnchorSink>> AnchorSink::Open(Options options) {
  int fd = -1;
  if (!options.file.empty()) {
    const bool made = ::access(options.file.c_str(), F_OK) != 0;
    fd = ::open(options.file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
                0600);
    if (fd < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot open the audit anchor file '", options.file,
                       "': ", std::strerror(errno)));
    }
    // A new file's name is durable only once its folder is synced: else a
    // power cut could take the file, and with it what the anchors show.
    if (absl::Status synced = made ? SyncPath(storage::FolderOf(options.file),
                                              "audit anchor file")
                                   : absl::OkStatus();
        !synced.ok()) {
      ::close(fd);
      return synced;
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
  absl::StatusOr<std::unique_ptr<LineReader>> reader = OpenAnchorFile(path);
  if (!reader.ok()) {
    return absl::NotFoundError(
        absl::StrCat("cannot open the anchor file '", path, "'"));
  }
  std::vector<lienthong::v1::AuditCheckpoint> out;
  absl::Status read = ScanAnchorLines(
      **reader, path, [&](lienthong::v1::AuditCheckpoint checkpoint) {
        out.push_back(std::move(checkpoint));
      });
  if (!read.ok()) return read;
  return out;
}

absl::StatusOr<std::optional<lienthong::v1::AuditCheckpoint>> ReadLastAnchor(
    const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> reader = OpenAnchorFile(path);
  if (absl::IsNotFound(reader.status())) return std::nullopt;
  LIENTHONG_RETURN_IF_ERROR(reader.status());
  // The whole file, a line at a time: the file is append-only, not
  // ordered, so a line appended after the latest (a copy of an older one)
  // must not stand in for it.
  std::optional<lienthong::v1::AuditCheckpoint> latest;
  absl::Status read = ScanAnchorLines(
      **reader, path, [&](lienthong::v1::AuditCheckpoint checkpoint) {
        if (!latest.has_value() || checkpoint.index() >= latest->index()) {
          latest = std::move(checkpoint);
        }
      });
  if (!read.ok()) return read;
  return latest;
}

}  // namespace lienthong::audit
