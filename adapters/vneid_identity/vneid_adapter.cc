#include "adapters/vneid_identity/vneid_adapter.h"

#include <atomic>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/vneid_identity/translation.h"
#include "gateway/metrics/metric.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::adapters::vneid {
namespace {

using lienthong::config::v1::VneidIdentityRestConfig;
using lienthong::v1::VerifyIdentityResponse;

// The access token, shared by every call. Calls that find no fresh token
// queue up behind the one refresh in flight.
class TokenCache {
 public:
  using Waiter = absl::AnyInvocable<void(absl::StatusOr<std::string>) &&>;

  TokenCache(const VneidIdentityRestConfig& config, HttpClient* http,
             metrics::Counter* refreshes_metric)
      : config_(config),
        http_(http),
        refreshes_metric_(refreshes_metric),
        refresh_margin_(absl::Seconds(config.refresh_before_expiry_seconds() > 0
                                          ? config.refresh_before_expiry_seconds()
                                          : 60)) {}

  // Calls `waiter` with a token valid for a while, or with the error of
  // fetching one.
  void Get(absl::Time deadline, Waiter waiter) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!token_.empty() && absl::Now() < refresh_at_) {
      std::string token = token_;
      lock.unlock();
      std::move(waiter)(std::move(token));
      return;
    }
    waiters_.push_back(std::move(waiter));
    if (refreshing_) return;
    refreshing_ = true;
    lock.unlock();
    Refresh(deadline);
  }

  // Forgets `token` if it is still the current one (the server refused it).
  void Invalidate(const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    if (token_ == token) token_.clear();
  }

  int refreshes() const { return refreshes_.load(); }

 private:
  void Refresh(absl::Time deadline) {
    refreshes_.fetch_add(1);
    if (refreshes_metric_ != nullptr) refreshes_metric_->Increment();
    HttpRequest request;
    request.url =
        absl::StrCat(config_.upstream().base_url(), config_.token_path());
    request.deadline = deadline;
    request.ca_file = config_.upstream().ca_file();
    request.client_cert_file = config_.upstream().client_cert_file();
    request.client_key_file = config_.upstream().client_key_file();
    request.headers = {"Content-Type: application/x-www-form-urlencoded",
                       "Accept: application/json"};
    request.body =
        BuildTokenRequestBody(config_.client_id(), config_.client_secret());
    http_->Send(std::move(request), [this](absl::StatusOr<HttpResponse> r) {
      absl::StatusOr<Token> token =
          r.ok() ? ParseTokenResponse(r->status, r->body) : r.status();
      std::vector<Waiter> waiters;
      absl::StatusOr<std::string> result;
      {
        std::lock_guard<std::mutex> lock(mu_);
        refreshing_ = false;
        waiters.swap(waiters_);
        if (token.ok()) {
          token_ = token->access_token;
          absl::Duration life = token->expires_in;
          // Refresh before expiry, but never sooner than half the lifetime.
          refresh_at_ = absl::Now() + std::max(life - refresh_margin_, life / 2);
          result = token_;
        } else if (token.status().code() == absl::StatusCode::kDeadlineExceeded) {
          result = absl::DeadlineExceededError("VNeID did not answer in time");
        } else {
          // Keep the retriable mark of a transient token failure.
          absl::Status failed = absl::UnavailableError(absl::StrCat(
              "VNeID token request failed: ", token.status().message()));
          bool transient = r.ok() ? IsRetriable(token.status())
                                  : token.status().code() ==
                                        absl::StatusCode::kUnavailable;
          result = transient ? MarkRetriable(std::move(failed)) : failed;
        }
      }
      for (Waiter& w : waiters) std::move(w)(result);
    });
  }

  const VneidIdentityRestConfig& config_;
  HttpClient* const http_;
  metrics::Counter* const refreshes_metric_;
  const absl::Duration refresh_margin_;
  std::mutex mu_;
  std::string token_;
  absl::Time refresh_at_ = absl::InfinitePast();
  bool refreshing_ = false;
  std::vector<Waiter> waiters_;
  std::atomic<int> refreshes_{0};
};

class VneidAdapter final : public Adapter, public IdentityAdapter {
 public:
  VneidAdapter(VneidIdentityRestConfig config, HttpClient* http,
               metrics::Counter* token_refreshes)
      : config_(std::move(config)),
        http_(http),
        tokens_(config_, http, token_refreshes),
        verify_url_(
            absl::StrCat(config_.upstream().base_url(), config_.verify_path())) {}

