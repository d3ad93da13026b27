#include "gateway/config/config_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gateway/config/address.h"
#include "gateway/config/bundle_steps.h"
#include "gateway/log/log.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/sync/procedure_codes.h"
#include "gateway/tls/fingerprint.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/text.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "lienthong/v1/audit.pb.h"
#include "lienthong/v1/bundle.pb.h"
#include "lienthong/v1/identity.pb.h"
#include "lienthong/v1/population.pb.h"
#include "lienthong/v1/portal.pb.h"
#include "lienthong/v1/records.pb.h"

namespace lienthong::config {
namespace internal {
namespace {

using lienthong::config::v1::GatewayConfig;

// Client.roles beyond calling methods.
constexpr absl::string_view kKnownRoles[] = {"auditor"};

bool IsHostPort(absl::string_view address) {
  return ParseHostPort(address).has_value();
}

// The message name of a packed Any: what follows the last '/' of its URL.
absl::string_view PackedTypeName(const google::protobuf::Any& any) {
  absl::string_view url = any.type_url();
  const size_t slash = url.rfind('/');
  return slash == absl::string_view::npos ? url : url.substr(slash + 1);
}

std::string CitizenFieldNames() {
  const google::protobuf::Descriptor* citizen =
      lienthong::v1::Citizen::descriptor();
  std::vector<std::string> names;
  for (int i = 0; i < citizen->field_count(); ++i) {
    names.push_back(citizen->field(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

bool IsRatio(double value) { return value >= 0.0 && value <= 1.0; }

// libpq's TCP user timeout, set from it, is an int of milliseconds.
constexpr int32_t kMaxStatementTimeoutMs = 3600 * 1000;

class Checker {
 public:
  Checker(const GatewayConfig& config, const AdapterConfigResolver& resolver)
      : config_(config), resolver_(resolver) {}

  std::vector<ConfigProblem> Run() && {
    CheckListener();
    CheckAdapters();
    CheckRoutes();
    CheckClients();
    CheckLogging();
    CheckAdmin();
    CheckResilience();
    CheckAudit();
    CheckPortalSync();
    CheckPostgresStore();
    CheckBundles();
    return std::move(problems_);
  }

 private:
  void Problem(std::string path, std::string message) {
    problems_.push_back({std::move(path), std::move(message)});
  }

  // Counts, sizes and durations: every integer field of `message` (limits,
  // breaker, retry) must be >= 0, where 0 means "the default".
  void CheckNoNegativeIntegers(const google::protobuf::Message& message,
                               const std::string& path) {
    const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
    const google::protobuf::Reflection* reflection = message.GetReflection();
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* field = descriptor->field(i);
      if (field->is_repeated()) continue;
      int64_t value;
      if (field->cpp_type() ==
          google::protobuf::FieldDescriptor::CPPTYPE_INT32) {
        value = reflection->GetInt32(message, field);
      } else if (field->cpp_type() ==
                 google::protobuf::FieldDescriptor::CPPTYPE_INT64) {
        value = reflection->GetInt64(message, field);
      } else {
        continue;
      }
      if (value < 0) {
        Problem(absl::StrCat(path, ".", field->name()),
                "must not be negative (0 means the default)");
      }
    }
  }

  void CheckRatio(const std::string& path, double value) {
    if (!IsRatio(value)) {
      Problem(path, "must be between 0 and 1 (0 means the default)");
    }
  }

  void CheckListener() {
    const auto& listener = config_.listener();
    if (listener.address().empty()) {
      Problem("listener.address", "required: host:port, e.g. 0.0.0.0:8443");
    } else if (!IsHostPort(listener.address())) {
      Problem("listener.address",
              absl::StrCat("'", listener.address(),
                           "' is not host:port (e.g. 0.0.0.0:8443, "
                           "[::]:8443; port 0 picks a free one)"));
    }
    const auto& tls = listener.tls();
    if (tls.cert_file().empty()) {
      Problem("listener.tls.cert_file",
              "required: the gateway's PEM certificate chain");
    }
    if (tls.key_file().empty()) {
      Problem("listener.tls.key_file",
              "required: the gateway's PEM private key");
    }
    if (tls.client_ca_file().empty()) {
      Problem("listener.tls.client_ca_file",
              "required: the PEM CA bundle that client certificates must "
              "chain to");
    }
    if (tls.has_require_client_cert() && !tls.require_client_cert() &&
        !tls.insecure_allow_no_client_cert()) {
      Problem("listener.tls.require_client_cert",
              "false is refused: without client certificates anyone can reach "
              "the HTTP/2 parser; set insecure_allow_no_client_cert: true as "
              "well, and never in production");
    }
    if (tls.refresh_interval_seconds() < 0) {
      Problem("listener.tls.refresh_interval_seconds",
              "must not be negative (0 means the default, 60)");
    }
    CheckNoNegativeIntegers(listener.limits(), "listener.limits");
    // gRPC takes these in milliseconds, as a 32-bit int.
    constexpr int64_t kMaxSeconds = std::numeric_limits<int32_t>::max() / 1000;
    const google::protobuf::Descriptor* limits =
        listener.limits().GetDescriptor();
    for (int i = 0; i < limits->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* field = limits->field(i);
      if (!absl::EndsWith(field->name(), "_seconds") ||
          field->cpp_type() !=
              google::protobuf::FieldDescriptor::CPPTYPE_INT32) {
        continue;
      }
      if (listener.limits().GetReflection()->GetInt32(listener.limits(),
                                                      field) > kMaxSeconds) {
        Problem(absl::StrCat("listener.limits.", field->name()),
                absl::StrCat("must be at most ", kMaxSeconds,
                             " (24 days): gRPC counts it in milliseconds in "
                             "32 bits"));
      }
    }
    const double handshakes = listener.limits().handshakes_per_client_per_second();
    if (!(handshakes >= 0) || std::isinf(handshakes)) {
      Problem("listener.limits.handshakes_per_client_per_second",
              "must be a positive number (0 means the default, 10)");
    }
    const double requests = listener.limits().client_requests_per_second();
    if (!(requests >= 0) || std::isinf(requests)) {
      Problem("listener.limits.client_requests_per_second",
              "must be a positive number (0 means the default, 1000)");
    }
  }

  void CheckAdmin() {
    const auto& admin = config_.admin();
    if (admin.disabled() || admin.address().empty()) return;
    const std::optional<HostPort> address = ParseHostPort(admin.address());
    if (!address.has_value()) {
      Problem("admin.address",
              absl::StrCat("'", admin.address(),
                           "' is not host:port (e.g. 127.0.0.1:9464)"));
      return;
    }
    // Beyond loopback, /metrics (client IDs, file paths) and /readyz would
    // answer anyone on the network.
    if (!validation::IsLoopbackHost(address->host) &&
        admin.bearer_token_file().empty()) {
      Problem("admin.bearer_token_file",
              absl::StrCat("is required when admin.address ('", admin.address(),
                           "') is beyond loopback; or bind it to 127.0.0.1"));
    }
  }

  void CheckResilience() {
    // max_connections_per_system.
    CheckNoNegativeIntegers(config_.resilience(), "resilience");
    CheckRatio("resilience.retry_budget_ratio",
               config_.resilience().retry_budget_ratio());
  }

  void CheckAudit() {
    const auto& audit = config_.audit();
    // checkpoint_every, segment_mib, index_interval_ms, min_free_mib.
    CheckNoNegativeIntegers(audit, "audit");
    if (audit.segment_mib() > 4096) {
      Problem("audit.segment_mib", "must be at most 4096 (4 GiB)");
    }
    const std::string& pin = audit.signing_key_sha256();
    if (!pin.empty() &&
        (pin.size() != 64 ||
         pin.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)) {
      Problem("audit.signing_key_sha256",
              "must be 64 hex digits (the fingerprint `lienthong audit "
              "keygen` prints)");
    }
    const bool any_key = !audit.signing_key_file().empty() ||
                         !audit.hmac_key_file().empty() ||
                         !audit.digest_key_file().empty();
    if (any_key && (audit.signing_key_file().empty() ||
                    audit.hmac_key_file().empty() ||
                    audit.digest_key_file().empty())) {
      Problem("audit",
              "signing_key_file, hmac_key_file and digest_key_file are set "
              "together (or none, for development keys)");
    }
  }

  void CheckPortalSync() {
    // max_in_flight, give_up_after_seconds, delivered_retention_hours.
    CheckNoNegativeIntegers(config_.portal_sync(), "portal_sync");
    // Also checked here, not only when the service is built at start: a
    // reload must not accept what the next start refuses.
    const std::string& adapter = config_.portal_sync().adapter();
    if (!adapter.empty() && adapters_.count(adapter) == 0) {
      Problem("portal_sync.adapter",
              absl::StrCat("no adapter named '", adapter, "'"));
    }
    if (absl::Status s = sync::ValidateProcedureCodeMappings(
            config_.portal_sync().procedure_codes());
        !s.ok()) {
      // "procedure_codes[<i>].<field>: why"
      const std::string message(s.message());
      const size_t colon = message.find(": ");
      Problem(absl::StrCat("portal_sync.", message.substr(0, colon)),
              message.substr(colon + 2));
    }
  }

  // The PostgreSQL settings (the top-level block, or portal_sync.postgres
  // in older configs). The connection string comes from the environment
  // only (whether it is set is checked at start and by --check).
  void CheckPostgresStore() {
    if (config_.has_postgres() && config_.portal_sync().has_postgres()) {
      Problem("postgres",
              "set once: the top-level postgres block or (older configs) "
              "portal_sync.postgres, not both");
    }
    CheckPostgresSettings(config_.postgres(), "postgres");
    CheckPostgresSettings(config_.portal_sync().postgres(),
                          "portal_sync.postgres");
  }

  void CheckPostgresSettings(const lienthong::config::v1::PostgresStore& pg,
                             const std::string& field) {
    CheckNoNegativeIntegers(pg, field);
    if (!pg.dsn().empty()) {
      // Not echoed: it holds a password.
      Problem(field + ".dsn",
              "a connection string is never kept in the config file: set "
              "the environment variable LIENTHONG_PG_DSN instead");
    }
    if (pg.lease_seconds() > 0 && pg.lease_seconds() < 3) {
      Problem(field + ".lease_seconds", "must be at least 3");
    }
    if (pg.pool_size() > 100) {
      Problem(field + ".pool_size", "must be at most 100");
    }
    if (pg.statement_timeout_ms() > kMaxStatementTimeoutMs) {
      Problem(field + ".statement_timeout_ms",
              absl::StrCat("must be at most ", kMaxStatementTimeoutMs,
                           " (an hour)"));
    }
  }

  // What a bundle definition alone decides; whether its adapters offer the
  // operations and inputs it names is gateway/bundle's, when it is built.
  void CheckBundles() {
    const auto& bundles = config_.bundles();
    CheckNoNegativeIntegers(bundles, "bundles");
    if (bundles.retry_max_seconds() > 0 &&
        bundles.retry_max_seconds() < bundles.retry_min_seconds()) {
      Problem("bundles.retry_max_seconds",
              "must not be less than retry_min_seconds");
    }
    if (bundles.call_attempts() > 10) {
      Problem("bundles.call_attempts", "must be at most 10");
    }
    // NguoiXuLy of every bundle's progress: the portal would refuse it.
    if (absl::Status s =
            validation::ValidateText(bundles.handler(), sync::kMaxHandlerBytes);
        !s.ok()) {
      Problem("bundles.handler", std::string(s.message()));
    }
    std::map<std::string, int, std::less<>> kinds;
    for (int i = 0; i < bundles.definitions_size(); ++i) {
      const auto& definition = bundles.definitions(i);
      const std::string path = absl::StrCat("bundles.definitions[", i, "]");
      const auto* kind =
          lienthong::v1::BundleKind_descriptor()->FindValueByName(
              definition.kind());
      if (kind == nullptr || kind->number() == 0) {
        Problem(path + ".kind",
                absl::StrCat("'", definition.kind(),
                             "' is not a bundle kind (BIRTH or DEATH)"));
      } else if (auto [it, inserted] = kinds.emplace(definition.kind(), i);
                 !inserted) {
        Problem(path + ".kind",
                absl::StrCat("'", definition.kind(),
                             "' is already defined by bundles.definitions[",
                             it->second, "]"));
      }
      // The portal refuses a registration (update 0) these would make, and
      // with it every later update of every bundle of the kind.
      if (definition.procedure_code().empty()) {
        Problem(path + ".procedure_code",
                "required: the MaTTHC progress is reported under");
      } else if (absl::Status s = validation::ValidateProcedureCode(
                     definition.procedure_code(), "procedure_code");
                 !s.ok()) {
        Problem(
            path + ".procedure_code",
            std::string(absl::StripPrefix(s.message(), "procedure_code: ")));
      }
      if (absl::StripAsciiWhitespace(definition.title()).empty()) {
        Problem(path + ".title",
                "required: the procedure's name and the dossier's summary at "
                "the portal");
      } else if (absl::Status s = validation::ValidateText(
                     definition.title(), sync::kMaxRegistrationTextBytes);
                 !s.ok()) {
        Problem(path + ".title", std::string(s.message()));
      }
      if (definition.field_code().empty()) {
        Problem(path + ".field_code",
                "required: the procedure's field (MaLinhVuc) the dossier is "
                "registered under at the portal");
      } else if (definition.field_code().size() > sync::kMaxCodeBytes) {
        Problem(path + ".field_code",
                absl::StrCat("longer than ", sync::kMaxCodeBytes, " bytes"));
      } else if (!std::all_of(definition.field_code().begin(),
                              definition.field_code().end(),
                              [](char c) { return c > ' ' && c <= '~'; })) {
        Problem(path + ".field_code", "must be visible ASCII");
      }
      if (absl::StripAsciiWhitespace(definition.field_name()).empty()) {
        Problem(path + ".field_name", "required: the field's name (TenLinhVuc)");
      } else if (absl::Status s = validation::ValidateText(
                     definition.field_name(), sync::kMaxRegistrationTextBytes);
                 !s.ok()) {
        Problem(path + ".field_name", std::string(s.message()));
      }
      CheckNoNegativeIntegers(definition, path);
      const int normal = definition.deadline_working_days() > 0
                             ? definition.deadline_working_days()
                             : 3;
      if (definition.verification_deadline_working_days() > 0 &&
          definition.verification_deadline_working_days() < normal) {
        Problem(path + ".verification_deadline_working_days",
                "must not be shorter than deadline_working_days");
      }
      if (normal > 365 || definition.verification_deadline_working_days() > 365) {
        Problem(path + ".deadline_working_days", "must be at most 365");
      }
      if (definition.steps().empty()) {
        Problem(path + ".steps", "required: at least one step");
      }
      CheckBundleSteps(
          definition, path,
          [this](const std::string& name) { return adapters_.count(name) > 0; },
          problems_);
    }
  }

  void CheckAdapters() {
    for (int i = 0; i < config_.adapters_size(); ++i) {
      const auto& adapter = config_.adapters(i);
      const std::string path = absl::StrCat("adapters[", i, "]");
      if (adapter.name().empty()) {
        Problem(path + ".name", "required: routes name the adapter by it");
      } else if (auto [it, inserted] = adapters_.emplace(adapter.name(), i);
                 !inserted) {
        Problem(path + ".name",
                absl::StrCat("'", adapter.name(),
                             "' is already the name of adapters[", it->second,
                             "]"));
      }
      if (adapter.max_in_flight() < 0) {
        Problem(path + ".max_in_flight",
                "must not be negative (0 means the default, 2000)");
      }
      // The breaker's other rules are the resilience layer's, applied when
      // the runtime is built (gateway/server/runtime.cc).
      CheckNoNegativeIntegers(adapter.breaker(), path + ".breaker");
      CheckRatio(path + ".breaker.failure_ratio",
                 adapter.breaker().failure_ratio());
      if (adapter.type().empty()) {
        Problem(path + ".type",
                "required: the adapter type, e.g. c06-population-soap");
        continue;
      }
      std::unique_ptr<google::protobuf::Message> empty;
      if (resolver_) empty = resolver_(adapter.type());
      if (empty == nullptr) {
        Problem(path + ".type",
                absl::StrCat("unknown adapter type '", adapter.type(), "'"));
        continue;
      }
      const std::string& want = empty->GetDescriptor()->full_name();
      if (!adapter.has_config() || adapter.config().type_url().empty()) {
        Problem(path + ".config",
                absl::StrCat("required: the settings of the '", adapter.type(),
                             "' adapter (", want, ")"));
      } else if (PackedTypeName(adapter.config()) != want) {
        Problem(path + ".config",
                absl::StrCat("holds ", PackedTypeName(adapter.config()),
                             ", but type '", adapter.type(), "' takes ", want));
      }
    }
  }

  // Which methods can be routed, and to which adapters, is the runtime's
  // rule (gateway/server/runtime.cc), as are the retry policy's; here only
  // what a route refers to and its plain numbers.
  void CheckRoutes() {
    for (int i = 0; i < config_.routes_size(); ++i) {
      const auto& route = config_.routes(i);
      const std::string path = absl::StrCat("routes[", i, "]");
      if (route.adapter().empty()) {
        Problem(path + ".adapter",
                "required: the name of an entry in adapters");
      } else if (adapters_.count(route.adapter()) == 0) {
        Problem(path + ".adapter",
                absl::StrCat("no adapter named '", route.adapter(), "'"));
      }
      if (route.timeout_ms() < 0) {
        Problem(path + ".timeout_ms",
                "must not be negative (0 means the default, 10000)");
      }
      CheckNoNegativeIntegers(route.retry(), path + ".retry");
    }
  }

  void CheckClients() {
    std::map<std::string, int, std::less<>> ids;
    const google::protobuf::Descriptor* citizen =
        lienthong::v1::Citizen::descriptor();
    for (int i = 0; i < config_.clients_size(); ++i) {
      const auto& client = config_.clients(i);
      const std::string path = absl::StrCat("clients[", i, "]");
      if (client.id().empty()) {
        Problem(path + ".id",
                "required: the SAN URI (or subject CN) of the client's "
                "certificate");
      } else if (auto [it, inserted] = ids.emplace(client.id(), i); !inserted) {
        Problem(path + ".id", absl::StrCat("'", client.id(),
                                           "' is already listed as clients[",
                                           it->second, "]"));
      }
      for (int m = 0; m < client.methods_size(); ++m) {
        CheckMethod(absl::StrCat(path, ".methods[", m, "]"), client.methods(m));
      }
      for (int r = 0; r < client.roles_size(); ++r) {
        if (std::find(std::begin(kKnownRoles), std::end(kKnownRoles),
                      client.roles(r)) == std::end(kKnownRoles)) {
          Problem(absl::StrCat(path, ".roles[", r, "]"),
                  absl::StrCat("unknown role '", client.roles(r), "' (known: ",
                               absl::StrJoin(kKnownRoles, ", "), ")"));
        }
      }
      for (int f = 0; f < client.certificate_sha256_size(); ++f) {
        if (auto pin = tls::NormalizeFingerprint(client.certificate_sha256(f));
            !pin.ok()) {
          Problem(absl::StrCat(path, ".certificate_sha256[", f, "]"),
                  std::string(pin.status().message()));
        }
      }
      if (client.has_rate_limit()) {
        const auto& limit = client.rate_limit();
        if (!(limit.requests_per_second() > 0.0) ||
            std::isinf(limit.requests_per_second())) {
          Problem(path + ".rate_limit.requests_per_second",
                  "must be a positive number (leave rate_limit out for no "
                  "limit)");
        }
        if (limit.burst() < 0) {
          Problem(path + ".rate_limit.burst",
                  "must not be negative (0 means one second's worth)");
        }
      }
      for (int g = 0; g < client.grants_size(); ++g) {
        const auto& grant = client.grants(g);
        const std::string grant_path = absl::StrCat(path, ".grants[", g, "]");
        if (grant.purposes().empty()) {
          Problem(grant_path + ".purposes",
                  "required: procedure codes such as \"1.001193\", or \"*\" "
                  "for any purpose");
        }
        for (int p = 0; p < grant.purposes_size(); ++p) {
          const std::string& purpose = grant.purposes(p);
          if (purpose.empty()) {
            Problem(absl::StrCat(grant_path, ".purposes[", p, "]"),
                    "empty: write a procedure code, or \"*\" for any purpose");
          } else if (purpose != "*") {
            // A grant whose purpose no call can state never matches: every
            // call for the procedure it meant would be refused.
            if (absl::Status s = validation::ValidatePurpose(purpose);
                !s.ok()) {
              Problem(absl::StrCat(grant_path, ".purposes[", p, "]"),
                      absl::StrCat(s.message(), ", or \"*\" for any purpose"));
            }
          }
        }
        if (grant.fields().empty()) {
          Problem(grant_path + ".fields",
                  !grant.record_type().empty()
                      ? std::string("required: fields of the record type")
                      : absl::StrCat("required: fields of lienthong.v1."
                                     "Citizen (",
                                     CitizenFieldNames(), ")"));
        }
        // A record type's fields are known once its adapter is built
        // (BuildRuntime checks them).
        for (int f = 0; grant.record_type().empty() && f < grant.fields_size();
             ++f) {
          if (citizen->FindFieldByName(grant.fields(f)) == nullptr) {
            Problem(absl::StrCat(grant_path, ".fields[", f, "]"),
                    absl::StrCat("'", grant.fields(f),
                                 "' is not a field of lienthong.v1.Citizen "
                                 "(fields: ",
                                 CitizenFieldNames(), ")"));
          }
        }
      }
    }
  }

  void CheckLogging() {
    const std::string& level = config_.logging().level();
    log::Level parsed;
    if (!level.empty() && !log::ParseLevel(level, &parsed)) {
      Problem("logging.level", absl::StrCat("'", level, "' is not one of ",
                                            log::LevelNames()));
    }
  }

  void CheckMethod(const std::string& path, const std::string& method) {
    if (method.empty()) {
      Problem(path, absl::StrCat("required: one of ",
                                 absl::StrJoin(KnownMethods(), ", ")));
      return;
    }
    const auto& known = KnownMethods();
    if (std::find(known.begin(), known.end(), method) == known.end()) {
      Problem(path, absl::StrCat("unknown method '", method, "' (known: ",
                                 absl::StrJoin(known, ", "), ")"));
    }
  }

  const GatewayConfig& config_;
  const AdapterConfigResolver& resolver_;
  std::map<std::string, int, std::less<>> adapters_;  // name -> index
  std::vector<ConfigProblem> problems_;
};

}  // namespace

std::vector<ConfigProblem> CheckConfig(const GatewayConfig& config,
                                       const AdapterConfigResolver& resolver) {
  return Checker(config, resolver).Run();
}

}  // namespace internal

const std::vector<std::string>& KnownMethods() {
  // Every method of the lienthong.v1 services, from their descriptors.
  static const auto* const kMethods = [] {
    auto* methods = new std::vector<std::string>;
    for (const google::protobuf::FileDescriptor* file :
         {lienthong::v1::VerifyIdentityRequest::descriptor()->file(),
          lienthong::v1::LookupCitizenRequest::descriptor()->file(),
          lienthong::v1::QueryAuditRequest::descriptor()->file(),
          lienthong::v1::SyncProceduresRequest::descriptor()->file(),
          lienthong::v1::StartBundleRequest::descriptor()->file(),
          lienthong::v1::GetRecordRequest::descriptor()->file()}) {
      for (int s = 0; s < file->service_count(); ++s) {
        const google::protobuf::ServiceDescriptor* service = file->service(s);
        for (int m = 0; m < service->method_count(); ++m) {
          methods->push_back(
              absl::StrCat(service->full_name(), "/", service->method(m)->name()));
        }
      }
    }
    return methods;
  }();
  return *kMethods;
}

absl::Status ValidateConfig(const lienthong::config::v1::GatewayConfig& config,
                            const AdapterConfigResolver& resolver) {
  std::vector<internal::ConfigProblem> problems =
      internal::CheckConfig(config, resolver);
  if (problems.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const auto& problem : problems) {
    lines.push_back(absl::StrCat(problem.path, ": ", problem.message));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace lienthong::config
