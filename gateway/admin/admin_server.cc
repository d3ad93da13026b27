#include "gateway/admin/admin_server.h"

#include <sys/socket.h>

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/log/log.h"
#include "gateway/metrics/exposition.h"
#include "httplib.h"

namespace lienthong::admin {
namespace {

constexpr char kPlainText[] = "text/plain; charset=utf-8";
constexpr char kOurPaths[] = R"(/(metrics|healthz|readyz))";
constexpr int kMaxThreads = 8;
// Long enough to reuse a connection for a burst of requests, short enough
// that an idle one does not hold up Stop (cpp-httplib's default is 5 s).
constexpr time_t kKeepAliveSeconds = 1;
// Nothing here takes a body; refuse big ones before reading them.
constexpr size_t kMaxBody = 64 * 1024;

bool IsOurPath(const std::string& path) {
  return path == "/metrics" || path == "/healthz" || path == "/readyz";
}

void MethodNotAllowed(httplib::Response& res) {
  res.status = 405;
  res.set_header("Allow", "GET, HEAD");
  res.set_content("method not allowed", kPlainText);
}

// cpp-httplib's default sets SO_REUSEPORT too, which would let a second
// gateway bind the same port and silently take half the scrapes.
void ReuseAddressOnly(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

AdminServer::AdminServer(const metrics::Registry* registry,
                         ReadinessCheck readiness, std::string host)
    : registry_(registry),
      readiness_(std::move(readiness)),
      host_(std::move(host)) {}

AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(
    const Options& options, const metrics::Registry* registry,
    ReadinessCheck readiness) {
  if (registry == nullptr) {
    return absl::InvalidArgumentError("admin endpoint: no metrics registry");
  }
  if (options.host.empty()) {
    return absl::InvalidArgumentError("admin endpoint: empty host");
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "admin endpoint: port ", options.port, " is not in 0..65535"));
  }
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin endpoint: threads ", options.threads,
                     " is not in 1..", kMaxThreads));
  }
  if (options.io_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "admin endpoint: io_timeout must be positive");
  }
  std::unique_ptr<AdminServer> server(
      new AdminServer(registry, std::move(readiness), options.host));
  absl::Status status;
  // cpp-httplib reports some failures (std::regex, std::thread, bad_alloc)
  // by throwing: none of it crosses our API.
  try {
    status = server->Configure(options);
  } catch (const std::exception& e) {
    status = absl::InternalError(
        absl::StrCat("admin endpoint: cannot start: ", e.what()));
  }
  if (!status.ok()) return status;
  // listen_after_bind sets is_running() when its accept loop begins; until
  // then httplib's stop() would be a no-op, so wait for it (microseconds).
  while (!server->http_->is_running() &&
         !server->listener_done_.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  if (!server->http_->is_running()) {
    server->Stop();
    return absl::InternalError("admin endpoint: the listener stopped at once");
  }
  log::Info("admin endpoint listening",
            {{"address", absl::StrCat(server->host_, ":", server->port_)}});
  return server;
}

absl::Status AdminServer::Configure(const Options& options) {
  http_ = std::make_unique<httplib::Server>();
  httplib::Server& http = *http_;
  const size_t threads = static_cast<size_t>(options.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_socket_options(ReuseAddressOnly);
  // Headers and body go out in separate writes; with Nagle's algorithm a
  // kept-alive connection would wait for the peer's delayed ACK (~40 ms).
  http.set_tcp_nodelay(true);
  http.set_keep_alive_timeout(kKeepAliveSeconds);
  const int64_t io_usec = absl::ToInt64Microseconds(options.io_timeout);
  http.set_read_timeout(io_usec / 1000000, io_usec % 1000000);
  http.set_write_timeout(io_usec / 1000000, io_usec % 1000000);
  http.set_payload_max_length(kMaxBody);

  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_->Render(),
                    std::string(metrics::kTextContentType));
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", kPlainText);
  });
  http.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const absl::Status ready = readiness_ ? readiness_() : absl::OkStatus();
    if (ready.ok()) {
      res.set_content("ready", kPlainText);
      return;
    }
    res.status = 503;
    res.set_content(ready.message().empty()
                        ? absl::StatusCodeToString(ready.code())
                        : std::string(ready.message()),
                    kPlainText);
  });
  // Methods with a body go through handlers, so that httplib reads (and
  // bounds) the body before we answer and the connection stays usable.
  const auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
    MethodNotAllowed(res);
  };
  http.Post(kOurPaths, not_allowed);
  http.Put(kOurPaths, not_allowed);
  http.Patch(kOurPaths, not_allowed);
  http.Delete(kOurPaths, not_allowed);
  http.Options(kOurPaths, not_allowed);
  // TRACE and CONNECT have no handler list in httplib (it would answer 400).
  http.set_pre_routing_handler(
      [](const httplib::Request& req, httplib::Response& res) {
        if (req.method != "TRACE" && req.method != "CONNECT") {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        if (IsOurPath(req.path)) {
          MethodNotAllowed(res);
        } else {
          res.status = 404;
        }
        return httplib::Server::HandlerResponse::Handled;
      });
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      res.set_content("not found", kPlainText);
    }
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content("internal error", kPlainText);
      });

  if (options.port == 0) {
    port_ = http.bind_to_any_port(host_);
  } else {
    port_ = http.bind_to_port(host_, options.port) ? options.port : -1;
  }
  if (port_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("admin endpoint: cannot bind ", host_, ":", options.port,
                     " (address in use or not local)"));
  }
  absl::MutexLock lock(&stop_mu_);
  listener_ = std::thread([this] {
    try {
      http_->listen_after_bind();
    } catch (const std::exception& e) {
      log::Error("admin endpoint: listener failed", {{"error", e.what()}});
    }
    listener_done_.store(true, std::memory_order_release);
  });
  return absl::OkStatus();
}

void AdminServer::Stop() {
  absl::MutexLock lock(&stop_mu_);
  if (!listener_.joinable()) return;
  http_->stop();
  listener_.join();
  log::Info("admin endpoint stopped",
            {{"address", absl::StrCat(host_, ":", port_)}});
}

}  // namespace lienthong::admin
