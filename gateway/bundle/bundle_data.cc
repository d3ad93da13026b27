#include "gateway/bundle/bundle_data.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/dates.h"
#include "gateway/validation/text.h"

namespace lienthong::bundle {
namespace {

using lienthong::v1::BundleKind;
using lienthong::v1::StartBundleRequest;

// The rules' sizes: a name, a relationship ("mẹ", "con"; what the agencies
// take), other text, an officer's reason for a stop.
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxRelationshipBytes = 100;
constexpr size_t kMaxTextBytes = 400;
constexpr size_t kMaxStopReasonBytes = 1000;

enum class Rule {
  kCitizenId,
  kName,
  kRelationship,
  kText,
  kDate,
  kGender,
  kProvince,
  kCommune
};

struct KeySpec {
  const char* key;
  const char* field;  // in StartBundleRequest
  Rule rule;
  bool required;
};

constexpr KeySpec kCommon[] = {
    {"applicant.citizen_id", "applicant.citizen_id", Rule::kCitizenId, true},
    {"applicant.full_name", "applicant.full_name", Rule::kName, true},
    {"applicant.relationship", "applicant.relationship", Rule::kRelationship,
     false},
};

constexpr KeySpec kBirth[] = {
    {"child.full_name", "birth.child_full_name", Rule::kName, true},
    {"child.birth_date", "birth.child_birth_date", Rule::kDate, true},
    {"child.gender", "birth.child_gender", Rule::kGender, true},
    {"child.birth_place", "birth.birth_place", Rule::kText, false},
    {"mother.citizen_id", "birth.mother.citizen_id", Rule::kCitizenId, true},
    {"mother.full_name", "birth.mother.full_name", Rule::kName, true},
    {"father.citizen_id", "birth.father.citizen_id", Rule::kCitizenId, false},
    {"father.full_name", "birth.father.full_name", Rule::kName, false},
    {"address.province_code", "birth.permanent_address.province_code",
     Rule::kProvince, true},
    {"address.commune_code", "birth.permanent_address.commune_code",
     Rule::kCommune, true},
    {"address.detail", "birth.permanent_address.detail", Rule::kText, true},
    {"household.head_citizen_id", "birth.household_head_citizen_id",
     Rule::kCitizenId, false},
    {"household.relationship", "birth.household_relationship",
     Rule::kRelationship, false},
};

constexpr KeySpec kDeath[] = {
    {"deceased.citizen_id", "death.deceased.citizen_id", Rule::kCitizenId,
     true},
    {"deceased.full_name", "death.deceased.full_name", Rule::kName, true},
    {"deceased.death_date", "death.death_date", Rule::kDate, true},
    {"deceased.death_place", "death.death_place", Rule::kText, false},
};

constexpr char kDossierKey[] = "dossier.code";

std::vector<const KeySpec*> Specs(BundleKind kind) {
  std::vector<const KeySpec*> specs;
  if (kind != lienthong::v1::BIRTH && kind != lienthong::v1::DEATH) {
    return specs;
  }
  for (const KeySpec& s : kCommon) specs.push_back(&s);
  if (kind == lienthong::v1::BIRTH) {
    for (const KeySpec& s : kBirth) specs.push_back(&s);
  } else {
    for (const KeySpec& s : kDeath) specs.push_back(&s);
  }
  return specs;
}

bool IsDigits(absl::string_view text, size_t count) {
  if (text.size() != count) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// Checks one value by its rule; the message says what is wrong, without
// the value.
absl::Status CheckValue(Rule rule, const std::string& value, absl::Time now) {
  switch (rule) {
    case Rule::kCitizenId:
      if (validation::IsOldIdCard(value)) {
        return absl::InvalidArgumentError(
            "must be a 12-digit personal ID, not an old ID card number");
      }
      return validation::ValidateCitizenId(value, nullptr, now);
    case Rule::kName:
      return validation::ValidateText(value, kMaxNameBytes);
    case Rule::kRelationship:
      return validation::ValidateText(value, kMaxRelationshipBytes);
    case Rule::kText:
      return validation::ValidateText(value, kMaxTextBytes);
    case Rule::kDate: {
      std::optional<absl::CivilDay> day = validation::ParseIsoDate(value);
      if (!day.has_value()) {
        return absl::InvalidArgumentError("must be a date yyyy-MM-dd");
      }
      google::type::Date date;
      date.set_year(static_cast<int>(day->year()));
      date.set_month(day->month());
      date.set_day(day->day());
      return validation::ValidateDate(date, now);
    }
    case Rule::kGender:
      if (value == "male" || value == "female") return absl::OkStatus();
      return absl::InvalidArgumentError("must be male or female");
    case Rule::kProvince:
      if (IsDigits(value, 2)) return absl::OkStatus();
      return absl::InvalidArgumentError("must be a 2-digit province code");
    case Rule::kCommune:
      if (IsDigits(value, 5)) return absl::OkStatus();
      return absl::InvalidArgumentError("must be a 5-digit commune code");
  }
  return absl::InternalError("unknown rule");
}

std::string DateText(const google::type::Date& date) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return "";
  return validation::IsoDateText(date.year(), date.month(), date.day());
}

std::string GenderText(lienthong::v1::Gender gender) {
  switch (gender) {
    case lienthong::v1::GENDER_MALE:
      return "male";
    case lienthong::v1::GENDER_FEMALE:
      return "female";
    default:
      return "";
  }
}

// The request's details as data, unchecked.
BundleData Flatten(const StartBundleRequest& r) {
  BundleData data = {
      {kDossierKey, r.dossier_code()},
      {"applicant.citizen_id", r.applicant().citizen_id()},
      {"applicant.full_name", r.applicant().full_name()},
      {"applicant.relationship", r.applicant().relationship()},
  };
  if (r.has_birth()) {
    const auto& b = r.birth();
    data.insert(
        {{"child.full_name", b.child_full_name()},
         {"child.birth_date", DateText(b.child_birth_date())},
         {"child.gender", GenderText(b.child_gender())},
         {"child.birth_place", b.birth_place()},
         {"mother.citizen_id", b.mother().citizen_id()},
         {"mother.full_name", b.mother().full_name()},
         {"father.citizen_id", b.father().citizen_id()},
         {"father.full_name", b.father().full_name()},
         {"address.province_code", b.permanent_address().province_code()},
         {"address.commune_code", b.permanent_address().commune_code()},
         {"address.detail", b.permanent_address().detail()},
         {"household.head_citizen_id", b.household_head_citizen_id()},
         {"household.relationship", b.household_relationship()}});
  }
  if (r.has_death()) {
    const auto& d = r.death();
    data.insert({{"deceased.citizen_id", d.deceased().citizen_id()},
                 {"deceased.full_name", d.deceased().full_name()},
                 {"deceased.death_date", DateText(d.death_date())},
                 {"deceased.death_place", d.death_place()}});
  }
  return data;
}

}  // namespace

std::vector<std::string> DataKeys(BundleKind kind) {
  std::vector<std::string> keys;
  for (const KeySpec* spec : Specs(kind)) keys.push_back(spec->key);
  if (!keys.empty()) keys.push_back(kDossierKey);
  return keys;
}

absl::StatusOr<BundleData> DataOfRequest(const StartBundleRequest& request,
                                         absl::Time now) {
  const BundleKind kind = request.kind();
  if (kind == lienthong::v1::BIRTH && !request.has_birth()) {
    return absl::InvalidArgumentError("birth: required for a BIRTH bundle");
  }
  if (kind == lienthong::v1::DEATH && !request.has_death()) {
    return absl::InvalidArgumentError("death: required for a DEATH bundle");
  }
  if (kind != lienthong::v1::BIRTH && kind != lienthong::v1::DEATH) {
    return absl::InvalidArgumentError("kind: BIRTH or DEATH");
  }
  if (absl::Status s = validation::ValidateDossierCode(request.dossier_code(),
                                                       "dossier_code");
      !s.ok()) {
    return s;
  }
  BundleData all = Flatten(request);
  BundleData data = {{kDossierKey, request.dossier_code()}};
  for (const KeySpec* spec : Specs(kind)) {
    const std::string& value = all[spec->key];
    if (value.empty()) {
      if (spec->required) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec->field, ": required"));
      }
      continue;
    }
    if (absl::Status s = CheckValue(spec->rule, value, now); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec->field, ": ", s.message()));
    }
    data[spec->key] = value;
  }
  LIENTHONG_RETURN_IF_ERROR(CheckPairedKeys(
      kind, [&data](const std::string& key) { return data.count(key) > 0; }));
  return data;
}

