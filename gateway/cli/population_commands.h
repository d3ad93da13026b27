// The population command group: `lienthong lookup`, which reads one
// citizen's record from the gateway's PopulationService, cut down to the
// fields asked for and granted.
#ifndef LIENTHONG_GATEWAY_CLI_POPULATION_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_POPULATION_COMMANDS_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "gateway/cli/officer_options.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::cli {

// Trailing metadata key that carries the national system's request id.
inline constexpr char kReferenceMetadataKey[] = "lienthong-reference";

// The values of `lienthong lookup`'s own options, as typed.
struct LookupArgs {
  std::string citizen_id;  // --id
  std::string purpose;     // --purpose
  std::string dossier_id;  // --dossier
  std::string fields;      // --fields, comma-separated; "" = all granted
  OfficerArgs officer;     // --officer-id, --officer-unit, --officer-account
};

// Returns the request for `args`. Fails with INVALID_ARGUMENT naming the
// option when the ID is not 9 or 12 digits, --purpose or --dossier is blank,
// --fields names a path that lienthong.v1.Citizen lacks, or the officer is
// missing or malformed (see BuildOfficer). Thread-safe.
absl::StatusOr<lienthong::v1::LookupCitizenRequest> BuildLookupRequest(
    const LookupArgs& args);

// Returns the readable record: one aligned "Key: value" line per field
// present (dates dd/MM/yyyy, addresses on one line, relatives with their
// IDs, coded fields as "name (code)" or "code X" for a code without a
// name), then "Reference: ..." when `reference` is not empty. Thread-safe.
std::string FormatCitizen(const lienthong::v1::Citizen& citizen,
                          absl::string_view reference);

// Runs `lienthong lookup`: checks `args`, opens a channel with
// `options.connection`, calls PopulationService/LookupCitizen with the
// deadline and prints the record on `out` (with options.json: the Citizen as
// one JSON object, and the reference on `err` as
// "lienthong: reference: ..."), or one error line on `err`. Returns kOk or
// the code of the failure (see exit_codes.h). Blocks for at most the
// timeout.
ExitCode RunLookup(const LookupArgs& args, const CommonOptions& options,
                   std::ostream& out, std::ostream& err);

// Adds `lookup` to `root`; when selected it runs RunLookup with its own options
// and `context`'s streams and stores the exit code in `context`, which must
// outlive `root`.
void RegisterPopulationCommands(CLI::App& root, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_POPULATION_COMMANDS_H_
