// SimServer over real TLS on 127.0.0.1:0, called with libcurl.
#include "tests/national_sim/sim_server.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/population_requests.h"
#include "tests/national_sim/self_signed_cert.h"
#include "tests/national_sim/sim_json.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::sim {
namespace {

// The realm's token endpoint, which also grants client_credentials: a POST
// that answers 200 for the fault-knob tests below (vneid_service_test.cc
// tests VNeID itself).
constexpr char kVneidTokenPath[] =
    "/vneid/realms/citizen/protocol/openid-connect/token";

struct Response {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string retry_after;
};

// One configured easy handle; owns its header list.
struct Transfer {
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  Response response;

  Transfer(const std::string& url, const std::string& ca_file,
           const std::vector<std::string>& header_lines,
           const std::string* body) {
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
    for (const std::string& h : header_lines) {
      headers = curl_slist_append(headers, h.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (body != nullptr) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
                       static_cast<long>(body->size()));
      curl_easy_setopt(curl, CURLOPT_COPYPOSTFIELDS, body->c_str());
    }
  }
  ~Transfer() {
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
  }
  void Collect(CURLcode code) {
    response.code = code;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  static size_t OnBody(char* data, size_t size, size_t n, void* out) {
    static_cast<Response*>(out)->body.append(data, size * n);
    return size * n;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* out) {
    absl::string_view line(data, size * n);
    if (absl::StartsWithIgnoreCase(line, "Retry-After:")) {
      static_cast<Response*>(out)->retry_after =
          std::string(absl::StripAsciiWhitespace(line.substr(12)));
    }
    return size * n;
  }
};

const google::protobuf::Struct& Sub(const JsonObject& o,
                                    const std::string& key) {
  return o.fields().at(key).struct_value();
}

class SimServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir_ = new ::lienthong::testing::ScratchDir("sim-server");
    auto files = WriteSelfSignedCert(dir_->path());
    ASSERT_TRUE(files.ok()) << files.status();
    files_ = new CertFiles(*files);
  }
  static void TearDownTestSuite() {
    delete files_;
    delete dir_;
  }

