// The lookup reply parser against the shapes of docs/wire-formats.md: the
// public sample's layout (ns1:CongdanCollection directly under Body, the
// name all in Ten, codes such as TonGiao 00 and QuanHe CH01) with synthetic
// values, most fields missing, unknown codes, addresses in both schemes,
// another citizen, malformed XML and faults.
#include "adapters/c06_population/lookup_response.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::c06 {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::Citizen;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kId[] = "026092001234";

// Every element the contract lists, laid out as the public sample is, with
// synthetic values. Addresses are in the legacy scheme (with districts).
constexpr char kEveryField[] = R"(
  <ns1:SoDinhDanh>026092001234</ns1:SoDinhDanh>
  <ns1:SoCMND>135600123</ns1:SoCMND>
  <ns1:HoVaTen><ns1:Ho/><ns1:ChuDem/><ns1:Ten>PHẠM VĂN HÙNG</ns1:Ten></ns1:HoVaTen>
  <ns1:GioiTinh>1</ns1:GioiTinh>
  <ns1:DanToc>01</ns1:DanToc>
  <ns1:TonGiao>00</ns1:TonGiao>
  <ns1:TinhTrangHonNhan>2</ns1:TinhTrangHonNhan>
  <ns1:NhomMau>00</ns1:NhomMau>
  <ns1:NgayThangNamSinh><ns1:Nam>1992</ns1:Nam><ns1:NgayThangNam>19921122</ns1:NgayThangNam></ns1:NgayThangNamSinh>
  <ns1:NoiDangKyKhaiSinh><ns1:MaTinhThanh>26</ns1:MaTinhThanh><ns1:MaQuanHuyen>252</ns1:MaQuanHuyen><ns1:MaPhuongXa>09106</ns1:MaPhuongXa><ns1:ChiTiet>XÃ LŨNG HÒA</ns1:ChiTiet><ns1:QuocGia>VN</ns1:QuocGia></ns1:NoiDangKyKhaiSinh>
  <ns1:QuocTich>VN</ns1:QuocTich>
  <ns1:QueQuan><ns1:MaTinhThanh>26</ns1:MaTinhThanh><ns1:MaQuanHuyen>252</ns1:MaQuanHuyen><ns1:MaPhuongXa>09106</ns1:MaPhuongXa><ns1:ChiTiet>Thôn 3</ns1:ChiTiet><ns1:QuocGia>VN</ns1:QuocGia></ns1:QueQuan>
  <ns1:ThuongTru><ns1:MaTinhThanh>26</ns1:MaTinhThanh><ns1:MaQuanHuyen>252</ns1:MaQuanHuyen><ns1:MaPhuongXa>09107</ns1:MaPhuongXa><ns1:ChiTiet>Số 7</ns1:ChiTiet><ns1:QuocGia>VN</ns1:QuocGia></ns1:ThuongTru>
  <ns1:NoiOHienTai><ns1:MaTinhThanh>01</ns1:MaTinhThanh><ns1:MaQuanHuyen>001</ns1:MaQuanHuyen><ns1:MaPhuongXa>00004</ns1:MaPhuongXa><ns1:ChiTiet>Ngõ 5</ns1:ChiTiet><ns1:QuocGia>VN</ns1:QuocGia></ns1:NoiOHienTai>
  <ns1:Cha><ns1:HoVaTen>PHẠM VĂN BÌNH</ns1:HoVaTen><ns1:QuocTich>VN</ns1:QuocTich><ns1:SoDinhDanh>026062004321</ns1:SoDinhDanh><ns1:SoCMND>135600456</ns1:SoCMND></ns1:Cha>
  <ns1:Me><ns1:HoVaTen>LÊ THỊ CÚC</ns1:HoVaTen><ns1:QuocTich>VN</ns1:QuocTich><ns1:SoDinhDanh>026165004322</ns1:SoDinhDanh><ns1:SoCMND>135600457</ns1:SoCMND></ns1:Me>
  <ns1:VoChong><ns1:HoVaTen>TRẦN THỊ MAI</ns1:HoVaTen><ns1:QuocTich>VN</ns1:QuocTich><ns1:SoDinhDanh>026195004323</ns1:SoDinhDanh><ns1:SoCMND>135600458</ns1:SoCMND></ns1:VoChong>
  <ns1:NguoiDaiDien><ns1:HoVaTen>PHẠM VĂN BÌNH</ns1:HoVaTen><ns1:QuocTich>VN</ns1:QuocTich><ns1:SoDinhDanh>026062004321</ns1:SoDinhDanh><ns1:SoCMND>135600456</ns1:SoCMND></ns1:NguoiDaiDien>
  <ns1:ChuHo><ns1:QuanHe>CH01</ns1:QuanHe><ns1:SoDinhDanh>026092001234</ns1:SoDinhDanh><ns1:SoCMND>135600123</ns1:SoCMND><ns1:HoVaTen>PHẠM VĂN HÙNG</ns1:HoVaTen></ns1:ChuHo>
  <ns1:SoSoHoKhau>cm41</ns1:SoSoHoKhau>
)";

