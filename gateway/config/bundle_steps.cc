// Checks of a bundle definition's steps (declared in bundle_steps.h).
#include "gateway/config/bundle_steps.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/validation/text.h"

namespace lienthong::config::internal {
namespace {

// Each step's check holds the set of steps it follows: bounded, so that
// checking (at --check, start and every reload) stays small.
constexpr int kMaxBundleSteps = 64;

class StepChecker {
 public:
  StepChecker(const std::function<bool(const std::string&)>& adapter_exists,
              std::vector<ConfigProblem>& problems)
      : adapter_exists_(adapter_exists), problems_(problems) {}

  void Run(const lienthong::config::v1::BundleDefinition& definition,
           const std::string& path);

 private:
  void Problem(std::string path, std::string message) {
    problems_.push_back({std::move(path), std::move(message)});
  }
  void CheckSource(const std::string& path, const std::string& source,
                   const std::set<std::string>& before);

  const std::function<bool(const std::string&)>& adapter_exists_;
  std::vector<ConfigProblem>& problems_;
};

bool IsStepName(absl::string_view name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

// Step names, order, adapters and the sources of inputs.
void StepChecker::Run(const lienthong::config::v1::BundleDefinition& definition,
                      const std::string& path) {
  // Step name -> the steps it follows, directly or not (itself excluded).
  std::map<std::string, std::set<std::string>, std::less<>> earlier;
  if (definition.steps_size() > kMaxBundleSteps) {
    Problem(path + ".steps",
            absl::StrCat("at most ", kMaxBundleSteps, " steps in a bundle"));
    return;
  }
  for (int s = 0; s < definition.steps_size(); ++s) {
    const auto& step = definition.steps(s);
    const std::string step_path = absl::StrCat(path, ".steps[", s, "]");
    if (!IsStepName(step.name())) {
      Problem(step_path + ".name",
              "required: 1 to 40 of a-z, 0-9 and _ (later steps name it)");
    } else if (earlier.count(step.name()) > 0) {
      Problem(step_path + ".name",
              absl::StrCat("'", step.name(), "' names an earlier step too"));
    }
    if (step.adapter().empty()) {
      Problem(step_path + ".adapter",
              "required: the adapter instance that calls the agency");
    } else if (!adapter_exists_(step.adapter())) {
      Problem(step_path + ".adapter",
              absl::StrCat("no adapter named '", step.adapter(), "'"));
    }
    if (step.operation().empty()) {
      Problem(step_path + ".operation",
              "required: one of the adapter's operations");
    }
    // Both go to the portal in the bundle's progress (PhongBanXuLy, the
    // step's note), which refuses what dossier updates may not hold.
    if (step.agency().empty()) {
      Problem(step_path + ".agency",
              "required: the agency as the portal shows it (PhongBanXuLy)");
    } else if (absl::Status s = validation::ValidateText(
                   step.agency(), sync::kMaxHandlerBytes);
               !s.ok()) {
      Problem(step_path + ".agency", std::string(s.message()));
    }
    if (absl::Status s =
            validation::ValidateText(step.title(), sync::kMaxHandlerBytes);
        !s.ok()) {
      Problem(step_path + ".title", std::string(s.message()));
    }
    if (step.deadline_working_days() < 0 ||
        step.deadline_working_days() > 365) {
      Problem(step_path + ".deadline_working_days",
              "must be 0 (no limit of its own) to 365");
    }
    std::set<std::string> before;
    for (int a = 0; a < step.after_size(); ++a) {
      auto it = earlier.find(step.after(a));
      if (it == earlier.end()) {
        Problem(absl::StrCat(step_path, ".after[", a, "]"),
                absl::StrCat("'", step.after(a),
                             "' is not a step listed before this one"));
        continue;
      }
      before.insert(it->first);
      before.insert(it->second.begin(), it->second.end());
    }
    for (const auto& [input, source] : step.inputs()) {
      CheckSource(absl::StrCat(step_path, ".inputs[", input, "]"), source,
                  before);
    }
    if (!step.subject().empty()) {
      CheckSource(step_path + ".subject", step.subject(), before);
    }
    if (IsStepName(step.name()))
      earlier.emplace(step.name(), std::move(before));
  }
}

// "data.<key>" or "steps.<step>.<output>" with <step> one of `before`.
void StepChecker::CheckSource(const std::string& path,
                              const std::string& source,
                              const std::set<std::string>& before) {
  std::vector<std::string> parts = absl::StrSplit(source, '.');
  for (const std::string& part : parts) {
    if (part.empty()) {
      Problem(path, "must be data.<key> or steps.<step>.<output>");
      return;
    }
  }
  if (parts.size() >= 2 && parts[0] == "data") return;
  if (parts.size() == 3 && parts[0] == "steps") {
    if (before.count(parts[1]) == 0) {
      Problem(path,
              absl::StrCat("'", parts[1], "' is not a step this one follows"));
    }
    return;
  }
  Problem(path, absl::StrCat("'", source,
                             "' must be data.<key> or steps.<step>.<output>"));
}

}  // namespace

void CheckBundleSteps(
    const lienthong::config::v1::BundleDefinition& definition,
    const std::string& path,
    const std::function<bool(const std::string&)>& adapter_exists,
    std::vector<ConfigProblem>& problems) {
  StepChecker(adapter_exists, problems).Run(definition, path);
}

}  // namespace lienthong::config::internal
