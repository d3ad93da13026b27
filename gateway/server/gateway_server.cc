#include "gateway/server/gateway_server.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/admin/readiness.h"
#include "gateway/audit/audit_service.h"
#include "gateway/config/config_loader.h"
#include "gateway/log/log.h"
#include "gateway/server/audit_setup.h"
#include "gateway/server/call_accounting.h"
#include "gateway/server/call_path.h"
#include "gateway/server/citizen_services.h"
#include "gateway/server/server_setup.h"
#include "gateway/status/status_macros.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"
#include "lienthong/v1/audit.grpc.pb.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "lienthong/v1/records.grpc.pb.h"

namespace lienthong::server {

using lienthong::config::v1::GatewayConfig;

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    const GatewayConfig& config, const adapters::AdapterRegistry& registry,
    adapters::HttpClient* http, const std::vector<ExtraService>& extra_services,
    std::shared_ptr<storage::pg::Pool> pg_pool) {
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
  // The handshake's checks are made again on every call (call_path.h).
  tls::HandshakeChecks caller_checks;
  caller_checks.admission = server->admission_;
  LIENTHONG_ASSIGN_OR_RETURN(auto credentials,
                             ListenerCredentials(
                                 config.listener().tls(), server->admission_,
                                 [&refused](absl::string_view reason) {
                                   refused.WithLabels({reason}).Increment();
                                 },
                                 &caller_checks.crls, &caller_checks.cas));
  LIENTHONG_RETURN_IF_ERROR(server->OpenAudit(config, std::move(pg_pool)));
  server->services_ =
      std::make_unique<Services>(std::move(runtime), server->metrics_.get(),
                                 server->recorder_, std::move(caller_checks));
  server->extra_services_ = extra_services;
  std::vector<grpc::Service*> services;
  for (const ExtraService& extra : extra_services) {
    services.push_back(extra.service);
  }
  if (grpc::Service* audit = server->MakeAuditService()) {
    services.push_back(audit);
  }
  server->ExportRuntimeGauges();
  server->metrics_->certificate_expiry_days.WithLabels({tls_options.cert_file})
      .SetCallback([file = tls_options.cert_file] {
        auto not_after = tls::CertificateNotAfter(file);
        return not_after.ok()
                   ? absl::ToDoubleHours(*not_after - absl::Now()) / 24
                   : -1.0;
      });
  LIENTHONG_RETURN_IF_ERROR(
      server->Listen(config.listener(), std::move(credentials), services));
  server->ReportHealth();
  log::Info("gateway listening",
            {{"address", config.listener().address()},
             {"port", absl::StrCat(server->port_)},
             {"client_cert",
              tls_options.require_client_cert ? "required" : "not required"}});
  return server;
}

absl::Status GatewayServer::OpenAudit(
    const GatewayConfig& config, std::shared_ptr<storage::pg::Pool> pg_pool) {
  const auto& audit_config = config.audit();
  if (!audit_config.disabled()) {
    if (pg_pool == nullptr &&
        audit_config.index_store() == lienthong::config::v1::postgres) {
      LIENTHONG_ASSIGN_OR_RETURN(pg_pool, OpenPostgresPool(config));
    }
    LIENTHONG_ASSIGN_OR_RETURN(
        audit_,
        OpenAuditLog(audit_config, config.node_name(), std::move(pg_pool)));
  }
  recorder_ = std::make_shared<const calls::CallRecorder>(
      calls::CallRecorder::Options{call_metrics_.get(), audit_.get(),
                                   !audit_config.has_wait_for_durable() ||
                                       audit_config.wait_for_durable(),
                                   config.node_name()});
  return absl::OkStatus();
}