// A SOAP reply whose collection has `attributes` and holds one CongDan with
// `congdan` inside, or none when `congdan` is null.
std::string Reply(const char* congdan, absl::string_view attributes = "") {
  return absl::StrCat(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Header xmlns:dan="http://dancuquocgia.bca"/>
  <soapenv:Body xmlns:dan="http://dancuquocgia.bca">
    <ns1:CongdanCollection xmlns:ns1="http://www.mic.gov.vn/dancu/1.0" )",
      attributes, ">",
      congdan == nullptr
          ? ""
          : absl::StrCat("<ns1:CongDan>", congdan, "</ns1:CongDan>"),
      R"(</ns1:CongdanCollection>
  </soapenv:Body>
</soapenv:Envelope>)");
}

// kEveryField with `from` replaced by `to`.
std::string EveryFieldWith(absl::string_view from, absl::string_view to) {
  return absl::StrReplaceAll(kEveryField, {{from, to}});
}

absl::StatusOr<LookupReply> Parse(const std::string& body,
                                  absl::string_view asked = kId) {
  return ParseLookupResponse(200, body, asked);
}

TEST(ParseLookupResponseTest, EveryField) {
  auto reply = Parse(Reply(kEveryField));
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(reply->found);
  const Citizen& c = reply->citizen;
  EXPECT_EQ(c.citizen_id(), kId);
  EXPECT_EQ(c.old_id_number(), "135600123");
  // Everything in Ten, upper case with diacritics: split, kept as written.
  EXPECT_EQ(c.name().full(), "PHẠM VĂN HÙNG");
  EXPECT_EQ(c.name().family(), "PHẠM");
  EXPECT_EQ(c.name().middle(), "VĂN");
  EXPECT_EQ(c.name().given(), "HÙNG");
  EXPECT_EQ(c.gender(), lienthong::v1::GENDER_MALE);
  EXPECT_EQ(c.gender_code(), "1");
  EXPECT_EQ(c.ethnicity(), lienthong::v1::ETHNICITY_KINH);
  EXPECT_EQ(c.ethnicity_code(), "01");
  EXPECT_EQ(c.ethnicity_name(), "Kinh");
  EXPECT_EQ(c.religion_code(), "00");
  EXPECT_EQ(c.religion(), "Không");
  EXPECT_EQ(c.marital_status(), lienthong::v1::MARITAL_STATUS_MARRIED);
  EXPECT_EQ(c.marital_status_code(), "2");
  EXPECT_EQ(c.blood_group(), lienthong::v1::BLOOD_GROUP_NOT_RECORDED);
  EXPECT_EQ(c.blood_group_code(), "00");
  EXPECT_EQ(c.birth_date().year(), 1992);
  EXPECT_EQ(c.birth_date().month(), 11);
  EXPECT_EQ(c.birth_date().day(), 22);
  EXPECT_EQ(c.nationality(), "VN");
  EXPECT_EQ(c.birth_registration_place().province_code(), "26");
  EXPECT_EQ(c.birth_registration_place().legacy_district_code(), "252");
  EXPECT_EQ(c.birth_registration_place().commune_code(), "09106");
  EXPECT_EQ(c.birth_registration_place().detail(), "XÃ LŨNG HÒA");
  EXPECT_EQ(c.birth_registration_place().country(), "VN");
  EXPECT_EQ(c.hometown().detail(), "Thôn 3");
  EXPECT_EQ(c.permanent_address().commune_code(), "09107");
  EXPECT_EQ(c.current_address().province_code(), "01");
  EXPECT_EQ(c.father().name().full(), "PHẠM VĂN BÌNH");
  EXPECT_EQ(c.father().citizen_id(), "026062004321");
  EXPECT_EQ(c.father().old_id_number(), "135600456");
  EXPECT_EQ(c.father().nationality(), "VN");
  EXPECT_EQ(c.mother().name().given(), "CÚC");
  EXPECT_EQ(c.spouse().citizen_id(), "026195004323");
  EXPECT_EQ(c.representative().name().full(), "PHẠM VĂN BÌNH");
  EXPECT_EQ(c.household_head().citizen_id(), kId);
  EXPECT_EQ(c.household_head().old_id_number(), "135600123");
  EXPECT_EQ(c.household_head().name().full(), "PHẠM VĂN HÙNG");
  // CH01 (the public sample's code) is the head of household.
  EXPECT_EQ(c.household_relation(), lienthong::v1::HOUSEHOLD_RELATION_HEAD);
  EXPECT_EQ(c.household_relation_code(), "CH01");
  EXPECT_EQ(c.household_book_number(), "cm41");
  EXPECT_FALSE(c.has_data_as_of());
}

