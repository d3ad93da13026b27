// The "vneid-oidc" adapter's config (lienthong.config.v1.VneidOidcConfig)
// checked once and with its defaults filled in: Keycloak's endpoint layout
// under the realm, the issuer, client authentication, the redirect URIs each
// caller may use, and the clock and cache limits.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_OIDC_CONFIG_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_OIDC_CONFIG_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapters/vneid_identity/vneid_config.pb.h"

namespace lienthong::adapters::vneid {

struct OidcSettings {
  std::string token_url;  // base_url + token_path
  std::string jwks_url;   // base_url + jwks_path
  std::string issuer;
  std::string client_id;
  std::string client_secret;
  bool credentials_in_body = false;  // client_secret_post
  // TLS to the realm (base_url unused beyond the URLs above).
  lienthong::config::v1::HttpsUpstream upstream;
  std::set<std::string, std::less<>> redirect_uris;  // for every caller
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>>
      caller_redirect_uris;
  absl::Duration clock_skew = absl::Seconds(60);
  absl::Duration jwks_min_refresh = absl::Seconds(30);
  absl::Duration jwks_max_age = absl::Hours(1);
  size_t max_remembered_nonces = 1000000;

  // Returns OK when `caller` may use `redirect_uri` (an exact match in the
  // caller's list or the list for all); INVALID_ARGUMENT otherwise, without
  // echoing the URI. Thread-safe.
  absl::Status CheckRedirectUri(absl::string_view caller,
                                absl::string_view redirect_uri) const;
};

// Returns the settings of `config`. Fails with INVALID_ARGUMENT naming the
// field: upstream.base_url not https:// (or ending in '/'), a path not
// starting with '/', issuer not https://, no client_id or client_secret, an
// unknown client_auth_method, no redirect URI at all, a redirect URI that is
// not an absolute https URL (plain http only to localhost, 127.0.0.1 or
// [::1] exactly) whose authority is host[:digits] without user-info, or that
// has a fragment, a caller entry without client, a clock skew over 300 s,
// or a negative number. Thread-safe.
absl::StatusOr<OidcSettings> ResolveOidcConfig(const VneidOidcConfig& config);

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_OIDC_CONFIG_H_
