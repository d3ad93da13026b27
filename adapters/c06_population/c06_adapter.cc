#include "adapters/c06_population/c06_adapter.h"

#include <atomic>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "adapters/c06_population/auth.h"
#include "adapters/c06_population/soap_request.h"
#include "adapters/c06_population/soap_response.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"

namespace lienthong::adapters::c06 {
namespace {

using lienthong::config::v1::C06PopulationSoapConfig;

class C06Adapter final : public Adapter, public PopulationAdapter {
 public:
  C06Adapter(C06PopulationSoapConfig config, HttpClient* http)
      : config_(std::move(config)),
        http_(http),
        url_(absl::StrCat(config_.upstream().base_url(), config_.path())) {}

  PopulationAdapter* population() override { return this; }

  void Lookup(const lienthong::v1::LookupCitizenRequest& request,
              const CallContext& context,
              Callback<lienthong::v1::Citizen> done) override {
    LookupEnvelopeInput input;
    input.request_id = absl::StrFormat(
        "LT-%s-%d", context.trace_id,
        sequence_.fetch_add(1, std::memory_order_relaxed));
    input.unit_code = config_.unit_code();
    input.officer_code = config_.officer_code();
    input.citizen_id = request.citizen_id();

    HttpRequest http;
    http.url = url_;
    http.deadline = context.deadline;
    http.ca_file = config_.upstream().ca_file();
    http.client_cert_file = config_.upstream().client_cert_file();
    http.client_key_file = config_.upstream().client_key_file();
    std::string timestamp = absl::StrCat(absl::ToUnixSeconds(absl::Now()));
    http.headers = {
        "Content-Type: text/xml; charset=utf-8",
        "SOAPAction: \"http://dancuquocgia.bca/TraCuuThongTinCongDan\"",
        absl::StrCat("X-Road-Client: ", config_.xroad_client()),
        absl::StrCat("X-Api-Key: ", config_.api_key()),
        absl::StrCat("Timestamp: ", timestamp),
        absl::StrCat("Authorization: ",
                     SignedBasicAuthorization(url_, config_.username(),
                                              timestamp, config_.secret())),
    };
    http.body = BuildLookupEnvelope(input);
    http_->Send(std::move(http), [done = std::move(done)](
                                     absl::StatusOr<HttpResponse> response) mutable {
      if (!response.ok()) {
        std::move(done)(UpstreamError(response.status()));
        return;
      }
      auto reply = ParseLookupResponse(response->status, response->body);
      if (!reply.ok()) {
        absl::Status status = reply.status();
        if (IsRetriable(status)) {
          status = MarkRetriableAfter(status, response->Header("retry-after"));
        }
        std::move(done)(status);
        return;
      }
      if (!reply->found) {
        std::move(done)(absl::NotFoundError("no citizen has this ID"));
        return;
      }
      std::move(done)(Reply<lienthong::v1::Citizen>{std::move(reply->citizen),
                                                    std::move(reply->reference)});
    });
  }

 private:
  // Transport failures keep their code, with a message naming the system;
  // a failed connection is worth another try.
  static absl::Status UpstreamError(const absl::Status& status) {
    if (status.code() == absl::StatusCode::kDeadlineExceeded) {
      return absl::DeadlineExceededError(
          "population database did not answer in time");
    }
    absl::Status mapped(status.code(),
                        absl::StrCat("population database unreachable: ",
                                     status.message()));
    return status.code() == absl::StatusCode::kUnavailable
               ? MarkRetriable(std::move(mapped))
               : mapped;
  }

  const C06PopulationSoapConfig config_;
  HttpClient* const http_;
  const std::string url_;
  std::atomic<uint64_t> sequence_{0};
};

class Factory final : public FactoryBase<C06PopulationSoapConfig> {
 public:
  absl::string_view name() const override { return "c06-population-soap"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const C06PopulationSoapConfig& config,
      const AdapterContext& context) const override {
    if (!absl::StartsWith(config.upstream().base_url(), "https://")) {
      return absl::InvalidArgumentError(
          "upstream.base_url must start with https://");
    }
    if (!absl::StartsWith(config.path(), "/")) {
      return absl::InvalidArgumentError("path must start with /");
    }
    for (const auto& [field, value] :
         {std::pair<const char*, const std::string&>{"xroad_client",
                                                      config.xroad_client()},
          {"api_key", config.api_key()},
          {"username", config.username()},
          {"secret", config.secret()},
          {"unit_code", config.unit_code()}}) {
      if (value.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
      }
    }
    if (context.http == nullptr) {
      return absl::InternalError("no HTTP client in the adapter context");
    }
    return std::unique_ptr<Adapter>(new C06Adapter(config, context.http));
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeC06PopulationSoapFactory() {
  return std::make_unique<Factory>();
}

}  // namespace lienthong::adapters::c06
