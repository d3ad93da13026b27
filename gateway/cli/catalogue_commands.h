// The catalogue command group, the operator's side of the gateway's copy of
// the national procedure database (PortalSyncService/PullCatalogue):
//   lienthong catalogue pull    have the gateway read it now, and follow the
//                               read with a progress bar until it ends
#ifndef LIENTHONG_GATEWAY_CLI_CATALOGUE_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_CATALOGUE_COMMANDS_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::cli {

// `lienthong catalogue pull` as typed.
struct CataloguePullArgs {
  bool no_watch = false;  // --no-watch: return once the read has started
};

// How a read is followed (GetCataloguePull, polled).
struct CataloguePollOptions {
  // Redraw a progress bar in place; otherwise plain lines.
  bool terminal = false;
  absl::Duration interval = absl::Milliseconds(500);
  // Plain lines: at most one per this interval.
  absl::Duration plain_interval = absl::Seconds(5);
  // Stop following (the read goes on) after this long; 0 = until it ends.
  absl::Duration wait = absl::ZeroDuration();
};

// Returns the progress text: "312/535 read in full, 2 not read, 12 s".
// Thread-safe.
std::string FormatCatalogueProgress(const lienthong::v1::CataloguePull& pull,
                                    absl::Duration elapsed);

// Returns the outcome in a sentence: the catalogue in use and what the read
// did ("Read 535 procedures of the national procedure database (533 in
// full); the gateway checks codes against them."). Thread-safe.
std::string FormatCatalogueOutcome(const lienthong::v1::CataloguePull& pull);

// Runs `lienthong catalogue pull`: PullCatalogue, then, unless --no-watch,
// GetCataloguePull every poll.interval with a progress bar until the read
// ends (or poll.wait passes). Returns kOk (DONE, or started with
// --no-watch), kOther when the read FAILED (its error printed),
// kDeadlineExceeded when poll.wait ran out (the read goes on), or the code
// of a failed call. Blocks until then.
ExitCode RunCataloguePull(const CataloguePullArgs& args,
                          const CommonOptions& options,
                          const CataloguePollOptions& poll, std::ostream& out,
                          std::ostream& err);

// Adds `catalogue` with its subcommands to `root`; see
// RegisterSyncCommands for the contract.
void RegisterCatalogueCommands(CLI::App& root, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_CATALOGUE_COMMANDS_H_
