#include "adapters/dvcqg_portal/portal_response.h"

#include <cmath>
#include <optional>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/common/json_reply.h"
#include "adapters/common/retriable.h"
#include "adapters/common/text.h"
#include "gateway/status/bounded_text.h"
#include "gateway/validation/text.h"

namespace lienthong::adapters::dvcqg {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

absl::Status Retriable(std::string message, absl::string_view retry_after) {
  return MarkRetriableAfter(absl::UnavailableError(std::move(message)),
                            retry_after);
}

std::optional<Struct> ParseObject(absl::string_view body) {
  Struct json;
  if (!ParseJsonReply(body, &json).ok()) return std::nullopt;
  return json;
}

// The error_code as text ("-1", "00"), or nullopt when absent or neither a
// string nor a whole number.
std::optional<std::string> CodeText(const Value& value) {
  if (value.kind_case() == Value::kStringValue) return value.string_value();
  if (value.kind_case() == Value::kNumberValue) {
    const double n = value.number_value();
    if (std::isfinite(n) && n == std::floor(n) && std::fabs(n) < 1e15) {
      return absl::StrFormat("%.0f", n);
    }
  }
  return std::nullopt;
}

std::string Text(const Struct& json, const std::string& key) {
  auto it = json.fields().find(key);
  if (it == json.fields().end()) return "";
  if (it->second.kind_case() == Value::kStringValue) {
    return it->second.string_value();
  }
  if (std::optional<std::string> code = CodeText(it->second)) return *code;
  return "";
}

bool IsSessionText(absl::string_view session) {
  return !session.empty() && session.size() <= 4096 &&
         validation::IsVisibleAscii(session);
}

}  // namespace

bool IsSuccessCode(const Value& error_code) {
  if (error_code.kind_case() == Value::kNumberValue) {
    return error_code.number_value() == 0;
  }
  if (error_code.kind_case() != Value::kStringValue) return false;
  const std::string& text = error_code.string_value();
  return !text.empty() && text.size() <= 4 &&
         absl::c_all_of(text, [](char c) { return c == '0'; });
}

absl::StatusOr<PortalAnswer> ParsePortalAnswer(
    long http_status, absl::string_view body, absl::string_view retry_after,
    absl::Span<const std::string> session_codes) {
  PortalAnswer answer;
  if (http_status == 401 || http_status == 403) {
    answer.kind = PortalAnswer::Kind::kSessionRefused;
    return answer;
  }
  if (http_status == 404 || http_status == 405) {
    return Retriable(
        absl::StrCat("the portal has no such endpoint (HTTP ", http_status,
                     "): check the configured endpoints"),
        retry_after);
  }
  const bool client_error = http_status >= 400 && http_status < 500 &&
                            http_status != 408 && http_status != 429;
  if (!client_error && (http_status < 200 || http_status >= 300)) {
    return Retriable(
        absl::StrCat("the portal is unavailable (HTTP ", http_status, ")"),
        retry_after);
  }
  std::optional<Struct> json = ParseObject(body);
  const Value* code = nullptr;
  if (json.has_value()) {
    auto it = json->fields().find("error_code");
    if (it != json->fields().end()) code = &it->second;
  }
  std::optional<std::string> text;
  if (code != nullptr) text = CodeText(*code);
  if (!text.has_value()) {
    if (client_error) {
      // The request was refused, in no form the portal documents.
      answer.kind = PortalAnswer::Kind::kError;
      answer.error_code = absl::StrCat("HTTP ", http_status);
      return answer;
    }
    return Retriable("the portal sent a malformed reply", retry_after);
  }
  if (!client_error && IsSuccessCode(*code)) {
    answer.kind = PortalAnswer::Kind::kSuccess;
    answer.json = *std::move(json);
    return answer;
  }
  if (absl::c_linear_search(session_codes, *text)) {
    answer.kind = PortalAnswer::Kind::kSessionRefused;
    return answer;
  }
  answer.kind = PortalAnswer::Kind::kError;
  // Both may end up in a dead-letter reason, which the CLI prints: no
  // control character may reach the operator's terminal.
  answer.error_code =
      CutWithEllipsis(ReplaceControlCharacters(*text), kMaxReasonBytes);
  answer.message = CutWithEllipsis(
      ReplaceControlCharacters(Text(*json, "message")), kMaxReasonBytes);
  return answer;
}

