// The sync command group, the operator's side of the gateway's
// PortalSyncService (National Public Service Portal synchronisation):
//   lienthong sync procedures   validate a catalogue file, show the plan,
//                               queue it and follow the job to its end
//   lienthong sync status       one job's state, or follow it (--watch)
//   lienthong sync dead-letters what the portal refused for good; --retry
//   lienthong sync push         dossier status changes with their
//                               registrations (operators, demo)
// with the request builders, parsers and output formatting they use: the
// commands and their registration in sync_commands.cc and sync_push.cc, the
// parsers in sync_parse.cc, the formatting in sync_format.cc; the job
// watcher is job_watcher.h's and the catalogue reader catalogue.h's.
#ifndef LIENTHONG_GATEWAY_CLI_SYNC_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_SYNC_COMMANDS_H_

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/cli/catalogue.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "google/protobuf/timestamp.pb.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::cli {

// Exit code of `sync procedures` and `sync status` when the job ended with
// items the portal refused for good (SyncJob DONE_WITH_ERRORS): the rest was
// delivered, and `lienthong sync dead-letters` shows what was not. Outside
// exit_codes.h's table, which covers the outcome of one call; the help of
// these commands lists it.
inline constexpr ExitCode kExitJobHasDeadLetters = static_cast<ExitCode>(8);

// The gateway's listener.limits.max_message_bytes unless its configuration
// says otherwise (gateway/server/server_setup.cc): a call carrying more is
// refused with RESOURCE_EXHAUSTED, and nothing of it is queued.
inline constexpr size_t kGatewayDefaultMaxMessageBytes = size_t{1} << 20;

// Default of `sync push --max-batch-bytes`: under the gateway's default
// limit, with room for a gateway configured a little lower.
inline constexpr size_t kDefaultMaxBatchBytes = size_t{900} << 10;

// How a job is followed to its end (WatchSyncJob).
struct WatchOptions {
  // Redraw a progress bar in place; otherwise plain lines.
  bool terminal = false;
  // Stop watching (the job goes on) after this long; 0 = until the job ends.
  // Any length: more than a century is taken as a century.
  absl::Duration wait = absl::ZeroDuration();
  // Plain lines: at most one per interval.
  absl::Duration plain_interval = absl::Seconds(5);
  // How often the display (elapsed time) is refreshed.
  absl::Duration tick = absl::Seconds(1);
  // No message on the stream for this long: the connection may be dead, so
  // the stream is cancelled, the job read with GetSyncJob and the stream
  // opened again.
  absl::Duration idle_timeout = absl::Seconds(60);
  // A broken stream (UNAVAILABLE, e.g. a gateway restart) is opened again
  // this many times in a row, backing off from `reconnect_backoff` doubling
  // up to 30 s (about two minutes in all with the defaults), before the
  // command gives up; the job goes on in the gateway either way.
  int max_reconnects = 8;
  absl::Duration reconnect_backoff = absl::Seconds(1);
};

// `lienthong sync procedures` as typed.
struct SyncProceduresArgs {
  std::string file;               // --file, .json or .csv
  bool check_only = false;        // --check: validate, connect to nothing
  bool dry_run = false;           // --dry-run
  bool skip_invalid = false;      // --skip-invalid
  bool withdraw_missing = false;  // --withdraw-missing
  bool verbose = false;           // --verbose: the plan per code
  bool no_watch = false;          // --no-watch: return once queued
};

// `lienthong sync status` as typed.
struct SyncStatusArgs {
  std::string job_id;  // --job
  bool watch = false;  // --watch
};

// `lienthong sync dead-letters` as typed.
struct DeadLettersArgs {
  bool retry = false;            // --retry
  std::vector<std::string> ids;  // --id, only with --retry
};

