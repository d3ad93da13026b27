// The sync commands (declared in sync_commands.h): each command's checks,
// calls and output, and their registration. The catalogue reader, the job
// watcher, the parsers and the formatting are in files of their own.
#include "gateway/cli/sync_commands.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/cli/job_watcher.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "grpcpp/client_context.h"
#include "lienthong/v1/portal.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::DeadLetter;
using ::lienthong::v1::GetSyncJobRequest;
using ::lienthong::v1::ListDeadLettersRequest;
using ::lienthong::v1::ListDeadLettersResponse;
using ::lienthong::v1::PortalSyncService;
using ::lienthong::v1::Procedure;
using ::lienthong::v1::RetryDeadLettersRequest;
using ::lienthong::v1::RetryDeadLettersResponse;
using ::lienthong::v1::SyncJob;
using ::lienthong::v1::SyncProceduresRequest;
using ::lienthong::v1::SyncProceduresResponse;

// Dead letters are read in pages of this many.
constexpr int kDeadLetterPageSize = 500;

constexpr char kSyncExamples[] =
    R"(lienthong sync procedures --file deploy/examples/catalogue.json --dry-run
lienthong sync procedures --file catalogue.csv
lienthong sync status --job JOB_ID --watch
lienthong sync dead-letters
lienthong sync dead-letters --retry
lienthong sync push --dossier 000.00.01.H31-250715-00123 \
    --procedure 1.001193.000.00.00.H31 --status PROCESSING)";

constexpr char kProceduresExamples[] =
    R"(lienthong sync procedures --file catalogue.csv --check
lienthong sync procedures --file deploy/examples/catalogue.json --dry-run --verbose
lienthong sync procedures --file catalogue.json
lienthong sync procedures --file catalogue.csv --skip-invalid --wait 600
lienthong sync procedures --file catalogue.json --withdraw-missing --no-watch --json)";

constexpr char kProceduresNotes[] =
    "The file is JSON (an array of procedures, or {\"procedures\": [...]})\n"
    "or CSV with a header row (UTF-8, a byte-order mark is fine). Keys or\n"
    "columns: code, name, field, authority_level, level,\n"
    "implementing_agency, processing_time, fees, required_documents,\n"
    "legal_basis (the portal's MaTTHC, TenTTHC, ... also do); in CSV the\n"
    "two lists are separated by ';'. code, name and level are required;\n"
    "code is G.NNNNNN.UUU.UU.UU.HPP, e.g. 1.001193.000.00.00.H31; level is\n"
    "fully_online or partly_online (or TOAN_TRINH, MOT_PHAN).\n"
    "\n"
    "The whole file is checked first and every bad row is listed (CSV: its\n"
    "line, the header being line 1; JSON: its position in the array, from\n"
    "1). Nothing is sent while a row is bad, unless --skip-invalid.\n"
    "Without --dry-run or --no-watch the command follows the job until the\n"
    "portal has acknowledged every change; Ctrl-C stops watching, not the\n"
    "job.\n"
    "\n"
    "--json prints the plan response and, when following, the finished\n"
    "job: one JSON object per line.\n"
    "\n"
    "Besides the codes below: 3 also when rows are bad; 6 also when --wait\n"
    "ran out (the job goes on); 8 when the job ended with dead letters\n"
    "(see 'lienthong sync dead-letters').";

constexpr char kStatusExamples[] =
    R"(lienthong sync status --job JOB_ID
lienthong sync status --job JOB_ID --watch
lienthong sync status --job JOB_ID --json)";

constexpr char kStatusNotes[] =
    "The job ID is printed by 'lienthong sync procedures' (\"Job ...\n"
    "queued\"). Exit code 8 when the job ended with dead letters.";

constexpr char kDeadLettersExamples[] =
    R"(lienthong sync dead-letters
lienthong sync dead-letters --json
lienthong sync dead-letters --retry
lienthong sync dead-letters --retry --id DL_ID --id DL_ID2)";

// Prints every row error of `catalogue` under a heading line.
void ReportRowErrors(const Catalogue& catalogue, absl::string_view heading,
                     std::ostream& err) {
  err << "lienthong: " << heading << "\n";
  bool encoding = false;
  for (const CatalogueRowError& error : catalogue.errors) {
    err << "  " << FormatCatalogueRowError(error) << "\n";
    encoding = encoding || absl::StrContains(error.message, "invalid UTF-8");
  }
  if (encoding) {
    err << "lienthong: hint: save the file as UTF-8 (\"CSV UTF-8\" in a "
           "spreadsheet); older tools write Windows-1258 or TCVN3\n";
  }
}

