// The identity command group: `lienthong verify`, which asks the gateway's
// IdentityService whether a citizen ID belongs to the named person.
#ifndef LIENTHONG_GATEWAY_CLI_IDENTITY_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_IDENTITY_COMMANDS_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "gateway/cli/officer_options.h"
#include "lienthong/v1/identity.pb.h"

namespace lienthong::cli {

// The values of `lienthong verify`'s own options, as typed.
struct VerifyArgs {
  std::string citizen_id;  // --id
  std::string full_name;   // --name
  std::string birth_date;  // --dob, "" when not given
  std::string purpose;     // --purpose
  std::string dossier_id;  // --dossier
  OfficerArgs officer;     // --officer-id, --officer-unit, --officer-account
};

// Returns the request for `args`. Fails with INVALID_ARGUMENT naming the
// option when the ID is not 9 or 12 digits, the name is not one the gateway
// takes (validation::ValidatePersonName: blank, other than letters, spaces
// and ' - ., over 100 characters), the date does not parse (see ParseDate)
// or the officer is missing or malformed (see BuildOfficer). Thread-safe.
absl::StatusOr<lienthong::v1::VerifyIdentityRequest> BuildVerifyRequest(
    const VerifyArgs& args);

// Returns the readable one-line result, e.g.
//   "MATCH  (reference LT-5f3a9c0e12ab34cd-7)"
//   "NO_MATCH"
// without a trailing newline. Thread-safe.
std::string FormatVerifyResponse(
    const lienthong::v1::VerifyIdentityResponse& response);

// Runs `lienthong verify`: checks `args`, opens a channel with
// `options.connection`, calls IdentityService/VerifyIdentity with the
// deadline, and prints the result on `out` (JSON with options.json) or one
// error line on `err`. Returns kOk for MATCH and NO_MATCH, kOther for a
// response without a result, and otherwise the code of the failure (see
// exit_codes.h). Blocks for at most the timeout.
ExitCode RunVerify(const VerifyArgs& args, const CommonOptions& options,
                   std::ostream& out, std::ostream& err);

// Adds `verify` to `root`; when selected it runs RunVerify with its own options
// and `context`'s streams and stores the exit code in `context`, which must
// outlive `root`.
void RegisterIdentityCommands(CLI::App& root, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_IDENTITY_COMMANDS_H_
