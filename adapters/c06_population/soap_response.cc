#include "adapters/c06_population/soap_response.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "adapters/common/text.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/citizen_id.h"
#include "pugixml.hpp"

namespace lienthong::adapters::c06 {
namespace {

using lienthong::v1::Address;
using lienthong::v1::Citizen;
using lienthong::v1::Ethnicity;
using lienthong::v1::HouseholdRelation;
using lienthong::v1::Relative;

constexpr absl::string_view kBusyPrefix = "He thong dang ban";

absl::Status Malformed(absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("population database sent a malformed reply: ", what));
}

absl::Status Rejected() {
  return absl::UnavailableError(
      "population database rejected the gateway's request");
}

absl::string_view LocalName(absl::string_view name) {
  const size_t colon = name.rfind(':');
  return colon == absl::string_view::npos ? name : name.substr(colon + 1);
}

// The first child element of `parent` with local name `local`, or an empty
// node.
pugi::xml_node Child(pugi::xml_node parent, absl::string_view local) {
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element &&
        LocalName(child.name()) == local) {
      return child;
    }
  }
  return pugi::xml_node();
}

int CountChildren(pugi::xml_node parent, absl::string_view local) {
  int count = 0;
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element &&
        LocalName(child.name()) == local) {
      ++count;
    }
  }
  return count;
}

// The element's text without surrounding whitespace; empty when absent.
absl::string_view Text(pugi::xml_node node) {
  return absl::StripAsciiWhitespace(node.text().get());
}

bool IsDigits(absl::string_view s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(c);
         });
}

