// 10,000 malformed calls from an independent client (grpc-js, npm; installed
// under tests/interop by scripts/install-deps.sh) against the real gateway
// over mutual TLS: random bytes, truncated requests, wrong wire types,
// invalid UTF-8, 10,000-path masks, 1 MB strings, 7 KiB of metadata,
// unknown methods. Every one is answered with a precise code within its
// deadline, none UNKNOWN, each is counted in lienthong_calls_total, and
// memory stays bounded. And header blocks over max_metadata_bytes are
// refused without harm to other connections.
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

using ::testing::ContainsRegex;
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

// Runs `node ARGS` (at most 600 s) and returns what it printed; a failed
// run fails the test and returns what it printed so far.
std::string RunNode(const std::string& args) {
  const std::string command = absl::StrCat("timeout 600 node ", args, " 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run node";
    return "";
  }
  std::string output;
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof(chunk), pipe)) {
    output.append(chunk, n);
  }
  EXPECT_EQ(::pclose(pipe), 0) << output;
  return output;
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

  const std::string output = RunNode(
      absl::StrCat(script, " --port ", (*env)->port(), " --certs ",
                   TestCertDir(), " --client dossier-system --calls 10000"));
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

// Header blocks over max_metadata_bytes (16 KiB): one 20 KiB header, one
// 1 MiB header, 2,000 small ones. Each is refused RESOURCE_EXHAUSTED by gRPC
// before any call exists; the same client can call again afterwards (on a
// new connection: gRPC closes the one that carried the block), and another
// connection's calls meanwhile are all answered as usual.
TEST(MalformedCallsTest,
     OversizedHeaderBlocksFromGrpcJsAreRefusedAndHarmNoOtherConnection) {
  const std::string script = SourcePath("tests/interop/oversized_metadata.js");
  if (!std::ifstream(SourcePath(
          "tests/interop/node_modules/@grpc/grpc-js/package.json"))) {
    GTEST_SKIP() << "@grpc/grpc-js is not installed (scripts/install-deps.sh "
                    "runs npm ci in tests/interop): no grpc-js client";
  }
  auto env = GatewayEnv::Start(EnvOptions());
  ASSERT_TRUE(env.ok()) << env.status();
  const std::string output =
      RunNode(absl::StrCat(script, " --port ", (*env)->port(), " --certs ",
                           TestCertDir(), " --client dossier-system"));
  std::printf("grpc-js: %s", output.c_str());

  EXPECT_THAT(output, HasSubstr("\"offender\":[\"none:INVALID_ARGUMENT\","
                                "\"one_20kib_header:RESOURCE_EXHAUSTED\","
                                "\"none:INVALID_ARGUMENT\","
                                "\"one_1mib_header:RESOURCE_EXHAUSTED\","
                                "\"none:INVALID_ARGUMENT\","
                                "\"2000_small_headers:RESOURCE_EXHAUSTED\","
                                "\"none:INVALID_ARGUMENT\"]"));
  // The other connection: only the gateway's own answer, never a failure.
  EXPECT_THAT(output, ContainsRegex(
                          "\"bystander\":\\{\"INVALID_ARGUMENT\":[0-9]+\\},"));
  EXPECT_THAT(output, Not(HasSubstr("DEADLINE_EXCEEDED")));
}

}  // namespace
}  // namespace lienthong::testing
