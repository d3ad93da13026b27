#include "gateway/cli/audit_commands.h"

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/query.h"
#include "gateway/audit/signing.h"
#include "gateway/audit/verify.h"
#include "gateway/cli/audit_admin_commands.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "grpcpp/client_context.h"
#include "lienthong/v1/audit.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::AuditRecord;
using ::lienthong::v1::QueryAuditRequest;
using ::lienthong::v1::VerifyAuditResponse;

constexpr char kQueryExamples[] =
    R"(lienthong audit query --since 2025-07-01 --until 2025-08-01
lienthong audit query --citizen 033085012345 --limit 0
lienthong audit query --officer 001085004321 --since 2025-07-01
lienthong audit query --caller spiffe://lienthong.local/dossier-system \
    --outcome PERMISSION_DENIED --json
lienthong audit query --dossier 000.00.01.H31-250715-00123)";

constexpr char kQueryNotes[] =
    "Needs a client certificate with the \"auditor\" role. Times are RFC 3339\n"
    "(2025-07-15T09:30:00+07:00) or a date (2025-07-15: its start in Vietnam\n"
    "time, UTC+07:00); the table shows Vietnam time. --citizen and --officer\n"
    "(what an officer looked up: calls made on their behalf) are hashed by\n"
    "the gateway; the log holds no plaintext IDs.";

constexpr char kVerifyExamples[] =
    R"(lienthong audit verify
lienthong audit verify --journal /var/lib/lienthong/audit-journal \
    --public-key audit-public.pem --key-sha256 3f1c... \
    --anchors /srv/shipped/audit-anchors.jsonl --archive /srv/audit-archive
lienthong audit verify --file audit-2025-07.jsonl --public-key audit-public.pem)";

constexpr char kVerifyNotes[] =
    "Without --journal or --file the gateway checks its whole journal against\n"
    "its pinned key (needs the \"auditor\" role). Offline, --journal checks a\n"
    "journal folder and --file an export, here, against --public-key; give\n"
    "--key-sha256 (the fingerprint from the gateway's config) so that a\n"
    "replaced key file is noticed. --anchors cross-checks the checkpoints\n"
    "shipped off the host (this is what catches a journal whose end was cut\n"
    "together with its checkpoints); --archive walks every archive first.\n"
    "An offline check that takes more than 2 s shows its progress on the\n"
    "error stream (redrawn on a terminal, a line every 10 s otherwise).\n"
    "Exit code 9: the log or export is NOT intact; the first bad record (or\n"
    "checkpoint) and what is wrong (edited, deleted, reordered, inserted,\n"
    "truncated, bad signature, corrupt, checkpoint missing) are printed.";

constexpr char kExportExamples[] =
    R"(lienthong audit export --journal /var/lib/lienthong/audit-journal \
    --out audit.jsonl
lienthong audit export --since 2025-07-01 \
    --journal /var/lib/lienthong/audit-journal --out audit-2025-07.jsonl)";

constexpr char kExportNotes[] =
    "Reads the journal folder directly (on the gateway host; the gateway may\n"
    "keep running). Writes JSON lines for a SIEM: the checkpoints, then the\n"
    "records from the first one at or after --since to the end (archived\n"
    "records are not exported). Check it with 'lienthong audit verify --file'.\n"
    "An export that takes more than 2 s shows its progress on the error\n"
    "stream.";

constexpr char kKeygenExamples[] =
    R"(lienthong audit keygen --signing-key /etc/lienthong/audit-signing.pem \
    --hmac-key /etc/lienthong/audit-hmac.key \
    --digest-key /etc/lienthong/audit-digest.key)";

constexpr char kKeygenNotes[] =
    "Files are created with mode 0600 and never overwritten. The public key\n"
    "printed is what auditors give to 'lienthong audit verify --public-key';\n"
    "its fingerprint goes in the gateway's audit.signing_key_sha256 (and\n"
    "--key-sha256), so that only this key is trusted.";