// The command line of `sync procedures`, before the file is read.
absl::Status CheckProceduresArgs(const SyncProceduresArgs& args) {
  if (args.file.empty()) {
    return absl::InvalidArgumentError(
        "--file is required: the catalogue, .json or .csv");
  }
  if (args.skip_invalid && args.withdraw_missing) {
    return absl::InvalidArgumentError(
        "--skip-invalid cannot go with --withdraw-missing: the "
        "procedures of the skipped rows would be withdrawn from the "
        "portal");
  }
  if (absl::StatusOr<CatalogueFormat> format =
          CatalogueFormatFromPath(args.file);
      !format.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--file ", args.file, ": ", format.status().message()));
  }
  return absl::OkStatus();
}

// Reports the bad rows of `catalogue` as args asks. Returns the exit code
// when the command stops there, nullopt when the good rows go on.
std::optional<ExitCode> ReportBadRows(const SyncProceduresArgs& args,
                                      const Catalogue& catalogue,
                                      std::ostream& err) {
  if (catalogue.errors.empty()) return std::nullopt;
  const std::string counts = absl::StrCat(
      catalogue.BadRowCount(), " of ", Plural(catalogue.rows, "row", "rows"));
  if (args.check_only) {
    ReportRowErrors(catalogue, absl::StrCat(args.file, ": ", counts, " bad:"),
                    err);
    return ExitCode::kInvalidArgument;
  }
  if (!args.skip_invalid) {
    ReportRowErrors(
        catalogue,
        absl::StrCat(args.file, ": ", counts, " bad; nothing was sent:"), err);
    err << "lienthong: fix them, or send only the good rows with "
           "--skip-invalid\n";
    return ExitCode::kInvalidArgument;
  }
  ReportRowErrors(catalogue,
                  absl::StrCat(args.file, ": skipping ", counts, ":"), err);
  if (catalogue.procedures.empty()) {
    err << "lienthong: no good rows to send\n";
    return ExitCode::kInvalidArgument;
  }
  return std::nullopt;
}

// Prints the plan in `response` for `request`'s catalogue.
ExitCode PrintPlan(const SyncProceduresArgs& args,
                   const SyncProceduresRequest& request,
                   const SyncProceduresResponse& response,
                   const Catalogue& catalogue, const CommonOptions& options,
                   std::ostream& out, std::ostream& err) {
  if (options.json) return PrintJson(response, out, err);
  out << "Catalogue " << args.file << ": "
      << Plural(request.procedures_size(), "procedure", "procedures") << ".\n"
      << FormatPlanSummary(response) << "\n";
  if (args.verbose) out << FormatPlanDetails(response, catalogue.procedures);
  return ExitCode::kOk;
}

// Tells on `err` that a catalogue of `bytes` is over the gateway's message
// limit, or with `refused` was refused for its size, and which setting to
// raise: a catalogue goes in one call, as --withdraw-missing needs it whole.
void TellCatalogueSize(size_t bytes, bool refused, std::ostream& err) {
  err << "lienthong: the catalogue is " << bytes
      << " bytes in one SyncProcedures call, which cannot be split; ";
  if (refused) {
    err << "raise the gateway's listener.limits.max_message_bytes above "
           "that\n";
  } else {
    err << "the gateway refuses it unless its "
           "listener.limits.max_message_bytes (default "
        << kGatewayDefaultMaxMessageBytes << ") is above that\n";
  }
}

