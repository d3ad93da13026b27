// `lienthong sync push`: dossier status changes, with the dossier's
// registration, from options or from a JSON file (declared in
// sync_commands.h).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/cli/args.h"
#include "gateway/cli/output.h"
#include "gateway/cli/read_file.h"
#include "gateway/cli/sync_commands.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/validation/codes.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "lienthong/v1/portal.grpc.pb.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::DossierStatusUpdate;
using ::lienthong::v1::PortalSyncService;
using ::lienthong::v1::PushDossierStatusRequest;
using ::lienthong::v1::PushDossierStatusResponse;

// As the gateway takes them (gateway/sync/portal_sync_service.h).
constexpr int kMaxUpdatesPerCall = 10000;
// A file of updates larger than this is refused unread.
constexpr size_t kMaxFileBytes = 256 << 20;

constexpr char kPushExamples[] =
    R"(lienthong sync push --dossier 000.00.01.H31-250715-00123 \
    --procedure 1.001193.000.00.00.H31 --status NEW \
    --procedure-name "Đăng ký khai sinh" --field-code G09-TP05 \
    --field-name "Hộ tịch" --applicant-name "Trần Thị Mai" \
    --phone 0912345678 --summary "Khai sinh cho con" \
    --received "2025-07-15 08:00:00" --due "2025-07-18 17:00:00" \
    --handling-unit "UBND xã Tân Hưng"
lienthong sync push --dossier 000.00.01.H31-250715-00123 \
    --procedure 1.001193.000.00.00.H31 --status PROCESSING \
    --handler "Nguyễn Văn Cán" --title "Công chức tư pháp - hộ tịch" \
    --department "Bộ phận một cửa" --note "Thẩm định hồ sơ" \
    --step-due "2025-07-17 17:00:00"
lienthong sync push --file updates.json)";

constexpr char kPushNotes[] =
    "--status: 1 NEW, 2 ACCEPTED, 3 REFUSED, 4 PROCESSING,\n"
    "5 MORE_DOCUMENTS_NEEDED, 6 PAYMENT_REQUIRED, 7 WITHDRAWN, 8 STOPPED,\n"
    "9 FINISHED, 10 RESULT_RETURNED. Times without a zone are Vietnam's\n"
    "time (UTC+7); --time defaults to now.\n"
    "\n"
    "The portal shows the progress only of dossiers registered with it: the\n"
    "first update of a dossier must carry its registration (the\n"
    "--procedure-name ... options; --procedure-name, --field-code,\n"
    "--field-name, --applicant-name, --summary, --received and\n"
    "--handling-unit are then required). Given again later, a changed\n"
    "registration is sent again before that update.\n"
    "\n"
    "--file takes a JSON PushDossierStatusRequest with field names as in\n"
    "portal.proto, e.g. {\"updates\": [{\"dossier_code\": \"...\",\n"
    "\"procedure_code\": \"...\", \"status\": \"NEW\", \"time\":\n"
    "\"2025-07-15T01:00:00Z\", \"registration\": {\"procedure_name\": ...,\n"
    "\"applicant\": {\"name\": ..., \"type\": \"APPLICANT_CITIZEN\"}, "
    "...}}]};\n"
    "every update is checked before any is sent, and they go in calls of at\n"
    "most 10,000 updates and --max-batch-bytes bytes.\n"
    "\n"
    "An impossible transition is refused with FAILED_PRECONDITION (exit 7).";

absl::Status Usage(absl::string_view option, const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat(option, ": ", status.message()));
}

// Sets `*out` from the time option `value` when given.
absl::Status OptionalTime(absl::string_view option, const std::string& value,
                          google::protobuf::Timestamp* out) {
  if (value.empty()) return absl::OkStatus();
  absl::StatusOr<google::protobuf::Timestamp> time = ParseVietnamTime(value);
  if (!time.ok()) return Usage(option, time.status());
  *out = *time;
  return absl::OkStatus();
}

