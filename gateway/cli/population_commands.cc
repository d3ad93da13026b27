#include "gateway/cli/population_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gateway/cli/args.h"
#include "gateway/cli/output.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/dates.h"
#include "grpcpp/client_context.h"
#include "lienthong/v1/population.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::Citizen;
using ::lienthong::v1::LookupCitizenRequest;

constexpr char kLookupExamples[] =
    R"(lienthong lookup --id 033085012345 --purpose 1.001193 \
    --dossier 000.00.01.H31-250715-00123 --officer-id 001085004321 \
    --officer-unit 000.00.31.H31 --officer-account nguyenvana
LIENTHONG_OFFICER_ID=001085004321 LIENTHONG_OFFICER_UNIT=000.00.31.H31 \
    LIENTHONG_OFFICER_ACCOUNT=nguyenvana \
    lienthong lookup --id 033085012345 --purpose 1.001193.000.00.00.H31 \
    --dossier 000.00.01.H31-250715-00123 \
    --fields name,birth_date,permanent_address --json)";

// "name (code)", the name alone, "code X" for a code without a name, or "".
std::string Coded(absl::string_view name, absl::string_view code) {
  if (name.empty()) return code.empty() ? "" : absl::StrCat("code ", code);
  if (code.empty()) return std::string(name);
  return absl::StrCat(name, " (", code, ")");
}

// The ethnic group's name, or, when only the enum was granted, the enum's
// own name ("KINH", "GIA_RAI", "OTHER").
std::string EthnicityText(const Citizen& citizen) {
  if (!citizen.ethnicity_name().empty() ||
      citizen.ethnicity() == lienthong::v1::ETHNICITY_UNSPECIFIED ||
      !lienthong::v1::Ethnicity_IsValid(citizen.ethnicity())) {
    return Coded(citizen.ethnicity_name(), citizen.ethnicity_code());
  }
  return Coded(absl::StripPrefix(lienthong::v1::Ethnicity_Name(
                                     citizen.ethnicity()),
                                 "ETHNICITY_"),
               citizen.ethnicity_code());
}

absl::string_view GenderName(lienthong::v1::Gender gender) {
  switch (gender) {
    case lienthong::v1::GENDER_MALE:
      return "male";
    case lienthong::v1::GENDER_FEMALE:
      return "female";
    default:
      return "";
  }
}

absl::string_view MaritalStatusName(lienthong::v1::MaritalStatus status) {
  switch (status) {
    case lienthong::v1::MARITAL_STATUS_SINGLE:
      return "single";
    case lienthong::v1::MARITAL_STATUS_MARRIED:
      return "married";
    case lienthong::v1::MARITAL_STATUS_DIVORCED:
      return "divorced";
    case lienthong::v1::MARITAL_STATUS_WIDOWED:
      return "widowed";
    default:
      return "";
  }
}

absl::string_view BloodGroupName(lienthong::v1::BloodGroup group) {
  switch (group) {
    case lienthong::v1::BLOOD_GROUP_NOT_RECORDED:
      return "not recorded";
    case lienthong::v1::BLOOD_GROUP_O:
      return "O";
    case lienthong::v1::BLOOD_GROUP_A:
      return "A";
    case lienthong::v1::BLOOD_GROUP_B:
      return "B";
    case lienthong::v1::BLOOD_GROUP_AB:
      return "AB";
    default:
      return "";
  }
}

absl::string_view HouseholdRelationName(
    lienthong::v1::HouseholdRelation relation) {
  switch (relation) {
    case lienthong::v1::HOUSEHOLD_RELATION_HEAD:
      return "head of household";
    case lienthong::v1::HOUSEHOLD_RELATION_SPOUSE:
      return "spouse of the head";
    case lienthong::v1::HOUSEHOLD_RELATION_CHILD:
      return "child of the head";
    case lienthong::v1::HOUSEHOLD_RELATION_PARENT:
      return "parent of the head";
    case lienthong::v1::HOUSEHOLD_RELATION_GRANDCHILD:
      return "grandchild of the head";
    case lienthong::v1::HOUSEHOLD_RELATION_SIBLING:
      return "sibling of the head";
    case lienthong::v1::HOUSEHOLD_RELATION_OTHER:
      return "other relation to the head";
    default:
      return "";
  }
}

// "Nguyễn Văn Bình (ID 033055001234, old ID 145123456, VN)", or whichever
// parts are recorded.
std::string RelativeText(const lienthong::v1::Relative& relative) {
  std::vector<std::string> details;
  if (!relative.citizen_id().empty()) {
    details.push_back(absl::StrCat("ID ", relative.citizen_id()));
  }
  if (!relative.old_id_number().empty()) {
    details.push_back(absl::StrCat("old ID ", relative.old_id_number()));
  }
  if (!relative.nationality().empty()) {
    details.push_back(relative.nationality());
  }
  std::string name = FormatPersonName(relative.name());
  if (details.empty()) return name;
  if (name.empty()) return absl::StrJoin(details, ", ");
  return absl::StrCat(name, " (", absl::StrJoin(details, ", "), ")");
}

// "2025-09-15 10:30:00 +07", Vietnam time; "" when unset.
std::string DataAsOfText(const Citizen& citizen) {
  if (!citizen.has_data_as_of()) return "";
  const absl::Time time = absl::FromUnixSeconds(citizen.data_as_of().seconds());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S +07", time,
                          validation::VietnamTimeZone());
}

