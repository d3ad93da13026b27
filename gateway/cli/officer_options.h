// The officer options of `lienthong lookup` and `lienthong verify`: the
// population database answers only on behalf of a named officer, so both
// commands take --officer-id, --officer-unit and --officer-account (or the
// LIENTHONG_OFFICER_* environment variables, for an operator's shell).
#ifndef LIENTHONG_GATEWAY_CLI_OFFICER_OPTIONS_H_
#define LIENTHONG_GATEWAY_CLI_OFFICER_OPTIONS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "lienthong/v1/common.pb.h"

namespace lienthong::cli {

// The officer options as typed.
struct OfficerArgs {
  std::string citizen_id;  // --officer-id / LIENTHONG_OFFICER_ID
  std::string unit_code;   // --officer-unit / LIENTHONG_OFFICER_UNIT
  std::string account;     // --officer-account / LIENTHONG_OFFICER_ACCOUNT
};

// Adds the three options, in an "Officer" group, to `command`, storing into
// `args`, which must outlive the parse.
void AddOfficerOptions(CLI::App& command, OfficerArgs& args);

// Returns the request's officer. Fails with INVALID_ARGUMENT naming the
// option (and its environment variable when missing) when a value is
// missing or breaks the gateway's own rule (gateway/validation/officer.h),
// so a bad officer is reported before any connection. Thread-safe.
absl::StatusOr<lienthong::v1::Officer> BuildOfficer(const OfficerArgs& args);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_OFFICER_OPTIONS_H_
