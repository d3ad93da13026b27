#include "gateway/cli/command.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/cli/output.h"

namespace lienthong::cli {
void AddCommonOptions(CLI::App& command, CommonOptions& options) {
  AddConnectionOptions(command, options.connection);
  command.add_flag("--json", options.json,
                   "Print the response as one JSON object (proto field "
                   "names)");
}

std::string HelpFooter(absl::string_view examples, absl::string_view notes) {
  std::string footer = "\nExamples:\n";
  for (absl::string_view line : absl::StrSplit(examples, '\n')) {
    if (!line.empty()) absl::StrAppend(&footer, "  ", line, "\n");
  }
  if (!notes.empty()) absl::StrAppend(&footer, "\n", notes, "\n");
  absl::StrAppend(&footer, "\n", kExitCodesHelp);
  return footer;
}

ExitCode ReportUsageError(const absl::Status& status, std::ostream& err) {
  err << "lienthong: usage: " << OneLine(status.message()) << "\n";
  return ExitCode::kUsage;
}

ExitCode ReportChannelError(const absl::Status& status, std::ostream& err) {
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return ReportUsageError(status, err);
  }
  err << "lienthong: tls: " << OneLine(status.message()) << "\n";
  return ExitCode::kConnection;
}

ExitCode PrintJson(const google::protobuf::Message& response, std::ostream& out,
                   std::ostream& err) {
  absl::StatusOr<std::string> json = ToJson(response);
  if (!json.ok()) {
    err << "lienthong: " << OneLine(json.status().message()) << "\n";
    return ExitCode::kOther;
  }
  out << *json << "\n";
  return ExitCode::kOk;
}

ExitCode ReportRpcError(const grpc::Status& status, std::ostream& err) {
  err << "lienthong: " << GrpcCodeName(status.error_code()) << ": "
      << OneLine(status.error_message()) << "\n";
  return ExitCodeForGrpcCode(status.error_code());
}

bool IsMessageTooLarge(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
         absl::StrContains(absl::AsciiStrToLower(status.error_message()),
                           "message larger than max");
}

CLI::Validator NonNegativeSeconds() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double seconds = 0;
        if (!absl::SimpleAtod(text, &seconds) || !std::isfinite(seconds) ||
            seconds < 0) {
          return "expected a number of seconds, 0 or more";
        }
        return "";
      },
      "NONNEGATIVE");
}

}  // namespace lienthong::cli
