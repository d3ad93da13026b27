// Reading the audit log for security teams: QueryAudit requests turned into
// store queries, and the JSON-lines export for a SIEM (which VerifyExportFile
// checks offline).
//
// Export format: one compact JSON object per line, each with a "type" field:
//   {"type":"record","sequence":"1","time":"2025-07-15T02:03:04.5Z",...}
//   {"type":"checkpoint","sequence":"1000","hash":"…","signature":"…",...}
// The other fields are the proto3 JSON form of lienthong.v1.AuditRecord /
// AuditCheckpoint with the proto field names (64-bit integers as strings,
// every field present). The checkpoints come first, then the records in
// journal order, contiguous from the first record exported to the journal's
// end, so the file can be verified on its own and a file cut short still
// holds the checkpoints that prove it. Archived records (archive.h) are not
// exported; the archives are verified where they are.
#ifndef LIENTHONG_GATEWAY_AUDIT_QUERY_H_
#define LIENTHONG_GATEWAY_AUDIT_QUERY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/audit/audit_index.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/record.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// Returns the store filter for `request`, its citizen ID replaced by its
// HMAC under `key`. Fails with INVALID_ARGUMENT for a page_size outside
// 0..kMaxPageSize, a malformed time, or an end_time not after start_time.
// Thread-safe.
absl::StatusOr<QueryFilter> FilterFromRequest(
    const lienthong::v1::QueryAuditRequest& request, const CitizenKey& key);

// Returns one page of records for `request`: FilterFromRequest, then
// index.Query. Errors as those two. Thread-safe.
absl::StatusOr<std::vector<AuditRecord>> QueryAudit(
    const AuditIndex& index, const lienthong::v1::QueryAuditRequest& request,
    const CitizenKey& key);

// Returns `filter` as the "key=value; ..." text of an AuditService
// record's details (the citizen is in the record's own citizen fields).
// The auditor's free text is kept only as the rules of its field allow
// (KeptFilterDossier; caller, method, outcome and node as plain tokens with
// no run of 9 digits), else as kFilterNotKept.
std::string FilterDetails(const QueryFilter& filter);

// What an audit record keeps of a filter that breaks its rule.
inline constexpr char kFilterNotKept[] = "(not valid: not kept)";

// An auditor's dossier filter as its own record keeps it: a dossier code,
// or kFilterNotKept (a citizen's ID typed there would be kept in clear).
std::string KeptFilterDossier(absl::string_view dossier);

// The longest export line a reader accepts (VerifyExportFile). A line is
// one record or checkpoint, stored in a journal frame of at most
// kMaxFramePayload bytes; as JSON a byte grows to at most 6 (a control
// character is escaped as a backslash, 'u' and four hex digits), plus the
// field names (about 1 KiB): 8 times the frame bounds every valid line, and
// stops one that never ends.
inline constexpr size_t kMaxExportLineBytes = 8 * kMaxFramePayload;

// Returns `record` / `checkpoint` as one export line, '\n' included.
std::string RecordJsonLine(const AuditRecord& record);
std::string CheckpointJsonLine(const AuditCheckpoint& checkpoint);

// One parsed export line.
struct ExportLine {
  enum class Type { kRecord, kCheckpoint };
  Type type = Type::kRecord;
  AuditRecord record;          // when kRecord
  AuditCheckpoint checkpoint;  // when kCheckpoint
};

// Returns true when `line` is a checkpoint line, judged from its "type"
// field as Export writes it, without parsing the rest.
bool IsCheckpointLine(absl::string_view line);

// Parses one export line (trailing '\n' optional). Fails with
// INVALID_ARGUMENT when it is not a record or checkpoint line.
absl::StatusOr<ExportLine> ParseExportLine(absl::string_view line);

// Writes the export of the journal in `journal_dir` from the first record
// with time >= `since` to its end (absl::InfinitePast() for everything),
// passing each line to `write`: the checkpoints from that record on, then
// the records. Returns the first error of `write` or the journal
// (UNAVAILABLE, NOT_FOUND for no journal; DATA_LOSS, before anything is
// written, when a frame is damaged: the records after it in its segment
// could not be read). Streams: memory does not grow
// with the journal. Thread-safe; runs alongside the writer.
// `progress`, when given, is told after each segment file read (each is
// read twice).
absl::Status Export(const std::string& journal_dir, absl::Time since,
                    absl::FunctionRef<absl::Status(absl::string_view)> write,
                    const ReadProgressFn& progress = nullptr);

// Export into a new file at `path` (replaced if present), owner-only (mode
// 0600, also when an older file was not), synced. Fails with
// UNAVAILABLE when it cannot be written.
absl::Status ExportToFile(const std::string& journal_dir, absl::Time since,
                          const std::string& path,
                          const ReadProgressFn& progress = nullptr);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_QUERY_H_
