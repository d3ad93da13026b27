#include "gateway/cli/population_commands.h"

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/cli/args.h"
#include "gateway/cli/output.h"
#include "gateway/status/status_macros.h"
#include "grpcpp/client_context.h"
#include "lienthong/v1/population.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::Citizen;
using ::lienthong::v1::LookupCitizenRequest;

constexpr char kLookupExamples[] =
    R"(lienthong lookup --id 033085012345 --purpose 1.001193 \
    --dossier 000.00.01.H31-250715-00123
lienthong lookup --id 033085012345 --purpose 1.001193 \
    --dossier 000.00.01.H31-250715-00123 \
    --fields name,birth_date,permanent_address --json)";

std::string GenderText(lienthong::v1::Gender gender) {
  switch (gender) {
    case lienthong::v1::GENDER_UNSPECIFIED:
      return "";
    case lienthong::v1::GENDER_MALE:
      return "male";
    case lienthong::v1::GENDER_FEMALE:
      return "female";
    default:
      return absl::StrCat("code ", static_cast<int>(gender));
  }
}

std::string EthnicityName(lienthong::v1::Ethnicity ethnicity) {
  switch (ethnicity) {
    case lienthong::v1::ETHNICITY_UNSPECIFIED:
      return "";
    case lienthong::v1::ETHNICITY_KINH:
      return "Kinh";
    case lienthong::v1::ETHNICITY_TAY:
      return "Tày";
    case lienthong::v1::ETHNICITY_THAI:
      return "Thái";
    case lienthong::v1::ETHNICITY_HOA:
      return "Hoa";
    case lienthong::v1::ETHNICITY_KHMER:
      return "Khmer";
    case lienthong::v1::ETHNICITY_MUONG:
      return "Mường";
    case lienthong::v1::ETHNICITY_NUNG:
      return "Nùng";
    case lienthong::v1::ETHNICITY_HMONG:
      return "Mông";
    case lienthong::v1::ETHNICITY_DAO:
      return "Dao";
    case lienthong::v1::ETHNICITY_GIA_RAI:
      return "Gia Rai";
    case lienthong::v1::ETHNICITY_OTHER:
      return "other";
    default:
      return absl::StrCat("ethnicity ", static_cast<int>(ethnicity));
  }
}

// "Kinh (01)": the name, with the national code as recorded.
std::string EthnicityText(const Citizen& citizen) {
  std::string name = EthnicityName(citizen.ethnicity());
  const std::string& code = citizen.ethnicity_code();
  if (name.empty()) return code.empty() ? "" : absl::StrCat("code ", code);
  if (code.empty()) return name;
  return absl::StrCat(name, " (", code, ")");
}

std::string HouseholdRelationText(lienthong::v1::HouseholdRelation relation) {
  switch (relation) {
    case lienthong::v1::HOUSEHOLD_RELATION_UNSPECIFIED:
      return "";
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
      return absl::StrCat("code ", static_cast<int>(relation));
  }
}

// "Nguyễn Văn Bình (ID 033055001234)", or whichever half is recorded.
std::string RelativeText(const lienthong::v1::Relative& relative) {
  std::string name = FormatPersonName(relative.name());
  if (relative.citizen_id().empty()) return name;
  if (name.empty()) return absl::StrCat("ID ", relative.citizen_id());
  return absl::StrCat(name, " (ID ", relative.citizen_id(), ")");
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
  return request;
}

std::string FormatCitizen(const Citizen& citizen, absl::string_view reference) {
  KeyValueList list;
  list.Add("Citizen ID", citizen.citizen_id());
  list.Add("Old ID number", citizen.old_id_number());
  list.Add("Name", FormatPersonName(citizen.name()));
  list.Add("Birth date", FormatDate(citizen.birth_date()));
  list.Add("Gender", GenderText(citizen.gender()));
  list.Add("Ethnicity", EthnicityText(citizen));
  list.Add("Religion", citizen.religion());
  list.Add("Nationality", citizen.nationality());
  list.Add("Hometown", FormatAddress(citizen.hometown()));
  list.Add("Permanent address", FormatAddress(citizen.permanent_address()));
  list.Add("Current address", FormatAddress(citizen.current_address()));
  list.Add("Father", RelativeText(citizen.father()));
  list.Add("Mother", RelativeText(citizen.mother()));
  list.Add("Spouse", RelativeText(citizen.spouse()));
  list.Add("Household relation",
           HouseholdRelationText(citizen.household_relation()));
  list.Add("Household book", citizen.household_book_number());
  list.Add("Reference", reference);
  return list.ToString();
}

ExitCode RunLookup(const LookupArgs& args, const CommonOptions& options,
                   std::ostream& out, std::ostream& err) {
  absl::StatusOr<LookupCitizenRequest> request = BuildLookupRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);

  auto stub = lienthong::v1::PopulationService::NewStub(*channel);
  grpc::ClientContext context;
  SetDeadline(options.connection, context);
  Citizen citizen;
  grpc::Status status = stub->LookupCitizen(&context, *request, &citizen);
  if (!status.ok()) return ReportRpcError(status, err);

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
  AddCommonOptions(*lookup, *options);
  lookup->footer(HelpFooter(kLookupExamples));
  lookup->callback([args, options, &context] {
    context.exit_code = RunLookup(*args, *options, context.out, context.err);
  });
}

}  // namespace lienthong::cli
