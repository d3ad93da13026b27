#include "adapters/grpc_upstream/grpc_upstream_adapter.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/common/retriable.h"
#include "adapters/common/text.h"
#include "adapters/grpc_upstream/grpc_upstream_config.pb.h"
#include "gateway/log/log.h"
#include "gateway/proto_util/unknown_fields.h"
#include "gateway/validation/citizen_id.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"

namespace lienthong::adapters::grpc_upstream {
namespace {

absl::StatusOr<std::string> ReadFile(absl::string_view field,
                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": cannot read '", path, "'"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// What a failed upstream call becomes. The upstream's own message is never
// passed on: it is another system's text and may hold anything, personal
// data included (it is logged, digits masked). A connection that failed or an upstream that said it is
// unavailable is worth another try, as a 503 is for the HTTP adapters; an
// upstream that refuses the gateway itself (its certificate) or fails
// inside is down as far as the caller is concerned; answers about the
// request keep their code.
absl::Status Relay(const grpc::Status& status) {
  const std::string code = absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
  // Its text is for the operator, masked and bounded.
  log::Warning("gRPC upstream answered with an error",
               {{"code", code},
                {"upstream_message", MaskedForLog(status.error_message())}});
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          "gRPC upstream did not answer in time");
    case grpc::StatusCode::UNAVAILABLE:
      return MarkRetriable(absl::UnavailableError("gRPC upstream unavailable"));
    // The adapter never cancels its calls: CANCELLED is the upstream (or a
    // proxy before it) resetting the stream. Passed on as it is, the caller,
    // which cancelled nothing, would read it as its own cancellation, and
    // the breaker, which ignores those, would never open on such an upstream.
    case grpc::StatusCode::CANCELLED:
      return MarkRetriable(
          absl::UnavailableError("gRPC upstream cancelled the call"));
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::UnavailableError(
          absl::StrCat("gRPC upstream refused the gateway (", code, ")"));
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnavailableError(
          absl::StrCat("gRPC upstream failed (", code, ")"));
    default:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat("gRPC upstream answered ", code));
  }
}

// The field of Citizen that names the citizen asked for by `asked_id`:
// old_id_number for a 9-digit old ID card number, else citizen_id, as the
// C06 adapter compares its records
// (adapters/c06_population/lookup_response.cc).
const google::protobuf::FieldDescriptor* IdentifyingField(
    absl::string_view asked_id) {
  return lienthong::v1::Citizen::descriptor()->FindFieldByNumber(
      validation::IsOldIdCard(asked_id)
          ? lienthong::v1::Citizen::kOldIdNumberFieldNumber
          : lienthong::v1::Citizen::kCitizenIdFieldNumber);
}

// A record must be about the citizen asked for: a buggy or hostile upstream
// must not hand the caller another person's record while the audit names
// the one asked for. Not retriable: asking again gets the same record. The
// messages name no ID.
absl::Status CheckSameCitizen(const lienthong::v1::Citizen& citizen,
                              absl::string_view asked_id) {
  const google::protobuf::FieldDescriptor* field = IdentifyingField(asked_id);
  const std::string answered =
      citizen.GetReflection()->GetString(citizen, field);
  if (answered.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "gRPC upstream answered a citizen without ", field->name()));
  }
  if (answered != asked_id) {
    return absl::UnavailableError(
        "gRPC upstream answered about another citizen");
  }
  return absl::OkStatus();
}

// Only MATCH or NO_MATCH may reach the caller (identity.proto): telling "no
// such ID" from "wrong name" would let a caller probe IDs. An upstream that
// says there is no such citizen (NOT_FOUND, as a status or as the retired
// result value 3 an older peer may still send) is therefore answered
// NO_MATCH, which is what it means to the caller. RESULT_UNSPECIFIED or any
// other value says nothing: refused, not retried (asking again gets the same
// answer), its value for the operator only.
constexpr int kRetiredNotFound = 3;

absl::Status CheckVerifyResult(
    lienthong::v1::VerifyIdentityResponse& response) {
  switch (static_cast<int>(response.result())) {
    case lienthong::v1::VerifyIdentityResponse::MATCH:
    case lienthong::v1::VerifyIdentityResponse::NO_MATCH:
      return absl::OkStatus();
    case kRetiredNotFound:
      response.set_result(lienthong::v1::VerifyIdentityResponse::NO_MATCH);
      return absl::OkStatus();
    default:
      log::Warning(
          "gRPC upstream answered an unknown verification result",
          {{"result", absl::StrCat(static_cast<int>(response.result()))}});
      return absl::UnavailableError(
          "gRPC upstream answered an unknown verification result");
  }
}

// One call's state, alive until gRPC's completion callback: the request is
// copied because gRPC reads it after the adapter has returned.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
  Callback<Response> done;
};

std::string Reference(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("lienthong-reference");
  if (it == trailers.end()) return {};
  return std::string(it->second.data(), it->second.size());
}

