#include "adapters/c06_population/soap_response.h"

#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::c06 {
namespace {

using ::lienthong::testing::StatusIs;
using ::lienthong::v1::Citizen;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kMalformed[] = "population database sent a malformed reply";

// Personal data and upstream text that must never reach a status message.
const char* const kSecrets[] = {
    "033085012345", "145123456", "Nguyễn",   "Phước", "033055001234", "Thôn",
    "He thong",     "Xac thuc",  "C06-2025", "<",     "soap"};

void ExpectNoLeak(const absl::Status& status) {
  for (const char* secret : kSecrets) {
    EXPECT_THAT(std::string(status.message()),
                ::testing::Not(HasSubstr(secret)))
        << status;
  }
}

std::string Envelope(absl::string_view body) {
  return absl::StrCat(
      "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
      "<soap:Body>",
      body, "</soap:Body></soap:Envelope>");
}

std::string Fault(absl::string_view code, absl::string_view reason) {
  return Envelope(absl::StrCat("<soap:Fault><faultcode>", code,
                               "</faultcode><faultstring>", reason,
                               "</faultstring></soap:Fault>"));
}

std::string ResponseWith(absl::string_view collection) {
  return Envelope(absl::StrCat(
      "<TraCuuThongTinCongDanResponse xmlns=\"http://dancuquocgia.bca\">"
      "<MaYeuCau>LT-1</MaYeuCau><MaTraLoi>C06-20251127-000042</MaTraLoi>"
      "<CongdanCollection>",
      collection, "</CongdanCollection></TraCuuThongTinCongDanResponse>"));
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// A complete record, one entry per child of CongDan.
Fields FullRecord() {
  return {
      {"SoDinhDanh", "033085012345"},
      {"SoCMND", "145123456"},
      {"HoVaTen", "<Ho>Nguyễn</Ho><ChuDem>Hữu</ChuDem><Ten>Phước</Ten>"},
      {"GioiTinh", "1"},
      {"DanToc", "01"},
      {"TonGiao", "Không"},
      {"QuocTich", "VN"},
      {"TinhTrangHonNhan", "2"},
      {"NhomMau", "O"},
      {"NgayThangNamSinh", "<NgayThangNam>19850312</NgayThangNam>"},
      {"QueQuan",
       "<MaTinhThanh>34</MaTinhThanh><MaQuanHuyen>336</MaQuanHuyen>"
       "<MaPhuongXa>12451</MaPhuongXa><ChiTiet>Xã Vũ Hội</ChiTiet>"
       "<QuocGia>VN</QuocGia>"},
      {"ThuongTru",
       "<MaTinhThanh>33</MaTinhThanh><MaPhuongXa>12103</MaPhuongXa>"
       "<ChiTiet>Thôn 3</ChiTiet><QuocGia>VN</QuocGia>"},
      {"NoiOHienTai",
       "<MaTinhThanh>01</MaTinhThanh><MaPhuongXa>00004</MaPhuongXa>"
       "<ChiTiet> Số 5 &amp; ngõ 7 </ChiTiet><QuocGia>VN</QuocGia>"},
      {"Cha",
       "<HoVaTen>Nguyễn Văn "
       "Bình</HoVaTen><SoDinhDanh>033055001234</SoDinhDanh>"},
      {"Me", "<HoVaTen>Trần  Thị Lan</HoVaTen>"},
      {"VoChong",
       "<HoVaTen>Lê Thị Mai</HoVaTen><SoDinhDanh>033190004567</SoDinhDanh>"},
      {"ChuHo", "<QuanHe>01</QuanHe>"},
      {"SoSoHoKhau", "330123456"},
  };
}

// FullRecord() with `name` set to `value`; a null value drops the element.
std::string Record(const Fields& fields) {
  std::string out = "<CongDan>";
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&out, "<", name, ">", value, "</", name, ">");
  }
  return absl::StrCat(out, "</CongDan>");
}