// Sends the good rows of `catalogue`, prints the plan and, unless there is
// nothing to follow, follows the job.
ExitCode SendCatalogue(const SyncProceduresArgs& args,
                       const Catalogue& catalogue, const CommonOptions& options,
                       const WatchOptions& watch, std::ostream& out,
                       std::ostream& err) {
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = PortalSyncService::NewStub(*channel);
  SyncProceduresRequest request;
  request.mutable_procedures()->Reserve(
      static_cast<int>(catalogue.procedures.size()));
  for (const Procedure& procedure : catalogue.procedures) {
    *request.add_procedures() = procedure;
  }
  request.set_dry_run(args.dry_run);
  request.set_withdraw_missing(args.withdraw_missing);
  // The gateway refuses a call over its listener.limits.max_message_bytes,
  // a setting only it knows: over the default, warn and try.
  const size_t bytes = request.ByteSizeLong();
  const bool over_default = bytes > kGatewayDefaultMaxMessageBytes;
  if (over_default) TellCatalogueSize(bytes, /*refused=*/false, err);
  SyncProceduresResponse response;
  {
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    grpc::Status status = stub->SyncProcedures(&context, request, &response);
    if (!status.ok()) {
      const ExitCode code = ReportRpcError(status, err);
      if (IsMessageTooLarge(status) && !over_default) {
        TellCatalogueSize(bytes, /*refused=*/true, err);
      }
      return code;
    }
  }
  if (ExitCode code =
          PrintPlan(args, request, response, catalogue, options, out, err);
      code != ExitCode::kOk) {
    return code;
  }
  if (args.dry_run) {
    if (!options.json) out << "Dry run: nothing was queued.\n";
    return ExitCode::kOk;
  }
  if (response.job_id().empty()) {
    if (!options.json) {
      out << "Nothing to change: the portal has this catalogue already.\n";
    }
    return ExitCode::kOk;
  }
  if (!options.json)
    out << "Job " << OneLine(response.job_id()) << " queued.\n";
  if (args.no_watch) {
    if (!options.json) {
      out << "Follow it with " << FollowHint(response.job_id()) << ".\n";
    }
    return ExitCode::kOk;
  }
  SyncJob job;
  job.set_job_id(response.job_id());
  job.set_state(SyncJob::QUEUED);
  job.set_total(response.creates() + response.updates() +
                response.withdrawals());
  return FollowJob(*stub, job, options, watch, out, err);
}

// `sync dead-letters --retry`.
ExitCode RetryDeadLetters(PortalSyncService::Stub& stub,
                          const DeadLettersArgs& args,
                          const CommonOptions& options, std::ostream& out,
                          std::ostream& err) {
  RetryDeadLettersRequest request;
  for (const std::string& id : args.ids) request.add_ids(id);
  RetryDeadLettersResponse response;
  grpc::ClientContext context;
  SetDeadline(options.connection, context);
  grpc::Status status = stub.RetryDeadLetters(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, err);
  if (options.json) return PrintJson(response, out, err);
  out << "Requeued "
      << Plural(response.requeued(), "dead letter", "dead letters")
      << (response.requeued() > 0
              ? "; follow the deliveries with 'lienthong sync dead-letters' "
                "and 'lienthong sync status'.\n"
              : ".\n");
  return ExitCode::kOk;
}

// Reads every page of ListDeadLetters into `dead_letters`. Returns kOk or
// the code of the failure (reported on `err`).
ExitCode ListAllDeadLetters(PortalSyncService::Stub& stub,
                            const CommonOptions& options,
                            std::vector<DeadLetter>& dead_letters,
                            std::ostream& err) {
  std::string token;
  while (true) {
    ListDeadLettersRequest request;
    request.set_page_size(kDeadLetterPageSize);
    request.set_page_token(token);
    ListDeadLettersResponse response;
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    grpc::Status status = stub.ListDeadLetters(&context, request, &response);
    if (!status.ok()) return ReportRpcError(status, err);
    for (DeadLetter& letter : *response.mutable_dead_letters()) {
      dead_letters.push_back(std::move(letter));
    }
    if (response.next_page_token().empty()) return ExitCode::kOk;
    if (response.next_page_token() == token) {
      err << "lienthong: the gateway returned the same page token twice; "
             "stopping\n";
      return ExitCode::kOther;
    }
    token = response.next_page_token();
  }
}

}  // namespace

