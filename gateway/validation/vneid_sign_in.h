// Validation of a VNeID sign-in request (lienthong.v1.VneidSignInRequest)
// before anything is sent to VNeID: presence, lengths and character sets of
// the authorisation code, redirect URI, nonce and PKCE code verifier. Whether
// the redirect URI is allowed for the caller is the adapter's config's
// business (CitizenSignInAdapter::CheckRedirectUri).
//
// Messages name the field, never its value. Thread-safe; keeps no state.
#ifndef LIENTHONG_GATEWAY_VALIDATION_VNEID_SIGN_IN_H_
#define LIENTHONG_GATEWAY_VALIDATION_VNEID_SIGN_IN_H_

#include "absl/status/status.h"
#include "lienthong/v1/identity.pb.h"

namespace lienthong::validation {

// Returns OK, or INVALID_ARGUMENT naming the first bad field:
// authorization_code (required, 1..2048 visible ASCII characters),
// redirect_uri (required, 1..2048 visible ASCII), nonce (required, 16..256
// visible ASCII), code_verifier (optional; 43..128 characters of
// A-Z a-z 0-9 - . _ ~, RFC 7636 section 4.1).
absl::Status ValidateVneidSignIn(const lienthong::v1::VneidSignInRequest& r);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_VNEID_SIGN_IN_H_
