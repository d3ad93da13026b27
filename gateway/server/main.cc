// lienthong-gateway: the Lienthong daemon. Loads the config, creates the
// adapters it names, serves the lienthong.v1 API over mutual TLS, and drains
// calls in flight on SIGTERM or SIGINT.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "adapters/common/http/http_client.h"
#include "adapters/registry.h"
#include "gateway/admin/admin_server.h"
#include "gateway/bundle/bundles.h"
#include "gateway/cli/version.h"
#include "gateway/config/address.h"
#include "gateway/config/config_loader.h"
#include "gateway/log/access_file.h"
#include "gateway/log/log.h"
#include "gateway/metrics/registry.h"
#include "gateway/server/file_modes.h"
#include "gateway/server/gateway_server.h"
#include "gateway/server/server_setup.h"
#include "gateway/server/service_manager.h"
#include "gateway/server/startup_check.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/portal_sync.h"
#include "gateway/tls/client_identity.h"
#include "google/protobuf/util/message_differencer.h"
#include "lienthong/v1/bundle.grpc.pb.h"
#include "lienthong/v1/portal.grpc.pb.h"

namespace {

constexpr absl::Duration kDrainGrace = absl::Seconds(15);

// Every call in flight to an HTTP/1.1 national system holds a connection:
// thousands of them need more descriptors than the usual soft limit of 1,024.
void RaiseFileLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// The settings a reload does not apply (they are read only at start) that
// differ between the running config and `fresh`.
std::vector<std::string> StartOnlyChanges(
    const lienthong::config::v1::GatewayConfig& running,
    const lienthong::config::v1::GatewayConfig& fresh) {
  using google::protobuf::util::MessageDifferencer;
  std::vector<std::string> changed;
  auto check = [&changed](const char* name, const google::protobuf::Message& a,
                          const google::protobuf::Message& b) {
    if (!MessageDifferencer::Equals(a, b)) changed.push_back(name);
  };
  if (running.node_name() != fresh.node_name()) changed.push_back("node_name");
  // The per-client call limits under listener.limits are applied by a
  // reload (they are the runtime's, with each client's own rate_limit).
  auto listener_at_start = [](lienthong::config::v1::Listener listener) {
    listener.mutable_limits()->clear_client_requests_per_second();
    listener.mutable_limits()->clear_client_burst();
    return listener;
  };
  check("listener", listener_at_start(running.listener()),
        listener_at_start(fresh.listener()));
  check("logging", running.logging(), fresh.logging());
  check("admin", running.admin(), fresh.admin());
  check("audit", running.audit(), fresh.audit());
  check("portal_sync", running.portal_sync(), fresh.portal_sync());
  check("bundles", running.bundles(), fresh.bundles());
  check("postgres", running.postgres(), fresh.postgres());
  if (running.resilience().max_connections_per_system() !=
      fresh.resilience().max_connections_per_system()) {
    changed.push_back("resilience.max_connections_per_system");
  }
  return changed;
}

// gRPC 1.51 takes its TLS 1.2 cipher suites only from GRPC_SSL_CIPHER_SUITES,
// read once: pin it to AEAD suites with forward secrecy before any gRPC
// credentials exist (no other thread runs yet, so setenv is safe).
void PinCipherSuites() {
  std::vector<std::string> dropped;
  const std::string suites = lienthong::tls::SecureCipherSuites(
      std::getenv("GRPC_SSL_CIPHER_SUITES"), &dropped);
  setenv("GRPC_SSL_CIPHER_SUITES", suites.c_str(), 1);
  if (!dropped.empty()) {
    lienthong::log::Warning(
        "GRPC_SSL_CIPHER_SUITES: suites without AEAD or forward secrecy left out",
        {{"suites", absl::StrJoin(dropped, ":")}});
  }
}

// Tells systemd (Type=notify) what the gateway does; a failure is logged,
// not fatal: the gateway serves whether or not anyone listens.
void Notify(const std::string& state) {
  absl::Status sent = lienthong::server::NotifyServiceManager(state);
  if (!sent.ok()) {
    lienthong::log::Warning("cannot notify the service manager",
                            {{"reason", sent.message()}});
  }
}

void ExportAccessFileMetrics(const lienthong::log::AccessFile& file,
                             lienthong::metrics::Registry& registry) {
  const lienthong::log::AccessFile* f = &file;
  registry
      .AddGauge("lienthong_access_log_dropped_lines",
                "Access lines dropped since start (the access log, its file "
                "or stderr, could not be written, or too much waited to be)")
      .WithLabels({})
      .SetCallback([f] { return static_cast<double>(f->dropped_lines()); });
  registry
      .AddGauge("lienthong_access_log_write_failures",
                "Writes of the access log (its file or stderr) that failed "
                "since start")
      .WithLabels({})
      .SetCallback([f] { return static_cast<double>(f->write_failures()); });
}

// Writes "lienthong-gateway: <message>" for a failed start or check.
int Fail(const absl::Status& status, int exit_code) {
  std::cerr << "lienthong-gateway: " << status.message() << "\n";
  return exit_code;
}

// Blocks the stop and reload signals in every thread started after it (the
// caller waits for them with sigwait) and returns them.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A log reader that went away (stderr a pipe whose other end closed) makes
  // write(2) fail with EPIPE, counted as dropped lines, instead of killing
  // the gateway: systemd ignores SIGPIPE for its services, other
  // supervisors need not.
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// The access log, in its file when one is configured, else on stderr,
// written in batches by a thread of its own (so opened after the signal
// mask, as every thread must be).
absl::StatusOr<std::unique_ptr<lienthong::log::AccessFile>> OpenAccessLog(
    const lienthong::config::v1::GatewayConfig& config) {
  const std::string& file = config.logging().access_log_file();
  if (file.empty()) return lienthong::log::AccessFile::Stderr();
  auto opened = lienthong::log::AccessFile::Open(file);
  if (!opened.ok()) {
    return lienthong::config::AtConfigField("logging.access_log_file",
                                            opened.status());
  }
  return opened;
}

// Access lines go to `file` while this lives, and log lines to stderr
// through `file` when it is stderr, else through a stderr writer of their
// own; set before the first call and cleared after everything that answers
// calls has stopped.
class AccessLogInUse {
 public:
  explicit AccessLogInUse(lienthong::log::AccessFile* file)
      : own_stderr_(file->is_stderr() ? nullptr
                                      : lienthong::log::AccessFile::Stderr()) {
    lienthong::log::SetAccessFile(file);
    lienthong::log::SetStderrSink(own_stderr_ != nullptr ? own_stderr_.get()
                                                         : file);
  }
  ~AccessLogInUse() {
    lienthong::log::SetStderrSink(nullptr);
    lienthong::log::SetAccessFile(nullptr);
  }
  AccessLogInUse(const AccessLogInUse&) = delete;
  AccessLogInUse& operator=(const AccessLogInUse&) = delete;

