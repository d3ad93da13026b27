// RefusalCoalescer: keeps a flood of refused calls from filling the audit
// journal. Refused calls (refusals() below) from one caller to one method
// with one outcome are grouped in windows of one second: the first of a
// window is written as a record of its own (and its answer waits for it, as
// any call's), the others are only counted, and when the window ends one
// REFUSALS_COALESCED record carries their count. Allowed calls, and calls
// that reached a national system, are never coalesced.
//
// Not thread-safe: AuditLog calls it under its own lock.
#ifndef LIENTHONG_GATEWAY_AUDIT_REFUSALS_H_
#define LIENTHONG_GATEWAY_AUDIT_REFUSALS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

class RefusalCoalescer {
 public:
  // At most `max_windows` windows are open at once; refusals beyond them
  // are written one by one.
  explicit RefusalCoalescer(size_t max_windows = 4096,
                            absl::Duration window = absl::Seconds(1))
      : max_windows_(max_windows), window_(window) {}

  // True for a record of a call the gateway refused before any national
  // system was called: outcome UNAUTHENTICATED, PERMISSION_DENIED,
  // RESOURCE_EXHAUSTED, INVALID_ARGUMENT or UNIMPLEMENTED, no national
  // system, no attempt. An AuditService call refused for what it asked
  // (PERMISSION_DENIED, INVALID_ARGUMENT) is kept whole; one refused for
  // the caller itself (over its rate limit, not authenticated) is coalesced
  // like any other, so that a flood of them is bounded.
  static bool IsRefusal(const lienthong::v1::AuditRecord& record);

  // Offers a record made at `now`: returns true when it was counted in an
  // open window (nothing to write), false when it must be written (a
  // refusal then opens a window).
  bool Offer(const lienthong::v1::AuditRecord& record, absl::Time now);

  // Closes the windows that ended by `now` (all of them with
  // InfiniteFuture) and returns a REFUSALS_COALESCED record for each that
  // counted calls. `coalesced` grows by the calls they stand for.
  std::vector<lienthong::v1::AuditRecord> TakeEnded(absl::Time now);

  // When the earliest open window ends; InfiniteFuture when none is open.
  absl::Time NextEnd() const;

  // Calls counted into REFUSALS_COALESCED records so far.
  uint64_t coalesced() const { return coalesced_; }

 private:
  struct Window {
    absl::Time start;
    lienthong::v1::AuditRecord first;  // who, what: the written record
    uint64_t count = 0;
    absl::Time first_counted;
    absl::Time last_counted;
  };

  const size_t max_windows_;
  const absl::Duration window_;
  absl::flat_hash_map<std::string, Window> windows_;
  uint64_t coalesced_ = 0;
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_REFUSALS_H_
