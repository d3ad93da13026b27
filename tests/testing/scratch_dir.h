// A test's own folder: made fresh under $TEST_TMPDIR (set for every test by
// lienthong_cc_test; $TMPDIR, then /tmp, outside ctest) and removed with all
// its content when the ScratchDir goes. ctest checks afterwards that the
// tests left nothing behind (tests_leave_no_files), so a test keeps every
// file it makes in one of these.
//
//   ScratchDir dir("outbox");
//   const std::string db = dir.File("outbox.db");
#ifndef LIENTHONG_TESTS_TESTING_SCRATCH_DIR_H_
#define LIENTHONG_TESTS_TESTING_SCRATCH_DIR_H_

#include <string>

namespace lienthong::testing {

class ScratchDir {
 public:
  // The folder is named `prefix` plus a unique suffix; path() is empty if
  // it could not be made.
  explicit ScratchDir(const std::string& prefix = "lienthong");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // Returns path() + "/" + name.
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_TESTING_SCRATCH_DIR_H_