// The gateway's refusal "<field>: why" told with the option's name.
absl::Status AsOptionError(const absl::Status& status) {
  static constexpr std::pair<absl::string_view, absl::string_view> kOptions[] =
      {{"handler", "--handler"},
       {"note", "--note"},
       {"handler_title", "--title"},
       {"department", "--department"},
       {"step_start", "--step-start"},
       {"step_due", "--step-due"},
       {"registration.procedure_name", "--procedure-name"},
       {"registration.field_code", "--field-code"},
       {"registration.field_name", "--field-name"},
       {"registration.applicant.name", "--applicant-name"},
       {"registration.applicant.type", "--applicant-type"},
       {"registration.applicant.id", "--applicant-id"},
       {"registration.applicant.email", "--email"},
       {"registration.applicant.phone", "--phone"},
       {"registration.summary", "--summary"},
       {"registration.received", "--received"},
       {"registration.due", "--due"},
       {"registration.returned", "--returned"},
       {"registration.finished", "--finished"},
       {"registration.handling_unit", "--handling-unit"},
       {"registration.note", "--registration-note"}};
  absl::string_view message = status.message();
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) return status;
  for (const auto& [field, option] : kOptions) {
    if (message.substr(0, colon) == field) {
      return absl::InvalidArgumentError(
          absl::StrCat(option, message.substr(colon)));
    }
  }
  return status;
}

bool WantsRegistration(const PushArgs& a) {
  for (const std::string* value :
       {&a.procedure_name, &a.field_code, &a.field_name, &a.applicant_name,
        &a.applicant_type, &a.applicant_id, &a.email, &a.phone, &a.summary,
        &a.received, &a.due, &a.handling_unit, &a.registration_note}) {
    if (!value->empty()) return true;
  }
  return a.result_by_post;
}

absl::Status AddRegistration(const PushArgs& a, DossierStatusUpdate& update) {
  lienthong::v1::DossierRegistration& r = *update.mutable_registration();
  r.set_procedure_name(a.procedure_name);
  r.set_field_code(a.field_code);
  r.set_field_name(a.field_name);
  lienthong::v1::Applicant& applicant = *r.mutable_applicant();
  applicant.set_name(a.applicant_name);
  const std::string type = absl::AsciiStrToLower(a.applicant_type);
  if (type.empty() || type == "citizen") {
    applicant.set_type(lienthong::v1::APPLICANT_CITIZEN);
  } else if (type == "organisation" || type == "organization") {
    applicant.set_type(lienthong::v1::APPLICANT_ORGANISATION);
  } else {
    return absl::InvalidArgumentError(
        "--applicant-type: expected citizen or organisation");
  }
  applicant.set_id(a.applicant_id);
  applicant.set_email(a.email);
  applicant.set_phone(a.phone);
  r.set_summary(a.summary);
  r.set_handling_unit(a.handling_unit);
  r.set_result_by_post(a.result_by_post);
  r.set_note(a.registration_note);
  if (absl::Status s = OptionalTime("--received", a.received,
                                    r.mutable_received());
      !s.ok()) {
    return s;
  }
  if (a.received.empty()) r.clear_received();
  if (absl::Status s = OptionalTime("--due", a.due, r.mutable_due()); !s.ok()) {
    return s;
  }
  if (a.due.empty()) r.clear_due();
  return absl::OkStatus();
}

void PrintPushed(const PushDossierStatusRequest& request,
                 const PushDossierStatusResponse& response, std::ostream& out) {
  if (request.updates_size() == 1) {
    const DossierStatusUpdate& update = request.updates(0);
    const std::string what = absl::StrCat(
        "dossier ", update.dossier_code(), ", status ",
        static_cast<int>(update.status()), " ",
        sync::DossierStatusName(update.status()), " at ",
        FormatTimestamp(update.time()));
    if (response.accepted() > 0) {
      out << "Queued for the portal: " << what;
    } else if (response.duplicates() > 0) {
      out << "Accepted earlier, not queued again: " << what;
    } else {
      out << "The gateway queued nothing for " << what;
    }
    if (response.registrations() > 0) {
      out << ", after the dossier's registration";
    }
    out << ".\n";
    return;
  }
  out << "Queued for the portal: " << response.accepted() << " of "
      << request.updates_size() << " updates and " << response.registrations()
      << " registrations; " << response.duplicates()
      << " repeats of updates accepted earlier, not queued again.\n";
}

}  // namespace

