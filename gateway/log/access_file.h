// The gateway's access log, one line per call, written in batches: a
// call's line is appended to a buffer; a thread of its own writes the
// buffer at most `flush_interval` later, or at once when it holds
// `flush_bytes`, so no call pays a write(2) of its own.
//
// Either a file of its own (logging.access_log_file, Open), for a gateway
// whose stderr goes to journald: journald drops a service's lines beyond
// its rate limit (10,000 in 30 s by default), which a busy gateway's one
// access line per call exceeds. The file is opened O_APPEND (0600), so
// logrotate's copytruncate works as well as rename-then-Reopen() (SIGHUP).
//
// Or stderr (Stderr), shared with the gateway's other log lines, which
// log::Write writes there directly: each write(2) carries at most PIPE_BUF
// bytes of whole lines, so on a pipe no other line lands inside one; the
// access lines may reach stderr up to `flush_interval` after lines logged
// later. Reopen() does nothing there.
//
// Either way, lines are not durable: a crash loses at most the last
// flush_interval of them (the audit journal, not this log, is the durable
// record of calls). No call waits for the disk or the reader of stderr:
// a batch that cannot be written is dropped and counted, an error goes to
// stderr once (and a line again once writes succeed), and past
// `max_buffered_bytes` waiting, new lines are dropped and counted.
#ifndef LIENTHONG_GATEWAY_LOG_ACCESS_FILE_H_
#define LIENTHONG_GATEWAY_LOG_ACCESS_FILE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace lienthong::log {

// Writes `data` whole to `fd`, going on after short writes and signals;
// adds what it wrote to `*written`. False, with errno set, on failure.
bool WriteAll(int fd, absl::string_view data, size_t* written);

class AccessFile {
 public:
  struct Options {
    absl::Duration flush_interval = absl::Milliseconds(200);
    size_t flush_bytes = 64 * 1024;
    size_t max_buffered_bytes = 8 * 1024 * 1024;
  };

  // Checks, creating nothing, that Open(path) could succeed: an existing
  // file must be a regular file this process may append to; a missing one
  // needs its folder to exist and be writable. INVALID_ARGUMENT or
  // UNAVAILABLE naming the file (or folder) and why.
  static absl::Status CheckOpenable(const std::string& path);

  // Opens `path` for appending (created 0600 when missing) and starts the
  // writer thread. Fails as CheckOpenable does, with its message when it
  // names the cause.
  static absl::StatusOr<std::unique_ptr<AccessFile>> Open(
      const std::string& path, Options options);
  static absl::StatusOr<std::unique_ptr<AccessFile>> Open(
      const std::string& path) {
    return Open(path, Options());
  }
  // Writes to stderr (left open at the end) and starts the writer thread.
  static std::unique_ptr<AccessFile> Stderr(Options options);
  static std::unique_ptr<AccessFile> Stderr() { return Stderr(Options()); }

  // Writes what is buffered, then stops the writer and closes the file.
  ~AccessFile();

  AccessFile(const AccessFile&) = delete;
  AccessFile& operator=(const AccessFile&) = delete;

  // Buffers `line` (one whole line, ending in '\n'). Thread-safe; never
  // waits for the disk.
  void Append(absl::string_view line);
  // Stderr(): the log's level decides whether access lines are written,
  // as for every other line there; a file of its own takes them all.
  bool is_stderr() const { return stderr_; }
  // From the next write on, writes to `path` opened anew (after logrotate
  // renamed the old file); a file that cannot be opened keeps the old one
  // and logs why. Thread-safe.
  void Reopen();
  // Returns once what was buffered before the call is written (or dropped
  // as unwritable). Thread-safe.
  void Flush();

  // Lines dropped since start: unwritable, or over max_buffered_bytes.
  uint64_t dropped_lines() const { return dropped_lines_.load(); }
  // write(2) calls that failed since start.
  uint64_t write_failures() const { return write_failures_.load(); }

 private:
  AccessFile(std::string path, Options options, int fd, bool is_stderr);

  void Loop();
  // Writes `batch` of `lines` lines; counts and reports a failure.
  void WriteBatch(const std::string& batch, uint64_t lines);
  void ReopenNow();
  bool WriterHasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;  // "stderr" for Stderr()
  const Options options_;
  const bool stderr_;
  int fd_;  // the writer thread's, after construction
  // The writer thread's: a write failed and was not yet followed by one
  // that succeeded; the file ends inside a line.
  bool failing_ = false;
  bool ends_mid_line_ = false;

  mutable absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  uint64_t pending_lines_ ABSL_GUARDED_BY(mu_) = 0;
  bool reopen_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Flush(): the requests made, and those the writer has served.
  uint64_t flushes_asked_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t flushes_done_ ABSL_GUARDED_BY(mu_) = 0;

  std::atomic<uint64_t> dropped_lines_{0};
  std::atomic<uint64_t> write_failures_{0};
  std::thread thread_;
};

}  // namespace lienthong::log

#endif  // LIENTHONG_GATEWAY_LOG_ACCESS_FILE_H_
