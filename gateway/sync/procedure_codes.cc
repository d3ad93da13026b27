#include "gateway/sync/procedure_codes.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/validation/codes.h"

namespace lienthong::sync {

absl::Status ValidateProcedureCodeMappings(
    const ProcedureCodeMappings& mappings) {
  absl::flat_hash_map<std::string, int> seen;
  for (int i = 0; i < mappings.size(); ++i) {
    const auto& m = mappings[i];
    const std::string at = absl::StrCat("procedure_codes[", i, "]");
    if (absl::Status s = validation::ValidateProcedureCode(
            m.local(), absl::StrCat(at, ".local"));
        !s.ok()) {
      return s;
    }
    if (!validation::IsNationalProcedureCode(m.national())) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ".national: must be a national code <digit>.<6 digits>, e.g. "
              "1.001193"));
    }
    if (auto [it, inserted] = seen.emplace(m.local(), i); !inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".local: '", m.local(),
                       "' is already mapped by procedure_codes[", it->second,
                       "]"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ProcedureCodeMap> ProcedureCodeMap::Create(
    const ProcedureCodeMappings& mappings) {
  if (absl::Status s = ValidateProcedureCodeMappings(mappings); !s.ok()) {
    return s;
  }
  ProcedureCodeMap map;
  for (const auto& m : mappings) map.explicit_[m.local()] = m.national();
  return map;
}

std::string ProcedureCodeMap::National(absl::string_view code) const {
  if (auto it = explicit_.find(code); it != explicit_.end()) return it->second;
  return std::string(code.substr(0, 8));
}

}  // namespace lienthong::sync
