// The audit record of one step call to an agency, written like the record
// of any call the gateway makes: who started the bundle (caller and
// certificate), the dossier, the step's subject as the keyed hash and mask
// of its citizen ID (never the ID), the officer who started the bundle
// (likewise hashed, with the unit), the adapter instance (national system),
// attempts, outcome and latency, and keyed digests (audit::DigestKey) of
// what was sent and what came back, as for every other record: a plain hash
// of a reply quoting an ID would let a reader of the record try every
// candidate of the masked digits. Method: kStepAuditMethod + the operation;
// outcome: "OK" when applied, "FAILED_PRECONDITION" when the agency refused the
// step, or the failure's code name.
#ifndef LIENTHONG_GATEWAY_BUNDLE_STEP_AUDIT_H_
#define LIENTHONG_GATEWAY_BUNDLE_STEP_AUDIT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adapters/adapter.h"
#include "gateway/audit/record.h"

namespace lienthong::bundle {

// What is known of a step call when it is sent.
struct StepCallFacts {
  std::string caller;
  std::string caller_cert_sha256;
  // Who started the bundle; hashed into the record like the subject.
  lienthong::v1::Officer officer;
  std::string operation;
  std::string purpose;  // the step's procedure code
  std::string dossier_code;
  std::string subject;  // citizen ID; only hashed into the record
  std::string adapter;
  // RequestDigest of the request; empty when nothing is audited.
  std::string request_sha256;
  absl::Time start;
};

// The keyed digest of the operation, the idempotency key and the inputs in
// name order: the same request always has the same digest.
std::string RequestDigest(const adapters::StepRequest& request,
                          const audit::DigestKey& digests);

// Returns the record of the call described by `facts` that ended at `end`
// with `outcome` after `attempts`, the subject filled in with `key` and the
// response digested with `digests`.
lienthong::v1::AuditRecord StepAuditRecord(
    const StepCallFacts& facts,
    const absl::StatusOr<adapters::StepOutcome>& outcome, int attempts,
    absl::Time end, const audit::CitizenKey& key,
    const audit::DigestKey& digests);

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_STEP_AUDIT_H_
