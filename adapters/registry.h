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

namespace lienthong::adapters {

class AdapterRegistry {
 public:
  // Adds a factory. Fails with ALREADY_EXISTS when the name is taken.
  absl::Status Register(std::unique_ptr<AdapterFactory> factory);
  // Returns the factory for `type`, or nullptr.
  const AdapterFactory* Find(absl::string_view type) const;
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