absl::StatusOr<PushDossierStatusRequest> BuildPushRequest(const PushArgs& args,
                                                          absl::Time now) {
  PushDossierStatusRequest request;
  DossierStatusUpdate& update = *request.add_updates();
  if (absl::Status s =
          validation::ValidateDossierCode(args.dossier_code, "--dossier");
      !s.ok()) {
    return s;
  }
  update.set_dossier_code(args.dossier_code);
  if (absl::Status s = validation::ValidateProvincialProcedureCode(
          args.procedure_code, "--procedure");
      !s.ok()) {
    return s;
  }
  update.set_procedure_code(args.procedure_code);
  absl::StatusOr<lienthong::v1::DossierStatus> status =
      ParseDossierStatus(args.status);
  if (!status.ok()) return Usage("--status", status.status());
  update.set_status(*status);
  absl::StatusOr<google::protobuf::Timestamp> time =
      ParseStatusTime(args.time, now);
  if (!time.ok()) return Usage("--time", time.status());
  *update.mutable_time() = *time;
  update.set_handler(args.handler);
  update.set_note(args.note);
  update.set_handler_title(args.handler_title);
  update.set_department(args.department);
  if (absl::Status s = OptionalTime("--step-start", args.step_start,
                                    update.mutable_step_start());
      !s.ok()) {
    return s;
  }
  if (args.step_start.empty()) update.clear_step_start();
  if (absl::Status s = OptionalTime("--step-due", args.step_due,
                                    update.mutable_step_due());
      !s.ok()) {
    return s;
  }
  if (args.step_due.empty()) update.clear_step_due();
  if (WantsRegistration(args)) {
    if (absl::Status s = AddRegistration(args, update); !s.ok()) return s;
  }
  // The gateway's own rules, so a refusal comes before any connection.
  if (absl::Status s = sync::ValidateDossierUpdate(update, now); !s.ok()) {
    return AsOptionError(s);
  }
  return request;
}

absl::StatusOr<PushDossierStatusRequest> ParsePushFile(absl::string_view json,
                                                       absl::Time now) {
  PushDossierStatusRequest request;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (auto parsed = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), &request,
          options);
      !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a PushDossierStatusRequest in JSON: ",
                     JsonParseReason(std::string(parsed.message()), json)));
  }
  if (request.updates_size() == 0) {
    return absl::InvalidArgumentError("the file has no updates");
  }
  for (int i = 0; i < request.updates_size(); ++i) {
    if (absl::Status s = sync::ValidateDossierUpdate(request.updates(i), now);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "].", s.message()));
    }
  }
  return request;
}

namespace {

// Returns the updates to push: read from --file, or built from the options.
// Fails with INVALID_ARGUMENT, a usage error, when the file cannot be read
// or parsed, or options are missing, mixed with --file or malformed.
absl::StatusOr<PushDossierStatusRequest> PushRequestFromArgs(
    const PushArgs& args) {
  if (args.file.empty()) {
    for (const auto& [option, value] :
         {std::pair<const char*, const std::string&>{"--dossier",
                                                     args.dossier_code},
          {"--procedure", args.procedure_code},
          {"--status", args.status}}) {
      if (value.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(option, " is required (or --file)"));
      }
    }
    return BuildPushRequest(args, absl::Now());
  }
  const std::string* update_options[] = {&args.dossier_code,
                                         &args.procedure_code,
                                         &args.status,
                                         &args.time,
                                         &args.handler,
                                         &args.note,
                                         &args.handler_title,
                                         &args.department,
                                         &args.step_start,
                                         &args.step_due,
                                         &args.procedure_name,
                                         &args.field_code,
                                         &args.field_name,
                                         &args.applicant_name,
                                         &args.applicant_type,
                                         &args.applicant_id,
                                         &args.email,
                                         &args.phone,
                                         &args.summary,
                                         &args.received,
                                         &args.due,
                                         &args.handling_unit,
                                         &args.registration_note};
  if (args.result_by_post ||
      std::any_of(std::begin(update_options), std::end(update_options),
                  [](const std::string* value) { return !value->empty(); })) {
    return absl::InvalidArgumentError(
        "--file takes the updates from the file: leave out --dossier, "
        "--status and the other update options");
  }
  absl::StatusOr<std::string> json = ReadFileAtMost(args.file, kMaxFileBytes);
  if (!json.ok()) return Usage("--file", json.status());
  absl::StatusOr<PushDossierStatusRequest> request =
      ParsePushFile(*json, absl::Now());
  if (!request.ok()) return Usage("--file", request.status());
  return request;
}