// Default deadline of `audit verify`: the gateway walks the whole chain.
constexpr double kVerifyTimeoutSeconds = 300;

bool FileExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

// The public key in the PEM file of --public-key (read within
// audit::kMaxKeyFileBytes). INVALID_ARGUMENT naming the option when the
// file cannot be read, is too large or holds no Ed25519 key.
absl::StatusOr<audit::PublicKey> LoadPublicKey(const std::string& file) {
  absl::StatusOr<audit::PublicKey> key = audit::PublicKey::FromPemFile(file);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--public-key: ", key.status().message()));
  }
  return key;
}

}  // namespace

ExitCode PrintVerifyReport(const VerifyAuditResponse& report, bool json,
                           std::ostream& out, std::ostream& err) {
  if (json) {
    ExitCode code = PrintJson(report, out, err);
    if (code != ExitCode::kOk) return code;
  } else {
    out << FormatVerifyReport(report);
  }
  return report.intact() ? ExitCode::kOk : kExitAuditNotIntact;
}

ExitCode RunAuditQuery(const AuditQueryArgs& args, const CommonOptions& options,
                       std::ostream& out, std::ostream& err) {
  absl::StatusOr<QueryAuditRequest> request = BuildQueryAuditRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = lienthong::v1::AuditService::NewStub(*channel);

  std::vector<AuditRecord> table;
  int64_t received = 0;
  while (args.limit == 0 || received < args.limit) {
    int64_t want = audit::kMaxPageSize;
    if (args.limit != 0) want = std::min(want, args.limit - received);
    request->set_page_size(static_cast<int32_t>(want));
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    auto reader = stub->QueryAudit(&context, *request);
    AuditRecord record;
    int64_t in_page = 0;
    while (reader->Read(&record)) {
      ++in_page;
      request->set_page_token(record.sequence());
      // Several nodes' records share sequences in an index on PostgreSQL.
      request->set_page_token_node(record.node());
      if (options.json) {
        if (ExitCode code = PrintJson(record, out, err);
            code != ExitCode::kOk) {
          context.TryCancel();
          reader->Finish().ok();
          return code;
        }
      } else {
        table.push_back(record);
      }
    }
    grpc::Status status = reader->Finish();
    if (!status.ok()) {
      // Print what was received before the error.
      if (!options.json && !table.empty()) out << FormatAuditTable(table);
      return ReportRpcError(status, err);
    }
    received += in_page;
    if (in_page < want) break;  // no more records
  }
  if (!options.json) out << FormatAuditTable(table);
  return ExitCode::kOk;
}

ExitCode RunAuditVerify(const CommonOptions& options, std::ostream& out,
                        std::ostream& err) {
  using lienthong::v1::AuditService;
  VerifyAuditResponse report;
  if (ExitCode code = CallUnary<AuditService>(
          options.connection, &AuditService::Stub::VerifyAudit,
          lienthong::v1::VerifyAuditRequest(), report, err);
      code != ExitCode::kOk) {
    return code;
  }
  return PrintVerifyReport(report, options.json, out, err);
}

namespace {

// "312400 records checked".
std::string VerifyProgressText(const audit::VerifyProgress& progress) {
  if (progress.records == 0) return "reading the checkpoints";
  return absl::StrCat(progress.records, " records checked");
}

}  // namespace

