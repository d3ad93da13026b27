#include "gateway/server/gateway_server.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/audit_service.h"
#include "gateway/config/config_loader.h"
#include "gateway/log/log.h"
#include "gateway/policy/policy.h"
#include "gateway/server/audit_setup.h"
#include "gateway/server/call_accounting.h"
#include "gateway/server/outbound_metadata.h"
#include "gateway/server/runtime.h"
#include "gateway/server/server_setup.h"
#include "gateway/status/grpc_status.h"
#include "gateway/status/status_macros.h"
#include "gateway/tls/client_identity.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/vneid_sign_in.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/officer.h"
#include "gateway/validation/records.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpc/grpc.h"
#include "grpc/support/time.h"
#include "grpcpp/server_builder.h"
#include "grpc/health/v1/health.pb.h"
#include "lienthong/v1/audit.grpc.pb.h"
#include "lienthong/v1/portal.grpc.pb.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "lienthong/v1/records.grpc.pb.h"

namespace lienthong::server {

using lienthong::config::v1::GatewayConfig;

namespace {

std::string NewTraceId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

absl::Time CallDeadline(const grpc::CallbackServerContext& ctx,
                        absl::Duration route_timeout) {
  absl::Time route_deadline = absl::Now() + route_timeout;
  // From the raw deadline: ServerContext::deadline() counts nanoseconds in
  // an int64 and overflows into the past for deadlines beyond the year
  // 2262; absl::Time does not, so a far deadline is clamped to the route's.
  const gpr_timespec client =
      gpr_convert_clock_type(ctx.raw_deadline(), GPR_CLOCK_REALTIME);
  if (gpr_time_cmp(client, gpr_inf_future(GPR_CLOCK_REALTIME)) >= 0) {
    return route_deadline;
  }
  return std::min(route_deadline, absl::FromUnixSeconds(client.tv_sec) +
                                      absl::Nanoseconds(client.tv_nsec));
}

absl::Status ValidateName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("full_name is required");
  if (name.size() > 400) {
    return absl::InvalidArgumentError("full_name is too long");
  }
  return absl::OkStatus();
}

}  // namespace

// What the gateway records about one call, for the access log (and, with
// the citizen ID hashed, the audit log), beyond what every call has.
struct CallRecord : calls::Call {
  // `digest_key`: the audit log's, when the call is audited (null when not):
  // the request's keyed digest is only for the audit record.
  CallRecord(absl::string_view method, const google::protobuf::Message& request,
             std::string citizen_id, std::string purpose, std::string dossier_id,
             const audit::DigestKey* digest_key)
      : calls::Call(method, {}),
        trace_id(NewTraceId()),
        citizen_id(std::move(citizen_id)),
        purpose(std::move(purpose)),
        dossier_id(std::move(dossier_id)),
        request_bytes(request.ByteSizeLong()),
        audited(digest_key != nullptr),
        digest_key(digest_key),
        request_sha256(audited ? digest_key->Digest(request) : std::string()) {}

  std::string trace_id;
  std::string citizen_id;  // logged only masked
  // The officer the call was made for, when the request names one; its ID
  // is logged only masked and audited only hashed.
  lienthong::v1::Officer officer;
  std::string purpose;
  std::string dossier_id;
  int attempts = 0;
  size_t request_bytes = 0;
  size_t response_bytes = 0;
  bool audited = false;
  const audit::DigestKey* digest_key = nullptr;
  std::string request_sha256;
  std::string response_sha256;
  // Record lookups: the record type (once known to be served) and the text
  // of its key (audit::RecordKeyText), audited only as a keyed hash.
  std::string record_type;
  std::string record_key_text;
};

// Shared by the services: the current runtime and the per-call prologue.
class Services {
 public:
  Services(std::shared_ptr<const Runtime> runtime, ServerMetrics* metrics,
           std::shared_ptr<const calls::CallRecorder> recorder)
      : runtime_(std::move(runtime)),
        metrics_(metrics),
        audit_(recorder->audit()),
        recorder_(std::move(recorder)) {}

