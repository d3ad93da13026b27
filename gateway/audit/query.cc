#include "gateway/audit/query.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/audit/file_util.h"
#include "gateway/audit/journal.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/database.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/codes.h"
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
  // The filters go into the query's own audit record: bounded.
  if (request.citizen_id().size() > 64 ||
      request.officer_citizen_id().size() > 64 ||
      request.dossier_id().size() > 64 ||
      request.caller().size() > 256 || request.method().size() > 256 ||
      request.outcome().size() > 64 || request.page_token_node().size() > 256) {
    return absl::InvalidArgumentError(
        "a filter is too long (page_token_node at most 256 bytes, as a node "
        "name; citizen_id, officer_citizen_id, dossier_id and "
        "outcome at most 64 bytes, caller and method 256)");
  }
  filter.caller = request.caller();
  filter.method = request.method();
  filter.citizen_hmac = key.Hmac(request.citizen_id());
  filter.officer_hmac = key.Hmac(request.officer_citizen_id());
  filter.dossier_id = request.dossier_id();
  filter.outcome = request.outcome();
  // A sequence is an SQL integer: one past 2^63 - 1 would wrap to a
  // negative one and give the first page again.
  if (request.page_token() >
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(
        "page_token is not one a query gave (too large)");
  }
  filter.after_sequence = request.page_token();
  filter.after_node = request.page_token_node();
  return filter;
}

absl::StatusOr<std::vector<AuditRecord>> QueryAudit(
    const AuditIndex& index, const lienthong::v1::QueryAuditRequest& request,
    const CitizenKey& key) {
  LIENTHONG_ASSIGN_OR_RETURN(QueryFilter filter,
                             FilterFromRequest(request, key));
  return index.Query(filter);
}

std::string KeptFilterDossier(absl::string_view dossier) {
  if (dossier.empty() || validation::IsDossierCode(dossier)) {
    return std::string(dossier);
  }
  return kFilterNotKept;
}

namespace {

// An auditor's free-text filter (caller, method, outcome, node) as its
// record keeps it: a plain token as those are, or not kept (a citizen's ID
// typed into the wrong filter, control characters).
std::string KeptFilterText(absl::string_view text) {
  const bool plain = !text.empty() && text.size() <= 256 &&
                     std::all_of(text.begin(), text.end(), [](char c) {
                       return absl::ascii_isalnum(c) || c == '.' || c == '_' ||
                              c == '-' || c == ':' || c == '/';
                     });
  const bool long_number =
      std::search_n(text.begin(), text.end(), 9, 0, [](char c, int) {
        return absl::ascii_isdigit(c);
      }) != text.end();
  // An ID written in groups ("033.085.012.345") too.
  const bool id = validation::MaskCitizenIdsInText(text) != text;
  return plain && !long_number && !id ? std::string(text) : kFilterNotKept;
}

}  // namespace