  void SetUp() override {
    SimOptions options;
    options.cert_file = files_->cert_file;
    options.key_file = files_->key_file;
    auto server = SimServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Sets VNeID's hang knob and starts a token request on `client`,
  // answered into `held`; returns once the simulator holds it.
  void HoldATokenRequest(std::thread& client, Response& held) {
    Knobs hang;
    hang.hang = true;
    SetKnobs(System::kVneid, hang);
    client = std::thread([this, &held] {
      held = Post(kVneidTokenPath,
                  "grant_type=client_credentials&client_id=lienthong-dev&"
                  "client_secret=dev-vneid-secret");
    });
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server_->Stats().of(System::kVneid).hanging < 1 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  Response Call(const std::string& path,
                const std::vector<std::string>& headers,
                const std::string* body) {
    Transfer t(server_->base_url() + path, files_->cert_file, headers, body);
    t.Collect(curl_easy_perform(t.curl));
    return t.response;
  }
  Response Post(const std::string& path, const std::string& body,
                std::vector<std::string> headers = {}) {
    return Call(path, headers, &body);
  }
  Response Get(const std::string& path) { return Call(path, {}, nullptr); }

  std::vector<std::string> PopulationHeaders(const PopulationAuth& auth = {}) {
    std::vector<std::string> lines;
    for (const auto& [name, value] : PopulationHeaderMap(auth, absl::Now())) {
      lines.push_back(absl::StrCat(name, ": ", value));
    }
    return lines;
  }

  // The reply's Body, parsed into `doc`.
  static pugi::xml_node SoapBody(const Response& r, pugi::xml_document& doc) {
    EXPECT_TRUE(doc.load_string(r.body.c_str())) << r.body;
    return doc.child("soapenv:Envelope").child("soapenv:Body");
  }

  Response PortalSignIn(const std::string& password = "dev-portal-password") {
    return Post("/dvcqg/adapter/auth",
                absl::StrCat(R"({"username":"lienthong-dev","password":")",
                             password, "\"}"),
                {"Content-Type: application/json"});
  }

  std::string PortalSession() {
    Response r = PortalSignIn();
    EXPECT_EQ(r.status, 200) << r.body;
    auto json = ParseJsonObject(r.body);
    return json.ok() ? JsonText(*json, "session") : "";
  }

  // One call of the integration endpoint: `fields` (JSON members without
  // braces) after the session and madonvi, under `key` when not empty.
  Response Portal(const std::string& session, const std::string& key,
                  const std::string& fields,
                  const std::string& madonvi = "000.00.00.H31") {
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (!key.empty()) headers.push_back("X-Idempotency-Key: " + key);
    return Post("/dvcqg/adapter/integration",
                absl::StrCat("{\"session\":", JsonQuote(session),
                             ",\"madonvi\":", JsonQuote(madonvi), ",", fields,
                             "}"),
                headers);
  }

  void SetKnobs(System system, const Knobs& knobs) {
    ASSERT_TRUE(server_->SetKnobs(system, knobs).ok());
  }

  static ::lienthong::testing::ScratchDir* dir_;  // holds files_
  static CertFiles* files_;
  std::unique_ptr<SimServer> server_;
};

::lienthong::testing::ScratchDir* SimServerTest::dir_ = nullptr;
CertFiles* SimServerTest::files_ = nullptr;

TEST_F(SimServerTest, PopulationLookupMatchesGenerator) {
  const std::string id = "033085012345";
  std::optional<Citizen> expected = LookupCitizen(id);
  ASSERT_TRUE(expected.has_value());
  LookupFields fields;
  fields.name = FoldName(expected->FullName());
  fields.birth = expected->BirthDate();
  Response r = Post("/c06/soap", SoapLookup(id, fields), PopulationHeaders());
  ASSERT_EQ(r.status, 200) << r.body;
  pugi::xml_document doc;
  // No wrapper and no reply code: the collection is directly under Body.
  pugi::xml_node collection = SoapBody(r, doc).child("ns1:CongdanCollection");
  ASSERT_TRUE(collection) << r.body;
  EXPECT_STREQ(collection.attribute("xmlns:ns1").value(),
               "http://www.mic.gov.vn/dancu/1.0");
  EXPECT_STREQ(collection.attribute("SoCongDan").value(), "1");
  EXPECT_EQ(collection.attribute("ThoiDiemDuLieu").value(),
            expected->data_time);
  pugi::xml_node c = collection.child("ns1:CongDan");
  ASSERT_TRUE(c);
  EXPECT_EQ(c.child_value("ns1:SoDinhDanh"), id);
  EXPECT_EQ(c.child_value("ns1:SoCMND"), expected->old_id);
  EXPECT_EQ(
      c.child("ns1:HoVaTen").child_value("ns1:Ten"),
      expected->name_in_ten ? expected->RecordedName() : expected->given_name);
  EXPECT_STREQ(c.child_value("ns1:GioiTinh"), "1");
  EXPECT_STREQ(c.child_value("ns1:NhomMau"), "00");
  EXPECT_EQ(c.child("ns1:NgayThangNamSinh").child_value("ns1:NgayThangNam"),
            expected->BirthDate());
  EXPECT_EQ(c.child("ns1:ThuongTru").child_value("ns1:MaPhuongXa"),
            expected->permanent.commune);
  EXPECT_EQ(c.child("ns1:NoiDangKyKhaiSinh").child_value("ns1:MaTinhThanh"),
            expected->birth_registration.province);
  EXPECT_EQ(c.child("ns1:Cha").child_value("ns1:SoDinhDanh"),
            expected->father->id);
  EXPECT_STREQ(c.child("ns1:Cha").child_value("ns1:QuocTich"), "VN");
  EXPECT_EQ(c.child("ns1:ChuHo").child_value("ns1:SoDinhDanh"),
            expected->head.id);
  EXPECT_EQ(server_->Stats().of(System::kPopulation).answered_ok, 1);
  EXPECT_EQ(server_->Stats().of(System::kPopulation).lookups, 1);
}

constexpr char kService[] =
    R"("service":"DongBoDVCTT","isUpdating":"False","data":[{)"
    R"("MaTTHC":"1.001193","MaThuTucDiaPhuong":"1.001193.000.00.00.H31",)"
    R"("TenTTHC":"Đăng ký khai sinh","LinhVuc":"Hộ tịch","MucDo":"TOAN_TRINH",)"
    R"("CoQuanThucHien":"UBND xã","TrangThai":"1"}])";
constexpr char kRegister[] =
    R"("service":"DongBoHoSoMC","isUpdating":"False","data":[{)"
    R"("MaHoSo":"000.00.01.H31-250715-00123","MaTTHC":"1.001193",)"
    R"("TenTTHC":"Đăng ký khai sinh","ChuHoSo":"Trần Thị Mai",)"
    R"("LoaiDoiTuong":"1","TrangThaiHoSo":"1",)"
    R"("NgayTiepNhan":"20250715092000","DonViXuLy":"UBND xã"}])";
constexpr char kProgress[] =
    R"("service":"CapNhatTienDoHoSoMC","data":[{)"
    R"("MaHoSo":"000.00.01.H31-250715-00123","NguoiXuLy":"cb01",)"
    R"("ThoiDiemXuLy":"20250715093000","TrangThai":"4"}])";
constexpr char kLookup[] =
    R"("service":"TraCuuHoSo","mahoso":"000.00.01.H31-250715-00123")";

bool Succeeded(const Response& r) {
  return r.status == 200 &&
         (absl::StrContains(r.body, R"("error_code":0,)") ||
          absl::StrContains(r.body, R"("error_code":"00")"));
}

TEST_F(SimServerTest, PortalSessionsComeFromTheSignIn) {
  Response wrong = PortalSignIn("wrong");
  EXPECT_EQ(wrong.status, 200);
  EXPECT_TRUE(absl::StrContains(wrong.body, R"("error_code":"-1")"))
      << wrong.body;
  EXPECT_TRUE(absl::StrContains(Portal("made-up", "k0", kRegister).body,
                                R"("error_code":401)"));
  const std::string session = PortalSession();
  ASSERT_FALSE(session.empty());
  EXPECT_TRUE(Succeeded(Portal(session, "k1", kRegister)));
  EXPECT_TRUE(absl::StrContains(Portal(session, "k2", kRegister, "999").body,
                                R"("error_code":"403")"));
  server_->ExpirePortalSessions();
  Response expired = Portal(session, "k3", kProgress);
  EXPECT_TRUE(absl::StrContains(expired.body, R"("error_code":401)"))
      << expired.body;
  // A refusal is not remembered under the key: with a fresh session the
  // same key is applied.
  EXPECT_TRUE(Succeeded(Portal(PortalSession(), "k3", kProgress)));
  SystemStats stats = server_->Stats().of(System::kPortal);
  EXPECT_EQ(stats.tokens_issued, 2);
  EXPECT_EQ(stats.auth_failures, 3);
  EXPECT_EQ(server_->PortalApplied().size(), 2u);
}

TEST_F(SimServerTest, PortalRegistersBeforeProgressAndAppliesEachKeyOnce) {
  const std::string session = PortalSession();
  Response early = Portal(session, "k0", kProgress);
  EXPECT_TRUE(absl::StrContains(early.body, "chưa được đồng bộ")) << early.body;
  Response lookup = Portal(session, "", kLookup);
  EXPECT_TRUE(absl::StrContains(lookup.body, R"("result":[])")) << lookup.body;

  Response first = Portal(session, "k1", kRegister);
  EXPECT_TRUE(Succeeded(first)) << first.body;
  EXPECT_EQ(Portal(session, "k1", kRegister).body, first.body);
  Response exists = Portal(session, "k2", kRegister);
  EXPECT_TRUE(absl::StrContains(exists.body, R"("error_code":"-1")"))
      << exists.body;
  EXPECT_TRUE(Succeeded(Portal(session, "k3", kProgress)));
  EXPECT_TRUE(Succeeded(Portal(session, "k3", kProgress)));
  lookup = Portal(session, "", kLookup);
  EXPECT_TRUE(absl::StrContains(
      lookup.body, R"("QuaTrinhXuLy":[{"TrangThai":"4","ThoiDiemXuLy":"20250715093000")"))
      << lookup.body;
  std::string update = kRegister;
  update.replace(update.find("False"), 5, "True");
  EXPECT_TRUE(Succeeded(Portal(session, "k4", update)));
  EXPECT_TRUE(Succeeded(Portal(session, "k5", kService)));

  std::vector<AppliedPortalItem> applied = server_->PortalApplied();
  ASSERT_EQ(applied.size(), 4u);
  EXPECT_EQ(applied[0].kind, AppliedPortalItem::Kind::kRegisterDossier);
  EXPECT_EQ(applied[0].idempotency_key, "k1");
  EXPECT_EQ(applied[0].ma_tthc, "1.001193");
  EXPECT_EQ(applied[1].kind, AppliedPortalItem::Kind::kDossierStatus);
  EXPECT_EQ(applied[1].ma_ho_so, "000.00.01.H31-250715-00123");
  EXPECT_EQ(applied[1].trang_thai, 4);
  EXPECT_EQ(applied[1].thoi_gian, "20250715093000");
  EXPECT_EQ(applied[2].kind, AppliedPortalItem::Kind::kUpdateDossier);
  EXPECT_EQ(applied[3].kind, AppliedPortalItem::Kind::kCreateProcedure);
  EXPECT_EQ(applied[3].ma_tthc, "1.001193.000.00.00.H31");
  EXPECT_EQ(server_->Stats().of(System::kPortal).portal_applied, 4);
}

TEST_F(SimServerTest, PortalSuccessCodeAlternatesOrIsFixedByAKnob) {
  const std::string session = PortalSession();
  Response a = Portal(session, "", kLookup);
  Response b = Portal(session, "", kLookup);
  EXPECT_TRUE(absl::StrContains(a.body, R"("error_code":0,)")) << a.body;
  EXPECT_TRUE(absl::StrContains(b.body, R"("error_code":"00")")) << b.body;
  Knobs knobs;
  knobs.error_code_style = ErrorCodeStyle::kString;
  SetKnobs(System::kPortal, knobs);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(absl::StrContains(Portal(session, "", kLookup).body,
                                  R"("error_code":"00")"));
  }
}

