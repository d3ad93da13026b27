// The audit commands operators run on the gateway host, with no server:
//   lienthong audit new-epoch  acknowledge a break the gateway will not
//                              continue past, after inspecting it (epoch.h)
//   lienthong audit reindex    rebuild the query index from the journal
//   lienthong audit archive    move sealed segments older than the
//                              retention to an archive folder (archive.h)
// new-epoch and reindex need the gateway stopped (they take the journal's
// lock); archive runs beside a running gateway.
#ifndef LIENTHONG_GATEWAY_CLI_AUDIT_ADMIN_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_AUDIT_ADMIN_COMMANDS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"

namespace lienthong::cli {

// `lienthong audit new-epoch` as typed.
struct NewEpochArgs {
  std::string journal;      // --journal
  std::string signing_key;  // --signing-key
  std::string key_sha256;   // --key-sha256
  std::string anchors;      // --anchors
  std::string operator_name;  // --operator
  std::string reason;       // --reason
  std::string node = "lienthong";  // --node
  int checkpoint_every = 1000;     // --checkpoint-every
};

// `lienthong audit archive` as typed.
struct ArchiveArgs {
  std::string journal;      // --journal
  std::string archive_dir;  // --archive-dir
  std::string older_than;   // --older-than, e.g. 90d, 2160h
  std::string signing_key;  // --signing-key
  std::string key_sha256;   // --key-sha256
  std::string index;        // --index
  std::string node = "lienthong";  // --node
  // Progress shows on the error stream once the run has taken this long
  // (QuietProgress).
  absl::Duration progress_after = absl::Seconds(2);
};

// Returns the duration in `text`: absl's form ("2160h", "90m") or whole
// days ("90d"). INVALID_ARGUMENT naming `option` otherwise, or when not
// positive. Thread-safe.
absl::StatusOr<absl::Duration> ParseRetention(absl::string_view text,
                                              absl::string_view option);

// Runs `audit new-epoch`. Returns kOk once the epoch is open; kUsage for
// bad arguments or keys; kOther when there is nothing to acknowledge, the
// journal is in use, or it cannot be written.
ExitCode RunAuditNewEpoch(const NewEpochArgs& args, std::ostream& out,
                          std::ostream& err);

// Runs `audit reindex`: empties the index file and indexes the whole
// journal, showing its progress on `err` once it has run `progress_after`
// (QuietProgress). Returns kOk, kUsage for a missing journal, kOther on
// failure.
ExitCode RunAuditReindex(const std::string& journal, const std::string& index,
                         std::ostream& out, std::ostream& err,
                         absl::Duration progress_after = absl::Seconds(2));

// Runs `audit archive`. Returns kOk (also when nothing was old enough),
// kUsage for bad arguments or keys, kOther on failure (nothing unverified is
// archived).
ExitCode RunAuditArchive(const ArchiveArgs& args, std::ostream& out,
                         std::ostream& err);

// Adds new-epoch, reindex and archive under `audit`; `context` must
// outlive it.
void RegisterAuditAdminCommands(CLI::App& audit, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_AUDIT_ADMIN_COMMANDS_H_
