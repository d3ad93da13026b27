#include "gateway/audit/query.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::audit {
namespace {

constexpr absl::string_view kRecordPrefix = "{\"type\":\"record\",";
constexpr absl::string_view kCheckpointPrefix = "{\"type\":\"checkpoint\",";

// Returns `message` as `prefix` + its JSON fields + "}\n".
std::string JsonLine(absl::string_view prefix,
                     const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a well-formed message cannot fail; the time fields are
  // range-checked before records are stored.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  // `json` is "{...}" with at least the sequence inside.
  std::string line(prefix);
  line.append(json, 1, std::string::npos);
  line.push_back('\n');
  return line;
}

absl::Status ParseJson(absl::string_view json,
                       google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // The "type" field.
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), message,
           options)
           .ok()) {
    return absl::InvalidArgumentError("not a valid audit export line");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<QueryFilter> FilterFromRequest(
    const lienthong::v1::QueryAuditRequest& request, const CitizenKey& key) {
  QueryFilter filter;
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be between 1 and ", kMaxPageSize));
  }
  filter.limit =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (request.has_start_time()) {
    LIENTHONG_RETURN_IF_ERROR(ValidateProtoTime(request.start_time()));
    filter.start = FromProtoTime(request.start_time());
  }
  if (request.has_end_time()) {
    LIENTHONG_RETURN_IF_ERROR(ValidateProtoTime(request.end_time()));
    filter.end = FromProtoTime(request.end_time());
  }
  if (filter.end <= filter.start) {
    return absl::InvalidArgumentError("end_time must be after start_time");
  }
  filter.caller = request.caller();
  filter.method = request.method();
  filter.citizen_hmac = key.Hmac(request.citizen_id());
  filter.dossier_id = request.dossier_id();
  filter.outcome = request.outcome();
  filter.after_sequence = request.page_token();
  return filter;
}

absl::StatusOr<std::vector<AuditRecord>> QueryAudit(
    const AuditStore& store, const lienthong::v1::QueryAuditRequest& request,
    const CitizenKey& key) {
  LIENTHONG_ASSIGN_OR_RETURN(QueryFilter filter,
                             FilterFromRequest(request, key));
  return store.Query(filter);
}

std::string RecordJsonLine(const AuditRecord& record) {
  return JsonLine(kRecordPrefix, record);
}

std::string CheckpointJsonLine(const AuditCheckpoint& checkpoint) {
  return JsonLine(kCheckpointPrefix, checkpoint);
}

bool IsCheckpointLine(absl::string_view line) {
  return absl::StartsWith(line, kCheckpointPrefix);
}

absl::StatusOr<ExportLine> ParseExportLine(absl::string_view line) {
  if (absl::EndsWith(line, "\n")) line.remove_suffix(1);
  ExportLine out;
  if (absl::StartsWith(line, kRecordPrefix)) {
    out.type = ExportLine::Type::kRecord;
    LIENTHONG_RETURN_IF_ERROR(ParseJson(line, &out.record));
  } else if (absl::StartsWith(line, kCheckpointPrefix)) {
    out.type = ExportLine::Type::kCheckpoint;
    LIENTHONG_RETURN_IF_ERROR(ParseJson(line, &out.checkpoint));
  } else {
    return absl::InvalidArgumentError("not a valid audit export line");
  }
  return out;
}

absl::Status Export(const AuditStore& store, absl::Time since,
                    absl::FunctionRef<absl::Status(absl::string_view)> write) {
  QueryFilter first_filter;
  first_filter.start = since;
  first_filter.limit = 1;
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<AuditRecord> first,
                             store.Query(first_filter));
  if (first.empty()) return absl::OkStatus();
  const uint64_t first_sequence = first.front().sequence();

  // Checkpoints are few (one per thousand records), so they are held.
  std::vector<AuditCheckpoint> checkpoints;
  LIENTHONG_RETURN_IF_ERROR(store.ScanCheckpoints(
      first_sequence, [&](const AuditCheckpoint& checkpoint) {
        checkpoints.push_back(checkpoint);
        return true;
      }));
  // Checkpoints go first: cutting lines off the end of the file then leaves
  // checkpoints for records that are gone, which verification reports.
  for (const AuditCheckpoint& checkpoint : checkpoints) {
    LIENTHONG_RETURN_IF_ERROR(write(CheckpointJsonLine(checkpoint)));
  }
  absl::Status write_status;
  LIENTHONG_RETURN_IF_ERROR(
      store.ScanRecords(first_sequence, [&](const AuditRecord& record) {
        write_status = write(RecordJsonLine(record));
        return write_status.ok();
      }));
  return write_status;
}

absl::Status ExportToFile(const AuditStore& store, absl::Time since,
                          const std::string& path) {
  struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
  };
  // Owner-only, whatever the umask, and also when replacing an older export
  // that was not: the records name callers and purposes.
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot create ", path));
  }
  std::unique_ptr<FILE, FileCloser> file(::fdopen(fd, "wb"));
  if (file == nullptr) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot create ", path));
  }
  const absl::Status unwritable =
      absl::UnavailableError(absl::StrCat("cannot write ", path));
  LIENTHONG_RETURN_IF_ERROR(
      Export(store, since, [&](absl::string_view line) -> absl::Status {
        if (std::fwrite(line.data(), 1, line.size(), file.get()) !=
            line.size()) {
          return unwritable;
        }
        return absl::OkStatus();
      }));
  if (std::fflush(file.get()) != 0 || ::fsync(fileno(file.get())) != 0 ||
      std::fclose(file.release()) != 0) {
    return unwritable;
  }
  return absl::OkStatus();
}

}  // namespace lienthong::audit
