// Catalogue files: the keys and columns, and reading a whole file
// (declared in catalogue.h); the parsers and the row validation are in the
// files catalogue_rows.h lists.
#include "gateway/cli/catalogue.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gateway/cli/catalogue_rows.h"
#include "gateway/cli/read_file.h"

namespace lienthong::cli {
namespace catalogue_internal {

const FieldSpec* FindField(absl::string_view name, bool ignore_case) {
  for (const FieldSpec& spec : kFields) {
    if (ignore_case ? (absl::EqualsIgnoreCase(name, spec.key) ||
                       absl::EqualsIgnoreCase(name, spec.portal_key))
                    : (name == spec.key || name == spec.portal_key)) {
      return &spec;
    }
  }
  return nullptr;
}

std::string KnownNames() {
  std::vector<std::string> names;
  for (const FieldSpec& spec : kFields) names.push_back(spec.key);
  return absl::StrJoin(names, ", ");
}

std::string TooManyRows() {
  return absl::StrCat("more than ", kMaxCatalogueRows,
                      " procedures, the most the gateway takes in one "
                      "catalogue");
}

}  // namespace catalogue_internal

namespace {

constexpr size_t kMaxFileBytes = size_t{64} << 20;

}  // namespace

int Catalogue::BadRowCount() const {
  std::set<int> bad;
  for (const CatalogueRowError& error : errors) bad.insert(error.row);
  return static_cast<int>(bad.size());
}

absl::StatusOr<CatalogueFormat> CatalogueFormatFromPath(
    absl::string_view path) {
  if (absl::EndsWithIgnoreCase(path, ".json")) return CatalogueFormat::kJson;
  if (absl::EndsWithIgnoreCase(path, ".csv")) return CatalogueFormat::kCsv;
  return absl::InvalidArgumentError(
      "a catalogue file must end in .json or .csv");
}

absl::StatusOr<Catalogue> ParseCatalogue(absl::string_view contents,
                                         CatalogueFormat format) {
  if (absl::StartsWith(contents, "\xFF\xFE") ||
      absl::StartsWith(contents, "\xFE\xFF")) {
    return absl::InvalidArgumentError(
        "the file is UTF-16; save it as UTF-8 (\"CSV UTF-8\" in a "
        "spreadsheet)");
  }
  absl::ConsumePrefix(&contents, "\xEF\xBB\xBF");
  std::vector<catalogue_internal::RawRow> rows;
  absl::Status status = format == CatalogueFormat::kJson
                            ? catalogue_internal::ReadJsonRows(contents, rows)
                            : catalogue_internal::ReadCsvRows(contents, rows);
  if (!status.ok()) return status;
  if (rows.empty()) {
    return absl::InvalidArgumentError("the file holds no procedures");
  }
  return catalogue_internal::ValidateRows(format, rows);
}

absl::StatusOr<Catalogue> ReadCatalogueFile(const std::string& path) {
  absl::StatusOr<CatalogueFormat> format = CatalogueFormatFromPath(path);
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", format.status().message()));
  }
  absl::StatusOr<std::string> contents = ReadFileAtMost(path, kMaxFileBytes);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat(path, ": ", contents.status().message()));
  }
  absl::StatusOr<Catalogue> catalogue = ParseCatalogue(*contents, *format);
  if (!catalogue.ok()) {
    return absl::Status(catalogue.status().code(),
                        absl::StrCat(path, ": ", catalogue.status().message()));
  }
  return catalogue;
}

std::string FormatCatalogueRowError(const CatalogueRowError& error) {
  if (error.line > 0) {
    return absl::StrCat("row ", error.row, " (line ", error.line,
                        "): ", error.message);
  }
  return absl::StrCat("row ", error.row, ": ", error.message);
}

}  // namespace lienthong::cli
