#include "adapters/vneid_identity/vneid_adapter.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/vneid_identity/id_token.h"
#include "adapters/vneid_identity/jwks_cache.h"
#include "adapters/vneid_identity/jws.h"
#include "adapters/vneid_identity/nonce_store.h"
#include "adapters/vneid_identity/oidc_config.h"
#include "adapters/vneid_identity/token_exchange.h"

namespace lienthong::adapters::vneid {
namespace {

using lienthong::v1::VneidSignInRequest;
using lienthong::v1::VneidSignInResponse;

// One sign-in on its way through the steps.
struct SignInCall {
  VneidSignInRequest request;
  absl::Time deadline;
  Callback<VneidSignInResponse> done;

  void Fail(absl::Status status) { std::move(done)(std::move(status)); }
};

HttpRequest RequestTo(const OidcSettings& settings, const std::string& url) {
  HttpRequest request;
  request.url = url;
  request.ca_file = settings.upstream.ca_file();
  request.client_cert_file = settings.upstream.client_cert_file();
  request.client_key_file = settings.upstream.client_key_file();
  return request;
}

// A transport failure of the code exchange. The request may have reached
// VNeID, so the code may be spent: the portal must start over.
absl::Status ExchangeFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return absl::DeadlineExceededError(
          "VNeID did not answer in time; the authorization code may have "
          "been used");
    case absl::StatusCode::kInternal:
      return status;
    default:
      return absl::UnavailableError(
          "VNeID token endpoint unreachable; the authorization code may have "
          "been used");
  }
}

class VneidOidcAdapter final : public Adapter, public CitizenSignInAdapter {
 public:
  VneidOidcAdapter(OidcSettings settings, HttpClient* http,
                   resilience::Clock* clock)
      : settings_(std::move(settings)),
        http_(http),
        clock_(clock),
        jwks_(JwksOptions(settings_), http, clock),
        nonces_(NonceStore::Shared(settings_.issuer, settings_.client_id)) {}

  CitizenSignInAdapter* sign_in() override { return this; }

  absl::Status CheckRedirectUri(absl::string_view caller,
                                absl::string_view redirect_uri) const override {
    return settings_.CheckRedirectUri(caller, redirect_uri);
  }

  void SignIn(const VneidSignInRequest& request, const CallContext& context,
              Callback<VneidSignInResponse> done) override {
    if (absl::Status allowed =
            CheckRedirectUri(context.caller, request.redirect_uri());
        !allowed.ok()) {
      std::move(done)(MarkNotSent(std::move(allowed)));
      return;
    }
    auto call = std::make_shared<SignInCall>(
        SignInCall{request, context.deadline, std::move(done)});
    jwks_.Warm([this, call](absl::StatusOr<PublicKey> held) {
      if (!held.ok()) {
        call->Fail(absl::Status(
            held.status().code(),
            absl::StrCat(held.status().message(),
                         "; the authorization code was not used")));
        return;
      }
      Exchange(call);
    });
  }

 private:
  static JwksCache::Options JwksOptions(const OidcSettings& settings) {
    JwksCache::Options options;
    options.request = RequestTo(settings, settings.jwks_url);
    options.min_refresh = settings.jwks_min_refresh;
    options.max_age = settings.jwks_max_age;
    return options;
  }

  void Exchange(std::shared_ptr<SignInCall> call) {
    HttpRequest request = RequestTo(settings_, settings_.token_url);
    request.deadline = call->deadline;
    // A code is redeemed once: never sent again, even by libcurl.
    request.send_once = true;
    request.headers = {"Content-Type: application/x-www-form-urlencoded",
                       "Accept: application/json"};
    if (!settings_.credentials_in_body) {
      request.headers.push_back(absl::StrCat(
          "Authorization: ",
          BasicAuthorization(settings_.client_id, settings_.client_secret)));
    }
    request.body = BuildTokenRequestBody(call->request, settings_.client_id,
                                         settings_.client_secret,
                                         settings_.credentials_in_body);
    http_->Send(std::move(request),
                [this, call](absl::StatusOr<HttpResponse> response) {
                  if (!response.ok()) {
                    call->Fail(ExchangeFailure(response.status()));
                    return;
                  }
                  absl::StatusOr<std::string> id_token =
                      ParseTokenResponse(response->status, response->body);
                  if (!id_token.ok()) {
                    call->Fail(id_token.status());
                    return;
                  }
                  Verify(call, *id_token);
                });
  }

  void Verify(std::shared_ptr<SignInCall> call, const std::string& id_token) {
    absl::StatusOr<Jws> jws = ParseJwsCompact(id_token);
    if (!jws.ok()) {
      call->Fail(jws.status());
      return;
    }
    // Refuse a forbidden alg before any key lookup: a token that is not
    // RS256 must not make the gateway fetch keys.
    if (jws->alg != "RS256") {
      call->Fail(VerifyRs256(*jws, nullptr));
      return;
    }
    std::string kid = jws->kid;
    jwks_.GetKey(std::move(kid), [this, call, token = *std::move(jws)](
                                     absl::StatusOr<PublicKey> key) mutable {
      if (!key.ok()) {
        call->Fail(key.status());
        return;
      }
      Finish(call, token, key->get());
    });
  }

  void Finish(const std::shared_ptr<SignInCall>& call, const Jws& jws,
              EVP_PKEY* key) {
    if (absl::Status signed_by_realm = VerifyRs256(jws, key);
        !signed_by_realm.ok()) {
      call->Fail(std::move(signed_by_realm));
      return;
    }
    IdTokenExpectations want{settings_.issuer, settings_.client_id,
                             call->request.nonce(), clock_->Now(),
                             settings_.clock_skew};
    absl::StatusOr<SignedInCitizen> citizen =
        CheckIdTokenClaims(jws.payload, want);
    if (!citizen.ok()) {
      call->Fail(citizen.status());
      return;
    }
    if (absl::Status fresh = nonces_->Use(
            call->request.nonce(), citizen->expires_at + settings_.clock_skew,
            want.now, settings_.max_remembered_nonces);
        !fresh.ok()) {
      call->Fail(std::move(fresh));
      return;
    }
    std::move(call->done)(
        Reply<VneidSignInResponse>{std::move(citizen->response), ""});
  }

  const OidcSettings settings_;
  HttpClient* const http_;
  resilience::Clock* const clock_;
  JwksCache jwks_;
  // Shared with the adapter a reload replaces (NonceStore::Shared).
  const std::shared_ptr<NonceStore> nonces_;
};

class Factory final : public FactoryBase<VneidOidcConfig> {
 public:
  absl::string_view name() const override { return "vneid-oidc"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const VneidOidcConfig& config,
      const AdapterContext& context) const override {
    if (context.http == nullptr) {
      return absl::InternalError("no HTTP client in the adapter context");
    }
    return CreateVneidOidcAdapter(config, context.http,
                                  resilience::RealClock());
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeVneidOidcFactory() {
  return std::make_unique<Factory>();
}

absl::StatusOr<std::unique_ptr<Adapter>> CreateVneidOidcAdapter(
    const VneidOidcConfig& config, HttpClient* http, resilience::Clock* clock) {
  absl::StatusOr<OidcSettings> settings = ResolveOidcConfig(config);
  if (!settings.ok()) return settings.status();
  return std::unique_ptr<Adapter>(
      new VneidOidcAdapter(*std::move(settings), http, clock));
}

}  // namespace lienthong::adapters::vneid
