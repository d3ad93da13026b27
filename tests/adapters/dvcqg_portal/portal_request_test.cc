// Request building for the national portal, field by field.
#include "adapters/dvcqg_portal/portal_request.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::dvcqg {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

google::protobuf::Timestamp At(int64_t seconds, int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

TEST(FormatPortalTimeTest, VietnamTimeSecondsOnly) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
    const char* want;
  };
  const Case kCases[] = {
      {1752546600, 0, "20250715093000"},          // 02:30 UTC = 09:30 +07
      {1752598799, 999999999, "20250715235959"},  // nanos dropped
      {1752598800, 0, "20250716000000"},          // 17:00 UTC: next day here
      {1735664400, 0, "20250101000000"},          // new year at UTC+7
      {946659600, 0, "20000101000000"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(FormatPortalTime(At(c.seconds, c.nanos)), c.want) << c.seconds;
  }
}

TEST(ServiceLevelCodeTest, Codes) {
  EXPECT_EQ(ServiceLevelCode(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE),
            "TOAN_TRINH");
  EXPECT_EQ(ServiceLevelCode(lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE),
            "MOT_PHAN");
  EXPECT_EQ(ServiceLevelCode(lienthong::v1::SERVICE_LEVEL_UNSPECIFIED), "");
}

// JSON of a request with session "S".
template <typename Message>
std::string Json(Message request) {
  absl::StatusOr<std::string> json = ToJsonWithSession(request, "S");
  EXPECT_THAT(json, IsOk());
  return json.value_or("");
}

lienthong::v1::DossierStatusUpdate Registered() {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code("000.00.01.H31-250715-00123");
  u.set_procedure_code("1.001193");
  u.set_status(lienthong::v1::NEW);
  u.mutable_time()->set_seconds(1752546600);
  lienthong::v1::DossierRegistration& r = *u.mutable_registration();
  r.set_procedure_name("Đăng ký khai sinh");
  r.set_field_code("G09-TP05");
  r.set_field_name("Hộ tịch");
  r.mutable_applicant()->set_name("Trần Thị \"Mai\"");
  r.mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
  r.mutable_applicant()->set_id("033185001234");
  r.mutable_applicant()->set_email("mai@example.vn");
  r.mutable_applicant()->set_phone("0912345678");
  r.set_summary("Khai sinh cho con");
  *r.mutable_received() = At(1752546000);
  *r.mutable_due() = At(1752805800);
  r.set_handling_unit("UBND xã Tân Hưng");
  r.set_note("Nộp trực tuyến");
  return u;
}

TEST(BuildDossierSyncTest, EveryFieldUnderItsPortalName) {
  auto request = BuildDossierSync(Registered(), false, "000.00.00.H31");
  ASSERT_THAT(request, IsOk());
  EXPECT_EQ(
      Json(*request),
      R"({"session":"S","madonvi":"000.00.00.H31","service":"DongBoHoSoMC",)"
      R"("isUpdating":"False","data":[{"MaHoSo":"000.00.01.H31-250715-00123",)"
      R"("MaTTHC":"1.001193","TenTTHC":"Đăng ký khai sinh",)"
      R"("MaLinhVuc":"G09-TP05","TenLinhVuc":"Hộ tịch",)"
      R"("ChuHoSo":"Trần Thị \"Mai\"","LoaiDoiTuong":"1",)"
      R"("MaDoiTuong":"033185001234","Email":"mai@example.vn",)"
      R"("SoDienThoai":"0912345678","TrichYeuHoSo":"Khai sinh cho con",)"
      R"("NgayTiepNhan":"20250715092000","NgayHenTra":"20250718093000",)"
      R"("TrangThaiHoSo":"1","NgayTra":"","HinhThuc":"0",)"
      R"("NgayKetThucXuLy":"","DonViXuLy":"UBND xã Tân Hưng",)"
      R"("GhiChu":"Nộp trực tuyến","TaiLieuNop":[],"DanhSachLePhi":[],)"
      R"("DanhSachHoSoBoSung":[],"DanhSachGiayToKetQua":[]}]})");
}