TEST(ParseLookupResponseTest, MostFieldsMissing) {
  auto reply =
      Parse(Reply("<ns1:SoDinhDanh>026092001234</ns1:SoDinhDanh>"
                  "<ns1:HoVaTen><ns1:Ho/><ns1:ChuDem/><ns1:Ten/></ns1:HoVaTen>"
                  "<ns1:QuocTich/><ns1:NgayThangNamSinh/><ns1:Cha/>"
                  "<ns1:ThuongTru/><ns1:ChuHo><ns1:QuanHe/></ns1:ChuHo>"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(reply->found);
  Citizen expected;
  expected.set_citizen_id(kId);
  EXPECT_EQ(reply->citizen.SerializeAsString(), expected.SerializeAsString())
      << reply->citizen.DebugString();
}

TEST(ParseLookupResponseTest, UnknownCodesAreKeptAsRecorded) {
  std::string congdan = kEveryField;
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{
           {"<ns1:GioiTinh>1<", "<ns1:GioiTinh>3<"},
           {"<ns1:DanToc>01<", "<ns1:DanToc>57<"},
           {"<ns1:TonGiao>00<", "<ns1:TonGiao>07<"},
           {"<ns1:TinhTrangHonNhan>2<", "<ns1:TinhTrangHonNhan>9<"},
           {"<ns1:NhomMau>00<", "<ns1:NhomMau>05<"},
           {"<ns1:QuanHe>CH01<", "<ns1:QuanHe>CH09<"},
           {"<ns1:QuocTich>VN</ns1:QuocTich>\n  <ns1:QueQuan>",
            "<ns1:QuocTich>XK</ns1:QuocTich>\n  <ns1:QueQuan>"}}) {
    ASSERT_NE(congdan.find(from), std::string::npos) << from;
    congdan = absl::StrReplaceAll(congdan, {{from, to}});
  }
  auto reply = Parse(Reply(congdan.c_str()));
  ASSERT_TRUE(reply.ok()) << reply.status();
  const Citizen& c = reply->citizen;
  EXPECT_EQ(c.gender(), lienthong::v1::GENDER_UNSPECIFIED);
  EXPECT_EQ(c.gender_code(), "3");
  EXPECT_EQ(c.ethnicity(), lienthong::v1::ETHNICITY_UNSPECIFIED);
  EXPECT_EQ(c.ethnicity_code(), "57");
  EXPECT_EQ(c.ethnicity_name(), "");
  EXPECT_EQ(c.religion_code(), "07");
  EXPECT_EQ(c.religion(), "");
  EXPECT_EQ(c.marital_status(), lienthong::v1::MARITAL_STATUS_UNSPECIFIED);
  EXPECT_EQ(c.marital_status_code(), "9");
  EXPECT_EQ(c.blood_group(), lienthong::v1::BLOOD_GROUP_UNSPECIFIED);
  EXPECT_EQ(c.blood_group_code(), "05");
  EXPECT_EQ(c.household_relation(),
            lienthong::v1::HOUSEHOLD_RELATION_UNSPECIFIED);
  EXPECT_EQ(c.household_relation_code(), "CH09");
  EXPECT_EQ(c.nationality(), "XK");
}

struct CodeCase {
  const char* element;
  const char* code;
  const char* expected;  // the name or enum name the reply must carry
};

TEST(ParseLookupResponseTest, KnownCodes) {
  const CodeCase kCases[] = {
      {"DanToc", "02", "Tày"},
      {"DanToc", "10", "Gia Rai"},
      {"DanToc", "27", "Giẻ Triêng"},
      {"DanToc", "54", "Rơ Măm"},
      {"DanToc", "55", "Người nước ngoài"},
      {"DanToc", "56", "Không xác định"},
      {"GioiTinh", "2", "GENDER_FEMALE"},
      {"TinhTrangHonNhan", "1", "MARITAL_STATUS_SINGLE"},
      {"TinhTrangHonNhan", "3", "MARITAL_STATUS_DIVORCED"},
      {"TinhTrangHonNhan", "4", "MARITAL_STATUS_WIDOWED"},
      {"NhomMau", "AB", "BLOOD_GROUP_AB"},
      {"NhomMau", "O", "BLOOD_GROUP_O"},
  };
  for (const CodeCase& c : kCases) {
    SCOPED_TRACE(absl::StrCat(c.element, " ", c.code));
    const std::string congdan = absl::StrCat(
        "<ns1:SoDinhDanh>026092001234</ns1:SoDinhDanh><ns1:", c.element, ">",
        c.code, "</ns1:", c.element, ">");
    auto reply = Parse(Reply(congdan.c_str()));
    ASSERT_TRUE(reply.ok()) << reply.status();
    const Citizen& citizen = reply->citizen;
    const std::string actual = absl::StrCat(
        citizen.ethnicity_name(),
        citizen.gender() ? lienthong::v1::Gender_Name(citizen.gender()) : "",
        citizen.marital_status()
            ? lienthong::v1::MaritalStatus_Name(citizen.marital_status())
            : "",
        citizen.blood_group()
            ? lienthong::v1::BloodGroup_Name(citizen.blood_group())
            : "");
    EXPECT_EQ(actual, c.expected);
  }
}

struct NameCase {
  const char* ho_va_ten;
  const char* full;
  const char* family;
  const char* middle;
  const char* given;
};

TEST(ParseLookupResponseTest, NamesInEveryShape) {
  const NameCase kCases[] = {
      {"<ns1:Ho/><ns1:ChuDem/><ns1:Ten>ĐÀO VĂN TÀI</ns1:Ten>", "ĐÀO VĂN TÀI",
       "ĐÀO", "VĂN", "TÀI"},
      {"<ns1:Ho>Đào</ns1:Ho><ns1:ChuDem>Văn</ns1:ChuDem><ns1:Ten>Tài</ns1:Ten>",
       "Đào Văn Tài", "Đào", "Văn", "Tài"},
      {"<ns1:Ho>Lò</ns1:Ho><ns1:Ten>Sa</ns1:Ten>", "Lò Sa", "Lò", "", "Sa"},
      {"  Nguyễn   Thị Ánh  Hồng ", "Nguyễn Thị Ánh Hồng", "Nguyễn", "Thị Ánh",
       "Hồng"},
      // NFD in, NFC out.
      {"<ns1:Ten>NGUYE\xCC\x82\xCC\x83N VA\xCC\x86N A\xCC\x82N</ns1:Ten>",
       "NGUYỄN VĂN ÂN", "NGUYỄN", "VĂN", "ÂN"},
  };
  for (const NameCase& c : kCases) {
    SCOPED_TRACE(c.ho_va_ten);
    const std::string congdan =
        absl::StrCat("<ns1:SoDinhDanh>026092001234</ns1:SoDinhDanh>",
                     "<ns1:HoVaTen>", c.ho_va_ten, "</ns1:HoVaTen>");
    auto reply = Parse(Reply(congdan.c_str()));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->citizen.name().full(), c.full);
    EXPECT_EQ(reply->citizen.name().family(), c.family);
    EXPECT_EQ(reply->citizen.name().middle(), c.middle);
    EXPECT_EQ(reply->citizen.name().given(), c.given);
  }
}