ExitCode RunSyncProcedures(const SyncProceduresArgs& args,
                           const CommonOptions& options,
                           const WatchOptions& watch, std::ostream& out,
                           std::ostream& err) {
  if (absl::Status s = CheckProceduresArgs(args); !s.ok()) {
    return ReportUsageError(s, err);
  }
  absl::StatusOr<Catalogue> catalogue = ReadCatalogueFile(args.file);
  if (!catalogue.ok()) {
    if (catalogue.status().code() != absl::StatusCode::kInvalidArgument) {
      return ReportUsageError(catalogue.status(), err);
    }
    err << "lienthong: " << OneLine(catalogue.status().message())
        << "; nothing was sent\n";
    return ExitCode::kInvalidArgument;
  }
  if (std::optional<ExitCode> code = ReportBadRows(args, *catalogue, err)) {
    return *code;
  }
  if (args.check_only) {
    out << args.file << ": "
        << Plural(static_cast<int64_t>(catalogue->procedures.size()),
                  "procedure", "procedures")
        << ", every row good.\n";
    return ExitCode::kOk;
  }
  return SendCatalogue(args, *catalogue, options, watch, out, err);
}

ExitCode RunSyncStatus(const SyncStatusArgs& args, const CommonOptions& options,
                       const WatchOptions& watch, std::ostream& out,
                       std::ostream& err) {
  if (absl::StripAsciiWhitespace(args.job_id).empty()) {
    return ReportUsageError(
        absl::InvalidArgumentError(
            "--job is required: give the job ID that 'lienthong sync "
            "procedures' printed (\"Job ... queued\")"),
        err);
  }
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = PortalSyncService::NewStub(*channel);

  SyncJob job;
  {
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    GetSyncJobRequest request;
    request.set_job_id(args.job_id);
    grpc::Status status = stub->GetSyncJob(&context, request, &job);
    if (!status.ok()) return ReportRpcError(status, err);
  }
  if (!args.watch || HasEnded(job)) {
    if (options.json) {
      if (ExitCode code = PrintJson(job, out, err); code != ExitCode::kOk) {
        return code;
      }
    } else {
      out << FormatJobStatus(job);
    }
    if (job.state() == SyncJob::DONE_WITH_ERRORS) {
      err << "lienthong: the job ended with dead letters: see them with "
             "'lienthong sync dead-letters'\n";
      return kExitJobHasDeadLetters;
    }
    return ExitCode::kOk;
  }
  if (!options.json) out << FormatJobStatus(job);
  if (job.job_id().empty()) job.set_job_id(args.job_id);
  return FollowJob(*stub, job, options, watch, out, err);
}

ExitCode RunDeadLetters(const DeadLettersArgs& args,
                        const CommonOptions& options, std::ostream& out,
                        std::ostream& err) {
  if (!args.retry && !args.ids.empty()) {
    return ReportUsageError(absl::InvalidArgumentError("--id needs --retry"),
                            err);
  }
  for (const std::string& id : args.ids) {
    if (absl::StripAsciiWhitespace(id).empty()) {
      return ReportUsageError(absl::InvalidArgumentError("--id is empty"), err);
    }
  }
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = PortalSyncService::NewStub(*channel);
  if (args.retry) return RetryDeadLetters(*stub, args, options, out, err);

  std::vector<DeadLetter> dead_letters;
  if (ExitCode code = ListAllDeadLetters(*stub, options, dead_letters, err);
      code != ExitCode::kOk) {
    return code;
  }
  if (options.json) {
    for (const DeadLetter& letter : dead_letters) {
      if (ExitCode code = PrintJson(letter, out, err); code != ExitCode::kOk) {
        return code;
      }
    }
    return ExitCode::kOk;
  }
  out << FormatDeadLetterTable(dead_letters);
  if (!dead_letters.empty()) {
    out << "\n"
        << Plural(static_cast<int64_t>(dead_letters.size()), "dead letter",
                  "dead letters")
        << ". Requeue with 'lienthong sync dead-letters --retry' (all) or "
           "--retry --id ID ... once the cause is fixed.\n";
  }
  return ExitCode::kOk;
}

