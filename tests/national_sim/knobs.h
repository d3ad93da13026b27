// The simulated systems, their fault-injection knobs and their counters, with
// the JSON forms used by the control endpoint (/_sim/knobs, /_sim/stats).
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_KNOBS_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_KNOBS_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tests/national_sim/sim_json.h"

namespace lienthong::sim {

// The agencies of interconnected procedures (agencies.h) follow the three
// national systems; the systems added from their own files (sim_system.h)
// follow them, numbered from kFirstAdded in the order of AddedSystems().
enum class System {
  kPopulation,
  kVneid,
  kPortal,
  kCivilStatus,
  kResidence,
  kSocialInsurance,
  kLabourAffairs,
  kFirstAdded,
};

// Every system: the built-in ones, then those added (sim_system.h).
const std::vector<System>& AllSystems();

// "population", "vneid", "portal", "civil_status", "residence",
// "social_insurance", "labour_affairs", then the added systems' names.
absl::string_view SystemName(System system);
std::optional<System> SystemFromName(absl::string_view name);

// What an injected error looks like.
enum class ErrorKind {
  kHttp500,   // HTTP 500 (population: SOAP fault soap:Server, internal)
  kHttp503,   // HTTP 503, with Retry-After when Knobs::retry_after is set
  kSoapBusy,  // population: HTTP 500 fault "He thong dang ban..."; else 503
};
// How the portal writes error_code in a successful answer (the public
// source accepts both): alternating 0 and "00", always the number 0, or
// always the string "00".
enum class ErrorCodeStyle { kAlternate, kNumber, kString };
// What a system that is down does with a request.
enum class DownMode {
  kReset,    // closes the connection with a TCP reset, no answer
  kHttp503,  // answers HTTP 503
};

// Fault injection for one system. Rates are probabilities in 0..1, drawn per
// request. Order of effects: down, hang, then after the latency: drop, error,
// and for a request that was served, malformed.
// The longest latency, jitter or session lifetime a knob may set: an hour.
inline constexpr int kMaxKnobMs = 3'600'000;

struct Knobs {
  int latency_ms = 0;  // fixed delay before answering, 0..kMaxKnobMs
  int jitter_ms = 0;   // plus a uniform 0..jitter_ms, 0..kMaxKnobMs
  double error_rate = 0;
  ErrorKind error_kind = ErrorKind::kHttp503;
  std::string retry_after;    // Retry-After value on 503 answers; empty: none
  double malformed_rate = 0;  // HTTP 200 with a truncated body
  double drop_rate = 0;       // close the connection without answering
  bool hang = false;  // hold requests until cleared (then serve) or stop
  bool down = false;
  DownMode down_mode = DownMode::kReset;
  // Portal only: items permanently rejected (error_code "400") when their
  // MaTTHC or MaHoSo is in `reject_codes`, or by a stable hash of the code
  // (MaHoSo for dossiers) falling under `reject_rate`. Agencies: a step is
  // refused when its MaHoSo or any text value of its body is in
  // `reject_codes`, or by the hash of its MaHoSo (agencies.h).
  std::set<std::string> reject_codes;
  double reject_rate = 0;
  // Serve the request (a portal applies it) and then close the connection
  // without the answer: the client cannot know the outcome.
  double lose_answer_rate = 0;
  // Portal only: how error_code is written on success; sessions are refused
  // this long after their sign-in (0: PortalConfig::session_lifetime); and
  // X-Idempotency-Key is ignored, as a portal that does not know it would.
  ErrorCodeStyle error_code_style = ErrorCodeStyle::kAlternate;
  int session_lifetime_ms = 0;
  bool ignore_idempotency_keys = false;
};

// Counters for one system since start. Every received request ends in
// exactly one of the answered_*/dropped kinds, or is still pending.
struct SystemStats {
  int64_t received = 0;
  int64_t answered_ok = 0;  // 2xx or 3xx (a redirect) with a well-formed body
  int64_t answered_client_error = 0;  // 4xx, and SOAP soap:Client faults
  int64_t answered_server_error = 0;  // injected 500/503, down with 503
  int64_t answered_malformed = 0;     // 200 with a broken body
  int64_t dropped = 0;                // closed without answer (drop, down)
  int64_t hanging = 0;                // held now by `hang`
  int64_t auth_failures = 0;          // included in answered_client_error
  int64_t lookups = 0;                // population only: lookups received
  int64_t identity_checks = 0;        // population only: checks received
  int64_t tokens_issued = 0;          // VNeID tokens; portal sessions
  int64_t portal_applied = 0;         // portal only: items applied
};

struct SimStats {
  std::vector<SystemStats> systems =
      std::vector<SystemStats>(AllSystems().size());  // indexed by System
  SystemStats& of(System s) { return systems.at(static_cast<size_t>(s)); }
  const SystemStats& of(System s) const {
    return systems.at(static_cast<size_t>(s));
  }
};

// Applies the knob fields present in `json` ("latency_ms", "jitter_ms",
// "error_rate", "error_kind": "http500"|"http503"|"soap_busy",
// "retry_after", "malformed_rate", "drop_rate", "hang", "down", "down_mode":
// "reset"|"http503", "reject_codes": [..], "reject_rate",
// "lose_answer_rate", "error_code_style": "alternate"|"number"|"string",
// "session_lifetime_ms", "ignore_idempotency_keys") to `knobs`; other
// fields are ignored. Fails with INVALID_ARGUMENT, leaving `knobs` unchanged,
// on a value of the wrong type or out of range.
absl::Status MergeKnobsJson(const JsonObject& json, Knobs& knobs);

// Validates ranges (rates in 0..1, times >= 0). INVALID_ARGUMENT otherwise.
absl::Status ValidateKnobs(const Knobs& knobs);

std::string KnobsToJson(const Knobs& knobs);
std::string StatsToJson(const SystemStats& stats);

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_KNOBS_H_
