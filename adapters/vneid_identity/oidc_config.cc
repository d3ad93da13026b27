#include "adapters/vneid_identity/oidc_config.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "adapters/common/http/base_url.h"

namespace lienthong::adapters::vneid {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// The host of a URL's authority (RFC 3986 section 3.2) when it is
// host[:port] with a DNS name, an IPv4 address or a bracketed IPv6 one and
// a port of digits; nullopt otherwise. User-info ('@') is refused: in
// "http://localhost:1@evil.example/" the host is evil.example.
std::optional<absl::string_view> HostOf(absl::string_view authority) {
  if (absl::StrContains(authority, '@')) return std::nullopt;
  const bool bracketed = absl::StartsWith(authority, "[");
  const size_t host_end = bracketed ? authority.find(']') : authority.find(':');
  if (bracketed && host_end == absl::string_view::npos) return std::nullopt;
  const absl::string_view host =
      authority.substr(0, bracketed ? host_end + 1 : host_end);
  absl::string_view port = authority.substr(host.size());
  if (!port.empty() &&
      (!absl::ConsumePrefix(&port, ":") || port.empty() || port.size() > 5 ||
       port.find_first_not_of("0123456789") != absl::string_view::npos)) {
    return std::nullopt;
  }
  const absl::string_view name =
      bracketed ? host.substr(1, host.size() - 2) : host;
  if (name.empty()) return std::nullopt;
  for (char c : name) {
    const bool ok =
        bracketed ? absl::ascii_isxdigit(c) || c == ':' || c == '.'
                  : absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  return host;
}

// An absolute https URL, or http on the loopback for development (RFC 8252
// section 7.3); no fragment (RFC 6749 section 3.1.2), no user-info.
bool IsRedirectUri(absl::string_view uri) {
  if (uri.size() > 2048 || absl::StrContains(uri, '#')) return false;
  for (char c : uri) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  const bool https = absl::ConsumePrefix(&uri, "https://");
  if (!https && !absl::ConsumePrefix(&uri, "http://")) return false;
  const std::optional<absl::string_view> host =
      HostOf(uri.substr(0, uri.find_first_of("/?")));
  if (!host.has_value()) return false;
  // Exactly the loopback names: a prefix check would pass
  // "localhost.evil.example" or "127.0.0.1.evil.example".
  return https || *host == "localhost" || *host == "127.0.0.1" ||
         *host == "[::1]";
}

absl::Status AddRedirectUris(
    const google::protobuf::RepeatedPtrField<std::string>& uris,
    absl::string_view field, std::set<std::string, std::less<>>& out) {
  for (int i = 0; i < uris.size(); ++i) {
    if (!IsRedirectUri(uris[i])) {
      return Bad(absl::StrCat(field, "[", i, "]"),
                 "must be an absolute https URL without user-info or "
                 "fragment (http only on localhost, 127.0.0.1 or [::1])");
    }
    out.insert(uris[i]);
  }
  return absl::OkStatus();
}

absl::Status CheckNumbers(const VneidOidcConfig& c) {
  if (c.clock_skew_seconds() < 0 || c.clock_skew_seconds() > 300) {
    return Bad("clock_skew_seconds", "must be 0..300 (0 means 60)");
  }
  const std::pair<const char*, int> kCounts[] = {
      {"jwks_min_refresh_seconds", c.jwks_min_refresh_seconds()},
      {"jwks_max_age_seconds", c.jwks_max_age_seconds()},
      {"max_remembered_nonces", c.max_remembered_nonces()}};
  for (const auto& [field, value] : kCounts) {
    if (value < 0)
      return Bad(field, "must not be negative (0 means the default)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status OidcSettings::CheckRedirectUri(absl::string_view caller,
                                            absl::string_view uri) const {
  if (redirect_uris.count(uri) > 0) return absl::OkStatus();
  auto it = caller_redirect_uris.find(caller);
  if (it != caller_redirect_uris.end() && it->second.count(uri) > 0) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      "redirect_uri is not one the gateway allows for this caller");
}

absl::StatusOr<OidcSettings> ResolveOidcConfig(const VneidOidcConfig& c) {
  const std::string& base = c.upstream().base_url();
  if (absl::Status url = CheckBaseUrl(base); !url.ok()) {
    return Bad("upstream.base_url", url.message());
  }
  if (absl::EndsWith(base, "/")) {
    return Bad("upstream.base_url", "must not end with '/'");
  }
  const std::string realm = c.realm().empty() ? "citizen" : c.realm();
  if (realm.find_first_of("/?#% ") != std::string::npos) {
    return Bad("realm", "must be a plain realm name such as citizen");
  }
  const std::string prefix =
      absl::StrCat("/realms/", realm, "/protocol/openid-connect");
  const std::string token_path =
      c.token_path().empty() ? absl::StrCat(prefix, "/token") : c.token_path();
  const std::string jwks_path =
      c.jwks_path().empty() ? absl::StrCat(prefix, "/certs") : c.jwks_path();
  for (const auto& [field, path] :
       {std::pair<const char*, const std::string&>{"token_path", token_path},
        {"jwks_path", jwks_path}}) {
    if (absl::Status usable = CheckUrlPath(path); !usable.ok()) {
      return Bad(field, usable.message());
    }
  }
  OidcSettings s;
  s.token_url = absl::StrCat(base, token_path);
  s.jwks_url = absl::StrCat(base, jwks_path);
  s.issuer =
      c.issuer().empty() ? absl::StrCat(base, "/realms/", realm) : c.issuer();
  if (!absl::StartsWith(s.issuer, "https://")) {
    return Bad("issuer", "must start with https://");
  }
  if (c.client_id().empty() || c.client_secret().empty()) {
    return Bad("client_id, client_secret", "both are required");
  }
  s.client_id = c.client_id();
  s.client_secret = c.client_secret();
  if (c.client_auth_method() == "client_secret_post") {
    s.credentials_in_body = true;
  } else if (!c.client_auth_method().empty() &&
             c.client_auth_method() != "client_secret_basic") {
    return Bad("client_auth_method",
               "must be client_secret_basic or client_secret_post");
  }
  s.upstream = c.upstream();
  if (absl::Status st =
          AddRedirectUris(c.redirect_uris(), "redirect_uris", s.redirect_uris);
      !st.ok()) {
    return st;
  }
  for (int i = 0; i < c.caller_redirect_uris_size(); ++i) {
    const auto& entry = c.caller_redirect_uris(i);
    const std::string field = absl::StrCat("caller_redirect_uris[", i, "]");
    if (entry.client().empty()) return Bad(field + ".client", "required");
    if (absl::Status st =
            AddRedirectUris(entry.redirect_uris(), field + ".redirect_uris",
                            s.caller_redirect_uris[entry.client()]);
        !st.ok()) {
      return st;
    }
  }
  if (s.redirect_uris.empty() && s.caller_redirect_uris.empty()) {
    return Bad("redirect_uris",
               "at least one redirect URI (here or in caller_redirect_uris) "
               "is required");
  }
  if (absl::Status st = CheckNumbers(c); !st.ok()) return st;
  if (c.clock_skew_seconds() > 0) {
    s.clock_skew = absl::Seconds(c.clock_skew_seconds());
  }
  if (c.jwks_min_refresh_seconds() > 0) {
    s.jwks_min_refresh = absl::Seconds(c.jwks_min_refresh_seconds());
  }
  if (c.jwks_max_age_seconds() > 0) {
    s.jwks_max_age = absl::Seconds(c.jwks_max_age_seconds());
  }
  if (c.max_remembered_nonces() > 0) {
    s.max_remembered_nonces = c.max_remembered_nonces();
  }
  return s;
}

}  // namespace lienthong::adapters::vneid
