// The simulated population database: SOAP TraCuuThongTinCongDan.
#include <openssl/evp.h>

#include <cstdlib>
#include <optional>
#include <pugixml.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {
namespace {

constexpr char kSoapNs[] = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr char kDcNs[] = "http://dancuquocgia.bca";

// Element names are matched on their local part: the namespace prefix is the
// sender's choice.
absl::string_view LocalName(const char* name) {
  absl::string_view n(name);
  size_t colon = n.find(':');
  return colon == absl::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node Find(pugi::xml_node root, absl::string_view local) {
  return root.find_node([local](pugi::xml_node n) {
    return n.type() == pugi::node_element && LocalName(n.name()) == local;
  });
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

void Add(pugi::xml_node parent, const char* name, const std::string& value) {
  parent.append_child(name).text().set(value.c_str());
}

void AddAddress(pugi::xml_node parent, const char* name, const Address& a) {
  pugi::xml_node n = parent.append_child(name);
  Add(n, "MaTinhThanh", a.province);
  if (!a.district.empty()) Add(n, "MaQuanHuyen", a.district);
  Add(n, "MaPhuongXa", a.commune);
  Add(n, "ChiTiet", a.detail);
  Add(n, "QuocGia", a.country);
}

void AddPerson(pugi::xml_node parent, const char* name,
               const std::optional<PersonRef>& person) {
  if (!person) return;
  pugi::xml_node n = parent.append_child(name);
  Add(n, "HoVaTen", person->full_name);
  Add(n, "SoDinhDanh", person->id);
}

void AddCitizen(pugi::xml_node collection, const Citizen& c) {
  pugi::xml_node n = collection.append_child("CongDan");
  Add(n, "SoDinhDanh", c.id);
  if (!c.old_id.empty()) Add(n, "SoCMND", c.old_id);
  pugi::xml_node name = n.append_child("HoVaTen");
  Add(name, "Ho", c.family_name);
  Add(name, "ChuDem", c.middle_name);
  Add(name, "Ten", c.given_name);
  Add(n, "GioiTinh", absl::StrCat(c.gender));
  Add(n, "DanToc", c.ethnicity);
  Add(n, "TonGiao", c.religion);
  Add(n, "QuocTich", c.nationality);
  Add(n, "TinhTrangHonNhan", absl::StrCat(c.marital_status));
  Add(n, "NhomMau", c.blood_type);
  Add(n.append_child("NgayThangNamSinh"),
      c.birth_year_only ? "Nam" : "NgayThangNam", c.BirthDate());
  AddAddress(n, "QueQuan", c.hometown);
  AddAddress(n, "ThuongTru", c.permanent);
  AddAddress(n, "NoiOHienTai", c.current);
  AddPerson(n, "Cha", c.father);
  AddPerson(n, "Me", c.mother);
  AddPerson(n, "VoChong", c.spouse);
  Add(n.append_child("ChuHo"), "QuanHe", c.household_relation);
  if (!c.household_book.empty()) Add(n, "SoSoHoKhau", c.household_book);
}

bool Authorized(const SimRequest& r, const PopulationConfig& config,
                absl::Time now) {
  std::string timestamp = r.Header("timestamp");
  int64_t seconds;
  if (r.Header("x-road-client") != config.xroad_client ||
      r.Header("x-api-key") != config.api_key ||
      !absl::SimpleAtoi(timestamp, &seconds) ||
      std::llabs(absl::ToUnixSeconds(now) - seconds) > 300) {
    return false;
  }
  std::string url = absl::StrCat("https://", r.host, r.uri);
  return r.Header("authorization") ==
         PopulationAuthorization(url, config.user, timestamp, config.secret);
}

SimReply BadRequest() {
  SimReply reply = PopulationFault(500, "soap:Client", "Yeu cau khong hop le");
  reply.client_fault = true;
  return reply;
}

}  // namespace

std::string PopulationAuthorization(absl::string_view url,
                                    absl::string_view user,
                                    absl::string_view timestamp,
                                    absl::string_view secret) {
  std::string input = absl::StrCat(url, user, timestamp, secret);
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

SimReply HandlePopulation(const SimRequest& request,
                          const PopulationConfig& config, absl::Time now,
                          absl::string_view reference) {
  if (!Authorized(request, config, now)) {
    SimReply reply =
        PopulationFault(401, "soap:Client", "Xac thuc khong hop le");
    reply.auth_failure = true;
    return reply;
  }
  pugi::xml_document in;
  if (!in.load_buffer(request.body.data(), request.body.size())) {
    return BadRequest();
  }
  pugi::xml_node op = Find(in, "TraCuuThongTinCongDan");
  std::string id = Text(op, "SoDinhDanh");
  if (id.empty()) id = Text(op, "SoCMND");
  if (!op || id.empty()) return BadRequest();

  std::optional<Citizen> citizen = LookupCitizen(id);
  std::string name = Text(op, "HoVaTen");
  pugi::xml_node birth = Child(op, "NgayThangNamSinh");
  std::string date = Text(birth, "NgayThangNam");
  if (date.empty()) date = Text(birth, "Nam");
  if (citizen && ((!name.empty() && !NameMatches(*citizen, name)) ||
                  (!date.empty() && !BirthDateMatches(*citizen, date)))) {
    citizen.reset();
  }

  pugi::xml_document out;
  pugi::xml_node decl = out.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  pugi::xml_node envelope = out.append_child("soap:Envelope");
  envelope.append_attribute("xmlns:soap") = kSoapNs;
  pugi::xml_node response = envelope.append_child("soap:Body")
                                .append_child("TraCuuThongTinCongDanResponse");
  response.append_attribute("xmlns") = kDcNs;
  Add(response, "MaYeuCau", Text(op, "MaYeuCau"));
  Add(response, "MaTraLoi", std::string(reference));
  pugi::xml_node collection = response.append_child("CongdanCollection");
  if (citizen) AddCitizen(collection, *citizen);

  std::ostringstream body;
  out.save(body, "", pugi::format_raw);
  SimReply reply;
  reply.content_type = "text/xml; charset=utf-8";
  reply.body = body.str();
  return reply;
}

}  // namespace lienthong::sim