namespace {
constexpr absl::string_view kCredentialsRefusedUrl =
    "type.lienthong/dvcqg.CredentialsRefused";
}  // namespace

absl::Status CredentialsRefused(absl::Status status) {
  status.SetPayload(kCredentialsRefusedUrl, absl::Cord("1"));
  return status;
}

bool AreCredentialsRefused(const absl::Status& status) {
  return status.GetPayload(kCredentialsRefusedUrl).has_value();
}

absl::StatusOr<std::string> ParseSignIn(long http_status,
                                        absl::string_view body,
                                        absl::string_view retry_after) {
  constexpr absl::string_view kRefused =
      "the portal refused the gateway's sign-in (check portal username and "
      "password)";
  absl::StatusOr<PortalAnswer> answer =
      ParsePortalAnswer(http_status, body, retry_after, {});
  if (!answer.ok()) return answer.status();
  if (answer->kind != PortalAnswer::Kind::kSuccess) {
    return CredentialsRefused(Retriable(std::string(kRefused), retry_after));
  }
  std::string session = Text(answer->json, "session");
  if (!IsSessionText(session)) {
    return Retriable("the portal's sign-in answer has no usable session",
                     retry_after);
  }
  return session;
}

absl::StatusOr<PortalOutcome> ToOutcome(const PortalAnswer& answer,
                                        bool create) {
  PortalOutcome outcome;
  if (answer.kind == PortalAnswer::Kind::kSuccess) return outcome;
  if (absl::StartsWith(answer.error_code, "5")) {
    return Retriable("the portal answered with an internal error", "");
  }
  if (create && answer.error_code == "-1") {
    outcome.kind = PortalOutcome::Kind::kAlreadyExists;
    return outcome;
  }
  outcome.kind = PortalOutcome::Kind::kRejected;
  if (!answer.message.empty()) {
    outcome.reason = answer.message;
  } else if (absl::StartsWith(answer.error_code, "HTTP ")) {
    outcome.reason = answer.error_code;
  } else {
    outcome.reason = absl::StrCat("error_code ", answer.error_code);
  }
  return outcome;
}

bool DossierLookup::HasStep(const Step& sent) const {
  return absl::c_any_of(progress, [&](const Step& shown) {
    return shown.status == sent.status && shown.time == sent.time &&
           (shown.department.empty() || shown.department == sent.department) &&
           (shown.content.empty() || shown.content == sent.content) &&
           (shown.handler.empty() || shown.handler == sent.handler);
  });
}

absl::StatusOr<DossierLookup> ParseLookup(const Struct& json,
                                          absl::string_view dossier_code) {
  DossierLookup lookup;
  auto result = json.fields().find("result");
  if (result == json.fields().end() ||
      result->second.kind_case() == Value::kNullValue) {
    return lookup;
  }
  if (result->second.kind_case() != Value::kListValue) {
    return Retriable("the portal's lookup answer has a malformed result", "");
  }
  // The entry about the dossier asked for: an object naming it, or naming
  // no dossier at all. An entry about another dossier, or one that is no
  // object, shows nothing about this one.
  const Struct* entry = nullptr;
  for (const Value& value : result->second.list_value().values()) {
    if (value.kind_case() != Value::kStructValue) continue;
    const Struct& candidate = value.struct_value();
    if (candidate.fields().contains("MaHoSo") &&
        Text(candidate, "MaHoSo") != dossier_code) {
      continue;
    }
    if (entry != nullptr) {
      return Retriable("the portal's lookup answer lists the dossier twice",
                       "");
    }
    entry = &candidate;
  }
  lookup.found = entry != nullptr;
  if (entry == nullptr) return lookup;
  const Struct& dossier = *entry;
  auto steps = dossier.fields().find("QuaTrinhXuLy");
  if (steps == dossier.fields().end() ||
      steps->second.kind_case() != Value::kListValue) {
    return lookup;
  }
  lookup.shows_progress = true;
  for (const Value& step : steps->second.list_value().values()) {
    if (step.kind_case() != Value::kStructValue) continue;
    lookup.progress.push_back({Text(step.struct_value(), "TrangThai"),
                               Text(step.struct_value(), "ThoiDiemXuLy"),
                               Text(step.struct_value(), "PhongBanXuLy"),
                               Text(step.struct_value(), "NoiDungXuLy"),
                               Text(step.struct_value(), "NguoiXuLy")});
  }
  return lookup;
}

}  // namespace lienthong::adapters::dvcqg
