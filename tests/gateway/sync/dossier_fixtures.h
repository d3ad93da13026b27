// Synthetic dossiers for the sync tests: codes, status updates, the
// registration a dossier's first update carries, batches. All personal data
// in them is synthetic.
#ifndef LIENTHONG_TESTS_GATEWAY_SYNC_DOSSIER_FIXTURES_H_
#define LIENTHONG_TESTS_GATEWAY_SYNC_DOSSIER_FIXTURES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync::testutil {

// 2025-07-15 00:00:00 UTC: the day the fixed-time fixtures are "now".
inline constexpr int64_t kT0 = 1752537600;

// Returns dossier number `n`'s code, "000.00.01.H31-250715-<n, 5 digits>".
std::string DossierCode(int n);

// Returns an update of dossier `dossier` (DossierCode) to `status`, for a
// birth registration (procedure 1.001193.000.00.00.H31) by handler "cb01",
// at `minute` minutes after kT0 - 1 day. No registration.
lienthong::v1::DossierStatusUpdate StatusUpdate(
    int dossier, lienthong::v1::DossierStatus status, int64_t minute);

// Returns a birth registration's dossier details with `applicant` as the
// applicant's name, received at `received`.
lienthong::v1::DossierRegistration Registration(
    int64_t received_seconds = kT0 - 86400,
    absl::string_view applicant = "Trần Thị Mai");

// Returns `update` carrying a registration (Registration) for `applicant`,
// as a dossier's first update must.
lienthong::v1::DossierStatusUpdate Registered(
    lienthong::v1::DossierStatusUpdate update,
    absl::string_view applicant = "Trần Thị Mai");

// Returns `updates` as a request's repeated field, in order.
google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate> Batch(
    std::vector<lienthong::v1::DossierStatusUpdate> updates);

// Returns the first update of the dossier `dossier_code`: status NEW a minute
// ago, for a birth registration, with the dossier's registration received
// at the update's time. Thread-safe.
lienthong::v1::DossierStatusUpdate NewDossierWithRegistration(
    absl::string_view dossier_code);

}  // namespace lienthong::sync::testutil

#endif  // LIENTHONG_TESTS_GATEWAY_SYNC_DOSSIER_FIXTURES_H_
