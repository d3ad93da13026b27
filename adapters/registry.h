// AdapterRegistry: adapter type name -> factory. Filled explicitly by
// RegisterBuiltinAdapters() (no static-initialiser registration, which breaks
// in static libraries).
#ifndef LIENTHONG_ADAPTERS_REGISTRY_H_
#define LIENTHONG_ADAPTERS_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "adapters/adapter.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::adapters {

class AdapterRegistry {
 public:
  // Adds a factory. Fails with ALREADY_EXISTS when the name is taken.
  absl::Status Register(std::unique_ptr<AdapterFactory> factory);
  // Returns the factory for `type`, or nullptr.
  const AdapterFactory* Find(absl::string_view type) const;
  // Returns an empty config message of adapter type `type`, or nullptr when
  // no factory has that name: what the config loader parses an adapter's
  // `config` into (its AdapterConfigResolver).
  std::unique_ptr<google::protobuf::Message> EmptyConfigFor(
      absl::string_view type) const;
  // Creates the adapter `instance` describes through its type's factory.
  // Fails with INVALID_ARGUMENT for an unknown type or a config of another
  // message type (which the config's validation reports first), and with
  // the factory's error, its message unchanged. Thread-safe.
  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const lienthong::config::v1::AdapterInstance& instance,
      const AdapterContext& context) const;
  // Registered type names, sorted.
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::unique_ptr<AdapterFactory>, std::less<>>
      factories_;
};

// Registers every adapter built into this binary: the one list to extend
// when a new national system is added.
void RegisterBuiltinAdapters(AdapterRegistry& registry);

}  // namespace lienthong::adapters

#endif  // LIENTHONG_ADAPTERS_REGISTRY_H_
