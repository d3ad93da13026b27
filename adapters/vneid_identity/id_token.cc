#include "adapters/vneid_identity/id_token.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/vneid_identity/json_object.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/text.h"
#include "google/protobuf/util/time_util.h"

namespace lienthong::adapters::vneid {
namespace {

using google::protobuf::Value;
using lienthong::v1::VneidSignInResponse;

// A token the realm should never send (not JSON, a claim of the wrong type,
// a required claim missing): VNeID is misbehaving for everyone, so it counts
// against its health like an outage (UNAVAILABLE).
absl::Status Malformed(absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("VNeID sent a malformed id token: ", what));
}

// A well-formed token, signed by the realm and meant for this sign-in, for
// an account whose identity the gateway cannot take (an ID breaking the
// citizen-ID rules, claims that disagree): one citizen's account data, not
// VNeID failing. Not UNAVAILABLE, which the circuit breaker counts
// (server::IsUpstreamFailure), so that a few unusual accounts cannot shut
// sign-in for everyone; not UNAUTHENTICATED or PERMISSION_DENIED, as who
// signed in is proven and the portal's grant is not in question.
// FAILED_PRECONDITION: signing in again cannot help until the account's data
// is corrected at VNeID, and the breaker records it as a healthy answer.
absl::Status IdentityRefused(absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat("VNeID identity not accepted: ", what));
}

// A claim's value as a string, or nullopt when absent; a wrong type is
// malformed.
absl::StatusOr<std::optional<std::string>> StringClaim(
    const JsonObject& claims, const std::string& name) {
  auto value = StringMember(claims, name);
  if (!value.ok()) return Malformed(value.status().message());
  return value;
}

// A NumericDate claim (RFC 7519 section 2): seconds since the epoch, maybe
// with a fraction, which is dropped.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const JsonObject& claims,
                                                    const std::string& name) {
  auto value = NumberMember(claims, name);
  if (!value.ok()) return Malformed(value.status().message());
  if (!value->has_value()) return std::optional<absl::Time>();
  const double seconds = **value;
  // Up to the year 5138: beyond it, or negative, is no real time.
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) {
    return Malformed(absl::StrCat(name, " is not a time"));
  }
  return std::optional<absl::Time>(
      absl::FromUnixSeconds(static_cast<int64_t>(std::floor(seconds))));
}

absl::Status CheckAudience(const JsonObject& claims,
                           const std::string& client_id) {
  auto it = claims.fields().find("aud");
  if (it == claims.fields().end()) return Malformed("missing aud");
  std::vector<std::string> audiences;
  if (it->second.kind_case() == Value::kStringValue) {
    audiences.push_back(it->second.string_value());
  } else if (it->second.kind_case() == Value::kListValue) {
    for (const Value& v : it->second.list_value().values()) {
      if (v.kind_case() != Value::kStringValue) {
        return Malformed("aud holds a non-string");
      }
      audiences.push_back(v.string_value());
    }
  } else {
    return Malformed("aud is not a string or an array");
  }
  const absl::Status other =
      absl::UnauthenticatedError("id token for another audience");
  if (std::find(audiences.begin(), audiences.end(), client_id) ==
      audiences.end()) {
    return other;
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> azp,
                             StringClaim(claims, "azp"));
  // Several audiences: the party the token was issued to must be us.
  if (audiences.size() > 1 && !azp.has_value()) return other;
  if (azp.has_value() && *azp != client_id) return other;
  return absl::OkStatus();
}

// exp, nbf and iat against the clock; returns exp.
absl::StatusOr<absl::Time> CheckTimes(const JsonObject& claims,
                                      const IdTokenExpectations& want) {
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<absl::Time> exp,
                             TimeClaim(claims, "exp"));
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<absl::Time> iat,
                             TimeClaim(claims, "iat"));
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<absl::Time> nbf,
                             TimeClaim(claims, "nbf"));
  if (!exp.has_value()) return Malformed("missing exp");
  if (!iat.has_value()) return Malformed("missing iat");
  if (*exp + want.clock_skew <= want.now) {
    return absl::UnauthenticatedError("id token expired");
  }
  if (*iat - want.clock_skew > want.now ||
      (nbf.has_value() && *nbf - want.clock_skew > want.now)) {
    return absl::UnauthenticatedError("id token not yet valid");
  }
  return *exp;
}

// acr "1"/"2" (Keycloak sends a string) or 1/2.
absl::StatusOr<int> AssuranceLevel(const JsonObject& claims) {
  const absl::Status refused =
      absl::UnauthenticatedError("id token without assurance level 1 or 2");
  auto it = claims.fields().find("acr");
  if (it == claims.fields().end()) return refused;
  const Value& acr = it->second;
  if (acr.kind_case() == Value::kStringValue) {
    if (acr.string_value() == "1") return 1;
    if (acr.string_value() == "2") return 2;
  } else if (acr.kind_case() == Value::kNumberValue) {
    if (acr.number_value() == 1) return 1;
    if (acr.number_value() == 2) return 2;
  }
  return refused;
}

