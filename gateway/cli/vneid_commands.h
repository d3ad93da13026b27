// The VNeID command group: `lienthong vneid signin`, which completes a
// citizen's VNeID sign-in through the gateway's IdentityService
// (SignInWithVneid) with the authorisation code a portal received.
#ifndef LIENTHONG_GATEWAY_CLI_VNEID_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_VNEID_COMMANDS_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "lienthong/v1/identity.pb.h"

namespace lienthong::cli {

// The values of `lienthong vneid signin`'s own options, as typed.
struct SignInArgs {
  std::string code;           // --code
  std::string redirect_uri;   // --redirect-uri
  std::string nonce;          // --nonce
  std::string code_verifier;  // --code-verifier, "" when not given
};

// Returns the request for `args`. Fails with INVALID_ARGUMENT naming the
// option when --code, --redirect-uri or --nonce is blank (the gateway checks
// the rest). Thread-safe.
absl::StatusOr<lienthong::v1::VneidSignInRequest> BuildSignInRequest(
    const SignInArgs& args);

// Returns the readable answer: aligned "Citizen ID", "Name", "Birth date"
// (dd/MM/yyyy), "VNeID level", "Subject" and "Valid until" (UTC) lines,
// present fields only. Thread-safe.
std::string FormatSignIn(const lienthong::v1::VneidSignInResponse& response);

// Runs `lienthong vneid signin`: checks `args`, opens a channel with
// `options.connection`, calls IdentityService/SignInWithVneid with the
// deadline and prints who signed in on `out` (JSON with options.json), or
// one error line on `err`. Returns kOk or the code of the failure (see
// exit_codes.h; a code VNeID refused is UNAUTHENTICATED, exit 4). Blocks for
// at most the timeout.
ExitCode RunVneidSignIn(const SignInArgs& args, const CommonOptions& options,
                        std::ostream& out, std::ostream& err);

// Adds `vneid` with its `signin` subcommand to `root`; when selected it runs
// RunVneidSignIn with its own options and `context`'s streams and stores the
// exit code in `context`, which must outlive `root`.
void RegisterVneidCommands(CLI::App& root, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_VNEID_COMMANDS_H_
