// Synthetic dossiers for the sync tests: a status update that opens a dossier
// and carries its registration, as a provincial system's first push does.
// All personal data in it is synthetic.
#ifndef LIENTHONG_TESTS_GATEWAY_SYNC_DOSSIER_FIXTURES_H_
#define LIENTHONG_TESTS_GATEWAY_SYNC_DOSSIER_FIXTURES_H_

#include "absl/strings/string_view.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync::testutil {

// Returns the first update of the dossier `dossier_code`: status NEW a minute
// ago, for a birth registration (procedure 1.001193.000.00.00.H31), with the
// dossier's registration (a synthetic applicant, received at the update's
// time). Thread-safe.
lienthong::v1::DossierStatusUpdate NewDossierWithRegistration(
    absl::string_view dossier_code);

}  // namespace lienthong::sync::testutil

#endif  // LIENTHONG_TESTS_GATEWAY_SYNC_DOSSIER_FIXTURES_H_
