#include "gateway/cli/bundle_commands.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gateway/cli/args.h"
#include "gateway/cli/connection.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "gateway/cli/read_file.h"
#include "gateway/cli/sync_commands.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/dates.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "lienthong/v1/bundle.grpc.pb.h"

namespace lienthong::cli {
namespace {

using lienthong::v1::Bundle;
using lienthong::v1::BundleService;

// The request goes in one call, which the gateway refuses over its
// listener.limits.max_message_bytes (1 MiB unless configured otherwise). A
// real one is a few KiB of JSON: the gateway takes no name or address over
// a few hundred bytes (gateway/bundle/bundle_data.cc).
constexpr size_t kMaxStartFileBytes = kGatewayDefaultMaxMessageBytes;

constexpr char kStartExamples[] =
    R"(lienthong bundle start --file deploy/examples/bundle-birth.json \
    --dossier 000.00.31.H31-260105-00001 --officer-id 033085012345 \
    --officer-unit 000.00.31.H31 --officer-account canbo.hotich --watch
lienthong bundle start --file death.json --kind death --verification --json)";

constexpr char kResolveExamples[] =
    R"(lienthong bundle resolve --id b-3f9a6c21d4e8b7a0 --step residence \
    --set address.commune_code=12103 --officer-id 033085012345 \
    --officer-unit 000.00.31.H31 --officer-account canbo.motcua
lienthong bundle resolve --id b-3f9a6c21d4e8b7a0 --stop \
    --reason "Người nộp hồ sơ rút hồ sơ" --officer-id 033085012345 ...)";

constexpr char kWatchNotes[] =
    "Exit codes beyond the table below: 10 the bundle was stopped, 11 it\n"
    "waits for an officer (with --until-officer).";

absl::StatusOr<lienthong::v1::BundleKind> ParseKind(absl::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  lienthong::v1::BundleKind kind;
  if (lienthong::v1::BundleKind_Parse(upper, &kind) &&
      kind != lienthong::v1::BUNDLE_KIND_UNSPECIFIED) {
    return kind;
  }
  return absl::InvalidArgumentError("--kind must be birth or death");
}

absl::StatusOr<lienthong::v1::BundleState> ParseState(absl::string_view text) {
  lienthong::v1::BundleState state;
  std::string name = absl::StrCat("BUNDLE_", absl::AsciiStrToUpper(text));
  if (name == "BUNDLE_WAITING") name = "BUNDLE_WAITING_FOR_OFFICER";
  if (lienthong::v1::BundleState_Parse(name, &state)) return state;
  return absl::InvalidArgumentError(
      "--state must be running, waiting, completed or stopped");
}

std::unique_ptr<BundleService::Stub> Stub(const CommonOptions& options,
                                          std::ostream& err, ExitCode* code) {
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) {
    *code = ReportChannelError(channel.status(), err);
    return nullptr;
  }
  return BundleService::NewStub(*channel);
}

lienthong::v1::GetBundleRequest RefRequest(const BundleRef& ref) {
  lienthong::v1::GetBundleRequest request;
  request.set_bundle_id(ref.bundle_id);
  request.set_dossier_code(ref.dossier);
  return request;
}

absl::Status CheckRef(const BundleRef& ref) {
  if (ref.bundle_id.empty() == ref.dossier.empty()) {
    return absl::InvalidArgumentError("give --id or --dossier (one of them)");
  }
  if (!ref.dossier.empty()) {
    return validation::ValidateDossierCode(ref.dossier, "--dossier");
  }
  return absl::OkStatus();
}

// Prints `bundle` as the command's answer.
ExitCode Print(const Bundle& bundle, const CommonOptions& options,
               std::ostream& out, std::ostream& err) {
  if (options.json) return PrintJson(bundle, out, err);
  out << FormatBundle(bundle);
  return ExitCode::kOk;
}

