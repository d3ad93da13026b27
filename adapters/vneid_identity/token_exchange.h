// The authorisation-code exchange at the realm's token endpoint (RFC 6749
// section 4.1.3, OpenID Connect Core section 3.1.3): the request the gateway
// sends and the reading of the answer.
//
// All functions are thread-safe and keep no state. No error message carries
// a reply body, a code, a token or a secret.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_TOKEN_EXCHANGE_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_TOKEN_EXCHANGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lienthong/v1/identity.pb.h"

namespace lienthong::adapters::vneid {

// `value` form-url-encoded (application/x-www-form-urlencoded, RFC 6749
// appendix B): everything but ALPHA DIGIT - . _ ~ as %XX.
std::string FormEncode(absl::string_view value);

// Returns the token request body: grant_type=authorization_code, code,
// redirect_uri, code_verifier when the request has one, and, when
// `credentials_in_body` (client_secret_post), client_id and client_secret.
std::string BuildTokenRequestBody(
    const lienthong::v1::VneidSignInRequest& request,
    absl::string_view client_id, absl::string_view client_secret,
    bool credentials_in_body);

// Returns the Authorization header value for client_secret_basic: "Basic "
// base64(form-encoded id ":" form-encoded secret) (RFC 6749 section 2.3.1).
std::string BasicAuthorization(absl::string_view client_id,
                               absl::string_view client_secret);

// Returns the id_token of a token endpoint answer. Fails with:
// - UNAUTHENTICATED "authorization code refused by VNeID" for HTTP 400 with
//   error "invalid_grant" (unknown, expired or used code; redirect URI or
//   code verifier not those of the authorisation request);
// - UNAVAILABLE "VNeID refused the gateway's client credentials" for HTTP
//   401, or an error "invalid_client" / "unauthorized_client";
//   "VNeID refused the token request" for other 4xx; "VNeID token endpoint
//   answered HTTP <n>" for any other status; "VNeID sent a malformed token
//   response: <what>" for a 200 without a usable id_token or with a
//   token_type other than Bearer.
// Never marked retriable: the code may have been used.
absl::StatusOr<std::string> ParseTokenResponse(long http_status,
                                               absl::string_view body);

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_TOKEN_EXCHANGE_H_
