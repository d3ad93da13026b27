#include "gateway/cli/vneid_commands.h"

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gateway/cli/output.h"
#include "lienthong/v1/identity.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::VneidSignInRequest;
using ::lienthong::v1::VneidSignInResponse;

constexpr char kSignInExamples[] =
    R"(lienthong vneid signin --code "$CODE" \
    --redirect-uri https://dichvucong.hungyen.gov.vn/vneid/callback \
    --nonce "$NONCE"
lienthong vneid signin --code "$CODE" --redirect-uri "$URI" --nonce "$NONCE" \
    --code-verifier "$VERIFIER" --json)";

constexpr char kSignInNotes[] =
    "The portal sends the citizen to VNeID with the province's client id, a\n"
    "redirect URI the gateway allows for it and a fresh nonce; VNeID answers\n"
    "on the redirect URI with ?code=... . Give that code, the same redirect\n"
    "URI and nonce here. A code works once: after any failure, sign in anew.";

absl::Status Required(const std::string& value, const char* option) {
  if (absl::StripAsciiWhitespace(value).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(option, " is empty"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VneidSignInRequest> BuildSignInRequest(const SignInArgs& args) {
  for (const auto& [value, option] :
       {std::pair{&args.code, "--code"},
        std::pair{&args.redirect_uri, "--redirect-uri"},
        std::pair{&args.nonce, "--nonce"}}) {
    if (absl::Status s = Required(*value, option); !s.ok()) return s;
  }
  VneidSignInRequest request;
  request.set_authorization_code(args.code);
  request.set_redirect_uri(args.redirect_uri);
  request.set_nonce(args.nonce);
  request.set_code_verifier(args.code_verifier);
  return request;
}

std::string FormatSignIn(const VneidSignInResponse& response) {
  KeyValueList list;
  list.Add("Citizen ID", response.citizen_id());
  list.Add("Name", response.full_name());
  if (response.has_birth_date()) {
    list.Add("Birth date", FormatDate(response.birth_date()));
  }
  if (response.assurance_level() > 0) {
    list.Add("VNeID level", absl::StrCat(response.assurance_level()));
  }
  list.Add("Subject", response.subject());
  if (response.has_expires_at()) {
    list.Add(
        "Valid until",
        absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                         absl::FromUnixSeconds(response.expires_at().seconds()),
                         absl::UTCTimeZone()));
  }
  return list.ToString();
}

ExitCode RunVneidSignIn(const SignInArgs& args, const CommonOptions& options,
                        std::ostream& out, std::ostream& err) {
  absl::StatusOr<VneidSignInRequest> request = BuildSignInRequest(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  using lienthong::v1::IdentityService;
  VneidSignInResponse response;
  if (ExitCode code = CallUnary<IdentityService>(
          options.connection, &IdentityService::Stub::SignInWithVneid,
          *request, response, err);
      code != ExitCode::kOk) {
    return code;
  }
  if (options.json) return PrintJson(response, out, err);
  out << FormatSignIn(response);
  return ExitCode::kOk;
}

void RegisterVneidCommands(CLI::App& root, CommandContext& context) {
  CLI::App* vneid = root.add_subcommand(
      "vneid", "Citizens' VNeID sign-in (OpenID Connect) through the gateway");
  vneid->require_subcommand(1);
  CLI::App* signin = vneid->add_subcommand(
      "signin",
      "Exchange a VNeID authorisation code and show who signed in, at which "
      "assurance level");
  auto args = std::make_shared<SignInArgs>();
  auto options = std::make_shared<CommonOptions>();
  signin
      ->add_option("--code", args->code,
                   "The code VNeID appended to the redirect URI")
      ->type_name("CODE")
      ->required();
  signin
      ->add_option("--redirect-uri", args->redirect_uri,
                   "The redirect URI of the authorisation request, exactly")
      ->type_name("URI")
      ->required();
  signin
      ->add_option("--nonce", args->nonce,
                   "The nonce of the authorisation request")
      ->type_name("NONCE")
      ->required();
  signin
      ->add_option("--code-verifier", args->code_verifier,
                   "PKCE code verifier, when the request had a challenge")
      ->type_name("VERIFIER");
  AddCommonOptions(*signin, *options);
  signin->footer(HelpFooter(kSignInExamples, kSignInNotes));
  signin->callback([args, options, &context] {
    context.exit_code =
        RunVneidSignIn(*args, *options, context.out, context.err);
  });
}

}  // namespace lienthong::cli
