#include "adapters/common/agency/agency_adapter.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "adapters/common/agency/agency_answer.h"
#include "adapters/common/http/base_url.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "gateway/proto_util/deterministic.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/dates.h"
#include "gateway/validation/text.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "google/type/date.pb.h"

namespace lienthong::adapters::agency {
namespace {

bool AllDigits(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return !text.empty();
}

// A header value must be visible ASCII: no way to smuggle in a header.
bool IsHeaderSafe(absl::string_view value) {
  return !value.empty() && value.size() <= 200 &&
         validation::IsVisibleAscii(value);
}

// `body` as JSON with its members in the order of their names. A step sent
// again under its key must carry the same bytes (an agency may check a
// repeated key against the body it first saw), and protobuf writes a
// Struct's members in its map's order, which differs from one instance to
// the next: deterministic serialization sorts them, and the JSON follows.
absl::StatusOr<std::string> StableJson(const google::protobuf::Struct& body) {
  std::string binary;
  if (!proto_util::AppendDeterministic(body, &binary)) {
    return absl::InternalError("cannot write the step");
  }
  static google::protobuf::util::TypeResolver* const resolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          "type.googleapis.com",
          google::protobuf::DescriptorPool::generated_pool());
  std::string json;
  if (!google::protobuf::util::BinaryToJsonString(
           resolver, "type.googleapis.com/google.protobuf.Struct", binary,
           &json)
           .ok()) {
    return absl::InternalError("cannot write the step as JSON");
  }
  return json;
}

// Longest output taken from an agency's answer, in bytes: what the later
// steps that are sent it take (a certificate number, an ID).
constexpr size_t kMaxOutputBytes = 64;

class AgencyAdapter final : public Adapter, public AgencyStepAdapter {
 public:
  AgencyAdapter(std::string agency,
                lienthong::config::v1::HttpsUpstream upstream,
                std::string api_key, std::vector<AgencyOperation> operations,
                HttpClient* http)
      : agency_(std::move(agency)),
        upstream_(std::move(upstream)),
        api_key_(std::move(api_key)),
        operations_(std::move(operations)),
        http_(http) {
    for (const AgencyOperation& op : operations_) infos_.push_back(op.info);
  }

  AgencyStepAdapter* agency_step() override { return this; }
  const std::vector<StepOperation>& operations() const override {
    return infos_;
  }

  void Execute(const StepRequest& request, const CallContext& context,
               Callback<StepOutcome> done) override {
    const AgencyOperation* op = Find(request.operation);
    if (op == nullptr) {
      std::move(done)(MarkNotSent(absl::InvalidArgumentError(
          absl::StrCat("agency '", agency_, "' has no operation '",
                       request.operation, "'"))));
      return;
    }
    absl::StatusOr<std::string> body = Body(*op, request);
    if (!body.ok()) {
      std::move(done)(MarkNotSent(body.status()));
      return;
    }
    if (!IsHeaderSafe(request.idempotency_key)) {
      std::move(done)(MarkNotSent(absl::InvalidArgumentError(
          "idempotency key must be 1 to 200 visible ASCII characters")));
      return;
    }
    HttpRequest http;
    http.url = absl::StrCat(upstream_.base_url(), op->path);
    http.deadline = context.deadline;
    http.ca_file = upstream_.ca_file();
    http.client_cert_file = upstream_.client_cert_file();
    http.client_key_file = upstream_.client_key_file();
    http.headers = {
        "Content-Type: application/json; charset=utf-8",
        "Accept: application/json",
        absl::StrCat("X-Api-Key: ", api_key_),
        absl::StrCat("X-Idempotency-Key: ", request.idempotency_key),
    };
    http.body = *std::move(body);
    http_->Send(std::move(http),
                [this, op, inputs = request.inputs, done = std::move(done)](
                    absl::StatusOr<HttpResponse> response) mutable {
                  std::move(done)(Outcome(*op, inputs, std::move(response)));
                });
  }

 private:
  const AgencyOperation* Find(absl::string_view name) const {
    for (const AgencyOperation& op : operations_) {
      if (op.info.name == name) return &op;
    }
    return nullptr;
  }

  absl::StatusOr<std::string> Body(const AgencyOperation& op,
                                   const StepRequest& request) const {
    StepInputs inputs(request.inputs);
    for (const std::string& name : op.info.required_inputs) {
      if (!inputs.Has(name)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input '", name, "' of ", op.info.name, " is required"));
      }
    }
    absl::StatusOr<google::protobuf::Struct> body = op.build_body(inputs);
    if (!body.ok()) return body.status();
    Put(*body, "MaHoSo", request.dossier_code);
    return StableJson(*body);
  }

  // The input `field` of the person whose ID is `output` (id_owners), as
  // the step's inputs give it; none when not known.
  static const std::string* OwnerInput(
      const AgencyOperation& op,
      const std::map<std::string, std::string>& inputs,
      const std::string& output, std::string AgencyOperation::IdOwner::*field) {
    auto owner = op.id_owners.find(output);
    if (owner == op.id_owners.end() || (owner->second.*field).empty()) {
      return nullptr;
    }
    auto text = inputs.find(owner->second.*field);
    return text == inputs.end() ? nullptr : &text->second;
  }

