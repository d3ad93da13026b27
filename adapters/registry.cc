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

std::unique_ptr<google::protobuf::Message> AdapterRegistry::EmptyConfigFor(
    absl::string_view type) const {
  const AdapterFactory* factory = Find(type);
  return factory == nullptr ? nullptr : factory->CreateEmptyConfig();
}

absl::StatusOr<std::unique_ptr<Adapter>> AdapterRegistry::Create(
    const lienthong::config::v1::AdapterInstance& instance,
    const AdapterContext& context) const {
  const AdapterFactory* factory = Find(instance.type());
  if (factory == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown adapter type '", instance.type(), "'"));
  }
  std::unique_ptr<google::protobuf::Message> typed =
      factory->CreateEmptyConfig();
  if (!instance.config().UnpackTo(typed.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat("config is not a ", typed->GetDescriptor()->full_name()));
  }
  return factory->Create(*typed, context);
}

std::vector<std::string> AdapterRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

}  // namespace lienthong::adapters