int LineCount(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

absl::StatusOr<lienthong::v1::StartBundleRequest> BuildStartBundleRequest(
    const BundleStartArgs& args) {
  lienthong::v1::StartBundleRequest request;
  if (args.file.empty()) {
    return absl::InvalidArgumentError(
        "--file is required: the request as JSON (see "
        "deploy/examples/bundle-birth.json)");
  }
  absl::StatusOr<std::string> text =
      ReadFileAtMost(args.file, kMaxStartFileBytes);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--file ", args.file, ": ", text.status().message()));
  }
  google::protobuf::util::JsonParseOptions json;
  if (auto parsed =
          google::protobuf::util::JsonStringToMessage(*text, &request, json);
      !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--file ", args.file, ": not a StartBundleRequest: ",
                     JsonParseReason(std::string(parsed.message()), *text)));
  }
  if (!args.kind.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(lienthong::v1::BundleKind kind,
                               ParseKind(args.kind));
    request.set_kind(kind);
  }
  if (!args.dossier.empty()) request.set_dossier_code(args.dossier);
  LIENTHONG_RETURN_IF_ERROR(
      validation::ValidateDossierCode(request.dossier_code(), "dossier_code"));
  if (args.verification) request.set_needs_verification(true);
  if (!args.officer.citizen_id.empty() || !request.has_officer()) {
    LIENTHONG_ASSIGN_OR_RETURN(*request.mutable_officer(),
                               BuildOfficer(args.officer));
  }
  return request;
}

absl::StatusOr<lienthong::v1::ResolveStepRequest> BuildResolveRequest(
    const BundleResolveArgs& args) {
  lienthong::v1::ResolveStepRequest request;
  if (args.bundle_id.empty()) {
    return absl::InvalidArgumentError("--id is required");
  }
  request.set_bundle_id(args.bundle_id);
  request.set_step(args.step);
  if (args.stop) {
    if (!args.sets.empty()) {
      return absl::InvalidArgumentError("--stop cannot go with --set");
    }
    if (absl::StripAsciiWhitespace(args.reason).empty()) {
      return absl::InvalidArgumentError("--stop needs --reason");
    }
    request.mutable_stop()->set_reason(args.reason);
  } else {
    if (args.step.empty()) {
      return absl::InvalidArgumentError(
          "--step is required to send a step again");
    }
    auto& corrections = *request.mutable_retry()->mutable_corrections();
    for (const std::string& set : args.sets) {
      const size_t eq = set.find('=');
      if (eq == std::string::npos || eq == 0) {
        return absl::InvalidArgumentError(
            "--set must be key=value, e.g. address.commune_code=12103");
      }
      // Which of two values for one key was meant is not for us to guess.
      // The key is named, never a value (it may be personal data).
      const auto [at, added] =
          corrections.insert({set.substr(0, eq), set.substr(eq + 1)});
      if (!added) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--set gives '", at->first, "' twice; give each key once"));
      }
    }
  }
  LIENTHONG_ASSIGN_OR_RETURN(*request.mutable_officer(),
                             BuildOfficer(args.officer));
  return request;
}

// Makes one unary BundleService call answered by a Bundle, the stub's
// `method` with `request`, within the connection's deadline. Returns kOk with
// `*bundle` set, or the exit code of the error it reported on `err`.
template <typename Request>
ExitCode CallForBundle(const CommonOptions& options, std::ostream& err,
                       grpc::Status (BundleService::Stub::*method)(
                           grpc::ClientContext*, const Request&, Bundle*),
                       const Request& request, Bundle* bundle) {
  ExitCode code = ExitCode::kOk;
  auto stub = Stub(options, err, &code);
  if (stub == nullptr) return code;
  grpc::ClientContext context;
  SetDeadline(options.connection, context);
  grpc::Status status = (stub.get()->*method)(&context, request, bundle);
  if (!status.ok()) return ReportRpcError(status, err);
  return ExitCode::kOk;
}

ExitCode RunBundleStart(const BundleStartArgs& args,
                        const CommonOptions& options,
                        const BundleWatchOptions& watch, std::ostream& out,
                        std::ostream& err) {
  absl::StatusOr<lienthong::v1::StartBundleRequest> request =
      BuildStartBundleRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  Bundle bundle;
  ExitCode code = CallForBundle(options, err, &BundleService::Stub::StartBundle,
                                *request, &bundle);
  if (code != ExitCode::kOk) return code;
  if (!args.watch) return Print(bundle, options, out, err);
  return RunBundleWatch({bundle.bundle_id(), ""}, options, watch, out, err);
}

ExitCode RunBundleStatus(const BundleRef& ref, const CommonOptions& options,
                         std::ostream& out, std::ostream& err) {
  if (absl::Status s = CheckRef(ref); !s.ok()) return ReportUsageError(s, err);
  Bundle bundle;
  ExitCode code = CallForBundle(options, err, &BundleService::Stub::GetBundle,
                                RefRequest(ref), &bundle);
  if (code != ExitCode::kOk) return code;
  return Print(bundle, options, out, err);
}

