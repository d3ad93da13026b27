#include "gateway/bundle/definitions.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/bundle/bundle_data.h"
#include "gateway/config/config_error.h"

namespace lienthong::bundle {
namespace {

using lienthong::config::v1::BundleDefinition;

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

absl::Status Problem(const std::string& field, std::string message) {
  return config::AtConfigField(
      field, absl::InvalidArgumentError(absl::StrCat(field, ": ", message)));
}

class DefinitionChecker {
 public:
  DefinitionChecker(const BundleDefinition& definition, std::string path,
                    const StepInvoker& invoker)
      : definition_(definition), path_(std::move(path)), invoker_(invoker) {
    lienthong::v1::BundleKind kind = lienthong::v1::BUNDLE_KIND_UNSPECIFIED;
    lienthong::v1::BundleKind_Parse(definition.kind(), &kind);
    data_keys_ = DataKeys(kind);
  }

  absl::Status Check() {
    for (int s = 0; s < definition_.steps_size(); ++s) {
      const auto& step = definition_.steps(s);
      const std::string path = absl::StrCat(path_, ".steps[", s, "]");
      absl::StatusOr<std::vector<adapters::StepOperation>> ops =
          invoker_.Operations(step.adapter());
      if (!ops.ok()) {
        return Problem(path + ".adapter",
                       absl::StrCat("adapter '", step.adapter(),
                                    "' cannot take bundle steps: ",
                                    ops.status().message()));
      }
      const adapters::StepOperation* op = FindOperation(*ops, step.operation());
      if (op == nullptr) {
        std::vector<std::string> names;
        for (const auto& o : *ops) names.push_back(o.name);
        return Problem(path + ".operation",
                       absl::StrCat("adapter '", step.adapter(), "' has no '",
                                    step.operation(), "' (it has ",
                                    absl::StrJoin(names, ", "), ")"));
      }
      for (const std::string& required : op->required_inputs) {
        if (step.inputs().count(required) == 0) {
          return Problem(path + ".inputs",
                         absl::StrCat("'", required, "', which ",
                                      step.operation(), " requires, is not mapped"));
        }
      }
      for (const auto& [input, source] : step.inputs()) {
        const std::string field = absl::StrCat(path, ".inputs[", input, "]");
        if (!Contains(op->required_inputs, input) &&
            !Contains(op->optional_inputs, input)) {
          return Problem(field, absl::StrCat("'", step.operation(),
                                             "' takes no input '", input, "'"));
        }
        if (absl::Status s = CheckSource(field, source); !s.ok()) return s;
      }
      if (!step.subject().empty()) {
        if (absl::Status s = CheckSource(path + ".subject", step.subject());
            !s.ok()) {
          return s;
        }
      }
      outputs_[step.name()] = op->outputs;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status CheckSource(const std::string& field, const std::string& source) {
    std::vector<std::string> parts = absl::StrSplit(source, absl::MaxSplits('.', 1));
    if (parts[0] == "data") {
      if (!Contains(data_keys_, parts[1])) {
        return Problem(field, absl::StrCat("'", parts[1],
                                           "' is not a data key of a ",
                                           definition_.kind(), " bundle (",
                                           absl::StrJoin(data_keys_, ", "), ")"));
      }
      return absl::OkStatus();
    }
    std::vector<std::string> step = absl::StrSplit(parts[1], '.');
    auto outputs = outputs_.find(step[0]);
    if (outputs == outputs_.end() || !Contains(outputs->second, step[1])) {
      return Problem(field, absl::StrCat("step '", step[0], "' gives no output '",
                                         step[1], "'"));
    }
    return absl::OkStatus();
  }

  const BundleDefinition& definition_;
  const std::string path_;
  const StepInvoker& invoker_;
  std::vector<std::string> data_keys_;
  // Outputs of the steps checked so far.
  std::map<std::string, std::vector<std::string>> outputs_;
};

}  // namespace

absl::Status CheckDefinitions(const lienthong::config::v1::Bundles& bundles,
                              const StepInvoker& invoker) {
  for (int i = 0; i < bundles.definitions_size(); ++i) {
    DefinitionChecker checker(bundles.definitions(i),
                              absl::StrCat("bundles.definitions[", i, "]"),
                              invoker);
    if (absl::Status s = checker.Check(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::map<lienthong::v1::BundleKind, BundleDefinition> DefinitionsByKind(
    const lienthong::config::v1::Bundles& bundles) {
  std::map<lienthong::v1::BundleKind, BundleDefinition> by_kind;
  for (const BundleDefinition& definition : bundles.definitions()) {
    lienthong::v1::BundleKind kind = lienthong::v1::BUNDLE_KIND_UNSPECIFIED;
    if (lienthong::v1::BundleKind_Parse(definition.kind(), &kind)) {
      by_kind[kind] = definition;
    }
  }
  return by_kind;
}

std::vector<std::string> StepNames(const lienthong::config::v1::Bundles& bundles) {
  std::set<std::string> names;
  for (const auto& definition : bundles.definitions()) {
    for (const auto& step : definition.steps()) names.insert(step.name());
  }
  return {names.begin(), names.end()};
}

}  // namespace lienthong::bundle
