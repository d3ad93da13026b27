// Catalogue files: the province's administrative procedures as operators keep
// them, in JSON or CSV, read into lienthong.v1.Procedure messages
// (ReadCatalogueFile, ParseCatalogue) after every row has been validated;
// and the spellings of the service level (ParseServiceLevel).
//
// Keys (JSON) and columns (CSV), each also accepted under the national
// portal's name in brackets:
//   code (MaTTHC)                 required, a province's procedure code
//                                 (validation::ValidateProvincialProcedureCode)
//   name (TenTTHC)                required
//   field (LinhVuc)               e.g. "Hộ tịch"
//   authority_level (CapThucHien) e.g. "Cấp xã"
//   level (MucDo)                 required, see ParseServiceLevel
//   implementing_agency (CoQuanThucHien)
//   processing_time (ThoiHanGiaiQuyet)   e.g. "05 ngày làm việc"
//   fees (PhiLePhi)               e.g. "Miễn phí"
//   required_documents (ThanhPhanHoSo)   a list
//   legal_basis (CanCuPhapLy)     a list
//
// JSON: an array of objects, or {"procedures": [...]}. Values are strings,
// lists are arrays of strings; null is the same as a missing key. Row N is
// the N-th object of the array (index + 1).
//
// CSV (RFC 4180): a header row naming the columns (any order, case and
// surrounding spaces ignored), then one procedure per record; fields
// separated by ',', quoted with '"' when they hold ',', '"' or a line break
// ('""' inside quotes is one quote); records end with LF or CRLF. List
// entries are separated by ';' inside the cell (so an entry cannot contain
// ';'). Row N is the line the record starts on, the header being line 1 when
// it is the first line. Lines that are empty or hold only commas are skipped.
//
// Both: UTF-8, with or without a byte-order mark. Every text is NFC-normalised
// and trimmed of surrounding ASCII whitespace. An empty list entry (nothing
// or only white space: "a;;b", a trailing ';', "" in an array) is dropped,
// as an empty value is the same as none, and does not count towards the at
// most kMaxListEntries (200) entries of a list.
//
// Row problems (a row can have several; every one is reported):
//   missing code | malformed code | duplicate code (naming the first row) |
//   missing name | missing level | wrong level | invalid UTF-8 (naming the
//   key and the byte) | control character | over-long value | list of
//   more than 200 entries ("required_documents: 201 entries (at most 200)") |
//   unknown or repeated key (JSON) | wrong JSON type | CSV record with the
//   wrong number of fields (with only the first of its quote problems) or
//   a stray quote.
// File problems stop parsing (a status, not row errors): unreadable file,
// unknown extension, UTF-16 file, JSON syntax error, wrong top-level shape,
// CSV header with an unknown, repeated or missing required column, no rows,
// more rows (good and bad) than the gateway takes in one catalogue
// (sync::kMaxCatalogueSize, 20000): reading stops at the row after it; a CSV
// record of more than 1000 fields, or with a field longer than 1 MiB
// ("line 3: more than 1000 fields", "line 3: field 2 is longer than 1 MiB").
#ifndef LIENTHONG_GATEWAY_CLI_CATALOGUE_H_
#define LIENTHONG_GATEWAY_CLI_CATALOGUE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/sync/dossier_status.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::cli {

enum class CatalogueFormat { kJson, kCsv };

// Longest accepted values, in Unicode code points after NFC normalisation.
// Generous for real catalogues (the longest procedure names run to about
// 400 characters); the limits catch pasted documents and broken columns.
inline constexpr int kMaxProcedureCodeLength = 32;
inline constexpr int kMaxProcedureNameLength = 1000;
inline constexpr int kMaxShortTextLength = 300;   // field, authority_level
inline constexpr int kMaxLongTextLength = 2000;   // agency, time, fees
inline constexpr int kMaxListEntryLength = 1000;  // each document, basis
// And in bytes, any value: the gateway refuses longer ones (gateway/sync).
inline constexpr int kMaxValueBytes = 4000;
// Most entries of one list (required_documents, legal_basis), empty ones
// not counted: what the gateway sends to the portal's ThanhPhanHoSo[] and
// CanCuPhapLy[] (sync::kMaxProcedureListItems, 200), far above the few dozen
// documents or legal bases of a real procedure. One limit for both lists:
// they are alike, free-text entries of kMaxListEntryLength.
inline constexpr int kMaxListEntries = sync::kMaxProcedureListItems;

// One problem of one row.
struct CatalogueRowError {
  // CSV: the line the record starts on (header = line 1). JSON: the
  // object's position in the array, from 1.
  int row = 0;
  // JSON: the line the object starts on, to find it in an editor. 0 for CSV,
  // where `row` is the line.
  int line = 0;
  // What is wrong, e.g. "missing code",
  // "duplicate code 1.001193.000.00.00.H31 (first at row 3)".
  std::string message;
};

// A catalogue file, validated.
struct Catalogue {
  CatalogueFormat format = CatalogueFormat::kJson;
  // Rows read, good and bad.
  int rows = 0;
  // The good rows, in file order, normalised.
  std::vector<lienthong::v1::Procedure> procedures;
  // procedure_rows[i] is the row of procedures[i].
  std::vector<int> procedure_rows;
  // Every problem, ordered by row; empty when the whole file is good.
  std::vector<CatalogueRowError> errors;

  // Returns the number of distinct rows that have errors.
  int BadRowCount() const;
};

// Returns the service level for `text`: "fully_online" or the portal's
// "TOAN_TRINH" or Vietnamese "Toàn trình" for FULLY_ONLINE; "partly_online",
// "MOT_PHAN" or "Một phần" for PARTLY_ONLINE. Case is ignored, and '-' or ' '
// may stand for '_'. Fails with INVALID_ARGUMENT otherwise. Thread-safe.
absl::StatusOr<lienthong::v1::ServiceLevel> ParseServiceLevel(
    absl::string_view text);

// Returns the format for a file name by its extension (.json or .csv, any
// case). Fails with INVALID_ARGUMENT for another extension. Thread-safe.
absl::StatusOr<CatalogueFormat> CatalogueFormatFromPath(absl::string_view path);

// Parses and validates a whole catalogue held in `contents`. Row problems are
// returned in Catalogue::errors, with the good rows in
// Catalogue::procedures; the call fails (INVALID_ARGUMENT with a message that
// gives the line, and for JSON the column) only for the file problems listed
// at the top of this file. Thread-safe.
absl::StatusOr<Catalogue> ParseCatalogue(absl::string_view contents,
                                         CatalogueFormat format);

// Reads `path` (format from its extension) and parses it as ParseCatalogue
// does. Fails with INVALID_ARGUMENT for an unknown extension or a file
// problem, FAILED_PRECONDITION when the file cannot be read or is over 64
// MiB. Messages start with `path`. Thread-safe.
absl::StatusOr<Catalogue> ReadCatalogueFile(const std::string& path);

// Returns "row 4: missing code", or for JSON "row 3 (line 25): missing
// code". Thread-safe.
std::string FormatCatalogueRowError(const CatalogueRowError& error);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_CATALOGUE_H_
