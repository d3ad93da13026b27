// ExitCode, the process exit status of every `lienthong` command, and the
// mapping from gRPC status codes to it. Scripts branch on these numbers, so
// they never change meaning; the --help footer lists them (kExitCodesHelp).
#ifndef LIENTHONG_GATEWAY_CLI_EXIT_CODES_H_
#define LIENTHONG_GATEWAY_CLI_EXIT_CODES_H_

#include <string>

#include "grpcpp/support/status.h"

namespace lienthong::cli {

enum class ExitCode : int {
  kOk = 0,
  // Bad command line: unknown option, missing --id, malformed --dob, ...
  // Found before any connection is made.
  kUsage = 1,
  // No connection: unreadable or invalid TLS files, handshake failure,
  // server unreachable, or UNAVAILABLE from the gateway.
  kConnection = 2,
  kInvalidArgument = 3,
  // PERMISSION_DENIED or UNAUTHENTICATED.
  kAccessDenied = 4,
  kNotFound = 5,
  kDeadlineExceeded = 6,
  // Any other gRPC code (INTERNAL, RESOURCE_EXHAUSTED, UNIMPLEMENTED, ...).
  kOther = 7,
};

// Returns the exit code for a call that ended with `code`. Thread-safe.
ExitCode ExitCodeForGrpcCode(grpc::StatusCode code);

// Returns the canonical upper-case name of `code` ("PERMISSION_DENIED"), or
// "CODE_<n>" for a number outside google.rpc.Code. Thread-safe.
std::string GrpcCodeName(grpc::StatusCode code);

// The exit-code table as it appears in every --help footer.
inline constexpr char kExitCodesHelp[] =
    "Exit codes:\n"
    "  0  ok\n"
    "  1  usage error (nothing was sent)\n"
    "  2  connection or TLS problem, or UNAVAILABLE\n"
    "  3  INVALID_ARGUMENT\n"
    "  4  PERMISSION_DENIED or UNAUTHENTICATED\n"
    "  5  NOT_FOUND\n"
    "  6  DEADLINE_EXCEEDED\n"
    "  7  any other error\n";

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_EXIT_CODES_H_
