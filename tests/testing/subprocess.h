// Subprocess: starts one of the project's binaries for a test, reads its
// standard output line by line, and waits for the line that says it is
// ready, so tests never sleep waiting for a server.
#ifndef LIENTHONG_TESTS_TESTING_SUBPROCESS_H_
#define LIENTHONG_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lienthong::testing {

class Subprocess {
 public:
  // Starts `argv` with stdout piped to us and stderr to `stderr_path` (or
  // inherited when empty). Fails with INTERNAL if it cannot start.
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& stderr_path = "");

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  // Kills the process (SIGKILL) if still running and reaps it.
  ~Subprocess();

  // Reads stdout until a line contains `needle`; returns that line, or
  // DEADLINE_EXCEEDED / UNAVAILABLE (the process closed stdout).
  absl::StatusOr<std::string> WaitForLine(const std::string& needle,
                                          absl::Duration timeout);

  // Sends `signal` and waits for the process to exit; returns its exit
  // status as waitpid reports it, or -1 when it cannot be waited for.
  int Stop(int signal, absl::Duration timeout = absl::Seconds(30));

  pid_t pid() const { return pid_; }

 private:
  Subprocess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

// The number of threads of process `pid`, from /proc, or -1.
int ThreadCount(pid_t pid);
// The peak resident set size of `pid` in KiB (VmHWM), or -1.
long PeakRssKib(pid_t pid);

// Returns $LIENTHONG_BINARY_DIR/relative (set by lienthong_cc_test).
std::string BinaryPath(const std::string& relative);
// Returns $LIENTHONG_SOURCE_DIR/relative.
std::string SourcePath(const std::string& relative);

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_TESTING_SUBPROCESS_H_