// Returns the bytes `update` adds to a PushDossierStatusRequest: a message's
// encoding is its fields' one after the other, here field 1's tag (one
// byte), the update's length and the update.
size_t EncodedSize(const DossierStatusUpdate& update) {
  const size_t size = update.ByteSizeLong();
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) + size;
}

// Sends `request` to the gateway in calls of at most kMaxUpdatesPerCall
// updates and `max_batch_bytes` bytes (the gateway refuses a message over its
// listener.limits.max_message_bytes, and then queues nothing of it), adding
// their answers up in `total`. An update alone over `max_batch_bytes` goes
// alone, for the gateway to judge. Returns kOk, or the exit code of the
// connection's failure or of the first failed call (reported on `err`, with
// how many were queued before it).
ExitCode PushInBatches(const PushDossierStatusRequest& request,
                       size_t max_batch_bytes, const CommonOptions& options,
                       PushDossierStatusResponse& total, std::ostream& err) {
  auto channel = OpenChannel(options.connection);
  if (!channel.ok()) return ReportChannelError(channel.status(), err);
  auto stub = PortalSyncService::NewStub(*channel);
  for (int start = 0; start < request.updates_size();) {
    PushDossierStatusRequest batch;
    size_t batch_bytes = 0;
    int end = start;
    while (end < request.updates_size() && end - start < kMaxUpdatesPerCall) {
      const size_t bytes = EncodedSize(request.updates(end));
      if (end > start && batch_bytes + bytes > max_batch_bytes) break;
      batch_bytes += bytes;
      *batch.add_updates() = request.updates(end++);
    }
    PushDossierStatusResponse response;
    grpc::ClientContext context;
    SetDeadline(options.connection, context);
    grpc::Status status = stub->PushDossierStatus(&context, batch, &response);
    if (!status.ok()) {
      if (start > 0) {
        err << "lienthong: the first " << start
            << " updates were queued before this failure\n";
      }
      const ExitCode code = ReportRpcError(status, err);
      if (IsMessageTooLarge(status)) {
        err << "lienthong: that call was " << batch_bytes << " bytes ("
            << Plural(end - start, "update", "updates")
            << "): give a --max-batch-bytes under the gateway's "
               "listener.limits.max_message_bytes, or raise that setting\n";
      }
      return code;
    }
    total.set_accepted(total.accepted() + response.accepted());
    total.set_duplicates(total.duplicates() + response.duplicates());
    total.set_registrations(total.registrations() + response.registrations());
    start = end;
  }
  return ExitCode::kOk;
}

}  // namespace

ExitCode RunPush(const PushArgs& args, const CommonOptions& options,
                 std::ostream& out, std::ostream& err) {
  absl::StatusOr<PushDossierStatusRequest> request = PushRequestFromArgs(args);
  if (!request.ok()) return ReportUsageError(request.status(), err);
  PushDossierStatusResponse total;
  const ExitCode sent =
      PushInBatches(*request, args.max_batch_bytes, options, total, err);
  if (sent != ExitCode::kOk) return sent;
  if (options.json) return PrintJson(total, out, err);
  PrintPushed(*request, total, out);
  return ExitCode::kOk;
}