grpc::Service* GatewayServer::MakeAuditService() {
  if (audit_ == nullptr) return nullptr;
  Services* calls = services_.get();
  audit_service_ = std::make_unique<audit::AuditServiceImpl>(
      recorder_,
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
  ExportAuditMetrics(audit_.get(), metrics_registry_);
  return audit_service_.get();
}

absl::Status GatewayServer::Listen(
    const lienthong::config::v1::Listener& listener,
    std::shared_ptr<grpc::ServerCredentials> credentials,
    const std::vector<grpc::Service*>& services) {
  identity_ = NewIdentityService(services_.get());
  population_ = NewPopulationService(services_.get());
  records_ = NewRecordService(services_.get());
  grpc::EnableDefaultHealthCheckService(true);
  // Links grpc/health/v1/health.proto's descriptor into the generated pool,
  // where server reflection looks for the health service's description.
  (void)grpc::health::v1::HealthCheckResponse::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listener.address(), std::move(credentials), &port_);
  ApplyListenerLimits(listener.limits(), builder);
  // Calls answered before a handler are accounted for too.
  const Services* calls = services_.get();
  PreHandlerRefusal account = [calls](const grpc::ServerContextBase& ctx,
                                      absl::string_view method,
                                      const absl::Status& status) {
    return calls->AccountPreHandler(ctx, method, status);
  };
  unknown_methods_ = std::make_unique<UnknownMethodService>(account);
  builder.RegisterCallbackGenericService(unknown_methods_.get());
  std::vector<std::unique_ptr<
      grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(NewUnparsableBodyInterceptorFactory(account));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(identity_.get());
  builder.RegisterService(population_.get());
  builder.RegisterService(records_.get());
  for (grpc::Service* service : services) builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return config::AtConfigField("listener.address",
                                 absl::UnavailableError(absl::StrCat(
                                     "cannot listen on ", listener.address())));
  }
  return absl::OkStatus();
}

void GatewayServer::ReportHealth() {
  // grpc.health.v1.Health answers per service what /readyz answers. The
  // gateway's services are named by their generated stubs.
  std::vector<std::string> health_services = {
      lienthong::v1::IdentityService::service_full_name(),
      lienthong::v1::PopulationService::service_full_name(),
      lienthong::v1::RecordService::service_full_name()};
  if (audit_ != nullptr) {
    health_services.push_back(lienthong::v1::AuditService::service_full_name());
  }
  for (const ExtraService& extra : extra_services_) {
    health_services.push_back(extra.name);
  }
  health_ = std::make_unique<HealthReporter>(
      server_->GetHealthCheckService(), std::move(health_services),
      [this](absl::string_view service) { return ServiceReady(service); });
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
  // Each failure is marked with its component: /readyz shows that name,
  // and the message, which may carry a database's error, goes to the log.
  if (audit_ != nullptr) {
    LIENTHONG_RETURN_IF_ERROR(
        admin::MarkNotReadyComponent(audit_->Readiness(), "audit log"));
    // Audited calls go on without the index (the journal is local); the
    // audit service's queries need it.
    if ((service.empty() ||
         service == lienthong::v1::AuditService::service_full_name()) &&
        audit_->options().index_store != nullptr) {
      LIENTHONG_RETURN_IF_ERROR(admin::MarkNotReadyComponent(
          audit_->options().index_store->Ready(), "audit index"));
    }
  }
  for (const ExtraService& extra : extra_services_) {
    if ((service.empty() || service == extra.name) && extra.ready) {
      LIENTHONG_RETURN_IF_ERROR(
          admin::MarkNotReadyComponent(extra.ready(), extra.name));
    }
  }
  auto runtime = services_->runtime();
  const std::string prefix = absl::StrCat(service, "/");
  for (const auto& [name, guard] : runtime->guards) {
    if (guard->breaker->state() != resilience::BreakerState::kOpen) continue;
    bool used = service.empty();
    for (const auto& [method, route] : runtime->routes) {
      if (route.guard == guard.get() && absl::StartsWith(method, prefix)) {
        used = true;
      }
    }
    // GetRecord's routes are kept apart, by adapter instance, not method.
    for (const auto& [instance, route] : runtime->record_routes) {
      if (route.guard == guard.get() && absl::StartsWith(kGetRecord, prefix)) {
        used = true;
      }
    }
    if (used) {
      return admin::MarkNotReadyComponent(
          absl::UnavailableError(
              absl::StrCat("circuit breaker to '", name, "' is open")),
          absl::StrCat("national system ", name));
    }
  }
  return absl::OkStatus();
}

absl::Status GatewayServer::Reload(const GatewayConfig& config) {
  LIENTHONG_RETURN_IF_ERROR(config::ValidateConfig(
      config, [this](absl::string_view type) {
        return resources_.registry->EmptyConfigFor(type);
      }));
  LIENTHONG_ASSIGN_OR_RETURN(
      auto runtime,
      BuildRuntime(config, resources_, services_->runtime().get()));
  for (const ExtraService& extra : extra_services_) {
    if (extra.serves_with)
      LIENTHONG_RETURN_IF_ERROR(extra.serves_with(runtime));
  }
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
