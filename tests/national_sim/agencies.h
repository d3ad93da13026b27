// The simulated agencies of interconnected procedures (docs/wire-formats.md,
// "Agencies of interconnected procedures"): civil status (/hotich/...),
// residence (/cutru/...), social insurance (/bhxh/...) and labour and social
// affairs (/ldtbxh/...), as plain request -> reply handlers that SimServer
// puts on HTTPS.
//
// Every agency applies a step once per X-Idempotency-Key and answers a
// repeat with its first answer (a repeat with other content gets 409). Its
// outputs are synthetic and consistent: civil status gives a newborn a
// 12-digit personal ID made of the registration province, the gender and
// century digit, the birth year and a sequence, and a birth certificate
// number, which the other agencies then take.
//
// Refusals, each with the agency's stated reason:
//   - by the data: a mother or deceased the population database does not
//     know under that name (civil status), a child aged 6 or more (social
//     insurance), a recipient who is the deceased (labour affairs);
//   - by the knobs: a step is refused when its MaHoSo, or any text value in
//     its body (e.g. a commune code), is in Knobs::reject_codes, or when
//     the stable hash of its MaHoSo falls under Knobs::reject_rate; the
//     reason is the agency's own ("Không tìm thấy địa chỉ đăng ký thường
//     trú" for residence).
//
// Counters for tests: every step applied (agency, operation, key, MaHoSo),
// every refusal, and how many requests each key received.
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_AGENCIES_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_AGENCIES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tests/national_sim/knobs.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {

struct AgencyConfig {
  // X-Api-Key every agency expects.
  std::string api_key = "dev-agency-key";
};

// One step an agency applied or refused.
struct AgencyStep {
  std::string agency;     // "civil_status", "residence", ...
  std::string operation;  // "register_birth", ...
  std::string idempotency_key;
  std::string ma_ho_so;
  bool refused = false;
  std::string reason;                         // refused: the stated reason
  std::map<std::string, std::string> outputs;  // applied: the data answered
  std::string request_json;  // the body received first under the key
};

// What an operation handler decides; `data` members become the answer's
// "data" object.
struct AgencyDecision {
  bool refused = false;
  std::string reason;
  std::map<std::string, std::string> data;
};

// Numbers the agencies hand out (certificate and record numbers, the
// personal ID's last six digits), unique per simulator run.
class AgencySequence {
 public:
  int64_t Next() { return ++last_; }

 private:
  int64_t last_ = 100000;
};

// The operation handlers, one file per agency: each reads the body (a JSON
// object) of one request at `now` and decides. `bad_request` is set (and the
// decision ignored) when the body lacks what the operation needs.
using OperationHandler = AgencyDecision (*)(const JsonObject& body,
                                            absl::Time now,
                                            AgencySequence& sequence,
                                            std::string* bad_request);
struct AgencyOperationSpec {
  const char* path;
  const char* operation;
  OperationHandler handle;
  // The agency's reason when the knobs refuse a step.
  const char* knob_refusal;
};
// civil_status_service.cc: register_birth, register_death.
extern const AgencyOperationSpec kCivilStatusOperations[2];
// residence_service.cc: register_permanent_residence,
// remove_permanent_residence.
extern const AgencyOperationSpec kResidenceOperations[2];
// social_insurance_service.cc: issue_child_health_card.
extern const AgencyOperationSpec kSocialInsuranceOperations[1];
// labour_affairs_service.cc: grant_funeral_allowance.
extern const AgencyOperationSpec kLabourAffairsOperations[1];

// The four agencies. Thread-safe.
class AgencyService {
 public:
  explicit AgencyService(AgencyConfig config) : config_(std::move(config)) {}

  // The agency serving `path`, if any.
  static std::optional<System> Route(absl::string_view path);

  // Serves one request to `system` (an agency) at `now` under `knobs`.
  SimReply Handle(System system, const SimRequest& request, const Knobs& knobs,
                  absl::Time now);

  // Steps applied and refused, in order.
  std::vector<AgencyStep> Steps() const;
  // Requests received per idempotency key (repeats included).
  std::map<std::string, int64_t> RequestsPerKey() const;
  int64_t applied_count(System system) const;

 private:
  const AgencyConfig config_;
  mutable absl::Mutex mu_;
  AgencySequence sequence_ ABSL_GUARDED_BY(mu_);
  // (agency, key) -> the body first sent under it (compared as JSON, not
  // as bytes) and the answer.
  absl::flat_hash_map<std::string, std::pair<JsonObject, SimReply>> replies_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> requests_per_key_ ABSL_GUARDED_BY(mu_);
  std::vector<AgencyStep> steps_ ABSL_GUARDED_BY(mu_);
  std::map<System, int64_t> applied_ ABSL_GUARDED_BY(mu_);
};

// GET /_sim/agencies/steps: every step applied or refused, in order, one
// JSON object per line {"agency", "operation", "idempotency_key",
// "ma_ho_so", "refused", "reason", "requests", "outputs", "request"}
// (requests: how many requests that key received; outputs: the data
// answered; request: the body first received under the key).
SimReply AgencyStepsReply(const AgencyService& agencies);

// Shared by the agency files: the text of `body[object][member]` (or of
// `body[member]` when `object` is empty); empty when absent.
std::string BodyText(const JsonObject& body, const std::string& object,
                     const std::string& member);
// "yyyyMMdd" as a day; nullopt when malformed.
std::optional<absl::CivilDay> ParseAgencyDate(absl::string_view text);
// `now` as yyyyMMdd in Vietnam's time.
std::string AgencyDate(absl::Time now);

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_AGENCIES_H_
