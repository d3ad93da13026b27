#include "adapters/registry.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace lienthong::adapters {

absl::Status AdapterRegistry::Register(
    std::unique_ptr<AdapterFactory> factory) {
  std::string name(factory->name());
  auto [it, inserted] = factories_.emplace(name, std::move(factory));
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("adapter type '", name, "' registered twice"));
  }
  return absl::OkStatus();
}

const AdapterFactory* AdapterRegistry::Find(absl::string_view type) const {
  auto it = factories_.find(type);
  return it == factories_.end() ? nullptr : it->second.get();
}

std::vector<std::string> AdapterRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

}  // namespace lienthong::adapters