std::string RecordWith(const std::string& name, const char* value) {
  Fields fields = FullRecord();
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->first != name) continue;
    if (value == nullptr) {
      fields.erase(it);
    } else {
      it->second = value;
    }
    return ResponseWith(Record(fields));
  }
  if (value != nullptr) fields.emplace_back(name, value);
  return ResponseWith(Record(fields));
}

Citizen ExpectedFullCitizen() {
  Citizen citizen;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        citizen_id: "033085012345"
        old_id_number: "145123456"
        name {
          family: "Nguyễn"
          middle: "Hữu"
          given: "Phước"
          full: "Nguyễn Hữu Phước"
        }
        birth_date { year: 1985 month: 3 day: 12 }
        gender: GENDER_MALE
        ethnicity: ETHNICITY_KINH
        ethnicity_code: "01"
        religion: "Không"
        nationality: "VN"
        hometown {
          province_code: "34"
          legacy_district_code: "336"
          commune_code: "12451"
          detail: "Xã Vũ Hội"
          country: "VN"
        }
        permanent_address {
          province_code: "33"
          commune_code: "12103"
          detail: "Thôn 3"
          country: "VN"
        }
        current_address {
          province_code: "01"
          commune_code: "00004"
          detail: "Số 5 & ngõ 7"
          country: "VN"
        }
        father {
          name {
            family: "Nguyễn"
            middle: "Văn"
            given: "Bình"
            full: "Nguyễn Văn Bình"
          }
          citizen_id: "033055001234"
        }
        mother {
          name {
            family: "Trần"
            middle: "Thị"
            given: "Lan"
            full: "Trần Thị Lan"
          }
        }
        spouse {
          name { family: "Lê" middle: "Thị" given: "Mai" full: "Lê Thị Mai" }
          citizen_id: "033190004567"
        }
        household_relation: HOUSEHOLD_RELATION_HEAD
        household_book_number: "330123456"
      )pb",
      &citizen));
  return citizen;
}

void ExpectCitizen(const absl::StatusOr<LookupReply>& reply,
                   const Citizen& expected) {
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->found);
  EXPECT_EQ(reply->reference, "C06-20251127-000042");
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(expected, reply->citizen)) << diff;
}

TEST(ParseLookupResponseTest, FullRecord) {
  ExpectCitizen(ParseLookupResponse(200, ResponseWith(Record(FullRecord()))),
                ExpectedFullCitizen());
}

TEST(ParseLookupResponseTest, AnyNamespacePrefixes) {
  // Every element of the operation under an ns2: prefix, the envelope under
  // SOAP-ENV:, and whitespace between elements.
  std::string response = ResponseWith(Record(FullRecord()));
  response = absl::StrReplaceAll(response, {{"soap:", "SOAP-ENV:"},
                                            {"xmlns:soap", "xmlns:SOAP-ENV"},
                                            {">", ">\n  "}});
  response = std::regex_replace(
      response, std::regex("<(/?)(TraCuu|MaYeu|MaTra|Congdan|CongDan)"),
      "<$1ns2:$2");
  response = std::regex_replace(
      response, std::regex("<(/?)(So|Ho|ChuDem|Ten|GioiTinh|NgayThang|Nam)"),
      "<$1ns2:$2");
  response = absl::StrReplaceAll(response, {{"xmlns=", "xmlns:ns2="}});
  ASSERT_NE(response.find("<ns2:SoDinhDanh>"), std::string::npos) << response;
  ExpectCitizen(ParseLookupResponse(200, response), ExpectedFullCitizen());
}

TEST(ParseLookupResponseTest, NotFound) {
  for (const char* collection : {"", "\n   "}) {
    absl::StatusOr<LookupReply> reply =
        ParseLookupResponse(200, ResponseWith(collection));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_FALSE(reply->found);
    EXPECT_EQ(reply->reference, "C06-20251127-000042");
    EXPECT_EQ(reply->citizen.ByteSizeLong(), 0u);
  }
}

