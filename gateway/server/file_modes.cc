#include "gateway/server/file_modes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace lienthong::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Which file fields Collect gathers, by how their names end.
using FieldNameRule = bool (*)(absl::string_view name);

bool IsSecretFileName(absl::string_view name) {
  return absl::EndsWith(name, "key_file") || absl::EndsWith(name, "token_file");
}

bool IsTrustFileName(absl::string_view name) {
  return absl::EndsWith(name, "ca_file") || absl::EndsWith(name, "crl_file");
}

bool IsFileField(const FieldDescriptor& field, FieldNameRule rule) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
         !field.is_repeated() && rule(field.name());
}

// Unpacks `any` into a message of its type from the generated pool (the
// adapter configs are compiled in); null when the type is unknown.
std::unique_ptr<Message> Unpack(const google::protobuf::Any& any) {
  const std::string type_name(
      absl::string_view(any.type_url()).substr(any.type_url().rfind('/') + 1));
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          type_name);
  if (descriptor == nullptr) return nullptr;
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          descriptor);
  if (prototype == nullptr) return nullptr;
  std::unique_ptr<Message> message(prototype->New());
  if (!any.UnpackTo(message.get())) return nullptr;
  return message;
}

void Collect(const Message& message, const std::string& path,
             FieldNameRule rule,
             std::vector<std::pair<std::string, std::string>>* out) {
  if (message.GetDescriptor() == google::protobuf::Any::descriptor()) {
    const auto& any = static_cast<const google::protobuf::Any&>(message);
    if (auto unpacked = Unpack(any)) Collect(*unpacked, path, rule, out);
    return;
  }
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string field_path =
        path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    if (IsFileField(*field, rule)) {
      std::string value = reflection->GetString(message, field);
      if (!value.empty()) out->emplace_back(field_path, std::move(value));
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          Collect(reflection->GetRepeatedMessage(message, field, i),
                  absl::StrCat(field_path, "[", i, "]"), rule, out);
        }
      } else {
        Collect(reflection->GetMessage(message, field), field_path, rule, out);
      }
    }
  }
}

// The permission bits of the file at `path` (following symlinks); 0 when it
// cannot be read: a missing file is for its reader to report.
unsigned ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Whether the process is in group `gid`: its own or a supplementary one (a
// pod's fsGroup is added as one).
bool InGroup(gid_t gid) {
  if (gid == ::getegid()) return true;
  std::vector<gid_t> groups(std::max(::getgroups(0, nullptr), 0));
  const int n = ::getgroups(static_cast<int>(groups.size()), groups.data());
  groups.resize(std::max(n, 0));
  return std::find(groups.begin(), groups.end(), gid) != groups.end();
}

// Whether a file of status `st` is a Kubernetes Secret's as a pod's fsGroup
// makes it: owned by root, of one of the gateway's groups, readable by that
// group alone and writable by nobody (0440). The gateway's user cannot own
// such a file, so this is the only way it can read one.
bool IsSecretOfOurGroup(const struct stat& st) {
  return st.st_uid == 0 && (st.st_mode & 0377) == 0040 && InGroup(st.st_gid);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SecretFiles(
    const lienthong::config::v1::GatewayConfig& config) {
  std::vector<std::pair<std::string, std::string>> files;
  Collect(config, "", IsSecretFileName, &files);
  return files;
}

std::vector<std::pair<std::string, std::string>> TrustFiles(
    const lienthong::config::v1::GatewayConfig& config) {
  std::vector<std::pair<std::string, std::string>> files;
  Collect(config, "", IsTrustFileName, &files);
  return files;
}

absl::Status CheckPrivateFile(absl::string_view what, const std::string& path) {
  struct stat st {};
  // A missing file is for its reader to report.
  if (::stat(path.c_str(), &st) != 0) return absl::OkStatus();
  const unsigned mode = st.st_mode & 07777;
  if ((mode & 077) == 0 || IsSecretOfOurGroup(st)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s '%s' is open to %s (mode %04o): make it private (chmod 600 and "
      "owned by the gateway's user, or 0440 owned by root and the gateway's "
      "group, as a Kubernetes fsGroup makes it), or start with "
      "--allow-insecure-file-modes for development keys",
      what, path, (mode & 007) != 0 ? "others" : "its group", mode));
}

absl::Status CheckNotWritableByOthers(absl::string_view what,
                                      const std::string& path) {
  const unsigned mode = ModeOf(path);
  if ((mode & 022) == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s '%s' is writable by %s (mode %04o): make it writable by its owner "
      "only (chmod 644), or start with --allow-insecure-file-modes for "
      "development",
      what, path, (mode & 002) != 0 ? "others" : "its group", mode));
}

absl::Status CheckSecretFileModes(
    const std::string& config_path,
    const lienthong::config::v1::GatewayConfig& config) {
  std::vector<std::string> problems;
  if (absl::Status s = CheckNotWritableByOthers("config file", config_path);
      !s.ok()) {
    problems.emplace_back(s.message());
  }
  for (const auto& [field, path] : SecretFiles(config)) {
    if (absl::Status s = CheckPrivateFile(field, path); !s.ok()) {
      problems.emplace_back(s.message());
    }
  }
  // Public, so readable by all; but whoever can write one can add a CA (or
  // drop a CRL) that gRPC and the CRL watcher pick up within a refresh
  // interval, and so impersonate any configured client or upstream.
  for (const auto& [field, path] : TrustFiles(config)) {
    if (absl::Status s = CheckNotWritableByOthers(field, path); !s.ok()) {
      problems.emplace_back(s.message());
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrJoin(problems, "\n"));
}

}  // namespace lienthong::server
