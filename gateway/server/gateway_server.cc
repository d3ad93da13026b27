#include "gateway/server/gateway_server.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/audit_service.h"
#include "gateway/audit/signing.h"
#include "gateway/log/log.h"
#include "gateway/policy/policy.h"
#include "gateway/server/runtime.h"
#include "gateway/status/grpc_status.h"
#include "gateway/status/status_macros.h"
#include "gateway/tls/client_identity.h"
#include "gateway/validation/citizen_id.h"
#include "google/protobuf/util/field_mask_util.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpc/grpc.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/server_builder.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"

namespace lienthong::server {

using lienthong::config::v1::GatewayConfig;

namespace {

// Lower-case hex SHA-256 of `message`'s wire form, for the audit record.
std::string Sha256Hex(const google::protobuf::Message& message) {
  return audit::Sha256Hex(message.SerializeAsString());
}

std::string NewTraceId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

absl::Time CallDeadline(const grpc::CallbackServerContext& ctx,
                        absl::Duration route_timeout) {
  absl::Time route_deadline = absl::Now() + route_timeout;
  auto client = ctx.deadline();
  if (client == std::chrono::system_clock::time_point::max()) {
    return route_deadline;
  }
  return std::min(route_deadline, absl::FromChrono(client));
}

// A procedure code: digits and dots, optionally followed by a provincial
// suffix ("1.001193", "1.001193.000.00.00.H31").
absl::Status ValidatePurpose(absl::string_view purpose) {
  if (purpose.empty()) return absl::InvalidArgumentError("purpose is required");
  if (purpose.size() > 64 || !absl::ascii_isdigit(purpose[0])) {
    return absl::InvalidArgumentError(
        "purpose must be a procedure code such as 1.001193");
  }
  for (char c : purpose) {
    if (!absl::ascii_isalnum(c) && c != '.') {
      return absl::InvalidArgumentError(
          "purpose must be a procedure code such as 1.001193");
    }
  }
  return absl::OkStatus();
}

// A dossier code such as 000.00.01.H31-250715-00123. Optional.
absl::Status ValidateDossierId(absl::string_view dossier) {
  if (dossier.size() > 64) {
    return absl::InvalidArgumentError("dossier_id is longer than 64 characters");
  }
  for (char c : dossier) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-') {
      return absl::InvalidArgumentError(
          "dossier_id may hold only letters, digits, '.' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("full_name is required");
  if (name.size() > 400) {
    return absl::InvalidArgumentError("full_name is too long");
  }
  return absl::OkStatus();
}

// Opens the audit log. Without key files configured, development keys are
// made beside the store on first start (logged); configured key files must
// exist.
absl::StatusOr<std::unique_ptr<audit::AuditLog>> OpenAuditLog(
    const lienthong::config::v1::Audit& config, const std::string& node) {
  audit::AuditLog::Options options;
  options.path = config.store_file().empty() ? "var/audit.db" : config.store_file();
  options.node = node.empty() ? "lienthong" : node;
  if (config.checkpoint_every() > 0) {
    options.checkpoint_every = config.checkpoint_every();
  }
  std::string dir = ".";
  if (size_t slash = options.path.rfind('/'); slash != std::string::npos) {
    dir = options.path.substr(0, slash);
  }
  if (dir != "." && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat("cannot create audit folder '", dir, "'"));
  }
  if (config.signing_key_file().empty() && config.hmac_key_file().empty()) {
    options.signing_key_file = absl::StrCat(dir, "/audit-signing.pem");
    options.hmac_key_file = absl::StrCat(dir, "/audit-hmac.key");
    bool made = false;
    if (::access(options.signing_key_file.c_str(), F_OK) != 0) {
      LIENTHONG_RETURN_IF_ERROR(
          audit::GenerateSigningKeyFile(options.signing_key_file));
      made = true;
    }
    if (::access(options.hmac_key_file.c_str(), F_OK) != 0) {
      LIENTHONG_RETURN_IF_ERROR(audit::GenerateHmacKeyFile(options.hmac_key_file));
      made = true;
    }
    if (made) {
      log::Warning("made development audit keys; configure audit.signing_key_file "
                   "and audit.hmac_key_file for production",
                   {{"folder", dir}});
    }
  } else {
    options.signing_key_file = config.signing_key_file();
    options.hmac_key_file = config.hmac_key_file();
  }
  auto opened = audit::AuditLog::Open(options);
  if (!opened.ok()) {
    return absl::Status(opened.status().code(),
                        absl::StrCat("audit log: ", opened.status().message()));
  }
  return opened;
}

// Protections of the HTTP/2 listener, each with a safe default.
void ApplyListenerLimits(const lienthong::config::v1::ListenerLimits& limits,
                         grpc::ServerBuilder& builder) {
  auto or_default = [](int value, int fallback) {
    return value > 0 ? value : fallback;
  };
  builder.SetMaxReceiveMessageSize(or_default(limits.max_message_bytes(), 1 << 20));
  builder.SetMaxSendMessageSize(or_default(limits.max_message_bytes(), 1 << 20));
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                             or_default(limits.max_metadata_bytes(), 16 << 10));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             or_default(limits.max_concurrent_streams(), 100));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      or_default(limits.keepalive_time_seconds(), 120) * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      or_default(limits.keepalive_timeout_seconds(), 20) * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      or_default(limits.min_client_ping_interval_seconds(), 60) * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      or_default(limits.max_connection_idle_seconds(), 600) * 1000);
  // Every connection ends within its age (+-10% jitter) plus the grace, so
  // a revoked certificate or removed client does not keep a live one.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      or_default(limits.max_connection_age_seconds(), 3600) * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
      or_default(limits.max_connection_age_grace_seconds(), 60) * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      or_default(limits.handshake_timeout_seconds(), 10) * 1000);
  grpc::ResourceQuota quota("lienthong-listener");
  quota.Resize(limits.memory_quota_bytes() > 0
                   ? static_cast<size_t>(limits.memory_quota_bytes())
                   : size_t{1} << 30);
  builder.SetResourceQuota(quota);
}

