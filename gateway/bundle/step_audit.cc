#include "gateway/bundle/step_audit.h"

#include "absl/strings/str_cat.h"
#include "gateway/bundle/orchestrator.h"

namespace lienthong::bundle {
namespace {

// name=value lines, each value's length first so that no two maps encode
// alike.
std::string Encode(const std::map<std::string, std::string>& values) {
  std::string out;
  for (const auto& [name, value] : values) {
    absl::StrAppend(&out, name, "=", value.size(), ":", value, "\n");
  }
  return out;
}

}  // namespace

std::string RequestDigest(const adapters::StepRequest& request,
                          const audit::DigestKey& digests) {
  return digests.Digest(
      absl::StrCat(request.operation, "\n", request.idempotency_key, "\n",
                   request.dossier_code, "\n", Encode(request.inputs)));
}

lienthong::v1::AuditRecord StepAuditRecord(
    const StepCallFacts& facts,
    const absl::StatusOr<adapters::StepOutcome>& outcome, int attempts,
    absl::Time end, const audit::CitizenKey& key,
    const audit::DigestKey& digests) {
  lienthong::v1::AuditRecord record;
  record.set_caller(facts.caller);
  record.set_caller_cert_sha256(facts.caller_cert_sha256);
  record.set_method(absl::StrCat(kStepAuditMethod, facts.operation));
  record.set_purpose(facts.purpose);
  record.set_dossier_id(facts.dossier_code);
  if (!facts.subject.empty()) key.Fill(facts.subject, &record);
  key.FillOfficer(facts.officer.citizen_id(), facts.officer.unit_code(),
                  facts.officer.account(), &record);
  record.set_national_system(facts.adapter);
  record.set_attempts(attempts);
  record.set_latency_us(absl::ToInt64Microseconds(end - facts.start));
  record.set_request_sha256(facts.request_sha256);
  if (!outcome.ok()) {
    record.set_outcome(std::string(absl::StatusCodeToString(outcome.status().code())));
    return record;
  }
  if (outcome->kind == adapters::StepOutcome::Kind::kRefused) {
    record.set_outcome("FAILED_PRECONDITION");
    record.set_response_sha256(digests.Digest(outcome->reason));
  } else {
    record.set_outcome("OK");
    record.set_response_sha256(digests.Digest(Encode(outcome->outputs)));
  }
  return record;
}

}  // namespace lienthong::bundle
