#include "gateway/tls/file_version.h"

#include <sys/stat.h>

namespace lienthong::tls {

FileVersion StatFileVersion(const std::string& path) {
  FileVersion version;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    version.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                       st.st_mtim.tv_nsec;
    version.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 +
                       st.st_ctim.tv_nsec;
    version.size = st.st_size;
    version.inode = st.st_ino;
  }
  return version;
}

}  // namespace lienthong::tls
