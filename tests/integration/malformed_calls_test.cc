// 10,000 malformed calls from an independent client (grpc-js, npm; installed
// under tests/interop by scripts/install-deps.sh) against the real gateway
// over mutual TLS: random bytes, truncated requests, wrong wire types,
// invalid UTF-8, 10,000-path masks, 1 MB strings, 7 KiB of metadata,
// unknown methods. Every one is answered with a precise code within its
// deadline, none UNKNOWN, each is counted in lienthong_calls_total, and
// memory stays bounded.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/gateway_env.h"
#include "tests/testing/subprocess.h"

namespace lienthong::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The sum of lienthong_calls_total over the samples of `client`.
double CallsOf(const std::string& metrics, const std::string& client) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, "lienthong_calls_total{") ||
        !absl::StrContains(line, absl::StrCat("client=\"", client, "\""))) {
      continue;
    }
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) sum += value;
  }
  return sum;
}

// This process's resident memory, KiB (the gateway runs in it).
long RssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      long kib = 0;
      std::istringstream(line.substr(6)) >> kib;
      return kib;
    }
  }
  return -1;
}

TEST(MalformedCallsTest, TenThousandMalformedCallsFromGrpcJsAreAnsweredPrecisely) {
  const std::string script = SourcePath("tests/interop/malformed_calls.js");
  if (!std::ifstream(SourcePath("tests/interop/node_modules/@grpc/grpc-js/package.json"))) {
    GTEST_SKIP() << "@grpc/grpc-js is not installed (scripts/install-deps.sh "
                    "runs npm ci in tests/interop): no grpc-js client";
  }
  EnvOptions options;
  options.customize = [](lienthong::config::v1::GatewayConfig& config) {
    for (auto& client : *config.mutable_clients()) {
      if (client.id() != ClientId("dossier-system")) continue;
      client.mutable_rate_limit()->set_requests_per_second(100000);
      client.mutable_rate_limit()->set_burst(100000);
    }
  };
  auto env = GatewayEnv::Start(options);
  ASSERT_TRUE(env.ok()) << env.status();
  const std::string client = ClientId("dossier-system");
  const double calls_before =
      CallsOf((*env)->gateway().metrics_registry().Render(), client);
  const long rss_before = RssKib();

  const std::string command = absl::StrCat(
      "timeout 600 node ", script, " --port ", (*env)->port(), " --certs ",
      TestCertDir(), " --client dossier-system --calls 10000 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof(chunk), pipe)) {
    output.append(chunk, n);
  }
  ASSERT_EQ(::pclose(pipe), 0) << output;
  std::printf("grpc-js: %s", output.c_str());
  const long rss_after = RssKib();
  std::printf("RSS of the gateway's process: %ld -> %ld KiB\n", rss_before,
              rss_after);

  EXPECT_THAT(output, HasSubstr("\"calls\":10000"));
  EXPECT_THAT(output, HasSubstr("\"overran\":0"));
  EXPECT_THAT(output, Not(HasSubstr("UNKNOWN")));
  EXPECT_THAT(output, Not(HasSubstr("INTERNAL")));
  EXPECT_THAT(output, Not(HasSubstr("DEADLINE_EXCEEDED")));
  EXPECT_THAT(output, Not(HasSubstr("UNAVAILABLE")));
  // Precise: parse failures, bounds and validation are INVALID_ARGUMENT,
  // unknown methods UNIMPLEMENTED: 1,250 of each of the 8 kinds.
  EXPECT_THAT(output, HasSubstr("\"codes\":{"));
  EXPECT_THAT(output, HasSubstr("\"unknown_method\":{\"UNIMPLEMENTED\":1250}"));
  for (const char* kind :
       {"random_bytes", "truncated", "wrong_wire_type", "invalid_utf8",
        "mask_10000_paths", "string_1mb", "metadata_7kib"}) {
    EXPECT_THAT(output, HasSubstr(absl::StrCat("\"", kind,
                                               "\":{\"INVALID_ARGUMENT\":1250}")))
        << kind;
  }
  // Each counted (the access log and audit record come from the same place).
  EXPECT_EQ(CallsOf((*env)->gateway().metrics_registry().Render(), client) -
                calls_before,
            10000);
  // Bounded: 1,250 requests of 1 MB went through; memory is reused.
  EXPECT_LT(rss_after - rss_before, 512 * 1024);
}

}  // namespace
}  // namespace lienthong::testing
