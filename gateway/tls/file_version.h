// The version of a file as stat(2) tells it, for the watchers that re-read
// a trust file only when it changed (revocation.h, client_ca.h): one rule
// for what counts as a change.
#ifndef LIENTHONG_GATEWAY_TLS_FILE_VERSION_H_
#define LIENTHONG_GATEWAY_TLS_FILE_VERSION_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace lienthong::tls {

// A file replaced by rename (another inode), edited in place (modification
// time, size) or whose mode or owner changed (change time) is another
// version.
struct FileVersion {
  bool operator==(const FileVersion& o) const {
    return mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns && size == o.size &&
           inode == o.inode;
  }
  bool operator!=(const FileVersion& o) const { return !(*this == o); }

  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;  // also changes with the mode or owner
  off_t size = 0;
  ino_t inode = 0;
};

// Returns the version of the file at `path` (following symlinks); all zero
// when it cannot be stat'ed. Thread-safe.
FileVersion StatFileVersion(const std::string& path);

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_FILE_VERSION_H_
