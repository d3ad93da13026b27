// A TLS scan of the real gateway's listener with testssl.sh (Debian package
// testssl.sh, installed by scripts/install-deps.sh; the test is skipped with
// a message when it is absent): TLS 1.2 and 1.3 only, and only AEAD cipher
// suites with forward secrecy, even when GRPC_SSL_CIPHER_SUITES asks for a
// weak one.
//
// The listener requires a client certificate. Debian's testssl.sh 3.0.8 has
// no --mtls option (later versions do), so its OpenSSL is a wrapper that
// adds the client certificate to every `openssl s_client -connect` it runs;
// its own socket probes need no certificate (they read the ServerHello,
// which comes before the server asks for one). That the wrapper works is
// checked: a session ticket, which the server issues only after a complete
// mutual handshake, is seen.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/integration/gateway_env.h"  // NewTestDir
#include "tests/integration/gateway_process.h"

namespace lienthong::testing {
namespace {

using ::testing::HasSubstr;

// The testssl.sh program on PATH ("testssl" in Debian), or "".
std::string FindTestssl() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "", ':')) {
    for (const char* name : {"testssl", "testssl.sh"}) {
      std::string candidate = absl::StrCat(dir, "/", name);
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

// id -> finding, from testssl's flat JSON (an array of objects).
std::map<std::string, std::string> Findings(const std::string& json) {
  google::protobuf::ListValue list;
  std::map<std::string, std::string> findings;
  auto status = google::protobuf::util::JsonStringToMessage(json, &list);
  EXPECT_TRUE(status.ok()) << status;
  for (const auto& item : list.values()) {
    const auto& fields = item.struct_value().fields();
    auto id = fields.find("id");
    auto finding = fields.find("finding");
    if (id != fields.end() && finding != fields.end()) {
      findings[id->second.string_value()] = finding->second.string_value();
    }
  }
  return findings;
}

TEST(TlsScanTest, OnlyTls12And13WithAeadSuitesWithForwardSecrecy) {
  const std::string testssl = FindTestssl();
  if (testssl.empty()) {
    GTEST_SKIP() << "testssl.sh is not installed (scripts/install-deps.sh "
                    "installs Debian's testssl.sh): no TLS scan";
  }
  // Removed when the program exits, whether the test passed or not.
  const std::string dir = NewTestDir("tls-scan");

  // A weak suite asked for through the environment must not be offered.
  setenv("GRPC_SSL_CIPHER_SUITES",
         "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256", 1);
  // The scan makes hundreds of handshakes as one client: above the
  // default per-client handshake rate, which is not what is scanned here.
  const std::string yaml = absl::StrReplaceAll(
      GatewayYaml(1),
      {{"  address: 127.0.0.1:0\n  tls:",
        "  address: 127.0.0.1:0\n  limits:\n"
        "    handshakes_per_client_per_second: 1000\n"
        "    handshake_burst_per_client: 1000\n  tls:"}});
  auto gateway = StartGatewayProcess(dir + "/gateway.yaml", yaml,
                                     dir + "/gateway.log");
  unsetenv("GRPC_SSL_CIPHER_SUITES");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_THAT(ReadFileOrEmpty(dir + "/gateway.log"),
              HasSubstr("ECDHE-ECDSA-AES128-SHA"));  // named as left out

  const std::string wrapper = dir + "/openssl-mtls";
  std::ofstream(wrapper) << absl::StrCat(
      "#!/bin/sh\n"
      "# openssl, with the client certificate added to s_client -connect.\n"
      "if [ \"$1\" = s_client ]; then\n"
      "  for a in \"$@\"; do\n"
      "    if [ \"$a\" = -connect ]; then\n"
      "      exec openssl \"$@\" -cert '", TestCert("dossier-system.pem"),
      "' -key '", TestCert("dossier-system.key"), "'\n"
      "    fi\n"
      "  done\n"
      "fi\n"
      "exec openssl \"$@\"\n");
  ::chmod(wrapper.c_str(), 0700);
  const std::string json = dir + "/scan.json";
  const std::string command = absl::StrCat(
      testssl, " --quiet --color 0 --warnings off --openssl ", wrapper,
      " --connect-timeout 10 --openssl-timeout 10 -p -E -S --jsonfile ", json,
      " 127.0.0.1:", gateway->port, " > ", dir, "/scan.txt 2>&1");
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << command;
  const std::string report = ReadFileOrEmpty(dir + "/scan.txt");
  std::map<std::string, std::string> findings = Findings(ReadFileOrEmpty(json));
  ASSERT_FALSE(findings.empty()) << report;

  // The scan's handshakes were complete, client certificate and all: the
  // server sends a session ticket only after it (without the certificate,
  // testssl reports "no -- no lifetime advertised").
  EXPECT_THAT(findings["TLS_session_ticket"], HasSubstr("valid for"))
      << report;

  for (const char* old : {"SSLv2", "SSLv3", "TLS1", "TLS1_1"}) {
    EXPECT_EQ(findings[old], "not offered") << old;
  }
  EXPECT_THAT(findings["TLS1_2"], HasSubstr("offered"));
  EXPECT_THAT(findings["TLS1_2"], ::testing::Not(HasSubstr("not")));
  EXPECT_THAT(findings["TLS1_3"], HasSubstr("offered"));
  EXPECT_THAT(findings["TLS1_3"], ::testing::Not(HasSubstr("not")));

  int suites = 0;
  for (const auto& [id, finding] : findings) {
    if (!absl::StartsWith(id, "cipher-")) continue;
    ++suites;
    SCOPED_TRACE(finding);
    EXPECT_TRUE(absl::StartsWith(id, "cipher-tls1_2_") ||
                absl::StartsWith(id, "cipher-tls1_3_"));
    // AEAD: GCM, ChaCha20-Poly1305 or CCM; forward secrecy: ephemeral
    // (EC)DH key exchange in TLS 1.2 (every TLS 1.3 suite has it).
    EXPECT_TRUE(absl::StrContains(finding, "GCM") ||
                absl::StrContains(finding, "CHACHA20_POLY1305") ||
                absl::StrContains(finding, "CHACHA20-POLY1305") ||
                absl::StrContains(finding, "CCM"));
    if (absl::StartsWith(id, "cipher-tls1_2_")) {
      EXPECT_TRUE(absl::StrContains(finding, "ECDHE") ||
                  absl::StrContains(finding, "DHE"));
    }
    EXPECT_THAT(finding, ::testing::Not(HasSubstr("CBC")));
  }
  EXPECT_GE(suites, 3) << report;
  std::cout << "tls scan: " << suites << " suites offered, all AEAD with "
            << "forward secrecy; TLS 1.2 and 1.3 only\n";
  gateway->process.Stop(SIGTERM);
}

}  // namespace
}  // namespace lienthong::testing
