#include "gateway/cli/sync_commands.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "grpcpp/client_context.h"
#include "lienthong/v1/portal.grpc.pb.h"
#include "unicode/utf8.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::DeadLetter;
using ::lienthong::v1::DossierStatus;
using ::lienthong::v1::DossierStatusUpdate;
using ::lienthong::v1::GetSyncJobRequest;
using ::lienthong::v1::ListDeadLettersRequest;
using ::lienthong::v1::ListDeadLettersResponse;
using ::lienthong::v1::PortalSyncService;
using ::lienthong::v1::Procedure;
using ::lienthong::v1::ProcedurePlan;
using ::lienthong::v1::PushDossierStatusRequest;
using ::lienthong::v1::PushDossierStatusResponse;
using ::lienthong::v1::RetryDeadLettersRequest;
using ::lienthong::v1::RetryDeadLettersResponse;
using ::lienthong::v1::SyncJob;
using ::lienthong::v1::SyncProceduresRequest;
using ::lienthong::v1::SyncProceduresResponse;
using Clock = std::chrono::steady_clock;

// Vietnam keeps UTC+7 all year (no daylight saving since 1975), so a fixed
// zone needs no tz database on the operator's machine.
constexpr int kVietnamUtcOffsetSeconds = 7 * 3600;
// Dead letters are read in pages of this many.
constexpr int kDeadLetterPageSize = 500;
constexpr absl::Duration kMaxReconnectBackoff = absl::Seconds(30);

constexpr char kSyncExamples[] =
    R"(lienthong sync procedures --file deploy/examples/catalogue.json --dry-run
lienthong sync procedures --file catalogue.csv
lienthong sync status --job JOB_ID --watch
lienthong sync dead-letters
lienthong sync dead-letters --retry
lienthong sync push --dossier 000.00.01.H31-250715-00123 \
    --procedure 1.001193.000.00.00.H31 --status PROCESSING)";

constexpr char kProceduresExamples[] =
    R"(lienthong sync procedures --file catalogue.csv --check
lienthong sync procedures --file deploy/examples/catalogue.json --dry-run --verbose
lienthong sync procedures --file catalogue.json
lienthong sync procedures --file catalogue.csv --skip-invalid --wait 600
lienthong sync procedures --file catalogue.json --withdraw-missing --no-watch --json)";

constexpr char kProceduresNotes[] =
    "The file is JSON (an array of procedures, or {\"procedures\": [...]})\n"
    "or CSV with a header row (UTF-8, a byte-order mark is fine). Keys or\n"
    "columns: code, name, field, authority_level, level,\n"
    "implementing_agency, processing_time, fees, required_documents,\n"
    "legal_basis (the portal's MaTTHC, TenTTHC, ... also do); in CSV the\n"
    "two lists are separated by ';'. code, name and level are required;\n"
    "code is G.NNNNNN.UUU.UU.UU.HPP, e.g. 1.001193.000.00.00.H31; level is\n"
    "fully_online or partly_online (or TOAN_TRINH, MOT_PHAN).\n"
    "\n"
    "The whole file is checked first and every bad row is listed (CSV: its\n"
    "line, the header being line 1; JSON: its position in the array, from\n"
    "1). Nothing is sent while a row is bad, unless --skip-invalid.\n"
    "Without --dry-run or --no-watch the command follows the job until the\n"
    "portal has acknowledged every change; Ctrl-C stops watching, not the\n"
    "job.\n"
    "\n"
    "--json prints the plan response and, when following, the finished\n"
    "job: one JSON object per line.\n"
    "\n"
    "Besides the codes below: 3 also when rows are bad; 6 also when --wait\n"
    "ran out (the job goes on); 8 when the job ended with dead letters\n"
    "(see 'lienthong sync dead-letters').";

constexpr char kStatusExamples[] =
    R"(lienthong sync status --job JOB_ID
lienthong sync status --job JOB_ID --watch
lienthong sync status --job JOB_ID --json)";

constexpr char kStatusNotes[] =
    "The job ID is printed by 'lienthong sync procedures' (\"Job ...\n"
    "queued\"). Exit code 8 when the job ended with dead letters.";