// "yyyy-MM-dd" / "yyyy" (`dashed`) or "yyyyMMdd" / "yyyy" into a Date; no
// calendar check here (validation::ValidateDate does it).
std::optional<google::type::Date> ParseDateClaim(absl::string_view text,
                                                 bool dashed) {
  auto digits = [](absl::string_view s, int* out) {
    if (s.empty()) return false;
    for (char c : s) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return absl::SimpleAtoi(s, out);
  };
  google::type::Date date;
  int year = 0, month = 0, day = 0;
  if (text.size() == 4) {
    if (!digits(text, &year)) return std::nullopt;
  } else if (dashed && text.size() == 10 && text[4] == '-' && text[7] == '-') {
    if (!digits(text.substr(0, 4), &year) ||
        !digits(text.substr(5, 2), &month) ||
        !digits(text.substr(8, 2), &day)) {
      return std::nullopt;
    }
  } else if (!dashed && text.size() == 8) {
    if (!digits(text.substr(0, 4), &year) ||
        !digits(text.substr(4, 2), &month) ||
        !digits(text.substr(6, 2), &day)) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

absl::Status ReadBirthDate(const JsonObject& claims, absl::Time now,
                           VneidSignInResponse& out) {
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> oidc,
                             StringClaim(claims, "birthdate"));
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> national,
                             StringClaim(claims, "NgayThangNamSinh"));
  std::optional<google::type::Date> date;
  if (oidc.has_value()) {
    date = ParseDateClaim(*oidc, /*dashed=*/true);
    if (!date) return IdentityRefused("birthdate is not yyyy-MM-dd or yyyy");
  }
  if (national.has_value()) {
    std::optional<google::type::Date> other =
        ParseDateClaim(*national, /*dashed=*/false);
    if (!other) {
      return IdentityRefused("NgayThangNamSinh is not yyyyMMdd or yyyy");
    }
    if (date &&
        (date->year() != other->year() || date->month() != other->month() ||
         date->day() != other->day())) {
      return IdentityRefused("birthdate and NgayThangNamSinh disagree");
    }
    date = other;
  }
  if (!date) return absl::OkStatus();
  if (!validation::ValidateDate(*date, now).ok()) {
    return IdentityRefused("birth date is not a valid date");
  }
  *out.mutable_birth_date() = *date;
  return absl::OkStatus();
}

absl::Status ReadIdentity(const JsonObject& claims, absl::Time now,
                          VneidSignInResponse& out) {
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> sub,
                             StringClaim(claims, "sub"));
  if (!sub.has_value() || sub->empty() || sub->size() > 255) {
    return Malformed("missing or oversized sub");
  }
  // Passed on to the portal and printed by the CLI: text only.
  if (!validation::ValidateText(*sub, 255).ok()) {
    return Malformed("sub is not text");
  }
  out.set_subject(*sub);
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> username,
                             StringClaim(claims, "preferred_username"));
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> national_id,
                             StringClaim(claims, "SoDinhDanh"));
  const absl::Status bad_id =
      IdentityRefused("preferred_username is not a valid 12-digit citizen ID");
  if (!username.has_value() || username->size() != 12) return bad_id;
  if (national_id.has_value() && *national_id != *username) {
    return IdentityRefused("SoDinhDanh differs from preferred_username");
  }
  out.set_citizen_id(*username);

  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> name,
                             StringClaim(claims, "name"));
  if (!name.has_value()) {
    LIENTHONG_ASSIGN_OR_RETURN(name, StringClaim(claims, "HoVaTen"));
  }
  if (name.has_value()) {
    // The gateway's one text rule: UTF-8, bounded, no C0 control or DEL.
    if (absl::Status text = validation::ValidateText(*name, 400); !text.ok()) {
      return IdentityRefused(absl::StrCat("name ", text.message()));
    }
    out.set_full_name(*name);
  }
  LIENTHONG_RETURN_IF_ERROR(ReadBirthDate(claims, now, out));
  // The ID's own digits (province, gender/century, birth year) and the
  // birth date must agree, as for every ID a caller sends.
  const google::type::Date* date =
      out.has_birth_date() ? &out.birth_date() : nullptr;
  if (!validation::ValidateCitizenId(out.citizen_id(), date, now).ok()) {
    return bad_id;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SignedInCitizen> CheckIdTokenClaims(
    absl::string_view claims_json, const IdTokenExpectations& want) {
  absl::StatusOr<JsonObject> claims = ParseJsonObject(claims_json);
  if (!claims.ok()) return Malformed("claims are not a JSON object");

  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> iss,
                             StringClaim(*claims, "iss"));
  if (!iss.has_value()) return Malformed("missing iss");
  if (*iss != want.issuer) {
    return absl::UnauthenticatedError("id token from another issuer");
  }
  LIENTHONG_RETURN_IF_ERROR(CheckAudience(*claims, want.client_id));
  LIENTHONG_ASSIGN_OR_RETURN(absl::Time expires_at, CheckTimes(*claims, want));
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<std::string> nonce,
                             StringClaim(*claims, "nonce"));
  if (!nonce.has_value() || *nonce != want.nonce) {
    return absl::UnauthenticatedError("nonce does not match");
  }
  LIENTHONG_ASSIGN_OR_RETURN(int level, AssuranceLevel(*claims));

  SignedInCitizen signed_in;
  signed_in.expires_at = expires_at;
  signed_in.response.set_assurance_level(level);
  *signed_in.response.mutable_expires_at() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(
          absl::ToUnixSeconds(expires_at));
  LIENTHONG_RETURN_IF_ERROR(
      ReadIdentity(*claims, want.now, signed_in.response));
  return signed_in;
}

}  // namespace lienthong::adapters::vneid