int DigitsValue(absl::string_view s) {
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

// Reads an optional coded field: empty or absent leaves `out` untouched;
// otherwise the code must have `length` digits.
absl::Status OptionalDigits(pugi::xml_node parent, absl::string_view name,
                            size_t length, std::string* out) {
  absl::string_view value = Text(Child(parent, name));
  if (value.empty()) return absl::OkStatus();
  if (!IsDigits(value, length)) return Malformed(absl::StrCat("bad ", name));
  *out = std::string(value);
  return absl::OkStatus();
}

absl::Status RequiredDigits(pugi::xml_node parent, absl::string_view name,
                            size_t length, std::string* out) {
  if (Text(Child(parent, name)).empty()) {
    return Malformed(absl::StrCat("missing ", name));
  }
  return OptionalDigits(parent, name, length, out);
}

// Free text, returned in NFC; invalid UTF-8 is malformed.
absl::Status OptionalText(pugi::xml_node parent, absl::string_view name,
                          std::string* out) {
  absl::string_view value = Text(Child(parent, name));
  if (value.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> nfc = NormalizeNfc(value);
  if (!nfc.ok()) return Malformed(absl::StrCat("bad text in ", name));
  *out = *std::move(nfc);
  return absl::OkStatus();
}

// ISO 3166-1 alpha-2, upper case.
absl::Status OptionalCountry(pugi::xml_node parent, absl::string_view name,
                             std::string* out) {
  absl::string_view value = Text(Child(parent, name));
  if (value.empty()) return absl::OkStatus();
  if (value.size() != 2 || !absl::ascii_isupper(value[0]) ||
      !absl::ascii_isupper(value[1])) {
    return Malformed(absl::StrCat("bad ", name));
  }
  *out = std::string(value);
  return absl::OkStatus();
}

// Fills `name` from display-order `full`, with whitespace collapsed.
void SetNameFromFull(absl::string_view full, lienthong::v1::PersonName* name) {
  NameParts parts = SplitVietnameseName(full);
  name->set_family(std::move(parts.family));
  name->set_middle(std::move(parts.middle));
  name->set_given(std::move(parts.given));
  std::vector<absl::string_view> words;
  for (const std::string* part :
       {&name->family(), &name->middle(), &name->given()}) {
    if (!part->empty()) words.push_back(*part);
  }
  name->set_full(absl::StrJoin(words, " "));
}

// HoVaTen is structured ({Ho, ChuDem, Ten}) for the citizen and a plain
// string for relatives; either form is accepted for both.
absl::Status ParseName(pugi::xml_node ho_va_ten,
                       lienthong::v1::PersonName* name) {
  if (!ho_va_ten) return Malformed("missing HoVaTen");
  if (!Child(ho_va_ten, "Ten") && !Text(ho_va_ten).empty()) {
    absl::StatusOr<std::string> full = NormalizeNfc(Text(ho_va_ten));
    if (!full.ok()) return Malformed("bad text in HoVaTen");
    SetNameFromFull(*full, name);
    return absl::OkStatus();
  }
  std::string family, middle, given;
  LIENTHONG_RETURN_IF_ERROR(OptionalText(ho_va_ten, "Ho", &family));
  LIENTHONG_RETURN_IF_ERROR(OptionalText(ho_va_ten, "ChuDem", &middle));
  LIENTHONG_RETURN_IF_ERROR(OptionalText(ho_va_ten, "Ten", &given));
  if (given.empty()) return Malformed("missing HoVaTen/Ten");
  std::vector<absl::string_view> words;
  for (const std::string* part : {&family, &middle, &given}) {
    if (!part->empty()) words.push_back(*part);
  }
  name->set_full(absl::StrJoin(words, " "));
  name->set_family(std::move(family));
  name->set_middle(std::move(middle));
  name->set_given(std::move(given));
  return absl::OkStatus();
}

absl::Status ParseBirthDate(pugi::xml_node node, google::type::Date* date) {
  absl::string_view full = Text(Child(node, "NgayThangNam"));
  absl::string_view year = Text(Child(node, "Nam"));
  if (!full.empty()) {
    if (!IsDigits(full, 8)) return Malformed("bad NgayThangNam");
    date->set_year(DigitsValue(full.substr(0, 4)));
    date->set_month(DigitsValue(full.substr(4, 2)));
    date->set_day(DigitsValue(full.substr(6, 2)));
  } else if (!year.empty()) {
    if (!IsDigits(year, 4)) return Malformed("bad Nam");
    date->set_year(DigitsValue(year));
  } else {
    return Malformed("empty NgayThangNamSinh");
  }
  if (!validation::ValidateDate(*date, absl::Now()).ok()) {
    return Malformed("bad NgayThangNamSinh");
  }
  return absl::OkStatus();
}

absl::Status ParseAddress(pugi::xml_node node, absl::string_view element,
                          Address* address) {
  // Name the element in errors: addresses share their child names.
  auto in = [element](absl::Status status) {
    return status.ok()
               ? status
               : absl::Status(status.code(),
                              absl::StrCat(status.message(), " in ", element));
  };
  LIENTHONG_RETURN_IF_ERROR(in(RequiredDigits(
      node, "MaTinhThanh", 2, address->mutable_province_code())));
  LIENTHONG_RETURN_IF_ERROR(in(
      RequiredDigits(node, "MaPhuongXa", 5, address->mutable_commune_code())));
  LIENTHONG_RETURN_IF_ERROR(in(OptionalDigits(
      node, "MaQuanHuyen", 3, address->mutable_legacy_district_code())));
  LIENTHONG_RETURN_IF_ERROR(
      in(OptionalText(node, "ChiTiet", address->mutable_detail())));
  LIENTHONG_RETURN_IF_ERROR(
      in(OptionalCountry(node, "QuocGia", address->mutable_country())));
  return absl::OkStatus();
}

// Returns false in `present` for an absent or empty relative element.
absl::Status ParseRelative(pugi::xml_node node, absl::string_view element,
                           Relative* relative, bool* present) {
  *present = false;
  if (!node) return absl::OkStatus();
  std::string citizen_id;
  absl::Status id = OptionalDigits(node, "SoDinhDanh", 12, &citizen_id);
  if (!id.ok()) return Malformed(absl::StrCat("bad SoDinhDanh in ", element));
  pugi::xml_node name = Child(node, "HoVaTen");
  const bool has_name = !name.first_child().empty();
  if (!has_name && citizen_id.empty()) return absl::OkStatus();
  if (!has_name) return Malformed(absl::StrCat("missing HoVaTen in ", element));
  absl::Status parsed = ParseName(name, relative->mutable_name());
  if (!parsed.ok()) return Malformed(absl::StrCat("bad HoVaTen in ", element));
  relative->set_citizen_id(std::move(citizen_id));
  *present = true;
  return absl::OkStatus();
}

absl::Status ParseEthnicity(pugi::xml_node congdan, Citizen* citizen) {
  absl::string_view code = Text(Child(congdan, "DanToc"));
  if (code.empty()) return absl::OkStatus();
  if (!IsDigits(code, 2) || code == "00") return Malformed("bad DanToc");
  const int value = DigitsValue(code);
  citizen->set_ethnicity(value <= lienthong::v1::ETHNICITY_GIA_RAI
                             ? static_cast<Ethnicity>(value)
                             : lienthong::v1::ETHNICITY_OTHER);
  citizen->set_ethnicity_code(std::string(code));
  return absl::OkStatus();
}

absl::Status ParseHouseholdRelation(pugi::xml_node congdan, Citizen* citizen) {
  pugi::xml_node chu_ho = Child(congdan, "ChuHo");
  absl::string_view code = Text(Child(chu_ho, "QuanHe"));
  if (code.empty()) return absl::OkStatus();
  if (!IsDigits(code, 2)) return Malformed("bad QuanHe");
  const int value = DigitsValue(code);
  if (!(value >= 1 && value <= 6) && value != 9) return Malformed("bad QuanHe");
  citizen->set_household_relation(static_cast<HouseholdRelation>(value));
  return absl::OkStatus();
}

absl::Status ParseCongDan(pugi::xml_node congdan, Citizen* citizen) {
  LIENTHONG_RETURN_IF_ERROR(
      RequiredDigits(congdan, "SoDinhDanh", 12, citizen->mutable_citizen_id()));
  LIENTHONG_RETURN_IF_ERROR(
      OptionalDigits(congdan, "SoCMND", 9, citizen->mutable_old_id_number()));
  LIENTHONG_RETURN_IF_ERROR(
      ParseName(Child(congdan, "HoVaTen"), citizen->mutable_name()));

  absl::string_view gender = Text(Child(congdan, "GioiTinh"));
  if (gender == "1") {
    citizen->set_gender(lienthong::v1::GENDER_MALE);
  } else if (gender == "2") {
    citizen->set_gender(lienthong::v1::GENDER_FEMALE);
  } else if (!gender.empty()) {
    return Malformed("bad GioiTinh");
  }
  LIENTHONG_RETURN_IF_ERROR(ParseEthnicity(congdan, citizen));
  LIENTHONG_RETURN_IF_ERROR(
      OptionalText(congdan, "TonGiao", citizen->mutable_religion()));
  LIENTHONG_RETURN_IF_ERROR(
      OptionalCountry(congdan, "QuocTich", citizen->mutable_nationality()));

  if (pugi::xml_node birth = Child(congdan, "NgayThangNamSinh")) {
    LIENTHONG_RETURN_IF_ERROR(
        ParseBirthDate(birth, citizen->mutable_birth_date()));
  }

  const struct {
    const char* element;
    Address* (Citizen::*field)();
  } kAddresses[] = {
      {"QueQuan", &Citizen::mutable_hometown},
      {"ThuongTru", &Citizen::mutable_permanent_address},
      {"NoiOHienTai", &Citizen::mutable_current_address},
  };
  for (const auto& [element, field] : kAddresses) {
    pugi::xml_node node = Child(congdan, element);
    if (!node || !node.first_child()) continue;
    LIENTHONG_RETURN_IF_ERROR(ParseAddress(node, element, (citizen->*field)()));
  }

  const struct {
    const char* element;
    Relative* (Citizen::*field)();
    void (Citizen::*clear)();
  } kRelatives[] = {
      {"Cha", &Citizen::mutable_father, &Citizen::clear_father},
      {"Me", &Citizen::mutable_mother, &Citizen::clear_mother},
      {"VoChong", &Citizen::mutable_spouse, &Citizen::clear_spouse},
  };
  for (const auto& [element, field, clear] : kRelatives) {
    bool present = false;
    LIENTHONG_RETURN_IF_ERROR(ParseRelative(Child(congdan, element), element,
                                            (citizen->*field)(), &present));
    if (!present) (citizen->*clear)();
  }

  LIENTHONG_RETURN_IF_ERROR(ParseHouseholdRelation(congdan, citizen));
  LIENTHONG_RETURN_IF_ERROR(OptionalText(
      congdan, "SoSoHoKhau", citizen->mutable_household_book_number()));
  return absl::OkStatus();
}

absl::Status FaultStatus(pugi::xml_node fault) {
  const absl::string_view code = LocalName(Text(Child(fault, "faultcode")));
  const absl::string_view reason = Text(Child(fault, "faultstring"));
  const auto is = [code](absl::string_view kind) {
    return code == kind || absl::StartsWith(code, absl::StrCat(kind, "."));
  };
  if (is("Server")) {
    if (absl::StartsWithIgnoreCase(reason, kBusyPrefix)) {
      return MarkRetriable(
          absl::UnavailableError("population database is busy"));
    }
    return absl::UnavailableError(
        "population database reported an internal error");
  }
  if (is("Client") || is("VersionMismatch") || is("MustUnderstand")) {
    return Rejected();
  }
  return absl::UnavailableError(
      "population database reported an internal error");
}

absl::Status HttpError(long http_status) {
  return absl::UnavailableError(
      absl::StrCat("population database answered HTTP ", http_status));
}

}  // namespace

absl::StatusOr<LookupReply> ParseLookupResponse(long http_status,
                                                absl::string_view body) {
  if (http_status == 401 || http_status == 403) return Rejected();
  if (http_status == 502 || http_status == 503 || http_status == 504) {
    return MarkRetriable(absl::UnavailableError(absl::StrCat(
        "population database is unavailable (HTTP ", http_status, ")")));
  }

  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(
      body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  pugi::xml_node envelope = doc.document_element();
  pugi::xml_node soap_body = Child(envelope, "Body");
  if (!parsed || LocalName(envelope.name()) != "Envelope" || !soap_body) {
    if (http_status != 200) return HttpError(http_status);
    return Malformed(parsed ? "no SOAP Envelope/Body" : "not XML");
  }
  if (pugi::xml_node fault = Child(soap_body, "Fault")) {
    return FaultStatus(fault);
  }
  if (http_status != 200) return HttpError(http_status);

  pugi::xml_node response = Child(soap_body, "TraCuuThongTinCongDanResponse");
  if (!response) return Malformed("missing TraCuuThongTinCongDanResponse");
  LookupReply reply;
  reply.reference = std::string(Text(Child(response, "MaTraLoi")));
  if (reply.reference.empty()) return Malformed("missing MaTraLoi");
  if (!NormalizeNfc(reply.reference).ok()) return Malformed("bad MaTraLoi");

  pugi::xml_node collection = Child(response, "CongdanCollection");
  if (!collection) return Malformed("missing CongdanCollection");
  const int records = CountChildren(collection, "CongDan");
  if (records == 0) return reply;
  if (records > 1) return Malformed("more than one CongDan");
  LIENTHONG_RETURN_IF_ERROR(
      ParseCongDan(Child(collection, "CongDan"), &reply.citizen));
  reply.found = true;
  return reply;
}

}  // namespace lienthong::adapters::c06
