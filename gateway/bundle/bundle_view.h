// The public view of a bundle (lienthong.v1.Bundle): its stored state, the
// live state of steps being retried (attempts, last error), and deadlines
// computed with the current calendar, so that a changed holiday file moves
// them. The bundle's data (personal data the steps were given) is not in
// the view; the steps' outputs (certificate numbers, the child's new ID)
// are, as they are the bundle's results.
#ifndef LIENTHONG_GATEWAY_BUNDLE_BUNDLE_VIEW_H_
#define LIENTHONG_GATEWAY_BUNDLE_BUNDLE_VIEW_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gateway/bundle/bundle_record.pb.h"
#include "gateway/calendar/working_calendar.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::bundle {

// What the orchestrator knows of a step beyond the store.
struct StepLiveInfo {
  int attempts = 0;
  std::string last_error;
};

// Returns the view of `bundle` at `now`; `live` is indexed like its steps
// (may be empty). Thread-safe.
lienthong::v1::Bundle ViewOf(const internal::StoredBundle& bundle,
                             const std::vector<StepLiveInfo>& live,
                             const calendar::WorkingCalendar& calendar,
                             absl::Time now);

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_BUNDLE_VIEW_H_
