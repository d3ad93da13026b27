// For tests and tools: a citizen's sign-in at the simulated VNeID realm,
// the way a portal's browser would make it, without a browser:
// GET .../protocol/openid-connect/auth?... answered 302 to the redirect URI
// with the code (docs/wire-formats.md, "VNeID"), plus a synchronous wrapper
// around adapters::HttpClient for the tests' own calls.
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_VNEID_LOGIN_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_VNEID_LOGIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adapters/common/http/http_client.h"

namespace lienthong::sim {

// The realm's base, e.g. "https://127.0.0.1:PORT/vneid/realms/citizen".
std::string VneidRealmUrl(const std::string& sim_base_url,
                          const std::string& realm = "citizen");

struct VneidLogin {
  std::string realm_url;  // VneidRealmUrl(...)
  std::string ca_file;    // CA the simulator's certificate chains to
  std::string client_id = "lienthong-dev";
  std::string redirect_uri = "https://dichvucong.hungyen.gov.vn/vneid/callback";
  std::string citizen_id;  // login_hint
  std::string nonce;
  std::string state = "test-state";
  std::string acr_values;      // "", "1" or "2"
  std::string code_challenge;  // S256 challenge, or "" for no PKCE
};

// Sends `request` and waits for its answer (at most until its deadline plus
// five seconds). Thread-safe as `http` is.
absl::StatusOr<adapters::HttpResponse> SendAndWait(
    adapters::HttpClient& http, adapters::HttpRequest request);

// Signs `login.citizen_id` in and returns the authorisation code from the
// redirect. Fails with FAILED_PRECONDITION carrying the realm's error (e.g.
// "access_denied") when it redirects with one or does not redirect, and with
// the transport's error otherwise.
absl::StatusOr<std::string> VneidAuthorize(adapters::HttpClient& http,
                                           const VneidLogin& login);

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_VNEID_LOGIN_H_
