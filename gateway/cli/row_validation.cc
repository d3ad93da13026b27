// Validation of catalogue rows, the same for JSON and CSV (ValidateRows,
// and AddListEntry, which both readers put list entries through; declared in
// catalogue_rows.h), and the spellings of the service level
// (ParseServiceLevel, catalogue.h).
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gateway/cli/catalogue.h"
#include "gateway/cli/catalogue_rows.h"
#include "gateway/validation/codes.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"

namespace lienthong::cli {
namespace catalogue_internal {

bool IsEmptyListEntry(absl::string_view entry) {
  return absl::StripAsciiWhitespace(entry).empty();
}

void AddListEntry(absl::string_view entry, size_t position, RawValue& value) {
  if (IsEmptyListEntry(entry)) return;
  ++value.list_entries;
  // Past the limit the row is bad whatever the other entries hold: counted,
  // not kept, so that memory stays that of a full list.
  if (value.list.size() < static_cast<size_t>(kMaxListEntries)) {
    value.list.push_back(RawEntry{position, std::string(entry)});
  }
}

namespace {

using ::lienthong::v1::Procedure;

// The values of one row after CleanText.
struct CleanRow {
  std::optional<std::string> text[kFieldCount];
  std::vector<std::string> lists[kFieldCount];
  // The field's value (every entry of a list) is usable.
  bool clean[kFieldCount];
};

// Cleans every value of `raw`, adding problems to raw.errors.
void CleanValues(RawRow& raw, CleanRow& row) {
  for (const FieldSpec& spec : kFields) {
    const RawValue& value = raw.values[spec.id];
    row.clean[spec.id] = true;
    if (!spec.list) {
      row.text[spec.id] = CleanText(value.scalar, spec, spec.key, raw.errors);
      row.clean[spec.id] = row.text[spec.id].has_value() && !value.wrong_type;
      continue;
    }
    std::vector<std::string>& list = row.lists[spec.id];
    for (const RawEntry& raw_entry : value.list) {
      std::optional<std::string> entry = CleanText(
          raw_entry.text, spec,
          absl::StrCat(spec.key, " entry ", raw_entry.position), raw.errors);
      if (!entry.has_value()) {
        row.clean[spec.id] = false;
      } else if (!entry->empty()) {
        list.push_back(std::move(*entry));
      }
    }
    if (value.list_entries > static_cast<size_t>(kMaxListEntries)) {
      raw.errors.push_back(absl::StrCat(spec.key, ": ", value.list_entries,
                                        " entries (at most ", kMaxListEntries,
                                        ")"));
      row.clean[spec.id] = false;
    }
  }
}

// Checks the required fields, the code and the level of a cleaned row,
// adding problems to `errors` and setting what is good in `procedure`.
void CheckKeyFields(const CleanRow& row, Procedure& procedure,
                    std::vector<std::string>& errors) {
  if (row.clean[kCode]) {
    const std::string& code = *row.text[kCode];
    if (code.empty()) {
      errors.push_back("missing code");
    } else if (absl::Status status =
                   validation::ValidateProvincialProcedureCode(
                       code, absl::StrCat("malformed code ", Quoted(code)));
               !status.ok()) {
      errors.push_back(std::string(status.message()));
    } else {
      procedure.set_code(code);
    }
  }
  if (row.clean[kName] && row.text[kName]->empty()) {
    errors.push_back("missing name");
  }
  if (row.clean[kLevel]) {
    const std::string& text = *row.text[kLevel];
    if (text.empty()) {
      errors.push_back("missing level (fully_online or partly_online)");
    } else if (auto level = ParseServiceLevel(text); !level.ok()) {
      errors.push_back(absl::StrCat("wrong level ", Quoted(text), ": ",
                                    level.status().message()));
    } else {
      procedure.set_level(*level);
    }
  }
}

// Checks the values of `raw`, adding problems to raw.errors. Returns the
// procedure (meaningful only when raw.errors stays empty).
Procedure ValidateRow(RawRow& raw) {
  Procedure procedure;
  if (raw.unusable) return procedure;
  CleanRow row;
  CleanValues(raw, row);
  CheckKeyFields(row, procedure, raw.errors);
  auto set = [&](FieldId id, void (Procedure::*setter)(const std::string&)) {
    if (row.text[id].has_value()) (procedure.*setter)(*row.text[id]);
  };
  set(kName, &Procedure::set_name);
  set(kField, &Procedure::set_field);
  set(kAuthorityLevel, &Procedure::set_authority_level);
  set(kAgency, &Procedure::set_implementing_agency);
  set(kProcessingTime, &Procedure::set_processing_time);
  set(kFees, &Procedure::set_fees);
  for (std::string& entry : row.lists[kRequiredDocuments]) {
    procedure.add_required_documents(std::move(entry));
  }
  for (std::string& entry : row.lists[kLegalBasis]) {
    procedure.add_legal_basis(std::move(entry));
  }
  return procedure;
}

}  // namespace

Catalogue ValidateRows(CatalogueFormat format, std::vector<RawRow>& rows) {
  Catalogue catalogue;
  catalogue.format = format;
  catalogue.rows = static_cast<int>(rows.size());
  std::vector<Procedure> procedures;
  procedures.reserve(rows.size());
  for (RawRow& raw : rows) procedures.push_back(ValidateRow(raw));

  // Duplicates: every row with a well-formed code takes part, also when the
  // row has other problems, so that fixing those does not reveal new ones.
  std::unordered_map<std::string, int> first_row;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& code = procedures[i].code();
    if (code.empty()) continue;
    auto [it, inserted] = first_row.emplace(code, rows[i].row);
    if (!inserted) {
      rows[i].errors.push_back(absl::StrCat(
          "duplicate code ", code, " (first at row ", it->second, ")"));
    }
  }

  for (size_t i = 0; i < rows.size(); ++i) {
    RawRow& raw = rows[i];
    if (raw.errors.empty()) {
      catalogue.procedures.push_back(std::move(procedures[i]));
      catalogue.procedure_rows.push_back(raw.row);
      continue;
    }
    for (std::string& message : raw.errors) {
      catalogue.errors.push_back(
          {raw.row, format == CatalogueFormat::kJson ? raw.line : 0,
           std::move(message)});
    }
  }
  return catalogue;
}

}  // namespace catalogue_internal

using catalogue_internal::FindInvalidUtf8;
using catalogue_internal::kValid;
using ::lienthong::v1::ServiceLevel;

absl::StatusOr<ServiceLevel> ParseServiceLevel(absl::string_view text) {
  constexpr absl::string_view kExpected =
      "expected fully_online, partly_online, TOAN_TRINH or MOT_PHAN";
  if (FindInvalidUtf8(text) != kValid) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid UTF-8; ", kExpected));
  }
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString folded = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_SUCCESS(status)) folded = nfc->normalize(folded, status);
  if (U_FAILURE(status)) return absl::InternalError("ICU NFC failed");
  folded.foldCase();
  std::string key;
  folded.toUTF8String(key);
  key = std::string(absl::StripAsciiWhitespace(key));
  std::replace(key.begin(), key.end(), '-', '_');
  std::replace(key.begin(), key.end(), ' ', '_');
  if (key == "fully_online" || key == "toan_trinh" || key == "toàn_trình") {
    return lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE;
  }
  if (key == "partly_online" || key == "mot_phan" || key == "một_phần") {
    return lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE;
  }
  return absl::InvalidArgumentError(std::string(kExpected));
}

}  // namespace lienthong::cli
