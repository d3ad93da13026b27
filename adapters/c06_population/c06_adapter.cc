#include "adapters/c06_population/c06_adapter.h"

#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "adapters/c06_population/auth.h"
#include "adapters/c06_population/lookup_response.h"
#include "adapters/c06_population/soap_envelope.h"
#include "adapters/c06_population/soap_request.h"
#include "adapters/c06_population/verify_response.h"
#include "adapters/common/http/base_url.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/common/text.h"
#include "gateway/log/log.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/text.h"

namespace lienthong::adapters::c06 {
namespace {

using lienthong::v1::Citizen;
using lienthong::v1::VerifyIdentityResponse;

// Transport failures keep their code, with a message naming the system; a
// failed connection is worth another try. A reply over the HTTP client's
// limit is not (sending again gets the same reply, downloaded again): it is
// UNAVAILABLE naming the limit, logged for the operator.
absl::Status UpstreamError(const absl::Status& status,
                           absl::string_view instance,
                           absl::string_view trace_id) {
  if (std::optional<size_t> limit = ReplyTooLargeLimit(status)) {
    absl::Status too_large = absl::UnavailableError(
        absl::StrCat("population database sent ", ReplyTooLargeText(*limit)));
    log::Warning("unusable reply", {{"system", instance},
                                    {"trace_id", trace_id},
                                    {"problem", too_large.message()}});
    return too_large;
  }
  if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    return absl::DeadlineExceededError(
        "population database did not answer in time");
  }
  absl::Status mapped(
      status.code(),
      absl::StrCat("population database unreachable: ", status.message()));
  return status.code() == absl::StatusCode::kUnavailable
             ? MarkRetriable(std::move(mapped))
             : mapped;
}

class C06Adapter final : public Adapter,
                         public PopulationAdapter,
                         public IdentityAdapter {
 public:
  C06Adapter(std::string instance, C06PopulationSoapConfig config,
             HttpClient* http)
      : instance_(std::move(instance)),
        config_(std::move(config)),
        http_(http),
        lookup_url_(
            absl::StrCat(config_.upstream().base_url(), config_.path())),
        verify_url_(absl::StrCat(config_.upstream().base_url(),
                                 config_.identity_path().empty()
                                     ? config_.path()
                                     : config_.identity_path())) {}

  PopulationAdapter* population() override { return this; }
  IdentityAdapter* identity() override { return this; }

  void Lookup(const lienthong::v1::LookupCitizenRequest& request,
              const CallContext& context, Callback<Citizen> done) override {
    absl::StatusOr<std::string> procedure =
        validation::NationalProcedureCode(request.purpose());
    if (!procedure.ok()) {
      std::move(done)(MarkNotSent(procedure.status()));
      return;
    }
    LookupEnvelopeInput input;
    input.request_id = NextRequestId(context);
    input.procedure_code = *std::move(procedure);
    input.integration_code = config_.integration_code();
    input.officer_id = request.officer().citizen_id();
    input.officer_unit = request.officer().unit_code();
    input.officer_account = request.officer().account();
    input.citizen_id = request.citizen_id();
    Post<Citizen>(
        lookup_url_, BuildLookupEnvelope(input), context,
        [asked = request.citizen_id(), reference = input.request_id](
            const HttpResponse& response) -> absl::StatusOr<Reply<Citizen>> {
          absl::StatusOr<LookupReply> reply =
              ParseLookupResponse(response.status, response.body, asked);
          if (!reply.ok()) return reply.status();
          if (!reply->found) {
            return absl::NotFoundError("no citizen has this ID");
          }
          return Reply<Citizen>{std::move(reply->citizen), reference};
        },
        std::move(done));
  }

  void Verify(const lienthong::v1::VerifyIdentityRequest& request,
              const CallContext& context,
              Callback<VerifyIdentityResponse> done) override {
    absl::StatusOr<std::string> folded = FoldName(request.full_name());
    if (!folded.ok()) {
      std::move(done)(MarkNotSent(absl::InvalidArgumentError(
          absl::StrCat("full_name: ", folded.status().message()))));
      return;
    }
    VerifyEnvelopeInput input;
    input.request_id = NextRequestId(context);
    input.service_code = config_.identity_service_code();
    input.officer_id = request.officer().citizen_id();
    input.citizen_id = request.citizen_id();
    input.folded_name = *std::move(folded);
    Post<VerifyIdentityResponse>(
        verify_url_, BuildVerifyEnvelope(input), context,
        [reference = input.request_id](const HttpResponse& response)
            -> absl::StatusOr<Reply<VerifyIdentityResponse>> {
          absl::StatusOr<bool> exists =
              ParseVerifyResponse(response.status, response.body);
          if (!exists.ok()) return exists.status();
          VerifyIdentityResponse answer;
          answer.set_result(*exists ? VerifyIdentityResponse::MATCH
                                    : VerifyIdentityResponse::NO_MATCH);
          answer.set_reference(reference);
          return Reply<VerifyIdentityResponse>{std::move(answer), reference};
        },
        std::move(done));
  }

 private:
  // MaYeuCau: the call's trace id and a per-adapter sequence, unique
  // across the gateway's calls.
  std::string NextRequestId(const CallContext& context) {
    return absl::StrFormat("LT-%s-%d", context.trace_id,
                           sequence_.fetch_add(1, std::memory_order_relaxed));
  }

  // POSTs `body` to `url` with the platform's signed headers and calls
  // `done` with `parse`'s result for the answer, or the transport's error.
  // A retriable answer keeps the server's Retry-After. A malformed answer
  // reaches the caller as kMalformedReply alone: the parser names the
  // element that broke the rules, and the element can tell what the
  // caller's grant withholds (a bad SoDinhDanh in VoChong: the citizen has
  // a spouse on record), so only the operator's log gets it.
  template <typename T, typename Parse>
  void Post(const std::string& url, std::string body,
            const CallContext& context, Parse parse, Callback<T> done) {
    HttpRequest http;
    http.url = url;
    http.deadline = context.deadline;
    http.ca_file = config_.upstream().ca_file();
    http.client_cert_file = config_.upstream().client_cert_file();
    http.client_key_file = config_.upstream().client_key_file();
    const std::string timestamp = absl::StrCat(absl::ToUnixMillis(absl::Now()));
    http.headers = {
        "Content-Type: text/xml; charset=utf-8",
        "SOAPAction: \"\"",
        absl::StrCat("X-Road-Client: ", config_.xroad_client()),
        absl::StrCat("ApiKey: ", config_.api_key()),
        absl::StrCat("Timestamp: ", timestamp),
        absl::StrCat(
            "Authorization: ",
            SignedBasicAuthorization(config_.auth_url(), config_.username(),
                                     timestamp, config_.secret())),
    };
    http.body = std::move(body);
    http_->Send(
        std::move(http), [instance = instance_, trace = context.trace_id,
                          parse = std::move(parse), done = std::move(done)](
                             absl::StatusOr<HttpResponse> response) mutable {
          if (!response.ok()) {
            std::move(done)(UpstreamError(response.status(), instance, trace));
            return;
          }
          absl::StatusOr<Reply<T>> reply = parse(*response);
          if (!reply.ok() && IsMalformed(reply.status())) {
            // Element names only: the parser never puts values
            // from the reply into its messages.
            log::Warning("unusable reply",
                         {{"system", instance},
                          {"trace_id", trace},
                          {"http_status", absl::StrCat(response->status)},
                          {"bytes", absl::StrCat(response->body.size())},
                          {"problem", reply.status().message()}});
            std::move(done)(absl::UnavailableError(kMalformedReply));
            return;
          }
          if (!reply.ok() && IsRetriable(reply.status())) {
            std::move(done)(MarkRetriableAfter(
                reply.status(), response->Header("retry-after")));
            return;
          }
          std::move(done)(std::move(reply));
        });
  }

  // The instance's name in the config, for the log.
  const std::string instance_;
  const C06PopulationSoapConfig config_;
  HttpClient* const http_;
  const std::string lookup_url_;
  const std::string verify_url_;
  std::atomic<uint64_t> sequence_{0};
};

absl::Status ValidateConfig(const C06PopulationSoapConfig& config) {
  if (absl::Status url = CheckBaseUrl(config.upstream().base_url());
      !url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("upstream.base_url ", url.message()));
  }
  if (absl::Status path = CheckUrlPath(config.path()); !path.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("path ", path.message()));
  }
  if (absl::Status path = CheckUrlPath(config.identity_path());
      !config.identity_path().empty() && !path.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("identity_path ", path.message()));
  }
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string&>{"xroad_client",
                                                   config.xroad_client()},
        {"api_key", config.api_key()},
        {"username", config.username()},
        {"secret", config.secret()},
        {"auth_url", config.auth_url()},
        {"integration_code", config.integration_code()},
        {"identity_service_code", config.identity_service_code()}}) {
    if (value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
    }
    // A header value or code: printable ASCII, so it cannot split a header.
    if (!validation::IsPrintableAscii(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " must be printable ASCII"));
    }
  }
  if (absl::StrContains(config.username(), ':')) {
    return absl::InvalidArgumentError("username must not contain ':'");
  }
  return absl::OkStatus();
}

class Factory final : public FactoryBase<C06PopulationSoapConfig> {
 public:
  absl::string_view name() const override { return "c06-population-soap"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const C06PopulationSoapConfig& config,
      const AdapterContext& context) const override {
    if (absl::Status status = ValidateConfig(config); !status.ok()) {
      return status;
    }
    if (context.http == nullptr) {
      return absl::InternalError("no HTTP client in the adapter context");
    }
    return std::unique_ptr<Adapter>(
        new C06Adapter(context.instance_name, config, context.http));
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeC06PopulationSoapFactory() {
  return std::make_unique<Factory>();
}

}  // namespace lienthong::adapters::c06