TEST(ParseLookupResponseTest, AnEmptyCollectionIsNotFound) {
  for (const char* attributes :
       {"", R"(SoCongDan="0" GhiChu="Khong tim thay")"}) {
    auto reply = Parse(Reply(nullptr, attributes));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_FALSE(reply->found);
  }
}

TEST(ParseLookupResponseTest, AReplyAboutAnotherCitizenIsRefused) {
  auto reply = Parse(Reply(kEveryField), "026092009999");
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable,
                              "population database answered about another "
                              "citizen"));
  // By old ID card number: its SoCMND must be the one asked.
  EXPECT_TRUE(Parse(Reply(kEveryField), "135600123").ok());
  EXPECT_THAT(
      Parse(Reply(kEveryField), "135600999"),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("another citizen")));
  EXPECT_THAT(Parse(Reply("<ns1:SoDinhDanh>026092001234</ns1:SoDinhDanh>"),
                    "135600123"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("malformed reply: missing SoCMND")));
  EXPECT_THAT(Parse(Reply("<ns1:SoCMND>135600123</ns1:SoCMND>")),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("malformed reply: missing SoDinhDanh")));
}

struct SchemeCase {
  const char* what;
  const char* attributes;
  const char* address;  // inside ThuongTru
  const char* error;    // nullptr: accepted
};

