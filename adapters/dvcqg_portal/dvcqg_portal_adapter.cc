#include "adapters/dvcqg_portal/dvcqg_portal_adapter.h"

#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/common/http/base_url.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/dvcqg_portal/catalogue_response.h"
#include "adapters/dvcqg_portal/dvcqg_portal_config.pb.h"
#include "adapters/dvcqg_portal/portal_request.h"
#include "adapters/dvcqg_portal/portal_response.h"
#include "adapters/dvcqg_portal/session.h"
#include "gateway/validation/text.h"

namespace lienthong::adapters::dvcqg {
namespace {

using lienthong::v1::DossierStatusUpdate;
using Answer = absl::StatusOr<PortalAnswer>;
using AnswerCallback = absl::AnyInvocable<void(Answer) &&>;
using Message = google::protobuf::Message;

// A header value must be visible ASCII: no way to smuggle in a header.
bool IsHeaderSafe(absl::string_view value) {
  return !value.empty() && value.size() <= 200 &&
         validation::IsVisibleAscii(value);
}

// Transport failures: the change may or may not have arrived, so each is
// worth another try under the same key; CANCELLED (shutting down) stays. A
// reply over the HTTP client's limit says so: the same request may get the
// same reply again, which the operator must know of.
absl::Status TransportError(const absl::Status& status) {
  if (std::optional<size_t> limit = ReplyTooLargeLimit(status)) {
    return MarkRetriable(absl::UnavailableError(
        absl::StrCat("the portal sent ", ReplyTooLargeText(*limit))));
  }
  switch (status.code()) {
    case absl::StatusCode::kCancelled:
      return status;
    case absl::StatusCode::kDeadlineExceeded:
      return MarkRetriable(
          absl::DeadlineExceededError("the portal did not answer in time"));
    default:
      return MarkRetriable(absl::UnavailableError(
          absl::StrCat("the portal is unreachable: ", status.message())));
  }
}

// What the adapter's calls share, kept alive by every call in flight, so a
// late answer after the adapter is gone lands harmlessly.
class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(DvcqgPortalRestConfig config, HttpClient* http)
      : config_(std::move(config)),
        http_(http),
        auth_url_(Url(config_.auth_endpoint())),
        integration_url_(Url(config_.integration_endpoint())),
        share_url_(config_.share_endpoint().empty()
                       ? integration_url_
                       : Url(config_.share_endpoint())),
        session_codes_(config_.session_error_codes().begin(),
                       config_.session_error_codes().end()),
        sessions_(
            [this](absl::Time deadline, SessionCache::Done done) {
              SignIn(deadline, std::move(done));
            },
            absl::Seconds(config_.session_max_age_seconds() == 0
                              ? 600
                              : config_.session_max_age_seconds())) {
    if (session_codes_.empty())
      session_codes_.push_back(kDefaultSessionErrorCode);
  }

  const std::string& madonvi() const { return config_.madonvi(); }

  // Posts `request` with the session to the integration endpoint (the
  // share endpoint when `share`), under `idempotency_key` when not empty.
  // A refused session is renewed and the call sent once more; refused
  // again, the call fails retriable. Calls `done` with the answer.
  void Call(std::shared_ptr<Message> request, bool share,
            std::string idempotency_key, absl::Time deadline,
            AnswerCallback done) {
    auto attempt = std::make_shared<Attempt>();
    attempt->request = std::move(request);
    attempt->url = share ? share_url_ : integration_url_;
    attempt->idempotency_key = std::move(idempotency_key);
    attempt->deadline = deadline;
    attempt->done = std::move(done);
    Send(std::move(attempt));
  }

 private:
  struct Attempt {
    std::shared_ptr<Message> request;
    std::string url;
    std::string idempotency_key;
    absl::Time deadline;
    AnswerCallback done;
    bool renewed = false;
  };

  std::string Url(const std::string& endpoint) const {
    return absl::StrCat(config_.upstream().base_url(), endpoint);
  }

