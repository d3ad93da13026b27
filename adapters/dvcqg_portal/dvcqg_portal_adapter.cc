#include "adapters/dvcqg_portal/dvcqg_portal_adapter.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/dvcqg_portal/portal_request.h"
#include "adapters/dvcqg_portal/portal_response.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::adapters::dvcqg {
namespace {

using lienthong::config::v1::DvcqgPortalRestConfig;

std::string OrDefault(const std::string& value, const char* fallback) {
  return value.empty() ? std::string(fallback) : value;
}

// A header value must be visible ASCII: no way to smuggle in a header.
bool IsHeaderSafe(absl::string_view value) {
  if (value.empty() || value.size() > 200) return false;
  for (char c : value) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

class PortalRestAdapter final : public Adapter, public PortalAdapter {
 public:
  PortalRestAdapter(DvcqgPortalRestConfig config, HttpClient* http)
      : config_(std::move(config)),
        http_(http),
        create_url_(Url(config_.create_procedure_path(), kCreateProcedurePath)),
        update_url_(Url(config_.update_procedure_path(), kUpdateProcedurePath)),
        withdraw_url_(
            Url(config_.withdraw_procedure_path(), kWithdrawProcedurePath)),
        dossier_url_(Url(config_.dossier_status_path(), kDossierStatusPath)) {}

  PortalAdapter* portal() override { return this; }

  void CreateProcedure(const lienthong::v1::Procedure& procedure,
                       const std::string& idempotency_key,
                       const CallContext& context,
                       Callback<PortalOutcome> done) override {
    Send(create_url_, BuildProcedureBody(procedure), idempotency_key, context,
         std::move(done));
  }

  void UpdateProcedure(const lienthong::v1::Procedure& procedure,
                       const std::string& idempotency_key,
                       const CallContext& context,
                       Callback<PortalOutcome> done) override {
    Send(update_url_, BuildProcedureBody(procedure), idempotency_key, context,
         std::move(done));
  }

  void WithdrawProcedure(const std::string& procedure_code,
                         const std::string& idempotency_key,
                         const CallContext& context,
                         Callback<PortalOutcome> done) override {
    Send(withdraw_url_, BuildWithdrawBody(procedure_code), idempotency_key,
         context, std::move(done));
  }

  void PushDossierStatus(const lienthong::v1::DossierStatusUpdate& update,
                         const std::string& idempotency_key,
                         const CallContext& context,
                         Callback<PortalOutcome> done) override {
    Send(dossier_url_, BuildDossierStatusBody(update), idempotency_key,
         context, std::move(done));
  }

 private:
  std::string Url(const std::string& path, const char* fallback) const {
    return absl::StrCat(config_.upstream().base_url(), OrDefault(path, fallback));
  }

  void Send(const std::string& url, absl::StatusOr<std::string> body,
            const std::string& idempotency_key, const CallContext& context,
            Callback<PortalOutcome> done) {
    if (!body.ok()) {
      std::move(done)(body.status());
      return;
    }
    if (!IsHeaderSafe(idempotency_key)) {
      std::move(done)(absl::InvalidArgumentError(
          "idempotency key must be 1 to 200 visible ASCII characters"));
      return;
    }
    HttpRequest request;
    request.url = url;
    request.deadline = context.deadline;
    request.ca_file = config_.upstream().ca_file();
    request.client_cert_file = config_.upstream().client_cert_file();
    request.client_key_file = config_.upstream().client_key_file();
    request.headers = {
        "Content-Type: application/json; charset=utf-8",
        "Accept: application/json",
        absl::StrCat("X-Api-Key: ", config_.api_key()),
        absl::StrCat("X-Idempotency-Key: ", idempotency_key),
    };
    request.body = *std::move(body);
    http_->Send(std::move(request), [done = std::move(done)](
                                        absl::StatusOr<HttpResponse> response) mutable {
      if (!response.ok()) {
        std::move(done)(TransportError(response.status()));
        return;
      }
      absl::StatusOr<PortalOutcome> outcome = ParsePortalAnswer(
          response->status, response->body, response->Header("retry-after"));
      if (!outcome.ok()) {
        std::move(done)(outcome.status());
        return;
      }
      std::move(done)(Reply<PortalOutcome>{*std::move(outcome), ""});
    });
  }

  // Transport failures: the change may or may not have arrived, so each is
  // worth another try under the same key; CANCELLED (shutting down) stays.
  static absl::Status TransportError(const absl::Status& status) {
    switch (status.code()) {
      case absl::StatusCode::kCancelled:
        return status;
      case absl::StatusCode::kDeadlineExceeded:
        return MarkRetriable(absl::DeadlineExceededError(
            "the portal did not answer in time"));
      default:
        return MarkRetriable(absl::UnavailableError(
            absl::StrCat("the portal is unreachable: ", status.message())));
    }
  }

  const DvcqgPortalRestConfig config_;
  HttpClient* const http_;
  const std::string create_url_;
  const std::string update_url_;
  const std::string withdraw_url_;
  const std::string dossier_url_;
};

class Factory final : public FactoryBase<DvcqgPortalRestConfig> {
 public:
  absl::string_view name() const override { return "dvcqg-portal-rest"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const DvcqgPortalRestConfig& config,
      const AdapterContext& context) const override {
    if (!absl::StartsWith(config.upstream().base_url(), "https://")) {
      return absl::InvalidArgumentError(
          "upstream.base_url must start with https://");
    }
    if (!IsHeaderSafe(config.api_key())) {
      return absl::InvalidArgumentError(
          "api_key is required (visible ASCII characters)");
    }
    for (const auto& [field, path] :
         {std::pair<const char*, const std::string&>{
              "create_procedure_path", config.create_procedure_path()},
          {"update_procedure_path", config.update_procedure_path()},
          {"withdraw_procedure_path", config.withdraw_procedure_path()},
          {"dossier_status_path", config.dossier_status_path()}}) {
      if (!path.empty() && !absl::StartsWith(path, "/")) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " must start with /"));
      }
    }
    if (context.http == nullptr) {
      return absl::InternalError("no HTTP client in the adapter context");
    }
    return std::unique_ptr<Adapter>(new PortalRestAdapter(config, context.http));
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeDvcqgPortalRestFactory() {
  return std::make_unique<Factory>();
}

}  // namespace lienthong::adapters::dvcqg