ExitCode RunBundleWatch(const BundleRef& ref, const CommonOptions& options,
                        const BundleWatchOptions& watch, std::ostream& out,
                        std::ostream& err) {
  if (absl::Status s = CheckRef(ref); !s.ok()) return ReportUsageError(s, err);
  ExitCode code = ExitCode::kOk;
  auto stub = Stub(options, err, &code);
  if (stub == nullptr) return code;
  // absl::Time and ToChronoTime saturate: a wait of centuries is no
  // overflow, and gRPC takes the largest time point as no deadline.
  const std::optional<absl::Time> wait_until =
      watch.wait > absl::ZeroDuration()
          ? std::optional<absl::Time>(absl::Now() + watch.wait)
          : std::nullopt;
  std::optional<Bundle> last;
  int drawn = 0;
  int failures = 0;  // lost streams in a row that brought no change
  while (true) {
    grpc::ClientContext context;
    if (wait_until.has_value()) {
      context.set_deadline(absl::ToChronoTime(*wait_until));
    }
    auto reader = stub->WatchBundle(&context, RefRequest(ref));
    Bundle view;
    while (reader->Read(&view)) {
      // A change shown (a state, a step's state or error), not any byte:
      // the views hold what is computed when read (how overdue it is).
      if (!last.has_value() || !BundleChanges(&*last, view).empty()) {
        failures = 0;
      }
      if (options.json) {
        PrintJson(view, out, err);
      } else if (watch.terminal) {
        const std::string text = FormatBundle(view);
        if (drawn > 0) out << "\x1b[" << drawn << "A\x1b[J";
        out << text << std::flush;
        drawn = LineCount(text);
      } else {
        for (const std::string& line :
             BundleChanges(last ? &*last : nullptr, view)) {
          out << line << "\n";
        }
        out << std::flush;
      }
      last = view;
      if (watch.until_officer &&
          view.state() == lienthong::v1::BUNDLE_WAITING_FOR_OFFICER) {
        context.TryCancel();
        reader->Finish();
        return kExitBundleWaiting;
      }
      if (BundleEnded(view)) break;
    }
    grpc::Status status = reader->Finish();
    if (last.has_value() && BundleEnded(*last)) {
      return last->state() == lienthong::v1::BUNDLE_STOPPED ? kExitBundleStopped
                                                            : ExitCode::kOk;
    }
    if (status.ok()) {
      status =
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "the stream ended early");
    }
    // A stream that was following the bundle and broke (the gateway
    // restarted, or closed a connection at its maximum age) is opened
    // again: it begins with the bundle as it is. Not a first one that
    // never came, nor past --wait.
    const bool again = last.has_value() &&
                       status.error_code() == grpc::StatusCode::UNAVAILABLE &&
                       ++failures <= watch.max_reconnects &&
                       (!wait_until.has_value() || absl::Now() < *wait_until);
    if (!again) {
      code = ReportRpcError(status, err);
      if (last.has_value()) {
        err << "lienthong: the bundle goes on; follow it with 'lienthong "
               "bundle watch --id "
            << OneLine(last->bundle_id()) << "'\n";
      }
      return code;
    }
    absl::Duration backoff = ReconnectDelay(watch.reconnect_backoff, failures);
    if (wait_until.has_value()) {
      backoff = std::min(backoff, *wait_until - absl::Now());
    }
    err << LostStreamLine("the bundle's stream", status, backoff);
    drawn = 0;  // the table is drawn again below the message
    absl::SleepFor(backoff);
  }
}

ExitCode RunBundleResolve(const BundleResolveArgs& args,
                          const CommonOptions& options, std::ostream& out,
                          std::ostream& err) {
  absl::StatusOr<lienthong::v1::ResolveStepRequest> request =
      BuildResolveRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  Bundle bundle;
  ExitCode code = CallForBundle(options, err, &BundleService::Stub::ResolveStep,
                                *request, &bundle);
  if (code != ExitCode::kOk) return code;
  code = Print(bundle, options, out, err);
  // JSON has stop_requested for a script; a person is told in words.
  if (code == ExitCode::kOk && !options.json) out << StopPendingNote(bundle);
  return code;
}