  HttpRequest NewRequest(const std::string& url, std::string body,
                         absl::Time deadline,
                         const std::string& idempotency_key) const {
    HttpRequest request;
    request.url = url;
    request.deadline = deadline;
    request.ca_file = config_.upstream().ca_file();
    request.client_cert_file = config_.upstream().client_cert_file();
    request.client_key_file = config_.upstream().client_key_file();
    request.headers = {"Content-Type: application/json; charset=utf-8",
                       "Accept: application/json"};
    if (!config_.dstcode().empty()) {
      request.headers.push_back(absl::StrCat("dstcode: ", config_.dstcode()));
    }
    if (!idempotency_key.empty()) {
      request.headers.push_back(
          absl::StrCat("X-Idempotency-Key: ", idempotency_key));
      // A change: never sent again behind the outbox's back (libcurl would,
      // on a new connection, when a kept-alive one closes before the
      // answer), so that a lost answer is seen as one and the next attempt
      // looks first (TraCuuHoSo) on a portal that ignores the key.
      request.send_once = true;
    }
    request.body = std::move(body);
    return request;
  }

  void SignIn(absl::Time deadline, SessionCache::Done done) {
    wire::SignInRequest sign_in =
        BuildSignIn(config_.username(), config_.password());
    absl::StatusOr<std::string> body = ToJsonWithSession(sign_in, "");
    if (!body.ok()) {
      std::move(done)(body.status());
      return;
    }
    http_->Send(NewRequest(auth_url_, *std::move(body), deadline, ""),
                [self = shared_from_this(), done = std::move(done)](
                    absl::StatusOr<HttpResponse> response) mutable {
                  if (!response.ok()) {
                    std::move(done)(TransportError(response.status()));
                    return;
                  }
                  std::move(done)(ParseSignIn(response->status, response->body,
                                              response->Header("retry-after")));
                });
  }

  void Send(std::shared_ptr<Attempt> attempt) {
    sessions_.Acquire(
        [self = shared_from_this(),
         attempt](absl::StatusOr<SessionCache::Session> session) mutable {
          if (!session.ok()) {
            std::move(attempt->done)(session.status());
            return;
          }
          absl::StatusOr<std::string> body =
              ToJsonWithSession(*attempt->request, session->token);
          if (!body.ok()) {
            std::move(attempt->done)(body.status());
            return;
          }
          const int64_t generation = session->generation;
          self->http_->Send(
              self->NewRequest(attempt->url, *std::move(body),
                               attempt->deadline, attempt->idempotency_key),
              [self, attempt,
               generation](absl::StatusOr<HttpResponse> response) mutable {
                self->Answered(std::move(attempt), generation,
                               std::move(response));
              });
        });
  }

  void Answered(std::shared_ptr<Attempt> attempt, int64_t generation,
                absl::StatusOr<HttpResponse> response) {
    if (!response.ok()) {
      std::move(attempt->done)(TransportError(response.status()));
      return;
    }
    Answer answer =
        ParsePortalAnswer(response->status, response->body,
                          response->Header("retry-after"), session_codes_);
    if (answer.ok() && answer->kind == PortalAnswer::Kind::kSessionRefused) {
      sessions_.Refused(generation);
      if (!attempt->renewed) {
        attempt->renewed = true;
        Send(std::move(attempt));
        return;
      }
      answer = MarkRetriable(absl::UnavailableError(
          "the portal refused a fresh session of the gateway's account"));
    }
    std::move(attempt->done)(std::move(answer));
  }

  const DvcqgPortalRestConfig config_;
  HttpClient* const http_;
  const std::string auth_url_;
  const std::string integration_url_;
  const std::string share_url_;
  std::vector<std::string> session_codes_;
  SessionCache sessions_;
};

// Calls `done` with the outcome of a change the portal answered.
void Finish(Answer answer, bool create, Callback<PortalOutcome>& done) {
  if (!answer.ok()) {
    std::move(done)(answer.status());
    return;
  }
  absl::StatusOr<PortalOutcome> outcome = ToOutcome(*answer, create);
  if (!outcome.ok()) {
    std::move(done)(outcome.status());
    return;
  }
  std::move(done)(Reply<PortalOutcome>{*std::move(outcome), ""});
}

class PortalRestAdapter final : public Adapter, public PortalAdapter {
 public:
  PortalRestAdapter(DvcqgPortalRestConfig config, HttpClient* http)
      : core_(std::make_shared<Core>(std::move(config), http)) {}

  PortalAdapter* portal() override { return this; }

  void CreateProcedure(const lienthong::v1::Procedure& procedure,
                       const std::string& idempotency_key,
                       const CallContext& context,
                       Callback<PortalOutcome> done) override {
    Publish(procedure, /*is_updating=*/false, /*withdraw=*/false,
            idempotency_key, context, std::move(done));
  }

