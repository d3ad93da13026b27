#include "tests/bench/read_file.h"

#include <fstream>
#include <sstream>

namespace lienthong::bench {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

}  // namespace lienthong::bench
