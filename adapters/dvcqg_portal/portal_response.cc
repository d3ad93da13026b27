#include "adapters/dvcqg_portal/portal_response.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/common/retriable.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::adapters::dvcqg {
namespace {

struct Answer {
  std::string error_code;
  std::string message;
};

// The portal's {"error_code", "message"}, or nullopt when the body is not
// that JSON.
std::optional<Answer> ReadAnswer(absl::string_view body) {
  google::protobuf::Struct json;
  google::protobuf::util::JsonParseOptions options;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(body.data(), body.size()), &json,
           options)
           .ok()) {
    return std::nullopt;
  }
  auto code = json.fields().find("error_code");
  if (code == json.fields().end()) return std::nullopt;
  Answer answer;
  const google::protobuf::Value& value = code->second;
  if (value.kind_case() == google::protobuf::Value::kStringValue) {
    answer.error_code = value.string_value();
  } else if (value.kind_case() == google::protobuf::Value::kNumberValue) {
    answer.error_code = absl::StrFormat("%.0f", value.number_value());
  } else {
    return std::nullopt;
  }
  auto message = json.fields().find("message");
  if (message != json.fields().end() &&
      message->second.kind_case() == google::protobuf::Value::kStringValue) {
    answer.message = message->second.string_value();
  }
  return answer;
}

// `text` cut to at most kMaxReasonBytes without splitting a UTF-8 sequence.
std::string Truncated(absl::string_view text) {
  if (text.size() <= kMaxReasonBytes) return std::string(text);
  size_t end = kMaxReasonBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return absl::StrCat(text.substr(0, end), "…");
}

absl::Status Retriable(std::string message, absl::string_view retry_after) {
  return MarkRetriableAfter(absl::UnavailableError(std::move(message)),
                            retry_after);
}

PortalOutcome Rejected(std::string reason) {
  PortalOutcome outcome;
  outcome.kind = PortalOutcome::Kind::kRejected;
  outcome.reason = std::move(reason);
  return outcome;
}

}  // namespace

absl::StatusOr<PortalOutcome> ParsePortalAnswer(long http_status,
                                                absl::string_view body,
                                                absl::string_view retry_after) {
  if (http_status == 401 || http_status == 403) {
    return Retriable(absl::StrCat("the portal refused the gateway's API key "
                                  "(HTTP ",
                                  http_status, ")"),
                     retry_after);
  }
  if (http_status == 404 || http_status == 405) {
    return Retriable(absl::StrCat("the portal has no such call (HTTP ",
                                  http_status, "): check the configured paths"),
                     retry_after);
  }
  if (http_status == 408 || http_status == 429 || http_status >= 500 ||
      http_status < 200) {
    return Retriable(
        absl::StrCat("the portal is unavailable (HTTP ", http_status, ")"),
        retry_after);
  }
  std::optional<Answer> answer = ReadAnswer(body);
  if (http_status >= 200 && http_status < 300) {
    if (!answer.has_value()) {
      return Retriable("the portal sent a malformed reply", retry_after);
    }
    if (answer->error_code == "0") return PortalOutcome{};
    if (answer->error_code == "-1") {
      PortalOutcome outcome;
      outcome.kind = PortalOutcome::Kind::kAlreadyExists;
      return outcome;
    }
  }
  if (answer.has_value()) {
    if (absl::StartsWith(answer->error_code, "5")) {
      return Retriable("the portal answered with an internal error",
                       retry_after);
    }
    if (answer->message.empty()) {
      return Rejected(absl::StrCat("error_code ", Truncated(answer->error_code)));
    }
    return Rejected(Truncated(answer->message));
  }
  if (http_status >= 300 && http_status < 400) {
    return Retriable(
        absl::StrCat("the portal redirected the call (HTTP ", http_status, ")"),
        retry_after);
  }
  return Rejected(absl::StrCat("HTTP ", http_status));
}

}  // namespace lienthong::adapters::dvcqg
