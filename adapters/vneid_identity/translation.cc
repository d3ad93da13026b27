#include "adapters/vneid_identity/translation.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/common/retriable.h"
#include "adapters/common/text.h"
#include "adapters/vneid_identity/vneid_wire.pb.h"
#include "gateway/status/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::adapters::vneid {
namespace {

using lienthong::v1::VerifyIdentityRequest;
using lienthong::v1::VerifyIdentityResponse;

absl::Status Malformed(absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("VNeID sent a malformed reply: ", what));
}

// The statuses every VNeID call treats alike; OK for 200.
absl::Status CommonHttpStatus(long http_status) {
  if (http_status == 200) return absl::OkStatus();
  if (http_status == 429 || http_status == 502 || http_status == 503 ||
      http_status == 504) {
    return MarkRetriable(absl::UnavailableError(
        absl::StrCat("VNeID is unavailable (HTTP ", http_status, ")")));
  }
  return absl::UnavailableError(
      absl::StrCat("VNeID answered HTTP ", http_status));
}

template <typename Message>
absl::Status ParseJson(absl::string_view body, Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(body.data(), body.size()), message,
           options)
           .ok()) {
    return Malformed("not the expected JSON");
  }
  return absl::OkStatus();
}

void AppendFormEncoded(absl::string_view value, std::string* out) {
  for (char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out->push_back(c);
    } else {
      absl::StrAppendFormat(out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
}

bool IsCitizenIdShape(absl::string_view id) {
  return (id.size() == 12 || id.size() == 9) &&
         std::all_of(id.begin(), id.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

}  // namespace

std::string BuildTokenRequestBody(absl::string_view client_id,
                                  absl::string_view client_secret) {
  std::string body = "grant_type=client_credentials&client_id=";
  AppendFormEncoded(client_id, &body);
  body.append("&client_secret=");
  AppendFormEncoded(client_secret, &body);
  return body;
}

absl::StatusOr<Token> ParseTokenResponse(long http_status,
                                         absl::string_view body) {
  if (http_status == 400 || http_status == 401 || http_status == 403) {
    return absl::UnavailableError("VNeID rejected the gateway's credentials");
  }
  LIENTHONG_RETURN_IF_ERROR(CommonHttpStatus(http_status));
  wire::TokenResponse message;
  LIENTHONG_RETURN_IF_ERROR(ParseJson(body, &message));
  const std::string& token = message.access_token();
  if (token.empty()) return Malformed("missing access_token");
  // The token is sent back in an Authorization header: no CR/LF or spaces.
  if (!std::all_of(token.begin(), token.end(),
                   [](char c) { return c > 0x20 && c < 0x7F; })) {
    return Malformed("bad access_token");
  }
  if (!message.token_type().empty() &&
      !absl::EqualsIgnoreCase(message.token_type(), "Bearer")) {
    return Malformed("token_type is not Bearer");
  }
  if (!message.has_expires_in() || message.expires_in() <= 0) {
    return Malformed("bad expires_in");
  }
  return Token{token, absl::Seconds(message.expires_in())};
}

absl::StatusOr<std::string> BuildVerifyBody(
    const VerifyIdentityRequest& request, absl::string_view request_id) {
  if (!IsCitizenIdShape(request.citizen_id())) {
    return absl::InvalidArgumentError(
        "citizen_id must have 12 digits (or 9 for an old ID card)");
  }
  if (request.full_name().empty()) {
    return absl::InvalidArgumentError("full_name is required");
  }
  wire::VerifyRequest message;
  message.set_mayeucau(std::string(request_id));
  message.set_sodinhdanh(request.citizen_id());
  LIENTHONG_ASSIGN_OR_RETURN(*message.mutable_hovaten(),
                             FoldName(request.full_name()));
  const google::type::Date& date = request.birth_date();
  if (request.has_birth_date() && date.year() != 0) {
    message.set_ngaysinh(date.month() == 0 && date.day() == 0
                             ? absl::StrFormat("%04d", date.year())
                             : absl::StrFormat("%04d%02d%02d", date.year(),
                                               date.month(), date.day()));
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return absl::InternalError("could not print the VNeID verify request");
  }
  return json;
}

absl::StatusOr<VerifyIdentityResponse> ParseVerifyResponse(
    long http_status, absl::string_view body) {
  if (http_status == 401) {
    return absl::UnauthenticatedError("VNeID refused the access token");
  }
  LIENTHONG_RETURN_IF_ERROR(CommonHttpStatus(http_status));
  wire::VerifyResponse message;
  LIENTHONG_RETURN_IF_ERROR(ParseJson(body, &message));
  if (!message.ma().empty() && message.ma() != "00") {
    return absl::UnavailableError("VNeID reported an error");
  }
  if (!message.has_dulieu()) return Malformed("missing duLieu");
  const wire::VerifyResult& result = message.dulieu();

  // The reply is still checked whole, but only MATCH / NO_MATCH leaves the
  // gateway (identity.proto says why).
  VerifyIdentityResponse response;
  bool mismatch = false;
  bool not_found = false;
  if (result.ketqua() == "KHOP") {
    response.set_result(VerifyIdentityResponse::MATCH);
  } else if (result.ketqua() == "KHONG_KHOP") {
    mismatch = true;
  } else if (result.ketqua() == "KHONG_TIM_THAY") {
    not_found = true;
  } else {
    return Malformed("unknown ketQua");
  }
  if (mismatch || not_found)
    response.set_result(VerifyIdentityResponse::NO_MATCH);

  for (const std::string& field : result.truongkhongkhop()) {
    if (field != "hoVaTen" && field != "ngaySinh") {
      return Malformed("unknown field in truongKhongKhop");
    }
  }
  if (mismatch != (result.truongkhongkhop_size() > 0)) {
    return Malformed("truongKhongKhop does not agree with ketQua");
  }

  if (not_found) {
    if (result.mucdodinhdanh() != 0) {
      return Malformed("mucDoDinhDanh is not 0 for KHONG_TIM_THAY");
    }
  } else if (!result.has_mucdodinhdanh()) {
    return Malformed("missing mucDoDinhDanh");
  }
  if (result.mucdodinhdanh() < 0 || result.mucdodinhdanh() > 2) {
    return Malformed("mucDoDinhDanh outside 0..2");
  }
  response.set_reference(message.matraloi());
  return response;
}

}  // namespace lienthong::adapters::vneid