  // The key of the audit record's digests; null when auditing is off.
  const audit::DigestKey* auditing() const {
    return audit_ != nullptr ? &audit_->digest_key() : nullptr;
  }

  // OK when a call may go to a national system: it could be audited (the
  // log is ready and its journal can be written; else why not).
  absl::Status CanAudit() const {
    return audit_ != nullptr ? audit_->CanAppend() : absl::OkStatus();
  }

  std::shared_ptr<const Runtime> runtime() const {
    std::lock_guard<std::mutex> lock(mu_);
    return runtime_;
  }

  void set_runtime(std::shared_ptr<const Runtime> runtime) {
    std::lock_guard<std::mutex> lock(mu_);
    runtime_.swap(runtime);
    // The old runtime is released outside the lock, once its last call ends.
  }

  // Who is calling (into `caller`, as soon as known), is it within its
  // rate limit (checked before its rights, so that a flood of refused calls
  // is cut off too), and may it call `method` under `runtime`'s policy.
  // Every service's calls go through here.
  absl::Status Authorize(const Runtime& runtime,
                         const grpc::CallbackServerContext& ctx,
                         absl::string_view method,
                         tls::ClientIdentity* caller) const {
    auto auth = ctx.auth_context();
    if (auth == nullptr) {
      return absl::UnauthenticatedError("no client certificate");
    }
    LIENTHONG_ASSIGN_OR_RETURN(*caller, tls::IdentityFromAuthContext(*auth));
    if (std::optional<absl::Duration> wait =
            runtime.rate_limiter->TryAcquire(caller->id)) {
      if (metrics_ != nullptr) {
        metrics_->rate_limited.WithLabels({caller->id}).Increment();
      }
      return absl::ResourceExhaustedError(absl::StrFormat(
          "client '%s' is over its rate limit; retry after %d ms", caller->id,
          absl::ToInt64Milliseconds(*wait) + 1));
    }
    return runtime.policy->CheckMethod(caller->id, method);
  }


  // Who is calling, and may they call `method`: `admitted` receives the
  // caller's identity as soon as it is known (for the log, even when the
  // call is then refused) and the route when the call may proceed.
  struct Admitted {
    std::shared_ptr<const Runtime> runtime;
    tls::ClientIdentity caller;
    const Route* route = nullptr;
  };
  // With `by_method` false the caller routes the call itself (records, by
  // their type).
  absl::Status Admit(const grpc::CallbackServerContext& ctx,
                     absl::string_view method, Admitted& admitted,
                     bool by_method = true) const {
    admitted.runtime = runtime();
    LIENTHONG_RETURN_IF_ERROR(
        Authorize(*admitted.runtime, ctx, method, &admitted.caller));
    if (!by_method) return absl::OkStatus();
    admitted.route = admitted.runtime->FindRoute(method);
    if (admitted.route == nullptr) {
      return absl::UnimplementedError(
          absl::StrCat("no route is configured for ", method));
    }
    return absl::OkStatus();
  }

  // Accounts for a call gRPC answered before any handler ran (unknown
  // method, unparsable body; call_accounting.h): access-log line, metrics
  // and audit record, like any refusal (the audit log coalesces a flood of
  // them). The answer is not withheld.
  void AccountPreHandler(const grpc::ServerContextBase& ctx,
                         absl::string_view method,
                         const absl::Status& status) const {
    CallRecord call(method, google::protobuf::Empty(), "", "", "",
                    auditing());
    call.caller = calls::CallerOf(ctx);
    Complete(call, status, [](absl::Status) {});
  }

  // Sends `value` (from outside: a national system's reply) to the caller
  // as trailing metadata `key` when it is safe; else drops and counts it.
  void AddTrailer(grpc::ServerContextBase& ctx, absl::string_view key,
                  absl::string_view value) const {
    AddCheckedTrailingMetadata(
        ctx, key, value,
        metrics_ == nullptr ? nullptr : &metrics_->metadata_dropped);
  }