// Who may complete the listener's TLS handshake: the configured clients,
// each at a bounded rate of new connections.
std::shared_ptr<tls::ClientAdmission> NewAdmission(
    const lienthong::config::v1::ListenerLimits& limits) {
  tls::ClientAdmission::Limits admission_limits;
  if (limits.handshakes_per_client_per_second() > 0) {
    admission_limits.handshakes_per_second =
        limits.handshakes_per_client_per_second();
  }
  if (limits.handshake_burst_per_client() > 0) {
    admission_limits.handshake_burst = limits.handshake_burst_per_client();
  }
  return std::make_shared<tls::ClientAdmission>(admission_limits);
}

}  // namespace

// What the gateway records about one call, for the access log (and, with
// the citizen ID hashed, the audit log).
struct CallRecord {
  // `audited`: the request's digest is needed (only for the audit record).
  CallRecord(absl::string_view method, const google::protobuf::Message& request,
             std::string citizen_id, std::string purpose, std::string dossier_id,
             bool audited)
      : method(method),
        trace_id(NewTraceId()),
        start(absl::Now()),
        citizen_id(std::move(citizen_id)),
        purpose(std::move(purpose)),
        dossier_id(std::move(dossier_id)),
        request_bytes(request.ByteSizeLong()),
        audited(audited),
        request_sha256(audited ? Sha256Hex(request) : std::string()) {}

  absl::string_view method;
  std::string trace_id;
  absl::Time start;
  tls::ClientIdentity caller;
  // The adapter instance that served it; empty when refused before routing.
  std::string system;
  std::string citizen_id;  // logged only masked
  std::string purpose;
  std::string dossier_id;
  int attempts = 0;
  size_t request_bytes = 0;
  size_t response_bytes = 0;
  bool audited = false;
  std::string request_sha256;
  std::string response_sha256;
};

