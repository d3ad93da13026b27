// google.protobuf.Timestamp <-> absl::Time at microsecond precision, the
// precision the bundle store keeps. Thread-safe.
#ifndef LIENTHONG_GATEWAY_BUNDLE_PROTO_TIME_H_
#define LIENTHONG_GATEWAY_BUNDLE_PROTO_TIME_H_

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace lienthong::bundle {

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  int64_t seconds = us / 1000000;
  int64_t micros = us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(micros * 1000));
  return ts;
}

inline absl::Time FromProtoTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// Whether `ts` was set (the zero Timestamp means "not yet").
inline bool IsSet(const google::protobuf::Timestamp& ts) {
  return ts.seconds() != 0 || ts.nanos() != 0;
}

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_PROTO_TIME_H_
