// The "vneid-oidc" adapter: citizens' sign-in with VNeID, the Ministry of
// Public Security's OpenID Connect provider (a Keycloak realm "citizen";
// docs/wire-formats.md, "VNeID"). For each sign-in it
//  1. makes sure the realm's signing keys are held (JwksCache::Warm), so an
//     unreachable realm is found before the one-time code is spent;
//  2. exchanges the portal's authorisation code at the token endpoint with
//     the province's client credentials (never retried: a code is used
//     once);
//  3. verifies the ID token: RS256 only, signature against the realm's key
//     named by its kid (fetching the keys again for an unknown kid, rate
//     limited), then iss, aud/azp, exp/nbf/iat, nonce, acr and the identity
//     claims (id_token.h);
//  4. remembers the nonce until the token expires and refuses it again.
//
// The used nonces outlive a config reload: the new instance takes over the
// store of the one it replaces (same issuer and client), each instance
// bounding it by its own max_remembered_nonces (NonceStore::Shared); a
// reload that fails leaves the store as it was. The keys are fetched afresh
// by each instance. A restart forgets the nonces, and replicas do not share
// them; a replay across that boundary still needs a fresh code for the same
// nonce from VNeID, which binds each code to the client and redirect URI
// and honours it once.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_VNEID_ADAPTER_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_VNEID_ADAPTER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "adapters/adapter.h"
#include "adapters/vneid_identity/vneid_config.pb.h"
#include "gateway/resilience/clock.h"

namespace lienthong::adapters::vneid {

// The factory of type "vneid-oidc" (config VneidOidcConfig).
std::unique_ptr<AdapterFactory> MakeVneidOidcFactory();

// Creates the adapter with its own clock, for tests that move time. Fails
// with INVALID_ARGUMENT naming the bad config field. REQUIRES: `http` and
// `clock` outlive the adapter.
absl::StatusOr<std::unique_ptr<Adapter>> CreateVneidOidcAdapter(
    const VneidOidcConfig& config, HttpClient* http, resilience::Clock* clock);

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_VNEID_ADAPTER_H_
