// The simulated agencies' shared part: routing by path, the API key, the
// idempotency memory, refusals by the knobs, and the counters.
#include <cstdint>
#include <set>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/national_sim/agencies.h"

namespace lienthong::sim {
namespace {

SimReply Answer(int status, absl::string_view code, absl::string_view message) {
  return JsonReply(status,
                   absl::StrCat("{\"error_code\":", JsonQuote(code),
                                ",\"message\":", JsonQuote(message), "}"));
}

// A stable fraction in [0, 1) for a code, so rate-based refusals are
// permanent: the same dossier is refused every time.
double CodeFraction(absl::string_view code) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : code) h = (h ^ c) * 1099511628211ULL;
  return static_cast<double>(h % 1000003) / 1000003.0;
}

// Whether any string anywhere in `value` is one of `codes`.
bool HoldsCode(const google::protobuf::Value& value,
               const std::set<std::string>& codes) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return codes.count(value.string_value()) > 0;
    case google::protobuf::Value::kStructValue:
      for (const auto& [key, member] : value.struct_value().fields()) {
        if (HoldsCode(member, codes)) return true;
      }
      return false;
    case google::protobuf::Value::kListValue:
      for (const auto& element : value.list_value().values()) {
        if (HoldsCode(element, codes)) return true;
      }
      return false;
    default:
      return false;
  }
}

struct Agency {
  const char* name;
  const AgencyOperationSpec* operations;
  size_t count;
};

Agency AgencyOf(System system) {
  switch (system) {
    case System::kCivilStatus:
      return {"civil_status", kCivilStatusOperations, 2};
    case System::kResidence:
      return {"residence", kResidenceOperations, 2};
    case System::kSocialInsurance:
      return {"social_insurance", kSocialInsuranceOperations, 1};
    case System::kLabourAffairs:
      return {"labour_affairs", kLabourAffairsOperations, 1};
    default:
      return {"", nullptr, 0};
  }
}

std::string DecisionJson(const AgencyDecision& decision,
                         absl::string_view reference) {
  if (decision.refused) {
    return absl::StrCat("{\"error_code\":\"TU_CHOI\",\"message\":",
                        JsonQuote(decision.reason), "}");
  }
  std::string data;
  for (const auto& [key, value] : decision.data) {
    absl::StrAppend(&data, data.empty() ? "" : ",", JsonQuote(key), ":",
                    JsonQuote(value));
  }
  return absl::StrCat(
      "{\"error_code\":\"0\",\"message\":\"Thành công\",\"reference\":",
      JsonQuote(reference), ",\"data\":{", data, "}}");
}

}  // namespace

std::string BodyText(const JsonObject& body, const std::string& object,
                     const std::string& member) {
  if (object.empty()) return JsonText(body, member);
  auto it = body.fields().find(object);
  if (it == body.fields().end() ||
      it->second.kind_case() != google::protobuf::Value::kStructValue) {
    return "";
  }
  return JsonText(it->second.struct_value(), member);
}

std::optional<absl::CivilDay> ParseAgencyDate(absl::string_view text) {
  // Eight digits: sscanf would take spaces and signs ("-0010101").
  int y, m, d;
  if (text.size() != 8 || !absl::c_all_of(text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text.substr(0, 4), &y) ||
      !absl::SimpleAtoi(text.substr(4, 2), &m) ||
      !absl::SimpleAtoi(text.substr(6, 2), &d)) {
    return std::nullopt;
  }
  const absl::CivilDay day(y, m, d);
  if (day.year() != y || day.month() != m || day.day() != d) return std::nullopt;
  return day;
}

std::string AgencyDate(absl::Time now) {
  return absl::FormatTime("%Y%m%d", now, absl::FixedTimeZone(7 * 3600));
}

std::optional<System> AgencyService::Route(absl::string_view path) {
  if (absl::StartsWith(path, "/hotich/")) return System::kCivilStatus;
  if (absl::StartsWith(path, "/cutru/")) return System::kResidence;
  if (absl::StartsWith(path, "/bhxh/")) return System::kSocialInsurance;
  if (absl::StartsWith(path, "/ldtbxh/")) return System::kLabourAffairs;
  return std::nullopt;
}