// Shared by the services: the current runtime and the per-call prologue.
class Services {
 public:
  Services(std::shared_ptr<const Runtime> runtime, ServerMetrics* metrics,
           audit::AuditLog* audit, bool wait_for_durable, std::string node)
      : runtime_(std::move(runtime)),
        metrics_(metrics),
        audit_(audit),
        wait_for_durable_(wait_for_durable),
        node_(std::move(node)) {}

  bool auditing() const { return audit_ != nullptr; }

  // OK when a call may go to a national system: it could be audited.
  absl::Status CanAudit() const {
    if (audit_ != nullptr && !audit_->healthy()) {
      return absl::UnavailableError(
          "audit log unavailable; no call is made that cannot be audited");
    }
    return absl::OkStatus();
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

  // Who is calling (into `caller`, as soon as known), and may they call
  // `method` under `runtime`'s policy.
  static absl::Status Authorize(const Runtime& runtime,
                                const grpc::CallbackServerContext& ctx,
                                absl::string_view method,
                                tls::ClientIdentity* caller) {
    auto auth = ctx.auth_context();
    if (auth == nullptr) {
      return absl::UnauthenticatedError("no client certificate");
    }
    LIENTHONG_ASSIGN_OR_RETURN(*caller, tls::IdentityFromAuthContext(*auth));
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
  absl::Status Admit(const grpc::CallbackServerContext& ctx,
                     absl::string_view method, Admitted& admitted) const {
    admitted.runtime = runtime();
    LIENTHONG_RETURN_IF_ERROR(
        Authorize(*admitted.runtime, ctx, method, &admitted.caller));
    if (std::optional<absl::Duration> wait =
            admitted.runtime->rate_limiter->TryAcquire(admitted.caller.id)) {
      if (metrics_ != nullptr) {
        metrics_->rate_limited.WithLabels({admitted.caller.id}).Increment();
      }
      return absl::ResourceExhaustedError(absl::StrFormat(
          "client '%s' is over its rate limit; retry after %d ms",
          admitted.caller.id, absl::ToInt64Milliseconds(*wait) + 1));
    }
    admitted.route = admitted.runtime->FindRoute(method);
    if (admitted.route == nullptr) {
      return absl::UnimplementedError(
          absl::StrCat("no route is configured for ", method));
    }
    return absl::OkStatus();
  }

  // Ends a call: writes its access-log line and audit record, then releases
  // the answer with `status` — once the record is durable when so
  // configured; if it cannot be written the answer is withheld (UNAVAILABLE).
  void Complete(const CallRecord& call, const absl::Status& status,
                absl::AnyInvocable<void(absl::Status) &&> release) const {
    log::Info("access",
              {{"method", call.method},
               {"caller", call.caller.id},
               {"trace_id", call.trace_id},
               {"system", call.system},
               {"citizen", validation::MaskCitizenId(call.citizen_id)},
               {"attempts", absl::StrCat(call.attempts)},
               {"code", absl::StatusCodeToString(status.code())},
               {"latency_ms", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(
                                                          absl::Now() - call.start))},
               {"request_bytes", absl::StrCat(call.request_bytes)},
               {"response_bytes", absl::StrCat(call.response_bytes)}});
    if (metrics_ != nullptr) {
      std::string code(absl::StatusCodeToString(status.code()));
      metrics_->calls
          .WithLabels({call.method, call.caller.id, call.system, code})
          .Increment();
      metrics_->latency.WithLabels({call.method, call.system})
          .Observe(absl::ToDoubleSeconds(absl::Now() - call.start));
      if (call.attempts > 1) {
        metrics_->retries.WithLabels({call.system}).Increment(call.attempts - 1);
      }
    }
    if (audit_ == nullptr) {
      std::move(release)(status);
      return;
    }
    lienthong::v1::AuditRecord record;
    record.set_node(node_);
    record.set_caller(call.caller.id);
    record.set_caller_cert_sha256(call.caller.fingerprint_sha256);
    record.set_method(std::string(call.method));
    record.set_purpose(call.purpose);
    record.set_dossier_id(call.dossier_id);
    if (!call.citizen_id.empty()) {
      audit_->citizen_key().Fill(call.citizen_id, &record);
    }
    record.set_national_system(call.system);
    record.set_attempts(call.attempts);
    record.set_outcome(std::string(absl::StatusCodeToString(status.code())));
    record.set_latency_us(absl::ToInt64Microseconds(absl::Now() - call.start));
    record.set_request_sha256(call.request_sha256);
    record.set_response_sha256(call.response_sha256);
    audit_->AppendThenRelease(std::move(record), wait_for_durable_, status,
                              std::move(release));
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Runtime> runtime_;
  ServerMetrics* const metrics_;
  audit::AuditLog* const audit_;
  const bool wait_for_durable_;
  const std::string node_;
};

namespace {

// The shared end of VerifyIdentity and LookupCitizen. A call refused by
// `status` (admission, validation, policy) is answered at once; otherwise
// `attempt(route, context, done)` runs under the route's retries and
// breaker, `accept(reply)` moves a good reply into `*response`, and the
// call is logged, audited and answered.
template <typename Response, typename Attempt, typename Accept>
grpc::ServerUnaryReactor* Serve(const Services& services,
                                grpc::CallbackServerContext& ctx,
                                std::shared_ptr<CallRecord> call,
                                Services::Admitted admitted, absl::Status status,
                                Response* response, Attempt attempt,
                                Accept accept) {
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
  ResilientCall<Response>(
      *route.retrier, *route.guard, context, /*idempotent=*/true,
      [&route, attempt = std::move(attempt)](
          const adapters::CallContext& attempt_context,
          adapters::Callback<Response> done) mutable {
        attempt(route, attempt_context, std::move(done));
      },
      [&services, call, response, answer, accept = std::move(accept),
       runtime = std::move(admitted.runtime)](
          absl::StatusOr<adapters::Reply<Response>> reply,
          int attempts) mutable {
        call->attempts = attempts;
        absl::Status status = reply.status();
        if (status.ok()) {
          accept(*std::move(reply));
          call->response_bytes = response->ByteSizeLong();
          if (call->audited) call->response_sha256 = Sha256Hex(*response);
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

  grpc::ServerUnaryReactor* VerifyIdentity(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::VerifyIdentityRequest* request,
      lienthong::v1::VerifyIdentityResponse* response) override {
    auto call = std::make_shared<CallRecord>(
        kVerifyIdentity, *request, request->citizen_id(), request->purpose(),
        request->dossier_id(), services_->auditing());
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
    if (!r.purpose().empty()) LIENTHONG_RETURN_IF_ERROR(ValidatePurpose(r.purpose()));
    return ValidateDossierId(r.dossier_id());
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
        [ctx, response, mask = std::move(mask)](
            adapters::Reply<lienthong::v1::Citizen> reply) {
          *response = std::move(reply.value);
          google::protobuf::util::FieldMaskUtil::TrimMessage(mask, response);
          if (!reply.reference.empty()) {
            ctx->AddTrailingMetadata("lienthong-reference", reply.reference);
          }
        });
  }

 private:
  static absl::Status Validate(const lienthong::v1::LookupCitizenRequest& r) {
    LIENTHONG_RETURN_IF_ERROR(
        validation::ValidateCitizenId(r.citizen_id(), nullptr, absl::Now()));
    LIENTHONG_RETURN_IF_ERROR(ValidatePurpose(r.purpose()));
    return ValidateDossierId(r.dossier_id());
  }

  const Services* services_;
};

}  // namespace


absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    const GatewayConfig& config, const adapters::AdapterRegistry& registry,
    adapters::HttpClient* http,
    const std::vector<grpc::Service*>& extra_services) {
  auto server =
      std::unique_ptr<GatewayServer>(new GatewayServer(registry, http));
  LIENTHONG_ASSIGN_OR_RETURN(auto runtime,
                             BuildRuntime(config, server->resources_));
  const auto& tls_config = config.listener().tls();
  tls::ServerTlsOptions tls_options;
  tls_options.cert_file = tls_config.cert_file();
  tls_options.key_file = tls_config.key_file();
  tls_options.client_ca_file = tls_config.client_ca_file();
  tls_options.require_client_cert =
      !tls_config.has_require_client_cert() || tls_config.require_client_cert();
  if (!tls_options.require_client_cert &&
      !tls_config.insecure_allow_no_client_cert()) {
    return absl::InvalidArgumentError(
        "listener.tls.require_client_cert: false needs "
        "insecure_allow_no_client_cert: true as well");
  }
  tls_options.refresh_interval_seconds = tls_config.refresh_interval_seconds();
  tls_options.client_crl_file = tls_config.client_crl_file();
  server->admission_ = NewAdmission(config.listener().limits());
  LIENTHONG_RETURN_IF_ERROR(server->admission_->Update(config.clients()));
  tls_options.admission = server->admission_;
  auto& refused = server->metrics_registry_.AddCounter(
      "lienthong_tls_handshakes_refused_total",
      "Client certificates refused in the TLS handshake, by reason.",
      {"reason"});
  tls_options.on_refused = [&refused](absl::string_view reason) {
    refused.WithLabels({reason}).Increment();
  };
  LIENTHONG_ASSIGN_OR_RETURN(auto credentials,
                             tls::MakeServerCredentials(tls_options));

  const auto& audit_config = config.audit();
  if (!audit_config.disabled()) {
    LIENTHONG_ASSIGN_OR_RETURN(server->audit_,
                               OpenAuditLog(audit_config, config.node_name()));
  }
  server->services_ = std::make_unique<Services>(
      std::move(runtime), server->metrics_.get(), server->audit_.get(),
      !audit_config.has_wait_for_durable() || audit_config.wait_for_durable(),
      config.node_name());
  std::vector<grpc::Service*> services = extra_services;
  if (server->audit_ != nullptr) {
    Services* calls = server->services_.get();
    server->audit_service_ = std::make_unique<audit::AuditServiceImpl>(
        *server->audit_,
        [calls](const grpc::CallbackServerContext& ctx, absl::string_view method,
                std::string* caller) {
          tls::ClientIdentity identity;
          absl::Status status =
              Services::Authorize(*calls->runtime(), ctx, method, &identity);
          *caller = identity.id;
          return status;
        },
        [calls](absl::string_view caller, absl::string_view role) {
          return calls->runtime()->policy->HasRole(caller, role);
        });
    services.push_back(server->audit_service_.get());
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

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listener().address(), credentials,
                           &server->port_);
  ApplyListenerLimits(config.listener().limits(), builder);
  builder.RegisterService(identity.get());
  builder.RegisterService(population.get());
  for (grpc::Service* service : services) builder.RegisterService(service);
  server->identity_ = identity;
  server->population_ = population;
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", config.listener().address()));
  }
  log::Info("gateway listening",
            {{"address", config.listener().address()},
             {"port", absl::StrCat(server->port_)},
             {"client_cert", tls_options.require_client_cert ? "required"
                                                             : "not required"}});
  return server;
}

absl::Status GatewayServer::Authorize(const grpc::CallbackServerContext& ctx,
                                      absl::string_view method,
                                      tls::ClientIdentity* caller) const {
  return Services::Authorize(*services_->runtime(), ctx, method, caller);
}

GatewayServer::GatewayServer(const adapters::AdapterRegistry& registry,
                             adapters::HttpClient* http)
    : metrics_(std::make_unique<ServerMetrics>(metrics_registry_)),
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

absl::Status GatewayServer::Ready() const {
  if (audit_ != nullptr && !audit_->healthy()) {
    return absl::UnavailableError("audit store cannot be written");
  }
  auto runtime = services_->runtime();
  for (const auto& [name, guard] : runtime->guards) {
    if (guard->breaker->state() == resilience::BreakerState::kOpen) {
      return absl::UnavailableError(absl::StrCat(
          "circuit breaker to '", name, "' is open"));
    }
  }
  return absl::OkStatus();
}

absl::Status GatewayServer::Reload(const GatewayConfig& config) {
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
