// The simulated VNeID: an OpenID Connect provider for the realm "citizen"
// in Keycloak's layout (docs/wire-formats.md, "VNeID"). The authorisation
// endpoint signs the citizen named by login_hint in at once (no browser),
// codes are single-use, short-lived and bound to the client, redirect URI,
// nonce and PKCE challenge, and ID tokens are RS256 JWTs about the synthetic
// citizen the generator derives from the ID.
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/jwt_signer.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {
namespace {

using Form = std::map<std::string, std::string>;

// application/x-www-form-urlencoded value: '+' is a space, %XX a byte.
std::string FormDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               absl::ascii_isxdigit(s[i + 1]) &&
               absl::ascii_isxdigit(s[i + 2])) {
      out += absl::HexStringToBytes(s.substr(i + 1, 2));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string FormEncode(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out += c;
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

Form ParseForm(absl::string_view text) {
  Form form;
  for (absl::string_view pair : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    form[FormDecode(kv.first)] = FormDecode(kv.second);
  }
  return form;
}

std::string RandomToken() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof(bytes));
  return Base64Url(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string Sha256(absl::string_view s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

// A stable UUID-shaped subject per citizen, as Keycloak's user ids look.
std::string SubjectOf(absl::string_view citizen_id) {
  std::string hex = absl::BytesToHexString(
      Sha256(absl::StrCat("vneid-subject:", citizen_id)));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-",
                      hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                      hex.substr(20, 12));
}

SimReply OAuthError(int status, absl::string_view error,
                    absl::string_view description) {
  return JsonReply(status, absl::StrCat("{\"error\":", JsonQuote(error),
                                        ",\"error_description\":",
                                        JsonQuote(description), "}"));
}

SimReply Redirect(const std::string& location) {
  SimReply reply;
  reply.status = 302;
  reply.headers.emplace_back("Location", location);
  return reply;
}

std::string WithQuery(const std::string& uri, absl::string_view query) {
  return absl::StrCat(uri, absl::StrContains(uri, '?') ? "&" : "?", query);
}

// yyyy-MM-dd (OIDC birthdate) or yyyyMMdd (NgayThangNamSinh); the year
// alone when that is all the register knows.
std::string BirthDate(const Citizen& c, bool dashed) {
  if (c.birth_year_only) return absl::StrFormat("%04d", c.birth_year);
  return absl::StrFormat(dashed ? "%04d-%02d-%02d" : "%04d%02d%02d",
                         c.birth_year, c.birth_month, c.birth_day);
}

struct SigningKey {
  std::string kid;
  RsaKey key;
  std::string jwk;  // the public half, as published
};

absl::StatusOr<SigningKey> MakeKey(absl::string_view kid) {
  absl::StatusOr<RsaKey> key = GenerateRsaKey(2048);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> jwk = RsaPublicJwk(key->get(), kid);
  if (!jwk.ok()) return jwk.status();
  return SigningKey{std::string(kid), *std::move(key), *std::move(jwk)};
}

// What an authorisation code stands for.
struct Grant {
  std::string client_id;
  std::string redirect_uri;
  std::string nonce;
  std::string citizen_id;
  int acr = 0;
  std::string challenge;         // PKCE code_challenge, if any
  std::string challenge_method;  // "S256" or "plain"
  std::string session;
  absl::Time expires;
};

}  // namespace

class VneidService::Realm {
 public:
  explicit Realm(VneidConfig config) : config_(std::move(config)) {}

  SimReply Handle(const SimRequest& request, absl::Time now);
  absl::Status RotateKeys(bool keep_old);
  void SetFaults(const VneidTokenFaults& faults) {
    absl::MutexLock lock(&mu_);
    faults_ = faults;
  }
  VneidTokenFaults faults() const {
    absl::MutexLock lock(&mu_);
    return faults_;
  }
  VneidCounters counters() const {
    absl::MutexLock lock(&mu_);
    return counters_;
  }

 private:
  std::string Issuer(const SimRequest& request) const {
    std::string host = request.host.empty() ? "127.0.0.1" : request.host;
    return absl::StrCat("https://", host, "/vneid/realms/", config_.realm);
  }
  bool Registered(const std::string& redirect_uri) const {
    return std::find(config_.redirect_uris.begin(), config_.redirect_uris.end(),
                     redirect_uri) != config_.redirect_uris.end();
  }
  SimReply Discovery(const SimRequest& request) const;
  SimReply Authorize(const SimRequest& request, absl::Time now);
  SimReply Token(const SimRequest& request, absl::Time now);
  SimReply CodeGrant(const Form& form, const std::string& client,
                     const std::string& issuer, absl::Time now);
  SimReply Certs();
  // The client authenticated by Basic header or form; nullopt unless it is
  // this realm's client with its secret.
  std::optional<std::string> AuthenticatedClient(const SimRequest& request,
                                                 const Form& form) const;
  absl::StatusOr<std::string> IdToken(const Grant& grant,
                                      const std::string& issuer,
                                      absl::Time now);
  std::string Claims(const Grant& grant, const Citizen& citizen,
                     const std::string& issuer, const VneidTokenFaults& faults,
                     absl::Time now) const;
  absl::Status EnsureKeys() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const VneidConfig config_;
  mutable absl::Mutex mu_;
  std::vector<SigningKey> published_ ABSL_GUARDED_BY(mu_);  // back() signs
  std::optional<SigningKey> rogue_ ABSL_GUARDED_BY(mu_);
  int key_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Grant> codes_ ABSL_GUARDED_BY(mu_);
  VneidTokenFaults faults_ ABSL_GUARDED_BY(mu_);
  VneidCounters counters_ ABSL_GUARDED_BY(mu_);
};

absl::Status VneidService::Realm::EnsureKeys() {
  if (!published_.empty()) return absl::OkStatus();
  absl::StatusOr<SigningKey> key =
      MakeKey(absl::StrCat("sim-", config_.realm, "-", ++key_sequence_));
  if (!key.ok()) return key.status();
  published_.push_back(*std::move(key));
  return absl::OkStatus();
}

absl::Status VneidService::Realm::RotateKeys(bool keep_old) {
  int sequence;
  {
    absl::MutexLock lock(&mu_);
    sequence = ++key_sequence_;
  }
  // Made without the lock (an RSA key takes ~100 ms): tokens go on being
  // issued with the old key meanwhile.
  absl::StatusOr<SigningKey> key =
      MakeKey(absl::StrCat("sim-", config_.realm, "-", sequence));
  if (!key.ok()) return key.status();
  absl::MutexLock lock(&mu_);
  if (!keep_old) published_.clear();
  published_.push_back(*std::move(key));
  ++counters_.key_rotations;
  return absl::OkStatus();
}

SimReply VneidService::Realm::Handle(const SimRequest& request,
                                     absl::Time now) {
  const std::string realm = absl::StrCat("/vneid/realms/", config_.realm);
  if (!absl::StartsWith(request.path, realm + "/")) {
    return OAuthError(404, "not_found", "Realm does not exist");
  }
  const std::string path = request.path.substr(realm.size());
  const std::string oidc = "/protocol/openid-connect";
  if (path == "/.well-known/openid-configuration" && request.method == "GET") {
    return Discovery(request);
  }
  if (path == oidc + "/auth" && request.method == "GET") {
    return Authorize(request, now);
  }
  if (path == oidc + "/token" && request.method == "POST") {
    return Token(request, now);
  }
  if (path == oidc + "/certs" && request.method == "GET") return Certs();
  return OAuthError(404, "not_found", "Unknown endpoint");
}

SimReply VneidService::Realm::Discovery(const SimRequest& request) const {
  const std::string issuer = Issuer(request);
  const std::string oidc = issuer + "/protocol/openid-connect";
  return JsonReply(
      200,
      absl::StrCat(
          "{\"issuer\":", JsonQuote(issuer),
          ",\"authorization_endpoint\":", JsonQuote(oidc + "/auth"),
          ",\"token_endpoint\":", JsonQuote(oidc + "/token"),
          ",\"jwks_uri\":", JsonQuote(oidc + "/certs"),
          ",\"response_types_supported\":[\"code\"]"
          ",\"grant_types_supported\":[\"authorization_code\","
          "\"client_credentials\"]"
          ",\"subject_types_supported\":[\"public\"]"
          ",\"id_token_signing_alg_values_supported\":[\"RS256\"]"
          ",\"token_endpoint_auth_methods_supported\":"
          "[\"client_secret_basic\",\"client_secret_post\"]"
          ",\"code_challenge_methods_supported\":[\"plain\",\"S256\"]"
          ",\"acr_values_supported\":[\"1\",\"2\"]"
          ",\"scopes_supported\":[\"openid\",\"profile\"]"
          ",\"claims_supported\":[\"sub\",\"iss\",\"aud\",\"exp\",\"iat\","
          "\"acr\",\"nonce\",\"preferred_username\",\"name\",\"birthdate\","
          "\"SoDinhDanh\",\"HoVaTen\",\"NgayThangNamSinh\",\"loginIdp\"]}"));
}

SimReply VneidService::Realm::Authorize(const SimRequest& request,
                                        absl::Time now) {
  const size_t q = request.uri.find('?');
  Form form =
      ParseForm(q == std::string::npos ? "" : request.uri.substr(q + 1));
  // Without a known client and a registered redirect URI there is nowhere
  // safe to send the browser (RFC 6749 section 4.1.2.1).
  if (form["client_id"] != config_.client_id) {
    return OAuthError(400, "invalid_client", "Client not found");
  }
  const std::string redirect_uri = form["redirect_uri"];
  if (!Registered(redirect_uri)) {
    return OAuthError(400, "invalid_redirect_uri", "Invalid redirect_uri");
  }
  const std::string state =
      form.count("state") ? absl::StrCat("&state=", FormEncode(form["state"]))
                          : "";
  auto refuse = [&](absl::string_view error, absl::string_view description) {
    return Redirect(WithQuery(
        redirect_uri, absl::StrCat("error=", error, "&error_description=",
                                   FormEncode(description), state)));
  };
  if (form["response_type"] != "code") {
    return refuse("unsupported_response_type", "Only code is supported");
  }
  std::vector<std::string> scopes = absl::StrSplit(form["scope"], ' ');
  if (std::find(scopes.begin(), scopes.end(), "openid") == scopes.end()) {
    return refuse("invalid_scope", "openid scope required");
  }
  const std::string method = form.count("code_challenge_method")
                                 ? form["code_challenge_method"]
                                 : "plain";
  if (form.count("code_challenge") && method != "S256" && method != "plain") {
    return refuse("invalid_request", "Invalid code_challenge_method");
  }
  // The "login": the citizen named by login_hint, with a VNeID account.
  std::optional<Citizen> citizen = LookupCitizen(form["login_hint"]);
  if (form["login_hint"].size() != 12 || !citizen || citizen->vneid_level < 1) {
    return refuse("access_denied", "No VNeID account");
  }
  int acr = citizen->vneid_level;
  if (form.count("acr_values")) {
    int wanted = 0;
    const std::string& values = form["acr_values"];
    if (!absl::SimpleAtoi(values.substr(0, values.find(' ')), &wanted) ||
        wanted < 1 || wanted > 2) {
      return refuse("invalid_request", "Invalid acr_values");
    }
    if (wanted > citizen->vneid_level) {
      return refuse("access_denied", "Account level too low");
    }
    acr = wanted;
  }
  Grant grant{config_.client_id,
              redirect_uri,
              form["nonce"],
              citizen->id,
              acr,
              form["code_challenge"],
              method,
              RandomToken().substr(0, 22),
              now + config_.code_lifetime};
  const std::string code = RandomToken();
  const std::string session = grant.session;
  {
    absl::MutexLock lock(&mu_);
    if (codes_.size() > 4096) {
      absl::erase_if(codes_,
                     [now](const auto& c) { return c.second.expires <= now; });
    }
    codes_.emplace(code, std::move(grant));
    ++counters_.authorizations;
  }
  return Redirect(WithQuery(
      redirect_uri,
      absl::StrCat(state.empty() ? "" : state.substr(1),
                   state.empty() ? "" : "&", "session_state=", session,
                   "&iss=", FormEncode(Issuer(request)), "&code=", code)));
}

std::optional<std::string> VneidService::Realm::AuthenticatedClient(
    const SimRequest& request, const Form& form) const {
  std::string id, secret;
  const std::string basic = request.Header("authorization");
  std::string decoded;
  if (absl::StartsWithIgnoreCase(basic, "Basic ") &&
      absl::Base64Unescape(absl::StripAsciiWhitespace(basic.substr(6)),
                           &decoded)) {
    std::pair<std::string, std::string> creds =
        absl::StrSplit(decoded, absl::MaxSplits(':', 1));
    id = FormDecode(creds.first);
    secret = FormDecode(creds.second);
  } else {
    auto get = [&form](const char* name) {
      auto it = form.find(name);
      return it == form.end() ? std::string() : it->second;
    };
    id = get("client_id");
    secret = get("client_secret");
  }
  if (id != config_.client_id || secret != config_.client_secret) {
    return std::nullopt;
  }
  return id;
}

SimReply VneidService::Realm::Token(const SimRequest& request, absl::Time now) {
  Form form = ParseForm(request.body);
  std::optional<std::string> client = AuthenticatedClient(request, form);
  if (!client) {
    SimReply reply = OAuthError(401, "invalid_client",
                                "Invalid client or Invalid client credentials");
    reply.auth_failure = true;
    return reply;
  }
  if (form["grant_type"] == "authorization_code") {
    return CodeGrant(form, *client, Issuer(request), now);
  }
  if (form["grant_type"] != "client_credentials") {
    return OAuthError(400, "unsupported_grant_type", "Unsupported grant_type");
  }
  {
    absl::MutexLock lock(&mu_);
    ++counters_.tokens_issued;
  }
  return JsonReply(
      200, absl::StrCat(
               "{\"access_token\":", JsonQuote(RandomToken()),
               ",\"expires_in\":", absl::ToInt64Seconds(config_.token_lifetime),
               ",\"refresh_expires_in\":0,\"token_type\":\"Bearer\","
               "\"not-before-policy\":0,\"scope\":\"profile\"}"));
}

SimReply VneidService::Realm::CodeGrant(const Form& form,
                                        const std::string& client,
                                        const std::string& issuer,
                                        absl::Time now) {
  auto get = [&form](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  std::optional<Grant> grant;
  {
    absl::MutexLock lock(&mu_);
    // A code is spent by its first exchange, whatever the outcome.
    auto node = codes_.extract(get("code"));
    if (!node.empty() && node.mapped().expires > now) grant = node.mapped();
  }
  auto refuse = [this](absl::string_view why) {
    absl::MutexLock lock(&mu_);
    ++counters_.grants_refused;
    return OAuthError(400, "invalid_grant", why);
  };
  if (!grant) return refuse("Code not valid");
  if (grant->client_id != client)
    return refuse("Code not issued to this client");
  if (get("redirect_uri") != grant->redirect_uri) {
    return refuse("Incorrect redirect_uri");
  }
  const std::string verifier = get("code_verifier");
  if (grant->challenge.empty() != verifier.empty()) {
    return refuse("PKCE verification failed");
  }
  if (!grant->challenge.empty()) {
    std::string expected = grant->challenge_method == "S256"
                               ? Base64Url(Sha256(verifier))
                               : verifier;
    if (expected != grant->challenge) return refuse("PKCE verification failed");
  }
  absl::StatusOr<std::string> id_token = IdToken(*grant, issuer, now);
  if (!id_token.ok()) return OAuthError(500, "server_error", "Signing failed");
  {
    absl::MutexLock lock(&mu_);
    ++counters_.tokens_issued;
  }
  return JsonReply(
      200, absl::StrCat(
               "{\"access_token\":", JsonQuote(RandomToken()),
               ",\"expires_in\":", absl::ToInt64Seconds(config_.token_lifetime),
               ",\"refresh_expires_in\":1800,\"refresh_token\":",
               JsonQuote(RandomToken()),
               ",\"token_type\":\"Bearer\",\"id_token\":", JsonQuote(*id_token),
               ",\"not-before-policy\":0,\"session_state\":",
               JsonQuote(grant->session), ",\"scope\":\"openid profile\"}"));
}

std::string VneidService::Realm::Claims(const Grant& grant,
                                        const Citizen& citizen,
                                        const std::string& issuer,
                                        const VneidTokenFaults& faults,
                                        absl::Time now) const {
  int64_t iat = absl::ToUnixSeconds(now);
  int64_t exp = iat + absl::ToInt64Seconds(config_.token_lifetime);
  if (faults.expired) iat -= 900, exp = iat + 300;
  if (faults.not_yet_valid) iat += 600, exp += 600;
  std::string aud = JsonQuote(config_.client_id);
  std::string azp = config_.client_id;
  if (faults.wrong_audience)
    aud = JsonQuote("other-portal"), azp = "other-portal";
  if (faults.extra_audience) aud = absl::StrCat("[", aud, ",\"account\"]");
  std::string claims = absl::StrCat(
      "{\"exp\":", exp, ",\"iat\":", iat, ",\"auth_time\":", iat,
      faults.not_yet_valid ? absl::StrCat(",\"nbf\":", iat) : "",
      ",\"jti\":", JsonQuote(RandomToken().substr(0, 16)), ",\"iss\":",
      JsonQuote(
          faults.wrong_issuer
              ? absl::StrCat(issuer.substr(0, issuer.rfind('/')), "/other")
              : issuer),
      ",\"aud\":", aud, ",\"sub\":", JsonQuote(SubjectOf(citizen.id)),
      ",\"typ\":\"ID\"",
      faults.extra_audience ? "" : absl::StrCat(",\"azp\":", JsonQuote(azp)));
  if (!grant.nonce.empty() || faults.wrong_nonce) {
    absl::StrAppend(
        &claims, ",\"nonce\":",
        JsonQuote(faults.wrong_nonce ? RandomToken() : grant.nonce));
  }
  std::string given =
      absl::StrCat(citizen.middle_name, citizen.middle_name.empty() ? "" : " ",
                   citizen.given_name);
  absl::StrAppend(
      &claims, ",\"session_state\":", JsonQuote(grant.session),
      ",\"sid\":", JsonQuote(grant.session), ",\"acr\":",
      JsonQuote(faults.acr.empty() ? absl::StrCat(grant.acr) : faults.acr),
      ",\"preferred_username\":", JsonQuote(citizen.id),
      ",\"name\":", JsonQuote(citizen.FullName()),
      ",\"given_name\":", JsonQuote(given),
      ",\"family_name\":", JsonQuote(citizen.family_name),
      ",\"birthdate\":", JsonQuote(BirthDate(citizen, true)),
      ",\"SoDinhDanh\":", JsonQuote(citizen.id),
      ",\"HoVaTen\":", JsonQuote(citizen.FullName()),
      ",\"NgayThangNamSinh\":", JsonQuote(BirthDate(citizen, false)),
      ",\"loginIdp\":\"BCA\"}");
  return claims;
}

absl::StatusOr<std::string> VneidService::Realm::IdToken(
    const Grant& grant, const std::string& issuer, absl::Time now) {
  std::optional<Citizen> citizen = LookupCitizen(grant.citizen_id);
  if (!citizen) return absl::InternalError("citizen vanished");
  VneidTokenFaults faults;
  SigningKey key;
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = EnsureKeys(); !s.ok()) return s;
    faults = faults_;
    key = published_.back();
    if (faults.unknown_kid) {
      if (!rogue_) {
        absl::StatusOr<SigningKey> rogue = MakeKey("sim-unpublished");
        if (!rogue.ok()) return rogue.status();
        rogue_ = *std::move(rogue);
      }
      key = *rogue_;
    }
  }
  const std::string payload = Claims(grant, *citizen, issuer, faults, now);
  auto header = [&key](absl::string_view alg) {
    return absl::StrCat("{\"alg\":\"", alg,
                        "\",\"typ\":\"JWT\",\"kid\":", JsonQuote(key.kid), "}");
  };
  if (faults.alg == "none") return Unsigned(header("none"), payload);
  if (faults.alg == "HS256") {
    return SignHs256(header("HS256"), payload, config_.client_secret);
  }
  absl::StatusOr<std::string> token =
      SignRs256(header("RS256"), payload, key.key.get());
  if (token.ok() && faults.bad_signature) {
    // One character in the middle of the signature: still base64url.
    char& c = (*token)[token->rfind('.') + 10];
    c = c == 'A' ? 'B' : 'A';
  }
  return token;
}

SimReply VneidService::Realm::Certs() {
  std::vector<std::string> keys;
  {
    absl::MutexLock lock(&mu_);
    if (!EnsureKeys().ok()) return OAuthError(500, "server_error", "No keys");
    for (const SigningKey& key : published_) keys.push_back(key.jwk);
    ++counters_.jwks_served;
  }
  return JsonReply(200,
                   absl::StrCat("{\"keys\":[", absl::StrJoin(keys, ","), "]}"));
}

VneidService::VneidService(VneidConfig config)
    : realm_(std::make_unique<Realm>(std::move(config))) {}
VneidService::~VneidService() = default;

SimReply VneidService::Handle(const SimRequest& request, absl::Time now) {
  return realm_->Handle(request, now);
}
absl::Status VneidService::RotateKeys(bool keep_old) {
  return realm_->RotateKeys(keep_old);
}
void VneidService::SetFaults(const VneidTokenFaults& faults) {
  realm_->SetFaults(faults);
}
VneidTokenFaults VneidService::faults() const { return realm_->faults(); }
VneidCounters VneidService::counters() const { return realm_->counters(); }

absl::Status MergeVneidFaultsJson(const JsonObject& json,
                                  VneidTokenFaults& faults) {
  VneidTokenFaults merged = faults;
  const std::pair<const char*, bool*> flags[] = {
      {"expired", &merged.expired},
      {"not_yet_valid", &merged.not_yet_valid},
      {"wrong_audience", &merged.wrong_audience},
      {"extra_audience", &merged.extra_audience},
      {"wrong_issuer", &merged.wrong_issuer},
      {"wrong_nonce", &merged.wrong_nonce},
      {"bad_signature", &merged.bad_signature},
      {"unknown_kid", &merged.unknown_kid}};
  for (const auto& [name, field] : flags) {
    if (!JsonHas(json, name)) continue;
    std::optional<bool> value = JsonBool(json, name);
    if (!value) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must be a boolean"));
    }
    *field = *value;
  }
  if (JsonHas(json, "alg")) {
    merged.alg = JsonText(json, "alg");
    if (!merged.alg.empty() && merged.alg != "none" && merged.alg != "HS256") {
      return absl::InvalidArgumentError(
          "alg must be \"\", \"none\" or \"HS256\"");
    }
  }
  if (JsonHas(json, "acr")) merged.acr = JsonText(json, "acr");
  faults = merged;
  return absl::OkStatus();
}

