// The data of a bundle: the details of a StartBundle request flattened into
// keys, which bundle definitions map onto the steps' inputs as
// "data.<key>", each with one rule that checks the request and an
// officer's corrections alike:
//
//   key                          request field                        rule
//   applicant.citizen_id         applicant.citizen_id                 ID
//   applicant.full_name          applicant.full_name                  name
//   applicant.relationship       applicant.relationship               text?
//   BIRTH
//   child.full_name              birth.child_full_name                name
//   child.birth_date             birth.child_birth_date               date
//   child.gender                 birth.child_gender                   gender
//   child.birth_place            birth.birth_place                    text?
//   mother.citizen_id            birth.mother.citizen_id              ID
//   mother.full_name             birth.mother.full_name               name
//   father.citizen_id            birth.father.citizen_id              ID?
//   father.full_name             birth.father.full_name               name?
//   address.province_code        birth.permanent_address.province_code  2 digits
//   address.commune_code         birth.permanent_address.commune_code   5 digits
//   address.detail               birth.permanent_address.detail       text
//   household.head_citizen_id    birth.household_head_citizen_id      ID?
//   household.relationship       birth.household_relationship         text?
//   DEATH
//   deceased.citizen_id          death.deceased.citizen_id            ID
//   deceased.full_name           death.deceased.full_name             name
//   deceased.death_date          death.death_date                     date
//   deceased.death_place         death.death_place                    text?
//
// plus dossier.code (the MaHoSo), which is not corrected. ID: a 12-digit
// personal ID passing the gateway's rules; name: 1..200 bytes of text;
// date: a whole date not in the future, stored yyyy-MM-dd; gender: "male"
// or "female"; text: 1..400 bytes of UTF-8 without control characters; "?":
// optional. Messages name the key or field, never the value.
//
// Pure functions; thread-safe.
#ifndef LIENTHONG_GATEWAY_BUNDLE_BUNDLE_DATA_H_
#define LIENTHONG_GATEWAY_BUNDLE_BUNDLE_DATA_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::bundle {

using BundleData = std::map<std::string, std::string>;

// The data keys of a bundle of `kind` (dossier.code included); empty for
// BUNDLE_KIND_UNSPECIFIED.
std::vector<std::string> DataKeys(lienthong::v1::BundleKind kind);

// Returns the data of `request` after checking every field by its rule at
// `now`. INVALID_ARGUMENT "<field>: <what is wrong>" for the first bad or
// missing field, a kind without details, or details of the other kind.
absl::StatusOr<BundleData> DataOfRequest(
    const lienthong::v1::StartBundleRequest& request, absl::Time now);

// Checks a correction of `key` to `value` in a bundle of `kind`.
// INVALID_ARGUMENT when the key is not one of the kind's (dossier.code
// included: it is fixed) or the value breaks its rule; an empty value
// clears an optional key and is refused for a required one.
absl::Status CheckCorrection(lienthong::v1::BundleKind kind,
                             const std::string& key, const std::string& value,
                             absl::Time now);

// Checks the keys of a bundle of `kind` that go together: a father's ID and
// name (BIRTH), which the civil-status system takes as a pair. `has(key)`
// says whether `data` holds a key. INVALID_ARGUMENT otherwise.
absl::Status CheckPairedKeys(
    lienthong::v1::BundleKind kind,
    const std::function<bool(const std::string&)>& has);

// Checks an officer's reason for stopping a bundle: 1..1000 bytes of text
// without control characters. INVALID_ARGUMENT "stop.reason: <what is
// wrong>" otherwise.
absl::Status CheckStopReason(absl::string_view reason);

// The citizen a bundle is about, for the audit log: the mother (BIRTH) or
// the deceased (DEATH); empty when the request names neither.
std::string BundleSubject(const lienthong::v1::StartBundleRequest& request);

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_BUNDLE_DATA_H_