TEST_F(SimServerTest, PortalServesTheNationalCatalogue) {
  const std::string session = PortalSession();
  Response list = Post("/dvcqg/adapter/share",
                       absl::StrCat(R"({"session":)", JsonQuote(session),
                                    R"(,"madonvi":"000.00.00.H31",)"
                                    R"("service":"LayDanhSachTTHC"})"),
                       {"Content-Type: application/json"});
  ASSERT_EQ(list.status, 200);
  auto json = ParseJsonObject(list.body);
  ASSERT_TRUE(json.ok()) << list.body;
  auto entries = JsonObjects(*json, "result");
  ASSERT_TRUE(entries.has_value());
  EXPECT_EQ(entries->size(), 1u + kExtraNationalProcedures);
  EXPECT_EQ(JsonText((*entries)[0], "MATTHC"), "1.001193");
  Response one = Portal(session, "",
                        R"("service":"LayThuTuc","maTTHC":"1.001193")");
  EXPECT_TRUE(absl::StrContains(one.body, R"("TENTTHC":"Đăng ký khai sinh")"))
      << one.body;
  EXPECT_TRUE(absl::StrContains(one.body, R"("TENLINHVUC":"Hộ tịch")"));
  EXPECT_TRUE(absl::StrContains(one.body, R"("KENH":2)"));
  EXPECT_TRUE(absl::StrContains(
      Portal(session, "", R"("service":"LayThuTuc","maTTHC":"9.999999")").body,
      R"("result":[])"));
  EXPECT_TRUE(server_->PortalApplied().empty());
}