ExitCode RunAuditVerifyOffline(const OfflineVerifyArgs& args,
                               std::ostream& out, std::ostream& err) {
  if (args.public_key.empty()) {
    return ReportUsageError(
        absl::InvalidArgumentError(absl::StrCat(
            args.file.empty() ? "--journal" : "--file",
            " needs --public-key, the gateway's audit public key (PEM)")),
        err);
  }
  if (!args.file.empty() && !args.journal.empty()) {
    return ReportUsageError(
        absl::InvalidArgumentError("give --file or --journal, not both"), err);
  }
  if (!args.archive.empty() && args.journal.empty()) {
    return ReportUsageError(
        absl::InvalidArgumentError("--archive is used with --journal"), err);
  }
  absl::StatusOr<audit::PublicKey> key = LoadPublicKey(args.public_key);
  if (!key.ok()) return ReportUsageError(key.status(), err);
  if (!args.key_sha256.empty()) {
    if (absl::Status pin = audit::CheckPin(*key, args.key_sha256); !pin.ok()) {
      return ReportUsageError(absl::InvalidArgumentError(absl::StrCat(
                                  "--key-sha256: ", pin.message())),
                              err);
    }
  }
  audit::VerifyOptions options;
  options.key = &*key;
  options.key_pinned = !args.key_sha256.empty();
  options.anchor_file = args.anchors;
  options.archive_dir = args.archive;
  QuietProgress shown(err, args.progress_after);
  options.progress = [&](const audit::VerifyProgress& progress) {
    shown.Update({static_cast<int64_t>(progress.done), 0,
                  static_cast<int64_t>(progress.total)},
                 VerifyProgressText(progress));
  };
  absl::StatusOr<audit::VerifyReport> report =
      args.file.empty() ? audit::VerifyJournal(args.journal, options)
                        : audit::VerifyExportFile(args.file, options);
  shown.Finish();
  if (!report.ok()) {
    if (report.status().code() == absl::StatusCode::kNotFound ||
        report.status().code() == absl::StatusCode::kInvalidArgument) {
      return ReportUsageError(
          absl::InvalidArgumentError(absl::StrCat(
              args.file.empty() ? "--journal/--anchors" : "--file/--anchors",
              ": ", report.status().message())),
          err);
    }
    err << "lienthong: " << OneLine(report.status().message()) << "\n";
    return ExitCode::kOther;
  }
  return PrintVerifyReport(*report, args.json, out, err);
}

ExitCode RunAuditExport(const std::string& since, const std::string& journal_dir,
                        const std::string& out_file, std::ostream& out,
                        std::ostream& err, absl::Duration progress_after) {
  absl::Time from = absl::InfinitePast();
  if (!since.empty()) {
    absl::StatusOr<absl::Time> parsed = ParseAuditTime(since, "--since");
    if (!parsed.ok()) return ReportUsageError(parsed.status(), err);
    from = *parsed;
  }
  if (!FileExists(journal_dir)) {
    return ReportUsageError(
        absl::InvalidArgumentError(
            absl::StrCat("--journal: no such folder: ", journal_dir)),
        err);
  }
  QuietProgress shown(err, progress_after);
  absl::Status status = audit::ExportToFile(
      journal_dir, from, out_file, [&](const audit::ReadProgress& progress) {
        shown.Update({static_cast<int64_t>(progress.done), 0,
                      static_cast<int64_t>(progress.total)},
                     progress.records == 0
                         ? std::string("finding the first record")
                         : absl::StrCat(progress.records, " records written"));
      });
  shown.Finish();
  if (!status.ok()) {
    err << "lienthong: " << OneLine(status.message()) << "\n";
    return ExitCode::kOther;
  }
  out << "Exported to " << out_file << "\n";
  return ExitCode::kOk;
}

