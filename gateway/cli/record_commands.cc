#include "gateway/cli/record_commands.h"

#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/cli/output.h"
#include "gateway/status/status_macros.h"
#include "lienthong/v1/records.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::GetRecordRequest;
using ::lienthong::v1::Record;

constexpr char kGetExamples[] =
    R"(lienthong record get enterprise tax_code=0101234567 --purpose 2.001610 \
    --dossier 000.00.01.H31-250715-00123 --officer-id 001085004321 \
    --officer-unit 000.00.31.H31 --officer-account nguyenvana
lienthong record get enterprise tax_code=0101234567 --purpose 2.001610 \
    --fields name,status --json)";

constexpr char kGetNotes[] =
    "Record types, their parameters and fields are declared by the "
    "gateway's configured adapters (e.g. \"enterprise\" from a business "
    "registry); a caller receives only the fields granted to it for the "
    "purpose.\n";

ExitCode RunGet(const RecordGetArgs& args, const CommonOptions& options,
                std::ostream& out, std::ostream& err) {
  absl::StatusOr<GetRecordRequest> request = BuildRecordRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  using lienthong::v1::RecordService;
  Record record;
  if (ExitCode code = CallUnary<RecordService>(
          options.connection, &RecordService::Stub::GetRecord, *request,
          record, err);
      code != ExitCode::kOk) {
    return code;
  }
  if (options.json) return PrintJson(record, out, err);
  out << FormatRecord(record);
  return ExitCode::kOk;
}

}  // namespace

absl::StatusOr<GetRecordRequest> BuildRecordRequest(const RecordGetArgs& args) {
  GetRecordRequest request;
  request.set_record_type(args.record_type);
  for (const std::string& parameter : args.parameters) {
    std::pair<std::string, std::string> pair =
        absl::StrSplit(parameter, absl::MaxSplits('=', 1));
    if (pair.first.empty() || parameter.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(
          "parameters must be written name=value (e.g. tax_code=0101234567)");
    }
    if (!request.mutable_parameters()->insert({pair.first, pair.second}).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", pair.first, "' is given twice"));
    }
  }
  if (absl::StripAsciiWhitespace(args.purpose).empty()) {
    return absl::InvalidArgumentError(
        "--purpose: give the procedure code the lookup serves");
  }
  request.set_purpose(args.purpose);
  request.set_dossier_id(args.dossier_id);
  for (absl::string_view field :
       absl::StrSplit(args.fields, ',', absl::SkipWhitespace())) {
    request.add_fields(std::string(absl::StripAsciiWhitespace(field)));
  }
  LIENTHONG_ASSIGN_OR_RETURN(*request.mutable_officer(),
                             BuildOfficer(args.officer));
  return request;
}

std::string FormatRecord(const Record& record) {
  KeyValueList list;
  list.Add("Record type", record.record_type());
  for (const auto& field : record.fields()) list.Add(field.name(), field.value());
  list.Add("Source system", record.source_system());
  list.Add("Reference", record.reference());
  return list.ToString();
}

void RegisterRecordCommands(CLI::App& root, CommandContext& context) {
  CLI::App* group = root.add_subcommand(
      "record", "Records of the ministries' other databases");
  group->require_subcommand(1);
  CLI::App* get = group->add_subcommand(
      "get",
      "Read one record by its type and key parameters, cut down to the "
      "fields granted for the purpose");
  auto args = std::make_shared<RecordGetArgs>();
  auto options = std::make_shared<CommonOptions>();
  get->add_option("type", args->record_type,
                  "Record type, e.g. enterprise")
      ->required();
  get->add_option("parameters", args->parameters,
                  "Key parameters as name=value, e.g. tax_code=0101234567")
      ->required();
  get->add_option("--purpose", args->purpose,
                  "Administrative procedure code the lookup serves, e.g. "
                  "2.001610")
      ->type_name("CODE")
      ->required();
  get->add_option("--dossier", args->dossier_id,
                  "Dossier the lookup serves, e.g. 000.00.01.H31-250715-00123")
      ->type_name("CODE");
  get->add_option("--fields", args->fields,
                  "Comma-separated field names (default: all granted)")
      ->type_name("LIST");
  AddOfficerOptions(*get, args->officer);
  AddCommonOptions(*get, *options);
  get->footer(HelpFooter(kGetExamples, kGetNotes));
  get->callback([args, options, &context] {
    context.exit_code = RunGet(*args, *options, context.out, context.err);
  });
}

}  // namespace lienthong::cli
