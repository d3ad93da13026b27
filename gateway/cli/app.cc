#include "gateway/cli/app.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/cli/audit_commands.h"
#include "gateway/cli/bundle_commands.h"
#include "gateway/cli/catalogue_commands.h"
#include "gateway/cli/exit_codes.h"
#include "gateway/cli/identity_commands.h"
#include "gateway/cli/population_commands.h"
#include "gateway/cli/record_commands.h"
#include "gateway/cli/sync_commands.h"
#include "gateway/cli/version.h"
#include "gateway/cli/vneid_commands.h"
#include "grpc/support/log.h"

namespace lienthong::cli {
namespace {

constexpr char kRootExamples[] =
    R"(lienthong verify --id 033085012345 --name "Nguyễn Văn An" --dob 1985-03-12
lienthong lookup --id 033085012345 --purpose 1.001193 \
    --dossier 000.00.01.H31-250715-00123 --fields name,permanent_address
lienthong vneid signin --code "$CODE" --redirect-uri "$URI" --nonce "$NONCE"
lienthong verify --help)";

constexpr char kRootNotes[] =
    "Every command talks mutual TLS to the gateway: give --cert and --key\n"
    "(or LIENTHONG_CERT / LIENTHONG_KEY), and --ca (LIENTHONG_CA) unless the\n"
    "gateway's certificate chains to a public root. --server defaults to\n"
    "LIENTHONG_SERVER, else 127.0.0.1:8443.";

// "lienthong verify" for the innermost subcommand the command line selected.
std::string CommandPath(const CLI::App& app) {
  std::string path = app.get_name();
  const CLI::App* current = &app;
  while (true) {
    auto selected = current->get_subcommands();
    if (selected.empty()) break;
    current = selected.front();
    absl::StrAppend(&path, " ", current->get_name());
  }
  return path;
}

void DiscardGrpcLog(gpr_log_func_args*) {}

}  // namespace

std::unique_ptr<CLI::App> BuildApp(CommandContext& context) {
  auto app = std::make_unique<CLI::App>(
      "Lienthong command-line tool: call the provincial integration gateway "
      "as an operator or developer.",
      "lienthong");
  app->set_version_flag("--version", absl::StrCat("lienthong ", kVersion));
  app->require_subcommand(1);
  app->footer(HelpFooter(kRootExamples, kRootNotes));

  // The command groups, one file each.
  RegisterIdentityCommands(*app, context);
  RegisterPopulationCommands(*app, context);
  RegisterRecordCommands(*app, context);
  RegisterSyncCommands(*app, context);
  RegisterCatalogueCommands(*app, context);
  RegisterAuditCommands(*app, context);
  RegisterVneidCommands(*app, context);
  RegisterBundleCommands(*app, context);
  return app;
}

namespace {

// CLI11's message, but for arguments no option took: CLI11 lists them, and
// a value that lost its option ("12/03/1985" after a forgotten --dob, the
// rest of an unquoted name) may be personal data. Options are named; other
// words only counted.
std::string UsageMessage(CLI::App& app, const CLI::ParseError& e) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) return e.what();
  std::vector<std::string> options;
  int values = 0;
  for (const std::string& extra : app.remaining(/*recurse=*/true)) {
    if (absl::StartsWith(extra, "-")) {
      // "--id=0330..." names its option only.
      options.push_back(extra.substr(0, extra.find('=')));
    } else {
      ++values;
    }
  }
  std::string message = "not expected:";
  if (!options.empty()) {
    absl::StrAppend(&message, " ", absl::StrJoin(options, " "));
  }
  if (values > 0) {
    absl::StrAppend(&message, options.empty() ? " " : "; ", values,
                    values == 1 ? " value" : " values",
                    " no option takes (not shown; quote a value with spaces)");
  }
  return message;
}

// `code`, or kOther when what was written to `out` did not all get there
// (a full disk, a closed standard output): a script reading it must not
// take a cut answer, or a key's fingerprint never shown, for a success.
int Finished(ExitCode code, std::ostream& out, std::ostream& err) {
  out.flush();
  if (out.good() || code != ExitCode::kOk) return static_cast<int>(code);
  err << "lienthong: cannot write the output (standard output failed)\n";
  return static_cast<int>(ExitCode::kOther);
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err) {
  CommandContext context(out, err);
  std::unique_ptr<CLI::App> app = BuildApp(context);
  try {
    app->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      // --help or --version.
      app->exit(e, out, err);
      return Finished(ExitCode::kOk, out, err);
    }
    err << "lienthong: usage: " << UsageMessage(*app, e) << " (see '"
        << CommandPath(*app) << " --help')\n";
    return static_cast<int>(ExitCode::kUsage);
  }
  return Finished(context.exit_code, out, err);
}

void QuietGrpcLogs() {
  if (std::getenv("GRPC_VERBOSITY") == nullptr) {
    gpr_set_log_function(DiscardGrpcLog);
  }
}

}  // namespace lienthong::cli
