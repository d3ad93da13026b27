// The record command group: `lienthong record get TYPE key=value ...`, which
// reads one record of the ministries' other databases from the gateway's
// RecordService, cut down to the fields asked for and granted.
#ifndef LIENTHONG_GATEWAY_CLI_RECORD_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_RECORD_COMMANDS_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "gateway/cli/command.h"
#include "gateway/cli/officer_options.h"
#include "lienthong/v1/records.pb.h"

namespace lienthong::cli {

// The values of `lienthong record get`, as typed.
struct RecordGetArgs {
  std::string record_type;              // TYPE
  std::vector<std::string> parameters;  // name=value ...
  std::string purpose;                  // --purpose
  std::string dossier_id;               // --dossier
  std::string fields;                   // --fields, comma-separated
  OfficerArgs officer;
};

// Returns the request for `args`. Fails with INVALID_ARGUMENT naming what
// is wrong: a parameter not written name=value, a name given twice, a blank
// --purpose, or the officer missing or malformed (BuildOfficer). The
// gateway checks the rest against the record type. Thread-safe.
absl::StatusOr<lienthong::v1::GetRecordRequest> BuildRecordRequest(
    const RecordGetArgs& args);

// Returns the readable record: "Record type", then one aligned line per
// field, then the source system and the reference.
std::string FormatRecord(const lienthong::v1::Record& record);

// Adds `record get` to `root`; the command sets context.exit_code.
void RegisterRecordCommands(CLI::App& root, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_RECORD_COMMANDS_H_
