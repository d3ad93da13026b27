// Translation from the public portal-sync API to the national portal's JSON
// request bodies (docs/wire-formats.md, "National Public Service Portal"):
// the sign-in, a dossier's registration (DongBoHoSoMC), a step of its
// progress (CapNhatTienDoHoSoMC), a lookup (TraCuuHoSo), the province's
// online services (assumed DongBoDVCTT) and the national catalogue's reads
// (LayDanhSachTTHC, LayThuTuc). JSON goes through the messages in
// portal_wire.proto, so strings are escaped and UTF-8 passes through.
//
// The builders leave "session" empty: it is set on each attempt
// (ToJsonWithSession), as a refused session is renewed and the call sent
// again. All functions are thread-safe and keep no state.
#ifndef LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_REQUEST_H_
#define LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_REQUEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/dvcqg_portal/portal_wire.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::adapters::dvcqg {

// The portal's operation names ("service").
inline constexpr char kRegisterDossierService[] = "DongBoHoSoMC";
inline constexpr char kProgressService[] = "CapNhatTienDoHoSoMC";
inline constexpr char kLookupService[] = "TraCuuHoSo";
// Assumed: the public source shows no call that publishes online services.
inline constexpr char kPublishServiceService[] = "DongBoDVCTT";
inline constexpr char kCatalogueListService[] = "LayDanhSachTTHC";
inline constexpr char kProcedureService[] = "LayThuTuc";

// Returns "TOAN_TRINH" for fully online, "MOT_PHAN" for partly online, and
// an empty view otherwise.
absl::string_view ServiceLevelCode(lienthong::v1::ServiceLevel level);

// Returns `time` as yyyyMMddHHmmss in Asia/Ho_Chi_Minh (UTC+7 all year: the
// zone has had no daylight saving since 1975, so no zone database is
// needed). Sub-second parts are dropped.
std::string FormatPortalTime(const google::protobuf::Timestamp& time);

// Returns {"username","password"}.
wire::SignInRequest BuildSignIn(absl::string_view username,
                                absl::string_view password);

// Returns DongBoHoSoMC with one dossier: MaHoSo, MaTTHC and TrangThaiHoSo
// from `update`, the rest from update.registration(); isUpdating "True" or
// "False"; unset dates as "". Fails with INVALID_ARGUMENT (naming the
// field) when the dossier code, procedure code or registration is missing
// or the status is not 1..10.
absl::StatusOr<wire::DossierSyncRequest> BuildDossierSync(
    const lienthong::v1::DossierStatusUpdate& update, bool is_updating,
    absl::string_view madonvi);

// Returns CapNhatTienDoHoSoMC with one step: MaHoSo, NguoiXuLy, ChucDanh,
// ThoiDiemXuLy, PhongBanXuLy, NoiDungXuLy, TrangThai ("1".."10"),
// NgayBatDau, NgayKetThucTheoQuyDinh. Fails with INVALID_ARGUMENT when the
// dossier code is empty, the status is not 1..10 or the time is unset.
absl::StatusOr<wire::ProgressRequest> BuildProgress(
    const lienthong::v1::DossierStatusUpdate& update,
    absl::string_view madonvi);

// Returns TraCuuHoSo for `dossier_code`.
wire::LookupRequest BuildLookup(absl::string_view dossier_code,
                                absl::string_view madonvi);

// Returns the assumed DongBoDVCTT with one online service: `procedure`
// offered (TrangThai "1"), or withdrawn ("0", only the codes filled).
// Fails with INVALID_ARGUMENT when the code or national_code is empty, or,
// unless withdrawn, the name is empty or the level unspecified.
absl::StatusOr<wire::ServiceSyncRequest> BuildServicePublication(
    const lienthong::v1::Procedure& procedure, bool is_updating, bool withdraw,
    absl::string_view madonvi);

// Returns LayDanhSachTTHC, and LayThuTuc for `national_code`.
wire::CatalogueListRequest BuildCatalogueList(absl::string_view madonvi);
wire::ProcedureRequest BuildProcedureRead(absl::string_view national_code,
                                          absl::string_view madonvi);

// Returns `request` as JSON, every field present, with its "session" field
// (if it has one) set to `session` first. Fails with INTERNAL if the JSON
// cannot be written.
absl::StatusOr<std::string> ToJsonWithSession(
    google::protobuf::Message& request, absl::string_view session);

}  // namespace lienthong::adapters::dvcqg

#endif  // LIENTHONG_ADAPTERS_DVCQG_PORTAL_PORTAL_REQUEST_H_
