// Translation from the public portal-sync API to the national portal's JSON
// request bodies (docs/wire-formats.md, "National Public Service Portal"):
// a procedure (create and update share the body), a withdrawal and a
// dossier status update. JSON goes through the messages in
// portal_wire.proto, so strings are escaped and UTF-8 passes through.
//
// All functions are thread-safe and keep no state.
#ifndef LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_REQUEST_H_
#define LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_REQUEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::adapters::dvcqg {

// Returns "TOAN_TRINH" for fully online, "MOT_PHAN" for partly online, and
// an empty view otherwise.
absl::string_view ServiceLevelCode(lienthong::v1::ServiceLevel level);

// Returns `time` as yyyyMMddHHmmss in Asia/Ho_Chi_Minh (UTC+7 all year: the
// zone has had no daylight saving since 1975, so no zone database is
// needed). Sub-second parts are dropped.
std::string FormatPortalTime(const google::protobuf::Timestamp& time);

// Returns the body {"MaTTHC","TenTTHC","LinhVuc","CapThucHien","MucDo",
// "CoQuanThucHien","ThoiHanGiaiQuyet","PhiLePhi","ThanhPhanHoSo":[..],
// "CanCuPhapLy":[..]}, every key present (empty text, empty lists).
// Fails with INVALID_ARGUMENT when the code or name is empty or the level
// is unspecified.
absl::StatusOr<std::string> BuildProcedureBody(
    const lienthong::v1::Procedure& procedure);

// Returns {"MaTTHC": code}. Fails with INVALID_ARGUMENT for an empty code.
absl::StatusOr<std::string> BuildWithdrawBody(absl::string_view code);

// Returns {"MaHoSo","MaTTHC","TrangThaiHoSo":<1..10>,"ThoiGian",
// "NguoiXuLy","GhiChu"}. Fails with INVALID_ARGUMENT when the dossier code
// is empty, the status is not 1..10 or the time is unset.
absl::StatusOr<std::string> BuildDossierStatusBody(
    const lienthong::v1::DossierStatusUpdate& update);

}  // namespace lienthong::adapters::dvcqg

#endif  // LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_REQUEST_H_
