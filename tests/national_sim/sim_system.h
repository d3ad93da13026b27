// Simulated systems that add themselves from their own files: each is a
// handler behind a path prefix, with a name for its knobs and counters
// (/_sim/knobs, /_sim/stats). A new simulated system is a file under
// tests/national_sim/systems/ (built without a CMake edit) and one line in
// AddedSystems() (sim_systems.cc). SimServer gives it the same fault
// injection (knobs) and counters as the built-in systems.
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_SIM_SYSTEM_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_SIM_SYSTEM_H_

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {

// One simulated system's answers. Handle() runs on the server's loop
// thread, once the knobs have let the request through; it must not block.
class SimSystem {
 public:
  virtual ~SimSystem() = default;
  virtual SimReply Handle(const SimRequest& request, absl::Time now) = 0;
};

struct SimSystemEntry {
  // Its name in knobs and stats, e.g. "business_registry".
  const char* name;
  // The paths it serves start with this, e.g. "/dkkd/".
  const char* path_prefix;
  // Makes the system's state for one SimServer.
  std::unique_ptr<SimSystem> (*make)();
};

// The systems added from their own files, in the order of their System
// values after the built-in ones (knobs.h).
const std::vector<SimSystemEntry>& AddedSystems();

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_SIM_SYSTEM_H_
