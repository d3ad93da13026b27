// Internal to the outbox (gateway/sync/outbox*.cc): small conversions its
// files share. Not for use outside them. The database is reached through
// gateway/storage (storage::Database, Statement, Transaction).
#ifndef LIENTHONG_GATEWAY_SYNC_OUTBOX_INTERNAL_H_
#define LIENTHONG_GATEWAY_SYNC_OUTBOX_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/sync/outbox.h"
#include "google/protobuf/timestamp.pb.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync {
namespace outbox_internal {

// Times in the store are Unix microseconds.
inline int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// The key of an item's queue in KeyQueues: "<p|d><code>".
inline std::string MapKey(ItemKind kind, absl::string_view code) {
  return absl::StrCat(kind == ItemKind::kProcedure ? "p" : "d", code);
}

// A dossier update's identity for duplicate detection:
// "MaHoSo|status|seconds.nanos".
inline std::string DedupKey(const lienthong::v1::DossierStatusUpdate& u) {
  return absl::StrCat(u.dossier_code(), "|", static_cast<int>(u.status()), "|",
                      u.time().seconds(), ".", u.time().nanos());
}

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  ts.set_seconds(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
  ts.set_nanos(static_cast<int32_t>((us - ts.seconds() * 1000000) * 1000));
  return ts;
}

// Sorts `ids` and drops repeats (job ids for a JobListener).
inline void SortUnique(std::vector<std::string>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

}  // namespace outbox_internal

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_OUTBOX_INTERNAL_H_
