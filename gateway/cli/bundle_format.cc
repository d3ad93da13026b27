// The bundle commands' text: a bundle's table, the list's, what changed
// between two views (bundle_commands.h).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gateway/cli/bundle_commands.h"
#include "gateway/cli/output.h"
#include "gateway/cli/sync_commands.h"
#include "gateway/validation/dates.h"

namespace lienthong::cli {
namespace {

using lienthong::v1::Bundle;

std::string Lower(absl::string_view text) {
  return absl::AsciiStrToLower(text);
}

// "BUNDLE_WAITING_FOR_OFFICER" -> "waiting for officer".
std::string StateText(int state) {
  std::string name = Lower(lienthong::v1::BundleState_Name(
      static_cast<lienthong::v1::BundleState>(state)));
  name = name.substr(name.find('_') + 1);
  for (char& c : name) c = c == '_' ? ' ' : c;
  return name;
}

std::string StepStateText(int state) {
  std::string name = Lower(lienthong::v1::StepState_Name(
      static_cast<lienthong::v1::StepState>(state)));
  return name.substr(name.find('_') + 1);
}

bool Ended(const Bundle& b) {
  return b.state() == lienthong::v1::BUNDLE_COMPLETED ||
         b.state() == lienthong::v1::BUNDLE_STOPPED;
}
// What a step shows besides its state.
std::string StepDetail(const lienthong::v1::BundleStep& step) {
  switch (step.state()) {
    case lienthong::v1::STEP_DONE: {
      std::vector<std::string> outputs;
      for (const auto& [name, value] : step.outputs()) {
        outputs.push_back(absl::StrCat(name, "=", value));
      }
      std::sort(outputs.begin(), outputs.end());
      return absl::StrJoin(outputs, " ");
    }
    case lienthong::v1::STEP_REFUSED:
      return absl::StrCat("refused: ", step.refusal_reason());
    case lienthong::v1::STEP_RUNNING:
      if (!step.last_error().empty()) {
        return absl::StrCat("retrying (", step.attempts(),
                            " calls): ", step.last_error());
      }
      return step.attempts() > 0 ? absl::StrCat(step.attempts(), " calls") : "";
    case lienthong::v1::STEP_PENDING:
      return step.after().empty()
                 ? ""
                 : absl::StrCat("after ", absl::StrJoin(step.after(), ", "));
    default:
      return "";
  }
}

std::string Deadline(const google::protobuf::Timestamp& time, bool overdue) {
  std::string text = FormatTimestamp(time);
  return overdue ? absl::StrCat(text, " OVERDUE") : text;
}

// A stop was asked for and waits for the steps with their agencies.
bool StopPending(const Bundle& b) { return b.stop_requested() && !Ended(b); }

// The steps with their agencies, "residence (Công an xã)", joined by ", ".
std::string RunningSteps(const Bundle& bundle, int* count) {
  std::vector<std::string> running;
  for (const auto& step : bundle.steps()) {
    if (step.state() == lienthong::v1::STEP_RUNNING) {
      running.push_back(
          absl::StrCat(step.name(), " (", OneLine(step.agency()), ")"));
    }
  }
  *count = static_cast<int>(running.size());
  return absl::StrJoin(running, ", ");
}

// "running" or "running, stop requested".
std::string BundleStateText(const Bundle& bundle) {
  return absl::StrCat(StateText(bundle.state()),
                      StopPending(bundle) ? ", stop requested" : "");
}

// What the head of a bundle says of a stop asked for: when it takes
// effect; "" when none was, or once it took effect (the state says so).
std::string StopText(const Bundle& bundle) {
  if (!bundle.stop_requested()) return "";
  if (bundle.state() == lienthong::v1::BUNDLE_COMPLETED) {
    return "requested, but every step was done before it took effect";
  }
  if (!StopPending(bundle)) return "";
  int count = 0;
  const std::string running = RunningSteps(bundle, &count);
  if (count == 0) return "requested";
  return absl::StrCat("takes effect once ", running,
                      count == 1 ? " has" : " have", " answered");
}

// Where an open bundle waits: its steps that are running or refused.
std::string WaitingAt(const Bundle& bundle) {
  std::vector<std::string> at;
  for (const auto& step : bundle.steps()) {
    if (step.state() == lienthong::v1::STEP_RUNNING ||
        step.state() == lienthong::v1::STEP_REFUSED) {
      at.push_back(
          absl::StrCat(step.name(), " (", StepStateText(step.state()), ")"));
    }
  }
  return absl::StrJoin(at, ", ");
}

}  // namespace

bool BundleEnded(const Bundle& bundle) { return Ended(bundle); }

std::vector<std::string> BundleChanges(const Bundle* before,
                                       const Bundle& now) {
  std::vector<std::string> lines;
  const std::string at =
      absl::FormatTime("%H:%M:%S", absl::Now(), validation::VietnamTimeZone());
  if (before == nullptr || before->state() != now.state()) {
    lines.push_back(absl::StrCat(at, "  bundle ", OneLine(now.bundle_id()),
                                 ": ", StateText(now.state())));
  }
  if (StopPending(now) && (before == nullptr || !before->stop_requested())) {
    lines.push_back(absl::StrCat(at, "  bundle ", OneLine(now.bundle_id()),
                                 ": stop requested; ", StopText(now)));
  }
  for (int i = 0; i < now.steps_size(); ++i) {
    const auto& step = now.steps(i);
    const bool changed = before == nullptr || i >= before->steps_size() ||
                         before->steps(i).state() != step.state() ||
                         before->steps(i).last_error() != step.last_error();
    if (!changed) continue;
    // The state is on the line already: a refusal shows its reason only.
    const std::string detail = step.state() == lienthong::v1::STEP_PENDING ? ""
                               : step.state() == lienthong::v1::STEP_REFUSED
                                   ? step.refusal_reason()
                                   : StepDetail(step);
    lines.push_back(absl::StrCat(at, "  ", OneLine(step.name()), " (",
                                 OneLine(step.agency()),
                                 "): ", StepStateText(step.state()),
                                 detail.empty() ? "" : "  ", OneLine(detail)));
  }
  return lines;
}

std::string FormatBundle(const Bundle& bundle) {
  KeyValueList head;
  head.Add("Bundle", bundle.bundle_id());
  head.Add("Kind",
           absl::StrCat(Lower(lienthong::v1::BundleKind_Name(bundle.kind())),
                        ": ", bundle.title()));
  head.Add("Dossier", bundle.dossier_code());
  head.Add("State", BundleStateText(bundle));
  head.Add("Created", FormatTimestamp(bundle.created()));
  head.Add("Deadline",
           absl::StrCat(Deadline(bundle.deadline(), bundle.overdue()), " (",
                        bundle.deadline_working_days(), " working days)"));
  if (bundle.has_finished())
    head.Add("Finished", FormatTimestamp(bundle.finished()));
  head.Add("Stop", StopText(bundle));
  head.Add("Stop reason", OneLine(bundle.stop_reason()));
  std::vector<std::vector<std::string>> rows = {
      {"STEP", "AGENCY", "STATE", "DEADLINE", "DETAIL"}};
  for (const auto& step : bundle.steps()) {
    rows.push_back(
        {step.name(), OneLine(step.agency()), StepStateText(step.state()),
         step.has_deadline() ? Deadline(step.deadline(), step.overdue()) : "-",
         OneLine(StepDetail(step))});
  }
  return absl::StrCat(head.ToString(), "\n", FormatTable(rows));
}

std::string StopPendingNote(const Bundle& bundle) {
  if (!StopPending(bundle)) return "";
  int count = 0;
  const std::string running = RunningSteps(bundle, &count);
  if (count == 0) return "\nStop requested: it takes effect shortly.\n";
  const char* const steps = count == 1 ? "the step with its agency has"
                                       : "the steps with their agencies have";
  return absl::StrCat("\nStop requested: it takes effect once ", steps,
                      " answered (", running,
                      "); no other step starts meanwhile.\n");
}

std::string FormatBundleList(const std::vector<Bundle>& bundles) {
  if (bundles.empty()) return "No bundles.\n";
  std::vector<std::vector<std::string>> rows = {
      {"BUNDLE", "KIND", "DOSSIER", "STATE", "DEADLINE", "WAITING AT"}};
  for (const Bundle& b : bundles) {
    rows.push_back({b.bundle_id(),
                    Lower(lienthong::v1::BundleKind_Name(b.kind())),
                    b.dossier_code(), BundleStateText(b),
                    Deadline(b.deadline(), b.overdue()), WaitingAt(b)});
  }
  return FormatTable(rows);
}

}  // namespace lienthong::cli