  // Ends a call: writes its access-log line and audit record, then releases
  // the answer with `status` — once the record is durable when so
  // configured; if it cannot be written the answer is withheld (UNAVAILABLE).
  void Complete(const CallRecord& call, const absl::Status& status,
                absl::AnyInvocable<void(absl::Status) &&> release) const {
    const std::string citizen = validation::MaskCitizenId(call.citizen_id);
    const std::string officer =
        call.officer.citizen_id().empty()
            ? std::string()
            : validation::MaskCitizenId(call.officer.citizen_id());
    const std::string attempts = absl::StrCat(call.attempts);
    const std::string request_bytes = absl::StrCat(call.request_bytes);
    const std::string response_bytes = absl::StrCat(call.response_bytes);
    recorder_->Log(call, status,
                   {{"trace_id", call.trace_id},
                    {"system", call.system},
                    {"record_type", call.record_type},
                    {"citizen", citizen},
                    {"officer", officer},
                    {"attempts", attempts},
                    {"request_bytes", request_bytes},
                    {"response_bytes", response_bytes}});
    if (metrics_ != nullptr && call.attempts > 1) {
      metrics_->retries.WithLabels({call.system}).Increment(call.attempts - 1);
    }
    if (audit_ == nullptr) {
      std::move(release)(status);
      return;
    }
    lienthong::v1::AuditRecord record = recorder_->Record(call, status);
    record.set_purpose(call.purpose);
    record.set_dossier_id(call.dossier_id);
    if (!call.citizen_id.empty()) {
      audit_->citizen_key().Fill(call.citizen_id, &record);
    }
    audit_->citizen_key().FillOfficer(call.officer.citizen_id(),
                                      call.officer.unit_code(),
                                      call.officer.account(), &record);
    if (!call.record_type.empty()) {
      record.set_record_type(call.record_type);
      record.set_record_key_hmac(
          audit_->citizen_key().Hmac(call.record_key_text));
    }
    record.set_attempts(call.attempts);
    record.set_request_sha256(call.request_sha256);
    record.set_response_sha256(call.response_sha256);
    recorder_->AuditThenRelease({std::move(record)}, status,
                                std::move(release));
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Runtime> runtime_;
  ServerMetrics* const metrics_;
  audit::AuditLog* const audit_;
  const std::shared_ptr<const calls::CallRecorder> recorder_;
};

namespace {

// The shared end of VerifyIdentity, SignInWithVneid and LookupCitizen. A
// call refused by `status` (admission, validation, policy) is answered at
// once; otherwise `attempt(route, context, done)` runs under the route's
// breaker and, when `idempotent`, its retries; `accept(reply)` moves a good
// reply into `*response`, and the call is logged, audited and answered.
// `Upstream` is what the adapter answers when it is not `Response` itself.
template <typename Upstream = void, typename Response, typename Attempt,
          typename Accept,
          typename Reply = std::conditional_t<std::is_void_v<Upstream>,
                                              Response, Upstream>>
grpc::ServerUnaryReactor* Serve(const Services& services,
                                grpc::CallbackServerContext& ctx,
                                std::shared_ptr<CallRecord> call,
                                Services::Admitted admitted, absl::Status status,
                                Response* response, Attempt attempt,
                                Accept accept, bool idempotent = true) {
  grpc::ServerUnaryReactor* reactor = ctx.DefaultReactor();
  auto answer = [reactor](absl::Status final) {
    reactor->Finish(ToGrpcStatus(final));
  };
  if (status.ok()) status = services.CanAudit();
  if (!status.ok()) {
    services.Complete(*call, status, answer);
    return reactor;
  }
  const Route& route = *admitted.route;
  call->system = route.adapter_name;
  adapters::CallContext context{CallDeadline(ctx, route.timeout),
                                admitted.caller.id, call->trace_id};
  // `route` lives in the runtime, which the completion below keeps alive.
  ResilientCall<Reply>(
      *route.retrier, *route.guard, context, idempotent,
      [&route, attempt = std::move(attempt)](
          const adapters::CallContext& attempt_context,
          adapters::Callback<Reply> done) mutable {
        attempt(route, attempt_context, std::move(done));
      },
      [&services, call, response, answer, accept = std::move(accept),
       runtime = std::move(admitted.runtime)](
          absl::StatusOr<adapters::Reply<Reply>> reply,
          int attempts) mutable {
        call->attempts = attempts;
        absl::Status status = reply.status();
        if (status.ok()) {
          accept(*std::move(reply));
          call->response_bytes = response->ByteSizeLong();
          if (call->audited) {
            call->response_sha256 = call->digest_key->Digest(*response);
          }
        }
        services.Complete(*call, status, answer);
      });
  return reactor;
}

class IdentityServiceImpl final
    : public lienthong::v1::IdentityService::CallbackService {
 public:
  explicit IdentityServiceImpl(const Services* services)
      : services_(services) {}

  // An authorisation code can be exchanged once: never retried. The citizen
  // is known only from the answer, and is then logged masked and audited
  // hashed like any other.
  grpc::ServerUnaryReactor* SignInWithVneid(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::VneidSignInRequest* request,
      lienthong::v1::VneidSignInResponse* response) override {
    auto call = std::make_shared<CallRecord>(kSignInWithVneid, *request, "",
                                             "", "", services_->auditing());
    Services::Admitted admitted;
    absl::Status status = services_->Admit(*ctx, kSignInWithVneid, admitted);
    call->caller = admitted.caller;
    if (status.ok()) status = validation::ValidateVneidSignIn(*request);
    if (status.ok()) {
      status = admitted.route->sign_in->CheckRedirectUri(
          admitted.caller.id, request->redirect_uri());
    }
    return Serve(
        *services_, *ctx, call, std::move(admitted), status, response,
        [request](const Route& route, const adapters::CallContext& context,
                  adapters::Callback<lienthong::v1::VneidSignInResponse> done) {
          route.sign_in->SignIn(*request, context, std::move(done));
        },
        [call, response](
            adapters::Reply<lienthong::v1::VneidSignInResponse> reply) {
          *response = std::move(reply.value);
          call->citizen_id = response->citizen_id();
        },
        /*idempotent=*/false);
  }

  grpc::ServerUnaryReactor* VerifyIdentity(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::VerifyIdentityRequest* request,
      lienthong::v1::VerifyIdentityResponse* response) override {
    auto call = std::make_shared<CallRecord>(
        kVerifyIdentity, *request, request->citizen_id(), request->purpose(),
        request->dossier_id(), services_->auditing());
    call->officer = request->officer();
    Services::Admitted admitted;
    absl::Status status = services_->Admit(*ctx, kVerifyIdentity, admitted);
    call->caller = admitted.caller;
    if (status.ok()) status = Validate(*request);
    if (status.ok()) {
      status = admitted.runtime->policy->CheckDossier(admitted.caller.id,
                                                      request->dossier_id());
    }
    return Serve(
        *services_, *ctx, std::move(call), std::move(admitted), status, response,
        [request](const Route& route, const adapters::CallContext& context,
                  adapters::Callback<lienthong::v1::VerifyIdentityResponse> done) {
          route.identity->Verify(*request, context, std::move(done));
        },
        [response](adapters::Reply<lienthong::v1::VerifyIdentityResponse> reply) {
          *response = std::move(reply.value);
          if (response->reference().empty()) {
            response->set_reference(reply.reference);
          }
        });
  }

 private:
  static absl::Status Validate(const lienthong::v1::VerifyIdentityRequest& r) {
    const google::type::Date* dob = r.has_birth_date() ? &r.birth_date() : nullptr;
    if (dob != nullptr) {
      LIENTHONG_RETURN_IF_ERROR(validation::ValidateDate(*dob, absl::Now()));
    }
    LIENTHONG_RETURN_IF_ERROR(
        validation::ValidateCitizenId(r.citizen_id(), dob, absl::Now()));
    LIENTHONG_RETURN_IF_ERROR(ValidateName(r.full_name()));
    if (!r.purpose().empty()) {
      LIENTHONG_RETURN_IF_ERROR(validation::ValidatePurpose(r.purpose()));
    }
    LIENTHONG_RETURN_IF_ERROR(validation::ValidateDossierId(r.dossier_id()));
    return validation::ValidateOfficer(r.has_officer(), r.officer(),
                                       absl::Now());
  }

  const Services* services_;
};

class PopulationServiceImpl final
    : public lienthong::v1::PopulationService::CallbackService {
 public:
  explicit PopulationServiceImpl(const Services* services)
      : services_(services) {}

  grpc::ServerUnaryReactor* LookupCitizen(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::LookupCitizenRequest* request,
      lienthong::v1::Citizen* response) override {
    auto call = std::make_shared<CallRecord>(
        kLookupCitizen, *request, request->citizen_id(), request->purpose(),
        request->dossier_id(), services_->auditing());
    call->officer = request->officer();
    Services::Admitted admitted;
    absl::Status status = services_->Admit(*ctx, kLookupCitizen, admitted);
    call->caller = admitted.caller;
    google::protobuf::FieldMask mask;
    if (status.ok()) status = Validate(*request);
    if (status.ok()) {
      status = admitted.runtime->policy->CheckDossier(admitted.caller.id,
                                                      request->dossier_id());
    }
    if (status.ok()) {
      auto fields = admitted.runtime->policy->LookupFields(
          admitted.caller.id, request->purpose(), request->fields());
      status = fields.status();
      if (fields.ok()) mask = *std::move(fields);
    }
    return Serve(
        *services_, *ctx, std::move(call), std::move(admitted), status, response,
        [request](const Route& route, const adapters::CallContext& context,
                  adapters::Callback<lienthong::v1::Citizen> done) {
          route.population->Lookup(*request, context, std::move(done));
        },
        [services = services_, ctx, response, mask = std::move(mask)](
            adapters::Reply<lienthong::v1::Citizen> reply) {
          *response = std::move(reply.value);
          google::protobuf::util::FieldMaskUtil::TrimMessage(mask, response);
          if (!reply.reference.empty()) {
            services->AddTrailer(*ctx, "lienthong-reference", reply.reference);
          }
        });
  }

 private:
  static absl::Status Validate(const lienthong::v1::LookupCitizenRequest& r) {
    LIENTHONG_RETURN_IF_ERROR(
        validation::ValidateCitizenId(r.citizen_id(), nullptr, absl::Now()));
    LIENTHONG_RETURN_IF_ERROR(validation::ValidatePurpose(r.purpose()));
    LIENTHONG_RETURN_IF_ERROR(validation::ValidateDossierId(r.dossier_id()));
    LIENTHONG_RETURN_IF_ERROR(policy::Policy::CheckFieldMaskSize(r.fields()));
    return validation::ValidateOfficer(r.has_officer(), r.officer(),
                                       absl::Now());
  }

  const Services* services_;
};

class RecordServiceImpl final
    : public lienthong::v1::RecordService::CallbackService {
 public:
  explicit RecordServiceImpl(const Services* services) : services_(services) {}

  // Routed by record type to the adapter instance declaring it; the reply
  // keeps only the fields granted (and asked for), in the type's order.
  grpc::ServerUnaryReactor* GetRecord(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::GetRecordRequest* request,
      lienthong::v1::Record* response) override {
    auto call = std::make_shared<CallRecord>(
        kGetRecord, *request, "", request->purpose(), request->dossier_id(),
        services_->auditing());
    call->officer = request->officer();
    Services::Admitted admitted;
    absl::Status status =
        services_->Admit(*ctx, kGetRecord, admitted, /*by_method=*/false);
    call->caller = admitted.caller;
    const RecordRoute* type = nullptr;
    if (status.ok()) {
      status = validation::ValidateRecordName(request->record_type(),
                                              "record_type");
    }
    if (status.ok()) {
      type = admitted.runtime->FindRecordType(request->record_type());
      if (type == nullptr) {
        status = absl::InvalidArgumentError(absl::StrCat(
            "record_type: '", request->record_type(), "' is not served"));
      }
    }
    if (status.ok()) {
      admitted.route = type->route;
      call->record_type = request->record_type();
      status = validation::ValidateGetRecord(*request, *type->schema,
                                             absl::Now());
    }
    auto fetch = std::make_shared<adapters::RecordRequest>();
    if (status.ok()) {
      fetch->record_type = request->record_type();
      fetch->parameters = {request->parameters().begin(),
                           request->parameters().end()};
      fetch->purpose =
          validation::NationalProcedureCode(request->purpose()).value_or("");
      call->record_key_text = audit::RecordKeyText(
          {fetch->parameters.begin(), fetch->parameters.end()});
      status = admitted.runtime->policy->CheckDossier(admitted.caller.id,
                                                      request->dossier_id());
    }
    std::set<std::string> granted;
    if (status.ok()) {
      auto fields = admitted.runtime->policy->RecordFields(
          admitted.caller.id, request->purpose(), request->record_type(),
          {request->fields().begin(), request->fields().end()});
      status = fields.status();
      if (fields.ok()) granted = *std::move(fields);
    }
    std::string source = type != nullptr ? type->route->adapter_name : "";
    return Serve<adapters::RecordReply>(
        *services_, *ctx, std::move(call), std::move(admitted), status,
        response,
        [fetch](const Route& route, const adapters::CallContext& context,
                adapters::Callback<adapters::RecordReply> done) {
          route.records->Fetch(*fetch, context, std::move(done));
        },
        [response, fetch, granted = std::move(granted),
         source = std::move(source)](adapters::Reply<adapters::RecordReply> reply) {
          response->set_record_type(fetch->record_type);
          for (auto& [name, value] : reply.value.fields) {
            if (value.empty() || granted.count(name) == 0) continue;
            auto* field = response->add_fields();
            field->set_name(name);
            field->set_value(std::move(value));
          }
          response->set_source_system(source);
          response->set_reference(std::move(reply.reference));
        });
  }

 private:
  const Services* services_;
};

}  // namespace


absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    const GatewayConfig& config, const adapters::AdapterRegistry& registry,
    adapters::HttpClient* http,
    const std::vector<grpc::Service*>& extra_services) {
  // Builders below rely on the config-level rules having passed.
  LIENTHONG_RETURN_IF_ERROR(config::ValidateConfig(
      config, [&registry](absl::string_view type) {
        return registry.EmptyConfigFor(type);
      }));
  auto server =
      std::unique_ptr<GatewayServer>(new GatewayServer(registry, http));
  LIENTHONG_ASSIGN_OR_RETURN(auto runtime,
                             BuildRuntime(config, server->resources_));
  const tls::ServerTlsOptions tls_options =
      ServerTlsOptionsOf(config.listener().tls());
  server->admission_ = ClientAdmissionOf(config.listener().limits());
  LIENTHONG_RETURN_IF_ERROR(server->admission_->Update(config.clients()));
  auto& refused = server->metrics_registry_.AddCounter(
      "lienthong_tls_handshakes_refused_total",
      "Client certificates refused in the TLS handshake, by reason.",
      {"reason"});
  LIENTHONG_ASSIGN_OR_RETURN(
      auto credentials,
      ListenerCredentials(config.listener().tls(), server->admission_,
                          [&refused](absl::string_view reason) {
                            refused.WithLabels({reason}).Increment();
                          }));
  const auto& audit_config = config.audit();
  if (!audit_config.disabled()) {
    LIENTHONG_ASSIGN_OR_RETURN(server->audit_,
                               OpenAuditLog(audit_config, config.node_name()));
  }
  server->recorder_ = std::make_shared<const calls::CallRecorder>(
      calls::CallRecorder::Options{
          server->call_metrics_.get(), server->audit_.get(),
          !audit_config.has_wait_for_durable() ||
              audit_config.wait_for_durable(),
          config.node_name()});
  server->services_ = std::make_unique<Services>(
      std::move(runtime), server->metrics_.get(), server->recorder_);
  std::vector<grpc::Service*> services = extra_services;
  if (server->audit_ != nullptr) {
    Services* calls = server->services_.get();
    server->audit_service_ = std::make_unique<audit::AuditServiceImpl>(
        server->recorder_,
        [calls](const grpc::CallbackServerContext& ctx, absl::string_view method,
                audit::AuditServiceImpl::Caller* caller) {
          tls::ClientIdentity identity;
          absl::Status status =
              calls->Authorize(*calls->runtime(), ctx, method, &identity);
          caller->id = identity.id;
          caller->cert_sha256 = identity.fingerprint_sha256;
          return status;
        },
        [calls](absl::string_view caller, absl::string_view role) {
          return calls->runtime()->policy->HasRole(caller, role);
        });
    services.push_back(server->audit_service_.get());
    ExportAuditMetrics(server->audit_.get(), server->metrics_registry_);
  }
  server->ExportRuntimeGauges();
  auto& expiry = server->metrics_->certificate_expiry_days.WithLabels(
      {tls_options.cert_file});
  expiry.SetCallback([file = tls_options.cert_file] {
    auto not_after = tls::CertificateNotAfter(file);
    return not_after.ok() ? absl::ToDoubleHours(*not_after - absl::Now()) / 24
                          : -1.0;
  });
  auto identity = std::make_shared<IdentityServiceImpl>(server->services_.get());
  auto population =
      std::make_shared<PopulationServiceImpl>(server->services_.get());
  auto records = std::make_shared<RecordServiceImpl>(server->services_.get());

  grpc::EnableDefaultHealthCheckService(true);
  // Links grpc/health/v1/health.proto's descriptor into the generated pool,
  // where server reflection looks for the health service's description.
  (void)grpc::health::v1::HealthCheckResponse::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listener().address(), credentials,
                           &server->port_);
  ApplyListenerLimits(config.listener().limits(), builder);
  // Calls answered before a handler are accounted for too.
  const Services* calls = server->services_.get();
  PreHandlerRefusal account = [calls](const grpc::ServerContextBase& ctx,
                                      absl::string_view method,
                                      const absl::Status& status) {
    calls->AccountPreHandler(ctx, method, status);
  };
  server->unknown_methods_ = std::make_unique<UnknownMethodService>(account);
  builder.RegisterCallbackGenericService(server->unknown_methods_.get());
  std::vector<std::unique_ptr<
      grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(NewUnparsableBodyInterceptorFactory(account));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(identity.get());
  builder.RegisterService(population.get());
  builder.RegisterService(records.get());
  for (grpc::Service* service : services) builder.RegisterService(service);
  server->identity_ = identity;
  server->population_ = population;
  server->records_ = records;
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return config::AtConfigField(
        "listener.address",
        absl::UnavailableError(absl::StrCat("cannot listen on ",
                                            config.listener().address())));
  }
  // grpc.health.v1.Health answers per service what /readyz answers. The
  // services are named by their generated stubs; the portal's, when served.
  std::vector<std::string> health_services = {
      lienthong::v1::IdentityService::service_full_name(),
      lienthong::v1::PopulationService::service_full_name(),
      lienthong::v1::RecordService::service_full_name()};
  if (server->audit_ != nullptr) {
    health_services.push_back(lienthong::v1::AuditService::service_full_name());
  }
  for (grpc::Service* extra : extra_services) {
    if (dynamic_cast<lienthong::v1::PortalSyncService::Service*>(extra)) {
      health_services.push_back(
          lienthong::v1::PortalSyncService::service_full_name());
    }
  }
  GatewayServer* self = server.get();
  server->health_ = std::make_unique<HealthReporter>(
      server->server_->GetHealthCheckService(), std::move(health_services),
      [self](absl::string_view service) { return self->ServiceReady(service); });
  log::Info("gateway listening",
            {{"address", config.listener().address()},
             {"port", absl::StrCat(server->port_)},
             {"client_cert", tls_options.require_client_cert ? "required"
                                                             : "not required"}});
  return server;
}

