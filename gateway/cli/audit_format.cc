// What the audit commands read and print: the query's times and request,
// the records' table and the verification report (declared in
// audit_commands.h).
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "gateway/audit/record.h"
#include "gateway/cli/args.h"
#include "gateway/cli/audit_commands.h"
#include "gateway/cli/output.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/dates.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::AuditRecord;
using ::lienthong::v1::QueryAuditRequest;
using ::lienthong::v1::VerifyAuditResponse;

// A record's text as a cell: "-" when empty, else on one line and free of
// what a terminal acts on (OneLine): records hold callers' and national
// systems' text.
std::string Dash(absl::string_view value) {
  return value.empty() ? "-" : OneLine(value);
}

std::string LatencyText(int64_t micros) {
  if (micros < 1000) return absl::StrCat(micros, " us");
  return absl::StrFormat("%.1f ms", static_cast<double>(micros) / 1000.0);
}

}  // namespace

absl::StatusOr<absl::Time> ParseAuditTime(absl::string_view text,
                                          absl::string_view option) {
  const bool date_only = text.size() == 10 && text[4] == '-' && text[7] == '-';
  if (date_only) {
    absl::StatusOr<google::type::Date> date = ParseDate(text, option);
    if (!date.ok()) return date.status();
    return absl::FromCivil(
        absl::CivilDay(date->year(), date->month(), date->day()),
        validation::VietnamTimeZone());
  }
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        option,
        " is not a time; give RFC 3339 (2025-07-15T09:30:00+07:00) or a "
        "date (2025-07-15)"));
  }
  return time;
}

absl::StatusOr<QueryAuditRequest> BuildQueryAuditRequest(
    const AuditQueryArgs& args) {
  QueryAuditRequest request;
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();
  if (!args.since.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(since, ParseAuditTime(args.since, "--since"));
    LIENTHONG_RETURN_IF_ERROR(
        audit::ToProtoTime(since, request.mutable_start_time()));
  }
  if (!args.until.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(until, ParseAuditTime(args.until, "--until"));
    LIENTHONG_RETURN_IF_ERROR(
        audit::ToProtoTime(until, request.mutable_end_time()));
  }
  if (until <= since) {
    return absl::InvalidArgumentError("--until must be after --since");
  }
  if (!args.citizen.empty()) {
    LIENTHONG_RETURN_IF_ERROR(CheckCitizenId(args.citizen, "--citizen"));
  }
  if (!args.officer.empty()) {
    LIENTHONG_RETURN_IF_ERROR(CheckCitizenId(args.officer, "--officer"));
  }
  if (args.limit < 0) {
    return absl::InvalidArgumentError(
        "--limit must be 0 (every record) or positive");
  }
  request.set_caller(args.caller);
  request.set_method(args.method);
  request.set_citizen_id(args.citizen);
  request.set_officer_citizen_id(args.officer);
  request.set_dossier_id(args.dossier);
  request.set_outcome(args.outcome);
  return request;
}

