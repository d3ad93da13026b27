#include "tests/testing/test_certs.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace lienthong::testing {

std::string TestCertDir() {
  const char* binary_dir = std::getenv("LIENTHONG_BINARY_DIR");
  return absl::StrCat(binary_dir != nullptr ? binary_dir : ".", "/test-certs");
}

std::string TestCert(const std::string& file_name) {
  return absl::StrCat(TestCertDir(), "/", file_name);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace lienthong::testing
