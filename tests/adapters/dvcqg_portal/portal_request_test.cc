#include "adapters/dvcqg_portal/portal_request.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::dvcqg {
namespace {

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

lienthong::v1::Procedure Procedure() {
  lienthong::v1::Procedure p;
  p.set_code("1.001193.000.00.00.H31");
  p.set_name("Đăng ký khai sinh");
  p.set_field("Hộ tịch");
  p.set_authority_level("Cấp xã");
  p.set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  p.set_implementing_agency("UBND xã \"Tân Hưng\"");
  p.set_processing_time("Ngay trong ngày");
  p.set_fees("Miễn phí");
  p.add_required_documents("Tờ khai đăng ký khai sinh");
  p.add_required_documents("Giấy chứng sinh");
  p.add_legal_basis("Luật Hộ tịch 2014");
  return p;
}

TEST(BuildProcedureBodyTest, EveryFieldUnderItsPortalName) {
  EXPECT_THAT(
      BuildProcedureBody(Procedure()),
      IsOkAndHolds(
          R"({"MaTTHC":"1.001193.000.00.00.H31","TenTTHC":"Đăng ký khai sinh",)"
          R"("LinhVuc":"Hộ tịch","CapThucHien":"Cấp xã","MucDo":"TOAN_TRINH",)"
          R"("CoQuanThucHien":"UBND xã \"Tân Hưng\"",)"
          R"("ThoiHanGiaiQuyet":"Ngay trong ngày","PhiLePhi":"Miễn phí",)"
          R"("ThanhPhanHoSo":["Tờ khai đăng ký khai sinh","Giấy chứng sinh"],)"
          R"("CanCuPhapLy":["Luật Hộ tịch 2014"]})"));
}

TEST(BuildProcedureBodyTest, EmptyFieldsArePresent) {
  lienthong::v1::Procedure p;
  p.set_code("1.001193");
  p.set_name("Khai sinh");
  p.set_level(lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE);
  EXPECT_THAT(BuildProcedureBody(p),
              IsOkAndHolds(R"({"MaTTHC":"1.001193","TenTTHC":"Khai sinh",)"
                           R"("LinhVuc":"","CapThucHien":"","MucDo":"MOT_PHAN",)"
                           R"("CoQuanThucHien":"","ThoiHanGiaiQuyet":"",)"
                           R"("PhiLePhi":"","ThanhPhanHoSo":[],"CanCuPhapLy":[]})"));
}

TEST(BuildProcedureBodyTest, Refusals) {
  struct Case {
    void (*spoil)(lienthong::v1::Procedure&);
    const char* message;
  };
  const Case kCases[] = {
      {[](auto& p) { p.clear_code(); }, "code"},
      {[](auto& p) { p.clear_name(); }, "name"},
      {[](auto& p) { p.clear_level(); }, "level"},
  };
  for (const Case& c : kCases) {
    lienthong::v1::Procedure p = Procedure();
    c.spoil(p);
    EXPECT_THAT(BuildProcedureBody(p),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(BuildWithdrawBodyTest, CodeOnly) {
  EXPECT_THAT(BuildWithdrawBody("1.001193.000.00.00.H31"),
              IsOkAndHolds(R"({"MaTTHC":"1.001193.000.00.00.H31"})"));
  EXPECT_THAT(BuildWithdrawBody(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("code")));
}

lienthong::v1::DossierStatusUpdate Update() {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code("000.00.01.H31-250715-00123");
  u.set_procedure_code("1.001193.000.00.00.H31");
  u.set_status(lienthong::v1::RESULT_RETURNED);
  *u.mutable_time() = At(1752546600);
  u.set_handler("Trần Thị B");
  u.set_note("Đã trả kết quả\nqua bưu điện");
  return u;
}

TEST(BuildDossierStatusBodyTest, EveryFieldUnderItsPortalName) {
  EXPECT_THAT(
      BuildDossierStatusBody(Update()),
      IsOkAndHolds(
          R"({"MaHoSo":"000.00.01.H31-250715-00123",)"
          R"("MaTTHC":"1.001193.000.00.00.H31","TrangThaiHoSo":10,)"
          R"("ThoiGian":"20250715093000","NguoiXuLy":"Trần Thị B",)"
          R"("GhiChu":"Đã trả kết quả\nqua bưu điện"})"));
}

TEST(BuildDossierStatusBodyTest, EachStatusIsItsNumber) {
  for (int s = 1; s <= 10; ++s) {
    lienthong::v1::DossierStatusUpdate u = Update();
    u.set_status(static_cast<lienthong::v1::DossierStatus>(s));
    EXPECT_THAT(BuildDossierStatusBody(u),
                IsOkAndHolds(HasSubstr(absl::StrCat("\"TrangThaiHoSo\":", s, ","))));
  }
}

TEST(BuildDossierStatusBodyTest, Refusals) {
  struct Case {
    void (*spoil)(lienthong::v1::DossierStatusUpdate&);
    const char* message;
  };
  const Case kCases[] = {
      {[](auto& u) { u.clear_dossier_code(); }, "dossier code"},
      {[](auto& u) { u.clear_status(); }, "status"},
      {[](auto& u) { u.set_status(static_cast<lienthong::v1::DossierStatus>(11)); },
       "status"},
      {[](auto& u) { u.clear_time(); }, "time"},
  };
  for (const Case& c : kCases) {
    lienthong::v1::DossierStatusUpdate u = Update();
    c.spoil(u);
    EXPECT_THAT(BuildDossierStatusBody(u),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

}  // namespace
}  // namespace lienthong::adapters::dvcqg
