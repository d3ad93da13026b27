// What every `lienthong` command shares: CommonOptions (connection and
// --json), CommandContext (the streams and the exit code of one run), the
// help footer, JSON printing, the one-line error reports that pick the exit
// code, and the check of a --wait.
//
// A command group (identity, population, later audit and sync) is one file
// with a `Register...Commands(CLI::App& root, CommandContext& context)` that
// adds its subcommands; app.cc lists the groups.
#ifndef LIENTHONG_GATEWAY_CLI_COMMAND_H_
#define LIENTHONG_GATEWAY_CLI_COMMAND_H_

#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gateway/cli/connection.h"
#include "gateway/cli/exit_codes.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"

namespace lienthong::cli {

// Options that every command takes.
struct CommonOptions {
  ConnectionOptions connection;
  // Print the response as one JSON object instead of the readable form.
  bool json = false;
};

// State of one `lienthong` run, shared by the registered commands: only the
// command that the command line selects runs, and sets `exit_code`. Each
// command keeps its own CommonOptions: CLI11 fills environment defaults into
// unselected subcommands too, which would overwrite shared storage.
struct CommandContext {
  CommandContext(std::ostream& out, std::ostream& err) : out(out), err(err) {}

  std::ostream& out;
  std::ostream& err;
  ExitCode exit_code = ExitCode::kOk;
};

// Adds the connection options and --json to `command`, storing into
// `options`, which must outlive the parse.
void AddCommonOptions(CLI::App& command, CommonOptions& options);

// Returns a help footer: "Examples:" with each line of `examples` indented,
// then `notes` as written, then the exit-code table.
std::string HelpFooter(absl::string_view examples,
                       absl::string_view notes = "");

// Prints "lienthong: usage: <message>" on `err`; returns kUsage.
ExitCode ReportUsageError(const absl::Status& status, std::ostream& err);

// Reports a failure of OpenChannel: INVALID_ARGUMENT is a usage error
// (kUsage), anything else a TLS set-up problem, printed as
// "lienthong: tls: <message>" (kConnection).
ExitCode ReportChannelError(const absl::Status& status, std::ostream& err);

// Prints `response` on `out` as one JSON object on one line (see ToJson).
// Returns kOk, or kOther after one error line on `err` when protobuf cannot
// print it.
ExitCode PrintJson(const google::protobuf::Message& response, std::ostream& out,
                   std::ostream& err);

// Prints "lienthong: <CODE_NAME>: <message>" on `err`; returns the exit code
// for the code. REQUIRES: !status.ok().
ExitCode ReportRpcError(const grpc::Status& status, std::ostream& err);

// Returns true when `status` is gRPC's refusal of a message over a size
// limit: RESOURCE_EXHAUSTED "Received message larger than max (N vs. M)",
// as the gateway answers a call over its listener.limits.max_message_bytes,
// or "Sent message larger than max". Thread-safe.
bool IsMessageTooLarge(const grpc::Status& status);

// A validator for an option that takes a number of seconds (--wait):
// finite and not negative. CLI::NonNegativeNumber lets "nan" and "inf"
// through, and a wait is added to a clock. Thread-safe.
CLI::Validator NonNegativeSeconds();

// Makes one unary call: opens a channel by `connection`, calls `method` of
// a `Service` stub with the connection's deadline and reports a failure on
// `err` (ReportChannelError, ReportRpcError). Returns kOk with `response`
// set, or the failure's exit code. `context`, when given, is the call's
// (for what the gateway sent back in its metadata); else one of its own.
//   Citizen citizen;
//   ExitCode code = CallUnary<PopulationService>(
//       options.connection, &PopulationService::Stub::LookupCitizen, request,
//       citizen, err);
template <typename Service, typename Request, typename Response>
ExitCode CallUnary(const ConnectionOptions& connection,
                   grpc::Status (Service::Stub::*method)(grpc::ClientContext*,
                                                          const Request&,
                                                          Response*),
                   const Request& request, Response& response,
                   std::ostream& err, grpc::ClientContext* context = nullptr) {
  auto channel = OpenChannel(connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = Service::NewStub(*channel);
  grpc::ClientContext own_context;
  if (context == nullptr) context = &own_context;
  SetDeadline(connection, *context);
  grpc::Status status = ((*stub).*method)(context, request, &response);
  if (!status.ok()) return ReportRpcError(status, err);
  return ExitCode::kOk;
}

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_COMMAND_H_