class GrpcUpstreamAdapter final : public Adapter,
                                  public IdentityAdapter,
                                  public PopulationAdapter {
 public:
  explicit GrpcUpstreamAdapter(std::shared_ptr<grpc::Channel> channel)
      : identity_(lienthong::v1::IdentityService::NewStub(channel)),
        population_(lienthong::v1::PopulationService::NewStub(channel)) {}

  IdentityAdapter* identity() override { return this; }
  PopulationAdapter* population() override { return this; }

  void Verify(const lienthong::v1::VerifyIdentityRequest& request,
              const CallContext& context,
              Callback<lienthong::v1::VerifyIdentityResponse> done) override {
    auto* call = new Call<lienthong::v1::VerifyIdentityRequest, lienthong::v1::VerifyIdentityResponse>();
    call->request = request;
    proto_util::DiscardUnknownFields(&call->request);
    call->done = std::move(done);
    call->context.set_deadline(absl::ToChronoTime(context.deadline));
    identity_->async()->VerifyIdentity(
        &call->context, &call->request, &call->response, [call](grpc::Status s) {
          std::unique_ptr<Call<lienthong::v1::VerifyIdentityRequest, lienthong::v1::VerifyIdentityResponse>> owned(call);
          if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
            owned->response.Clear();
            owned->response.set_result(
                lienthong::v1::VerifyIdentityResponse::NO_MATCH);
            std::move(owned->done)(Reply<lienthong::v1::VerifyIdentityResponse>{
                std::move(owned->response), std::string()});
            return;
          }
          if (!s.ok()) {
            std::move(owned->done)(Relay(s));
            return;
          }
          // Fields this gateway does not know are not passed on.
          proto_util::DiscardUnknownFields(&owned->response);
          if (absl::Status result = CheckVerifyResult(owned->response);
              !result.ok()) {
            std::move(owned->done)(std::move(result));
            return;
          }
          std::string reference = owned->response.reference();
          std::move(owned->done)(
              Reply<lienthong::v1::VerifyIdentityResponse>{
                  std::move(owned->response), std::move(reference)});
        });
  }

  void Lookup(const lienthong::v1::LookupCitizenRequest& request,
              const CallContext& context,
              Callback<lienthong::v1::Citizen> done) override {
    auto* call = new Call<lienthong::v1::LookupCitizenRequest, lienthong::v1::Citizen>();
    call->request = request;
    // Only what the gateway checked goes on: fields of the caller's request
    // it does not know (proto3 keeps them) could mean something to a newer
    // upstream that no policy here has seen.
    proto_util::DiscardUnknownFields(&call->request);
    // The answer is checked by the field that names the citizen
    // (CheckSameCitizen), which the caller's mask may leave out: it is asked
    // for too, and the server trims the reply to the caller's mask. An empty
    // mask asks for every field the upstream grants this gateway.
    if (request.fields().paths_size() > 0) {
      const std::string& identifying =
          IdentifyingField(request.citizen_id())->name();
      const auto& paths = request.fields().paths();
      if (std::find(paths.begin(), paths.end(), identifying) == paths.end()) {
        call->request.mutable_fields()->add_paths(identifying);
      }
    }
    call->done = std::move(done);
    call->context.set_deadline(absl::ToChronoTime(context.deadline));
    population_->async()->LookupCitizen(
        &call->context, &call->request, &call->response, [call](grpc::Status s) {
          std::unique_ptr<Call<lienthong::v1::LookupCitizenRequest, lienthong::v1::Citizen>> owned(call);
          if (!s.ok()) {
            std::move(owned->done)(Relay(s));
            return;
          }
          proto_util::DiscardUnknownFields(&owned->response);
          if (absl::Status same = CheckSameCitizen(owned->response,
                                                   owned->request.citizen_id());
              !same.ok()) {
            std::move(owned->done)(std::move(same));
            return;
          }
          std::move(owned->done)(Reply<lienthong::v1::Citizen>{
              std::move(owned->response), Reference(owned->context)});
        });
  }

 private:
  std::unique_ptr<lienthong::v1::IdentityService::Stub> identity_;
  std::unique_ptr<lienthong::v1::PopulationService::Stub> population_;
};

class Factory final : public FactoryBase<GrpcUpstreamConfig> {
 public:
  absl::string_view name() const override { return "grpc-upstream"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const GrpcUpstreamConfig& config,
      const AdapterContext& context) const override {
    if (config.target().empty()) {
      return absl::InvalidArgumentError("target is required");
    }
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    bool tls = !config.ca_file().empty() || !config.client_cert_file().empty();
    if (!tls) {
      if (!config.insecure_plaintext()) {
        return absl::InvalidArgumentError(
            "ca_file is required (or insecure_plaintext: true for a "
            "plaintext upstream)");
      }
      credentials = grpc::InsecureChannelCredentials();
    } else {
      grpc::SslCredentialsOptions ssl;
      if (!config.ca_file().empty()) {
        auto ca = ReadFile("ca_file", config.ca_file());
        if (!ca.ok()) return ca.status();
        ssl.pem_root_certs = *std::move(ca);
      }
      if (config.client_cert_file().empty() != config.client_key_file().empty()) {
        return absl::InvalidArgumentError(
            "client_cert_file and client_key_file go together");
      }
      if (!config.client_cert_file().empty()) {
        auto cert = ReadFile("client_cert_file", config.client_cert_file());
        if (!cert.ok()) return cert.status();
        auto key = ReadFile("client_key_file", config.client_key_file());
        if (!key.ok()) return key.status();
        ssl.pem_cert_chain = *std::move(cert);
        ssl.pem_private_key = *std::move(key);
      }
      credentials = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    if (!config.tls_server_name().empty()) {
      args.SetSslTargetNameOverride(config.tls_server_name());
    }
    // A channel of its own per instance, so upstream connections are not
    // shared with anything else in the process.
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    // The gateway retries on its own terms (budget, Retry-After); gRPC's
    // retry filter would only copy every message in case of a retry.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    auto channel =
        grpc::CreateCustomChannel(config.target(), credentials, args);
    return std::unique_ptr<Adapter>(new GrpcUpstreamAdapter(std::move(channel)));
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeGrpcUpstreamFactory() {
  return std::make_unique<Factory>();
}

}  // namespace lienthong::adapters::grpc_upstream
