// The bundle command group, the officers' side of the gateway's
// BundleService (interconnected procedures: birth and death bundles):
//   lienthong bundle start    start a bundle from a request file
//   lienthong bundle status   one bundle and its steps, as a table
//   lienthong bundle watch    the same, live, until it ends
//   lienthong bundle resolve  send a refused step again (with corrected
//                             data) or stop the bundle with a reason (once
//                             the steps with their agencies have answered)
//   lienthong bundle overdue  bundles past their working-day deadline
//   lienthong bundle list     bundles by state, agency or kind
#ifndef LIENTHONG_GATEWAY_CLI_BUNDLE_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_BUNDLE_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "gateway/cli/officer_options.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::cli {

// Exit codes of `bundle watch` and `bundle start --watch` beyond the
// call's (listed in their help): the bundle was stopped, or waits for an
// officer (with --until-officer).
inline constexpr ExitCode kExitBundleStopped = static_cast<ExitCode>(10);
inline constexpr ExitCode kExitBundleWaiting = static_cast<ExitCode>(11);

// `lienthong bundle start` as typed.
struct BundleStartArgs {
  std::string file;     // --file: the request as JSON (proto field names)
  std::string kind;     // --kind birth|death, overrides the file's
  std::string dossier;  // --dossier, overrides the file's
  bool verification = false;  // --verification
  OfficerArgs officer;
  bool watch = false;  // --watch: follow it live once started
};

// Which bundle (`status`, `watch`, `resolve`).
struct BundleRef {
  std::string bundle_id;  // --id
  std::string dossier;    // --dossier
};

// `lienthong bundle resolve` as typed.
struct BundleResolveArgs {
  std::string bundle_id;            // --id
  std::string step;                 // --step
  std::vector<std::string> sets;    // --set key=value (repeatable)
  bool stop = false;                // --stop
  std::string reason;               // --reason, with --stop
  OfficerArgs officer;
};

// `lienthong bundle list` / `overdue` as typed.
struct BundleListArgs {
  std::vector<std::string> states;  // --state running|waiting|completed|stopped
  std::string agency;               // --agency (adapter name)
  std::string kind;                 // --kind birth|death
  bool overdue = false;
};

// How a bundle is followed live.
struct BundleWatchOptions {
  // Redraw the table in place (a terminal); otherwise a line per change.
  bool terminal = false;
  // Return once the bundle waits for an officer.
  bool until_officer = false;
  // Give up after this long (0: until the bundle ends).
  absl::Duration wait = absl::ZeroDuration();
  // A stream that breaks once it has shown the bundle (UNAVAILABLE: the
  // gateway restarting, or closing a connection at its maximum age) is
  // opened again this many times in a row without a change seen, backing
  // off from `reconnect_backoff` (ReconnectDelay); then the command gives
  // up (exit 2), the bundle going on either way.
  int max_reconnects = 8;
  absl::Duration reconnect_backoff = absl::Seconds(1);
};

// Returns the request `args` describe: the file's JSON (StartBundleRequest
// with proto field names) with the options applied over it. Fails with
// INVALID_ARGUMENT naming the option or the file's problem: "--file <path>:
// cannot read: <why>", "--file <path>: larger than 1 MiB" (the gateway's
// default limit for a call; a longer file is not read past it), a JSON
// error without the file's values. Thread-safe.
absl::StatusOr<lienthong::v1::StartBundleRequest> BuildStartBundleRequest(
    const BundleStartArgs& args);

// Returns the request of `args`: --set key=value pairs become the
// corrections of a retry; --stop needs --reason. INVALID_ARGUMENT naming
// the option otherwise. Thread-safe.
absl::StatusOr<lienthong::v1::ResolveStepRequest> BuildResolveRequest(
    const BundleResolveArgs& args);

// Returns the bundle as "Key: value" lines (a stop asked for that waits
// for steps with their agencies as "State: running, stop requested" and
// "Stop: takes effect once <step> (<agency>) has answered") and a table of
// its steps (STEP, AGENCY, STATE, DEADLINE, DETAIL): outputs of done steps,
// the reason of a refused one, the last error of one being retried.
// Thread-safe.
std::string FormatBundle(const lienthong::v1::Bundle& bundle);

// Returns, for a bundle whose stop was asked for and has not taken effect
// (stop_requested, not ended), a paragraph saying it takes effect once the
// steps with their agencies (STEP_RUNNING, named) have answered; "" for
// any other bundle. `bundle resolve --stop` prints it after the bundle.
// Thread-safe.
std::string StopPendingNote(const lienthong::v1::Bundle& bundle);

// Returns bundles as a table (BUNDLE, KIND, DOSSIER, STATE, DEADLINE,
// WAITING AT), the state followed by ", stop requested" for a stop that
// waits; "No bundles.\n" for none. Thread-safe.
std::string FormatBundleList(const std::vector<lienthong::v1::Bundle>& bundles);

// Whether the bundle has ended (completed or stopped). Thread-safe.
bool BundleEnded(const lienthong::v1::Bundle& bundle);

// Returns the lines `bundle watch` prints for what changed from `before`
// (null: the first view) to `now`: the bundle's state, a stop asked for,
// each step whose state or last error changed, each with the time of day.
// Thread-safe.
std::vector<std::string> BundleChanges(const lienthong::v1::Bundle* before,
                                       const lienthong::v1::Bundle& now);

ExitCode RunBundleStart(const BundleStartArgs& args, const CommonOptions& options,
                        const BundleWatchOptions& watch, std::ostream& out,
                        std::ostream& err);
ExitCode RunBundleStatus(const BundleRef& ref, const CommonOptions& options,
                         std::ostream& out, std::ostream& err);
// Follows the bundle with WatchBundle until it ends (0 completed,
// kExitBundleStopped), waits for an officer with until_officer
// (kExitBundleWaiting), or `wait` passes (kDeadlineExceeded).
ExitCode RunBundleWatch(const BundleRef& ref, const CommonOptions& options,
                        const BundleWatchOptions& watch, std::ostream& out,
                        std::ostream& err);
ExitCode RunBundleResolve(const BundleResolveArgs& args,
                          const CommonOptions& options, std::ostream& out,
                          std::ostream& err);
// Every page of ListBundles.
ExitCode RunBundleList(const BundleListArgs& args, const CommonOptions& options,
                       std::ostream& out, std::ostream& err);

// Adds `bundle` with its subcommands to `root`; the selected one runs with
// its own options and `context`'s streams and stores the exit code in
// `context`, which must outlive `root`.
void RegisterBundleCommands(CLI::App& root, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_BUNDLE_COMMANDS_H_