constexpr char kDeadLettersExamples[] =
    R"(lienthong sync dead-letters
lienthong sync dead-letters --json
lienthong sync dead-letters --retry
lienthong sync dead-letters --retry --id DL_ID --id DL_ID2)";

// ---------------------------------------------------------------------------
// Small helpers.

bool HasEnded(const SyncJob& job) {
  return job.state() == SyncJob::DONE ||
         job.state() == SyncJob::DONE_WITH_ERRORS;
}

std::string StateName(SyncJob::State state) {
  if (SyncJob::State_IsValid(state)) return SyncJob::State_Name(state);
  return absl::StrCat("STATE_", static_cast<int>(state));
}

ProgressCounts Counts(const SyncJob& job) {
  return {job.delivered(), job.dead_lettered(), job.total()};
}

absl::Duration Since(Clock::time_point start) {
  return absl::FromChrono(Clock::now() - start);
}

std::chrono::system_clock::time_point SystemDeadline(absl::Duration from_now) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             absl::ToChronoNanoseconds(from_now));
}

absl::TimeZone VietnamTime() {
  return absl::FixedTimeZone(kVietnamUtcOffsetSeconds);
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

int CharacterCount(absl::string_view utf8) {
  return static_cast<int>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// Server text on one table line.
std::string OneLine(absl::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return line;
}

// Rows of cells, columns padded to their widest cell (in characters); the
// last column is not padded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<int> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], CharacterCount(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) {
        line.append(static_cast<size_t>(widths[i] - CharacterCount(row[i]) + 2),
                    ' ');
      }
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

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

std::string Plural(int64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

std::string FollowHint(const std::string& job_id) {
  return absl::StrCat("'lienthong sync status --job ", job_id, " --watch'");
}

// ---------------------------------------------------------------------------
// Following a job.

enum class WatchEnd { kEnded, kWaitRanOut, kFailed };

// Follows one job with WatchSyncJob until it ends, showing progress on
// `bar` (none in JSON mode). Survives a broken stream (the gateway
// restarted) and a silent one (idle_timeout), see WatchOptions.
class JobWatcher {
 public:
  JobWatcher(PortalSyncService::Stub& stub, const CommonOptions& options,
             const WatchOptions& watch, ProgressBar* bar, std::ostream& err)
      : stub_(stub), options_(options), watch_(watch), bar_(bar), err_(err) {}

  // `job` is the state known so far (at least job_id) and becomes the last
  // state seen. On kFailed the error has been reported and `code` says how.
  WatchEnd Run(SyncJob& job, Clock::time_point start, ExitCode& code) {
    std::optional<Clock::time_point> wait_until;
    if (watch_.wait > absl::ZeroDuration()) {
      wait_until = Clock::now() + absl::ToChronoNanoseconds(watch_.wait);
    }
    int failures = 0;
    while (true) {
      grpc::ClientContext context;
      if (wait_until.has_value()) {
        context.set_deadline(
            SystemDeadline(absl::FromChrono(*wait_until - Clock::now())));
      }
      bool idle = false;
      bool got_message = false;
      grpc::Status status = ReadStream(context, job, start, idle, got_message);
      if (HasEnded(job)) return WatchEnd::kEnded;
      // The stream's only deadline is --wait (gRPC's clock may call it a
      // hair before ours does).
      if (wait_until.has_value() &&
          (Clock::now() >= *wait_until ||
           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
        return WatchEnd::kWaitRanOut;
      }
      if (got_message) failures = 0;
      if (idle || status.ok()) {
        // Silent for too long, or closed before the end: ask directly.
        grpc::Status polled = Poll(job);
        if (polled.ok() && HasEnded(job)) return WatchEnd::kEnded;
        // Silent but answering: open the stream again.
        if (polled.ok() && idle) continue;
        if (!polled.ok()) status = polled;
      }
      // Worth another try: the gateway restarting (UNAVAILABLE), too slow
      // to answer the poll, or closing the stream early.
      const bool retryable =
          status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      if (!retryable) {
        if (bar_ != nullptr) bar_->Break();
        code = ReportRpcError(status, err_);
        if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
          err_ << "lienthong: the job goes on; follow it with "
               << FollowHint(job.job_id()) << "\n";
        }
        return WatchEnd::kFailed;
      }
      if (++failures > watch_.max_reconnects) {
        if (bar_ != nullptr) bar_->Break();
        code = status.ok() ? ExitCode::kOther : ReportRpcError(status, err_);
        if (status.ok()) {
          err_ << "lienthong: the gateway keeps closing the progress stream "
                  "before the job ends\n";
        }
        err_ << "lienthong: gave up watching; the job goes on: follow it "
                "with "
             << FollowHint(job.job_id()) << "\n";
        return WatchEnd::kFailed;
      }
      absl::Duration backoff = watch_.reconnect_backoff;
      for (int i = 1; i < failures && backoff < kMaxReconnectBackoff; ++i) {
        backoff *= 2;
      }
      backoff = std::min(backoff, kMaxReconnectBackoff);
      if (wait_until.has_value()) {
        backoff =
            std::min(backoff, absl::FromChrono(*wait_until - Clock::now()));
      }
      if (bar_ != nullptr) bar_->Break();
      err_ << "lienthong: lost the progress stream ("
           << (status.ok()
                   ? std::string("closed early")
                   : absl::StrCat(GrpcCodeName(status.error_code()), ": ",
                                  OneLine(status.error_message())))
           << "); reconnecting in " << FormatElapsed(backoff) << "\n";
      if (backoff > absl::ZeroDuration()) {
        std::this_thread::sleep_for(absl::ToChronoNanoseconds(backoff));
      }
    }
  }

 private:
  // Shared between the reading thread and the ticker.
  struct Shared {
    std::mutex mu;
    std::condition_variable wake;
    bool stop = false;
    bool idle = false;
    SyncJob latest;
    Clock::time_point last_message;
  };

  void Show(const SyncJob& job, Clock::time_point start) {
    if (bar_ == nullptr) return;
    bar_->Show(Counts(job), FormatJobProgress(job, Since(start)), absl::Now());
  }

  // One WatchSyncJob stream, read until the job ends or the stream does.
  // A ticker thread refreshes the display and cancels the stream when it is
  // silent for idle_timeout (`idle` is then set).
  grpc::Status ReadStream(grpc::ClientContext& context, SyncJob& job,
                          Clock::time_point start, bool& idle,
                          bool& got_message) {
    Shared shared;
    shared.latest = job;
    shared.last_message = Clock::now();
    std::thread ticker([&] {
      std::unique_lock<std::mutex> lock(shared.mu);
      while (!shared.stop) {
        shared.wake.wait_for(lock, absl::ToChronoNanoseconds(watch_.tick));
        if (shared.stop) break;
        Show(shared.latest, start);
        if (!shared.idle &&
            Clock::now() - shared.last_message >=
                absl::ToChronoNanoseconds(watch_.idle_timeout)) {
          shared.idle = true;
          context.TryCancel();
        }
      }
    });

    GetSyncJobRequest request;
    request.set_job_id(job.job_id());
    std::unique_ptr<grpc::ClientReader<SyncJob>> reader =
        stub_.WatchSyncJob(&context, request);
    SyncJob message;
    bool ended = false;
    while (!ended && reader->Read(&message)) {
      std::lock_guard<std::mutex> lock(shared.mu);
      got_message = true;
      shared.latest = message;
      shared.last_message = Clock::now();
      ended = HasEnded(message);
      if (!ended) Show(message, start);
    }
    // The last message was the end: do not wait for the server to close.
    if (ended) context.TryCancel();
    grpc::Status status = reader->Finish();
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      shared.stop = true;
      idle = shared.idle && !ended;
      job = shared.latest;
    }
    shared.wake.notify_all();
    ticker.join();
    return ended ? grpc::Status::OK : status;
  }

  grpc::Status Poll(SyncJob& job) {
    grpc::ClientContext context;
    SetDeadline(options_.connection, context);
    GetSyncJobRequest request;
    request.set_job_id(job.job_id());
    SyncJob answer;
    grpc::Status status = stub_.GetSyncJob(&context, request, &answer);
    if (status.ok()) job = answer;
    return status;
  }

  PortalSyncService::Stub& stub_;
  const CommonOptions& options_;
  const WatchOptions& watch_;
  ProgressBar* const bar_;
  std::ostream& err_;
};

// Prints how the job ended; returns kOk or kExitJobHasDeadLetters.
ExitCode ReportJobEnd(const SyncJob& job, absl::Duration elapsed, bool json,
                      std::ostream& out, std::ostream& err) {
  if (json) {
    if (ExitCode code = PrintJson(job, out, err); code != ExitCode::kOk) {
      return code;
    }
  }
  if (job.state() == SyncJob::DONE) {
    if (!json) {
      out << "Done: the portal acknowledged "
          << Plural(job.delivered(), "change", "changes") << " in "
          << FormatElapsed(elapsed) << ".\n";
    }
    return ExitCode::kOk;
  }
  if (!json) {
    out << "Done with errors: " << job.delivered() << " delivered, "
        << job.dead_lettered() << " dead-lettered, in "
        << FormatElapsed(elapsed) << ".\n";
  }
  err << "lienthong: the portal refused "
      << Plural(job.dead_lettered(), "change", "changes")
      << " for good: see why with 'lienthong sync dead-letters', and requeue "
         "with 'lienthong sync dead-letters --retry' once the cause is "
         "fixed\n";
  return kExitJobHasDeadLetters;
}

// Follows `job` to its end with a progress display; see RunSyncProcedures.
ExitCode FollowJob(PortalSyncService::Stub& stub, SyncJob job,
                   const CommonOptions& options, const WatchOptions& watch,
                   std::ostream& out, std::ostream& err) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<ProgressBar> bar;
  if (!options.json) {
    bar = std::make_unique<ProgressBar>(out,
                                        watch.terminal
                                            ? ProgressBar::Mode::kTerminal
                                            : ProgressBar::Mode::kPlain,
                                        watch.plain_interval);
    out << "Watching until the portal has acknowledged every change "
           "(Ctrl-C stops watching, not the job).\n";
    bar->Show(Counts(job), FormatJobProgress(job, absl::ZeroDuration()),
              absl::Now());
  }
  JobWatcher watcher(stub, options, watch, bar.get(), err);
  ExitCode code = ExitCode::kOk;
  switch (watcher.Run(job, start, code)) {
    case WatchEnd::kEnded:
      if (bar != nullptr) {
        bar->Finish(Counts(job), FormatJobProgress(job, Since(start)));
      }
      return ReportJobEnd(job, Since(start), options.json, out, err);
    case WatchEnd::kWaitRanOut:
      if (bar != nullptr) bar->Break();
      if (options.json) PrintJson(job, out, err);
      err << "lienthong: still " << StateName(job.state()) << " after --wait "
          << FormatElapsed(watch.wait) << "; the job goes on: follow it with "
          << FollowHint(job.job_id()) << "\n";
      return ExitCode::kDeadlineExceeded;
    case WatchEnd::kFailed:
      return code;
  }
  return ExitCode::kOther;
}