TEST(BuildDossierSyncTest, FieldsTable) {
  struct Case {
    const char* name;
    void (*change)(lienthong::v1::DossierStatusUpdate&);
    bool is_updating;
    const char* want;
  };
  const Case kCases[] = {
      {"updating", [](auto&) {}, true, R"("isUpdating":"True")"},
      {"organisation",
       [](auto& u) {
         u.mutable_registration()->mutable_applicant()->set_type(
             lienthong::v1::APPLICANT_ORGANISATION);
       },
       false, R"("LoaiDoiTuong":"2")"},
      {"by post",
       [](auto& u) { u.mutable_registration()->set_result_by_post(true); },
       false, R"("HinhThuc":"1")"},
      {"returned",
       [](auto& u) { *u.mutable_registration()->mutable_returned() = At(1752800000); },
       false, R"("NgayTra":"20250718075320")"},
      {"finished",
       [](auto& u) { *u.mutable_registration()->mutable_finished() = At(1752800000); },
       false, R"("NgayKetThucXuLy":"20250718075320")"},
      {"status as a string",
       [](auto& u) { u.set_status(lienthong::v1::RESULT_RETURNED); }, false,
       R"("TrangThaiHoSo":"10")"},
      {"no due date",
       [](auto& u) { u.mutable_registration()->clear_due(); }, false,
       R"("NgayHenTra":"")"},
  };
  for (const Case& c : kCases) {
    lienthong::v1::DossierStatusUpdate u = Registered();
    c.change(u);
    auto request = BuildDossierSync(u, c.is_updating, "X");
    ASSERT_THAT(request, IsOk()) << c.name;
    EXPECT_THAT(Json(*request), HasSubstr(c.want)) << c.name;
  }
}

