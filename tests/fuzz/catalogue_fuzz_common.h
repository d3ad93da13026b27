// What both catalogue fuzz targets check of ParseCatalogue: it answers, the
// good rows it returns are valid by the file's own rules, every row error
// formats, and the counts add up: each row read is good or bad, in order.
#ifndef LIENTHONG_TESTS_FUZZ_CATALOGUE_FUZZ_COMMON_H_
#define LIENTHONG_TESTS_FUZZ_CATALOGUE_FUZZ_COMMON_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "gateway/cli/catalogue.h"
#include "gateway/validation/codes.h"
#include "tests/fuzz/fuzz_check.h"

namespace lienthong::fuzz {

inline void CheckCatalogue(const uint8_t* data, size_t size,
                           cli::CatalogueFormat format) {
  const absl::string_view contents(reinterpret_cast<const char*>(data), size);
  auto catalogue = cli::ParseCatalogue(contents, format);
  if (!catalogue.ok()) {
    FUZZ_CHECK(catalogue.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(catalogue->procedures.size() == catalogue->procedure_rows.size());
  // Every row read is either good or bad, never both, never neither.
  FUZZ_CHECK(static_cast<int>(catalogue->procedures.size()) +
                 catalogue->BadRowCount() ==
             catalogue->rows);
  // Good rows in file order; errors ordered by row; no good row has one.
  for (size_t i = 1; i < catalogue->procedure_rows.size(); ++i) {
    FUZZ_CHECK(catalogue->procedure_rows[i - 1] < catalogue->procedure_rows[i]);
  }
  for (size_t i = 1; i < catalogue->errors.size(); ++i) {
    FUZZ_CHECK(catalogue->errors[i - 1].row <= catalogue->errors[i].row);
  }
  for (const auto& error : catalogue->errors) {
    FUZZ_CHECK(error.row >= 1);
    FUZZ_CHECK(!std::binary_search(catalogue->procedure_rows.begin(),
                                   catalogue->procedure_rows.end(), error.row));
  }
  for (const auto& procedure : catalogue->procedures) {
    FUZZ_CHECK(
        validation::ValidateProvincialProcedureCode(procedure.code(), "code")
            .ok());
    FUZZ_CHECK(!procedure.name().empty());
  }
  for (const auto& error : catalogue->errors) {
    FUZZ_CHECK(!cli::FormatCatalogueRowError(error).empty());
  }
}

}  // namespace lienthong::fuzz

#endif  // LIENTHONG_TESTS_FUZZ_CATALOGUE_FUZZ_COMMON_H_