std::shared_ptr<const Runtime> GatewayServer::runtime() const {
  return services_->runtime();
}

absl::Status GatewayServer::Authorize(const grpc::CallbackServerContext& ctx,
                                      absl::string_view method,
                                      tls::ClientIdentity* caller) const {
  return services_->Authorize(*services_->runtime(), ctx, method, caller);
}

GatewayServer::GatewayServer(const adapters::AdapterRegistry& registry,
                             adapters::HttpClient* http)
    : metrics_(std::make_unique<ServerMetrics>(metrics_registry_)),
      call_metrics_(std::make_unique<calls::CallMetrics>(metrics_registry_)),
      timers_(std::make_unique<resilience::TimerQueue>()) {
  resources_.registry = &registry;
  resources_.http = http;
  resources_.timers = timers_.get();
  resources_.metrics = metrics_.get();
}

void GatewayServer::ExportRuntimeGauges() {
  // The gauges read whichever runtime is current when scraped.
  for (const auto& [name, guard] : services_->runtime()->guards) {
    std::string system = name;
    metrics_->breaker_state.WithLabels({system}).SetCallback([this, system] {
      auto runtime = services_->runtime();
      auto it = runtime->guards.find(system);
      if (it == runtime->guards.end()) return -1.0;
      switch (it->second->breaker->state()) {
        case resilience::BreakerState::kClosed: return 0.0;
        case resilience::BreakerState::kOpen: return 1.0;
        case resilience::BreakerState::kHalfOpen: return 2.0;
      }
      return -1.0;
    });
    metrics_->upstream_in_flight.WithLabels({system}).SetCallback(
        [this, system] {
          auto runtime = services_->runtime();
          auto it = runtime->guards.find(system);
          return it == runtime->guards.end()
                     ? 0.0
                     : static_cast<double>(
                           it->second->in_flight->counters().in_flight);
        });
  }
}

