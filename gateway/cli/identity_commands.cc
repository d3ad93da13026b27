#include "gateway/cli/identity_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/cli/args.h"
#include "gateway/cli/output.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/text.h"
#include "lienthong/v1/identity.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::VerifyIdentityRequest;
using ::lienthong::v1::VerifyIdentityResponse;

constexpr char kVerifyExamples[] =
    R"(lienthong verify --id 033085012345 --name "Nguyễn Văn An" --dob 1985-03-12 \
    --officer-id 001085004321 --officer-unit 000.00.31.H31 \
    --officer-account nguyenvana
lienthong verify --id 033085012345 --name "Nguyen Van An" --dob 1985 \
    --purpose 1.001193 --dossier 000.00.01.H31-250715-00123
LIENTHONG_CERT=client.pem LIENTHONG_KEY=client.key LIENTHONG_CA=ca.pem \
    LIENTHONG_OFFICER_ID=001085004321 LIENTHONG_OFFICER_UNIT=000.00.31.H31 \
    LIENTHONG_OFFICER_ACCOUNT=nguyenvana \
    lienthong verify --server gw.example.vn:8443 --id 033085012345 \
    --name "Nguyễn Văn An" --json)";

constexpr char kVerifyNotes[] =
    "verify exits 0 for MATCH and for NO_MATCH (read the output): the\n"
    "population database says only whether a citizen with this ID and this\n"
    "name exists, never which of the two differs. The birth date is checked\n"
    "for form but not sent.";

}  // namespace

absl::StatusOr<VerifyIdentityRequest> BuildVerifyRequest(
    const VerifyArgs& args) {
  VerifyIdentityRequest request;
  LIENTHONG_RETURN_IF_ERROR(CheckCitizenId(args.citizen_id, "--id"));
  request.set_citizen_id(args.citizen_id);
  // The gateway's rule for a name (it refuses the others), so that a
  // mistyped one fails here, before any connection.
  LIENTHONG_RETURN_IF_ERROR(
      validation::ValidatePersonName(args.full_name, "--name"));
  request.set_full_name(args.full_name);
  if (!args.birth_date.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(*request.mutable_birth_date(),
                               ParseDate(args.birth_date, "--dob"));
  }
  request.set_purpose(args.purpose);
  request.set_dossier_id(args.dossier_id);
  LIENTHONG_ASSIGN_OR_RETURN(*request.mutable_officer(),
                             BuildOfficer(args.officer));
  return request;
}

std::string FormatVerifyResponse(const VerifyIdentityResponse& response) {
  std::string line;
  switch (response.result()) {
    case VerifyIdentityResponse::MATCH:
      line = "MATCH";
      break;
    case VerifyIdentityResponse::NO_MATCH:
      line = "NO_MATCH";
      break;
    default:
      line = absl::StrCat("RESULT_UNSPECIFIED (", response.result(), ")");
      break;
  }
  if (!response.reference().empty()) {
    absl::StrAppend(&line, "  (reference ", OneLine(response.reference()), ")");
  }
  return line;
}

ExitCode RunVerify(const VerifyArgs& args, const CommonOptions& options,
                   std::ostream& out, std::ostream& err) {
  absl::StatusOr<VerifyIdentityRequest> request = BuildVerifyRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  using lienthong::v1::IdentityService;
  VerifyIdentityResponse response;
  if (ExitCode code = CallUnary<IdentityService>(
          options.connection, &IdentityService::Stub::VerifyIdentity,
          *request, response, err);
      code != ExitCode::kOk) {
    return code;
  }

  if (options.json) {
    if (ExitCode code = PrintJson(response, out, err); code != ExitCode::kOk) {
      return code;
    }
  } else {
    out << FormatVerifyResponse(response) << "\n";
  }
  switch (response.result()) {
    case VerifyIdentityResponse::MATCH:
    case VerifyIdentityResponse::NO_MATCH:
      return ExitCode::kOk;
    default:
      err << "lienthong: UNKNOWN: the gateway answered without a "
             "verification result\n";
      return ExitCode::kOther;
  }
}

void RegisterIdentityCommands(CLI::App& root, CommandContext& context) {
  CLI::App* verify = root.add_subcommand(
      "verify",
      "Ask the population database whether a citizen with this ID and name "
      "exists (MATCH or NO_MATCH)");
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
                   "Birth date: yyyy-MM-dd, dd/MM/yyyy or a year yyyy "
                   "(checked by the gateway, not sent: the check has no date)")
      ->type_name("DATE");
  verify
      ->add_option("--purpose", args->purpose,
                   "Administrative procedure code, e.g. 1.001193")
      ->type_name("CODE");
  verify
      ->add_option("--dossier", args->dossier_id,
                   "Dossier code, e.g. 000.00.01.H31-250715-00123")
      ->type_name("CODE");
  AddOfficerOptions(*verify, args->officer);
  AddCommonOptions(*verify, *options);
  verify->footer(HelpFooter(kVerifyExamples, kVerifyNotes));
  verify->callback([args, options, &context] {
    context.exit_code = RunVerify(*args, *options, context.out, context.err);
  });
}

}  // namespace lienthong::cli