TEST(NationalCatalogueTest, HoldsEveryNationalCodeOfTheSampleCatalogue) {
  const char* source = std::getenv("LIENTHONG_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "run through ctest, which sets it";
  std::ifstream in(absl::StrCat(source, "/deploy/examples/catalogue.json"));
  const std::string json((std::istreambuf_iterator<char>(in)), {});
  auto catalogue = NationalCatalogueFrom(json);
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  std::set<std::string> codes;
  for (const NationalProcedureRecord& p : *catalogue) {
    EXPECT_TRUE(codes.insert(p.code).second) << "twice: " << p.code;
    EXPECT_FALSE(p.name.empty()) << p.code;
  }
  auto provincial = ParseJsonObject(json);  // {"procedures": [...]}
  ASSERT_TRUE(provincial.ok());
  auto rows = JsonObjects(*provincial, "procedures");
  ASSERT_TRUE(rows.has_value());
  for (const JsonObject& row : *rows) {
    EXPECT_EQ(codes.count(JsonText(row, "code").substr(0, 8)), 1u)
        << JsonText(row, "code");
  }
  EXPECT_EQ(codes.size(), rows->size() + kExtraNationalProcedures);
  EXPECT_FALSE(NationalCatalogueFrom("{\"procedures\": 3}").ok());
  EXPECT_FALSE(NationalCatalogueFrom("not json").ok());
}

TEST_F(SimServerTest, PortalIgnoringKeysAppliesARepeatAgain) {
  const std::string session = PortalSession();
  ASSERT_TRUE(Succeeded(Portal(session, "k1", kRegister)));
  Knobs knobs;
  knobs.ignore_idempotency_keys = true;
  SetKnobs(System::kPortal, knobs);
  EXPECT_TRUE(Succeeded(Portal(session, "k2", kProgress)));
  EXPECT_TRUE(Succeeded(Portal(session, "k2", kProgress)));
  EXPECT_EQ(server_->PortalApplied().size(), 3u);
}

TEST_F(SimServerTest, PortalAppliedListsItemsAsJsonLines) {
  const std::string session = PortalSession();
  Portal(session, "k1", kRegister);
  Portal(session, "k2", kProgress);
  Response r = Get("/_sim/portal/applied");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"kind\":\"register_dossier\",\"idempotency_key\":\"k1\","
            "\"ma_tthc\":\"1.001193\","
            "\"ma_ho_so\":\"000.00.01.H31-250715-00123\",\"trang_thai\":1,"
            "\"thoi_gian\":\"\"}\n"
            "{\"kind\":\"dossier_status\",\"idempotency_key\":\"k2\","
            "\"ma_tthc\":\"1.001193\","
            "\"ma_ho_so\":\"000.00.01.H31-250715-00123\",\"trang_thai\":4,"
            "\"thoi_gian\":\"20250715093000\"}\n");
  EXPECT_EQ(Post("/_sim/portal/expire-sessions", "").status, 200);
  EXPECT_TRUE(absl::StrContains(Portal(session, "k3", kProgress).body,
                                R"("error_code":401)"));
}