  IdentityAdapter* identity() override { return this; }

  void Verify(const lienthong::v1::VerifyIdentityRequest& request,
              const CallContext& context,
              Callback<VerifyIdentityResponse> done) override {
    std::string request_id = absl::StrFormat(
        "LT-%s-%d", context.trace_id,
        sequence_.fetch_add(1, std::memory_order_relaxed));
    auto body = BuildVerifyBody(request, request_id);
    if (!body.ok()) {
      std::move(done)(body.status());
      return;
    }
    Attempt(*std::move(body), context.deadline, /*retry_on_401=*/true,
            std::move(done));
  }

 private:
  void Attempt(std::string body, absl::Time deadline, bool retry_on_401,
               Callback<VerifyIdentityResponse> done) {
    tokens_.Get(deadline, [this, body = std::move(body), deadline, retry_on_401,
                           done = std::move(done)](
                              absl::StatusOr<std::string> token) mutable {
      if (!token.ok()) {
        std::move(done)(token.status());
        return;
      }
      HttpRequest request;
      request.url = verify_url_;
      request.deadline = deadline;
      request.ca_file = config_.upstream().ca_file();
      request.client_cert_file = config_.upstream().client_cert_file();
      request.client_key_file = config_.upstream().client_key_file();
      request.headers = {"Content-Type: application/json",
                         "Accept: application/json",
                         absl::StrCat("Authorization: Bearer ", *token)};
      request.body = body;
      http_->Send(std::move(request),
                  [this, body = std::move(body), deadline, retry_on_401,
                   token = *token, done = std::move(done)](
                      absl::StatusOr<HttpResponse> response) mutable {
                    if (!response.ok()) {
                      std::move(done)(UpstreamError(response.status()));
                      return;
                    }
                    auto parsed =
                        ParseVerifyResponse(response->status, response->body);
                    if (parsed.status().code() ==
                        absl::StatusCode::kUnauthenticated) {
                      tokens_.Invalidate(token);
                      if (retry_on_401) {
                        Attempt(std::move(body), deadline, false,
                                std::move(done));
                        return;
                      }
                      std::move(done)(absl::UnavailableError(
                          "VNeID refused the gateway's token"));
                      return;
                    }
                    if (!parsed.ok()) {
                      absl::Status status = parsed.status();
                      if (IsRetriable(status)) {
                        status = MarkRetriableAfter(
                            status, response->Header("retry-after"));
                      }
                      std::move(done)(status);
                      return;
                    }
                    std::string reference = parsed->reference();
                    std::move(done)(Reply<VerifyIdentityResponse>{
                        *std::move(parsed), std::move(reference)});
                  });
    });
  }

  static absl::Status UpstreamError(const absl::Status& status) {
    if (status.code() == absl::StatusCode::kDeadlineExceeded) {
      return absl::DeadlineExceededError("VNeID did not answer in time");
    }
    absl::Status mapped(status.code(), absl::StrCat("VNeID unreachable: ",
                                                    status.message()));
    return status.code() == absl::StatusCode::kUnavailable
               ? MarkRetriable(std::move(mapped))
               : mapped;
  }

  const VneidIdentityRestConfig config_;
  HttpClient* const http_;
  TokenCache tokens_;
  const std::string verify_url_;
  std::atomic<uint64_t> sequence_{0};
};

class Factory final : public FactoryBase<VneidIdentityRestConfig> {
 public:
  absl::string_view name() const override { return "vneid-identity-rest"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const VneidIdentityRestConfig& config,
      const AdapterContext& context) const override {
    if (!absl::StartsWith(config.upstream().base_url(), "https://")) {
      return absl::InvalidArgumentError(
          "upstream.base_url must start with https://");
    }
    if (!absl::StartsWith(config.token_path(), "/") ||
        !absl::StartsWith(config.verify_path(), "/")) {
      return absl::InvalidArgumentError(
          "token_path and verify_path must start with /");
    }
    if (config.client_id().empty() || config.client_secret().empty()) {
      return absl::InvalidArgumentError(
          "client_id and client_secret are required");
    }
    if (context.http == nullptr) {
      return absl::InternalError("no HTTP client in the adapter context");
    }
    return std::unique_ptr<Adapter>(new VneidAdapter(config, context.http, context.token_refreshes));
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeVneidIdentityRestFactory() {
  return std::make_unique<Factory>();
}

}  // namespace lienthong::adapters::vneid
