#include "gateway/cli/catalogue_commands.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/cli/connection.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "grpcpp/grpcpp.h"
#include "lienthong/v1/portal.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::CataloguePull;
using ::lienthong::v1::PortalSyncService;

constexpr char kPullExamples[] =
    R"(lienthong catalogue pull
lienthong catalogue pull --no-watch
lienthong catalogue pull --json)";

constexpr char kPullNotes[] =
    "The gateway reads every procedure of the national procedure database\n"
    "through the portal (LayDanhSachTTHC, then LayThuTuc for each) and,\n"
    "once the read is complete, checks the procedure codes of pushed\n"
    "dossiers and published procedures against it. It also reads it at\n"
    "start when it holds none, and every portal_sync.catalogue_refresh_hours.\n"
    "A read already under way is followed, not started again. A failed read\n"
    "leaves the previous catalogue in use (exit 7).";

ProgressCounts Counts(const CataloguePull& pull) {
  return {pull.detailed(), pull.detail_failures(), pull.listed()};
}

bool Ended(const CataloguePull& pull) {
  return pull.state() == CataloguePull::DONE ||
         pull.state() == CataloguePull::FAILED;
}

}  // namespace

std::string FormatCatalogueProgress(const CataloguePull& pull,
                                    absl::Duration elapsed) {
  if (pull.listed() == 0) {
    return absl::StrCat("listing the procedures, ", FormatElapsed(elapsed));
  }
  return absl::StrCat(pull.detailed() + pull.detail_failures(), "/",
                      pull.listed(), " read in full, ", pull.detail_failures(),
                      " not read, ", FormatElapsed(elapsed));
}

std::string FormatCatalogueOutcome(const CataloguePull& pull) {
  if (pull.state() == CataloguePull::FAILED) {
    return absl::StrCat(
        "The read failed: ", OneLine(pull.error()), ". ",
        pull.catalogue_procedures() > 0
            ? absl::StrCat("The previous catalogue (",
                           pull.catalogue_procedures(),
                           " procedures) stays in use.")
            : "No catalogue is in use: procedure codes go unchecked.");
  }
  if (pull.state() == CataloguePull::DONE) {
    return absl::StrCat(
        "Read ", pull.listed(),
        " procedures of the national procedure database (", pull.detailed(),
        " in full", pull.detail_failures() > 0
                        ? absl::StrCat(", ", pull.detail_failures(),
                                       " with their code and name only")
                        : "",
        "); the gateway checks procedure codes against them.");
  }
  return absl::StrCat("A read is under way: ",
                      FormatCatalogueProgress(pull, absl::ZeroDuration()), ".");
}

ExitCode RunCataloguePull(const CataloguePullArgs& args,
                          const CommonOptions& options,
                          const CataloguePollOptions& poll, std::ostream& out,
                          std::ostream& err) {
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = PortalSyncService::NewStub(*channel);
  CataloguePull pull;
  {
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    grpc::Status status = stub->PullCatalogue(&context, {}, &pull);
    if (!status.ok()) return ReportRpcError(status, err);
  }
  if (!options.json) {
    out << (pull.started_now() ? "The gateway started reading"
                               : "The gateway was already reading")
        << " the national procedure database.\n";
  }
  const absl::Time start = absl::Now();
  ProgressBar bar(out,
                  poll.terminal ? ProgressBar::Mode::kTerminal
                                : ProgressBar::Mode::kPlain,
                  poll.plain_interval);
  while (!args.no_watch && !Ended(pull)) {
    if (poll.wait > absl::ZeroDuration() && absl::Now() - start >= poll.wait) {
      if (!options.json) bar.Break();
      err << "lienthong: stopped following after --wait; the read goes on\n";
      return ExitCode::kDeadlineExceeded;
    }
    if (!options.json) {
      bar.Show(Counts(pull), FormatCatalogueProgress(pull, absl::Now() - start),
               absl::Now());
    }
    absl::SleepFor(poll.interval);  // polling the gateway
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    grpc::Status status = stub->GetCataloguePull(&context, {}, &pull);
    if (!status.ok()) {
      if (!options.json) bar.Break();
      return ReportRpcError(status, err);
    }
  }
  if (options.json) {
    ExitCode printed = PrintJson(pull, out, err);
    if (printed != ExitCode::kOk) return printed;
  } else {
    if (Ended(pull)) {
      bar.Finish(Counts(pull), FormatCatalogueProgress(pull, absl::Now() - start));
    }
    out << FormatCatalogueOutcome(pull) << "\n";
  }
  return pull.state() == CataloguePull::FAILED ? ExitCode::kOther
                                               : ExitCode::kOk;
}

void RegisterCatalogueCommands(CLI::App& root, CommandContext& context) {
  CLI::App* catalogue = root.add_subcommand(
      "catalogue",
      "The national procedure database as the gateway holds it (operators)");
  catalogue->require_subcommand(1);
  CLI::App* command = catalogue->add_subcommand(
      "pull",
      "Have the gateway read the national procedure database now, and follow "
      "the read to its end");
  auto args = std::make_shared<CataloguePullArgs>();
  auto options = std::make_shared<CommonOptions>();
  auto wait_seconds = std::make_shared<double>(0);
  command->add_flag("--no-watch", args->no_watch,
                    "Return once the read has started");
  command
      ->add_option("--wait", *wait_seconds,
                   "Stop following after this many seconds (the read goes on)")
      ->type_name("SECONDS")
      ->check(NonNegativeSeconds());
  AddCommonOptions(*command, *options);
  command->footer(HelpFooter(kPullExamples, kPullNotes));
  command->callback([args, options, wait_seconds, &context] {
    CataloguePollOptions poll;
    poll.terminal = IsTerminal(context.out);
    poll.wait = absl::Seconds(*wait_seconds);
    context.exit_code =
        RunCataloguePull(*args, *options, poll, context.out, context.err);
  });
}

}  // namespace lienthong::cli
