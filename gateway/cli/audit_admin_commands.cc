#include "gateway/cli/audit_admin_commands.h"

#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/audit/archive.h"
#include "gateway/audit/audit_index.h"
#include "gateway/audit/epoch.h"
#include "gateway/audit/indexer.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/signing.h"
#include "gateway/audit/verify.h"
#include "gateway/cli/audit_commands.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "gateway/validation/text.h"

namespace lienthong::cli {
namespace {

constexpr char kNewEpochExamples[] =
    R"(lienthong audit new-epoch --journal /var/lib/lienthong/audit-journal \
    --signing-key /etc/lienthong/audit-signing.pem --key-sha256 3f1c... \
    --anchors /var/lib/lienthong/audit-anchors.jsonl \
    --operator "Nguyen Van B, security team" --reason "ticket SEC-142: disk fault")";

constexpr char kNewEpochNotes[] =
    "Run it with the gateway stopped, after inspecting the journal with\n"
    "'lienthong audit verify --journal ... --anchors ...'. It verifies the\n"
    "journal, records the break it finds with --operator and --reason in a\n"
    "signed EPOCH_OPENED record (the damaged part stays as evidence), and\n"
    "anchors its checkpoint. The gateway then opens the journal ready, and\n"
    "verification lists the break as acknowledged. Refused when there is no\n"
    "break to acknowledge.";

constexpr char kReindexExamples[] =
    R"(lienthong audit reindex --journal /var/lib/lienthong/audit-journal \
    --index /var/lib/lienthong/audit.db)";

constexpr char kReindexNotes[] =
    "Run it with the gateway stopped. The gateway also rebuilds a missing or\n"
    "stale index on its own, in the background, at start. For the SQLite\n"
    "index file only: with audit.index_store: postgres each gateway rebuilds\n"
    "its own rows of the shared index itself when they do not match its\n"
    "journal. A rebuild that takes more than 2 s shows its progress on the\n"
    "error stream. Exits 7 when record numbers are missing from the journal\n"
    "(a segment removed or lost, not archived): the rest is indexed, and\n"
    "`lienthong audit verify --journal` tells what is affected.";

constexpr char kArchiveExamples[] =
    R"(lienthong audit archive --journal /var/lib/lienthong/audit-journal \
    --archive-dir /srv/audit-archive --older-than 90d \
    --signing-key /etc/lienthong/audit-signing.pem --key-sha256 3f1c... \
    --index /var/lib/lienthong/audit.db)";

constexpr char kArchiveNotes[] =
    "Moves the oldest sealed segments whose newest record is older than\n"
    "--older-than to a new archive folder (with a manifest of SHA-256 digests\n"
    "naming the previous archive), after verifying them, and leaves a signed\n"
    "anchor in the journal's ARCHIVED file; the last sealed segment always\n"
    "stays (a restarted gateway verifies from its seal), and a run refuses\n"
    "to start while an earlier anchor does not verify. The gateway may keep\n"
    "running.\n"
    "'lienthong audit verify --journal ... --archive DIR' then proves the\n"
    "whole history; without --archive verification starts after the last\n"
    "archive. Archived records leave the query index. A run that takes more\n"
    "than 2 s shows its progress on the error stream.";

ExitCode Fail(const absl::Status& status, std::ostream& err) {
  err << "lienthong: " << OneLine(status.message()) << "\n";
  return ExitCode::kOther;
}

bool IsDirectory(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// Loads the signing key, checked against `pin` when given.
absl::StatusOr<audit::SigningKey> LoadSigningKey(const std::string& file,
                                                 const std::string& pin) {
  // Read within audit::kMaxKeyFileBytes.
  absl::StatusOr<audit::SigningKey> key = audit::SigningKey::FromPemFile(file);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--signing-key: ", key.status().message()));
  }
  if (!pin.empty()) {
    if (absl::Status match = audit::CheckPin(key->public_key(), pin);
        !match.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--key-sha256: ", match.message()));
    }
  }
  return key;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseRetention(absl::string_view text,
                                              absl::string_view option) {
  absl::Duration duration;
  int64_t days = 0;
  absl::string_view digits = text;
  const bool in_days = absl::ConsumeSuffix(&digits, "d");
  const bool parsed = in_days ? absl::SimpleAtoi(digits, &days) &&
                                    days > 0 && days < 100000
                              : absl::ParseDuration(text, &duration);
  if (in_days) duration = absl::Hours(24 * days);
  if (!parsed || duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, " is not a positive duration; give days (90d) or hours (2160h)"));
  }
  return duration;
}

ExitCode RunAuditNewEpoch(const NewEpochArgs& args, std::ostream& out,
                          std::ostream& err) {
  if (!IsDirectory(args.journal)) {
    return ReportUsageError(absl::InvalidArgumentError(absl::StrCat(
                                "--journal: no such folder: ", args.journal)),
                            err);
  }
  if (absl::StripAsciiWhitespace(args.operator_name).empty() ||
      absl::StripAsciiWhitespace(args.reason).empty() ||
      validation::CountCodePoints(args.operator_name) > 200 ||
      validation::CountCodePoints(args.reason) > 1000) {
    return ReportUsageError(
        absl::InvalidArgumentError(
            "--operator (who, at most 200 characters) and --reason (why, at "
            "most 1000) are required"),
        err);
  }
  for (const auto& [text, option] :
       {std::pair{&args.operator_name, "--operator"},
        std::pair{&args.reason, "--reason"}, std::pair{&args.node, "--node"}}) {
    // Checked here too, to name the option: signed into the journal, text
    // that does not read back would break the chain it mends.
    if (absl::Status valid =
            validation::ValidateText(*text, audit::kMaxEpochTextBytes);
        !valid.ok()) {
      return ReportUsageError(absl::InvalidArgumentError(
                                  absl::StrCat(option, ": ", valid.message())),
                              err);
    }
  }
  absl::StatusOr<audit::SigningKey> key =
      LoadSigningKey(args.signing_key, args.key_sha256);
  if (!key.ok()) return ReportUsageError(key.status(), err);
  audit::NewEpochOptions options;
  options.journal_dir = args.journal;
  options.anchor_file = args.anchors;
  options.key = &*key;
  options.key_pinned = !args.key_sha256.empty();
  options.node = args.node;
  options.opened_by = args.operator_name;
  options.reason = args.reason;
  options.checkpoint_every = static_cast<uint32_t>(args.checkpoint_every);
  absl::StatusOr<audit::NewEpochResult> result = audit::OpenNewEpoch(options);
  if (!result.ok()) return Fail(result.status(), err);
  const auto& b = result->epoch_break;
  out << "Epoch " << b.epoch() << " opened at record " << result->sequence
      << " (checkpoint #" << result->checkpoint_index << ") by "
      << OneLine(b.opened_by()) << ".\n"
      << "It acknowledges: "
      << (b.problem() == lienthong::v1::VerifyAuditResponse::PROBLEM_UNSPECIFIED
              ? std::string("a problem found when opening the journal")
              : absl::StrCat(ProblemName(b.problem()), " at record ",
                             b.first_bad_sequence()))
      << ": " << OneLine(b.detail()) << "\n"
      << "The gateway will open the journal ready.\n";
  return ExitCode::kOk;
}

ExitCode RunAuditReindex(const std::string& journal, const std::string& index,
                         std::ostream& out, std::ostream& err,
                         absl::Duration progress_after) {
  absl::StatusOr<std::vector<audit::SegmentFile>> segments =
      audit::ListSegments(journal);
  if (!segments.ok() || segments->empty()) {
    return ReportUsageError(absl::InvalidArgumentError(absl::StrCat(
                                "--journal: no audit journal in ", journal)),
                            err);
  }
  audit::Journal::Options journal_options;
  journal_options.dir = journal;
  journal_options.prepare_in_background = false;
  absl::StatusOr<std::unique_ptr<audit::Journal>> opened =
      audit::Journal::Open(journal_options);
  if (!opened.ok()) return Fail(opened.status(), err);
  absl::StatusOr<std::unique_ptr<audit::SqliteAuditIndex>> db =
      audit::SqliteAuditIndex::Open(index, {journal});
  if (!db.ok()) return Fail(db.status(), err);
  if (absl::Status cleared = (*db)->Clear(); !cleared.ok()) {
    return Fail(cleared, err);
  }
  audit::Indexer::Options indexer_options;
  indexer_options.journal_dir = journal;
  indexer_options.journal_id = (*opened)->tail().journal_id;
  QuietProgress shown(err, progress_after);
  const int64_t total = static_cast<int64_t>(segments->size());
  indexer_options.progress = [&](const audit::JournalPosition& reached,
                                 uint64_t sequence) {
    // Segments before the one the indexer has reached are done.
    const int64_t done = std::count_if(
        segments->begin(), segments->end(),
        [&](const audit::SegmentFile& s) { return s.number < reached.segment; });
    shown.Update({done, 0, total}, absl::StrCat("up to record ", sequence));
  };
  audit::Indexer indexer(indexer_options, db->get(), [] {
    return audit::Indexer::Durable{};
  });
  absl::Status indexed = indexer.RunOnce();
  if (indexed.ok()) {
    shown.Update({total, 0, total},
                 absl::StrCat("up to record ", indexer.indexed_sequence()));
  }
  shown.Finish();
  if (!indexed.ok()) return Fail(indexed, err);
  // A count that cannot be read is a failure, not "0 records".
  absl::StatusOr<uint64_t> rows = (*db)->CountRecords();
  if (!rows.ok()) return Fail(rows.status(), err);
  out << "Indexed " << *rows << " records, up to record "
      << indexer.indexed_sequence() << ", into " << index << "\n";
  if (indexer.missing_records() > 0) {
    err << indexer.missing_records()
        << " records are missing from the journal (numbers skipped, not "
           "archived) and are not in the index; run `lienthong audit verify "
           "--journal "
        << journal << "`\n";
    return ExitCode::kOther;
  }
  return ExitCode::kOk;
}

ExitCode RunAuditArchive(const ArchiveArgs& args, std::ostream& out,
                         std::ostream& err) {
  if (!IsDirectory(args.journal)) {
    return ReportUsageError(absl::InvalidArgumentError(absl::StrCat(
                                "--journal: no such folder: ", args.journal)),
                            err);
  }
  absl::StatusOr<absl::Duration> retention =
      ParseRetention(args.older_than, "--older-than");
  if (!retention.ok()) return ReportUsageError(retention.status(), err);
  absl::StatusOr<audit::SigningKey> key =
      LoadSigningKey(args.signing_key, args.key_sha256);
  if (!key.ok()) return ReportUsageError(key.status(), err);
  audit::ArchiveOptions options;
  options.journal_dir = args.journal;
  options.archive_dir = args.archive_dir;
  options.cutoff = absl::Now() - *retention;
  options.key = &*key;
  options.node = args.node;
  options.index_path = args.index;
  QuietProgress shown(err, args.progress_after);
  options.progress = [&](const audit::ReadProgress& progress) {
    shown.Update({static_cast<int64_t>(progress.done), 0,
                  static_cast<int64_t>(progress.total)},
                 progress.stage);
  };
  absl::StatusOr<audit::ArchiveResult> result = audit::ArchiveSegments(options);
  shown.Finish();
  if (!result.ok()) return Fail(result.status(), err);
  if (result->archive == 0) {
    out << "Nothing to archive: no sealed segment is older than "
        << args.older_than << ".\n";
    return ExitCode::kOk;
  }
  out << "Archive " << result->archive << " (" << result->folder << "): "
      << result->segments.size() << " segments, records up to "
      << result->last_sequence << ".\n";
  if (result->more_to_archive) {
    out << "More sealed segments are old enough than one manifest lists: run "
           "it again to archive them.\n";
  }
  return ExitCode::kOk;
}

namespace {

// Adds `audit new-epoch` to `audit`.
void AddNewEpochCommand(CLI::App& audit, CommandContext& context) {
  CLI::App* cmd = audit.add_subcommand(
      "new-epoch",
      "Acknowledge a break in the journal and let the gateway continue "
      "(gateway stopped)");
  auto args = std::make_shared<NewEpochArgs>();
  cmd->add_option("--journal", args->journal, "The audit journal folder")
      ->type_name("DIR")
      ->required();
  cmd->add_option("--signing-key", args->signing_key,
                  "The gateway's audit signing key (PEM)")
      ->type_name("PEM")
      ->required();
  cmd->add_option("--key-sha256", args->key_sha256,
                  "Its pinned fingerprint (audit.signing_key_sha256)")
      ->type_name("HEX");
  cmd->add_option("--anchors", args->anchors,
                  "The gateway's anchor file (compared, and appended to)")
      ->type_name("FILE");
  cmd->add_option("--operator", args->operator_name,
                  "Who opens the epoch (recorded and signed)")
      ->type_name("NAME")
      ->required();
  cmd->add_option("--reason", args->reason,
                  "Why: what was inspected, the ticket (recorded and signed)")
      ->type_name("TEXT")
      ->required();
  cmd->add_option("--node", args->node, "Node name for the epoch record")
      ->type_name("NAME");
  cmd->add_option("--checkpoint-every", args->checkpoint_every,
                  "The gateway's audit.checkpoint_every (default 1000)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  cmd->footer(HelpFooter(kNewEpochExamples, kNewEpochNotes));
  cmd->callback([args, &context] {
    context.exit_code = RunAuditNewEpoch(*args, context.out, context.err);
  });
}

// Adds `audit reindex` to `audit`.
void AddReindexCommand(CLI::App& audit, CommandContext& context) {
  CLI::App* cmd =
      audit.add_subcommand("reindex",
                           "Rebuild the audit query index from the journal "
                           "(gateway stopped)");
  auto journal = std::make_shared<std::string>();
  auto index = std::make_shared<std::string>();
  cmd->add_option("--journal", *journal, "The audit journal folder")
      ->type_name("DIR")
      ->required();
  cmd->add_option("--index", *index, "The index file (audit.store_file)")
      ->type_name("FILE")
      ->required();
  cmd->footer(HelpFooter(kReindexExamples, kReindexNotes));
  cmd->callback([journal, index, &context] {
    context.exit_code =
        RunAuditReindex(*journal, *index, context.out, context.err);
  });
}

// Adds `audit archive` to `audit`.
void AddArchiveCommand(CLI::App& audit, CommandContext& context) {
  CLI::App* cmd = audit.add_subcommand(
      "archive",
      "Move sealed journal segments older than the retention to an archive");
  auto args = std::make_shared<ArchiveArgs>();
  cmd->add_option("--journal", args->journal, "The audit journal folder")
      ->type_name("DIR")
      ->required();
  cmd->add_option("--archive-dir", args->archive_dir,
                  "Where archives go (one folder each)")
      ->type_name("DIR")
      ->required();
  cmd->add_option("--older-than", args->older_than,
                  "Retention: archive segments whose newest record is "
                  "older (90d, 2160h)")
      ->type_name("DURATION")
      ->required();
  cmd->add_option("--signing-key", args->signing_key,
                  "The gateway's audit signing key (signs the anchor)")
      ->type_name("PEM")
      ->required();
  cmd->add_option("--key-sha256", args->key_sha256,
                  "Its pinned fingerprint (audit.signing_key_sha256)")
      ->type_name("HEX");
  cmd->add_option("--index", args->index,
                  "The query index, whose archived entries are removed")
      ->type_name("FILE");
  cmd->add_option("--node", args->node, "Node name for the anchor")
      ->type_name("NAME");
  cmd->footer(HelpFooter(kArchiveExamples, kArchiveNotes));
  cmd->callback([args, &context] {
    context.exit_code = RunAuditArchive(*args, context.out, context.err);
  });
}

}  // namespace

void RegisterAuditAdminCommands(CLI::App& audit, CommandContext& context) {
  AddNewEpochCommand(audit, context);
  AddReindexCommand(audit, context);
  AddArchiveCommand(audit, context);
}

}  // namespace lienthong::cli