  void UpdateProcedure(const lienthong::v1::Procedure& procedure,
                       const std::string& idempotency_key,
                       const CallContext& context,
                       Callback<PortalOutcome> done) override {
    Publish(procedure, /*is_updating=*/true, /*withdraw=*/false,
            idempotency_key, context, std::move(done));
  }

  void WithdrawProcedure(const lienthong::v1::Procedure& procedure,
                         const std::string& idempotency_key,
                         const CallContext& context,
                         Callback<PortalOutcome> done) override {
    Publish(procedure, /*is_updating=*/true, /*withdraw=*/true, idempotency_key,
            context, std::move(done));
  }

  void RegisterDossier(const DossierStatusUpdate& update,
                       const std::string& idempotency_key,
                       const CallContext& context,
                       Callback<PortalOutcome> done) override {
    if (!IsHeaderSafe(idempotency_key)) {
      std::move(done)(BadKey());
      return;
    }
    // TraCuuHoSo first: isUpdating says whether the portal has it.
    auto lookup = std::make_shared<wire::LookupRequest>(
        BuildLookup(update.dossier_code(), core_->madonvi()));
    core_->Call(std::move(lookup), /*share=*/false, "", context.deadline,
                [core = core_, update, key = idempotency_key,
                 deadline = context.deadline,
                 done = std::move(done)](Answer answer) mutable {
                  if (!answer.ok()) {
                    std::move(done)(answer.status());
                    return;
                  }
                  bool found = false;
                  if (answer->kind == PortalAnswer::Kind::kSuccess) {
                    absl::StatusOr<DossierLookup> lookup =
                        ParseLookup(answer->json, update.dossier_code());
                    if (!lookup.ok()) {
                      std::move(done)(lookup.status());
                      return;
                    }
                    found = lookup->found;
                  }
                  // An error answer says nothing: sent as new, an "already
                  // exists" answer turns it into an update.
                  SendRegistration(std::move(core), std::move(update), found,
                                   std::move(key), deadline, std::move(done));
                });
  }

  void PushDossierStatus(const DossierStatusUpdate& update,
                         const std::string& idempotency_key,
                         bool may_have_arrived, const CallContext& context,
                         Callback<PortalOutcome> done) override {
    if (!IsHeaderSafe(idempotency_key)) {
      std::move(done)(BadKey());
      return;
    }
    absl::StatusOr<wire::ProgressRequest> request =
        BuildProgress(update, core_->madonvi());
    if (!request.ok()) {
      std::move(done)(request.status());
      return;
    }
    auto progress =
        std::make_shared<wire::ProgressRequest>(*std::move(request));
    if (!may_have_arrived) {
      SendProgress(core_, std::move(progress), idempotency_key,
                   context.deadline, std::move(done));
      return;
    }
    // An earlier attempt may have arrived: the portal may not honour the
    // idempotency key, so look whether it shows the step already.
    auto lookup = std::make_shared<wire::LookupRequest>(
        BuildLookup(update.dossier_code(), core_->madonvi()));
    core_->Call(
        std::move(lookup), /*share=*/false, "", context.deadline,
        [core = core_, progress, key = idempotency_key,
         deadline = context.deadline,
         done = std::move(done)](Answer answer) mutable {
          if (!answer.ok()) {
            std::move(done)(answer.status());
            return;
          }
          if (answer->kind != PortalAnswer::Kind::kSuccess) {
            // A refused lookup shows nothing, and sending the step anyway
            // could show it twice: the lookup's error is judged as a
            // change's would be (an internal error is tried again later),
            // and never leads to a send.
            absl::StatusOr<PortalOutcome> refused =
                ToOutcome(*answer, /*create=*/false);
            if (!refused.ok()) {
              std::move(done)(refused.status());
              return;
            }
            if (refused->kind == PortalOutcome::Kind::kRejected) {
              // Not the step's refusal: the dead letter says so.
              refused->reason =
                  absl::StrCat("the lookup before sending again (TraCuuHoSo): ",
                               refused->reason);
            }
            std::move(done)(Reply<PortalOutcome>{*std::move(refused), ""});
            return;
          }
          absl::StatusOr<DossierLookup> lookup =
              ParseLookup(answer->json, progress->data(0).mahoso());
          if (!lookup.ok()) {
            std::move(done)(lookup.status());
            return;
          }
          const wire::ProgressBody& step = progress->data(0);
          if (lookup->HasStep({step.trangthai(), step.thoidiemxuly(),
                               step.phongbanxuly(), step.noidungxuly(),
                               step.nguoixuly()})) {
            PortalOutcome outcome;
            outcome.found_at_portal = true;
            std::move(done)(Reply<PortalOutcome>{outcome, ""});
            return;
          }
          SendProgress(std::move(core), std::move(progress), std::move(key),
                       deadline, std::move(done));
        });
  }