ExitCode RunAuditKeygen(const std::string& signing_key_file,
                        const std::string& hmac_key_file,
                        const std::string& digest_key_file, std::ostream& out,
                        std::ostream& err) {
  if (signing_key_file.empty() && hmac_key_file.empty() &&
      digest_key_file.empty()) {
    return ReportUsageError(
        absl::InvalidArgumentError(
            "give --signing-key, --hmac-key, --digest-key or several"),
        err);
  }
  for (const std::string* file :
       {&signing_key_file, &hmac_key_file, &digest_key_file}) {
    if (!file->empty() && FileExists(*file)) {
      return ReportUsageError(
          absl::InvalidArgumentError(absl::StrCat(
              *file, " exists; keys are never overwritten (move it first)")),
          err);
    }
  }
  if (!signing_key_file.empty()) {
    absl::Status status = audit::GenerateSigningKeyFile(signing_key_file);
    absl::StatusOr<audit::PublicKey> key =
        status.ok() ? audit::PublicKey::FromPemFile(signing_key_file)
                    : absl::StatusOr<audit::PublicKey>(status);
    if (!key.ok()) {
      err << "lienthong: " << OneLine(key.status().message()) << "\n";
      return ExitCode::kOther;
    }
    out << "Signing key written to " << signing_key_file << "\n"
        << "Fingerprint (audit.signing_key_sha256, --key-sha256): "
        << key->fingerprint() << "\n"
        << "Public key, for 'audit verify --public-key':\n"
        << key->ToPem();
  }
  for (const auto& [file, what] :
       {std::pair{&hmac_key_file, "HMAC key"},
        std::pair{&digest_key_file, "Digest key"}}) {
    if (file->empty()) continue;
    absl::Status status = audit::GenerateHmacKeyFile(*file);
    if (!status.ok()) {
      err << "lienthong: " << OneLine(status.message()) << "\n";
      return ExitCode::kOther;
    }
    out << what << " written to " << *file << "\n";
  }
  return ExitCode::kOk;
}

