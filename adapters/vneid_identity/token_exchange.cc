#include "adapters/vneid_identity/token_exchange.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/vneid_identity/json_object.h"
#include "adapters/vneid_identity/jws.h"
#include "adapters/vneid_identity/vneid_wire.pb.h"

namespace lienthong::adapters::vneid {
namespace {

absl::Status Malformed(absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("VNeID sent a malformed token response: ", what));
}

// The error answer's "error" member, or "" when the body is not one.
std::string ErrorCode(absl::string_view body) {
  wire::TokenResponse message;
  return ParseJsonInto(body, &message) ? message.error() : "";
}

}  // namespace

std::string FormEncode(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string BuildTokenRequestBody(
    const lienthong::v1::VneidSignInRequest& request,
    absl::string_view client_id, absl::string_view client_secret,
    bool credentials_in_body) {
  std::string body =
      absl::StrCat("grant_type=authorization_code&code=",
                   FormEncode(request.authorization_code()),
                   "&redirect_uri=", FormEncode(request.redirect_uri()));
  if (!request.code_verifier().empty()) {
    absl::StrAppend(&body,
                    "&code_verifier=", FormEncode(request.code_verifier()));
  }
  if (credentials_in_body) {
    absl::StrAppend(&body, "&client_id=", FormEncode(client_id),
                    "&client_secret=", FormEncode(client_secret));
  }
  return body;
}

std::string BasicAuthorization(absl::string_view client_id,
                               absl::string_view client_secret) {
  return absl::StrCat(
      "Basic ", absl::Base64Escape(absl::StrCat(FormEncode(client_id), ":",
                                                FormEncode(client_secret))));
}

absl::StatusOr<std::string> ParseTokenResponse(long http_status,
                                               absl::string_view body) {
  if (http_status != 200) {
    const std::string error =
        http_status >= 400 && http_status < 500 ? ErrorCode(body) : "";
    if (http_status == 400 && error == "invalid_grant") {
      return absl::UnauthenticatedError("authorization code refused by VNeID");
    }
    if (http_status == 401 || error == "invalid_client" ||
        error == "unauthorized_client") {
      return absl::UnavailableError(
          "VNeID refused the gateway's client credentials");
    }
    if (http_status >= 400 && http_status < 500) {
      return absl::UnavailableError("VNeID refused the token request");
    }
    return absl::UnavailableError(
        absl::StrCat("VNeID token endpoint answered HTTP ", http_status));
  }
  wire::TokenResponse message;
  if (!ParseJsonInto(body, &message)) return Malformed("not the expected JSON");
  if (message.id_token().empty()) return Malformed("no id_token");
  if (message.id_token().size() > kMaxIdTokenBytes) {
    return Malformed("id_token too long");
  }
  if (!message.token_type().empty() &&
      !absl::EqualsIgnoreCase(message.token_type(), "Bearer")) {
    return Malformed("token_type is not Bearer");
  }
  return message.id_token();
}

}  // namespace lienthong::adapters::vneid