SimReply VneidControl(VneidService& vneid, const SimRequest& request) {
  auto bad = [](absl::string_view why) {
    return JsonReply(400, absl::StrCat("{\"error\":", JsonQuote(why), "}"));
  };
  absl::StatusOr<JsonObject> json =
      request.method == "POST" ? ParseJsonObject(request.body) : JsonObject();
  if (!json.ok()) return bad(json.status().message());
  if (request.path == "/_sim/vneid/faults" && request.method == "POST") {
    VneidTokenFaults faults = JsonBool(*json, "reset").value_or(false)
                                  ? VneidTokenFaults{}
                                  : vneid.faults();
    if (absl::Status s = MergeVneidFaultsJson(*json, faults); !s.ok()) {
      return bad(s.message());
    }
    vneid.SetFaults(faults);
  } else if (request.path == "/_sim/vneid/rotate-keys" &&
             request.method == "POST") {
    if (absl::Status s =
            vneid.RotateKeys(JsonBool(*json, "keep_old").value_or(false));
        !s.ok()) {
      return JsonReply(
          500, absl::StrCat("{\"error\":", JsonQuote(s.message()), "}"));
    }
  } else if (request.path != "/_sim/vneid/stats" || request.method != "GET") {
    return JsonReply(404, R"({"error":"not found"})");
  }
  VneidCounters c = vneid.counters();
  VneidTokenFaults f = vneid.faults();
  return JsonReply(
      200,
      absl::StrCat("{\"authorizations\":", c.authorizations,
                   ",\"tokens_issued\":", c.tokens_issued,
                   ",\"grants_refused\":", c.grants_refused,
                   ",\"jwks_served\":", c.jwks_served,
                   ",\"key_rotations\":", c.key_rotations, ",\"faults\":{",
                   "\"expired\":", f.expired ? "true" : "false",
                   ",\"not_yet_valid\":", f.not_yet_valid ? "true" : "false",
                   ",\"wrong_audience\":", f.wrong_audience ? "true" : "false",
                   ",\"extra_audience\":", f.extra_audience ? "true" : "false",
                   ",\"wrong_issuer\":", f.wrong_issuer ? "true" : "false",
                   ",\"wrong_nonce\":", f.wrong_nonce ? "true" : "false",
                   ",\"bad_signature\":", f.bad_signature ? "true" : "false",
                   ",\"unknown_kid\":", f.unknown_kid ? "true" : "false",
                   ",\"alg\":", JsonQuote(f.alg), ",\"acr\":", JsonQuote(f.acr),
                   "}}"));
}

}  // namespace lienthong::sim
