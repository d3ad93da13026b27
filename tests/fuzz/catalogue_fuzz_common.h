// What both catalogue fuzz targets check of ParseCatalogue: it answers, the
// good rows it returns are valid by the file's own rules, every row error
// formats, and the counts add up.
#ifndef LIENTHONG_TESTS_FUZZ_CATALOGUE_FUZZ_COMMON_H_
#define LIENTHONG_TESTS_FUZZ_CATALOGUE_FUZZ_COMMON_H_

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
  FUZZ_CHECK(static_cast<int>(catalogue->procedures.size()) <= catalogue->rows);
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
