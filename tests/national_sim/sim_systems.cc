// The one list of simulated systems added from their own files
// (sim_system.h): one line each.
#include "tests/national_sim/sim_system.h"
#include "tests/national_sim/systems/business_registry.h"

namespace lienthong::sim {

const std::vector<SimSystemEntry>& AddedSystems() {
  static const auto* const kSystems = new std::vector<SimSystemEntry>{
      BusinessRegistrySystem(),
  };
  return *kSystems;
}

}  // namespace lienthong::sim
