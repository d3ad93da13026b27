// The simulated population database: SOAP TraCuuThongTinCongDan (lookups)
// and XacThucThongTinCongDanRequest (identity checks), as
// docs/wire-formats.md describes them.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <pugixml.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/validation/codes.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {
namespace {

constexpr char kSoapNs[] = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr char kDanNs[] = "http://dancuquocgia.bca";
constexpr char kDanCuNs[] = "http://www.mic.gov.vn/dancu/1.0";

// Element names are matched on their local part: the namespace prefix is the
// sender's choice.
absl::string_view LocalName(const char* name) {
  absl::string_view n(name);
  size_t colon = n.find(':');
  return colon == absl::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node Child(pugi::xml_node parent, absl::string_view local) {
  for (pugi::xml_node c : parent.children()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local)
      return c;
  }
  return {};
}

std::string Text(pugi::xml_node parent, absl::string_view local) {
  return std::string(
      absl::StripAsciiWhitespace(Child(parent, local).child_value()));
}

// Appends <ns1:name>value</ns1:name>.
void Add(pugi::xml_node parent, absl::string_view name,
         const std::string& value) {
  parent.append_child(absl::StrCat("ns1:", name).c_str())
      .text()
      .set(value.c_str());
}

void AddAddress(pugi::xml_node parent, const char* name, const Address& a) {
  pugi::xml_node n = parent.append_child(absl::StrCat("ns1:", name).c_str());
  Add(n, "MaTinhThanh", a.province);
  if (!a.district.empty()) Add(n, "MaQuanHuyen", a.district);
  Add(n, "MaPhuongXa", a.commune);
  Add(n, "ChiTiet", a.detail);
  Add(n, "QuocGia", a.country);
}

// Cha, Me, VoChong, NguoiDaiDien: the name as one upper-case string, as the
// public sample has it.
void AddPerson(pugi::xml_node parent, const char* name,
               const std::optional<PersonRef>& person) {
  if (!person) return;
  pugi::xml_node n = parent.append_child(absl::StrCat("ns1:", name).c_str());
  Add(n, "HoVaTen", UpperCase(person->full_name));
  Add(n, "QuocTich", person->nationality);
  Add(n, "SoDinhDanh", person->id);
  if (!person->old_id.empty()) Add(n, "SoCMND", person->old_id);
}

void AddName(pugi::xml_node congdan, const Citizen& c) {
  pugi::xml_node name = congdan.append_child("ns1:HoVaTen");
  if (c.name_in_ten) {
    name.append_child("ns1:Ho");
    name.append_child("ns1:ChuDem");
    Add(name, "Ten", c.RecordedName());
  } else {
    Add(name, "Ho", c.family_name);
    Add(name, "ChuDem", c.middle_name);
    Add(name, "Ten", c.given_name);
  }
}

void AddHousehold(pugi::xml_node congdan, const Citizen& c) {
  pugi::xml_node head = congdan.append_child("ns1:ChuHo");
  if (c.household_head) Add(head, "QuanHe", "CH01");
  Add(head, "SoDinhDanh", c.head.id);
  if (!c.head.old_id.empty()) Add(head, "SoCMND", c.head.old_id);
  Add(head, "HoVaTen", UpperCase(c.head.full_name));
  if (!c.household_book.empty()) Add(congdan, "SoSoHoKhau", c.household_book);
}

void AddCitizen(pugi::xml_node collection, const Citizen& c) {
  pugi::xml_node n = collection.append_child("ns1:CongDan");
  Add(n, "SoDinhDanh", c.id);
  if (!c.old_id.empty()) Add(n, "SoCMND", c.old_id);
  AddName(n, c);
  Add(n, "GioiTinh", absl::StrCat(c.gender));
  Add(n, "DanToc", c.ethnicity);
  Add(n, "TonGiao", c.religion);
  Add(n, "TinhTrangHonNhan", absl::StrCat(c.marital_status));
  Add(n, "NhomMau", c.blood_type);
  pugi::xml_node birth = n.append_child("ns1:NgayThangNamSinh");
  Add(birth, "Nam", absl::StrCat(c.birth_year));
  if (!c.birth_year_only) Add(birth, "NgayThangNam", c.BirthDate());
  AddAddress(n, "NoiDangKyKhaiSinh", c.birth_registration);
  Add(n, "QuocTich", c.nationality);
  AddAddress(n, "QueQuan", c.hometown);
  AddAddress(n, "ThuongTru", c.permanent);
  AddAddress(n, "NoiOHienTai", c.current);
  AddPerson(n, "Cha", c.father);
  AddPerson(n, "Me", c.mother);
  AddPerson(n, "VoChong", c.spouse);
  AddPerson(n, "NguoiDaiDien", c.representative);
  AddHousehold(n, c);
}

// An envelope with the Header the public sample shows; returns its Body.
pugi::xml_node NewEnvelope(pugi::xml_document& out) {
  pugi::xml_node decl = out.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node envelope = out.append_child("soapenv:Envelope");
  envelope.append_attribute("xmlns:soapenv") = kSoapNs;
  envelope.append_child("soapenv:Header").append_attribute("xmlns:dan") =
      kDanNs;
  pugi::xml_node body = envelope.append_child("soapenv:Body");
  body.append_attribute("xmlns:dan") = kDanNs;
  return body;
}

SimReply XmlReply(const pugi::xml_document& doc) {
  std::ostringstream body;
  doc.save(body, "", pugi::format_raw);
  SimReply reply;
  reply.content_type = "text/xml; charset=utf-8";
  reply.body = body.str();
  return reply;
}

bool Authorized(const SimRequest& r, const PopulationConfig& config,
                absl::Time now) {
  std::string timestamp = r.Header("timestamp");
  int64_t millis;
  if (r.Header("x-road-client") != config.xroad_client ||
      r.Header("apikey") != config.api_key ||
      !absl::SimpleAtoi(timestamp, &millis) ||
      // Bounded before subtracting: INT64_MIN would overflow.
      millis < 0 || millis > int64_t{1} << 50 ||
      std::llabs(absl::ToUnixMillis(now) - millis) > 300 * 1000) {
    return false;
  }
  return r.Header("authorization") ==
         PopulationAuthorization(config.auth_url, config.user, timestamp,
                                 config.secret);
}

SimReply BadRequest() {
  SimReply reply = PopulationFault(500, "soap:Client", "Yeu cau khong hop le");
  reply.client_fault = true;
  return reply;
}

// SoDinhDanh, or SoCMND when that is what was sent.
std::string AskedId(pugi::xml_node op) {
  std::string id = Text(op, "SoDinhDanh");
  return id.empty() ? Text(op, "SoCMND") : id;
}

SimReply Lookup(pugi::xml_node op, const PopulationConfig& config) {
  const std::string id = AskedId(op);
  if (Text(op, "MaYeuCau").empty() ||
      !validation::IsNationalProcedureCode(Text(op, "MaDVC")) ||
      Text(op, "MaTichHop") != config.integration_code ||
      !IsValidCitizenId(Text(op, "MaCanBo")) || Text(op, "MaDonVi").empty() ||
      Text(op, "TaiKhoan").empty() || id.empty()) {
    return BadRequest();
  }
  std::optional<Citizen> citizen = LookupCitizen(id);
  // Name and birth date, when given, narrow the search as the real service
  // does: a record that does not match them is not found.
  const std::string name = Text(op, "HoVaTen");
  pugi::xml_node birth = Child(op, "NgayThangNamSinh");
  std::string date = Text(birth, "NgayThangNam");
  if (date.empty()) date = Text(birth, "Nam");
  if (citizen && ((!name.empty() && !NameMatches(*citizen, name)) ||
                  (!date.empty() && !BirthDateMatches(*citizen, date)))) {
    citizen.reset();
  }
  pugi::xml_document out;
  pugi::xml_node collection =
      NewEnvelope(out).append_child("ns1:CongdanCollection");
  collection.append_attribute("xmlns:ns1") = kDanCuNs;
  collection.append_attribute("SoCongDan") = citizen ? "1" : "0";
  collection.append_attribute("GhiChu") = "";
  if (citizen) {
    collection.append_attribute("ThoiDiemDuLieu") = citizen->data_time.c_str();
    AddCitizen(collection, *citizen);
  }
  return XmlReply(out);
}

SimReply Verify(pugi::xml_node op, const PopulationConfig& config) {
  const std::string id = AskedId(op);
  const std::string name = Text(op, "HoVaTen");
  if (Text(op, "MaYeuCau").empty() ||
      Text(op, "MaDichVu") != config.identity_service_code ||
      !IsValidCitizenId(Text(op, "MaCanBo")) || id.empty() || name.empty()) {
    return BadRequest();
  }
  std::optional<Citizen> citizen = LookupCitizen(id);
  const bool exists = citizen.has_value() && NameMatches(*citizen, name);
  pugi::xml_document out;
  pugi::xml_node result =
      NewEnvelope(out).append_child("ns2:KetQuaXacThucResponse");
  result.append_attribute("xmlns:ns2") = kDanNs;
  result.append_child("ns2:TonTai").text().set(exists ? "true" : "false");
  return XmlReply(out);
}

}  // namespace