std::string FilterDetails(const QueryFilter& f) {
  std::vector<std::string> parts;
  auto time = [](absl::Time t) {
    return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
  };
  if (f.start != absl::InfinitePast()) parts.push_back("since=" + time(f.start));
  if (f.end != absl::InfiniteFuture()) parts.push_back("until=" + time(f.end));
  if (!f.caller.empty()) parts.push_back("caller=" + KeptFilterText(f.caller));
  if (!f.method.empty()) parts.push_back("method=" + KeptFilterText(f.method));
  if (!f.citizen_hmac.empty()) parts.push_back("citizen=keyed-hash");
  if (!f.officer_hmac.empty()) parts.push_back("officer=keyed-hash");
  if (!f.dossier_id.empty()) {
    parts.push_back("dossier=" + KeptFilterDossier(f.dossier_id));
  }
  if (!f.outcome.empty()) {
    parts.push_back("outcome=" + KeptFilterText(f.outcome));
  }
  parts.push_back(absl::StrCat("page_size=", f.limit));
  if (f.after_sequence > 0) {
    parts.push_back(absl::StrCat("page_token=", f.after_sequence));
  }
  if (!f.after_node.empty()) {
    parts.push_back("page_token_node=" + KeptFilterText(f.after_node));
  }
  return absl::StrJoin(parts, "; ");
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

absl::Status Export(const std::string& journal_dir, absl::Time since,
                    absl::FunctionRef<absl::Status(absl::string_view)> write,
                    const ReadProgressFn& progress) {
  uint64_t segments = 0;
  if (progress) {
    LIENTHONG_ASSIGN_OR_RETURN(std::vector<SegmentFile> files,
                               ListSegments(journal_dir));
    segments = files.size();
  }
  SegmentProgress counted(progress, segments, /*passes=*/2);
  JournalScanHooks hooks;
  hooks.on_segment = [&](const SegmentFile&, const SegmentHeader&) {
    counted.SegmentBegun();
  };
  // A damaged frame hides the rest of its segment from every reader: an
  // export past it would leave those records out and still read as whole.
  std::optional<std::string> damage;
  hooks.on_damage = [&](const JournalPosition& at, const std::string& why) {
    if (damage.has_value()) return;
    damage = absl::StrCat("the journal is damaged in segment ", at.segment,
                          " at byte ", at.offset, " (", why,
                          "): its records after that would be missing from "
                          "the export; `lienthong audit verify --journal ",
                          journal_dir, "` tells what is affected");
  };
  // Pass 1: the first record at or after `since`, the checkpoints from it
  // on, and the last record. Checkpoints are few (one per thousand
  // records), so they are held. The records pass 2 writes end at that last
  // one: a running gateway appends meanwhile, and records without the
  // checkpoints written with them would fail the export's verification.
  std::optional<uint64_t> first;
  uint64_t last = 0;
  std::vector<AuditCheckpoint> checkpoints;
  LIENTHONG_RETURN_IF_ERROR(ReadJournal(
      journal_dir, {}, {}, [&](const JournalPosition&, const Frame& frame) {
        const int size = static_cast<int>(frame.payload.size());
        if (frame.type == FrameType::kRecord) {
          AuditRecord record;
          if (!record.ParseFromArray(frame.payload.data(), size)) return true;
          last = std::max(last, record.sequence());
          if (!first.has_value() && FromProtoTime(record.time()) >= since) {
            first = record.sequence();
          }
          return true;
        }
        AuditCheckpoint checkpoint;
        if (first.has_value() &&
            checkpoint.ParseFromArray(frame.payload.data(), size) &&
            checkpoint.sequence() >= *first) {
          checkpoints.push_back(std::move(checkpoint));
        }
        return true;
      },
      hooks));
  counted.PassEnded();
  if (damage.has_value()) return absl::DataLossError(*damage);
  if (!first.has_value()) return absl::OkStatus();
  // Checkpoints go first: cutting lines off the end of the file then leaves
  // checkpoints for records that are gone, which verification reports.
  for (const AuditCheckpoint& checkpoint : checkpoints) {
    LIENTHONG_RETURN_IF_ERROR(write(CheckpointJsonLine(checkpoint)));
  }
  absl::Status write_status;
  bool started = false;
  uint64_t written = 0;
  LIENTHONG_RETURN_IF_ERROR(ReadJournal(
      journal_dir, {}, {},
      [&](const JournalPosition&, const Frame& frame) {
        if (frame.type != FrameType::kRecord) return true;
        AuditRecord record;
        if (!record.ParseFromArray(frame.payload.data(),
                                   static_cast<int>(frame.payload.size()))) {
          return true;
        }
        if (record.sequence() > last) return false;  // appended since
        started = started || record.sequence() == *first;
        if (!started) return true;
        counted.set_records(++written);
        write_status = write(RecordJsonLine(record));
        return write_status.ok();
      },
      hooks));
  counted.PassEnded();
  return write_status;
}

absl::Status ExportToFile(const std::string& journal_dir, absl::Time since,
                          const std::string& path,
                          const ReadProgressFn& progress) {
  struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
  };
  // Never through a symbolic link, which would have the export take over the
  // file it names.
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is a symbolic link; give the file itself"));
  }
  // Written beside the file and renamed over it once whole and synced: an
  // export that fails (a damaged journal, a full disk) leaves no shorter
  // file that reads as a complete export, and the one it would have
  // replaced as it was. Owner-only, whatever the umask: the records name
  // callers and purposes.
  const std::string partial = path + ".partial";
  const int fd =
      ::open(partial.c_str(),
             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot create ", partial));
  }
  std::unique_ptr<FILE, FileCloser> file(::fdopen(fd, "wb"));
  if (file == nullptr) {
    ::close(fd);
    ::unlink(partial.c_str());
    return absl::UnavailableError(absl::StrCat("cannot create ", partial));
  }
  const absl::Status unwritable =
      absl::UnavailableError(absl::StrCat("cannot write ", partial));
  absl::Status written = Export(
      journal_dir, since,
      [&](absl::string_view line) -> absl::Status {
        if (std::fwrite(line.data(), 1, line.size(), file.get()) !=
            line.size()) {
          return unwritable;
        }
        return absl::OkStatus();
      },
      progress);
  if (written.ok() &&
      (std::fflush(file.get()) != 0 || ::fsync(fileno(file.get())) != 0)) {
    written = unwritable;
  }
  if (std::fclose(file.release()) != 0 && written.ok()) written = unwritable;
  if (written.ok() && ::rename(partial.c_str(), path.c_str()) != 0) {
    written = absl::UnavailableError(absl::StrCat(
        "cannot rename ", partial, " to ", path, ": ", std::strerror(errno)));
  }
  if (!written.ok()) {
    ::unlink(partial.c_str());
    return written;
  }
  return SyncPath(storage::FolderOf(path), "audit export");
}

}  // namespace lienthong::audit
