// A path for a test's own outbox database, in a scratch folder of the test
// program's own (removed with its content when the program ends) and named
// after the running test, with any database (and write-ahead log) an earlier
// test of the same name left there removed; and a key to open it with.
#ifndef LIENTHONG_TESTS_GATEWAY_SYNC_FRESH_OUTBOX_PATH_H_
#define LIENTHONG_TESTS_GATEWAY_SYNC_FRESH_OUTBOX_PATH_H_

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::sync::testing {

// "<scratch folder>/<prefix>_<test name>.db". Call from a running test.
inline std::string FreshOutboxPath(absl::string_view prefix) {
  static const ::lienthong::testing::ScratchDir folder("outbox-tests");
  std::string path = absl::StrCat(
      folder.path(), "/", prefix, "_",
      ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove(absl::StrCat(path, suffix).c_str());
  }
  return path;
}

// A fixed 32-byte outbox key for tests (OutboxOptions::key).
inline std::string TestOutboxKey() {
  return "0123456789abcdef0123456789ABCDEF";
}

}  // namespace lienthong::sync::testing

#endif  // LIENTHONG_TESTS_GATEWAY_SYNC_FRESH_OUTBOX_PATH_H_
