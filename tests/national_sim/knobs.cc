#include "tests/national_sim/knobs.h"

#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/national_sim/sim_system.h"

namespace lienthong::sim {
namespace {

constexpr absl::string_view kErrorKinds[] = {"http500", "http503", "soap_busy"};
constexpr absl::string_view kDownModes[] = {"reset", "http503"};
constexpr absl::string_view kErrorCodeStyles[] = {"alternate", "number",
                                                  "string"};

template <typename Enum, size_t N>
bool EnumFromName(absl::string_view name, const absl::string_view (&names)[N],
                  Enum& out) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      out = static_cast<Enum>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

constexpr absl::string_view kBuiltinNames[] = {
    "population", "vneid",           "portal",        "civil_status",
    "residence",  "social_insurance", "labour_affairs"};
static_assert(std::size(kBuiltinNames) ==
              static_cast<size_t>(System::kFirstAdded));

const std::vector<System>& AllSystems() {
  static const auto* const kAll = [] {
    auto* all = new std::vector<System>;
    const size_t count = std::size(kBuiltinNames) + AddedSystems().size();
    for (size_t i = 0; i < count; ++i) all->push_back(static_cast<System>(i));
    return all;
  }();
  return *kAll;
}

absl::string_view SystemName(System system) {
  const auto index = static_cast<size_t>(system);
  if (index < std::size(kBuiltinNames)) return kBuiltinNames[index];
  return AddedSystems().at(index - std::size(kBuiltinNames)).name;
}

std::optional<System> SystemFromName(absl::string_view name) {
  for (System s : AllSystems()) {
    if (SystemName(s) == name) return s;
  }
  return std::nullopt;
}

absl::Status ValidateKnobs(const Knobs& k) {
  for (double rate :
       {k.error_rate, k.malformed_rate, k.drop_rate, k.reject_rate,
        k.lose_answer_rate}) {
    if (!(rate >= 0 && rate <= 1)) {
      return absl::InvalidArgumentError("rates must be within 0..1");
    }
  }
  for (int ms : {k.latency_ms, k.jitter_ms, k.session_lifetime_ms}) {
    if (ms < 0 || ms > kMaxKnobMs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "latency, jitter and session lifetime must be within 0..", kMaxKnobMs,
          " ms"));
    }
  }
  return absl::OkStatus();
}

absl::Status MergeKnobsJson(const JsonObject& json, Knobs& knobs) {
  Knobs k = knobs;
  auto bad = [](absl::string_view field) {
    return absl::InvalidArgumentError(absl::StrCat("bad value for ", field));
  };
  for (auto [field, target] :
       {std::pair<const char*, int*>{"latency_ms", &k.latency_ms},
        {"jitter_ms", &k.jitter_ms},
        {"session_lifetime_ms", &k.session_lifetime_ms}}) {
    if (!JsonHas(json, field)) continue;
    auto v = JsonNumber(json, field);
    if (!v || !(*v >= 0 && *v <= kMaxKnobMs)) return bad(field);  // NaN too
    *target = static_cast<int>(*v);
  }
  for (auto [field, target] :
       {std::pair<const char*, double*>{"error_rate", &k.error_rate},
        {"malformed_rate", &k.malformed_rate},
        {"drop_rate", &k.drop_rate},
        {"reject_rate", &k.reject_rate},
        {"lose_answer_rate", &k.lose_answer_rate}}) {
    if (!JsonHas(json, field)) continue;
    auto v = JsonNumber(json, field);
    if (!v) return bad(field);
    *target = *v;
  }
  for (auto [field, target] :
       {std::pair<const char*, bool*>{"hang", &k.hang},
        {"down", &k.down},
        {"ignore_idempotency_keys", &k.ignore_idempotency_keys}}) {
    if (!JsonHas(json, field)) continue;
    auto v = JsonBool(json, field);
    if (!v) return bad(field);
    *target = *v;
  }
  if (JsonHas(json, "error_kind") &&
      !EnumFromName(JsonText(json, "error_kind"), kErrorKinds, k.error_kind)) {
    return bad("error_kind");
  }
  if (JsonHas(json, "down_mode") &&
      !EnumFromName(JsonText(json, "down_mode"), kDownModes, k.down_mode)) {
    return bad("down_mode");
  }
  if (JsonHas(json, "error_code_style") &&
      !EnumFromName(JsonText(json, "error_code_style"), kErrorCodeStyles,
                    k.error_code_style)) {
    return bad("error_code_style");
  }
  if (JsonHas(json, "retry_after"))
    k.retry_after = JsonText(json, "retry_after");
  if (JsonHas(json, "reject_codes")) {
    std::vector<std::string> codes = JsonTexts(json, "reject_codes");
    k.reject_codes = std::set<std::string>(codes.begin(), codes.end());
  }
  if (absl::Status s = ValidateKnobs(k); !s.ok()) return s;
  knobs = std::move(k);
  return absl::OkStatus();
}

std::string KnobsToJson(const Knobs& k) {
  std::vector<std::string> codes;
  for (const auto& c : k.reject_codes) codes.push_back(JsonQuote(c));
  return absl::StrCat(
      "{\"latency_ms\":", k.latency_ms, ",\"jitter_ms\":", k.jitter_ms,
      ",\"error_rate\":", k.error_rate, ",\"error_kind\":\"",
      kErrorKinds[static_cast<int>(k.error_kind)],
      "\",\"retry_after\":", JsonQuote(k.retry_after),
      ",\"malformed_rate\":", k.malformed_rate, ",\"drop_rate\":", k.drop_rate,
      ",\"hang\":", k.hang ? "true" : "false",
      ",\"down\":", k.down ? "true" : "false", ",\"down_mode\":\"",
      kDownModes[static_cast<int>(k.down_mode)], "\",\"reject_codes\":[",
      absl::StrJoin(codes, ","), "],\"reject_rate\":", k.reject_rate,
      ",\"lose_answer_rate\":", k.lose_answer_rate,
      ",\"error_code_style\":\"",
      kErrorCodeStyles[static_cast<int>(k.error_code_style)],
      "\",\"session_lifetime_ms\":", k.session_lifetime_ms,
      ",\"ignore_idempotency_keys\":",
      k.ignore_idempotency_keys ? "true" : "false", "}");
}

std::string StatsToJson(const SystemStats& s) {
  return absl::StrCat(
      "{\"received\":", s.received, ",\"answered_ok\":", s.answered_ok,
      ",\"answered_client_error\":", s.answered_client_error,
      ",\"answered_server_error\":", s.answered_server_error,
      ",\"answered_malformed\":", s.answered_malformed,
      ",\"dropped\":", s.dropped, ",\"hanging\":", s.hanging,
      ",\"auth_failures\":", s.auth_failures, ",\"lookups\":", s.lookups,
      ",\"identity_checks\":", s.identity_checks,
      ",\"tokens_issued\":", s.tokens_issued,
      ",\"portal_applied\":", s.portal_applied, "}");
}

}  // namespace lienthong::sim
