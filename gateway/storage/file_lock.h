// An exclusive advisory lock (flock) on a lock file, held for as long as the
// FileLock lives: one process at a time per store. The audit journal's
// folder, its archiving and the SQLite outbox take one each.
//
//   LIENTHONG_ASSIGN_OR_RETURN(
//       FileLock lock, FileLock::Take("var/outbox.db.lock",
//                                     "the outbox 'var/outbox.db' is in use by
//                                     " "another process (a running
//                                     gateway?)"));
//
// flock locks belong to an open file: a second Take of the same path fails
// also within one process, and a process that dies releases its lock.
#ifndef LIENTHONG_GATEWAY_STORAGE_FILE_LOCK_H_
#define LIENTHONG_GATEWAY_STORAGE_FILE_LOCK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::storage {

class FileLock {
 public:
  // Opens `path` (made with mode 0600 when missing) and locks it without
  // waiting. FAILED_PRECONDITION with `in_use` as the message when another
  // holds it; UNAVAILABLE naming the path and the system's reason when the
  // file cannot be opened or locked.
  static absl::StatusOr<FileLock> Take(const std::string& path,
                                       absl::string_view in_use);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();  // Releases the lock.

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace lienthong::storage

#endif  // LIENTHONG_GATEWAY_STORAGE_FILE_LOCK_H_
