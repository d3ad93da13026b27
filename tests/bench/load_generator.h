// LoadGenerator: an asynchronous gRPC client that keeps N calls in flight
// (closed loop) or starts calls at a fixed rate (open loop) against the
// lienthong.v1 API, checks every call's status, and reports throughput,
// latency percentiles, errors by code and its own CPU time.
#ifndef LIENTHONG_TESTS_BENCH_LOAD_GENERATOR_H_
#define LIENTHONG_TESTS_BENCH_LOAD_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "lienthong/v1/common.pb.h"
#include "tests/testing/test_officer.h"

namespace lienthong::bench {

struct LoadOptions {
  // "lookup" (PopulationService/LookupCitizen) or "verify".
  std::string method = "lookup";
  // Closed loop: calls kept in flight. Ignored when rate > 0.
  int concurrency = 1;
  // Open loop: calls started per second (0 = closed loop).
  double rate = 0;
  // Stop after this many calls, or after `duration`, whichever first.
  int64_t total_calls = 0;
  absl::Duration duration = absl::Seconds(10);
  // Per-call deadline.
  absl::Duration deadline = absl::Seconds(10);
  // Calls before measuring starts (not counted).
  int64_t warmup_calls = 0;
  // The purpose and fields sent with lookups.
  std::string purpose = "1.001193";
  std::vector<std::string> fields = {"name", "birth_date"};
  // The officer every call is made for (synthetic).
  lienthong::v1::Officer officer = lienthong::testing::TestOfficer();
};

struct LoadResult {
  int64_t calls = 0;
  int64_t ok = 0;
  std::map<std::string, int64_t> errors_by_code;
  double seconds = 0;
  double calls_per_second = 0;
  // Microseconds.
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  // This process's CPU (user + system) per call, microseconds.
  double client_cpu_us_per_call = 0;

  // One line of key=value pairs.
  std::string Summary() const;
};

// Runs the load on `channel` and returns the figures. Blocks until done.
// Thread-safe to call from one thread at a time.
LoadResult RunLoad(const std::shared_ptr<grpc::Channel>& channel,
                   const LoadOptions& options);

// A valid synthetic citizen ID that the simulator finds, varying with `n`.
std::string SyntheticCitizenId(int64_t n);

}  // namespace lienthong::bench

#endif  // LIENTHONG_TESTS_BENCH_LOAD_GENERATOR_H_