// `lienthong sync push` as typed: one update from the options, or with
// `file` every update in a JSON file.
struct PushArgs {
  std::string dossier_code;    // --dossier
  std::string procedure_code;  // --procedure
  std::string status;          // --status, 1..10 or a name
  std::string time;            // --time, "" = now
  std::string handler;         // --handler (NguoiXuLy)
  std::string note;            // --note (NoiDungXuLy)
  std::string handler_title{};  // --title (ChucDanh)
  std::string department{};     // --department (PhongBanXuLy)
  std::string step_start{};     // --step-start (NgayBatDau)
  std::string step_due{};       // --step-due (NgayKetThucTheoQuyDinh)
  // The dossier's registration, sent when any of these is given (and
  // required with its first update): --procedure-name, --field-code,
  // --field-name, --applicant-name, --applicant-type (citizen or
  // organisation; default citizen), --applicant-id, --email, --phone,
  // --summary, --received, --due, --handling-unit, --result-by-post,
  // --registration-note.
  std::string procedure_name{};
  std::string field_code{};
  std::string field_name{};
  std::string applicant_name{};
  std::string applicant_type{};
  std::string applicant_id{};
  std::string email{};
  std::string phone{};
  std::string summary{};
  std::string received{};
  std::string due{};
  std::string handling_unit{};
  bool result_by_post{};
  std::string registration_note{};
  // --file: a JSON PushDossierStatusRequest ({"updates": [...]}, field names
  // as in portal.proto), instead of the options above.
  std::string file{};
  // --max-batch-bytes: with --file, the most bytes of updates one call
  // carries (an update alone over it goes alone, for the gateway to judge).
  size_t max_batch_bytes = kDefaultMaxBatchBytes;
};

// Returns the status for "1".."10" or a name of lienthong.v1.DossierStatus
// ("PROCESSING", "processing", "result-returned"). Fails with
// INVALID_ARGUMENT listing the names. Thread-safe.
absl::StatusOr<lienthong::v1::DossierStatus> ParseDossierStatus(
    absl::string_view text);

// Returns the time in `text`: RFC 3339 with a zone
// ("2025-07-15T10:12:03+07:00"), or without a zone in Vietnam's time (UTC+7,
// no daylight saving): "2025-07-15 10:12:03", "2025-07-15T10:12:03", or the
// portal's "20250715101203". Fails with INVALID_ARGUMENT for another form or
// a time before 2000. Thread-safe.
absl::StatusOr<google::protobuf::Timestamp> ParseVietnamTime(
    absl::string_view text);

// As ParseVietnamTime, but "" is `now`, and a time more than an hour after
// `now` fails with INVALID_ARGUMENT. Thread-safe.
absl::StatusOr<google::protobuf::Timestamp> ParseStatusTime(
    absl::string_view text, absl::Time now);

// Returns the request for `args` (one update, with the registration when
// any of its options is given). Fails with INVALID_ARGUMENT naming the
// option, or, for what the gateway's rules refuse, the field
// ("registration.applicant.email: not an e-mail address"). Thread-safe.
absl::StatusOr<lienthong::v1::PushDossierStatusRequest> BuildPushRequest(
    const PushArgs& args, absl::Time now);

// Returns the request in `json` (a PushDossierStatusRequest as JSON), each
// update checked by the gateway's rules at `now`. Fails with
// INVALID_ARGUMENT "updates[<i>].<field>: ..." or saying why the JSON does
// not parse. Thread-safe.
absl::StatusOr<lienthong::v1::PushDossierStatusRequest> ParsePushFile(
    absl::string_view json, absl::Time now);

// Returns `time` in Vietnam's time, "2025-07-15 10:12:03 +07"; "-" when
// unset. Thread-safe.
std::string FormatTimestamp(const google::protobuf::Timestamp& time);

// Returns the one-line plan summary, e.g.
//   "Plan: 12 to create, 3 to update, 398 unchanged, 2 to withdraw."
// Thread-safe.
std::string FormatPlanSummary(
    const lienthong::v1::SyncProceduresResponse& response);

