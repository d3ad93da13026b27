#include "gateway/resilience/clock.h"

namespace lienthong::resilience {
namespace {

class AbslClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* RealClock() {
  static Clock* const clock = new AbslClock();
  return clock;
}

}  // namespace lienthong::resilience
