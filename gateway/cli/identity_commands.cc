#include "gateway/cli/identity_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/cli/args.h"
#include "gateway/status/status_macros.h"
#include "grpcpp/client_context.h"
#include "lienthong/v1/identity.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::VerifyIdentityRequest;
using ::lienthong::v1::VerifyIdentityResponse;

constexpr char kVerifyExamples[] =
    R"(lienthong verify --id 033085012345 --name "Nguyễn Văn An" --dob 1985-03-12
lienthong verify --id 033085012345 --name "Nguyen Van An" --dob 1985 \
    --purpose 1.001193 --dossier 000.00.01.H31-250715-00123
LIENTHONG_CERT=client.pem LIENTHONG_KEY=client.key LIENTHONG_CA=ca.pem \
    lienthong verify --server gw.example.vn:8443 --id 033085012345 \
    --name "Nguyễn Văn An" --json)";

constexpr char kVerifyNotes[] =
    "verify exits 0 for MATCH and MISMATCH (read the output) and 5 when no\n"
    "citizen has the ID.";

// "full_name" for FULL_NAME: the request's own field names.
std::string FieldName(int field) {
  if (VerifyIdentityResponse::Field_IsValid(field) &&
      field != VerifyIdentityResponse::FIELD_UNSPECIFIED) {
    return absl::AsciiStrToLower(VerifyIdentityResponse::Field_Name(
        static_cast<VerifyIdentityResponse::Field>(field)));
  }
  return absl::StrCat("field ", field);
}

}  // namespace

absl::StatusOr<VerifyIdentityRequest> BuildVerifyRequest(
    const VerifyArgs& args) {
  VerifyIdentityRequest request;
  LIENTHONG_RETURN_IF_ERROR(CheckCitizenId(args.citizen_id, "--id"));
  request.set_citizen_id(args.citizen_id);
  if (absl::StripAsciiWhitespace(args.full_name).empty()) {
    return absl::InvalidArgumentError("--name is empty");
  }
  request.set_full_name(args.full_name);
  if (!args.birth_date.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(*request.mutable_birth_date(),
                               ParseDate(args.birth_date, "--dob"));
  }
  request.set_purpose(args.purpose);
  request.set_dossier_id(args.dossier_id);
  return request;
}

std::string FormatVerifyResponse(const VerifyIdentityResponse& response) {
  std::vector<std::string> details;
  if (response.result() == VerifyIdentityResponse::MATCH ||
      response.result() == VerifyIdentityResponse::MISMATCH) {
    details.push_back(absl::StrCat("VNeID level ", response.vneid_level()));
  }
  if (!response.reference().empty()) {
    details.push_back(absl::StrCat("reference ", response.reference()));
  }
  std::string line;
  switch (response.result()) {
    case VerifyIdentityResponse::MATCH:
      line = "MATCH";
      break;
    case VerifyIdentityResponse::MISMATCH: {
      std::vector<std::string> fields;
      for (int field : response.mismatched_fields()) {
        fields.push_back(FieldName(field));
      }
      line = absl::StrCat("MISMATCH: ", absl::StrJoin(fields, ", "));
      break;
    }
    case VerifyIdentityResponse::NOT_FOUND:
      line = "NOT_FOUND";
      break;
    default:
      line = absl::StrCat("RESULT_UNSPECIFIED (", response.result(), ")");
      break;
  }
  if (!details.empty()) {
    absl::StrAppend(&line, "  (", absl::StrJoin(details, ", "), ")");
  }
  return line;
}

ExitCode RunVerify(const VerifyArgs& args, const CommonOptions& options,
                   std::ostream& out, std::ostream& err) {
  absl::StatusOr<VerifyIdentityRequest> request = BuildVerifyRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);

  auto stub = lienthong::v1::IdentityService::NewStub(*channel);
  grpc::ClientContext context;
  SetDeadline(options.connection, context);
  VerifyIdentityResponse response;
  grpc::Status status = stub->VerifyIdentity(&context, *request, &response);
  if (!status.ok()) return ReportRpcError(status, err);

  if (options.json) {
    if (ExitCode code = PrintJson(response, out, err); code != ExitCode::kOk) {
      return code;
    }
  } else {
    out << FormatVerifyResponse(response) << "\n";
  }
  switch (response.result()) {
    case VerifyIdentityResponse::MATCH:
    case VerifyIdentityResponse::MISMATCH:
      return ExitCode::kOk;
    case VerifyIdentityResponse::NOT_FOUND:
      return ExitCode::kNotFound;
    default:
      err << "lienthong: UNKNOWN: the gateway answered without a "
             "verification result\n";
      return ExitCode::kOther;
  }
}

void RegisterIdentityCommands(CLI::App& root, CommandContext& context) {
  CLI::App* verify = root.add_subcommand(
      "verify",
      "Check a citizen ID against a name and birth date (VNeID) and show the "
      "VNeID account level");
  auto args = std::make_shared<VerifyArgs>();
  auto options = std::make_shared<CommonOptions>();
  verify
      ->add_option("--id", args->citizen_id,
                   "12-digit personal ID number (CCCD) or 9-digit old ID "
                   "card number")
      ->type_name("ID")
      ->required();
  verify
      ->add_option("--name", args->full_name,
                   "Full name as on the dossier, with or without diacritics")
      ->type_name("NAME")
      ->required();
  verify
      ->add_option("--dob", args->birth_date,
                   "Birth date: yyyy-MM-dd, dd/MM/yyyy or a year yyyy")
      ->type_name("DATE");
  verify
      ->add_option("--purpose", args->purpose,
                   "Administrative procedure code, e.g. 1.001193")
      ->type_name("CODE");
  verify
      ->add_option("--dossier", args->dossier_id,
                   "Dossier code, e.g. 000.00.01.H31-250715-00123")
      ->type_name("CODE");
  AddCommonOptions(*verify, *options);
  verify->footer(HelpFooter(kVerifyExamples, kVerifyNotes));
  verify->callback([args, options, &context] {
    context.exit_code = RunVerify(*args, *options, context.out, context.err);
  });
}

}  // namespace lienthong::cli