TEST(ParseLookupResponseTest, AddressesAreCheckedInTheSchemeOfTheirDate) {
  const SchemeCase kCases[] = {
      {"new scheme, Hưng Yên", R"(ThoiDiemDuLieu="2025-09-15T10:30:00+07:00")",
       "<ns1:MaTinhThanh>33</ns1:MaTinhThanh><ns1:MaPhuongXa>12103</"
       "ns1:MaPhuongXa>",
       nullptr},
      {"new scheme, date unknown", "",
       "<ns1:MaTinhThanh>33</ns1:MaTinhThanh><ns1:MaPhuongXa>12103</"
       "ns1:MaPhuongXa>",
       nullptr},
      {"Thái Bình after the merger", R"(ThoiDiemDuLieu="2025-09-15T10:30:00")",
       "<ns1:MaTinhThanh>34</ns1:MaTinhThanh><ns1:MaPhuongXa>12103</"
       "ns1:MaPhuongXa>",
       "bad MaTinhThanh in ThuongTru"},
      {"Thái Bình before the merger",
       R"(ThoiDiemDuLieu="2025-06-30T23:59:59+07:00")",
       "<ns1:MaTinhThanh>34</ns1:MaTinhThanh><ns1:MaPhuongXa>12103</"
       "ns1:MaPhuongXa>",
       nullptr},
      {"Thái Bình with a district", R"(ThoiDiemDuLieu="2025-09-15")",
       "<ns1:MaTinhThanh>34</ns1:MaTinhThanh><ns1:MaQuanHuyen>336</"
       "ns1:MaQuanHuyen>"
       "<ns1:MaPhuongXa>12103</ns1:MaPhuongXa>",
       nullptr},
      {"the midnight that started it, in UTC",
       R"(ThoiDiemDuLieu="2025-06-30T17:00:00Z")",
       "<ns1:MaTinhThanh>34</ns1:MaTinhThanh><ns1:MaPhuongXa>12103</"
       "ns1:MaPhuongXa>",
       "bad MaTinhThanh in ThuongTru"},
      {"no such province", "",
       "<ns1:MaTinhThanh>99</ns1:MaTinhThanh><ns1:MaPhuongXa>12103</"
       "ns1:MaPhuongXa>",
       "bad MaTinhThanh in ThuongTru"},
      {"commune of 4 digits", "",
       "<ns1:MaTinhThanh>33</ns1:MaTinhThanh><ns1:MaPhuongXa>1210</"
       "ns1:MaPhuongXa>",
       "bad MaPhuongXa in ThuongTru"},
      {"commune 00000", "",
       "<ns1:MaTinhThanh>33</ns1:MaTinhThanh><ns1:MaPhuongXa>00000</"
       "ns1:MaPhuongXa>",
       "bad MaPhuongXa in ThuongTru"},
      {"district 000", "",
       "<ns1:MaTinhThanh>33</ns1:MaTinhThanh><ns1:MaQuanHuyen>000</"
       "ns1:MaQuanHuyen>",
       "bad MaQuanHuyen in ThuongTru"},
      {"abroad: no Vietnamese codes", "",
       "<ns1:ChiTiet>Berlin</ns1:ChiTiet><ns1:QuocGia>DE</ns1:QuocGia>",
       nullptr},
      {"province with markup", "", "<ns1:MaTinhThanh>3&lt;3</ns1:MaTinhThanh>",
       "bad MaTinhThanh in ThuongTru"},
  };
  for (const SchemeCase& c : kCases) {
    SCOPED_TRACE(c.what);
    const std::string congdan =
        absl::StrCat("<ns1:SoDinhDanh>026092001234</ns1:SoDinhDanh>",
                     "<ns1:ThuongTru>", c.address, "</ns1:ThuongTru>");
    auto reply = Parse(Reply(congdan.c_str(), c.attributes));
    if (c.error == nullptr) {
      EXPECT_TRUE(reply.ok()) << reply.status();
    } else {
      EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable,
                                  absl::StrCat("population database sent a "
                                               "malformed reply: ",
                                               c.error)));
    }
  }
}