TEST_F(SimServerTest, PortalRejectsPermanently) {
  const std::string session = PortalSession();
  Knobs knobs;
  knobs.reject_codes = {"000.00.01.H31-250715-00123"};
  SetKnobs(System::kPortal, knobs);
  Response r = Portal(session, "r1", kRegister);
  EXPECT_TRUE(absl::StrContains(r.body, R"("error_code":"400")")) << r.body;
  knobs.reject_codes.clear();
  SetKnobs(System::kPortal, knobs);
  // The rejection was the answer to r1: a retry with the same key repeats it.
  EXPECT_EQ(Portal(session, "r1", kRegister).body, r.body);
  knobs.reject_rate = 1;
  SetKnobs(System::kPortal, knobs);
  EXPECT_TRUE(absl::StrContains(Portal(session, "r2", kService).body,
                                R"("error_code":"400")"));
  EXPECT_TRUE(server_->PortalApplied().empty());
}

TEST_F(SimServerTest, ErrorKnobs) {
  const std::string session = PortalSession();
  Knobs knobs;
  knobs.error_rate = 1;
  knobs.retry_after = "7";
  SetKnobs(System::kPortal, knobs);
  Response r = Portal(session, "e1", kService);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.retry_after, "7");
  EXPECT_TRUE(server_->PortalApplied().empty());

  knobs.error_kind = ErrorKind::kSoapBusy;
  SetKnobs(System::kPopulation, knobs);
  Response busy =
      Post("/c06/soap", SoapLookup("033085012345"), PopulationHeaders());
  EXPECT_EQ(busy.status, 500);
  EXPECT_TRUE(absl::StrContains(busy.body, "<faultstring>He thong dang ban"))
      << busy.body;
  SimStats stats = server_->Stats();
  EXPECT_EQ(stats.of(System::kPortal).answered_server_error, 1);
  EXPECT_EQ(stats.of(System::kPopulation).answered_server_error, 1);
}

