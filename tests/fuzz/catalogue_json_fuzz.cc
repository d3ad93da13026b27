// The catalogue JSON reader (gateway/cli/catalogue.cc, ParseCatalogue).
#include "tests/fuzz/catalogue_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lienthong::fuzz::CheckCatalogue(data, size, lienthong::cli::CatalogueFormat::kJson);
  return 0;
}
