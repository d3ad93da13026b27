#include "adapters/common/agency/agency_answer.h"

#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/common/json_reply.h"
#include "adapters/common/retriable.h"
#include "adapters/common/text.h"
#include "gateway/status/bounded_text.h"

namespace lienthong::adapters::agency {
namespace {

// `text` made safe to show (ReplaceControlCharacters), cut to kMaxReasonBytes
// (an ellipsis included) at a UTF-8 boundary: the reason is printed on the
// operator's terminal.
std::string CleanReason(absl::string_view text) {
  return CutWithEllipsis(ReplaceControlCharacters(text), kMaxReasonBytes);
}

// A JSON number that is a whole number below 10^15 in magnitude, as text.
std::optional<std::string> WholeNumberText(
    const google::protobuf::Value& value) {
  if (value.kind_case() == google::protobuf::Value::kNumberValue &&
      std::isfinite(value.number_value()) &&
      value.number_value() == std::floor(value.number_value()) &&
      std::fabs(value.number_value()) < 1e15) {
    return absl::StrFormat("%.0f", value.number_value());
  }
  return std::nullopt;
}

// An error_code's text: a non-empty string, or a whole number.
std::optional<std::string> CodeText(const google::protobuf::Value& value) {
  if (value.kind_case() == google::protobuf::Value::kStringValue) {
    if (value.string_value().empty()) return std::nullopt;
    return value.string_value();
  }
  return WholeNumberText(value);
}

absl::Status Unavailable(absl::string_view agency, absl::string_view what,
                         absl::string_view retry_after = "") {
  return MarkRetriableAfter(
      absl::UnavailableError(absl::StrCat("agency '", agency, "' ", what)),
      retry_after);
}

}  // namespace

std::optional<std::string> DataText(const google::protobuf::Struct& data,
                                    const std::string& key) {
  auto it = data.fields().find(key);
  if (it == data.fields().end()) return std::nullopt;
  const google::protobuf::Value& value = it->second;
  if (value.kind_case() == google::protobuf::Value::kStringValue) {
    if (value.string_value().empty()) return std::nullopt;
    return value.string_value();
  }
  return WholeNumberText(value);
}

absl::StatusOr<AgencyAnswer> ParseAgencyAnswer(absl::string_view agency,
                                               long http_status,
                                               absl::string_view body,
                                               absl::string_view retry_after) {
  switch (http_status) {
    case 200:
      break;
    case 400:
    case 422:
      return absl::InvalidArgumentError(absl::StrCat(
          "agency '", agency, "' cannot take the step as sent (HTTP ",
          http_status, ")"));
    case 409:
      return absl::InvalidArgumentError(absl::StrCat(
          "agency '", agency,
          "' holds other content under this idempotency key (HTTP 409)"));
    case 401:
    case 403:
      return Unavailable(agency,
                         absl::StrCat("refused the gateway's credentials "
                                      "(HTTP ",
                                      http_status, ")"),
                         retry_after);
    case 404:
    case 405:
      return Unavailable(
          agency,
          absl::StrCat("has no such endpoint (HTTP ", http_status,
                       "): check the adapter's paths"),
          retry_after);
    default:
      return Unavailable(agency,
                         absl::StrCat("failed with HTTP ", http_status),
                         retry_after);
  }
  google::protobuf::Struct json;
  if (absl::Status parsed = ParseJsonReply(body, &json); !parsed.ok()) {
    return Unavailable(
        agency, absl::StrCat("answered something that is ", parsed.message()));
  }
  auto code_it = json.fields().find("error_code");
  if (code_it == json.fields().end()) {
    return Unavailable(agency, "answered without an error_code");
  }
  const std::optional<std::string> code = CodeText(code_it->second);
  if (!code.has_value()) {
    return Unavailable(agency,
                       "answered an error_code that is neither text nor a "
                       "whole number");
  }
  AgencyAnswer answer;
  if (auto ref = DataText(json, "reference")) answer.reference = *ref;
  if (*code == "0" || *code == "00") {
    auto data = json.fields().find("data");
    if (data != json.fields().end() &&
        data->second.kind_case() != google::protobuf::Value::kNullValue) {
      if (data->second.kind_case() != google::protobuf::Value::kStructValue) {
        return Unavailable(agency, "answered a data member that is not an object");
      }
      answer.data = data->second.struct_value();
    }
    return answer;
  }
  answer.refused = true;
  auto message = json.fields().find("message");
  if (message != json.fields().end() &&
      message->second.kind_case() == google::protobuf::Value::kStringValue &&
      !message->second.string_value().empty()) {
    answer.reason = CleanReason(message->second.string_value());
  } else {
    answer.reason = CleanReason(absl::StrCat("refused with code ", *code));
  }
  return answer;
}

}  // namespace lienthong::adapters::agency
