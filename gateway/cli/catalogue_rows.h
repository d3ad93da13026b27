// The pieces catalogue.h's ParseCatalogue is made of, one concern per file:
//   the keys and columns (kFields, FindField)            catalogue.cc
//   text: UTF-8, NFC, control characters (CleanText)     catalogue_text.cc
//   JSON rows (ReadJsonRows)                             catalogue_rows_json.cc
//   CSV rows (ReadCsvRows)                               catalogue_rows_csv.cc
//   row validation and lists, the same for both          row_validation.cc
//     (ValidateRows, AddListEntry)
// Internal to the CLI and its tests; see catalogue.h for the file formats.
// All functions are thread-safe and keep no state.
#ifndef LIENTHONG_GATEWAY_CLI_CATALOGUE_ROWS_H_
#define LIENTHONG_GATEWAY_CLI_CATALOGUE_ROWS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gateway/cli/catalogue.h"
#include "gateway/sync/procedure_plan.h"

namespace lienthong::cli::catalogue_internal {

// ---------------------------------------------------------------------------
// Keys and columns.

enum FieldId : int {
  kCode,
  kName,
  kField,
  kAuthorityLevel,
  kLevel,
  kAgency,
  kProcessingTime,
  kFees,
  kRequiredDocuments,
  kLegalBasis,
  kFieldCount,
};

struct FieldSpec {
  FieldId id;
  const char* key;
  // The national portal's name of the same field.
  const char* portal_key;
  bool list;
  // May hold line breaks (and tabs): free text copied from legal documents.
  bool multiline;
  int max_length;
};

inline constexpr FieldSpec kFields[kFieldCount] = {
    {kCode, "code", "MaTTHC", false, false, kMaxProcedureCodeLength},
    {kName, "name", "TenTTHC", false, false, kMaxProcedureNameLength},
    {kField, "field", "LinhVuc", false, false, kMaxShortTextLength},
    {kAuthorityLevel, "authority_level", "CapThucHien", false, false,
     kMaxShortTextLength},
    {kLevel, "level", "MucDo", false, false, kMaxShortTextLength},
    {kAgency, "implementing_agency", "CoQuanThucHien", false, false,
     kMaxLongTextLength},
    {kProcessingTime, "processing_time", "ThoiHanGiaiQuyet", false, true,
     kMaxLongTextLength},
    {kFees, "fees", "PhiLePhi", false, true, kMaxLongTextLength},
    {kRequiredDocuments, "required_documents", "ThanhPhanHoSo", true, true,
     kMaxListEntryLength},
    {kLegalBasis, "legal_basis", "CanCuPhapLy", true, true,
     kMaxListEntryLength},
};

inline constexpr FieldId kRequiredFields[] = {kCode, kName, kLevel};

// Returns the field named `name` (its key or the portal's), or nullptr.
// JSON keys are matched exactly, CSV columns with `ignore_case`.
const FieldSpec* FindField(absl::string_view name, bool ignore_case);

// Returns the keys of every field, "code, name, ...", for messages.
std::string KnownNames();

// ---------------------------------------------------------------------------
// Rows as read, before validation.

// Most rows a file may have, good and bad: the gateway takes no more
// procedures in one SyncProcedures call. The readers stop at the row after
// it (a file problem), so that a file of millions of tiny records does not
// take a RawRow each.
inline constexpr int kMaxCatalogueRows = sync::kMaxCatalogueSize;

// Returns the file problem of a row past kMaxCatalogueRows, "more than
// 20000 procedures, ...", for the readers to place (line, column).
std::string TooManyRows();

// Most fields a CSV record may have, far above the kFieldCount columns a
// catalogue has. The reader stops at the field after it (a file problem),
// so that one record of millions of commas does not take a string each.
inline constexpr size_t kMaxCsvFields = 1000;

// Longest CSV field, in bytes: above the longest cell that can be valid, a
// list of kMaxListEntries entries of kMaxValueBytes each. A longer one is a
// file problem, before it is copied, split or normalised.
inline constexpr size_t kMaxCsvFieldMiB = 1;
inline constexpr size_t kMaxCsvFieldBytes = kMaxCsvFieldMiB << 20;
static_assert(kMaxCsvFieldBytes >
              size_t{kMaxListEntries} * (size_t{kMaxValueBytes} + 1));

// One entry of a list as read.
struct RawEntry {
  // Its place in the cell or array, from 1, empty entries counted: the N of
  // "legal_basis entry N" in messages.
  size_t position = 0;
  std::string text;
};

struct RawValue {
  // Had the wrong JSON type (already reported): not "missing" as well.
  bool wrong_type = false;
  std::string scalar;
  // A list's entries that are not empty (IsEmptyListEntry), the first
  // kMaxListEntries of them: a cell or array of millions of entries takes
  // no more than a full list. Filled by AddListEntry.
  std::vector<RawEntry> list;
  // How many entries the list has that are not empty, kept or not (for
  // JSON, wrong-type items too). More than kMaxListEntries is a row problem
  // (ValidateRows).
  size_t list_entries = 0;
};

struct RawRow {
  int row = 0;
  int line = 0;
  RawValue values[kFieldCount];
  // Problems found while reading (keys, types, CSV syntax).
  std::vector<std::string> errors;
  // The values are not usable (a CSV record with the wrong number of fields
  // or an unclosed quote): report `errors` only.
  bool unusable = false;
};

// ---------------------------------------------------------------------------
// Lists, the same for both readers (row_validation.cc).

// Returns true when `entry` is nothing or only ASCII whitespace: CleanText
// makes it empty, and an empty entry is dropped, not counted (catalogue.h).
bool IsEmptyListEntry(absl::string_view entry);

// Adds `entry`, the `position`-th entry (from 1) of a list, to `value`:
// nothing when it is empty, else counted in list_entries and kept while
// fewer than kMaxListEntries are.
void AddListEntry(absl::string_view entry, size_t position, RawValue& value);

// ---------------------------------------------------------------------------
// Text (catalogue_text.cc).

// FindInvalidUtf8's answer for valid UTF-8.
inline constexpr size_t kValid = absl::string_view::npos;

// Returns the offset of the first byte of the first ill-formed UTF-8
// sequence in `s`, or kValid.
size_t FindInvalidUtf8(absl::string_view s);

// Returns `s` in double quotes for a message: ASCII control characters and
// bytes that are not UTF-8 escaped as \xNN, other control characters
// (validation::IsControlCharacter: C1, bidirectional overrides) as \uNNNN,
// cut after 60 characters.
std::string Quoted(absl::string_view s);

// Returns the number of code points in `utf8`.
// REQUIRES: `utf8` is valid UTF-8.
int CodePointCount(absl::string_view utf8);

// Checks and normalises one value (a scalar, or one list entry) of the
// field `spec`: valid UTF-8, NFC, trimmed, no control characters, within
// the field's length. Returns the clean text, or nullopt after adding the
// problem, starting with `label`, to `errors`.
std::optional<std::string> CleanText(absl::string_view raw,
                                     const FieldSpec& spec,
                                     absl::string_view label,
                                     std::vector<std::string>& errors);

// ---------------------------------------------------------------------------
// Readers: append one RawRow per procedure of `text` (without a byte-order
// mark) to `rows`, with the problems of each row in it. Fail with
// INVALID_ARGUMENT giving the line (and for JSON the column) for the file
// problems listed in catalogue.h.

absl::Status ReadJsonRows(absl::string_view text, std::vector<RawRow>& rows);
absl::Status ReadCsvRows(absl::string_view text, std::vector<RawRow>& rows);

// ---------------------------------------------------------------------------
// Validation (row_validation.cc).

// Validates every row (values, list sizes, required fields, codes, levels,
// duplicate codes) and returns the catalogue: the good rows as procedures,
// every problem as a row error, e.g. "required_documents: 201 entries (at
// most 200)". Moves the errors out of `rows`.
Catalogue ValidateRows(CatalogueFormat format, std::vector<RawRow>& rows);

}  // namespace lienthong::cli::catalogue_internal

#endif  // LIENTHONG_GATEWAY_CLI_CATALOGUE_ROWS_H_