TEST(ParseLookupResponseTest, TheDataTimeIsPassedOn) {
  auto reply = Parse(Reply(
      kEveryField,
      R"(SoCongDan="1" GhiChu="" ThoiDiemDuLieu="2025-09-15T10:30:00.123+07:00")"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->citizen.data_as_of().seconds(), 1757907000);
}

struct ErrorCase {
  const char* what;
  std::string body;
  const char* message;  // after "malformed reply: " unless it starts with '!'
};

TEST(ParseLookupResponseTest, MalformedRepliesNameTheElementOnly) {
  const ErrorCase kCases[] = {
      {"truncated", Reply(kEveryField).substr(0, 400), "not XML"},
      {"not SOAP", "<html><body>Gateway</body></html>",
       "no SOAP Envelope/Body"},
      {"old wrapper",
       absl::StrReplaceAll(
           Reply(kEveryField),
           {{"<ns1:CongdanCollection",
             "<TraCuuThongTinCongDanResponse><ns1:CongdanCollection"},
            {"</ns1:CongdanCollection>",
             "</ns1:CongdanCollection></TraCuuThongTinCongDanResponse>"}}),
       "missing CongdanCollection"},
      {"two records",
       absl::StrReplaceAll(
           Reply(kEveryField),
           {{"</ns1:CongDan>", "</ns1:CongDan><ns1:CongDan/>"}}),
       "more than one CongDan"},
      // Each would read as an empty collection, "no such citizen".
      {"a count of records it does not hold",
       Reply(nullptr, R"(SoCongDan="1")"),
       "SoCongDan is not the number of CongDan"},
      {"a record under another name",
       absl::StrReplaceAll(Reply(kEveryField),
                           {{"<ns1:CongDan>", "<ns1:Congdan>"},
                            {"</ns1:CongDan>", "</ns1:Congdan>"}}),
       "CongdanCollection holds an element other than CongDan"},
      {"a second SOAP Body (a fault in it unseen)",
       absl::StrReplaceAll(
           Reply(nullptr),
           {{"</soapenv:Body>",
             "</soapenv:Body><soapenv:Body><soapenv:Fault><faultcode>"
             "soapenv:Server</faultcode><faultstring>busy</faultstring>"
             "</soapenv:Fault></soapenv:Body>"}}),
       "more than one SOAP Body"},
      {"a second envelope (its record unseen: no citizen, read alone)",
       absl::StrCat(Reply(nullptr, R"(SoCongDan="0")"),
                    Reply(kEveryField).substr(Reply(nullptr).find('\n'))),
       "more than one root element"},
      {"an attribute twice (the address scheme taken from one)",
       Reply(kEveryField, R"(ThoiDiemDuLieu="2025-06-01T00:00:00" )"
                          R"(ThoiDiemDuLieu="2025-08-01T00:00:00")"),
       "an attribute twice"},
      // A name the parts do not hold would read as none.
      {"a name as text beside its parts",
       Reply(EveryFieldWith("<ns1:HoVaTen><ns1:Ho/><ns1:ChuDem/>",
                            "<ns1:HoVaTen>PHẠM VĂN HÙNG<ns1:Ho/><ns1:ChuDem/>")
                 .c_str()),
       "bad HoVaTen"},
      {"a name in a part the format has not",
       Reply(EveryFieldWith(
                 "<ns1:HoVaTen><ns1:Ho/><ns1:ChuDem/><ns1:Ten>PHẠM VĂN "
                 "HÙNG</ns1:Ten></ns1:HoVaTen>",
                 "<ns1:HoVaTen><ns1:HoTen>PHẠM VĂN HÙNG</ns1:HoTen>"
                 "</ns1:HoVaTen>")
                 .c_str()),
       "bad HoVaTen"},
      {"a second ID",
       Reply(EveryFieldWith("026092001234</ns1:SoDinhDanh>",
                            "026092001234</ns1:SoDinhDanh>"
                            "<ns1:SoDinhDanh>026092009999</ns1:SoDinhDanh>")
                 .c_str()),
       "an element twice where one is expected"},
      {"a second collection",
       absl::StrReplaceAll(Reply(kEveryField),
                           {{"</ns1:CongdanCollection>",
                             "</ns1:CongdanCollection><ns1:CongdanCollection>"
                             "<ns1:CongDan/></ns1:CongdanCollection>"}}),
       "an element twice where one is expected"},
      {"an ID split by a comment",
       Reply(EveryFieldWith("026092001234</ns1:SoDinhDanh>",
                            "026092001234<!-- -->999</ns1:SoDinhDanh>")
                 .c_str()),
       "text in more than one piece"},
      {"an ID cut by a NUL reference",
       Reply(EveryFieldWith("026092001234</ns1:SoDinhDanh>",
                            "026092001234&#0;999</ns1:SoDinhDanh>")
                 .c_str()),
       "a control character"},
      {"an escape sequence in ChiTiet",
       Reply(
           EveryFieldWith("<ns1:ChiTiet>", "<ns1:ChiTiet>&#27;]52;c;").c_str()),
       "a control character"},
      {"a C1 control in a name",
       Reply(EveryFieldWith("<ns1:Ten>", "<ns1:Ten>&#x85;").c_str()),
       "a control character"},
      // pugixml reads every digit, wrapping at 2^32: as long, still NUL.
      {"a name cut by a long NUL reference",
       Reply(
           EveryFieldWith("<ns1:Ten>", "<ns1:Ten>&#000000000000000;").c_str()),
       "a control character"},
      {"a long hex ESC reference",
       Reply(
           EveryFieldWith("<ns1:Ten>", "<ns1:Ten>&#x0000000000001B;").c_str()),
       "a control character"},
      {"a NUL reference past 2^32",
       Reply(EveryFieldWith("<ns1:Ten>", "<ns1:Ten>&#4294967296;").c_str()),
       "a control character"},
      {"11-digit ID",
       Reply(EveryFieldWith("026092001234</ns1:SoDinhDanh>\n  <ns1:SoCMND>",
                            "02609200123</ns1:SoDinhDanh>\n  <ns1:SoCMND>")
                 .c_str()),
       "bad SoDinhDanh"},
      {"8-digit CMND",
       Reply(EveryFieldWith("<ns1:SoCMND>135600123<", "<ns1:SoCMND>13560012<")
                 .c_str()),
       "bad SoCMND"},
      {"text in DanToc",
       Reply(EveryFieldWith("<ns1:DanToc>01<", "<ns1:DanToc>Kinh dân tộc<")
                 .c_str()),
       "bad DanToc"},
      {"long code",
       Reply(
           EveryFieldWith("<ns1:TonGiao>00<", "<ns1:TonGiao>00000000000000000<")
               .c_str()),
       "bad TonGiao"},
      {"Nam disagrees",
       Reply(EveryFieldWith("<ns1:Nam>1992<", "<ns1:Nam>1993<").c_str()),
       "bad Nam in NgayThangNamSinh"},
      {"30 February", Reply(EveryFieldWith("19921122", "19920230").c_str()),
       "bad NgayThangNamSinh"},
      {"born in the future",
       Reply(EveryFieldWith("<ns1:Nam>1992</ns1:Nam><ns1:NgayThangNam>19921122",
                            "<ns1:Nam>2999</ns1:Nam><ns1:NgayThangNam>29991122")
                 .c_str()),
       "bad NgayThangNamSinh"},
      {"relative's ID",
       Reply(
           EveryFieldWith("026062004321</ns1:SoDinhDanh><ns1:SoCMND>135600456</"
                          "ns1:SoCMND></ns1:Cha>",
                          "123456</ns1:SoDinhDanh><ns1:SoCMND>135600456</"
                          "ns1:SoCMND></ns1:Cha>")
               .c_str()),
       "bad SoDinhDanh in Cha"},
      {"head's relation code", Reply(EveryFieldWith("CH01", "CH-01").c_str()),
       "bad QuanHe in ChuHo"},
      {"invalid UTF-8 in a name",
       Reply(EveryFieldWith("PHẠM VĂN "
                            "BÌNH</ns1:HoVaTen><ns1:QuocTich>VN</"
                            "ns1:QuocTich><ns1:SoDinhDanh>026062004321",
                            "PH\xC3 "
                            "V\xC4N</ns1:HoVaTen><ns1:QuocTich>VN</"
                            "ns1:QuocTich><ns1:SoDinhDanh>026062004321")
                 .c_str()),
       "bad HoVaTen in Cha"},
      {"bad data time", Reply(kEveryField, R"(ThoiDiemDuLieu="15/09/2025")"),
       "bad ThoiDiemDuLieu"},
      {"impossible data time",
       Reply(kEveryField, R"(ThoiDiemDuLieu="2025-09-31T10:00:00")"),
       "bad ThoiDiemDuLieu"},
      // Before what a protobuf Timestamp holds (0001-01-01), and after.
      {"data time of year 0",
       Reply(kEveryField, R"(ThoiDiemDuLieu="0000-01-01T00:00:00")"),
       "bad ThoiDiemDuLieu"},
      {"data time past 9999",
       Reply(kEveryField, R"(ThoiDiemDuLieu="9999-12-31T23:59:59-14:00")"),
       "bad ThoiDiemDuLieu"},
      // Structures sent as plain text would read as structures with every
      // part absent.
      {"address as text",
       Reply(EveryFieldWith(
                 "<ns1:ThuongTru><ns1:MaTinhThanh>26</ns1:MaTinhThanh>",
                 "<ns1:ThuongTru>Số 7, Thôn 3<ns1:MaTinhThanh>26</"
                 "ns1:MaTinhThanh>")
                 .c_str()),
       "bad ThuongTru"},
      {"father as text",
       Reply(EveryFieldWith("<ns1:Cha><ns1:HoVaTen>PHẠM VĂN BÌNH</ns1:HoVaTen>"
                            "<ns1:QuocTich>VN</ns1:QuocTich><ns1:SoDinhDanh>"
                            "026062004321</ns1:SoDinhDanh><ns1:SoCMND>"
                            "135600456</ns1:SoCMND></ns1:Cha>",
                            "<ns1:Cha>PHẠM VĂN BÌNH</ns1:Cha>")
                 .c_str()),
       "bad Cha"},
  };
  for (const ErrorCase& c : kCases) {
    SCOPED_TRACE(c.what);
    auto reply = Parse(c.body);
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable,
                                absl::StrCat("population database sent a "
                                             "malformed reply: ",
                                             c.message)));
    EXPECT_FALSE(IsRetriable(reply.status()));
    // Never content: no ID, no name.
    EXPECT_THAT(reply.status().message(), Not(HasSubstr(kId)));
    EXPECT_THAT(reply.status().message(), Not(HasSubstr("PHẠM")));
  }
}

