#include "gateway/sync/procedure_plan.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/proto_util/deterministic.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/validation/codes.h"

namespace lienthong::sync {

using lienthong::v1::ProcedurePlan;

absl::Status ValidateCatalogue(
    const lienthong::v1::SyncProceduresRequest& request) {
  if (request.procedures_size() > kMaxCatalogueSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("procedures: more than ", kMaxCatalogueSize,
                     " in one call; split the catalogue"));
  }
  std::vector<std::string> problems;
  absl::flat_hash_map<std::string, int> first_index;
  for (int i = 0; i < request.procedures_size(); ++i) {
    const lienthong::v1::Procedure& p = request.procedures(i);
    std::string where = absl::StrCat("procedures[", i, "]");
    // Only a well-formed code is echoed: it is public, but garbage is not
    // worth repeating.
    if (validation::IsProcedureCode(p.code())) {
      absl::StrAppend(&where, " (", p.code(), ")");
    }
    if (absl::Status s = ValidateProcedure(p); !s.ok()) {
      problems.push_back(absl::StrCat(where, ": ", s.message()));
      continue;
    }
    auto [it, inserted] = first_index.emplace(p.code(), i);
    if (!inserted) {
      problems.push_back(absl::StrCat(where, ": code repeats procedures[",
                                      it->second, "]"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

std::string ProcedureContentHash(const lienthong::v1::Procedure& procedure) {
  std::string bytes;
  proto_util::AppendDeterministic(procedure, &bytes);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::vector<ProcedurePlan> ComputePlan(
    const std::vector<CatalogueEntry>& catalogue,
    const absl::flat_hash_map<std::string, std::string>& current,
    bool withdraw_missing) {
  std::vector<ProcedurePlan> plan;
  plan.reserve(catalogue.size());
  absl::flat_hash_set<std::string> in_catalogue;
  for (const CatalogueEntry& entry : catalogue) {
    in_catalogue.insert(entry.code);
    ProcedurePlan& step = plan.emplace_back();
    step.set_code(entry.code);
    auto it = current.find(entry.code);
    if (it == current.end()) {
      step.set_action(ProcedurePlan::CREATE);
    } else if (it->second != entry.hash) {
      step.set_action(ProcedurePlan::UPDATE);
    } else {
      step.set_action(ProcedurePlan::UNCHANGED);
    }
  }
  if (withdraw_missing) {
    std::vector<std::string> withdrawn;
    for (const auto& [code, hash] : current) {
      if (!in_catalogue.contains(code)) withdrawn.push_back(code);
    }
    std::sort(withdrawn.begin(), withdrawn.end());
    for (std::string& code : withdrawn) {
      ProcedurePlan& step = plan.emplace_back();
      step.set_code(std::move(code));
      step.set_action(ProcedurePlan::WITHDRAW);
    }
  }
  return plan;
}

}  // namespace lienthong::sync