  void ListNationalProcedures(
      const CallContext& context,
      Callback<std::vector<lienthong::v1::NationalProcedure>> done) override {
    core_->Call(
        std::make_shared<wire::CatalogueListRequest>(
            BuildCatalogueList(core_->madonvi())),
        /*share=*/true, "", context.deadline,
        [done = std::move(done)](Answer answer) mutable {
          absl::Status refused = ReadRefused(answer, "list its procedures");
          if (!refused.ok()) {
            std::move(done)(refused);
            return;
          }
          auto list = ParseCatalogueList(answer->json);
          if (!list.ok()) {
            std::move(done)(list.status());
            return;
          }
          std::move(done)(Reply<std::vector<lienthong::v1::NationalProcedure>>{
              *std::move(list), ""});
        });
  }

  void GetNationalProcedure(
      const std::string& code, const CallContext& context,
      Callback<lienthong::v1::NationalProcedure> done) override {
    core_->Call(std::make_shared<wire::ProcedureRequest>(
                    BuildProcedureRead(code, core_->madonvi())),
                /*share=*/false, "", context.deadline,
                [done = std::move(done)](Answer answer) mutable {
                  absl::Status refused =
                      ReadRefused(answer, "give the procedure");
                  if (!refused.ok()) {
                    std::move(done)(refused);
                    return;
                  }
                  auto procedure = ParseProcedureDetail(answer->json);
                  if (!procedure.ok()) {
                    std::move(done)(procedure.status());
                    return;
                  }
                  std::move(done)(Reply<lienthong::v1::NationalProcedure>{
                      *std::move(procedure), ""});
                });
  }

 private:
  // OK for a successful read; the failure otherwise: the call's, or
  // UNAVAILABLE naming the portal's error_code (its message is not kept).
  static absl::Status ReadRefused(const Answer& answer,
                                  absl::string_view what) {
    if (!answer.ok()) return answer.status();
    if (answer->kind == PortalAnswer::Kind::kSuccess) return absl::OkStatus();
    // The code only, and only as much of it as a code can be.
    std::string code;
    for (char c : answer->error_code) {
      if (code.size() == 16) break;
      if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-') {
        code += c;
      }
    }
    return absl::UnavailableError(absl::StrCat("the portal would not ", what,
                                               " (error_code ", code, ")"));
  }

  static absl::Status BadKey() {
    return absl::InvalidArgumentError(
        "idempotency key must be 1 to 200 visible ASCII characters");
  }

  void Publish(const lienthong::v1::Procedure& procedure, bool is_updating,
               bool withdraw, const std::string& idempotency_key,
               const CallContext& context, Callback<PortalOutcome> done) {
    if (!IsHeaderSafe(idempotency_key)) {
      std::move(done)(BadKey());
      return;
    }
    absl::StatusOr<wire::ServiceSyncRequest> request = BuildServicePublication(
        procedure, is_updating, withdraw, core_->madonvi());
    if (!request.ok()) {
      std::move(done)(request.status());
      return;
    }
    core_->Call(
        std::make_shared<wire::ServiceSyncRequest>(*std::move(request)),
        /*share=*/false, idempotency_key, context.deadline,
        [create = !is_updating, done = std::move(done)](Answer answer) mutable {
          Finish(std::move(answer), create, done);
        });
  }

