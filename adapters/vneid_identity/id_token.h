// The claims of a VNeID ID token whose signature has been verified: the
// checks of OpenID Connect Core 1.0 section 3.1.3.7 that concern claims
// (iss, aud, azp, exp, nbf, iat, nonce) plus the assurance level (acr,
// Decree 69/2024) and the identity the gateway answers with.
//
// Claim names read (docs/wire-formats.md, "VNeID"): the citizen ID from
// `preferred_username` (Keycloak's user name, DESIGN.md), cross-checked with
// `SoDinhDanh` when present; the name from `name` (OIDC standard claim), else
// `HoVaTen` (the national portal's); the birth date from `birthdate`
// ("yyyy-MM-dd" or "yyyy", OIDC Core section 5.1), else `NgayThangNamSinh`
// ("yyyyMMdd" or "yyyy"), and when both are sent they must agree.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_ID_TOKEN_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_ID_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lienthong/v1/identity.pb.h"

namespace lienthong::adapters::vneid {

// What the token must say, and the time to judge it by.
struct IdTokenExpectations {
  std::string issuer;     // exact `iss`
  std::string client_id;  // in `aud`; `azp` when present
  std::string nonce;      // exact `nonce`
  absl::Time now;
  absl::Duration clock_skew = absl::Seconds(60);
};

// A sign-in the claims prove, and how long the proof lasts.
struct SignedInCitizen {
  lienthong::v1::VneidSignInResponse response;
  absl::Time expires_at;
};

// Checks `claims_json` (a verified token's payload) against `want`, in this
// order, and returns the citizen. Fails with:
// - UNAVAILABLE "VNeID sent a malformed id token: <what>" when the payload
//   is not a JSON object, a claim has the wrong type, or iss, aud, exp, iat
//   or sub is missing or out of range: the realm is misbehaving;
// - UNAUTHENTICATED "id token from another issuer" (iss), "id token for
//   another audience" (client_id not in aud, or azp naming another client,
//   or several audiences and no azp), "id token expired" (exp + skew <=
//   now), "id token not yet valid" (nbf or iat after now + skew), "nonce
//   does not match", "id token without assurance level 1 or 2" (acr other
//   than "1"/"2"/1/2);
// - FAILED_PRECONDITION "VNeID identity not accepted: <what>" when every
//   other check passed but the account's identity is unusable
//   (preferred_username missing or not a valid 12-digit citizen ID,
//   SoDinhDanh different from it, a birth date that is no date, disagrees
//   between claims or with the ID's birth year, a name over 400 bytes or
//   with control characters): one account's data, not VNeID failing, so
//   the circuit breaker does not count it and no retry can help.
// The message names the rule, never a claim's value. Thread-safe.
absl::StatusOr<SignedInCitizen> CheckIdTokenClaims(
    absl::string_view claims_json, const IdTokenExpectations& want);

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_ID_TOKEN_H_