std::string FormatAuditTable(absl::Span<const AuditRecord> records) {
  if (records.empty()) return "No matching audit records.\n";
  constexpr size_t kColumns = 11;
  using Row = std::array<std::string, kColumns>;
  std::vector<Row> rows;
  rows.reserve(records.size() + 1);
  rows.push_back(Row{"SEQ", "TIME (+07)", "CALLER", "METHOD", "PURPOSE",
                     "DOSSIER", "CITIZEN", "OFFICER", "SYSTEM", "OUTCOME",
                     "LATENCY"});
  for (const AuditRecord& r : records) {
    rows.push_back(Row{
        absl::StrCat(r.sequence()),
        absl::FormatTime("%Y-%m-%d %H:%M:%S", audit::FromProtoTime(r.time()),
                         validation::VietnamTimeZone()),
        Dash(r.caller()),
        Dash(absl::StripPrefix(r.method(), "lienthong.v1.")),
        Dash(r.purpose()),
        Dash(r.dossier_id()),
        Dash(r.citizen_masked()),
        Dash(r.officer_masked()),
        Dash(r.national_system()),
        Dash(r.outcome()),
        LatencyText(r.latency_us()),
    });
  }
  std::array<size_t, kColumns> width{};
  for (const Row& row : rows) {
    for (size_t i = 0; i < kColumns; ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string table;
  for (const Row& row : rows) {
    std::string line;
    for (size_t i = 0; i < kColumns; ++i) {
      if (i > 0) line.append("  ");
      // Numbers right-aligned, text left-aligned.
      const bool right = i == 0 || i == kColumns - 1;
      std::string pad(width[i] - row[i].size(), ' ');
      if (right) {
        absl::StrAppend(&line, pad, row[i]);
      } else {
        absl::StrAppend(&line, row[i], i + 1 < kColumns ? pad : "");
      }
    }
    absl::StrAppend(&table, absl::StripTrailingAsciiWhitespace(line), "\n");
  }
  return table;
}

std::string ProblemName(VerifyAuditResponse::Problem problem) {
  switch (problem) {
    case VerifyAuditResponse::EDITED:
      return "edited";
    case VerifyAuditResponse::DELETED:
      return "deleted";
    case VerifyAuditResponse::REORDERED:
      return "reordered";
    case VerifyAuditResponse::INSERTED:
      return "inserted";
    case VerifyAuditResponse::TRUNCATED:
      return "truncated";
    case VerifyAuditResponse::BAD_SIGNATURE:
      return "bad signature";
    case VerifyAuditResponse::CORRUPT:
      return "corrupt";
    case VerifyAuditResponse::CHECKPOINT_MISSING:
      return "checkpoint missing";
    default:
      return absl::StrCat("problem ", static_cast<int>(problem));
  }
}

std::string FormatVerifyReport(const VerifyAuditResponse& report) {
  std::string text;
  if (report.intact()) {
    text = absl::StrCat("Audit log intact: ", report.records_checked(),
                        " records and ", report.checkpoints_checked(),
                        " signed checkpoints checked; last record ",
                        report.last_sequence(), ", last signed ",
                        report.last_checkpoint_sequence(), ".\n");
    if (report.last_sequence() > report.last_checkpoint_sequence()) {
      absl::StrAppend(&text, "Records ", report.last_checkpoint_sequence() + 1,
                      "..", report.last_sequence(),
                      " are chained but not yet signed.\n");
    }
  } else {
    text = absl::StrCat("Audit log NOT intact: record ",
                        report.first_bad_sequence(), ": ",
                        ProblemName(report.problem()), ".\n");
    if (report.first_bad_checkpoint() > 0) {
      absl::StrAppend(&text, "Checkpoint #", report.first_bad_checkpoint(),
                      ".\n");
    }
    if (!report.detail().empty()) {
      absl::StrAppend(&text, OneLine(report.detail()), "\n");
    }
    absl::StrAppend(&text, "Checked good before it: ", report.records_checked(),
                    " records, ", report.checkpoints_checked(),
                    " checkpoints.\n");
  }
  for (const auto& b : report.acknowledged_breaks()) {
    absl::StrAppend(
        &text, "Acknowledged break: epoch ", b.epoch(), " opened by ",
        OneLine(b.opened_by()), " (", OneLine(b.reason()), ") after ",
        b.problem() == VerifyAuditResponse::PROBLEM_UNSPECIFIED
            ? std::string("a problem found at start")
            : absl::StrCat(ProblemName(b.problem()), " at record ",
                           b.first_bad_sequence()),
        ".\n");
  }
  if (report.anchors_checked() > 0) {
    absl::StrAppend(&text, report.anchors_checked(),
                    " anchored checkpoints match.\n");
  }
  if (report.archives_checked() > 0) {
    absl::StrAppend(&text, report.archives_checked(), " archives checked.\n");
  }
  if (report.torn_tail_bytes() > 0) {
    absl::StrAppend(&text, "The journal ends with a crash's unfinished write (",
                    report.torn_tail_bytes(),
                    " bytes, never acknowledged), cut when the gateway next "
                    "opens it.\n");
  }
  if (!report.key_pinned()) {
    absl::StrAppend(&text,
                    "Note: the key was not pinned by fingerprint "
                    "(--key-sha256 / audit.signing_key_sha256).\n");
  }
  return text;
}

}  // namespace lienthong::cli