TEST_F(SimServerTest, LoseAnswerKnobAppliesButDoesNotAnswer) {
  const std::string session = PortalSession();
  Knobs knobs;
  knobs.lose_answer_rate = 1;
  SetKnobs(System::kPortal, knobs);
  EXPECT_NE(Portal(session, "l1", kRegister).code, CURLE_OK);
  EXPECT_EQ(server_->PortalApplied().size(), 1u);
  EXPECT_EQ(server_->Stats().of(System::kPortal).dropped, 1);
}

TEST_F(SimServerTest, MalformedKnobGivesUnparsableBodies) {
  Knobs knobs;
  knobs.malformed_rate = 1;
  SetKnobs(System::kVneid, knobs);
  SetKnobs(System::kPopulation, knobs);
  Response token = Post(kVneidTokenPath,
                        "grant_type=client_credentials&client_id=lienthong-dev&"
                        "client_secret=dev-vneid-secret");
  EXPECT_EQ(token.status, 200);
  EXPECT_FALSE(ParseJsonObject(token.body).ok()) << token.body;
  Response soap =
      Post("/c06/soap", SoapLookup("033085012345"), PopulationHeaders());
  EXPECT_EQ(soap.status, 200);
  pugi::xml_document doc;
  EXPECT_FALSE(doc.load_string(soap.body.c_str()));
  EXPECT_EQ(server_->Stats().of(System::kVneid).answered_malformed, 1);
}

TEST_F(SimServerTest, DropAndDownKnobs) {
  const std::string session = PortalSession();
  Knobs knobs;
  knobs.drop_rate = 1;
  SetKnobs(System::kPortal, knobs);
  EXPECT_NE(Portal(session, "d1", kService).code, CURLE_OK);
  knobs = Knobs{};
  knobs.down = true;
  SetKnobs(System::kPortal, knobs);
  EXPECT_NE(Portal(session, "d2", kService).code, CURLE_OK);
  knobs.down_mode = DownMode::kHttp503;
  SetKnobs(System::kPortal, knobs);
  EXPECT_EQ(Portal(session, "d3", kService).status, 503);
  SetKnobs(System::kPortal, Knobs{});
  EXPECT_EQ(Portal(session, "d4", kService).status, 200);
  SystemStats stats = server_->Stats().of(System::kPortal);
  EXPECT_EQ(stats.received, 5);  // the sign-in and four calls
  EXPECT_EQ(stats.dropped, 2);
  EXPECT_EQ(server_->PortalApplied().size(), 1u);
}

TEST_F(SimServerTest, HangHoldsUntilCleared) {
  Response held;
  std::thread client;
  HoldATokenRequest(client, held);
  EXPECT_EQ(server_->Stats().of(System::kVneid).hanging, 1);
  EXPECT_EQ(held.status, 0);  // not answered yet
  SetKnobs(System::kVneid, Knobs{});
  client.join();
  EXPECT_EQ(held.status, 200);
  EXPECT_EQ(server_->Stats().of(System::kVneid).hanging, 0);
}

TEST_F(SimServerTest, HeldRequestsReleasedIntoAnOutageAreRefused) {
  Response held;
  std::thread client;
  HoldATokenRequest(client, held);
  Knobs down;
  down.down = true;
  down.down_mode = DownMode::kHttp503;
  SetKnobs(System::kVneid, down);
  client.join();
  EXPECT_EQ(held.status, 503);  // as a request arriving now would be
  EXPECT_EQ(server_->Stats().of(System::kVneid).hanging, 0);
  EXPECT_EQ(server_->Stats().of(System::kVneid).tokens_issued, 0);
}

TEST_F(SimServerTest, RefusesHeadersOverTheLimit) {
  const std::string big = absl::StrCat("X-Big: ", std::string(200 << 10, 'A'));
  Response r = Call("/_sim/stats", {big}, nullptr);
  // Refused at once: a 4xx, or, when the server closes while the client
  // still sends, a failed send; not the client's 20 s timeout, which an
  // unbounded header buffer gave.
  if (r.code == CURLE_OK) {
    EXPECT_GE(r.status, 400);
    EXPECT_LT(r.status, 500);
  } else {
    EXPECT_TRUE(r.code == CURLE_SEND_ERROR || r.code == CURLE_RECV_ERROR)
        << curl_easy_strerror(r.code);
  }
  EXPECT_EQ(Get("/_sim/stats").status, 200);  // and goes on serving
}

