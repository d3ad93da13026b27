// The national systems' JSON replies read by adapters/common/agency
// (ParseAgencyAnswer) and adapters/ministry_rest_json (ReadRecordReply):
// any status and body give an answer or one of the documented codes
// (INVALID_ARGUMENT only for HTTP 400, 409 and 422, NOT_FOUND only by the
// rules' statuses or not-found value, every UNAVAILABLE that the headers
// call retriable marked so, with the Retry-After wait), status messages
// stay short and never carry a run of the body, a refused answer's reason
// is well-formed UTF-8 of at most kMaxReasonBytes without control
// characters, and a record read is within max_bytes, holds only the rules'
// fields in the rules' order, and is not one the not-found rule matches.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapters/common/agency/agency_answer.h"
#include "adapters/common/retriable.h"
#include "adapters/ministry_rest_json/json_pointer.h"
#include "adapters/ministry_rest_json/record_reply.h"
#include "gateway/validation/text.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/http_reply_input.h"

namespace {

using lienthong::adapters::ministry_rest_json::JsonPointer;
using lienthong::adapters::ministry_rest_json::ReplyRules;

constexpr char kAgency[] = "civil_status";

// Every character of the messages' fixed text, of kAgency, of the rules'
// record type and pointers, and of the numbers the messages give ("agency
// 'civil_status' has no such endpoint (HTTP 404): check the adapter's
// paths", "the system serving 'ho_tich.khai_sinh' answered field 'so_giay_to'
// (/data/giay_to/0/so) as an object, not a scalar").
constexpr char kMessageAlphabet[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " :_/-.'(),";

// Shortest run of the body held to the no-echo promise.
constexpr size_t kEchoRun = 12;

JsonPointer Pointer(absl::string_view text) {
  absl::StatusOr<JsonPointer> pointer = JsonPointer::Parse(text);
  FUZZ_CHECK(pointer.ok());
  return *std::move(pointer);
}

std::vector<std::pair<std::string, JsonPointer>> Fields() {
  return {{"ho_ten", Pointer("/data/ho_ten")},
          {"ngay_sinh", Pointer("/data/ngay_sinh")},
          {"ma", Pointer("/ma")},
          {"so_giay_to", Pointer("/data/giay_to/0/so")}};
}

// Not found when /trang_thai is "khong_tim_thay".
const ReplyRules& ByValue() {
  static const ReplyRules* rules = [] {
    auto* r = new ReplyRules;
    r->record_type = "ho_tich.khai_sinh";
    r->not_found_pointer = Pointer("/trang_thai");
    r->not_found_equals = "khong_tim_thay";
    r->fields = Fields();
    r->reference = Pointer("/ma_tham_chieu");
    return r;
  }();
  return *rules;
}

// Not found when /data is absent or null, or on HTTP 404 or 410; replies
// of at most 256 bytes.
const ReplyRules& ByAbsence() {
  static const ReplyRules* rules = [] {
    auto* r = new ReplyRules;
    r->record_type = "ho_tich.khai_sinh";
    r->not_found_statuses = {404, 410};
    r->not_found_pointer = Pointer("/data");
    r->fields = Fields();
    r->reference = Pointer("/ma_tham_chieu");
    r->max_bytes = 256;
    return r;
  }();
  return *rules;
}

bool Contains(const std::vector<int>& statuses, long status) {
  for (int s : statuses) {
    if (s == status) return true;
  }
  return false;
}

// The wait MarkRetriableAfter keeps from `retry_after`, if any.
std::optional<absl::Duration> Wait(absl::string_view retry_after) {
  int seconds = 0;
  if (absl::SimpleAtoi(absl::StripAsciiWhitespace(retry_after), &seconds) &&
      seconds >= 0 && seconds <= 3600) {
    return absl::Seconds(seconds);
  }
  return std::nullopt;
}

// A short message that carries no run of the body.
void CheckMessage(const absl::Status& status, absl::string_view body) {
  const absl::string_view message = status.message();
  FUZZ_CHECK(!message.empty() && message.size() < 512);
  lienthong::fuzz::CheckNoEcho(message, body, kEchoRun, kMessageAlphabet);
  lienthong::fuzz::CheckNoIdEcho(message, body);
}

void CheckAgencyAnswer(long http_status, const std::string& body,
                       const std::string& retry_after) {
  using namespace lienthong::adapters::agency;
  const absl::StatusOr<AgencyAnswer> answer =
      ParseAgencyAnswer(kAgency, http_status, body, retry_after);
  if (!answer.ok()) {
    const absl::Status& status = answer.status();
    CheckMessage(status, body);
    if (http_status == 400 || http_status == 409 || http_status == 422) {
      FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
      return;
    }
    FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable);
    FUZZ_CHECK(lienthong::adapters::IsRetriable(status));
    if (http_status != 200 && http_status != 401 && http_status != 403 &&
        http_status != 404 && http_status != 405) {
      FUZZ_CHECK(lienthong::adapters::RetryAfter(status) == Wait(retry_after));
    }
    return;
  }
  FUZZ_CHECK(http_status == 200);
  if (answer->refused) {
    const std::string& reason = answer->reason;
    FUZZ_CHECK(reason.size() <= kMaxReasonBytes);
    FUZZ_CHECK(lienthong::validation::FindInvalidUtf8(reason) == reason.size());
    for (size_t i = 0; i < reason.size(); ++i) {
      const unsigned char u = static_cast<unsigned char>(reason[i]);
      FUZZ_CHECK(u >= 0x20 && u != 0x7f);
      // No C1 control (U+0080..U+009F, C2 80..C2 9F) either.
      FUZZ_CHECK(!(u == 0xc2 && i + 1 < reason.size() &&
                   static_cast<unsigned char>(reason[i + 1]) <= 0x9f));
    }
  } else {
    // DataText gives a member's text or nothing, never an empty text.
    int shown = 0;
    for (const auto& [key, value] : answer->data.fields()) {
      if (++shown > 16) break;
      const std::optional<std::string> text = DataText(answer->data, key);
      if (!text.has_value()) continue;
      FUZZ_CHECK(!text->empty());
      if (value.kind_case() == google::protobuf::Value::kStringValue) {
        FUZZ_CHECK(*text == value.string_value());
      }
    }
  }
}

// Whether `rules`' not-found pointer and value say "no such record" of the
// JSON object `root`, as record_reply.h words it.
bool NotFoundByValue(const ReplyRules& rules,
                     const google::protobuf::Value& root) {
  const google::protobuf::Value* at = rules.not_found_pointer->Resolve(root);
  if (at == nullptr) return rules.not_found_equals.empty();
  const auto text = lienthong::adapters::ministry_rest_json::ScalarText(*at);
  if (!text.ok())
    return false;  // an object or an array: neither absent nor equal
  if (rules.not_found_equals.empty()) return !text->has_value();
  return text->has_value() && **text == rules.not_found_equals;
}

// The reply read by `rules`, or nullopt when it failed.
std::optional<lienthong::adapters::Reply<lienthong::adapters::RecordReply>>
CheckRecordReply(const ReplyRules& rules, long status, const std::string& body,
                 const std::string& retry_after) {
  const auto reply = lienthong::adapters::ministry_rest_json::ReadRecordReply(
      rules, status, body, retry_after);
  if (!reply.ok()) {
    const absl::Status& error = reply.status();
    CheckMessage(error, body);
    if (Contains(rules.not_found_statuses, status)) {
      FUZZ_CHECK(error.code() == absl::StatusCode::kNotFound);
      return std::nullopt;
    }
    if (status < 200 || status > 299) {
      FUZZ_CHECK(error.code() == absl::StatusCode::kUnavailable);
      if (status == 429 || status == 502 || status == 503 || status == 504) {
        FUZZ_CHECK(lienthong::adapters::IsRetriable(error));
        FUZZ_CHECK(lienthong::adapters::RetryAfter(error) == Wait(retry_after));
      }
      return std::nullopt;
    }
    FUZZ_CHECK(error.code() == absl::StatusCode::kNotFound ||
               error.code() == absl::StatusCode::kUnavailable);
    return std::nullopt;
  }
  FUZZ_CHECK(status >= 200 && status <= 299);
  FUZZ_CHECK(!Contains(rules.not_found_statuses, status));
  FUZZ_CHECK(body.size() <= rules.max_bytes);
  // The fields found, each at most once, in the rules' order.
  const auto& fields = reply->value.fields;
  FUZZ_CHECK(fields.size() <= rules.fields.size());
  size_t next = 0;
  for (const auto& [name, value] : fields) {
    while (next < rules.fields.size() && rules.fields[next].first != name)
      ++next;
    FUZZ_CHECK(next < rules.fields.size());
    ++next;
  }
  // A reply read is a JSON object the not-found rule does not match.
  google::protobuf::Value root;
  FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(
                 google::protobuf::StringPiece(body.data(), body.size()), &root)
                 .ok());
  FUZZ_CHECK(root.has_struct_value());
  FUZZ_CHECK(!NotFoundByValue(rules, root));
  return *reply;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::optional<HttpReplyInput> input = SplitHttpReplyInput(data, size);
  if (!input.has_value()) return 0;
  const long http_status = input->status;
  const std::string& retry_after = input->retry_after;
  const std::string& body = input->body;

  CheckAgencyAnswer(http_status, body, retry_after);

  const auto by_value =
      CheckRecordReply(ByValue(), http_status, body, retry_after);
  const auto by_absence =
      CheckRecordReply(ByAbsence(), http_status, body, retry_after);
  // The same field pointers read the same body alike.
  if (by_value.has_value() && by_absence.has_value()) {
    FUZZ_CHECK(by_value->value.fields == by_absence->value.fields);
    FUZZ_CHECK(by_value->reference == by_absence->reference);
  }
  return 0;
}