std::string PopulationAuthorization(absl::string_view auth_url,
                                    absl::string_view user,
                                    absl::string_view timestamp_ms,
                                    absl::string_view secret) {
  std::string input = absl::StrCat(auth_url, user, timestamp_ms, secret);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), size));
  return absl::StrCat("Basic ",
                      absl::Base64Escape(absl::StrCat(user, ":", hex)));
}

SimReply PopulationFault(int status, absl::string_view code,
                         absl::string_view message) {
  SimReply reply;
  reply.status = status;
  reply.content_type = "text/xml; charset=utf-8";
  reply.body = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope "
      "xmlns:soap=\"",
      kSoapNs, "\"><soap:Body><soap:Fault><faultcode>", code,
      "</faultcode><faultstring>", message,
      "</faultstring></soap:Fault></soap:Body></soap:Envelope>\n");
  return reply;
}

SimReply PopulationService::Handle(const SimRequest& request, absl::Time now) {
  pugi::xml_document in;
  const bool parsed =
      in.load_buffer(request.body.data(), request.body.size()).status ==
      pugi::status_ok;
  pugi::xml_node body = Child(in.document_element(), "Body");
  pugi::xml_node lookup = Child(body, "TraCuuThongTinCongDan");
  pugi::xml_node verify = Child(body, "XacThucThongTinCongDanRequest");
  if (lookup) ++lookups_;
  if (verify) ++identity_checks_;
  if (!Authorized(request, config_, now)) {
    SimReply reply =
        PopulationFault(401, "soap:Client", "Xac thuc khong hop le");
    reply.auth_failure = true;
    return reply;
  }
  if (!parsed || LocalName(in.document_element().name()) != "Envelope") {
    return BadRequest();
  }
  if (lookup) return Lookup(lookup, config_);
  if (verify) return Verify(verify, config_);
  return BadRequest();
}

}  // namespace lienthong::sim
