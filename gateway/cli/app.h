// The `lienthong` command line: BuildApp, which assembles every command
// group, and RunCli, which parses and runs one invocation. main.cc only calls
// RunCli; tests call it too.
#ifndef LIENTHONG_GATEWAY_CLI_APP_H_
#define LIENTHONG_GATEWAY_CLI_APP_H_

#include <memory>
#include <ostream>

#include "CLI/CLI.hpp"
#include "gateway/cli/command.h"

namespace lienthong::cli {

// Returns the root command with every command group registered against
// `context`, which must outlive it. Adding a group means one line here.
std::unique_ptr<CLI::App> BuildApp(CommandContext& context);

// Parses `argv` and runs the selected command, writing output to `out` and
// diagnostics to `err`. Returns the process exit code: 0 also for --help and
// --version, 1 for a command line that does not parse (nothing is sent), and
// otherwise the command's ExitCode. Blocks for at most the command's
// timeout. REQUIRES: argv[0..argc) are valid strings.
int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err);

// Stops gRPC core from logging to stderr, unless GRPC_VERBOSITY is set (for
// debugging): the reasons it logs (handshake failures, ...) also reach the
// call's status, which the command prints as its one error line.
// Process-wide; call once, first thing in main.
void QuietGrpcLogs();

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_APP_H_
