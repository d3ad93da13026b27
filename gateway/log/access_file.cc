#include "gateway/log/access_file.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/log/log.h"

namespace lienthong::log {
namespace {

std::string FolderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status Unavailable(const std::string& what, const std::string& path,
                         int error) {
  return absl::UnavailableError(absl::StrCat(what, " '", path,
                                             "': ", std::strerror(error)));
}

absl::StatusOr<int> OpenForAppend(const std::string& path, bool create) {
  // O_NONBLOCK: a FIFO with no reader fails the open at once instead of
  // holding the start; on the regular file it must be, writes still block.
  const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                    (create ? O_CREAT : 0);
  const int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) return Unavailable("cannot open the access log", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("the access log '", path, "' is not a regular file"));
  }
  return fd;
}

}  // namespace

absl::Status AccessFile::CheckOpenable(const std::string& path) {
  if (path.empty() || path.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("the access log '", path, "' names no file"));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    absl::StatusOr<int> fd = OpenForAppend(path, /*create=*/false);
    if (!fd.ok()) return fd.status();
    ::close(*fd);
    return absl::OkStatus();
  }
  if (errno != ENOENT) {
    return Unavailable("cannot open the access log", path, errno);
  }
  const std::string folder = FolderOf(path);
  if (::stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create the access log '", path, "': its folder '", folder,
        "' does not exist"));
  }
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    return Unavailable("cannot create the access log in", folder, errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AccessFile>> AccessFile::Open(
    const std::string& path, Options options) {
  absl::StatusOr<int> fd = OpenForAppend(path, /*create=*/true);
  if (!fd.ok()) {
    // CheckOpenable says which part is missing or wrong.
    absl::Status why = CheckOpenable(path);
    return why.ok() ? fd.status() : why;
  }
  return std::unique_ptr<AccessFile>(
      new AccessFile(path, options, *fd, /*is_stderr=*/false));
}

std::unique_ptr<AccessFile> AccessFile::Stderr(Options options) {
  return std::unique_ptr<AccessFile>(
      new AccessFile("stderr", options, STDERR_FILENO, /*is_stderr=*/true));
}

AccessFile::AccessFile(std::string path, Options options, int fd,
                       bool is_stderr)
    : path_(std::move(path)), options_(options), stderr_(is_stderr), fd_(fd) {
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), "access-log");
}

AccessFile::~AccessFile() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
  if (!stderr_) ::close(fd_);
}

void AccessFile::Append(absl::string_view line) {
  absl::MutexLock lock(&mu_);
  if (pending_.size() + line.size() > options_.max_buffered_bytes) {
    dropped_lines_.fetch_add(1);
    return;
  }
  pending_.append(line.data(), line.size());
  ++pending_lines_;
}

void AccessFile::Reopen() {
  if (stderr_) return;
  absl::MutexLock lock(&mu_);
  reopen_ = true;
}

void AccessFile::Flush() {
  absl::MutexLock lock(&mu_);
  struct Ticket {
    const AccessFile* file;
    uint64_t number;
  };
  Ticket ticket{this, ++flushes_asked_};
  mu_.Await(absl::Condition(
      +[](Ticket* t) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return t->file->flushes_done_ >= t->number;
      },
      &ticket));
}

bool AccessFile::WriterHasWork() const {
  return stopping_ || reopen_ || flushes_asked_ > flushes_done_ ||
         pending_.size() >= options_.flush_bytes;
}

void AccessFile::Loop() {
  std::string batch;
  for (;;) {
    uint64_t lines = 0;
    uint64_t served = 0;
    bool reopen = false;
    bool stop = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(this, &AccessFile::WriterHasWork),
                           options_.flush_interval);
      batch.swap(pending_);
      lines = pending_lines_;
      pending_lines_ = 0;
      reopen = reopen_;
      reopen_ = false;
      stop = stopping_;
      served = flushes_asked_;
    }
    if (reopen) ReopenNow();
    if (!batch.empty()) WriteBatch(batch, lines);
    batch.clear();
    {
      absl::MutexLock lock(&mu_);
      flushes_done_ = served;
    }
    if (stop) return;
  }
}

bool WriteAll(int fd, absl::string_view data, size_t* written) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      *written += static_cast<size_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    return false;
  }
  return true;
}

void AccessFile::WriteBatch(const std::string& batch, uint64_t lines) {
  // After a batch that failed part-way, the file ends mid-line: the next
  // batch starts on a line of its own.
  std::string after_cut;
  if (ends_mid_line_) after_cut = "\n" + batch;
  const std::string& out = ends_mid_line_ ? after_cut : batch;
  // On stderr, whole lines of at most PIPE_BUF bytes a write(2) (a longer
  // line alone); a file of its own takes the batch in one.
  const size_t max_write = stderr_ ? PIPE_BUF : out.size();
  size_t done = 0;
  bool ok = true;
  for (absl::string_view rest = out; ok && !rest.empty();) {
    size_t cut = rest.size();
    if (cut > max_write) {
      size_t end = rest.rfind('\n', max_write - 1);
      if (end == absl::string_view::npos) end = rest.find('\n');
      cut = end == absl::string_view::npos ? rest.size() : end + 1;
    }
    ok = WriteAll(fd_, rest.substr(0, cut), &done);
    rest.remove_prefix(cut);
  }
  if (!ok) {
    const int error = errno;
    write_failures_.fetch_add(1);
    // The lines not written whole count as dropped; the file ends mid-line
    // when the last byte written was not a line's end.
    const absl::string_view written = absl::string_view(out).substr(0, done);
    const uint64_t whole =
        static_cast<uint64_t>(std::count(written.begin(), written.end(), '\n') -
                              (ends_mid_line_ && done > 0 ? 1 : 0));
    dropped_lines_.fetch_add(lines - std::min(whole, lines));
    if (done > 0) ends_mid_line_ = written.back() != '\n';
    if (!failing_) {
      failing_ = true;
      log::Error("access log cannot be written; its lines are dropped and "
                 "counted (lienthong_access_log_dropped_lines)",
                 {{"file", path_}, {"error", std::strerror(error)}});
    }
    return;
  }
  ends_mid_line_ = false;
  if (failing_) {
    failing_ = false;
    log::Info("access log written again", {{"file", path_}});
  }
}

void AccessFile::ReopenNow() {
  absl::StatusOr<int> fd = OpenForAppend(path_, /*create=*/true);
  if (!fd.ok()) {
    log::Error("access log not reopened; writing on to the file open before",
               {{"error", fd.status().message()}});
    return;
  }
  ::close(fd_);
  fd_ = *fd;
  ends_mid_line_ = false;
  log::Info("access log reopened", {{"file", path_}});
}

}  // namespace lienthong::log