  // The birth date of the person whose ID is `output`; none when not known.
  static std::optional<google::type::Date> BirthDate(
      const AgencyOperation& op,
      const std::map<std::string, std::string>& inputs,
      const std::string& output) {
    const std::string* text =
        OwnerInput(op, inputs, output, &AgencyOperation::IdOwner::birth_date);
    if (text == nullptr) return std::nullopt;
    std::optional<absl::CivilDay> day = validation::ParseIsoDate(*text);
    if (!day.has_value()) return std::nullopt;
    google::type::Date date;
    date.set_year(static_cast<int32_t>(day->year()));
    date.set_month(day->month());
    date.set_day(day->day());
    return date;
  }

  // An answer that says `op` was applied but whose results cannot be used
  // (`what`: one missing, not text, not an ID). Sending the same key again
  // gets the same answer, so this is no failure to retry (a stop could never
  // take effect while the step ran): the step is refused, waiting for an
  // officer, with a reason that says the agency may have applied it. The
  // reason names the result, never its value.
  Reply<StepOutcome> Unusable(const AgencyOperation& op, absl::string_view what,
                              std::string reference) const {
    Reply<StepOutcome> reply;
    reply.reference = std::move(reference);
    reply.value.kind = StepOutcome::Kind::kRefused;
    reply.value.reason = absl::StrCat(
        "agency '", agency_, "' applied ", op.info.name, " but ", what,
        ". Lienthong cannot use its answer: check with the agency before a "
        "retry, which is a new request");
    return reply;
  }

  absl::StatusOr<Reply<StepOutcome>> Outcome(
      const AgencyOperation& op,
      const std::map<std::string, std::string>& inputs,
      absl::StatusOr<HttpResponse> response) const {
    if (!response.ok()) return TransportError(response.status());
    absl::StatusOr<AgencyAnswer> answer =
        ParseAgencyAnswer(agency_, response->status, response->body,
                          response->Header("retry-after"));
    if (!answer.ok()) return answer.status();
    Reply<StepOutcome> reply;
    reply.reference = answer->reference;
    if (answer->refused) {
      reply.value.kind = StepOutcome::Kind::kRefused;
      reply.value.reason = answer->reason;
      return reply;
    }
    for (const auto& [output, member] : op.output_members) {
      std::optional<std::string> value = DataText(answer->data, member);
      if (!value.has_value()) {
        return Unusable(op, absl::StrCat("its answer lacks ", member),
                        answer->reference);
      }
      // A number or reference, shown to officers and passed to later steps
      // (which take at most kMaxOutputBytes).
      if (absl::Status text = validation::ValidateText(*value, kMaxOutputBytes);
          !text.ok()) {
        return Unusable(op,
                        absl::StrCat("its ", member,
                                     " is not usable text: ", text.message()),
                        answer->reference);
      }
      // A citizen's ID (the child's, sent by later steps and hashed in
      // the audit): an ID, not a JSON number that lost its leading 0, and a
      // 12-digit one: later steps (residence, social insurance) take no old
      // ID card number, nor do the bundle's own inputs, so taking one here
      // would record the step done and stall the steps after it.
      // An amount of money (a funeral allowance): whole dong, more than
      // none, as digits (a JSON number reads as its digits).
      if (absl::EndsWith(output, "_vnd") &&
          (value->empty() || value->size() > 15 || (*value)[0] == '0' ||
           !AllDigits(*value))) {
        return Unusable(op,
                        absl::StrCat("its ", member,
                                     " is not an amount of money (whole "
                                     "dong, more than 0)"),
                        answer->reference);
      }
      if (output == "citizen_id" || absl::EndsWith(output, "_citizen_id")) {
        std::optional<google::type::Date> born = BirthDate(op, inputs, output);
        absl::Status id =
            validation::IsOldIdCard(*value)
                ? absl::InvalidArgumentError(
                      "must be a 12-digit personal ID, not an old ID card "
                      "number")
                : validation::ValidateCitizenId(
                      *value, born.has_value() ? &*born : nullptr, absl::Now());
        const std::string* gender =
            OwnerInput(op, inputs, output, &AgencyOperation::IdOwner::gender);
        if (id.ok() && gender != nullptr &&
            (*gender == "male" || *gender == "female")) {
          id = validation::CheckIdGender(*value, *gender == "female");
        }
        if (!id.ok()) {
          return Unusable(
              op,
              absl::StrCat("its ", member,
                           " is not a citizen's ID: ", id.message()),
              answer->reference);
        }
      }
      reply.value.outputs[output] = *std::move(value);
    }
    return reply;
  }