TEST(ParseLookupResponseTest, MinimalRecord) {
  absl::StatusOr<LookupReply> reply = ParseLookupResponse(
      200,
      ResponseWith("<CongDan><SoDinhDanh>033085012345</SoDinhDanh>"
                   "<HoVaTen><Ho>Sùng</Ho><ChuDem/><Ten>Páo</Ten></HoVaTen>"
                   "<NgayThangNamSinh><Nam>1985</Nam></NgayThangNamSinh>"
                   "<VoChong/></CongDan>"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->citizen.name().full(), "Sùng Páo");
  EXPECT_EQ(reply->citizen.name().middle(), "");
  EXPECT_EQ(reply->citizen.birth_date().year(), 1985);
  EXPECT_EQ(reply->citizen.birth_date().month(), 0);
  EXPECT_FALSE(reply->citizen.has_spouse());
  EXPECT_FALSE(reply->citizen.has_permanent_address());
  EXPECT_EQ(reply->citizen.gender(), lienthong::v1::GENDER_UNSPECIFIED);
}

TEST(ParseLookupResponseTest, NfdTextComesBackNfc) {
  absl::StatusOr<LookupReply> reply = ParseLookupResponse(
      200,
      RecordWith("HoVaTen", "<Ho>Nguye\xcc\x82\xcc\x83n</Ho><Ten>An</Ten>"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->citizen.name().family(), "Nguyễn");
}

TEST(ParseLookupResponseTest, NamesInEitherForm) {
  // A plain-string name for the citizen, a structured one for a relative.
  absl::StatusOr<LookupReply> reply = ParseLookupResponse(
      200, ResponseWith("<CongDan><SoDinhDanh>033085012345</SoDinhDanh>"
                        "<HoVaTen> Nguyễn  Thị Ngọc Ánh </HoVaTen>"
                        "<Cha><HoVaTen><Ho>Nguyễn</Ho><ChuDem>Văn</ChuDem>"
                        "<Ten>Bình</Ten></HoVaTen></Cha></CongDan>"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  const lienthong::v1::PersonName& name = reply->citizen.name();
  EXPECT_EQ(name.family(), "Nguyễn");
  EXPECT_EQ(name.middle(), "Thị Ngọc");
  EXPECT_EQ(name.given(), "Ánh");
  EXPECT_EQ(name.full(), "Nguyễn Thị Ngọc Ánh");
  EXPECT_EQ(reply->citizen.father().name().full(), "Nguyễn Văn Bình");
  EXPECT_EQ(reply->citizen.father().name().given(), "Bình");
  EXPECT_EQ(reply->citizen.father().citizen_id(), "");
}

struct AddressCase {
  const char* xml;
  const char* province;
  const char* district;
  const char* commune;
};

constexpr AddressCase kAddressCases[] = {
    // Two levels (after 1 July 2025).
    {"<MaTinhThanh>33</MaTinhThanh><MaPhuongXa>12103</MaPhuongXa>", "33", "",
     "12103"},
    // Legacy three levels.
    {"<MaTinhThanh>34</MaTinhThanh><MaQuanHuyen>336</MaQuanHuyen>"
     "<MaPhuongXa>12451</MaPhuongXa>",
     "34", "336", "12451"},
    // An empty district element is the two-level form.
    {"<MaTinhThanh>33</MaTinhThanh><MaQuanHuyen></MaQuanHuyen>"
     "<MaPhuongXa>12103</MaPhuongXa>",
     "33", "", "12103"},
};

TEST(ParseLookupResponseTest, LegacyAndTwoLevelAddresses) {
  for (const AddressCase& c : kAddressCases) {
    SCOPED_TRACE(c.xml);
    absl::StatusOr<LookupReply> reply =
        ParseLookupResponse(200, RecordWith("ThuongTru", c.xml));
    ASSERT_TRUE(reply.ok()) << reply.status();
    const lienthong::v1::Address& address = reply->citizen.permanent_address();
    EXPECT_EQ(address.province_code(), c.province);
    EXPECT_EQ(address.legacy_district_code(), c.district);
    EXPECT_EQ(address.commune_code(), c.commune);
    EXPECT_EQ(address.detail(), "");
    EXPECT_EQ(address.country(), "");
  }
}

struct CodeCase {
  const char* code;
  int value;
};

TEST(ParseLookupResponseTest, EthnicityCodes) {
  constexpr CodeCase kCases[] = {
      {"01", lienthong::v1::ETHNICITY_KINH},
      {"02", lienthong::v1::ETHNICITY_TAY},
      {"03", lienthong::v1::ETHNICITY_THAI},
      {"04", lienthong::v1::ETHNICITY_HOA},
      {"05", lienthong::v1::ETHNICITY_KHMER},
      {"06", lienthong::v1::ETHNICITY_MUONG},
      {"07", lienthong::v1::ETHNICITY_NUNG},
      {"08", lienthong::v1::ETHNICITY_HMONG},
      {"09", lienthong::v1::ETHNICITY_DAO},
      {"10", lienthong::v1::ETHNICITY_GIA_RAI},
      {"11", lienthong::v1::ETHNICITY_OTHER},
      {"54", lienthong::v1::ETHNICITY_OTHER},
      {"99", lienthong::v1::ETHNICITY_OTHER},
  };
  for (const CodeCase& c : kCases) {
    absl::StatusOr<LookupReply> reply =
        ParseLookupResponse(200, RecordWith("DanToc", c.code));
    ASSERT_TRUE(reply.ok()) << c.code << ": " << reply.status();
    EXPECT_EQ(reply->citizen.ethnicity(), c.value) << c.code;
    EXPECT_EQ(reply->citizen.ethnicity_code(), c.code);
  }
}

TEST(ParseLookupResponseTest, HouseholdRelationAndGenderCodes) {
  constexpr CodeCase kRelations[] = {
      {"01", lienthong::v1::HOUSEHOLD_RELATION_HEAD},
      {"02", lienthong::v1::HOUSEHOLD_RELATION_SPOUSE},
      {"03", lienthong::v1::HOUSEHOLD_RELATION_CHILD},
      {"04", lienthong::v1::HOUSEHOLD_RELATION_PARENT},
      {"05", lienthong::v1::HOUSEHOLD_RELATION_GRANDCHILD},
      {"06", lienthong::v1::HOUSEHOLD_RELATION_SIBLING},
      {"09", lienthong::v1::HOUSEHOLD_RELATION_OTHER},
  };
  for (const CodeCase& c : kRelations) {
    absl::StatusOr<LookupReply> reply = ParseLookupResponse(
        200, RecordWith("ChuHo",
                        absl::StrCat("<QuanHe>", c.code, "</QuanHe>").c_str()));
    ASSERT_TRUE(reply.ok()) << c.code << ": " << reply.status();
    EXPECT_EQ(reply->citizen.household_relation(), c.value) << c.code;
  }
  constexpr CodeCase kGenders[] = {{"1", lienthong::v1::GENDER_MALE},
                                   {"2", lienthong::v1::GENDER_FEMALE}};
  for (const CodeCase& c : kGenders) {
    absl::StatusOr<LookupReply> reply =
        ParseLookupResponse(200, RecordWith("GioiTinh", c.code));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->citizen.gender(), c.value);
  }
}

struct ErrorCase {
  const char* name;
  long http_status;
  std::string body;
  const char* message;  // the status message starts with this
  bool retriable;
};

std::vector<ErrorCase> ErrorCases() {
  const std::string record = ResponseWith(Record(FullRecord()));
  return {
      // Faults.
      {"busy", 500,
       Fault("soap:Server", "He thong dang ban, vui long thu lai sau"),
       "population database is busy", true},
      {"busy subcode", 500, Fault("soap:Server.Busy", "He thong dang ban"),
       "population database is busy", true},
      {"busy on 200", 200, Fault("soap:Server", "He thong dang ban"),
       "population database is busy", true},
      {"internal", 500, Fault("soap:Server", "Loi CSDL: 033085012345 Nguyễn"),
       "population database reported an internal error", false},
      {"unknown fault code", 500, Fault("soap:Other", "He thong dang ban"),
       "population database reported an internal error", false},
      {"client", 500, Fault("soap:Client", "Yeu cau sai 033085012345"),
       "population database rejected the gateway's request", false},
      {"client on 400", 400, Fault("soap:Client", "Yeu cau sai"),
       "population database rejected the gateway's request", false},
      // HTTP statuses.
      {"401", 401, Fault("soap:Client", "Xac thuc khong hop le"),
       "population database rejected the gateway's request", false},
      {"403", 403, "<html>forbidden</html>",
       "population database rejected the gateway's request", false},
      {"502", 502, "<html>bad gateway</html>",
       "population database is unavailable (HTTP 502)", true},
      {"503", 503, "", "population database is unavailable (HTTP 503)", true},
      {"504 with a record", 504, record,
       "population database is unavailable (HTTP 504)", true},
      {"404", 404, "<html><body>Not Found: soap</body></html>",
       "population database answered HTTP 404", false},
      {"500 not XML", 500, "Internal Server Error 033085012345",
       "population database answered HTTP 500", false},
      {"500 with a record", 500, record,
       "population database answered HTTP 500", false},
      // Malformed documents.
      {"empty", 200, "", kMalformed, false},
      {"not XML", 200, "033085012345 Nguyễn Hữu Phước", kMalformed, false},
      {"truncated", 200, record.substr(0, record.size() / 2), kMalformed,
       false},
      {"no envelope", 200, "<Body><CongDan/></Body>", kMalformed, false},
      {"no operation", 200, Envelope("<Other/>"), kMalformed, false},
      {"no MaTraLoi", 200,
       Envelope("<TraCuuThongTinCongDanResponse><CongdanCollection/>"
                "</TraCuuThongTinCongDanResponse>"),
       kMalformed, false},
      {"no collection", 200,
       Envelope("<TraCuuThongTinCongDanResponse><MaTraLoi>C06-2025</MaTraLoi>"
                "</TraCuuThongTinCongDanResponse>"),
       kMalformed, false},
      {"two records", 200,
       ResponseWith(Record(FullRecord()) + Record(FullRecord())), kMalformed,
       false},
      // Bad or missing fields.
      {"no SoDinhDanh", 200, RecordWith("SoDinhDanh", nullptr), kMalformed,
       false},
      {"short SoDinhDanh", 200, RecordWith("SoDinhDanh", "03308501234"),
       kMalformed, false},
      {"letters in SoDinhDanh", 200, RecordWith("SoDinhDanh", "03308501234X"),
       kMalformed, false},
      {"bad SoCMND", 200, RecordWith("SoCMND", "14512345"), kMalformed, false},
      {"no HoVaTen", 200, RecordWith("HoVaTen", nullptr), kMalformed, false},
      {"no Ten", 200,
       RecordWith("HoVaTen", "<Ho>Nguyễn</Ho><ChuDem>Hữu</ChuDem>"), kMalformed,
       false},
      {"invalid UTF-8 in name", 200,
       RecordWith("HoVaTen", "<Ho>Nguy\xc3</Ho><Ten>Phước</Ten>"), kMalformed,
       false},
      {"GioiTinh 3", 200, RecordWith("GioiTinh", "3"), kMalformed, false},
      {"GioiTinh text", 200, RecordWith("GioiTinh", "Nam"), kMalformed, false},
      {"DanToc one digit", 200, RecordWith("DanToc", "1"), kMalformed, false},
      {"DanToc 00", 200, RecordWith("DanToc", "00"), kMalformed, false},
      {"DanToc name", 200, RecordWith("DanToc", "Kinh"), kMalformed, false},
      {"QuocTich name", 200, RecordWith("QuocTich", "Viet Nam"), kMalformed,
       false},
      {"30 February", 200,
       RecordWith("NgayThangNamSinh", "<NgayThangNam>19850230</NgayThangNam>"),
       kMalformed, false},
      {"29 February 1900", 200,
       RecordWith("NgayThangNamSinh", "<NgayThangNam>19000229</NgayThangNam>"),
       kMalformed, false},
      {"month 13", 200,
       RecordWith("NgayThangNamSinh", "<NgayThangNam>19851312</NgayThangNam>"),
       kMalformed, false},
      {"dashed date", 200,
       RecordWith("NgayThangNamSinh",
                  "<NgayThangNam>1985-03-12</NgayThangNam>"),
       kMalformed, false},
      {"future date", 200,
       RecordWith("NgayThangNamSinh", "<NgayThangNam>29990101</NgayThangNam>"),
       kMalformed, false},
      {"two-digit year", 200, RecordWith("NgayThangNamSinh", "<Nam>85</Nam>"),
       kMalformed, false},
      {"year before 1900", 200,
       RecordWith("NgayThangNamSinh", "<Nam>1850</Nam>"), kMalformed, false},
      {"empty birth date", 200, RecordWith("NgayThangNamSinh", ""), kMalformed,
       false},
      {"one-digit province", 200,
       RecordWith("ThuongTru",
                  "<MaTinhThanh>3</MaTinhThanh><MaPhuongXa>12103"
                  "</MaPhuongXa>"),
       kMalformed, false},
      {"no commune", 200,
       RecordWith("ThuongTru",
                  "<MaTinhThanh>33</MaTinhThanh><ChiTiet>Thôn 3"
                  "</ChiTiet>"),
       kMalformed, false},
      {"four-digit commune", 200,
       RecordWith("QueQuan",
                  "<MaTinhThanh>33</MaTinhThanh><MaPhuongXa>1210"
                  "</MaPhuongXa>"),
       kMalformed, false},
      {"two-digit district", 200,
       RecordWith("NoiOHienTai",
                  "<MaTinhThanh>33</MaTinhThanh><MaQuanHuyen>32"
                  "</MaQuanHuyen><MaPhuongXa>12103</MaPhuongXa>"),
       kMalformed, false},
      {"bad country", 200,
       RecordWith("ThuongTru",
                  "<MaTinhThanh>33</MaTinhThanh><MaPhuongXa>12103"
                  "</MaPhuongXa><QuocGia>vn</QuocGia>"),
       kMalformed, false},
      {"QuanHe 07", 200, RecordWith("ChuHo", "<QuanHe>07</QuanHe>"), kMalformed,
       false},
      {"QuanHe 1", 200, RecordWith("ChuHo", "<QuanHe>1</QuanHe>"), kMalformed,
       false},
      {"relative's bad ID", 200,
       RecordWith("Cha",
                  "<HoVaTen>Nguyễn Văn Bình</HoVaTen>"
                  "<SoDinhDanh>03305500123</SoDinhDanh>"),
       kMalformed, false},
      {"relative's name without Ten", 200,
       RecordWith("VoChong", "<HoVaTen><Ho>Lê</Ho></HoVaTen>"), kMalformed,
       false},
      {"relative without name", 200,
       RecordWith("Me", "<SoDinhDanh>033155001234</SoDinhDanh>"), kMalformed,
       false},
  };
}

TEST(ParseLookupResponseTest, Errors) {
  for (const ErrorCase& c : ErrorCases()) {
    SCOPED_TRACE(c.name);
    const absl::StatusOr<LookupReply> reply =
        ParseLookupResponse(c.http_status, c.body);
    EXPECT_THAT(
        reply, StatusIs(absl::StatusCode::kUnavailable, StartsWith(c.message)));
    EXPECT_EQ(IsRetriable(reply.status()), c.retriable) << reply.status();
    ExpectNoLeak(reply.status());
  }
}

}  // namespace
}  // namespace lienthong::adapters::c06
