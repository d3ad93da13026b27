#include "adapters/ministry_rest_json/record_reply.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "adapters/common/json_reply.h"
#include "adapters/common/retriable.h"

namespace lienthong::adapters::ministry_rest_json {
namespace {

absl::Status Malformed(const ReplyRules& rules, absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(
      "the system serving '", rules.record_type, "' answered ", what));
}

// Whether a failing result code may be named in a status message: a short
// token, as codes are, and neither the free text (a reason, a name) nor the
// number (an ID, a date of birth) a misconfigured pointer could reach.
bool IsShowableCode(absl::string_view code) {
  if (code.empty() || code.size() > 32) return false;
  int digits = 0;
  for (char c : code) {
    if (absl::ascii_isdigit(c)) ++digits;
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return digits <= 4;
}

// OK when `root` carries one of the rules' success codes (or the rules set
// none); else UNAVAILABLE naming the code only when IsShowableCode.
absl::Status CheckSuccess(const ReplyRules& rules,
                          const google::protobuf::Value& root) {
  if (!rules.success_pointer.has_value()) return absl::OkStatus();
  const std::string& at_text = rules.success_pointer->text();
  const google::protobuf::Value* at = rules.success_pointer->Resolve(root);
  absl::StatusOr<std::optional<std::string>> code =
      at == nullptr ? std::optional<std::string>() : ScalarText(*at);
  if (code.ok() && !code->has_value()) {
    return Malformed(rules, absl::StrCat("without a result code at ", at_text));
  }
  if (code.ok() &&
      std::find(rules.success_equals.begin(), rules.success_equals.end(),
                **code) != rules.success_equals.end()) {
    return absl::OkStatus();
  }
  const std::string shown = code.ok() && IsShowableCode(**code)
                                ? absl::StrCat("code '", **code, "'")
                                : std::string("an unreadable code");
  return Malformed(rules, absl::StrCat("a failure: ", shown, " at ", at_text));
}

}  // namespace

absl::StatusOr<Reply<RecordReply>> ReadRecordReply(
    const ReplyRules& rules, long status, absl::string_view body,
    absl::string_view retry_after) {
  if (std::find(rules.not_found_statuses.begin(),
                rules.not_found_statuses.end(),
                status) != rules.not_found_statuses.end()) {
    return absl::NotFoundError(
        absl::StrCat("no such '", rules.record_type, "' record"));
  }
  if (status == 429 || status == 502 || status == 503 || status == 504) {
    return MarkRetriableAfter(
        Malformed(rules, absl::StrCat("HTTP ", status, " (busy or down)")),
        retry_after);
  }
  if (status < 200 || status > 299) {
    return Malformed(rules, absl::StrCat("HTTP ", status));
  }
  if (body.size() > rules.max_bytes) {
    return Malformed(rules, absl::StrCat("a reply over ", rules.max_bytes,
                                         " bytes"));
  }
  google::protobuf::Value root;
  if (absl::Status parsed = ParseJsonReply(body, &root); !parsed.ok()) {
    return Malformed(rules, absl::StrCat("a reply that is ", parsed.message()));
  }
  if (!root.has_struct_value()) {
    return Malformed(rules, "a reply that is not a JSON object");
  }
  // A code of its own for "no such record" is checked before the success
  // rule, which it would fail; an absent value after it, as a failure's
  // reply lacks the record too.
  const bool by_absence =
      rules.not_found_pointer.has_value() && rules.not_found_equals.empty();
  if (by_absence) {
    if (absl::Status success = CheckSuccess(rules, root); !success.ok()) {
      return success;
    }
  }
  if (rules.not_found_pointer.has_value()) {
    const google::protobuf::Value* at = rules.not_found_pointer->Resolve(root);
    absl::StatusOr<std::optional<std::string>> text =
        at == nullptr ? std::optional<std::string>() : ScalarText(*at);
    const bool absent = !text.ok() || !text->has_value();
    if (by_absence ? (text.ok() && !text->has_value())
                   : (!absent && **text == rules.not_found_equals)) {
      return absl::NotFoundError(
          absl::StrCat("no such '", rules.record_type, "' record"));
    }
  }
  if (!by_absence) {
    if (absl::Status success = CheckSuccess(rules, root); !success.ok()) {
      return success;
    }
  }
  Reply<RecordReply> reply;
  for (const auto& [name, pointer] : rules.fields) {
    const google::protobuf::Value* at = pointer.Resolve(root);
    if (at == nullptr) continue;
    absl::StatusOr<std::optional<std::string>> text = ScalarText(*at);
    if (!text.ok()) {
      absl::Status status = Malformed(rules, "an unreadable field");
      status.SetPayload(
          kFieldProblemPayload,
          absl::Cord(absl::StrCat("field '", name, "' (", pointer.text(),
                                  ") as ", text.status().message())));
      return status;
    }
    if (text->has_value()) {
      reply.value.fields.emplace_back(name, **std::move(text));
    }
  }
  if (rules.reference.has_value()) {
    if (const google::protobuf::Value* at = rules.reference->Resolve(root)) {
      absl::StatusOr<std::optional<std::string>> text = ScalarText(*at);
      if (!text.ok()) {
        return Malformed(rules, absl::StrCat("its reference (",
                                             rules.reference->text(), ") as ",
                                             text.status().message()));
      }
      reply.reference = text->value_or("");
    }
  }
  return reply;
}

}  // namespace lienthong::adapters::ministry_rest_json
