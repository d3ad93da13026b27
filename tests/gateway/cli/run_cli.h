// Runs one `lienthong` invocation in-process (RunCli) and keeps its exit
// code and output, for the CLI tests.
#ifndef LIENTHONG_TESTS_GATEWAY_CLI_RUN_CLI_H_
#define LIENTHONG_TESTS_GATEWAY_CLI_RUN_CLI_H_

#include <sstream>
#include <string>
#include <vector>

#include "gateway/cli/app.h"

namespace lienthong::cli::testing {

struct CliResult {
  int code;
  std::string out;
  std::string err;
};

// `args` without the program name: {"audit", "verify", "--file", path}.
inline CliResult RunLienthong(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"lienthong"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out;
  std::ostringstream err;
  const int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

}  // namespace lienthong::cli::testing

#endif  // LIENTHONG_TESTS_GATEWAY_CLI_RUN_CLI_H_