SimReply AgencyService::Handle(System system, const SimRequest& request,
                               const Knobs& knobs, absl::Time now) {
  const Agency agency = AgencyOf(system);
  if (request.Header("x-api-key") != config_.api_key) {
    SimReply reply = Answer(401, "401", "X-Api-Key không hợp lệ");
    reply.auth_failure = true;
    return reply;
  }
  if (request.method != "POST") return Answer(405, "405", "Chỉ hỗ trợ POST");
  const AgencyOperationSpec* spec = nullptr;
  for (size_t i = 0; i < agency.count; ++i) {
    if (request.path == agency.operations[i].path) spec = &agency.operations[i];
  }
  if (spec == nullptr) return Answer(404, "404", "Không tìm thấy");
  const std::string key = request.Header("x-idempotency-key");
  if (key.empty()) return Answer(400, "400", "Thiếu X-Idempotency-Key");
  absl::StatusOr<JsonObject> body = ParseJsonObject(request.body);
  if (!body.ok()) return Answer(400, "400", "Dữ liệu không phải JSON");
  const std::string memory_key = absl::StrCat(agency.name, "|", key);

  absl::MutexLock lock(&mu_);
  ++requests_per_key_[key];
  if (auto it = replies_.find(memory_key); it != replies_.end()) {
    if (!google::protobuf::util::MessageDifferencer::Equals(it->second.first,
                                                            *body)) {
      return Answer(409, "409", "Khóa X-Idempotency-Key đã dùng cho nội dung khác");
    }
    return it->second.second;
  }
  AgencyStep step;
  step.agency = agency.name;
  step.operation = spec->operation;
  step.idempotency_key = key;
  step.ma_ho_so = JsonText(*body, "MaHoSo");
  if (step.ma_ho_so.empty()) return Answer(400, "400", "Thiếu MaHoSo");
  std::string bad_request;
  AgencyDecision decision = spec->handle(*body, now, sequence_, &bad_request);
  if (!bad_request.empty()) return Answer(400, "400", bad_request);
  google::protobuf::Value whole;
  *whole.mutable_struct_value() = *body;
  if (!decision.refused &&
      (knobs.reject_codes.count(step.ma_ho_so) > 0 ||
       HoldsCode(whole, knobs.reject_codes) ||
       (knobs.reject_rate > 0 &&
        CodeFraction(step.ma_ho_so) < knobs.reject_rate))) {
    decision = AgencyDecision{true, spec->knob_refusal, {}};
  }
  step.refused = decision.refused;
  step.reason = decision.reason;
  (void)google::protobuf::util::MessageToJsonString(*body, &step.request_json);
  if (!decision.refused) {
    step.outputs = decision.data;
    ++applied_[system];
  }
  const std::string reference =
      absl::StrFormat("%s-%d", agency.name, sequence_.Next());
  SimReply reply = JsonReply(200, DecisionJson(decision, reference));
  replies_[memory_key] = {*body, reply};
  steps_.push_back(std::move(step));
  return reply;
}

std::vector<AgencyStep> AgencyService::Steps() const {
  absl::MutexLock lock(&mu_);
  return steps_;
}

std::map<std::string, int64_t> AgencyService::RequestsPerKey() const {
  absl::MutexLock lock(&mu_);
  return requests_per_key_;
}

int64_t AgencyService::applied_count(System system) const {
  absl::MutexLock lock(&mu_);
  auto it = applied_.find(system);
  return it == applied_.end() ? 0 : it->second;
}

SimReply AgencyStepsReply(const AgencyService& agencies) {
  const std::map<std::string, int64_t> requests = agencies.RequestsPerKey();
  std::string body;
  for (const AgencyStep& step : agencies.Steps()) {
    auto it = requests.find(step.idempotency_key);
    absl::StrAppend(
        &body, "{\"agency\":", JsonQuote(step.agency),
        ",\"operation\":", JsonQuote(step.operation),
        ",\"idempotency_key\":", JsonQuote(step.idempotency_key),
        ",\"ma_ho_so\":", JsonQuote(step.ma_ho_so),
        ",\"refused\":", step.refused ? "true" : "false",
        ",\"reason\":", JsonQuote(step.reason),
        ",\"requests\":", it == requests.end() ? 0 : it->second,
        ",\"outputs\":{");
    const char* separator = "";
    for (const auto& [name, value] : step.outputs) {
      absl::StrAppend(&body, separator, JsonQuote(name), ":", JsonQuote(value));
      separator = ",";
    }
    absl::StrAppend(&body, "},\"request\":",
                    step.request_json.empty() ? "{}" : step.request_json, "}\n");
  }
  SimReply reply;
  reply.content_type = "application/x-ndjson";
  reply.body = std::move(body);
  return reply;
}

}  // namespace lienthong::sim