TEST(BuildDossierSyncTest, RefusesWhatThePortalCannotTake) {
  struct Case {
    void (*spoil)(lienthong::v1::DossierStatusUpdate&);
    const char* message;
  };
  const Case kCases[] = {
      {[](auto& u) { u.clear_dossier_code(); }, "dossier code"},
      {[](auto& u) { u.clear_procedure_code(); }, "procedure code"},
      {[](auto& u) { u.clear_registration(); }, "registration"},
      {[](auto& u) { u.set_status(lienthong::v1::DOSSIER_STATUS_UNSPECIFIED); },
       "1..10"},
  };
  for (const Case& c : kCases) {
    lienthong::v1::DossierStatusUpdate u = Registered();
    c.spoil(u);
    EXPECT_THAT(BuildDossierSync(u, false, "X"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

lienthong::v1::DossierStatusUpdate Progress() {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code("000.00.01.H31-250715-00123");
  u.set_procedure_code("1.001193");
  u.set_status(lienthong::v1::PROCESSING);
  *u.mutable_time() = At(1752546600);
  u.set_handler("Nguyễn Văn Cán");
  u.set_handler_title("Chuyên viên");
  u.set_department("Phòng Tư pháp");
  u.set_note("Thẩm định hồ sơ");
  *u.mutable_step_start() = At(1752546000);
  *u.mutable_step_due() = At(1752632400);
  return u;
}

TEST(BuildProgressTest, EveryFieldUnderItsPortalName) {
  auto request = BuildProgress(Progress(), "000.00.00.H31");
  ASSERT_THAT(request, IsOk());
  EXPECT_EQ(
      Json(*request),
      R"({"session":"S","madonvi":"000.00.00.H31",)"
      R"("service":"CapNhatTienDoHoSoMC","data":[{)"
      R"("MaHoSo":"000.00.01.H31-250715-00123","NguoiXuLy":"Nguyễn Văn Cán",)"
      R"("ChucDanh":"Chuyên viên","ThoiDiemXuLy":"20250715093000",)"
      R"("PhongBanXuLy":"Phòng Tư pháp","NoiDungXuLy":"Thẩm định hồ sơ",)"
      R"("TrangThai":"4","NgayBatDau":"20250715092000",)"
      R"("NgayKetThucTheoQuyDinh":"20250716092000"}]})");
}

TEST(BuildProgressTest, OptionalDatesEmptyAndRefusals) {
  lienthong::v1::DossierStatusUpdate u = Progress();
  u.clear_step_start();
  u.clear_step_due();
  auto request = BuildProgress(u, "X");
  ASSERT_THAT(request, IsOk());
  EXPECT_THAT(Json(*request),
              HasSubstr(R"("NgayBatDau":"","NgayKetThucTheoQuyDinh":"")"));
  u.clear_time();
  EXPECT_THAT(BuildProgress(u, "X"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time")));
  u = Progress();
  u.set_status(static_cast<lienthong::v1::DossierStatus>(11));
  EXPECT_THAT(BuildProgress(u, "X"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1..10")));
  u = Progress();
  u.clear_dossier_code();
  EXPECT_THAT(BuildProgress(u, "X"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dossier")));
}

TEST(BuildLookupTest, DossierCodeAsMahoso) {
  EXPECT_EQ(Json(BuildLookup("000.00.01.H31-250715-00123", "U")),
            R"({"session":"S","madonvi":"U","service":"TraCuuHoSo",)"
            R"("mahoso":"000.00.01.H31-250715-00123"})");
}

lienthong::v1::Procedure Procedure() {
  lienthong::v1::Procedure p;
  p.set_code("1.001193.000.00.00.H31");
  p.set_national_code("1.001193");
  p.set_name("Đăng ký khai sinh");
  p.set_field("Hộ tịch");
  p.set_authority_level("Cấp xã");
  p.set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  p.set_implementing_agency("UBND xã Tân Hưng");
  p.set_processing_time("Ngay trong ngày");
  p.set_fees("Miễn phí");
  p.add_required_documents("Tờ khai");
  p.add_legal_basis("Luật Hộ tịch 2014");
  return p;
}

TEST(BuildServicePublicationTest, OfferedAndWithdrawn) {
  auto offered = BuildServicePublication(Procedure(), false, false, "U");
  ASSERT_THAT(offered, IsOk());
  EXPECT_EQ(Json(*offered),
            R"({"session":"S","madonvi":"U","service":"DongBoDVCTT",)"
            R"("isUpdating":"False","data":[{"MaTTHC":"1.001193",)"
            R"("MaThuTucDiaPhuong":"1.001193.000.00.00.H31",)"
            R"("TenTTHC":"Đăng ký khai sinh","LinhVuc":"Hộ tịch",)"
            R"("CapThucHien":"Cấp xã","MucDo":"TOAN_TRINH",)"
            R"("CoQuanThucHien":"UBND xã Tân Hưng",)"
            R"("ThoiHanGiaiQuyet":"Ngay trong ngày","PhiLePhi":"Miễn phí",)"
            R"("ThanhPhanHoSo":["Tờ khai"],"CanCuPhapLy":["Luật Hộ tịch 2014"],)"
            R"("TrangThai":"1"}]})");
  lienthong::v1::Procedure bare;
  bare.set_code("1.001193.000.00.00.H31");
  bare.set_national_code("1.001193");
  auto withdrawn = BuildServicePublication(bare, true, true, "U");
  ASSERT_THAT(withdrawn, IsOk());
  EXPECT_THAT(Json(*withdrawn), HasSubstr(R"("isUpdating":"True")"));
  EXPECT_THAT(Json(*withdrawn), HasSubstr(R"("MucDo":"",)"));
  EXPECT_THAT(Json(*withdrawn), HasSubstr(R"("TrangThai":"0")"));
}

TEST(BuildServicePublicationTest, Refusals) {
  struct Case {
    void (*spoil)(lienthong::v1::Procedure&);
    bool withdraw;
    const char* message;
  };
  const Case kCases[] = {
      {[](auto& p) { p.clear_code(); }, false, "procedure code"},
      {[](auto& p) { p.clear_national_code(); }, true, "national code"},
      {[](auto& p) { p.clear_name(); }, false, "name"},
      {[](auto& p) { p.clear_level(); }, false, "level"},
  };
  for (const Case& c : kCases) {
    lienthong::v1::Procedure p = Procedure();
    c.spoil(p);
    EXPECT_THAT(BuildServicePublication(p, false, c.withdraw, "U"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(CatalogueRequestsTest, ListAndOne) {
  EXPECT_EQ(Json(BuildCatalogueList("U")),
            R"({"session":"S","madonvi":"U","service":"LayDanhSachTTHC"})");
  EXPECT_EQ(Json(BuildProcedureRead("1.001193", "U")),
            R"({"session":"S","madonvi":"U","service":"LayThuTuc",)"
            R"("maTTHC":"1.001193"})");
}

TEST(SignInTest, UsernameAndPasswordOnly) {
  EXPECT_EQ(Json(BuildSignIn("u", "p\"w")),
            R"({"username":"u","password":"p\"w"})");
}

}  // namespace
}  // namespace lienthong::adapters::dvcqg