TEST_F(SimServerTest, StopDropsDelayedAndHeldRequests) {
  Knobs slow, hang;
  slow.latency_ms = 60000;
  hang.hang = true;
  SetKnobs(System::kPopulation, slow);
  SetKnobs(System::kVneid, hang);
  Response delayed, held;
  std::thread a([&] {
    delayed =
        Post("/c06/soap", SoapLookup("033085012345"), PopulationHeaders());
  });
  std::thread b([&] {
    held = Post(kVneidTokenPath, "grant_type=client_credentials");
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((server_->Stats().of(System::kPopulation).received < 1 ||
          server_->Stats().of(System::kVneid).hanging < 1) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server_->Stop();
  a.join();
  b.join();
  EXPECT_NE(delayed.code, CURLE_OK);
  EXPECT_NE(held.code, CURLE_OK);
}

TEST_F(SimServerTest, HoldsManySlowRequestsAtOnce) {
  constexpr int kRequests = 200;
  Knobs slow;
  slow.latency_ms = 500;
  SetKnobs(System::kPopulation, slow);
  std::vector<std::unique_ptr<Transfer>> transfers;
  std::string body = SoapLookup("033085012345");
  CURLM* multi = curl_multi_init();
  for (int i = 0; i < kRequests; ++i) {
    transfers.push_back(std::make_unique<Transfer>(
        server_->base_url() + "/c06/soap", files_->cert_file,
        PopulationHeaders(), &body));
    curl_multi_add_handle(multi, transfers.back()->curl);
  }
  auto start = std::chrono::steady_clock::now();
  int running = 1;
  while (running > 0 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    curl_multi_perform(multi, &running);
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  int left;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    for (auto& t : transfers) {
      if (t->curl == msg->easy_handle) t->Collect(msg->data.result);
    }
  }
  int ok = 0;
  for (auto& t : transfers) {
    ok += t->response.code == CURLE_OK && t->response.status == 200;
    curl_multi_remove_handle(multi, t->curl);
  }
  curl_multi_cleanup(multi);
  EXPECT_EQ(ok, kRequests);
  // Served one after another this would take 100 s.
  EXPECT_LT(seconds, 30) << "took " << seconds << " s";
}

TEST_F(SimServerTest, ControlEndpoint) {
  Response set =
      Post("/_sim/knobs",
           R"({"system":"portal","error_rate":1,"error_kind":"http500"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(server_->GetKnobs(System::kPortal).error_rate, 1);
  EXPECT_EQ(server_->GetKnobs(System::kPortal).error_kind, ErrorKind::kHttp500);
  EXPECT_EQ(PortalSignIn().status, 500);
  EXPECT_EQ(Post("/_sim/knobs", R"({"system":"nowhere"})").status, 400);
  EXPECT_EQ(Post("/_sim/knobs", R"({"system":"all","drop_rate":2})").status,
            400);
  EXPECT_EQ(
      Post("/_sim/knobs", R"({"system":"all","latency_ms":"nan"})").status,
      400);
  Knobs endless;
  endless.latency_ms = kMaxKnobMs + 1;
  EXPECT_FALSE(server_->SetKnobs(System::kPortal, endless).ok());
  ASSERT_EQ(
      Post("/_sim/knobs", R"({"system":"all","reset":true,"latency_ms":1})")
          .status,
      200);
  EXPECT_EQ(server_->GetKnobs(System::kPortal).error_rate, 0);
  EXPECT_EQ(server_->GetKnobs(System::kVneid).latency_ms, 1);

  Response stats = Get("/_sim/stats");
  ASSERT_EQ(stats.status, 200);
  auto json = ParseJsonObject(stats.body);
  ASSERT_TRUE(json.ok()) << stats.body;
  const auto& portal = Sub(*json, "portal");
  EXPECT_EQ(JsonText(Sub(portal, "stats"), "received"), "1");
  EXPECT_EQ(JsonText(Sub(portal, "stats"), "answered_server_error"), "1");
  EXPECT_EQ(JsonText(Sub(portal, "knobs"), "latency_ms"), "1");
}

}  // namespace
}  // namespace lienthong::sim
