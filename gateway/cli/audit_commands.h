// The audit command group, for security teams and operators:
//   lienthong audit query      records matching filters, from the gateway's
//                              AuditService (table, or --json lines)
//   lienthong audit verify     the whole journal checked by the gateway; or
//                              offline: a journal folder (--journal, with
//                              --anchors and --archive) or an export (--file)
//   lienthong audit export     JSON lines for a SIEM, read from the journal
//   lienthong audit keygen     new signing, HMAC and digest key files
//   lienthong audit new-epoch  acknowledge a break (audit_admin_commands.h)
//   lienthong audit reindex    rebuild the query index from the journal
//   lienthong audit archive    move old sealed segments to an archive
// with the parsing and formatting they use. query and verify (online) need
// a client certificate with the "auditor" role; the rest run on the gateway
// host with no server.
#ifndef LIENTHONG_GATEWAY_CLI_AUDIT_COMMANDS_H_
#define LIENTHONG_GATEWAY_CLI_AUDIT_COMMANDS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::cli {

// Exit code of `audit verify` when the log or export is not intact (the
// check itself worked). Outside exit_codes.h's table, which covers the
// outcome of one call; the command's help lists it.
inline constexpr ExitCode kExitAuditNotIntact = static_cast<ExitCode>(9);

// `lienthong audit query` as typed.
struct AuditQueryArgs {
  std::string since;    // --since, RFC 3339 or YYYY-MM-DD; "" = no bound
  std::string until;    // --until, likewise (exclusive)
  std::string caller;   // --caller
  std::string method;   // --method
  std::string citizen;  // --citizen, 12 or 9 digits
  std::string officer;  // --officer: the officer's citizen ID, as --citizen
  std::string dossier;  // --dossier
  std::string outcome;  // --outcome, e.g. PERMISSION_DENIED
  int64_t limit = 100;  // --limit; 0 = every matching record
};

// Returns the instant in `text`: RFC 3339 ("2025-07-15T09:30:00+07:00",
// "2025-07-15T02:30:00Z") or a date "2025-07-15", meaning its start in
// Vietnam time (UTC+07:00). Fails with INVALID_ARGUMENT naming `option`.
// Thread-safe.
absl::StatusOr<absl::Time> ParseAuditTime(absl::string_view text,
                                          absl::string_view option);

// Returns the first-page request for `args` (page_size left 0, set per page
// by RunAuditQuery). Fails with INVALID_ARGUMENT naming the option for a
// bad time, --until not after --since, a citizen ID that is not 9 or 12
// digits (not echoed), or a negative --limit. Thread-safe.
absl::StatusOr<lienthong::v1::QueryAuditRequest> BuildQueryAuditRequest(
    const AuditQueryArgs& args);

// Returns `records` as an aligned table with a header line: sequence, time
// (Vietnam time), caller, method (without "lienthong.v1."), purpose,
// dossier, masked citizen, masked officer, national system, outcome,
// latency. "-" stands
// for an empty value. "No matching audit records.\n" when empty.
// Thread-safe.
std::string FormatAuditTable(
    absl::Span<const lienthong::v1::AuditRecord> records);

// Returns the readable verification result: for an intact log, one line
// with the counts and what is not yet signed, then any acknowledged breaks,
// anchors and archives checked, a torn tail, and whether the key was
// pinned; otherwise a line naming the first bad record (and checkpoint)
// and what is wrong ("edited", "deleted", "reordered", "inserted",
// "truncated", "bad signature", "corrupt", "checkpoint missing"), then the
// detail.
std::string FormatVerifyReport(
    const lienthong::v1::VerifyAuditResponse& report);

// The word for `problem` used by FormatVerifyReport.
std::string ProblemName(lienthong::v1::VerifyAuditResponse::Problem problem);

// `lienthong audit verify` offline, as typed.
struct OfflineVerifyArgs {
  std::string file;        // --file: an export
  std::string journal;     // --journal: a journal folder
  std::string public_key;  // --public-key PEM (required)
  std::string key_sha256;  // --key-sha256: the pinned fingerprint
  std::string anchors;     // --anchors FILE
  std::string archive;     // --archive DIR (with --journal)
  bool json = false;
  // A check that ends sooner shows no progress; one that takes longer
  // shows it on the error stream, redrawn on a terminal, a line every 10 s
  // otherwise.
  absl::Duration progress_after = absl::Seconds(2);
};

// Runs `audit query`: pages through AuditService/QueryAudit (up to
// args.limit records) and prints the table, or with options.json one JSON
// object per record and line as they arrive. Returns kOk or the failure's
// code.
ExitCode RunAuditQuery(const AuditQueryArgs& args, const CommonOptions& options,
                       std::ostream& out, std::ostream& err);

// Runs `audit verify` against the gateway (AuditService/VerifyAudit).
// Returns kOk when intact, kExitAuditNotIntact when not, or the failure's
// code.
ExitCode RunAuditVerify(const CommonOptions& options, std::ostream& out,
                        std::ostream& err);

// Runs `audit verify` offline: VerifyExportFile or VerifyJournal with the
// public key (checked against --key-sha256 when given), no server. Returns
// kOk when intact, kExitAuditNotIntact when not, kUsage for bad or
// unreadable arguments, kOther when the verification cannot run.
ExitCode RunAuditVerifyOffline(const OfflineVerifyArgs& args,
                               std::ostream& out, std::ostream& err);

// Runs `audit export`: writes the records from `since` ("" = all) to the end
// of the journal in `journal_dir` into `out_file` (ExportToFile), showing
// its progress on `err` once it has run `progress_after` (QuietProgress).
// Returns kOk, kUsage for a bad time or a missing journal, or kOther when
// the export fails.
ExitCode RunAuditExport(const std::string& since, const std::string& journal_dir,
                        const std::string& out_file, std::ostream& out,
                        std::ostream& err,
                        absl::Duration progress_after = absl::Seconds(2));

// Runs `audit keygen`: creates the signing key file and/or the HMAC and
// digest key files (never overwriting) and prints the public key and its
// fingerprint (for audit.signing_key_sha256) to hand to auditors. Returns
// kOk, kUsage when none is given or a file exists, kOther when one cannot
// be written.
ExitCode RunAuditKeygen(const std::string& signing_key_file,
                        const std::string& hmac_key_file,
                        const std::string& digest_key_file, std::ostream& out,
                        std::ostream& err);

// Prints `report` (readable or JSON) and returns its exit code.
ExitCode PrintVerifyReport(const lienthong::v1::VerifyAuditResponse& report,
                           bool json, std::ostream& out, std::ostream& err);

// Adds `audit` and its subcommands to `root`; the selected one runs with
// its own options and stores its exit code in `context`, which must outlive
// `root`.
void RegisterAuditCommands(CLI::App& root, CommandContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_AUDIT_COMMANDS_H_