// The reference from the trailing metadata, "" when absent.
std::string Reference(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kReferenceMetadataKey);
  if (it == trailers.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<LookupCitizenRequest> BuildLookupRequest(
    const LookupArgs& args) {
  LookupCitizenRequest request;
  LIENTHONG_RETURN_IF_ERROR(CheckCitizenId(args.citizen_id, "--id"));
  request.set_citizen_id(args.citizen_id);
  if (absl::StripAsciiWhitespace(args.purpose).empty()) {
    return absl::InvalidArgumentError(
        "--purpose is empty; give the procedure code, e.g. 1.001193");
  }
  request.set_purpose(args.purpose);
  if (absl::StripAsciiWhitespace(args.dossier_id).empty()) {
    return absl::InvalidArgumentError("--dossier is empty");
  }
  request.set_dossier_id(args.dossier_id);
  LIENTHONG_ASSIGN_OR_RETURN(
      *request.mutable_fields(),
      ParseFieldMask(args.fields, *Citizen::descriptor(), "--fields"));
  LIENTHONG_ASSIGN_OR_RETURN(*request.mutable_officer(),
                             BuildOfficer(args.officer));
  return request;
}

std::string FormatCitizen(const Citizen& citizen, absl::string_view reference) {
  KeyValueList list;
  list.Add("Citizen ID", citizen.citizen_id());
  list.Add("Old ID number", citizen.old_id_number());
  list.Add("Name", FormatPersonName(citizen.name()));
  list.Add("Birth date", FormatDate(citizen.birth_date()));
  list.Add("Gender",
           Coded(GenderName(citizen.gender()), citizen.gender_code()));
  list.Add("Ethnicity", EthnicityText(citizen));
  list.Add("Religion", Coded(citizen.religion(), citizen.religion_code()));
  list.Add("Marital status", Coded(MaritalStatusName(citizen.marital_status()),
                                   citizen.marital_status_code()));
  list.Add("Blood group", Coded(BloodGroupName(citizen.blood_group()),
                                citizen.blood_group_code()));
  list.Add("Nationality", citizen.nationality());
  list.Add("Birth registered",
           FormatAddress(citizen.birth_registration_place()));
  list.Add("Hometown", FormatAddress(citizen.hometown()));
  list.Add("Permanent address", FormatAddress(citizen.permanent_address()));
  list.Add("Current address", FormatAddress(citizen.current_address()));
  list.Add("Father", RelativeText(citizen.father()));
  list.Add("Mother", RelativeText(citizen.mother()));
  list.Add("Spouse", RelativeText(citizen.spouse()));
  list.Add("Representative", RelativeText(citizen.representative()));
  list.Add("Household head", RelativeText(citizen.household_head()));
  list.Add("Household relation",
           Coded(HouseholdRelationName(citizen.household_relation()),
                 citizen.household_relation_code()));
  list.Add("Household book", citizen.household_book_number());
  list.Add("Data as of", DataAsOfText(citizen));
  list.Add("Reference", reference);
  return list.ToString();
}

ExitCode RunLookup(const LookupArgs& args, const CommonOptions& options,
                   std::ostream& out, std::ostream& err) {
  absl::StatusOr<LookupCitizenRequest> request = BuildLookupRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  using lienthong::v1::PopulationService;
  grpc::ClientContext context;
  Citizen citizen;
  if (ExitCode code = CallUnary<PopulationService>(
          options.connection, &PopulationService::Stub::LookupCitizen,
          *request, citizen, err, &context);
      code != ExitCode::kOk) {
    return code;
  }

  const std::string reference = Reference(context);
  if (options.json) {
    if (ExitCode code = PrintJson(citizen, out, err); code != ExitCode::kOk) {
      return code;
    }
    // stdout stays one JSON object; the reference goes beside it.
    if (!reference.empty()) {
      err << "lienthong: reference: " << reference << "\n";
    }
  } else {
    out << FormatCitizen(citizen, reference);
  }
  return ExitCode::kOk;
}

void RegisterPopulationCommands(CLI::App& root, CommandContext& context) {
  CLI::App* lookup = root.add_subcommand(
      "lookup",
      "Read a citizen's record from the National Population Database, cut "
      "down to the fields granted for the purpose");
  auto args = std::make_shared<LookupArgs>();
  auto options = std::make_shared<CommonOptions>();
  lookup
      ->add_option("--id", args->citizen_id,
                   "12-digit personal ID number (CCCD) or 9-digit old ID "
                   "card number")
      ->type_name("ID")
      ->required();
  lookup
      ->add_option("--purpose", args->purpose,
                   "Administrative procedure code the lookup serves, e.g. "
                   "1.001193")
      ->type_name("CODE")
      ->required();
  lookup
      ->add_option("--dossier", args->dossier_id,
                   "Dossier the lookup serves, e.g. "
                   "000.00.01.H31-250715-00123")
      ->type_name("CODE")
      ->required();
  lookup
      ->add_option("--fields", args->fields,
                   "Comma-separated Citizen fields, e.g. "
                   "name,birth_date,permanent_address (default: all "
                   "granted)")
      ->type_name("LIST");
  AddOfficerOptions(*lookup, args->officer);
  AddCommonOptions(*lookup, *options);
  lookup->footer(HelpFooter(kLookupExamples));
  lookup->callback([args, options, &context] {
    context.exit_code = RunLookup(*args, *options, context.out, context.err);
  });
}

}  // namespace lienthong::cli