absl::Status GatewayServer::Ready() const { return ServiceReady(""); }

absl::Status GatewayServer::ServiceReady(absl::string_view service) const {
  if (audit_ != nullptr) LIENTHONG_RETURN_IF_ERROR(audit_->Readiness());
  auto runtime = services_->runtime();
  for (const auto& [name, guard] : runtime->guards) {
    if (guard->breaker->state() != resilience::BreakerState::kOpen) continue;
    bool used = service.empty();
    for (const auto& [method, route] : runtime->routes) {
      if (route.guard == guard.get() &&
          absl::StartsWith(method, absl::StrCat(service, "/"))) {
        used = true;
      }
    }
    if (used) {
      return absl::UnavailableError(absl::StrCat(
          "circuit breaker to '", name, "' is open"));
    }
  }
  return absl::OkStatus();
}

absl::Status GatewayServer::Reload(const GatewayConfig& config) {
  LIENTHONG_RETURN_IF_ERROR(config::ValidateConfig(
      config, [this](absl::string_view type) {
        return resources_.registry->EmptyConfigFor(type);
      }));
  LIENTHONG_ASSIGN_OR_RETURN(auto runtime, BuildRuntime(config, resources_));
  // The handshake's client list first: a client removed by this reload
  // cannot open new connections once the reload has returned.
  LIENTHONG_RETURN_IF_ERROR(admission_->Update(config.clients()));
  services_->set_runtime(std::move(runtime));
  ExportRuntimeGauges();
  log::Info("config reloaded",
            {{"adapters", absl::StrCat(config.adapters_size())},
             {"routes", absl::StrCat(config.routes_size())},
             {"clients", absl::StrCat(config.clients_size())}});
  return absl::OkStatus();
}

void GatewayServer::Shutdown(absl::Duration grace) {
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    health_.reset();
  }
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
}

GatewayServer::~GatewayServer() {
  Shutdown(absl::ZeroDuration());
  // Calls waiting out a backoff end (CANCELLED) when their timers are
  // dropped, so that Wait() can return.
  timers_->Shutdown();
  Wait();
}

void GatewayServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace lienthong::server