  // Sends the registration under `key`, as new or as an update. "Already
  // exists" (-1) to it turns it into an update under `key`-u, once: to a
  // create it means the lookup missed the dossier; to an update, that a
  // portal keeping answers by key replayed what it answered an earlier
  // create under `key`. An update under `key` itself stays as it is: after
  // a create under `key` that succeeded, such a portal replays that success
  // and applies nothing twice.
  static void SendRegistration(std::shared_ptr<Core> core,
                               DossierStatusUpdate update, bool is_updating,
                               std::string key, absl::Time deadline,
                               Callback<PortalOutcome> done,
                               bool fallback = false) {
    absl::StatusOr<wire::DossierSyncRequest> request =
        BuildDossierSync(update, is_updating, core->madonvi());
    if (!request.ok()) {
      std::move(done)(request.status());
      return;
    }
    core->Call(std::make_shared<wire::DossierSyncRequest>(*std::move(request)),
               /*share=*/false, key, deadline,
               [core, update = std::move(update), key, deadline, fallback,
                done = std::move(done)](Answer answer) mutable {
                 if (answer.ok() && !fallback &&
                     answer->kind == PortalAnswer::Kind::kError) {
                   absl::StatusOr<PortalOutcome> outcome =
                       ToOutcome(*answer, /*create=*/true);
                   if (outcome.ok() &&
                       outcome->kind == PortalOutcome::Kind::kAlreadyExists) {
                     // Registered after all: update it, under a key of its
                     // own.
                     SendRegistration(std::move(core), std::move(update),
                                      /*is_updating=*/true,
                                      absl::StrCat(key, "-u"), deadline,
                                      std::move(done), /*fallback=*/true);
                     return;
                   }
                 }
                 Finish(std::move(answer), /*create=*/false, done);
               });
  }

  static void SendProgress(std::shared_ptr<Core> core,
                           std::shared_ptr<wire::ProgressRequest> progress,
                           std::string key, absl::Time deadline,
                           Callback<PortalOutcome> done) {
    core->Call(std::move(progress), /*share=*/false, std::move(key), deadline,
               [done = std::move(done)](Answer answer) mutable {
                 Finish(std::move(answer), /*create=*/false, done);
               });
  }

  std::shared_ptr<Core> core_;
};

// `example` is a path the province's integration code uses, for the
// message when a required endpoint is missing (null: optional).
absl::Status CheckEndpoint(const char* field, const std::string& endpoint,
                           const char* example) {
  if (endpoint.empty()) {
    return example != nullptr
               ? absl::InvalidArgumentError(absl::StrCat(
                     field, " is required, e.g. \"", example, "\""))
               : absl::OkStatus();
  }
  if (absl::Status path = CheckUrlPath(endpoint); !path.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " ", path.message()));
  }
  return absl::OkStatus();
}

class Factory final : public FactoryBase<DvcqgPortalRestConfig> {
 public:
  absl::string_view name() const override { return "dvcqg-portal-rest"; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const DvcqgPortalRestConfig& config,
      const AdapterContext& context) const override {
    if (absl::Status url = CheckBaseUrl(config.upstream().base_url());
        !url.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("upstream.base_url ", url.message()));
    }
    for (const auto& [field, endpoint, example] :
         {std::tuple<const char*, const std::string&, const char*>{
              "auth_endpoint", config.auth_endpoint(), "/dvcqg/adapter/auth"},
          {"integration_endpoint", config.integration_endpoint(),
           "/dvcqg/adapter/integration"},
          {"share_endpoint", config.share_endpoint(), nullptr}}) {
      if (absl::Status s = CheckEndpoint(field, endpoint, example); !s.ok()) {
        return s;
      }
    }
    for (const auto& [field, value] :
         {std::pair<const char*, const std::string&>{"username",
                                                     config.username()},
          {"password", config.password()},
          {"madonvi", config.madonvi()}}) {
      if (value.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
      }
    }
    if (!config.dstcode().empty() && !IsHeaderSafe(config.dstcode())) {
      return absl::InvalidArgumentError(
          "dstcode must be 1 to 200 visible ASCII characters");
    }
    for (const std::string& code : config.session_error_codes()) {
      if (code.empty()) {
        return absl::InvalidArgumentError(
            "session_error_codes must not hold an empty code");
      }
    }
    if (config.session_max_age_seconds() > 86400) {
      return absl::InvalidArgumentError(
          "session_max_age_seconds must be 0 (600) to 86400");
    }
    if (context.http == nullptr) {
      return absl::InternalError("no HTTP client in the adapter context");
    }
    return std::unique_ptr<Adapter>(
        new PortalRestAdapter(config, context.http));
  }
};

}  // namespace

std::unique_ptr<AdapterFactory> MakeDvcqgPortalRestFactory() {
  return std::make_unique<Factory>();
}

}  // namespace lienthong::adapters::dvcqg