struct HttpCase {
  long status;
  std::string body;
  const char* message;
  bool retriable;
};

std::string Fault(absl::string_view code, absl::string_view reason) {
  return absl::StrCat(
      R"(<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>)",
      code, "</faultcode><faultstring>", reason,
      "</faultstring></soap:Fault></soap:Body></soap:Envelope>");
}

// Elements whose emptiness is checked (a name, a relative, a birth date,
// an address) nested 400,000 deep (~3 MB, under the HTTP client's 4 MiB
// cap): read without running out of stack, which would end the gateway.
TEST(ParseLookupResponseTest, DeeplyNestedElementsAreReadWithoutRecursion) {
  constexpr int kDepth = 400000;
  std::string deep_empty, deep_text;
  for (int i = 0; i < kDepth; ++i) deep_empty += "<a>";
  deep_text = deep_empty + "x";
  for (int i = 0; i < kDepth; ++i) {
    deep_empty += "</a>";
    deep_text += "</a>";
  }
  for (const char* element :
       {"HoVaTen", "Cha", "NgayThangNamSinh", "ThuongTru"}) {
    SCOPED_TRACE(element);
    const std::string open = absl::StrCat("<ns1:", element, ">");
    const std::string close = absl::StrCat("</ns1:", element, ">");
    const std::string prefix =
        absl::StrCat("<ns1:SoDinhDanh>", kId, "</ns1:SoDinhDanh>", open);
    auto empty = Parse(Reply(absl::StrCat(prefix, deep_empty, close).c_str()));
    ASSERT_THAT(empty, IsOk());
    auto text = Parse(Reply(absl::StrCat(prefix, deep_text, close).c_str()));
    // Read (the unknown children are passed over) or refused as malformed,
    // either way an answer.
    EXPECT_TRUE(text.ok() ||
                text.status().code() == absl::StatusCode::kUnavailable)
        << text.status();
  }
}

TEST(ParseLookupResponseTest, FaultsAndHttpStatuses) {
  const HttpCase kCases[] = {
      {500, Fault("soap:Server", "He thong dang ban, vui long thu lai sau"),
       "population database is busy", true},
      {500, Fault("soap:Server", "Loi he thong 026092001234"),
       "population database reported an internal error", false},
      {500, Fault("soap:Client", "Yeu cau khong hop le"),
       "population database rejected the gateway's request", false},
      {401, Fault("soap:Client", "Xac thuc khong hop le"),
       "population database rejected the gateway's request", false},
      {403, "", "population database rejected the gateway's request", false},
      {503, "", "population database is unavailable (HTTP 503)", true},
      {502, "<html/>", "population database is unavailable (HTTP 502)", true},
      {404, "Not Found", "population database answered HTTP 404", false},
      {200, Fault("soap:Server", "x"),
       "population database reported an internal error", false},
  };
  for (const HttpCase& c : kCases) {
    SCOPED_TRACE(c.message);
    auto reply = ParseLookupResponse(c.status, c.body, kId);
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable, c.message));
    EXPECT_EQ(IsRetriable(reply.status()), c.retriable);
  }
}

}  // namespace
}  // namespace lienthong::adapters::c06