namespace {

// One text option of `sync push`: its name, where it goes, its type and help.
struct TextOption {
  const char* name;
  std::string* value;
  const char* type;
  const char* help;
};

// Adds the options of the status update itself (dossier, status, step).
void AddUpdateOptions(CLI::App& command, PushArgs& args) {
  const TextOption kUpdate[] = {
      {"--dossier", &args.dossier_code, "CODE",
       "Dossier code (MaHoSo), e.g. 000.00.01.H31-250715-00123"},
      {"--procedure", &args.procedure_code, "CODE",
       "Procedure code (MaTTHC), e.g. 1.001193.000.00.00.H31"},
      {"--status", &args.status, "N|NAME",
       "New status (TrangThai): 1..10 or its name"},
      {"--time", &args.time, "TIME",
       "When the step was taken (ThoiDiemXuLy; default now)"},
      {"--handler", &args.handler, "NAME", "Official who took it (NguoiXuLy)"},
      {"--title", &args.handler_title, "TEXT", "Their title (ChucDanh)"},
      {"--department", &args.department, "TEXT",
       "Their department (PhongBanXuLy)"},
      {"--note", &args.note, "TEXT", "What was done (NoiDungXuLy)"},
      {"--step-start", &args.step_start, "TIME",
       "When the step started (NgayBatDau)"},
      {"--step-due", &args.step_due, "TIME",
       "When it must end by law (NgayKetThucTheoQuyDinh)"},
  };
  for (const TextOption& t : kUpdate) {
    command.add_option(t.name, *t.value, t.help)->type_name(t.type);
  }
}

// Adds the options of the dossier's registration (group "Registration").
void AddRegistrationOptions(CLI::App& command, PushArgs& args) {
  const TextOption kRegistration[] = {
      {"--procedure-name", &args.procedure_name, "TEXT",
       "Registration: the procedure's name (TenTTHC)"},
      {"--field-code", &args.field_code, "CODE",
       "Registration: its field's code (MaLinhVuc)"},
      {"--field-name", &args.field_name, "TEXT",
       "Registration: its field's name (TenLinhVuc)"},
      {"--applicant-name", &args.applicant_name, "NAME",
       "Registration: the applicant (ChuHoSo)"},
      {"--applicant-type", &args.applicant_type, "TYPE",
       "Registration: citizen (default) or organisation (LoaiDoiTuong)"},
      {"--applicant-id", &args.applicant_id, "ID",
       "Registration: the applicant's identifier (MaDoiTuong)"},
      {"--email", &args.email, "ADDRESS", "Registration: e-mail (Email)"},
      {"--phone", &args.phone, "NUMBER", "Registration: phone (SoDienThoai)"},
      {"--summary", &args.summary, "TEXT",
       "Registration: what is asked for (TrichYeuHoSo)"},
      {"--received", &args.received, "TIME",
       "Registration: when received (NgayTiepNhan)"},
      {"--due", &args.due, "TIME", "Registration: when due (NgayHenTra)"},
      {"--handling-unit", &args.handling_unit, "TEXT",
       "Registration: the unit handling it (DonViXuLy)"},
      {"--registration-note", &args.registration_note, "TEXT",
       "Registration: a note (GhiChu)"},
  };
  for (const TextOption& t : kRegistration) {
    command.add_option(t.name, *t.value, t.help)
        ->type_name(t.type)
        ->group("Registration");
  }
  command
      .add_flag("--result-by-post", args.result_by_post,
                "Registration: the result is returned by post (HinhThuc)")
      ->group("Registration");
}

}  // namespace

void AddPushCommand(CLI::App& sync, CommandContext& context) {
  CLI::App* command = sync.add_subcommand(
      "push",
      "Queue dossier status changes, with their dossiers' registrations, for "
      "the portal (for operators and demos; provincial systems call "
      "PushDossierStatus directly)");
  auto args = std::make_shared<PushArgs>();
  auto options = std::make_shared<CommonOptions>();
  AddUpdateOptions(*command, *args);
  AddRegistrationOptions(*command, *args);
  command
      ->add_option("--file", args->file,
                   "A JSON file of updates (PushDossierStatusRequest) instead "
                   "of the options")
      ->type_name("FILE");
  command
      ->add_option("--max-batch-bytes", args->max_batch_bytes,
                   "With --file: most bytes of updates per call; keep it "
                   "under the gateway's listener.limits.max_message_bytes "
                   "(default there 1 MiB)")
      ->type_name("BYTES")
      // A whole number over 0, said plainly (CLI::PositiveNumber's message
      // gives the range of a double).
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            uint64_t bytes = 0;
            return absl::SimpleAtoi(text, &bytes) && bytes > 0
                       ? ""
                       : "expected a number of bytes, 1 or more";
          },
          "POSITIVE"))
      ->capture_default_str();
  AddCommonOptions(*command, *options);
  command->footer(HelpFooter(kPushExamples, kPushNotes));
  command->callback([args, options, &context] {
    context.exit_code = RunPush(*args, *options, context.out, context.err);
  });
}

}  // namespace lienthong::cli