  // Transport failures: the step may or may not have arrived, so each is
  // worth another try under the same key; CANCELLED (shutting down) stays.
  absl::Status TransportError(const absl::Status& status) const {
    switch (status.code()) {
      case absl::StatusCode::kCancelled:
        return status;
      case absl::StatusCode::kDeadlineExceeded:
        return MarkRetriable(absl::DeadlineExceededError(
            absl::StrCat("agency '", agency_, "' did not answer in time")));
      default:
        return MarkRetriable(absl::UnavailableError(absl::StrCat(
            "agency '", agency_, "' is unreachable: ", status.message())));
    }
  }

  const std::string agency_;
  const lienthong::config::v1::HttpsUpstream upstream_;
  const std::string api_key_;
  const std::vector<AgencyOperation> operations_;
  std::vector<StepOperation> infos_;
  HttpClient* const http_;
};

}  // namespace

absl::StatusOr<std::string> StepInputs::Get(const std::string& name) const {
  auto it = inputs_.find(name);
  if (it == inputs_.end() || it->second.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", name, "' is required"));
  }
  return it->second;
}

bool StepInputs::Has(const std::string& name) const {
  auto it = inputs_.find(name);
  return it != inputs_.end() && !it->second.empty();
}

absl::StatusOr<std::string> StepInputs::Text(const std::string& name,
                                             size_t max_bytes) const {
  absl::StatusOr<std::string> text = Get(name);
  if (!text.ok()) return text;
  if (absl::Status s = validation::ValidateText(*text, max_bytes); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", name, "': ", s.message()));
  }
  return text;
}

absl::StatusOr<std::string> StepInputs::Digits(const std::string& name,
                                               size_t count) const {
  absl::StatusOr<std::string> text = Get(name);
  if (!text.ok()) return text;
  if (text->size() != count || !AllDigits(*text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", name, "' must be ", count, " digits"));
  }
  return text;
}

absl::StatusOr<std::string> StepInputs::CitizenId(
    const std::string& name) const {
  absl::StatusOr<std::string> id = Digits(name, 12);
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", name, "' must be a 12-digit personal ID"));
  }
  return id;
}

absl::StatusOr<std::string> StepInputs::Date(const std::string& name) const {
  absl::StatusOr<std::string> text = Get(name);
  if (!text.ok()) return text;
  std::optional<absl::CivilDay> day = validation::ParseIsoDate(*text);
  if (!day.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", name, "' must be a date yyyy-MM-dd"));
  }
  return absl::StrFormat("%04d%02d%02d", day->year(), day->month(), day->day());
}

absl::StatusOr<std::string> StepInputs::Gender(const std::string& name) const {
  absl::StatusOr<std::string> text = Get(name);
  if (!text.ok()) return text;
  if (*text == "male") return std::string("1");
  if (*text == "female") return std::string("2");
  return absl::InvalidArgumentError(
      absl::StrCat("input '", name, "' must be male or female"));
}

void Put(google::protobuf::Struct& object, const std::string& key,
         const std::string& value) {
  (*object.mutable_fields())[key].set_string_value(value);
}

google::protobuf::Struct& Child(google::protobuf::Struct& object,
                                const std::string& key) {
  return *(*object.mutable_fields())[key].mutable_struct_value();
}

absl::Status ValidateAgencyEndpoint(
    const lienthong::config::v1::HttpsUpstream& upstream,
    const std::string& api_key) {
  if (absl::Status url = CheckBaseUrl(upstream.base_url()); !url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("upstream.base_url ", url.message()));
  }
  if (!IsHeaderSafe(api_key)) {
    return absl::InvalidArgumentError(
        "api_key is required (1 to 200 visible ASCII characters)");
  }
  return absl::OkStatus();
}

std::unique_ptr<Adapter> MakeAgencyAdapter(
    std::string agency, lienthong::config::v1::HttpsUpstream upstream,
    std::string api_key, std::vector<AgencyOperation> operations,
    HttpClient* http) {
  return std::make_unique<AgencyAdapter>(std::move(agency), std::move(upstream),
                                         std::move(api_key),
                                         std::move(operations), http);
}

absl::StatusOr<std::string> OperationPath(absl::string_view field,
                                          const std::string& configured,
                                          absl::string_view default_path) {
  if (configured.empty()) return std::string(default_path);
  if (absl::Status path = CheckUrlPath(configured); !path.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " ", path.message()));
  }
  return configured;
}

absl::StatusOr<std::unique_ptr<Adapter>> CreateAgencyAdapter(
    const lienthong::config::v1::HttpsUpstream& upstream,
    const std::string& api_key,
    absl::FunctionRef<absl::StatusOr<std::vector<AgencyOperation>>()>
        operations,
    const AdapterContext& context) {
  LIENTHONG_RETURN_IF_ERROR(ValidateAgencyEndpoint(upstream, api_key));
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<AgencyOperation> table, operations());
  if (context.http == nullptr) {
    return absl::InternalError("no HTTP client in the adapter context");
  }
  return MakeAgencyAdapter(context.instance_name, upstream, api_key,
                           std::move(table), context.http);
}

}  // namespace lienthong::adapters::agency
