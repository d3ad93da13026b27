#include "gateway/cli/officer_options.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/officer.h"

namespace lienthong::cli {
namespace {

absl::Status Missing(absl::string_view option, absl::string_view env) {
  return absl::InvalidArgumentError(absl::StrCat(
      option, " is required (or set ", env,
      "): the population database answers only on behalf of a named "
      "officer"));
}

}  // namespace

void AddOfficerOptions(CLI::App& command, OfficerArgs& args) {
  CLI::Option_group* group = command.add_option_group(
      "Officer",
      "The officer the call is made for (sent to the population "
      "database, kept hashed in the audit log)");
  group
      ->add_option("--officer-id", args.citizen_id,
                   "The officer's own 12-digit personal ID number (CCCD)")
      ->type_name("ID")
      ->envname("LIENTHONG_OFFICER_ID");
  group
      ->add_option("--officer-unit", args.unit_code,
                   "The officer's unit code, e.g. 000.00.31.H31")
      ->type_name("CODE")
      ->envname("LIENTHONG_OFFICER_UNIT");
  group
      ->add_option("--officer-account", args.account,
                   "The officer's account in the provincial system")
      ->type_name("ACCOUNT")
      ->envname("LIENTHONG_OFFICER_ACCOUNT");
}

absl::StatusOr<lienthong::v1::Officer> BuildOfficer(const OfficerArgs& args) {
  if (args.citizen_id.empty()) {
    return Missing("--officer-id", "LIENTHONG_OFFICER_ID");
  }
  if (args.unit_code.empty()) {
    return Missing("--officer-unit", "LIENTHONG_OFFICER_UNIT");
  }
  if (args.account.empty()) {
    return Missing("--officer-account", "LIENTHONG_OFFICER_ACCOUNT");
  }
  LIENTHONG_RETURN_IF_ERROR(validation::ValidateOfficerId(
      args.citizen_id, "--officer-id", absl::Now()));
  LIENTHONG_RETURN_IF_ERROR(
      validation::ValidateUnitCode(args.unit_code, "--officer-unit"));
  LIENTHONG_RETURN_IF_ERROR(
      validation::ValidateAccount(args.account, "--officer-account"));
  lienthong::v1::Officer officer;
  officer.set_citizen_id(args.citizen_id);
  officer.set_unit_code(args.unit_code);
  officer.set_account(args.account);
  return officer;
}

}  // namespace lienthong::cli