namespace {

// Adds `sync procedures` to `sync`.
void AddProceduresCommand(CLI::App& sync, CommandContext& context,
                          bool terminal) {
  CLI::App* command = sync.add_subcommand(
      "procedures",
      "Validate a catalogue file, show the plan against the portal and "
      "publish it, following the job until the portal has everything");
  auto args = std::make_shared<SyncProceduresArgs>();
  auto options = std::make_shared<CommonOptions>();
  auto wait = std::make_shared<double>(0);
  command
      ->add_option("--file", args->file,
                   "The catalogue: .json or .csv (see below)")
      ->type_name("FILE")
      ->required();
  command->add_flag("--check", args->check_only,
                    "Only validate the file; connect to nothing");
  command->add_flag("--dry-run", args->dry_run, "Show the plan; queue nothing");
  command->add_flag("--skip-invalid", args->skip_invalid,
                    "Send the good rows and list the skipped bad ones "
                    "(default: send nothing while a row is bad)");
  command->add_flag("--withdraw-missing", args->withdraw_missing,
                    "Withdraw from the portal the procedures this file "
                    "does not have");
  command->add_flag("-v,--verbose", args->verbose,
                    "Show the plan per procedure code");
  command->add_flag("--no-watch", args->no_watch,
                    "Return once the job is queued");
  command
      ->add_option("--wait", *wait,
                   "Stop watching after this long (the job goes on); 0 = "
                   "until the job ends")
      ->type_name("SECONDS")
      ->check(NonNegativeSeconds())
      ->capture_default_str();
  AddCommonOptions(*command, *options);
  command->footer(HelpFooter(kProceduresExamples, kProceduresNotes));
  command->callback([args, options, wait, terminal, &context] {
    WatchOptions watch;
    watch.terminal = terminal;
    watch.wait = absl::Seconds(*wait);
    context.exit_code =
        RunSyncProcedures(*args, *options, watch, context.out, context.err);
  });
}

// Adds `sync status` to `sync`.
void AddStatusCommand(CLI::App& sync, CommandContext& context, bool terminal) {
  CLI::App* command = sync.add_subcommand(
      "status", "Show a sync job's state, or follow it to its end");
  auto args = std::make_shared<SyncStatusArgs>();
  auto options = std::make_shared<CommonOptions>();
  auto wait = std::make_shared<double>(0);
  command
      ->add_option("--job", args->job_id,
                   "Job ID, as 'lienthong sync procedures' printed it")
      ->type_name("ID");
  command->add_flag("--watch", args->watch,
                    "Follow the job with a progress display until it "
                    "ends");
  command
      ->add_option("--wait", *wait,
                   "With --watch: stop after this long; 0 = until the job "
                   "ends")
      ->type_name("SECONDS")
      ->check(NonNegativeSeconds())
      ->capture_default_str();
  AddCommonOptions(*command, *options);
  command->footer(HelpFooter(kStatusExamples, kStatusNotes));
  command->callback([args, options, wait, terminal, &context] {
    WatchOptions watch;
    watch.terminal = terminal;
    watch.wait = absl::Seconds(*wait);
    context.exit_code =
        RunSyncStatus(*args, *options, watch, context.out, context.err);
  });
}

// Adds `sync dead-letters` to `sync`.
void AddDeadLettersCommand(CLI::App& sync, CommandContext& context) {
  CLI::App* command = sync.add_subcommand(
      "dead-letters",
      "List the changes the portal refused for good, with its reasons; "
      "requeue them with --retry");
  auto args = std::make_shared<DeadLettersArgs>();
  auto options = std::make_shared<CommonOptions>();
  CLI::Option* retry = command->add_flag(
      "--retry", args->retry,
      "Requeue the dead letters (all, or those given with --id)");
  command
      ->add_option("--id", args->ids,
                   "With --retry: a dead letter to requeue (repeatable, or "
                   "comma-separated)")
      ->type_name("ID")
      ->delimiter(',')
      ->needs(retry);
  AddCommonOptions(*command, *options);
  command->footer(HelpFooter(kDeadLettersExamples,
                             "--json prints one JSON object per dead "
                             "letter, one per line."));
  command->callback([args, options, &context] {
    context.exit_code =
        RunDeadLetters(*args, *options, context.out, context.err);
  });
}

}  // namespace

void RegisterSyncCommands(CLI::App& root, CommandContext& context) {
  CLI::App* sync = root.add_subcommand(
      "sync",
      "Synchronise with the National Public Service Portal: the procedure "
      "catalogue, dossier statuses and what the portal refused");
  sync->require_subcommand(1);
  sync->footer(HelpFooter(kSyncExamples));
  const bool terminal = IsTerminal(context.out);
  AddProceduresCommand(*sync, context, terminal);
  AddStatusCommand(*sync, context, terminal);
  AddDeadLettersCommand(*sync, context);
  AddPushCommand(*sync, context);
}

}  // namespace lienthong::cli