absl::Status CheckPairedKeys(
    BundleKind kind, const std::function<bool(const std::string&)>& has) {
  // The civil-status system takes a father as his ID and name together
  // ({SoDinhDanh, HoTen}): one without the other would be refused at the
  // first step, and the bundle wait for an officer.
  if (kind == lienthong::v1::BIRTH &&
      has("father.citizen_id") != has("father.full_name")) {
    return absl::InvalidArgumentError(
        "birth.father: citizen_id and full_name go together (or neither)");
  }
  return absl::OkStatus();
}

absl::Status CheckCorrection(BundleKind kind, const std::string& key,
                             const std::string& value, absl::Time now) {
  for (const KeySpec* spec : Specs(kind)) {
    if (spec->key != key) continue;
    if (value.empty()) {
      if (spec->required) {
        return absl::InvalidArgumentError(
            absl::StrCat("corrections: ", key,
                         " is required and cannot be "
                         "cleared"));
      }
      return absl::OkStatus();
    }
    if (absl::Status s = CheckValue(spec->rule, value, now); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("corrections: ", key, ": ", s.message()));
    }
    return absl::OkStatus();
  }
  // The key is echoed only when it looks like one (it is the caller's).
  bool printable = !key.empty() && key.size() <= 64;
  for (char c : key) {
    printable = printable && (absl::ascii_islower(c) || c == '.' || c == '_');
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "corrections: ", printable ? absl::StrCat("'", key, "'") : "a key",
      " is not a data key of this bundle",
      key == kDossierKey ? " that can be corrected" : ""));
}

absl::Status CheckStopReason(absl::string_view reason) {
  if (reason.empty()) {
    return absl::InvalidArgumentError("stop.reason: required");
  }
  if (absl::Status s = validation::ValidateText(reason, kMaxStopReasonBytes);
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("stop.reason: ", s.message()));
  }
  return absl::OkStatus();
}

std::string BundleSubject(const StartBundleRequest& request) {
  if (request.has_birth()) return request.birth().mother().citizen_id();
  if (request.has_death()) return request.death().deceased().citizen_id();
  return "";
}

}  // namespace lienthong::bundle
