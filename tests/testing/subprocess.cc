#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace lienthong::testing {

absl::StatusOr<Subprocess> Subprocess::Start(
    const std::vector<std::string>& argv, const std::string& stderr_path) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork");
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    if (!stderr_path.empty()) {
      int fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  return Subprocess(pid, pipe_fds[0]);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(other.pid_),
      stdout_fd_(other.stdout_fd_),
      buffer_(std::move(other.buffer_)) {
  other.pid_ = -1;
  other.stdout_fd_ = -1;
}

Subprocess::~Subprocess() {
  if (pid_ > 0) Stop(SIGKILL, absl::Seconds(10));
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

absl::StatusOr<std::string> Subprocess::WaitForLine(const std::string& needle,
                                                    absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    size_t newline;
    while ((newline = buffer_.find('\n')) != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (absl::StrContains(line, needle)) return line;
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no line containing '", needle, "'"));
    }
    pollfd pfd{stdout_fd_, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("process exited before printing '", needle, "'"));
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

int Subprocess::Stop(int signal, absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0) {  // not ours to wait for: no exit status to report
      status = -1;
      break;
    }
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      if (waitpid(pid_, &status, 0) != pid_) status = -1;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));  // polling a child's exit
  }
  pid_ = -1;
  return status;
}

namespace {

long ProcStatusField(pid_t pid, absl::string_view field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, field)) {
      std::string value = line.substr(field.size());
      value.erase(value.find_last_not_of(" kB\t") + 1);
      long n = -1;
      if (absl::SimpleAtoi(value.substr(value.find_first_not_of(" \t")), &n)) {
        return n;
      }
    }
  }
  return -1;
}

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

}  // namespace

int ThreadCount(pid_t pid) {
  return static_cast<int>(ProcStatusField(pid, "Threads:"));
}

long PeakRssKib(pid_t pid) { return ProcStatusField(pid, "VmHWM:"); }

std::string BinaryPath(const std::string& relative) {
  return absl::StrCat(EnvOr("LIENTHONG_BINARY_DIR", "."), "/", relative);
}

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(EnvOr("LIENTHONG_SOURCE_DIR", "."), "/", relative);
}

}  // namespace lienthong::testing
