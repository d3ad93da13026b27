// What the sync commands print: timestamps, plans, job states and dead
// letters (declared in sync_commands.h).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gateway/cli/job_watcher.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "gateway/cli/sync_commands.h"
#include "gateway/validation/dates.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::DeadLetter;
using ::lienthong::v1::Procedure;
using ::lienthong::v1::ProcedurePlan;
using ::lienthong::v1::SyncJob;
using ::lienthong::v1::SyncProceduresResponse;

std::string PlanActionName(int action) {
  switch (action) {
    case ProcedurePlan::CREATE:
      return "create";
    case ProcedurePlan::UPDATE:
      return "update";
    case ProcedurePlan::UNCHANGED:
      return "unchanged";
    case ProcedurePlan::WITHDRAW:
      return "withdraw";
    default:
      return absl::StrCat("action ", action);
  }
}

}  // namespace

std::string FormatTimestamp(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S +07",
                          absl::FromUnixSeconds(time.seconds()),
                          validation::VietnamTimeZone());
}

std::string FormatPlanSummary(const SyncProceduresResponse& response) {
  std::string out =
      absl::StrCat("Plan: ", response.creates(), " to create, ",
                   response.updates(), " to update, ", response.unchanged(),
                   " unchanged, ", response.withdrawals(), " to withdraw.");
  if (response.dead_letters_superseded() > 0) {
    absl::StrAppend(&out, " ", response.dead_letters_superseded(),
                    " dead letter(s) of unchanged procedures to supersede: the "
                    "portal already holds what the catalogue says.");
  }
  return out;
}

std::string FormatPlanDetails(const SyncProceduresResponse& response,
                              const std::vector<Procedure>& procedures) {
  std::map<std::string, const std::string*> names;
  for (const Procedure& procedure : procedures) {
    names.emplace(procedure.code(), &procedure.name());
  }
  std::vector<std::vector<std::string>> rows;
  for (const ProcedurePlan& plan : response.plan()) {
    std::vector<std::string> row = {
        absl::StrCat("  ", PlanActionName(plan.action())), plan.code()};
    if (auto it = names.find(plan.code()); it != names.end()) {
      row.push_back(*it->second);
    }
    rows.push_back(std::move(row));
  }
  return FormatTable(rows);
}

std::string FormatJobProgress(const SyncJob& job, absl::Duration elapsed) {
  return absl::StrCat(job.delivered(), "/", job.total(), " delivered, ",
                      job.dead_lettered(), " dead-lettered, ",
                      FormatElapsed(elapsed));
}

std::string FormatJobStatus(const SyncJob& job) {
  KeyValueList list;
  list.Add("Job", job.job_id());
  list.Add("State", JobStateName(job.state()));
  list.Add("Delivered", absl::StrCat(job.delivered(), " of ", job.total()));
  list.Add("Dead-lettered", absl::StrCat(job.dead_lettered()));
  if (job.has_created()) list.Add("Created", FormatTimestamp(job.created()));
  if (job.has_updated()) list.Add("Updated", FormatTimestamp(job.updated()));
  return list.ToString();
}

std::string FormatDeadLetterTable(const std::vector<DeadLetter>& dead_letters) {
  if (dead_letters.empty()) return "No dead letters.\n";
  std::vector<std::vector<std::string>> rows = {
      {"ID", "KIND", "CODE", "ATTEMPTS", "FAILED AT", "REASON"}};
  for (const DeadLetter& letter : dead_letters) {
    rows.push_back({OneLine(letter.id()), OneLine(letter.kind()),
                    OneLine(letter.code()), absl::StrCat(letter.attempts()),
                    FormatTimestamp(letter.failed_at()),
                    OneLine(letter.reason())});
  }
  return FormatTable(rows);
}

}  // namespace lienthong::cli