 private:
  const std::unique_ptr<lienthong::log::AccessFile> own_stderr_;
};

// The admin endpoint (metrics, health), or nullptr when the config turns it
// off. Ready while every service of the gateway is (GatewayServer::Ready).
absl::StatusOr<std::unique_ptr<lienthong::admin::AdminServer>> StartAdmin(
    const lienthong::config::v1::GatewayConfig& config,
    lienthong::server::GatewayServer* gateway) {
  using namespace lienthong;
  if (config.admin().disabled()) return nullptr;
  admin::AdminServer::Options options;
  // Validation has checked the address's shape with the same parser.
  std::optional<config::HostPort> address = config::ParseHostPort(
      config.admin().address().empty() ? "127.0.0.1:9464"
                                       : config.admin().address());
  if (!address.has_value()) {
    return absl::InvalidArgumentError("admin.address must be host:port");
  }
  options.host = address->host;
  options.port = address->port;
  if (const std::string& file = config.admin().bearer_token_file();
      !file.empty()) {
    auto token = admin::ReadBearerTokenFile(file);
    if (!token.ok()) {
      return config::AtConfigField("admin.bearer_token_file", token.status());
    }
    options.bearer_token = *std::move(token);
  }
  auto started =
      admin::AdminServer::Start(options, &gateway->metrics_registry(),
                                [gateway] { return gateway->Ready(); });
  if (!started.ok()) {
    return config::AtConfigField("admin.address", started.status());
  }
  std::cout << "lienthong-gateway admin on http://" << (*started)->host() << ":"
            << (*started)->port() << std::endl;
  return started;
}

// Starts the portal sync's and the bundles' work (each when configured),
// their callers authorised by the gateway's policy and their calls
// recorded by its recorder.
absl::Status StartServices(lienthong::server::GatewayServer* gateway,
                           lienthong::sync::PortalSync* portal_sync,
                           lienthong::bundle::Bundles* bundles) {
  using namespace lienthong;
  if (portal_sync != nullptr) {
    portal_sync->ExportMetrics(gateway->metrics_registry());
    portal_sync->Start(
        [gateway](const grpc::CallbackServerContext& ctx,
                  absl::string_view method) {
          tls::ClientIdentity caller;
          return gateway->Authorize(ctx, method, &caller);
        },
        gateway->recorder());
  }
  if (bundles != nullptr) {
    bundles->ExportMetrics(gateway->metrics_registry());
    LIENTHONG_RETURN_IF_ERROR(bundles->Start(
        [gateway](
            const grpc::CallbackServerContext& ctx,
            absl::string_view method) -> absl::StatusOr<bundle::BundleCaller> {
          tls::ClientIdentity caller;
          LIENTHONG_RETURN_IF_ERROR(gateway->Authorize(ctx, method, &caller));
          return bundle::BundleCaller{caller.id, caller.fingerprint_sha256};
        },
        gateway->recorder()));
  }
  return absl::OkStatus();
}

// The file-mode rules (file_modes.h) for `config`, read from `config_path`:
// OK or FAILED_PRECONDITION naming every loose file. With `allow_insecure`
// (--allow-insecure-file-modes) the loose files are logged instead.
absl::Status CheckFileModes(const std::string& config_path,
                            const lienthong::config::v1::GatewayConfig& config,
                            bool allow_insecure) {
  absl::Status modes =
      lienthong::server::CheckSecretFileModes(config_path, config);
  if (modes.ok() || !allow_insecure) return modes;
  lienthong::log::Warning(
      "key, config, CA or CRL files open to others, allowed by "
      "--allow-insecure-file-modes",
      {{"files", modes.message()}});
  return absl::OkStatus();
}

// SIGHUP: reopens the access log (logrotate renamed it), re-reads the
// holiday file and applies the config file as it now is; a calendar or a
// config that fails to load, to pass the file-mode rules or to build leaves
// the running one.
void Reload(const std::string& config_path,
            const lienthong::config::AdapterConfigResolver& resolver,
            const lienthong::config::v1::GatewayConfig& running,
            bool allow_insecure_file_modes, const std::string& ready,
            lienthong::log::AccessFile& access_log,
            lienthong::bundle::Bundles* bundles,
            lienthong::server::GatewayServer& server) {
  using namespace lienthong;
  access_log.Reopen();
  if (bundles != nullptr) {
    absl::StatusOr<bool> calendar = bundles->ReloadCalendar();
    if (!calendar.ok()) {
      log::Error("holiday file refused; the calendar in use stays",
                 {{"reason", calendar.status().message()}});
    } else if (*calendar) {
      log::Info("holiday file reloaded");
    }
  }
  Notify("RELOADING=1");
  config::ConfigPositions positions;
  auto fresh = config::LoadConfigFile(config_path, resolver, &positions);
  absl::Status reloaded = fresh.status();
  // As at start: a reload must not bring in a CA or key file that others
  // could change (or read) since.
  if (reloaded.ok()) {
    reloaded = CheckFileModes(config_path, *fresh, allow_insecure_file_modes);
  }
  if (reloaded.ok()) reloaded = positions.Locate(server.Reload(*fresh));
  Notify(ready);
  if (!reloaded.ok()) {
    log::Error("config reload refused; the running config stays",
               {{"reason", reloaded.message()}});
    return;
  }
  if (std::vector<std::string> ignored = StartOnlyChanges(running, *fresh);
      !ignored.empty()) {
    log::Warning(
        "config changes that apply only after a restart were not applied",
        {{"settings", absl::StrJoin(ignored, ", ")}});
  }
}

int Run(const std::string& config_path, bool check_only, bool migrate,
        bool allow_insecure_file_modes) {
  using namespace lienthong;
  using server::GatewayServer;
  adapters::AdapterRegistry registry;
  adapters::RegisterBuiltinAdapters(registry);
  const config::AdapterConfigResolver resolver =
      [&registry](absl::string_view type) {
        return registry.EmptyConfigFor(type);
      };
  config::ConfigPositions positions;
  auto config = config::LoadConfigFile(config_path, resolver, &positions);
  if (!config.ok()) return Fail(config.status(), 2);
  if (!config->logging().level().empty()) {
    log::Level level;
    if (log::ParseLevel(config->logging().level(), &level)) log::SetLevel(level);
  }
  if (absl::Status modes =
          CheckFileModes(config_path, *config, allow_insecure_file_modes);
      !modes.ok()) {
    return Fail(modes, 2);
  }
  adapters::CurlHttpClient::Options http_options;
  if (int max = config->resilience().max_connections_per_system(); max > 0) {
    http_options.max_connections_per_host = max;
  }
  if (migrate) {
    auto migrated = server::MigratePostgresStores(*config);
    if (!migrated.ok()) return Fail(migrated.status(), 2);
    for (const std::string& line : *migrated) std::cout << line << "\n";
    return 0;
  }
  if (check_only) {
    // Adapters are made (and dropped) as at start; nothing is sent.
    auto http = adapters::CurlHttpClient::Create(http_options);
    if (!http.ok()) return Fail(http.status(), 1);
    absl::Status checked =
        server::CheckStartup(*config, registry, http->get());
    if (!checked.ok()) return Fail(positions.Locate(checked), 2);
    std::cout << "config OK: " << config_path << "\n";
    return 0;
  }

  // What is made below is destroyed in reverse: what answers calls before
  // what it uses, the access log last.
  const sigset_t stop_signals = BlockStopSignals();
  auto access_log = OpenAccessLog(*config);
  if (!access_log.ok()) return Fail(positions.Locate(access_log.status()), 2);
  AccessLogInUse access_log_in_use(access_log->get());
  auto http = adapters::CurlHttpClient::Create(http_options);
  if (!http.ok()) return Fail(http.status(), 1);
  // One PostgreSQL pool for every store kept there (outbox, audit index).
  auto pg_pool = server::OpenPostgresPool(*config);
  if (!pg_pool.ok()) return Fail(positions.Locate(pg_pool.status()), 2);
  // Portal synchronisation, when configured: its service shares the
  // gateway's listener and is authorised by the gateway's policy.
  std::unique_ptr<sync::PortalSync> portal_sync;
  std::vector<server::ExtraService> extra_services;
  if (!config->portal_sync().adapter().empty()) {
    auto created =
        sync::PortalSync::Create(*config, registry, http->get(), {}, *pg_pool);
    if (!created.ok()) {
      return Fail(positions.Locate(server::AtPortalSyncField(created.status())),
                  2);
    }
    portal_sync = *std::move(created);
    // Ready while its outbox's store can be reached.
    extra_services.push_back(
        {portal_sync->service(),
         lienthong::v1::PortalSyncService::service_full_name(),
         [sync = portal_sync.get()] { return sync->Ready(); }, nullptr});
  }
  // Interconnected procedures, when configured: their steps call adapters
  // of the gateway's runtime, which exists once the server has started.
  std::unique_ptr<bundle::Bundles> bundles;
  GatewayServer* started_gateway = nullptr;
  if (!config->bundles().definitions().empty()) {
    auto created = bundle::Bundles::Create(
        *config, [&started_gateway] { return started_gateway->runtime(); },
        portal_sync != nullptr ? &portal_sync->outbox() : nullptr);
    if (!created.ok()) return Fail(positions.Locate(created.status()), 2);
    bundles = *std::move(created);
    extra_services.push_back(
        {bundles->service(), lienthong::v1::BundleService::service_full_name(),
         nullptr,
         [b = bundles.get()](std::shared_ptr<const server::Runtime> runtime) {
           return b->CheckRuntime(std::move(runtime));
         }});
  }
  auto server = server::GatewayServer::Start(*config, registry, http->get(),
                                             extra_services, *pg_pool);
  if (!server.ok()) return Fail(positions.Locate(server.status()), 2);
  started_gateway = server->get();
  // From here every return first stops what may already run, in this
  // order: the calls, the bundles (they hand progress to the outbox), the
  // portal sync's delivery (its metrics live in the server, destroyed right
  // after), the admin endpoint. A start that fails halfway, its delivery
  // already running, stops it as a signal does.
  absl::StatusOr<std::unique_ptr<lienthong::admin::AdminServer>> admin_server;
  auto stop_all = absl::MakeCleanup([&] {
    (*server)->Shutdown(kDrainGrace);
    (*server)->Wait();
    if (bundles != nullptr) bundles->Stop();
    if (portal_sync != nullptr) portal_sync->Stop();
    if (admin_server.ok() && *admin_server != nullptr) {
      (*admin_server)->Stop();
    }
  });
  admin_server = StartAdmin(*config, server->get());
  if (!admin_server.ok()) {
    return Fail(positions.Locate(admin_server.status()), 2);
  }
  if (absl::Status started =
          StartServices(server->get(), portal_sync.get(), bundles.get());
      !started.ok()) {
    return Fail(positions.Locate(started), 2);
  }
  ExportAccessFileMetrics(**access_log, (*server)->metrics_registry());
  std::cout << "lienthong-gateway listening on port " << (*server)->port()
            << std::endl;
  const std::string ready = absl::StrCat(
      "READY=1\nSTATUS=serving on port ", (*server)->port());
  Notify(ready);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 &&
         signal_number == SIGHUP) {
    Reload(config_path, resolver, *config, allow_insecure_file_modes, ready,
           **access_log, bundles.get(), **server);
  }
  Notify("STOPPING=1");
  log::Info("draining",
            {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"},
             {"grace_s", absl::StrCat(absl::ToInt64Seconds(kDrainGrace))}});
  std::move(stop_all).Invoke();
  log::Info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "lienthong-gateway: the Lienthong integration gateway daemon.\n"
      "Serves lienthong.v1 over gRPC with mutual TLS and relays to the "
      "national systems named in the config."};
  std::string config_path;
  bool check_only = false;
  app.add_option("--config,-c", config_path, "gateway config file (YAML)")
      ->required();
  app.add_flag("--check", check_only,
               "load the config and build everything start-up builds "
               "(adapters, routes, policy, TLS, audit and outbox settings) "
               "without listening or writing, then exit");
  bool migrate = false;
  app.add_flag("--migrate", migrate,
               "bring the schemas of the stores on PostgreSQL "
               "(portal_sync.store, audit.index_store: postgres; connection "
               "string in LIENTHONG_PG_DSN) to this gateway's version, then "
               "exit; start refuses an older one");
  bool allow_insecure_file_modes = false;
  app.add_flag("--allow-insecure-file-modes", allow_insecure_file_modes,
               "start (and reload) even when a key file is readable by "
               "group or others, or the config, a CA or a CRL file is "
               "writable by them (development keys only)");
  app.footer(
      "Exit codes: 0 stopped cleanly or config OK, 1 internal failure, "
      "2 bad config, config, key, CA or CRL file open to others, or cannot "
      "listen.\nExample: lienthong-gateway --config "
      "deploy/examples/gateway.yaml");
  app.set_version_flag("--version",
                       absl::StrCat("lienthong-gateway ", lienthong::cli::kVersion));
  // What the gateway creates (audit store and WAL, outbox, development
  // keys, exports) is for its own user alone.
  ::umask(077);
  CLI11_PARSE(app, argc, argv);
  RaiseFileLimit();
  PinCipherSuites();
  // Debian's Abseil checks lock order on every absl::Mutex acquisition (a
  // debug aid, on by default there), under one process-wide lock; gRPC locks
  // through absl::Mutex too. The tests keep the checks on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return Run(config_path, check_only, migrate, allow_insecure_file_modes);
}