// Prints every row error of `catalogue` under a heading line.
void ReportRowErrors(const Catalogue& catalogue, absl::string_view heading,
                     std::ostream& err) {
  err << "lienthong: " << heading << "\n";
  bool encoding = false;
  for (const CatalogueRowError& error : catalogue.errors) {
    err << "  " << FormatCatalogueRowError(error) << "\n";
    encoding = encoding || absl::StrContains(error.message, "invalid UTF-8");
  }
  if (encoding) {
    err << "lienthong: hint: save the file as UTF-8 (\"CSV UTF-8\" in a "
           "spreadsheet); older tools write Windows-1258 or TCVN3\n";
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Parsing and formatting.

absl::StatusOr<DossierStatus> ParseDossierStatus(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  int number = 0;
  DossierStatus status = lienthong::v1::DOSSIER_STATUS_UNSPECIFIED;
  if (AllDigits(text)) {
    if (absl::SimpleAtoi(text, &number) &&
        lienthong::v1::DossierStatus_IsValid(number)) {
      status = static_cast<DossierStatus>(number);
    }
  } else {
    std::string name = absl::AsciiStrToUpper(text);
    std::replace(name.begin(), name.end(), '-', '_');
    std::replace(name.begin(), name.end(), ' ', '_');
    lienthong::v1::DossierStatus_Parse(name, &status);
  }
  if (status != lienthong::v1::DOSSIER_STATUS_UNSPECIFIED) return status;
  std::vector<std::string> names;
  const auto* values = lienthong::v1::DossierStatus_descriptor();
  for (int i = 0; i < values->value_count(); ++i) {
    if (values->value(i)->number() == 0) continue;
    names.push_back(absl::StrCat(values->value(i)->number(), " ",
                                 values->value(i)->name()));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expected a number or name: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<google::protobuf::Timestamp> ParseVietnamTime(
    absl::string_view text) {
  std::string local(absl::StripAsciiWhitespace(text));
  if (local.size() == 14 && AllDigits(local)) {
    // The portal's yyyyMMddHHmmss: absl's %Y would take every digit.
    local = absl::StrCat(local.substr(0, 4), "-", local.substr(4, 2), "-",
                         local.substr(6, 2), " ", local.substr(8, 2), ":",
                         local.substr(10, 2), ":", local.substr(12, 2));
  }
  absl::Time time;
  std::string ignored;
  bool parsed = absl::ParseTime(absl::RFC3339_full, local, &time, &ignored);
  for (const char* format : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"}) {
    if (parsed) break;
    parsed = absl::ParseTime(format, local, VietnamTime(), &time, &ignored);
  }
  if (!parsed) {
    return absl::InvalidArgumentError(
        "expected 2025-07-15T10:12:03+07:00, \"2025-07-15 10:12:03\" "
        "(Vietnam's time) or 20250715101203");
  }
  if (time < absl::FromCivil(absl::CivilSecond(2000, 1, 1), VietnamTime())) {
    return absl::InvalidArgumentError("before the year 2000");
  }
  google::protobuf::Timestamp timestamp;
  const int64_t seconds = absl::ToUnixSeconds(time);
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return timestamp;
}

absl::StatusOr<google::protobuf::Timestamp> ParseStatusTime(
    absl::string_view text, absl::Time now) {
  text = absl::StripAsciiWhitespace(text);
  absl::Time time = now;
  if (!text.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> parsed = ParseVietnamTime(text);
    if (!parsed.ok()) return parsed.status();
    time = absl::FromUnixSeconds(parsed->seconds()) +
           absl::Nanoseconds(parsed->nanos());
    if (time > now + absl::Hours(1)) {
      return absl::InvalidArgumentError("more than an hour in the future");
    }
  }
  google::protobuf::Timestamp timestamp;
  const int64_t seconds = absl::ToUnixSeconds(time);
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return timestamp;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S +07",
                          absl::FromUnixSeconds(time.seconds()), VietnamTime());
}

std::string FormatPlanSummary(const SyncProceduresResponse& response) {
  return absl::StrCat("Plan: ", response.creates(), " to create, ",
                      response.updates(), " to update, ", response.unchanged(),
                      " unchanged, ", response.withdrawals(), " to withdraw.");
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
  return Table(rows);
}

std::string FormatJobProgress(const SyncJob& job, absl::Duration elapsed) {
  return absl::StrCat(job.delivered(), "/", job.total(), " delivered, ",
                      job.dead_lettered(), " dead-lettered, ",
                      FormatElapsed(elapsed));
}

std::string FormatJobStatus(const SyncJob& job) {
  KeyValueList list;
  list.Add("Job", job.job_id());
  list.Add("State", StateName(job.state()));
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
  return Table(rows);
}

// ---------------------------------------------------------------------------
// Commands.

ExitCode RunSyncProcedures(const SyncProceduresArgs& args,
                           const CommonOptions& options,
                           const WatchOptions& watch, std::ostream& out,
                           std::ostream& err) {
  if (args.file.empty()) {
    return ReportUsageError(
        absl::InvalidArgumentError("--file is required: the catalogue, "
                                   ".json or .csv"),
        err);
  }
  if (args.skip_invalid && args.withdraw_missing) {
    return ReportUsageError(
        absl::InvalidArgumentError(
            "--skip-invalid cannot go with --withdraw-missing: the "
            "procedures of the skipped rows would be withdrawn from the "
            "portal"),
        err);
  }
  if (absl::StatusOr<CatalogueFormat> format =
          CatalogueFormatFromPath(args.file);
      !format.ok()) {
    return ReportUsageError(
        absl::InvalidArgumentError(absl::StrCat("--file ", args.file, ": ",
                                                format.status().message())),
        err);
  }
  absl::StatusOr<Catalogue> catalogue = ReadCatalogueFile(args.file);
  if (!catalogue.ok()) {
    if (catalogue.status().code() != absl::StatusCode::kInvalidArgument) {
      return ReportUsageError(catalogue.status(), err);
    }
    err << "lienthong: " << OneLine(catalogue.status().message())
        << "; nothing was sent\n";
    return ExitCode::kInvalidArgument;
  }
  if (!catalogue->errors.empty()) {
    const std::string counts =
        absl::StrCat(catalogue->BadRowCount(), " of ",
                     Plural(catalogue->rows, "row", "rows"));
    if (args.check_only) {
      ReportRowErrors(*catalogue,
                      absl::StrCat(args.file, ": ", counts, " bad:"), err);
      return ExitCode::kInvalidArgument;
    }
    if (!args.skip_invalid) {
      ReportRowErrors(
          *catalogue,
          absl::StrCat(args.file, ": ", counts, " bad; nothing was sent:"),
          err);
      err << "lienthong: fix them, or send only the good rows with "
             "--skip-invalid\n";
      return ExitCode::kInvalidArgument;
    }
    ReportRowErrors(*catalogue,
                    absl::StrCat(args.file, ": skipping ", counts, ":"), err);
    if (catalogue->procedures.empty()) {
      err << "lienthong: no good rows to send\n";
      return ExitCode::kInvalidArgument;
    }
  }
  if (args.check_only) {
    out << args.file << ": "
        << Plural(static_cast<int64_t>(catalogue->procedures.size()),
                  "procedure", "procedures")
        << ", every row good.\n";
    return ExitCode::kOk;
  }

  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = PortalSyncService::NewStub(*channel);

  SyncProceduresRequest request;
  request.mutable_procedures()->Reserve(
      static_cast<int>(catalogue->procedures.size()));
  for (const Procedure& procedure : catalogue->procedures) {
    *request.add_procedures() = procedure;
  }
  request.set_dry_run(args.dry_run);
  request.set_withdraw_missing(args.withdraw_missing);
  SyncProceduresResponse response;
  {
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    grpc::Status status = stub->SyncProcedures(&context, request, &response);
    if (!status.ok()) return ReportRpcError(status, err);
  }

  if (options.json) {
    if (ExitCode code = PrintJson(response, out, err); code != ExitCode::kOk) {
      return code;
    }
  } else {
    out << "Catalogue " << args.file << ": "
        << Plural(request.procedures_size(), "procedure", "procedures") << ".\n"
        << FormatPlanSummary(response) << "\n";
    if (args.verbose) {
      out << FormatPlanDetails(response, catalogue->procedures);
    }
  }
  if (args.dry_run) {
    if (!options.json) out << "Dry run: nothing was queued.\n";
    return ExitCode::kOk;
  }
  if (response.job_id().empty()) {
    if (!options.json) {
      out << "Nothing to change: the portal has this catalogue already.\n";
    }
    return ExitCode::kOk;
  }
  if (!options.json) out << "Job " << response.job_id() << " queued.\n";
  if (args.no_watch) {
    if (!options.json) {
      out << "Follow it with " << FollowHint(response.job_id()) << ".\n";
    }
    return ExitCode::kOk;
  }
  SyncJob job;
  job.set_job_id(response.job_id());
  job.set_state(SyncJob::QUEUED);
  job.set_total(response.creates() + response.updates() +
                response.withdrawals());
  return FollowJob(*stub, job, options, watch, out, err);
}

ExitCode RunSyncStatus(const SyncStatusArgs& args, const CommonOptions& options,
                       const WatchOptions& watch, std::ostream& out,
                       std::ostream& err) {
  if (absl::StripAsciiWhitespace(args.job_id).empty()) {
    return ReportUsageError(
        absl::InvalidArgumentError(
            "--job is required: give the job ID that 'lienthong sync "
            "procedures' printed (\"Job ... queued\")"),
        err);
  }
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = PortalSyncService::NewStub(*channel);

  SyncJob job;
  {
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    GetSyncJobRequest request;
    request.set_job_id(args.job_id);
    grpc::Status status = stub->GetSyncJob(&context, request, &job);
    if (!status.ok()) return ReportRpcError(status, err);
  }
  if (!args.watch || HasEnded(job)) {
    if (options.json) {
      if (ExitCode code = PrintJson(job, out, err); code != ExitCode::kOk) {
        return code;
      }
    } else {
      out << FormatJobStatus(job);
    }
    if (job.state() == SyncJob::DONE_WITH_ERRORS) {
      err << "lienthong: the job ended with dead letters: see them with "
             "'lienthong sync dead-letters'\n";
      return kExitJobHasDeadLetters;
    }
    return ExitCode::kOk;
  }
  if (!options.json) out << FormatJobStatus(job);
  if (job.job_id().empty()) job.set_job_id(args.job_id);
  return FollowJob(*stub, job, options, watch, out, err);
}

ExitCode RunDeadLetters(const DeadLettersArgs& args,
                        const CommonOptions& options, std::ostream& out,
                        std::ostream& err) {
  if (!args.retry && !args.ids.empty()) {
    return ReportUsageError(absl::InvalidArgumentError("--id needs --retry"),
                            err);
  }
  for (const std::string& id : args.ids) {
    if (absl::StripAsciiWhitespace(id).empty()) {
      return ReportUsageError(absl::InvalidArgumentError("--id is empty"), err);
    }
  }
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = PortalSyncService::NewStub(*channel);

  if (args.retry) {
    RetryDeadLettersRequest request;
    for (const std::string& id : args.ids) request.add_ids(id);
    RetryDeadLettersResponse response;
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    grpc::Status status = stub->RetryDeadLetters(&context, request, &response);
    if (!status.ok()) return ReportRpcError(status, err);
    if (options.json) return PrintJson(response, out, err);
    out << "Requeued "
        << Plural(response.requeued(), "dead letter", "dead letters")
        << (response.requeued() > 0
                ? "; follow the deliveries with 'lienthong sync dead-letters' "
                  "and 'lienthong sync status'.\n"
                : ".\n");
    return ExitCode::kOk;
  }

  std::vector<DeadLetter> dead_letters;
  std::string token;
  while (true) {
    ListDeadLettersRequest request;
    request.set_page_size(kDeadLetterPageSize);
    request.set_page_token(token);
    ListDeadLettersResponse response;
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    grpc::Status status = stub->ListDeadLetters(&context, request, &response);
    if (!status.ok()) return ReportRpcError(status, err);
    for (DeadLetter& letter : *response.mutable_dead_letters()) {
      dead_letters.push_back(std::move(letter));
    }
    if (response.next_page_token().empty()) break;
    if (response.next_page_token() == token) {
      err << "lienthong: the gateway returned the same page token twice; "
             "stopping\n";
      return ExitCode::kOther;
    }
    token = response.next_page_token();
  }
  if (options.json) {
    for (const DeadLetter& letter : dead_letters) {
      if (ExitCode code = PrintJson(letter, out, err); code != ExitCode::kOk) {
        return code;
      }
    }
    return ExitCode::kOk;
  }
  out << FormatDeadLetterTable(dead_letters);
  if (!dead_letters.empty()) {
    out << "\n"
        << Plural(static_cast<int64_t>(dead_letters.size()), "dead letter",
                  "dead letters")
        << ". Requeue with 'lienthong sync dead-letters --retry' (all) or "
           "--retry --id ID ... once the cause is fixed.\n";
  }
  return ExitCode::kOk;
}

void RegisterSyncCommands(CLI::App& root, CommandContext& context) {
  CLI::App* sync = root.add_subcommand(
      "sync",
      "Synchronise with the National Public Service Portal: the procedure "
      "catalogue, dossier statuses and what the portal refused");
  sync->require_subcommand(1);
  sync->footer(HelpFooter(kSyncExamples));
  const bool terminal = IsTerminal(context.out);

  {
    CLI::App* command = sync->add_subcommand(
        "procedures",
        "Validate a catalogue file, show the plan against the portal and "
        "publish it, following the job until the portal has everything");
    auto args = std::make_shared<SyncProceduresArgs>();
    auto options = std::make_shared<CommonOptions>();
    auto wait = std::make_shared<double>(0);
    command
        ->add_option("--file", args->file,
                     "The catalogue: .json or .csv (see below)")
        ->type_name("FILE")
        ->required();
    command->add_flag("--check", args->check_only,
                      "Only validate the file; connect to nothing");
    command->add_flag("--dry-run", args->dry_run,
                      "Show the plan; queue nothing");
    command->add_flag("--skip-invalid", args->skip_invalid,
                      "Send the good rows and list the skipped bad ones "
                      "(default: send nothing while a row is bad)");
    command->add_flag("--withdraw-missing", args->withdraw_missing,
                      "Withdraw from the portal the procedures this file "
                      "does not have");
    command->add_flag("-v,--verbose", args->verbose,
                      "Show the plan per procedure code");
    command->add_flag("--no-watch", args->no_watch,
                      "Return once the job is queued");
    command
        ->add_option("--wait", *wait,
                     "Stop watching after this long (the job goes on); 0 = "
                     "until the job ends")
        ->type_name("SECONDS")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    AddCommonOptions(*command, *options);
    command->footer(HelpFooter(kProceduresExamples, kProceduresNotes));
    command->callback([args, options, wait, terminal, &context] {
      WatchOptions watch;
      watch.terminal = terminal;
      watch.wait = absl::Seconds(*wait);
      context.exit_code =
          RunSyncProcedures(*args, *options, watch, context.out, context.err);
    });
  }
  {
    CLI::App* command = sync->add_subcommand(
        "status", "Show a sync job's state, or follow it to its end");
    auto args = std::make_shared<SyncStatusArgs>();
    auto options = std::make_shared<CommonOptions>();
    auto wait = std::make_shared<double>(0);
    command
        ->add_option("--job", args->job_id,
                     "Job ID, as 'lienthong sync procedures' printed it")
        ->type_name("ID");
    command->add_flag("--watch", args->watch,
                      "Follow the job with a progress display until it "
                      "ends");
    command
        ->add_option("--wait", *wait,
                     "With --watch: stop after this long; 0 = until the job "
                     "ends")
        ->type_name("SECONDS")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    AddCommonOptions(*command, *options);
    command->footer(HelpFooter(kStatusExamples, kStatusNotes));
    command->callback([args, options, wait, terminal, &context] {
      WatchOptions watch;
      watch.terminal = terminal;
      watch.wait = absl::Seconds(*wait);
      context.exit_code =
          RunSyncStatus(*args, *options, watch, context.out, context.err);
    });
  }
  {
    CLI::App* command = sync->add_subcommand(
        "dead-letters",
        "List the changes the portal refused for good, with its reasons; "
        "requeue them with --retry");
    auto args = std::make_shared<DeadLettersArgs>();
    auto options = std::make_shared<CommonOptions>();
    CLI::Option* retry = command->add_flag(
        "--retry", args->retry,
        "Requeue the dead letters (all, or those given with --id)");
    command
        ->add_option("--id", args->ids,
                     "With --retry: a dead letter to requeue (repeatable, or "
                     "comma-separated)")
        ->type_name("ID")
        ->delimiter(',')
        ->needs(retry);
    AddCommonOptions(*command, *options);
    command->footer(HelpFooter(kDeadLettersExamples,
                               "--json prints one JSON object per dead "
                               "letter, one per line."));
    command->callback([args, options, &context] {
      context.exit_code =
          RunDeadLetters(*args, *options, context.out, context.err);
    });
  }
  AddPushCommand(*sync, context);
}

}  // namespace lienthong::cli
