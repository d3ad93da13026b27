// The gateway's YAML config loader (gateway/config): parse and validate
// arbitrary text. It must answer OK or an error, never crash, and its
// errors must not quote secrets (string values) they were given.
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "adapters/c06_population/c06_population_config.pb.h"
#include "adapters/dvcqg_portal/dvcqg_portal_config.pb.h"
#include "adapters/grpc_upstream/grpc_upstream_config.pb.h"
#include "adapters/vneid_identity/vneid_config.pb.h"
#include "gateway/config/config_loader.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::unique_ptr<google::protobuf::Message> Resolve(absl::string_view type) {
  using namespace lienthong::adapters;
  if (type == "c06-population-soap")
    return std::make_unique<c06::C06PopulationSoapConfig>();
  if (type == "vneid-oidc") return std::make_unique<vneid::VneidOidcConfig>();
  if (type == "dvcqg-portal-rest")
    return std::make_unique<dvcqg::DvcqgPortalRestConfig>();
  if (type == "grpc-upstream")
    return std::make_unique<grpc_upstream::GrpcUpstreamConfig>();
  return nullptr;
}

constexpr absl::string_view kCanary = "S3CRET-CANARY";

// True when `yaml` holds the canary, and only on lines that set a credential
// ("api_key:", "secret:", "client_secret:"), after the colon, with no quoted
// or block scalars (which can carry a line into another field's value: an
// unclosed quote after `address:` makes the next line part of the address,
// which errors may quote).
bool CanaryOnlyInCredentials(absl::string_view yaml) {
  if (yaml.find_first_of("\"'|>") != absl::string_view::npos) return false;
  bool seen = false;
  for (absl::string_view line : absl::StrSplit(yaml, '\n')) {
    const size_t at = line.find(kCanary);
    if (at == absl::string_view::npos) continue;
    absl::string_view key = absl::StripLeadingAsciiWhitespace(line);
    key = absl::StripLeadingAsciiWhitespace(absl::StripPrefix(key, "-"));
    const size_t colon = key.find(':');
    if (colon == absl::string_view::npos) return false;
    const absl::string_view name = key.substr(0, colon);
    if (name != "api_key" && name != "secret" && name != "client_secret") {
      return false;
    }
    if (line.find(':') > at) return false;  // in the key itself
    seen = true;
  }
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto config = lienthong::config::LoadConfigYaml(yaml, "fuzz.yaml", "/etc/lienthong",
                                                  Resolve);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument ||
               config.status().code() == absl::StatusCode::kInternal);
    FUZZ_CHECK(absl::StartsWith(config.status().message(), "fuzz.yaml"));
    // A secret planted as the value of a credential never comes back in an
    // error (names, addresses and keys may: the loader quotes those).
    if (CanaryOnlyInCredentials(yaml)) {
      FUZZ_CHECK(!absl::StrContains(config.status().message(), kCanary));
    }
  }
  return 0;
}
