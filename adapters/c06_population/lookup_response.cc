#include "adapters/c06_population/lookup_response.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "adapters/c06_population/codes.h"
#include "adapters/c06_population/soap_envelope.h"
#include "adapters/common/text.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/admin_units.h"
#include "gateway/validation/citizen_id.h"

namespace lienthong::adapters::c06 {
namespace {

using lienthong::v1::Address;
using lienthong::v1::Citizen;
using lienthong::v1::PersonName;
using lienthong::v1::Relative;

// Longest text element accepted, in bytes.
constexpr size_t kMaxTextBytes = 1024;

// "bad <element>" or "bad <element> in <where>".
absl::Status Bad(absl::string_view element, absl::string_view where) {
  return Malformed(where.empty()
                       ? absl::StrCat("bad ", element)
                       : absl::StrCat("bad ", element, " in ", where));
}

bool IsDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(c);
  });
}

// The value of a short run of ASCII digits. REQUIRES: IsDigits(s), at most
// 9 of them.
int DigitsValue(absl::string_view s) {
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

// Free text in NFC; absent or empty leaves `out` untouched.
absl::Status ReadText(const Children& parent, absl::string_view name,
                      absl::string_view where, std::string* out) {
  const absl::string_view value = Text(parent[name]);
  if (value.empty()) return absl::OkStatus();
  if (value.size() > kMaxTextBytes) return Bad(name, where);
  absl::StatusOr<std::string> nfc = NormalizeNfc(value);
  if (!nfc.ok()) return Bad(name, where);
  *out = *std::move(nfc);
  return absl::OkStatus();
}

// A code (codes.h IsCode), kept as recorded.
absl::Status ReadCode(const Children& parent, absl::string_view name,
                      absl::string_view where, std::string* out) {
  const absl::string_view value = Text(parent[name]);
  if (value.empty()) return absl::OkStatus();
  if (!IsCode(value)) return Bad(name, where);
  *out = std::string(value);
  return absl::OkStatus();
}

// Digits of one of `lengths`.
absl::Status ReadDigits(const Children& parent, absl::string_view name,
                        absl::string_view where,
                        std::initializer_list<size_t> lengths,
                        std::string* out) {
  const absl::string_view value = Text(parent[name]);
  if (value.empty()) return absl::OkStatus();
  if (!IsDigits(value) || std::find(lengths.begin(), lengths.end(),
                                    value.size()) == lengths.end()) {
    return Bad(name, where);
  }
  *out = std::string(value);
  return absl::OkStatus();
}

// Sets the parts and `full` from the parts, skipping empty ones.
void SetName(std::string family, std::string middle, std::string given,
             PersonName* name) {
  std::vector<absl::string_view> words;
  for (const std::string* part : {&family, &middle, &given}) {
    if (!part->empty()) words.push_back(*part);
  }
  name->set_full(absl::StrJoin(words, " "));
  name->set_family(std::move(family));
  name->set_middle(std::move(middle));
  name->set_given(std::move(given));
}

void SetNameFromFull(absl::string_view full, PersonName* name) {
  NameParts parts = SplitVietnameseName(full);
  SetName(std::move(parts.family), std::move(parts.middle),
          std::move(parts.given), name);
}

// True when `node` holds text of its own, beside or instead of its child
// elements: where the format has a structure, a plain string would read as
// a structure with every part absent.
bool HasOwnText(pugi::xml_node node) {
  for (pugi::xml_node child : node.children()) {
    if ((child.type() == pugi::node_pcdata ||
         child.type() == pugi::node_cdata) &&
        !absl::StripAsciiWhitespace(child.value()).empty()) {
      return true;
    }
  }
  return false;
}

// HoVaTen, structured ({Ho, ChuDem, Ten}, possibly everything in Ten) or
// one string. `*present` is false when it holds no name at all.
absl::Status ReadName(pugi::xml_node ho_va_ten, absl::string_view where,
                      PersonName* name, bool* present) {
  *present = !IsEmptyElement(ho_va_ten);
  if (!*present) return absl::OkStatus();
  const bool structured = ho_va_ten.find_child(
      [](pugi::xml_node n) { return n.type() == pugi::node_element; });
  if (structured) {
    // Text beside the parts would be dropped unseen.
    if (HasOwnText(ho_va_ten)) return Bad("HoVaTen", where);
    const Children parts(ho_va_ten);
    std::string family, middle, given;
    LIENTHONG_RETURN_IF_ERROR(ReadText(parts, "Ho", where, &family));
    LIENTHONG_RETURN_IF_ERROR(ReadText(parts, "ChuDem", where, &middle));
    LIENTHONG_RETURN_IF_ERROR(ReadText(parts, "Ten", where, &given));
    // A name only in parts the format has not (HoTen) would read as none.
    if (family.empty() && middle.empty() && given.empty()) {
      return Bad("HoVaTen", where);
    }
    if (family.empty() && middle.empty()) {
      SetNameFromFull(given, name);  // "ĐÀO VĂN TÀI" all in Ten
    } else {
      SetName(std::move(family), std::move(middle), std::move(given), name);
    }
    return absl::OkStatus();
  }
  const absl::string_view text = Text(ho_va_ten);
  absl::StatusOr<std::string> full = NormalizeNfc(text);
  if (!full.ok() || text.size() > kMaxTextBytes) return Bad("HoVaTen", where);
  SetNameFromFull(*full, name);
  return absl::OkStatus();
}

absl::Status ReadBirthDate(pugi::xml_node node, google::type::Date* date) {
  const Children parts(node);
  const absl::string_view full = Text(parts["NgayThangNam"]);
  const absl::string_view year = Text(parts["Nam"]);
  if (!full.empty()) {
    if (full.size() != 8 || !IsDigits(full)) return Bad("NgayThangNam", "");
    if (!year.empty() && year != full.substr(0, 4)) {
      return Bad("Nam", "NgayThangNamSinh");
    }
    date->set_year(DigitsValue(full.substr(0, 4)));
    date->set_month(DigitsValue(full.substr(4, 2)));
    date->set_day(DigitsValue(full.substr(6, 2)));
  } else {
    if (year.size() != 4 || !IsDigits(year)) return Bad("Nam", "");
    date->set_year(DigitsValue(year));
  }
  if (!validation::ValidateDate(*date, absl::Now()).ok()) {
    return Bad("NgayThangNamSinh", "");
  }
  return absl::OkStatus();
}

// One address element; codes of a Vietnamese address are checked in the
// scheme of their date.
absl::Status ReadAddress(pugi::xml_node node, absl::string_view element,
                         std::optional<absl::Time> as_of, Address* address) {
  if (HasOwnText(node)) return Bad(element, "");
  const Children parts(node);
  LIENTHONG_RETURN_IF_ERROR(ReadCode(parts, "MaTinhThanh", element,
                                     address->mutable_province_code()));
  LIENTHONG_RETURN_IF_ERROR(ReadCode(parts, "MaQuanHuyen", element,
                                     address->mutable_legacy_district_code()));
  LIENTHONG_RETURN_IF_ERROR(
      ReadCode(parts, "MaPhuongXa", element, address->mutable_commune_code()));
  LIENTHONG_RETURN_IF_ERROR(
      ReadText(parts, "ChiTiet", element, address->mutable_detail()));
  LIENTHONG_RETURN_IF_ERROR(
      ReadCode(parts, "QuocGia", element, address->mutable_country()));
  if (!address->country().empty() && address->country() != "VN") {
    return absl::OkStatus();  // abroad: no Vietnamese codes to check
  }
  const validation::AddressScheme scheme =
      validation::SchemeOf(!address->legacy_district_code().empty(), as_of);
  const std::optional<validation::AddressPart> bad =
      validation::FindBadAddressPart(scheme, address->province_code(),
                                     address->legacy_district_code(),
                                     address->commune_code());
  if (!bad.has_value()) return absl::OkStatus();
  switch (*bad) {
    case validation::AddressPart::kProvince:
      return Bad("MaTinhThanh", element);
    case validation::AddressPart::kDistrict:
      return Bad("MaQuanHuyen", element);
    case validation::AddressPart::kCommune:
      break;
  }
  return Bad("MaPhuongXa", element);
}

// Cha, Me, VoChong, NguoiDaiDien, ChuHo: {HoVaTen, QuocTich, SoDinhDanh,
// SoCMND}. `*present` is false for an absent or empty element.
absl::Status ReadRelative(pugi::xml_node node, absl::string_view element,
                          Relative* relative, bool* present) {
  *present = !IsEmptyElement(node);
  if (!*present) return absl::OkStatus();
  if (HasOwnText(node)) return Bad(element, "");
  const Children parts(node);
  bool named = false;
  LIENTHONG_RETURN_IF_ERROR(ReadName(parts["HoVaTen"], element,
                                     relative->mutable_name(), &named));
  if (!named) relative->clear_name();
  LIENTHONG_RETURN_IF_ERROR(
      ReadCode(parts, "QuocTich", element, relative->mutable_nationality()));
  LIENTHONG_RETURN_IF_ERROR(ReadDigits(parts, "SoDinhDanh", element, {12},
                                       relative->mutable_citizen_id()));
  return ReadDigits(parts, "SoCMND", element, {9, 12},
                    relative->mutable_old_id_number());
}

// Reads `element` into the relative `field` returns, clearing it when
// absent.
absl::Status ReadRelativeField(const Children& congdan,
                               absl::string_view element,
                               Relative* (Citizen::*field)(),
                               void (Citizen::*clear)(), Citizen* citizen) {
  bool present = false;
  LIENTHONG_RETURN_IF_ERROR(ReadRelative(congdan[element], element,
                                         (citizen->*field)(), &present));
  if (!present) (citizen->*clear)();
  return absl::OkStatus();
}

// GioiTinh, DanToc, TonGiao, TinhTrangHonNhan, NhomMau, QuocTich.
absl::Status ReadCodes(const Children& congdan, Citizen* citizen) {
  LIENTHONG_RETURN_IF_ERROR(
      ReadCode(congdan, "GioiTinh", "", citizen->mutable_gender_code()));
  citizen->set_gender(GenderOf(citizen->gender_code()));
  LIENTHONG_RETURN_IF_ERROR(
      ReadCode(congdan, "DanToc", "", citizen->mutable_ethnicity_code()));
  citizen->set_ethnicity(EthnicityOf(citizen->ethnicity_code()));
  citizen->set_ethnicity_name(
      std::string(EthnicityName(citizen->ethnicity_code())));
  LIENTHONG_RETURN_IF_ERROR(
      ReadCode(congdan, "TonGiao", "", citizen->mutable_religion_code()));
  citizen->set_religion(std::string(ReligionName(citizen->religion_code())));
  LIENTHONG_RETURN_IF_ERROR(ReadCode(congdan, "TinhTrangHonNhan", "",
                                     citizen->mutable_marital_status_code()));
  citizen->set_marital_status(MaritalStatusOf(citizen->marital_status_code()));
  LIENTHONG_RETURN_IF_ERROR(
      ReadCode(congdan, "NhomMau", "", citizen->mutable_blood_group_code()));
  citizen->set_blood_group(BloodGroupOf(citizen->blood_group_code()));
  return ReadCode(congdan, "QuocTich", "", citizen->mutable_nationality());
}

absl::Status ReadAddresses(const Children& congdan,
                           std::optional<absl::Time> as_of, Citizen* citizen) {
  const struct {
    const char* element;
    Address* (Citizen::*field)();
  } kAddresses[] = {
      {"NoiDangKyKhaiSinh", &Citizen::mutable_birth_registration_place},
      {"QueQuan", &Citizen::mutable_hometown},
      {"ThuongTru", &Citizen::mutable_permanent_address},
      {"NoiOHienTai", &Citizen::mutable_current_address},
  };
  for (const auto& [element, field] : kAddresses) {
    pugi::xml_node node = congdan[element];
    if (IsEmptyElement(node)) continue;
    LIENTHONG_RETURN_IF_ERROR(
        ReadAddress(node, element, as_of, (citizen->*field)()));
  }
  return absl::OkStatus();
}

absl::Status ReadRelatives(const Children& congdan, Citizen* citizen) {
  LIENTHONG_RETURN_IF_ERROR(ReadRelativeField(congdan, "Cha",
                                              &Citizen::mutable_father,
                                              &Citizen::clear_father, citizen));
  LIENTHONG_RETURN_IF_ERROR(ReadRelativeField(congdan, "Me",
                                              &Citizen::mutable_mother,
                                              &Citizen::clear_mother, citizen));
  LIENTHONG_RETURN_IF_ERROR(ReadRelativeField(congdan, "VoChong",
                                              &Citizen::mutable_spouse,
                                              &Citizen::clear_spouse, citizen));
  LIENTHONG_RETURN_IF_ERROR(ReadRelativeField(
      congdan, "NguoiDaiDien", &Citizen::mutable_representative,
      &Citizen::clear_representative, citizen));
  // ChuHo: the head of household, and the citizen's relation to them.
  LIENTHONG_RETURN_IF_ERROR(
      ReadRelativeField(congdan, "ChuHo", &Citizen::mutable_household_head,
                        &Citizen::clear_household_head, citizen));
  LIENTHONG_RETURN_IF_ERROR(
      ReadCode(Children(congdan["ChuHo"]), "QuanHe", "ChuHo",
               citizen->mutable_household_relation_code()));
  citizen->set_household_relation(
      HouseholdRelationOf(citizen->household_relation_code()));
  return ReadText(congdan, "SoSoHoKhau", "",
                  citizen->mutable_household_book_number());
}

absl::Status ReadCongDan(pugi::xml_node node, std::optional<absl::Time> as_of,
                         Citizen* citizen) {
  const Children congdan(node);
  LIENTHONG_RETURN_IF_ERROR(ReadDigits(congdan, "SoDinhDanh", "", {12},
                                       citizen->mutable_citizen_id()));
  LIENTHONG_RETURN_IF_ERROR(ReadDigits(congdan, "SoCMND", "", {9, 12},
                                       citizen->mutable_old_id_number()));
  bool named = false;
  LIENTHONG_RETURN_IF_ERROR(
      ReadName(congdan["HoVaTen"], "", citizen->mutable_name(), &named));
  if (!named) citizen->clear_name();
  LIENTHONG_RETURN_IF_ERROR(ReadCodes(congdan, citizen));
  pugi::xml_node birth = congdan["NgayThangNamSinh"];
  if (!IsEmptyElement(birth)) {
    LIENTHONG_RETURN_IF_ERROR(
        ReadBirthDate(birth, citizen->mutable_birth_date()));
  }
  LIENTHONG_RETURN_IF_ERROR(ReadAddresses(congdan, as_of, citizen));
  return ReadRelatives(congdan, citizen);
}

// Reads `digits` digits at `pos` of `s` into `out`.
bool ReadNumber(absl::string_view s, size_t pos, size_t digits, int* out) {
  if (pos + digits > s.size() || !IsDigits(s.substr(pos, digits))) {
    return false;
  }
  *out = DigitsValue(s.substr(pos, digits));
  return true;
}

// xs:dateTime "yyyy-MM-ddTHH:mm:ss[.fff][Z|±hh:mm]" or xs:date
// "yyyy-MM-dd"; without an offset, Vietnam's (UTC+7).
std::optional<absl::Time> ParseXsDateTime(absl::string_view s) {
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!ReadNumber(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' ||
      !ReadNumber(s, 5, 2, &month) || s[7] != '-' ||
      !ReadNumber(s, 8, 2, &day)) {
    return std::nullopt;
  }
  size_t i = 10;
  if (i < s.size() && s[i] == 'T') {
    if (!ReadNumber(s, i + 1, 2, &hour) || s.size() < i + 9 ||
        s[i + 3] != ':' || !ReadNumber(s, i + 4, 2, &minute) ||
        s[i + 6] != ':' || !ReadNumber(s, i + 7, 2, &second)) {
      return std::nullopt;
    }
    i += 9;
    if (i < s.size() && s[i] == '.') {
      const size_t start = ++i;
      while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
      if (i == start) return std::nullopt;
    }
  }
  int offset_minutes = 7 * 60;
  if (i < s.size()) {
    int oh, om;
    if (s.substr(i) == "Z") {
      offset_minutes = 0;
    } else if ((s[i] == '+' || s[i] == '-') && s.size() == i + 6 &&
               ReadNumber(s, i + 1, 2, &oh) && s[i + 3] == ':' &&
               ReadNumber(s, i + 4, 2, &om) && oh <= 14 && om < 60) {
      offset_minutes = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  // Within what a protobuf Timestamp holds, and a date data can be of.
  if (year < 1900 || year > 2999) return std::nullopt;
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (civil.year() != year || civil.month() != month || civil.day() != day ||
      civil.hour() != hour || civil.minute() != minute ||
      civil.second() != second) {
    return std::nullopt;  // 2025-02-30, 25:00, ... were normalised
  }
  // A fixed offset from UTC (absl::FixedTimeZone would take a process-wide
  // lock for each reply).
  return absl::FromCivil(civil, absl::UTCTimeZone()) -
         absl::Minutes(offset_minutes);
}

// The collection's ThoiDiemDuLieu, when given.
absl::StatusOr<std::optional<absl::Time>> ReadDataTime(
    pugi::xml_node collection) {
  pugi::xml_attribute attribute;
  for (pugi::xml_attribute a : collection.attributes()) {
    if (LocalName(a.name()) == "ThoiDiemDuLieu") attribute = a;
  }
  const absl::string_view value =
      absl::StripAsciiWhitespace(attribute.as_string());
  if (value.empty()) return std::nullopt;
  std::optional<absl::Time> time = ParseXsDateTime(value);
  if (!time.has_value()) return Bad("ThoiDiemDuLieu", "");
  return time;
}

// The record must be about the citizen asked for.
absl::Status CheckSameCitizen(const Citizen& citizen,
                              absl::string_view asked_id) {
  const bool old_card = validation::IsOldIdCard(asked_id);
  const std::string& answered =
      old_card ? citizen.old_id_number() : citizen.citizen_id();
  if (answered.empty()) {
    return Malformed(old_card ? "missing SoCMND" : "missing SoDinhDanh");
  }
  if (answered != asked_id) {
    return absl::UnavailableError(
        "population database answered about another citizen");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LookupReply> ParseLookupResponse(long http_status,
                                                absl::string_view body,
                                                absl::string_view asked_id) {
  pugi::xml_document doc;
  LIENTHONG_ASSIGN_OR_RETURN(pugi::xml_node soap_body,
                             OpenSoapBody(http_status, body, doc));
  pugi::xml_node collection = Child(soap_body, "CongdanCollection");
  if (!collection) return Malformed("missing CongdanCollection");
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<absl::Time> as_of,
                             ReadDataTime(collection));
  LookupReply reply;
  const int records = CountChildren(collection, "CongDan");
  if (records > 1) return Malformed("more than one CongDan");
  // An empty collection is "no such citizen", which is not tried again: a
  // record under another name, or a count saying otherwise, could mean
  // there is one.
  for (pugi::xml_node child : collection.children()) {
    if (child.type() == pugi::node_element &&
        LocalName(child.name()) != "CongDan") {
      return Malformed("CongdanCollection holds an element other than CongDan");
    }
  }
  if (pugi::xml_attribute declared = collection.attribute("SoCongDan")) {
    int count = -1;
    if (!absl::SimpleAtoi(declared.value(), &count) || count != records) {
      return Malformed("SoCongDan is not the number of CongDan");
    }
  }
  if (records == 0) return reply;
  LIENTHONG_RETURN_IF_ERROR(
      ReadCongDan(Child(collection, "CongDan"), as_of, &reply.citizen));
  LIENTHONG_RETURN_IF_ERROR(CheckSameCitizen(reply.citizen, asked_id));
  if (as_of.has_value()) {
    reply.citizen.mutable_data_as_of()->set_seconds(
        absl::ToUnixSeconds(*as_of));
  }
  reply.found = true;
  return reply;
}

}  // namespace lienthong::adapters::c06