namespace {

// Adds `audit query` to `audit`.
void AddQueryCommand(CLI::App& audit, CommandContext& context) {
  CLI::App* query = audit.add_subcommand(
      "query", "List audit records matching every filter given");
  auto args = std::make_shared<AuditQueryArgs>();
  auto options = std::make_shared<CommonOptions>();
  query->add_option("--since", args->since, "Records at or after this time")
      ->type_name("TIME");
  query->add_option("--until", args->until, "Records before this time")
      ->type_name("TIME");
  query
      ->add_option("--caller", args->caller,
                   "Exact caller identity, e.g. "
                   "spiffe://lienthong.local/dossier-system")
      ->type_name("ID");
  query
      ->add_option("--method", args->method,
                   "Exact full method, e.g. "
                   "lienthong.v1.PopulationService/LookupCitizen")
      ->type_name("METHOD");
  query
      ->add_option("--citizen", args->citizen,
                   "Citizen ID (12 or 9 digits); hashed by the gateway")
      ->type_name("ID");
  query
      ->add_option("--officer", args->officer,
                   "Officer's citizen ID: the calls made on their behalf; "
                   "hashed by the gateway")
      ->type_name("ID");
  query->add_option("--dossier", args->dossier, "Exact dossier ID")
      ->type_name("CODE");
  query
      ->add_option("--outcome", args->outcome,
                   "Exact outcome code, e.g. OK, PERMISSION_DENIED")
      ->type_name("CODE");
  query
      ->add_option("--limit", args->limit,
                   "Most records to show; 0 = all (default 100)")
      ->type_name("N");
  AddCommonOptions(*query, *options);
  query->footer(HelpFooter(kQueryExamples, kQueryNotes));
  query->callback([args, options, &context] {
    context.exit_code =
        RunAuditQuery(*args, *options, context.out, context.err);
  });
}

// Adds `audit verify` to `audit`.
void AddVerifyCommand(CLI::App& audit, CommandContext& context) {
  CLI::App* verify = audit.add_subcommand(
      "verify",
      "Check the audit journal, its signed checkpoints and anchors: on the "
      "gateway, or offline in a journal folder or an export file");
  auto args = std::make_shared<OfflineVerifyArgs>();
  auto options = std::make_shared<CommonOptions>();
  // Verifying a million records takes seconds on the gateway.
  options->connection.timeout_seconds = kVerifyTimeoutSeconds;
  verify
      ->add_option("--journal", args->journal,
                   "Verify this journal folder offline")
      ->type_name("DIR");
  verify
      ->add_option("--file", args->file,
                   "Verify this export (audit export) offline")
      ->type_name("EXPORT");
  verify
      ->add_option("--public-key", args->public_key,
                   "The gateway's audit public key (PEM), offline")
      ->type_name("PEM");
  verify
      ->add_option("--key-sha256", args->key_sha256,
                   "The key's pinned fingerprint (audit.signing_key_sha256)")
      ->type_name("HEX");
  verify
      ->add_option("--anchors", args->anchors,
                   "Cross-check the anchor file (checkpoints shipped off "
                   "the host)")
      ->type_name("FILE");
  verify
      ->add_option("--archive", args->archive,
                   "Walk every archive in this folder first (with "
                   "--journal)")
      ->type_name("DIR");
  AddCommonOptions(*verify, *options);
  verify->footer(HelpFooter(kVerifyExamples, kVerifyNotes));
  verify->callback([args, options, &context] {
    if (args->file.empty() && args->journal.empty()) {
      if (!args->public_key.empty() || !args->key_sha256.empty() ||
          !args->anchors.empty() || !args->archive.empty()) {
        context.exit_code = ReportUsageError(
            absl::InvalidArgumentError(
                "--public-key, --key-sha256, --anchors and --archive are "
                "used with --journal or --file"),
            context.err);
        return;
      }
      context.exit_code = RunAuditVerify(*options, context.out, context.err);
      return;
    }
    args->json = options->json;
    context.exit_code = RunAuditVerifyOffline(*args, context.out, context.err);
  });
}

// Adds `audit export` to `audit`.
void AddExportCommand(CLI::App& audit, CommandContext& context) {
  CLI::App* exporter = audit.add_subcommand(
      "export",
      "Write the audit log as JSON lines for a SIEM, from the journal");
  auto since = std::make_shared<std::string>();
  auto journal = std::make_shared<std::string>();
  auto out_file = std::make_shared<std::string>();
  exporter
      ->add_option("--since", *since,
                   "From the first record at or after this time (default: "
                   "all)")
      ->type_name("TIME");
  exporter->add_option("--journal", *journal, "The gateway's audit journal")
      ->type_name("DIR")
      ->required();
  exporter
      ->add_option("--out", *out_file,
                   "File to write (replaced once the export is whole)")
      ->type_name("FILE")
      ->required();
  exporter->footer(HelpFooter(kExportExamples, kExportNotes));
  exporter->callback([since, journal, out_file, &context] {
    context.exit_code =
        RunAuditExport(*since, *journal, *out_file, context.out, context.err);
  });
}

// Adds `audit keygen` to `audit`.
void AddKeygenCommand(CLI::App& audit, CommandContext& context) {
  CLI::App* keygen = audit.add_subcommand(
      "keygen",
      "Create the gateway's audit signing, HMAC and digest key files");
  auto signing = std::make_shared<std::string>();
  auto hmac = std::make_shared<std::string>();
  auto digest = std::make_shared<std::string>();
  keygen
      ->add_option("--signing-key", *signing,
                   "New Ed25519 private key file (PEM) that signs "
                   "checkpoints")
      ->type_name("FILE");
  keygen
      ->add_option("--hmac-key", *hmac,
                   "New HMAC key file for hashing citizen IDs")
      ->type_name("FILE");
  keygen
      ->add_option("--digest-key", *digest,
                   "New HMAC key file for request and response digests")
      ->type_name("FILE");
  keygen->footer(HelpFooter(kKeygenExamples, kKeygenNotes));
  keygen->callback([signing, hmac, digest, &context] {
    context.exit_code =
        RunAuditKeygen(*signing, *hmac, *digest, context.out, context.err);
  });
}

}  // namespace

void RegisterAuditCommands(CLI::App& root, CommandContext& context) {
  CLI::App* audit = root.add_subcommand(
      "audit",
      "Read, verify and export the gateway's tamper-evident audit log "
      "(security teams)");
  audit->require_subcommand(1);

  AddQueryCommand(*audit, context);
  AddVerifyCommand(*audit, context);
  AddExportCommand(*audit, context);
  AddKeygenCommand(*audit, context);
  RegisterAuditAdminCommands(*audit, context);
}

}  // namespace lienthong::cli