ExitCode RunBundleList(const BundleListArgs& args, const CommonOptions& options,
                       std::ostream& out, std::ostream& err) {
  lienthong::v1::ListBundlesRequest request;
  for (const std::string& text : args.states) {
    absl::StatusOr<lienthong::v1::BundleState> state = ParseState(text);
    if (!state.ok()) return ReportUsageError(state.status(), err);
    request.add_states(*state);
  }
  if (!args.kind.empty()) {
    absl::StatusOr<lienthong::v1::BundleKind> kind = ParseKind(args.kind);
    if (!kind.ok()) return ReportUsageError(kind.status(), err);
    request.set_kind(*kind);
  }
  request.set_agency(args.agency);
  request.set_overdue_only(args.overdue);
  ExitCode code = ExitCode::kOk;
  auto stub = Stub(options, err, &code);
  if (stub == nullptr) return code;
  std::vector<Bundle> bundles;
  // A gateway that hands out a page token again would have this page
  // forever, and the list grow without end.
  absl::flat_hash_set<std::string> tokens;
  do {
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    lienthong::v1::ListBundlesResponse page;
    grpc::Status status = stub->ListBundles(&context, request, &page);
    if (!status.ok()) return ReportRpcError(status, err);
    for (Bundle& b : *page.mutable_bundles()) bundles.push_back(std::move(b));
    if (!page.next_page_token().empty() &&
        !tokens.insert(page.next_page_token()).second) {
      err << "lienthong: the gateway returned the same page token twice; "
             "stopping\n";
      return ExitCode::kOther;
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  if (options.json) {
    for (const Bundle& b : bundles) {
      if (ExitCode c = PrintJson(b, out, err); c != ExitCode::kOk) return c;
    }
    return ExitCode::kOk;
  }
  out << FormatBundleList(bundles);
  return ExitCode::kOk;
}

namespace {

void AddRef(CLI::App& command, BundleRef& ref) {
  command.add_option("--id", ref.bundle_id, "The bundle's id (b-...)")
      ->type_name("ID");
  command
      .add_option("--dossier", ref.dossier,
                  "Or the dossier code, e.g. 000.00.31.H31-260105-00001")
      ->type_name("CODE");
}

void AddWatchOptions(CLI::App& command, BundleWatchOptions& watch,
                     double& wait_seconds) {
  command.add_flag("--until-officer", watch.until_officer,
                   "Return (exit 11) once a step waits for an officer");
  command
      .add_option("--wait", wait_seconds,
                  "Stop watching after this many seconds (the bundle goes "
                  "on); 0 = until the bundle ends")
      ->type_name("SECONDS")
      ->check(NonNegativeSeconds());
}

// Adds `bundle start` to `group`.
void AddStartCommand(CLI::App& group, CommandContext& context) {
  CLI::App* start = group.add_subcommand("start", "Start a bundle");
  auto args = std::make_shared<BundleStartArgs>();
  auto options = std::make_shared<CommonOptions>();
  auto watch = std::make_shared<BundleWatchOptions>();
  auto wait = std::make_shared<double>(0);
  start
      ->add_option(
          "--file", args->file,
          "The request as JSON (StartBundleRequest, proto field names)")
      ->type_name("FILE");
  start->add_option("--kind", args->kind,
                    "birth or death (overrides the file)");
  start
      ->add_option("--dossier", args->dossier,
                   "The dossier code (overrides the file)")
      ->type_name("CODE");
  start->add_flag("--verification", args->verification,
                  "The dossier needs verification (the longer deadline)");
  start->add_flag("--watch", args->watch, "Follow it live once started");
  AddWatchOptions(*start, *watch, *wait);
  AddOfficerOptions(*start, args->officer);
  AddCommonOptions(*start, *options);
  start->footer(HelpFooter(kStartExamples, kWatchNotes));
  start->callback([args, options, watch, wait, &context] {
    watch->terminal = IsTerminal(context.out) && !options->json;
    watch->wait = absl::Seconds(*wait);
    context.exit_code =
        RunBundleStart(*args, *options, *watch, context.out, context.err);
  });
}

// Gives `command`, `bundle watch` (live) or `bundle status`, its options and
// its run.
void SetUpShowCommand(CLI::App* command, CommandContext& context, bool live) {
  auto ref = std::make_shared<BundleRef>();
  auto options = std::make_shared<CommonOptions>();
  auto watch = std::make_shared<BundleWatchOptions>();
  auto wait = std::make_shared<double>(0);
  AddRef(*command, *ref);
  if (live) AddWatchOptions(*command, *watch, *wait);
  AddCommonOptions(*command, *options);
  command->footer(
      HelpFooter(absl::StrCat("lienthong bundle ", live ? "watch" : "status",
                              " --dossier 000.00.31.H31-260105-00001"),
                 live ? kWatchNotes : ""));
  command->callback([live, ref, options, watch, wait, &context] {
    if (!live) {
      context.exit_code =
          RunBundleStatus(*ref, *options, context.out, context.err);
      return;
    }
    watch->terminal = IsTerminal(context.out) && !options->json;
    watch->wait = absl::Seconds(*wait);
    context.exit_code =
        RunBundleWatch(*ref, *options, *watch, context.out, context.err);
  });
}

// Adds `bundle status` to `group`.
void AddStatusCommand(CLI::App& group, CommandContext& context) {
  SetUpShowCommand(
      group.add_subcommand("status", "Show a bundle and its steps"), context,
      /*live=*/false);
}

// Adds `bundle watch` to `group`.
void AddWatchCommand(CLI::App& group, CommandContext& context) {
  SetUpShowCommand(group.add_subcommand(
                       "watch", "Follow a bundle's steps live until it ends"),
                   context, /*live=*/true);
}

// Adds `bundle resolve` to `group`.
void AddResolveCommand(CLI::App& group, CommandContext& context) {
  CLI::App* resolve = group.add_subcommand(
      "resolve",
      "Send a refused step again (--set corrections) or stop the bundle "
      "(--stop --reason)");
  auto args = std::make_shared<BundleResolveArgs>();
  auto options = std::make_shared<CommonOptions>();
  resolve->add_option("--id", args->bundle_id, "The bundle's id")
      ->type_name("ID");
  resolve->add_option("--step", args->step, "The refused step, e.g. residence")
      ->type_name("STEP");
  resolve
      ->add_option("--set", args->sets,
                   "A corrected data key, key=value (repeatable), e.g. "
                   "address.commune_code=12103")
      ->type_name("KEY=VALUE");
  resolve->add_flag("--stop", args->stop,
                    "Stop the bundle instead (while steps are with their "
                    "agencies, it takes effect once they have answered)");
  resolve
      ->add_option("--reason", args->reason,
                   "Why it stops (sent to the portal, audited)")
      ->type_name("TEXT");
  AddOfficerOptions(*resolve, args->officer);
  AddCommonOptions(*resolve, *options);
  resolve->footer(HelpFooter(kResolveExamples));
  resolve->callback([args, options, &context] {
    context.exit_code =
        RunBundleResolve(*args, *options, context.out, context.err);
  });
}

// Gives `command`, `bundle overdue` or `bundle list` (with the state
// filters), its options and its run.
void SetUpListCommand(CLI::App* command, CommandContext& context,
                      bool overdue) {
  auto args = std::make_shared<BundleListArgs>();
  auto options = std::make_shared<CommonOptions>();
  args->overdue = overdue;
  if (!overdue) {
    command->add_option("--state", args->states,
                        "running, waiting, completed or stopped (repeatable)");
    command->add_flag("--overdue", args->overdue,
                      "Only those past their deadline");
  }
  command->add_option("--agency", args->agency,
                      "Only those waiting at this adapter, e.g. residence");
  command->add_option("--kind", args->kind, "birth or death");
  AddCommonOptions(*command, *options);
  command->footer(HelpFooter(overdue
                                 ? "lienthong bundle overdue --agency residence"
                                 : "lienthong bundle list --state waiting"));
  command->callback([args, options, &context] {
    context.exit_code =
        RunBundleList(*args, *options, context.out, context.err);
  });
}

// Adds `bundle overdue` to `group`.
void AddOverdueCommand(CLI::App& group, CommandContext& context) {
  SetUpListCommand(group.add_subcommand(
                       "overdue", "Bundles past their working-day deadline"),
                   context, /*overdue=*/true);
}

// Adds `bundle list` to `group`.
void AddListCommand(CLI::App& group, CommandContext& context) {
  SetUpListCommand(
      group.add_subcommand("list", "Bundles by state, agency or kind"), context,
      /*overdue=*/false);
}

}  // namespace

void RegisterBundleCommands(CLI::App& root, CommandContext& context) {
  CLI::App* group = root.add_subcommand(
      "bundle",
      "Interconnected procedures (birth and death bundles): start, follow and "
      "resolve them");
  group->require_subcommand(1);
  group->footer(HelpFooter(kStartExamples));

  AddStartCommand(*group, context);
  AddStatusCommand(*group, context);
  AddWatchCommand(*group, context);
  AddResolveCommand(*group, context);
  AddOverdueCommand(*group, context);
  AddListCommand(*group, context);
}

}  // namespace lienthong::cli