// Returns the plan per code, one line each in the gateway's order:
//   "  create     1.001193.000.00.00.H31  Đăng ký khai sinh\n"
// with the name taken from `procedures` when the code is there.
// Thread-safe.
std::string FormatPlanDetails(
    const lienthong::v1::SyncProceduresResponse& response,
    const std::vector<lienthong::v1::Procedure>& procedures);

// Returns the progress text shown after the bar:
//   "312/415 delivered, 0 dead-lettered, 12 s". Thread-safe.
std::string FormatJobProgress(const lienthong::v1::SyncJob& job,
                              absl::Duration elapsed);

// Returns the job as aligned "Key: value" lines (job, state, progress,
// created, updated). Thread-safe.
std::string FormatJobStatus(const lienthong::v1::SyncJob& job);

// Returns the dead letters as a table with a header row (ID, KIND, CODE,
// ATTEMPTS, FAILED AT, REASON), columns aligned by characters; reasons on one
// line. "No dead letters.\n" for none. Thread-safe.
std::string FormatDeadLetterTable(
    const std::vector<lienthong::v1::DeadLetter>& dead_letters);

// Runs `lienthong sync procedures`: reads and validates the whole catalogue
// (every bad row on `err`; nothing is sent if any row is bad, unless
// --skip-invalid, which sends the good rows and lists the skipped ones),
// calls SyncProcedures, prints the plan, and unless it is a dry run, nothing
// changes or --no-watch, follows the job with WatchSyncJob (see
// WatchOptions) until it ends. Returns kOk (job DONE, dry run, nothing to
// do, --check passed), kExitJobHasDeadLetters (DONE_WITH_ERRORS), kUsage
// (command line, unreadable file), kInvalidArgument (bad rows or a
// malformed file, or the gateway refusing the catalogue),
// kDeadlineExceeded (--wait ran out; the job goes on), or the code of the
// failed call. A catalogue over kGatewayDefaultMaxMessageBytes is sent after
// a warning naming the gateway setting that must be above it. Blocks until
// the job ends or `watch.wait` passes.
ExitCode RunSyncProcedures(const SyncProceduresArgs& args,
                           const CommonOptions& options,
                           const WatchOptions& watch, std::ostream& out,
                           std::ostream& err);

// Runs `lienthong sync status`: GetSyncJob, printed (JSON with
// options.json); with args.watch, followed like `sync procedures` does.
// Returns kUsage without --job, kExitJobHasDeadLetters for a job that ended
// DONE_WITH_ERRORS, kOk for any other state, or the code of the failure.
ExitCode RunSyncStatus(const SyncStatusArgs& args, const CommonOptions& options,
                       const WatchOptions& watch, std::ostream& out,
                       std::ostream& err);

// Runs `lienthong sync dead-letters`: every page of ListDeadLetters as a
// table (options.json: one JSON object per dead letter per line), or with
// args.retry RetryDeadLetters for args.ids (all when empty). Returns kOk or
// the code of the failure.
ExitCode RunDeadLetters(const DeadLettersArgs& args,
                        const CommonOptions& options, std::ostream& out,
                        std::ostream& err);

// Runs `lienthong sync push`: PushDossierStatus with one update, or with
// --file the file's updates in calls of at most 10,000 updates and
// args.max_batch_bytes bytes. Returns kOk (queued, or repeats already
// accepted), kUsage (bad options or file), or the code of the failure (an
// impossible transition is FAILED_PRECONDITION, kOther; with a file, the
// calls before the failed one stay queued, as printed).
ExitCode RunPush(const PushArgs& args, const CommonOptions& options,
                 std::ostream& out, std::ostream& err);

// Adds `push` to the `sync` command (RegisterSyncCommands calls it).
void AddPushCommand(CLI::App& sync, CommandContext& context);

// Adds `sync` with its subcommands to `root`; the selected one runs with its
// own options and `context`'s streams and stores the exit code in `context`,
// which must outlive `root`. Progress is drawn as a bar when context.out is
// a terminal (IsTerminal).
void RegisterSyncCommands(CLI::App& root, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_SYNC_COMMANDS_H_
