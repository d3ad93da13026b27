#include "adapters/ministry_rest_json/ministry_rest_json_adapter.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/common/http/base_url.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/ministry_rest_json/json_pointer.h"
#include "adapters/ministry_rest_json/ministry_rest_json_config.pb.h"
#include "adapters/ministry_rest_json/record_reply.h"
#include "adapters/ministry_rest_json/record_template.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/text.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::adapters::ministry_rest_json {
namespace {

constexpr size_t kMaxReplyLimit = 4 << 20;

// What the adapter knows of one record type.
struct TypeRules {
  RecordType declaration;
  std::string method;
  RecordTemplate path;
  std::optional<RecordTemplate> body;
  ReplyRules reply;
};

bool IsToken(absl::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && absl::string_view("!#$%&'*+-.^_`|~").find(c) ==
                                       absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsHeaderValue(absl::string_view value) {
  return !value.empty() && value.size() <= 1000 &&
         validation::IsPrintableAscii(value);
}

// Most codes a SuccessRule may list.
constexpr int kMaxSuccessCodes = 100;

// A code a SuccessRule compares a reply's value with.
bool IsResultCode(absl::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::StatusOr<JsonPointer> PointerAt(absl::string_view field,
                                      absl::string_view text) {
  auto pointer = JsonPointer::Parse(text);
  if (!pointer.ok()) return Bad(field, pointer.status().message());
  return pointer;
}

absl::StatusOr<TypeRules> ReadType(const RecordTypeConfig& c,
                                   const std::string& at, size_t max_bytes) {
  TypeRules rules;
  rules.declaration.name = c.name();
  std::set<std::string> names;
  for (const ParameterConfig& p : c.parameters()) {
    rules.declaration.parameters.push_back(
        {p.name(), p.pattern(), !p.optional()});
    names.insert(p.name());
  }
  rules.method = c.method().empty() ? "GET" : c.method();
  if (rules.method != "GET" && rules.method != "POST") {
    return Bad(at + ".method", "must be GET or POST");
  }
  if (absl::Status path = CheckUrlPath(c.path()); !path.ok()) {
    return Bad(at + ".path", path.message());
  }
  auto path = RecordTemplate::Parse(c.path(), names);
  const absl::Status usable = path.ok() ? path->CheckPath() : path.status();
  if (!usable.ok()) return Bad(at + ".path", usable.message());
  rules.path = *std::move(path);
  if (!c.body().empty()) {
    if (rules.method != "POST") return Bad(at + ".body", "needs method POST");
    auto body = RecordTemplate::Parse(c.body(), names);
    if (!body.ok()) return Bad(at + ".body", body.status().message());
    // Filled in, it must be JSON.
    std::map<std::string, std::string> sample;
    for (const std::string& name : names) sample[name] = "x";
    google::protobuf::Value parsed;
    if (!google::protobuf::util::JsonStringToMessage(body->ExpandJson(sample),
                                                     &parsed)
             .ok()) {
      return Bad(at + ".body", "is not JSON once its placeholders are filled");
    }
    if (absl::Status json = body->CheckJsonBody(); !json.ok()) {
      return Bad(at + ".body", json.message());
    }
    rules.body = *std::move(body);
  }
  // A parameter no placeholder names would not reach the ministry: every
  // call would ask for the same record.
  for (const std::string& name : names) {
    if (rules.path.names().count(name) == 0 &&
        (!rules.body.has_value() || rules.body->names().count(name) == 0)) {
      return Bad(at + ".parameters",
                 absl::StrCat("'", name, "' is in no placeholder of the path ",
                              "or the body"));
    }
  }
  rules.reply.record_type = c.name();
  rules.reply.max_bytes = max_bytes;
  for (int i = 0; i < c.fields_size(); ++i) {
    const std::string field_at = absl::StrCat(at, ".fields[", i, "]");
    rules.declaration.fields.push_back(c.fields(i).name());
    LIENTHONG_ASSIGN_OR_RETURN(
        JsonPointer pointer, PointerAt(field_at + ".pointer", c.fields(i).pointer()));
    rules.reply.fields.emplace_back(c.fields(i).name(), std::move(pointer));
  }
  if (c.not_found().http_statuses_size() > 0) {
    rules.reply.not_found_statuses.assign(c.not_found().http_statuses().begin(),
                                          c.not_found().http_statuses().end());
  }
  for (int status : rules.reply.not_found_statuses) {
    if (status < 200 || status > 599) {
      return Bad(at + ".not_found.http_statuses", "must be HTTP statuses");
    }
  }
  if (!c.not_found().pointer().empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(
        rules.reply.not_found_pointer,
        PointerAt(at + ".not_found.pointer", c.not_found().pointer()));
    rules.reply.not_found_equals = c.not_found().equals();
  } else if (!c.not_found().equals().empty()) {
    return Bad(at + ".not_found.equals", "needs not_found.pointer");
  }
  const SuccessRule& success = c.success();
  if (!success.pointer().empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(
        rules.reply.success_pointer,
        PointerAt(at + ".success.pointer", success.pointer()));
    if (success.equals().empty() || success.equals_size() > kMaxSuccessCodes) {
      return Bad(at + ".success.equals",
                 absl::StrCat("required with success.pointer: 1 to ",
                              kMaxSuccessCodes, " codes"));
    }
    for (int i = 0; i < success.equals_size(); ++i) {
      if (!IsResultCode(success.equals(i))) {
        return Bad(absl::StrCat(at, ".success.equals[", i, "]"),
                   "must be 1 to 64 bytes without control characters");
      }
    }
    rules.reply.success_equals.assign(success.equals().begin(),
                                      success.equals().end());
  } else if (!success.equals().empty()) {
    return Bad(at + ".success.equals", "needs success.pointer");
  }
  if (!c.reference_pointer().empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(
        rules.reply.reference,
        PointerAt(at + ".reference_pointer", c.reference_pointer()));
  }
  return rules;
}

class MinistryRestJsonAdapter final : public Adapter, public RecordAdapter {
 public:
  MinistryRestJsonAdapter(std::string instance, MinistryRestJsonConfig config,
                          std::vector<TypeRules> types, HttpClient* http)
      : instance_(std::move(instance)),
        config_(std::move(config)),
        types_(std::move(types)),
        http_(http) {
    for (const TypeRules& type : types_) declared_.push_back(type.declaration);
    for (const auto& [name, value] : config_.headers()) {
      headers_.push_back(absl::StrCat(name, ": ", value));
    }
    headers_.push_back("Accept: application/json");
  }

  RecordAdapter* records() override { return this; }
  const std::vector<RecordType>& RecordTypes() const override {
    return declared_;
  }

  void Fetch(const RecordRequest& request, const CallContext& context,
             Callback<RecordReply> done) override {
    const TypeRules* type = Find(request.record_type);
    if (type == nullptr) {
      std::move(done)(MarkNotSent(absl::InvalidArgumentError(
          absl::StrCat("adapter '", instance_, "' serves no record type '",
                       request.record_type, "'"))));
      return;
    }
    absl::StatusOr<std::string> path =
        type->path.ExpandPath(request.parameters);
    if (!path.ok()) {
      // A dot or empty segment would send the request (with our headers)
      // to another resource of the system.
      std::move(done)(MarkNotSent(absl::InvalidArgumentError(
          absl::StrCat("record type '", request.record_type,
                       "': ", path.status().message()))));
      return;
    }
    HttpRequest http;
    http.method = type->method;
    http.url = absl::StrCat(config_.upstream().base_url(), *path);
    http.headers = headers_;
    if (type->body.has_value()) {
      http.headers.push_back("Content-Type: application/json; charset=utf-8");
      http.body = type->body->ExpandJson(request.parameters);
    }
    http.deadline = context.deadline;
    http.ca_file = config_.upstream().ca_file();
    http.client_cert_file = config_.upstream().client_cert_file();
    http.client_key_file = config_.upstream().client_key_file();
    http_->Send(std::move(http),
                [this, type, trace = context.trace_id, done = std::move(done)](
                    absl::StatusOr<HttpResponse> response) mutable {
                  std::move(done)(Outcome(*type, trace, std::move(response)));
                });
  }

 private:
  const TypeRules* Find(absl::string_view name) const {
    for (const TypeRules& type : types_) {
      if (type.declaration.name == name) return &type;
    }
    return nullptr;
  }

  absl::StatusOr<Reply<RecordReply>> Outcome(
      const TypeRules& type, const std::string& trace,
      absl::StatusOr<HttpResponse> response) const {
    if (std::optional<size_t> limit = ReplyTooLargeLimit(response.status())) {
      // Not a transport failure: sending again gets the same reply.
      absl::Status status = absl::UnavailableError(
          absl::StrCat("the system serving '", type.declaration.name,
                       "' answered ", ReplyTooLargeText(*limit)));
      log::Warning("unusable reply", {{"system", instance_},
                                      {"record_type", type.declaration.name},
                                      {"trace_id", trace},
                                      {"problem", status.message()}});
      return status;
    }
    if (!response.ok()) {
      switch (response.status().code()) {
        case absl::StatusCode::kCancelled:
        case absl::StatusCode::kInternal:
          return response.status();
        case absl::StatusCode::kDeadlineExceeded:
          return MarkRetriable(absl::DeadlineExceededError(absl::StrCat(
              "'", instance_, "' did not answer in time")));
        default:
          return MarkRetriable(absl::UnavailableError(absl::StrCat(
              "'", instance_, "' is unreachable: ",
              response.status().message())));
      }
    }
    auto record = ReadRecordReply(type.reply, response->status, response->body,
                                  response->Header("retry-after"));
    if (!record.ok() && record.status().code() == absl::StatusCode::kUnavailable) {
      // What was wrong, for operators: never values from the reply.
      absl::optional<absl::Cord> field =
          record.status().GetPayload(kFieldProblemPayload);
      log::Warning("unusable reply",
                   {{"system", instance_},
                    {"record_type", type.declaration.name},
                    {"trace_id", trace},
                    {"http_status", absl::StrCat(response->status)},
                    {"bytes", absl::StrCat(response->body.size())},
                    {"problem", field.has_value()
                                    ? std::string(*field)
                                    : std::string(record.status().message())}});
    }
    return record;
  }

  const std::string instance_;
  const MinistryRestJsonConfig config_;
  const std::vector<TypeRules> types_;
  std::vector<RecordType> declared_;
  std::vector<std::string> headers_;
  HttpClient* const http_;
};

class Factory final : public FactoryBase<MinistryRestJsonConfig> {
 public:
  absl::string_view name() const override { return "ministry-rest-json"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const MinistryRestJsonConfig& config,
      const AdapterContext& context) const override {
    if (absl::Status url = CheckBaseUrl(config.upstream().base_url());
        !url.ok()) {
      return Bad("upstream.base_url", url.message());
    }
    for (const auto& [name, value] : config.headers()) {
      if (!IsToken(name)) {
        return Bad("headers", absl::StrCat("'", name, "' is not a header name"));
      }
      if (!IsHeaderValue(value)) {
        return Bad("headers", absl::StrCat("the value of '", name,
                                           "' must be 1 to 1000 printable "
                                           "ASCII characters"));
      }
    }
    if (config.max_reply_bytes() < 0 ||
        static_cast<size_t>(config.max_reply_bytes()) > kMaxReplyLimit) {
      return Bad("max_reply_bytes", "must be 0 (1 MiB) to 4194304");
    }
    const size_t max_bytes = config.max_reply_bytes() > 0
                                 ? static_cast<size_t>(config.max_reply_bytes())
                                 : size_t{1} << 20;
    if (config.record_types().empty()) {
      return Bad("record_types", "required: at least one record type");
    }
    std::vector<TypeRules> types;
    for (int i = 0; i < config.record_types_size(); ++i) {
      LIENTHONG_ASSIGN_OR_RETURN(
          TypeRules type, ReadType(config.record_types(i),
                                   absl::StrCat("record_types[", i, "]"),
                                   max_bytes));
      for (const TypeRules& earlier : types) {
        if (earlier.declaration.name == type.declaration.name) {
          return Bad(absl::StrCat("record_types[", i, "].name"),
                     absl::StrCat("'", type.declaration.name, "' is repeated"));
        }
      }
      types.push_back(std::move(type));
    }
    if (context.http == nullptr) {
      return absl::InternalError("no HTTP client in the adapter context");
    }
    return std::make_unique<MinistryRestJsonAdapter>(
        context.instance_name, config, std::move(types), context.http);
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeMinistryRestJsonFactory() {
  return std::make_unique<Factory>();
}

}  // namespace lienthong::adapters::ministry_rest_json
