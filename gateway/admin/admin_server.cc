#include "gateway/admin/admin_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <list>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/admin/http_request.h"
#include "gateway/admin/readiness.h"
#include "gateway/log/log.h"
#include "gateway/metrics/exposition.h"
#include "gateway/validation/text.h"

namespace lienthong::admin {
namespace {

constexpr char kPlainText[] = "text/plain; charset=utf-8";
constexpr size_t kMaxHeadBytes = 8 * 1024;
// Nothing here takes a body; a small one is read and dropped so that the
// connection stays usable, a bigger one is refused.
constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr int kMaxConnectionsLimit = 10000;

bool IsOurPath(absl::string_view path) {
  return path == "/metrics" || path == "/healthz" || path == "/readyz";
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

// Compares without an early exit, so that timing does not tell how much of
// a guessed token was right.
bool SameSecret(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

// Whether `authorization` (the header's value) is "Bearer TOKEN" with this
// token. The scheme is case-insensitive (RFC 9110, section 11.1: Prometheus
// writes "Bearer", other scrapers "bearer") and may be followed by more than
// one space; the token is compared in constant time.
bool HoldsBearerToken(absl::string_view authorization,
                      absl::string_view token) {
  constexpr absl::string_view kScheme = "bearer";
  const bool scheme = authorization.size() > kScheme.size() &&
                      absl::EqualsIgnoreCase(
                          authorization.substr(0, kScheme.size()), kScheme) &&
                      authorization[kScheme.size()] == ' ';
  if (!scheme) return false;
  authorization.remove_prefix(kScheme.size());
  while (absl::ConsumePrefix(&authorization, " ")) {
  }
  return SameSecret(authorization, token);
}

struct Response {
  Response() = default;
  Response(int status, std::string body, std::string extra_headers = "",
           std::string content_type = kPlainText)
      : status(status),
        body(std::move(body)),
        content_type(std::move(content_type)),
        extra_headers(std::move(extra_headers)) {}

  int status = 200;
  std::string body;
  std::string content_type = kPlainText;
  std::string extra_headers;
};

}  // namespace

absl::StatusOr<std::string> ReadBearerTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string contents;
  if (in) {
    char buffer[4097];
    in.read(buffer, sizeof(buffer));
    contents.assign(buffer, static_cast<size_t>(in.gcount()));
  }
  const std::string what = absl::StrCat("admin.bearer_token_file '", path, "'");
  if (!in && !in.eof()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", what));
  }
  if (contents.size() > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is over 4 KiB"));
  }
  const absl::string_view token = absl::StripAsciiWhitespace(contents);
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " must hold one token of visible ASCII characters"));
    }
  }
  if (token.size() < kMinBearerTokenBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " holds a token shorter than ", kMinBearerTokenBytes,
                     " characters (make one with: openssl rand -hex 32)"));
  }
  return std::string(token);
}

// The event loop and its connections. Every method but Break and
// CheckLoop runs on the loop's thread (or, for the destructor, after it has
// ended). The readiness check runs on a thread of its own (CheckLoop), so
// a slow one (a database that does not answer) holds up only the /readyz
// requests waiting for it, never /healthz or /metrics; requests that come
// while a check runs share its answer, so at most one runs at a time.
class AdminServer::Loop {
 public:
  Loop(const Options& options, const metrics::Registry* registry,
       ReadinessCheck readiness)
      : options_(options),
        registry_(registry),
        readiness_(std::move(readiness)) {}
  ~Loop();

  // Creates the event base and binds; `*port` gets the bound port.
  absl::Status Bind(const std::string& host, int requested_port, int* port);
  void Run() { event_base_dispatch(base_); }
  // Thread-safe: wakes the loop, which then ends.
  void Break() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }

 private:
  // kChecking: a /readyz request waiting for the readiness check.
  enum class State { kHead, kBody, kChecking, kAnswering };
  struct Conn {
    Loop* loop = nullptr;
    bufferevent* bev = nullptr;
    event* deadline = nullptr;
    State state = State::kHead;
    HttpRequest request;
    size_t body_left = 0;
    bool close_after = false;
    std::list<Conn>::iterator self;
  };

  static void OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int,
                       void* arg) {
    static_cast<Loop*>(arg)->Accept(fd);
  }
  static void OnRead(bufferevent*, void* arg) {
    Conn* conn = static_cast<Conn*>(arg);
    conn->loop->Process(conn);
  }
  static void OnWrite(bufferevent*, void* arg) {
    Conn* conn = static_cast<Conn*>(arg);
    conn->loop->Answered(conn);
  }
  static void OnEvent(bufferevent*, short events, void* arg) {
    Conn* conn = static_cast<Conn*>(arg);
    // A client may half-close after its request: its answer still goes.
    if ((events & BEV_EVENT_EOF) != 0 && conn->state == State::kAnswering) {
      conn->close_after = true;
      return;
    }
    conn->loop->Close(conn);
  }
  static void OnDeadline(evutil_socket_t, short, void* arg) {
    Conn* conn = static_cast<Conn*>(arg);
    if (conn->state == State::kChecking) {
      conn->loop->Answer(
          conn, Response{503, "the readiness check has not answered in time"});
      return;
    }
    conn->loop->Close(conn);
  }
  static void OnWake(evutil_socket_t, short, void* arg) {
    event_base_loopbreak(static_cast<Loop*>(arg)->base_);
  }
  static void OnChecked(evutil_socket_t fd, short, void* arg) {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = ::read(fd, &count, sizeof(count));
    static_cast<Loop*>(arg)->Checked();
  }

  // On the checker thread: runs the check whenever the loop wants one.
  void CheckLoop();
  // Waits for the readiness check (starting one unless one is running).
  void AwaitCheck(Conn* conn);
  // Answers the requests waiting for the check that has just ended.
  void Checked();
  // Logs the check's full reason when it differs from the last one logged.
  void LogReadinessChange(const absl::Status& ready);

  void Accept(evutil_socket_t fd);
  void WaitForRequest(Conn* conn);
  void Process(Conn* conn);
  void Respond(Conn* conn);
  // The answer to `request`; nullopt for a /readyz the check must answer.
  std::optional<Response> Route(const HttpRequest& request);
  // Sends `response` to `conn`'s request (no body for HEAD).
  void Answer(Conn* conn, Response response);
  void Send(Conn* conn, const Response& response, bool close);
  void Answered(Conn* conn);
  void Close(Conn* conn);

  const Options options_;
  const metrics::Registry* const registry_;
  const ReadinessCheck readiness_;
  event_base* base_ = nullptr;
  evconnlistener* listener_ = nullptr;
  int wake_fd_ = -1;
  event* wake_ = nullptr;
  // The readiness check's thread and what it shares with the loop.
  std::thread checker_;
  int checked_fd_ = -1;
  event* checked_ = nullptr;
  bool check_running_ = false;    // loop thread only
  std::string not_ready_logged_;  // loop thread only; "" while ready
  absl::Mutex check_mu_;
  bool check_wanted_ ABSL_GUARDED_BY(check_mu_) = false;
  bool check_stop_ ABSL_GUARDED_BY(check_mu_) = false;
  absl::Status check_result_ ABSL_GUARDED_BY(check_mu_);
  // Oldest first by when each became ready for its current request: the
  // front is the first to go when the cap is reached.
  std::list<Conn> conns_;
};

AdminServer::Loop::~Loop() {
  if (checker_.joinable()) {
    {
      absl::MutexLock lock(&check_mu_);
      check_stop_ = true;
    }
    checker_.join();  // after a check under way has ended
  }
  if (checked_ != nullptr) event_free(checked_);
  if (checked_fd_ >= 0) ::close(checked_fd_);
  while (!conns_.empty()) Close(&conns_.front());
  if (listener_ != nullptr) evconnlistener_free(listener_);
  if (wake_ != nullptr) event_free(wake_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (base_ != nullptr) event_base_free(base_);
}

absl::Status AdminServer::Loop::Bind(const std::string& host,
                                     int requested_port, int* port) {
  base_ = event_base_new();
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (base_ == nullptr || wake_fd_ < 0) {
    return absl::InternalError("admin endpoint: cannot make its event loop");
  }
  wake_ = event_new(base_, wake_fd_, EV_READ | EV_PERSIST, OnWake, this);
  event_add(wake_, nullptr);
  if (readiness_) {
    checked_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (checked_fd_ < 0) {
      return absl::InternalError("admin endpoint: cannot make its event loop");
    }
    checked_ =
        event_new(base_, checked_fd_, EV_READ | EV_PERSIST, OnChecked, this);
    event_add(checked_, nullptr);
    try {
      checker_ = std::thread([this] { CheckLoop(); });
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat(
          "admin endpoint: cannot start its readiness thread: ", e.what()));
    }
  }

  const absl::Status cannot_bind = absl::UnavailableError(
      absl::StrCat("admin endpoint: cannot bind ", host, ":", requested_port,
                   " (address in use or not local)"));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string bare(absl::StripPrefix(absl::StripSuffix(host, "]"), "["));
  if (getaddrinfo(bare.c_str(), std::to_string(requested_port).c_str(), &hints,
                  &found) != 0) {
    return cannot_bind;
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  ai->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only: SO_REUSEPORT would let a second gateway bind the
    // same port and silently take half the scrapes.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return cannot_bind;
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  *port = ntohs(bound.ss_family == AF_INET6
                    ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listener_ = evconnlistener_new(base_, OnAccept, this,
                                 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                 0, fd);
  if (listener_ == nullptr) {
    ::close(fd);
    return absl::InternalError("admin endpoint: cannot listen");
  }
  return absl::OkStatus();
}

void AdminServer::Loop::Accept(evutil_socket_t fd) {
  if (conns_.size() >= static_cast<size_t>(options_.max_connections)) {
    // Make room by dropping whoever has waited longest for its request.
    auto oldest = conns_.begin();
    while (oldest != conns_.end() && oldest->state == State::kAnswering) {
      ++oldest;
    }
    if (oldest == conns_.end()) {
      ::close(fd);
      return;
    }
    Close(&*oldest);
  }
  int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  bufferevent* bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    ::close(fd);
    return;
  }
  conns_.emplace_back();
  Conn* conn = &conns_.back();
  conn->loop = this;
  conn->bev = bev;
  conn->self = std::prev(conns_.end());
  conn->deadline = evtimer_new(base_, OnDeadline, conn);
  bufferevent_setcb(bev, OnRead, OnWrite, OnEvent, conn);
  WaitForRequest(conn);
}

void AdminServer::Loop::WaitForRequest(Conn* conn) {
  conn->state = State::kHead;
  conn->close_after = false;
  conns_.splice(conns_.end(), conns_, conn->self);  // youngest now
  const timeval request_tv = absl::ToTimeval(options_.request_timeout);
  evtimer_add(conn->deadline, &request_tv);
  bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
}

void AdminServer::Loop::Process(Conn* conn) {
  evbuffer* input = bufferevent_get_input(conn->bev);
  if (conn->state == State::kHead) {
    const size_t available = evbuffer_get_length(input);
    if (available == 0) return;
    const size_t view = std::min(available, kMaxHeadBytes + 1);
    const char* data =
        reinterpret_cast<const char*>(evbuffer_pullup(input, view));
    ParseResult parsed = ParseRequestHead(absl::string_view(data, view),
                                          kMaxHeadBytes, &conn->request);
    if (parsed.status == ParseStatus::kIncomplete) return;
    if (parsed.status == ParseStatus::kBad) {
      Response bad{parsed.http_status, parsed.reason};
      Send(conn, bad, /*close=*/true);
      return;
    }
    evbuffer_drain(input, parsed.head_bytes);
    if (conn->request.has_transfer_encoding) {
      Send(conn, Response{411, "Content-Length required"}, true);
      return;
    }
    if (conn->request.content_length > kMaxBodyBytes) {
      Send(conn, Response{413, "request body too large"}, true);
      return;
    }
    conn->body_left = conn->request.content_length;
    conn->state = State::kBody;
  }
  if (conn->state == State::kBody) {
    const size_t take = std::min(conn->body_left, evbuffer_get_length(input));
    evbuffer_drain(input, take);
    conn->body_left -= take;
    if (conn->body_left == 0) Respond(conn);
  }
}

void AdminServer::Loop::Respond(Conn* conn) {
  std::optional<Response> response;
  try {
    response = Route(conn->request);
  } catch (const std::exception&) {
    response = Response{500, "internal error"};
  }
  if (!response.has_value()) {
    AwaitCheck(conn);
    return;
  }
  Answer(conn, *std::move(response));
}

void AdminServer::Loop::Answer(Conn* conn, Response response) {
  if (conn->request.method == "HEAD") {
    // Same headers as GET, no body.
    response.extra_headers +=
        absl::StrCat("Content-Length: ", response.body.size(), "\r\n");
    response.body.clear();
  }
  Send(conn, response, !conn->request.keep_alive);
}

std::optional<Response> AdminServer::Loop::Route(const HttpRequest& request) {
  if (!options_.bearer_token.empty() && request.path != "/healthz" &&
      !HoldsBearerToken(request.authorization, options_.bearer_token)) {
    return Response{401, "bearer token required",
                    "WWW-Authenticate: Bearer\r\n"};
  }
  if (!IsOurPath(request.path)) return Response{404, "not found"};
  if (request.method != "GET" && request.method != "HEAD") {
    return Response{405, "method not allowed", "Allow: GET, HEAD\r\n"};
  }
  if (request.path == "/metrics") {
    return Response{200, registry_->Render(), "",
                    std::string(metrics::kTextContentType)};
  }
  if (request.path == "/healthz") return Response{200, "ok"};
  if (readiness_) return std::nullopt;
  return Response{200, "ready"};
}

void AdminServer::Loop::AwaitCheck(Conn* conn) {
  conn->state = State::kChecking;
  bufferevent_disable(conn->bev, EV_READ);
  const timeval wait_tv = absl::ToTimeval(options_.request_timeout);
  evtimer_add(conn->deadline, &wait_tv);
  if (check_running_) return;  // its answer is this request's too
  check_running_ = true;
  absl::MutexLock lock(&check_mu_);
  check_wanted_ = true;
}

void AdminServer::Loop::CheckLoop() {
  absl::MutexLock lock(&check_mu_);
  while (true) {
    check_mu_.Await(absl::Condition(
        +[](Loop* loop) { return loop->check_wanted_ || loop->check_stop_; },
        this));
    if (check_stop_) return;
    check_wanted_ = false;
    check_mu_.Unlock();
    absl::Status ready;
    try {
      ready = readiness_();
    } catch (const std::exception&) {
      ready = absl::InternalError("the readiness check failed");
    }
    check_mu_.Lock();
    check_result_ = std::move(ready);
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(checked_fd_, &one, sizeof(one));
  }
}

void AdminServer::Loop::Checked() {
  if (!check_running_) return;
  check_running_ = false;
  absl::Status ready;
  {
    absl::MutexLock lock(&check_mu_);
    ready = check_result_;
  }
  LogReadinessChange(ready);
  // The message stays in the log: it may name a database's host and user.
  const Response response =
      ready.ok() ? Response{200, "ready"} : Response{503, NotReadyText(ready)};
  std::vector<Conn*> waiting;
  for (Conn& conn : conns_) {
    if (conn.state == State::kChecking) waiting.push_back(&conn);
  }
  for (Conn* conn : waiting) Answer(conn, response);
}

void AdminServer::Loop::LogReadinessChange(const absl::Status& ready) {
  // Once per change, not per probe: a scraper asks every few seconds.
  if (ready.ok()) {
    if (!not_ready_logged_.empty()) log::Info("admin endpoint: ready again");
    not_ready_logged_.clear();
    return;
  }
  const std::string shown = NotReadyText(ready);
  const std::string reason = absl::StrCat(
      absl::StatusCodeToString(ready.code()), ": ", ready.message());
  std::string logged = absl::StrCat(shown, "\n", reason);  // never empty
  if (logged == not_ready_logged_) return;
  not_ready_logged_ = std::move(logged);
  log::Warning("admin endpoint: not ready",
               {{"shown", shown}, {"reason", reason}});
}

void AdminServer::Loop::Send(Conn* conn, const Response& response, bool close) {
  conn->close_after = close;
  std::string text = absl::StrCat(
      "HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status),
      "\r\nContent-Type: ", response.content_type, "\r\nCache-Control: no-store\r\n",
      response.extra_headers);
  if (!absl::StrContains(response.extra_headers, "Content-Length:")) {
    absl::StrAppend(&text, "Content-Length: ", response.body.size(), "\r\n");
  }
  absl::StrAppend(&text, close ? "Connection: close\r\n" : "", "\r\n",
                  response.body);
  conn->state = State::kAnswering;
  // Nothing more is read until the answer is taken: a client that
  // pipelines requests without reading cannot grow the output.
  bufferevent_disable(conn->bev, EV_READ);
  const timeval write_tv = absl::ToTimeval(options_.write_timeout);
  evtimer_add(conn->deadline, &write_tv);
  bufferevent_write(conn->bev, text.data(), text.size());
}

void AdminServer::Loop::Answered(Conn* conn) {
  if (conn->state != State::kAnswering) return;
  if (conn->close_after) {
    Close(conn);
    return;
  }
  WaitForRequest(conn);
  Process(conn);  // a pipelined request may be waiting already
}

void AdminServer::Loop::Close(Conn* conn) {
  event_free(conn->deadline);
  bufferevent_free(conn->bev);
  conns_.erase(conn->self);
}

AdminServer::AdminServer(std::string host) : host_(std::move(host)) {}

AdminServer::~AdminServer() { Stop(); }

namespace {

// Beyond loopback without a token, /metrics (client IDs, file paths) and
// /readyz would answer anyone on the network: refused, not warned about,
// as a warning in a log nobody reads protects nothing.
absl::Status CheckExposure(const AdminServer::Options& options) {
  if (validation::IsLoopbackHost(options.host) ||
      !options.bearer_token.empty()) {
    return absl::OkStatus();
  }
  // As admin.address spells it: an IPv6 host in brackets.
  const bool bare_v6 = absl::StrContains(options.host, ':') &&
                       !absl::StartsWith(options.host, "[");
  const std::string address =
      bare_v6 ? absl::StrCat("[", options.host, "]:", options.port)
              : absl::StrCat(options.host, ":", options.port);
  return absl::InvalidArgumentError(absl::StrCat(
      "admin endpoint: ", address,
      " is beyond loopback and no bearer token is set, so its metrics (client "
      "IDs, file paths) would be open to the network; set "
      "admin.bearer_token_file, or bind admin.address to 127.0.0.1"));
}

absl::Status CheckOptions(const AdminServer::Options& options,
                          const metrics::Registry* registry) {
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
  if (options.max_connections < 1 ||
      options.max_connections > kMaxConnectionsLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin endpoint: max_connections ", options.max_connections,
                     " is not in 1..", kMaxConnectionsLimit));
  }
  if (options.request_timeout <= absl::ZeroDuration() ||
      options.write_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "admin endpoint: timeouts must be positive");
  }
  return CheckExposure(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(
    const Options& options, const metrics::Registry* registry,
    ReadinessCheck readiness) {
  if (absl::Status valid = CheckOptions(options, registry); !valid.ok()) {
    return valid;
  }
  std::unique_ptr<AdminServer> server(new AdminServer(options.host));
  auto loop = std::make_unique<Loop>(options, registry, std::move(readiness));
  absl::Status bound = loop->Bind(options.host, options.port, &server->port_);
  if (!bound.ok()) return bound;
  {
    absl::MutexLock lock(&server->stop_mu_);
    Loop* running = loop.get();
    server->loop_ = std::move(loop);
    try {
      server->thread_ = std::thread([running] { running->Run(); });
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("admin endpoint: cannot start its thread: ", e.what()));
    }
  }
  const std::string address = absl::StrCat(server->host_, ":", server->port_);
  log::Info("admin endpoint listening",
            {{"address", address},
             {"bearer_token", options.bearer_token.empty() ? "off" : "required"}});
  if (!validation::IsLoopbackHost(options.host)) {
    // Allowed only with a token (CheckExposure); /healthz stays open.
    log::Warning(
        "admin endpoint listens beyond loopback: /healthz answers anyone who "
        "reaches it; restrict it with a network policy",
        {{"address", address}});
  }
  return server;
}

void AdminServer::Stop() {
  absl::MutexLock lock(&stop_mu_);
  if (!thread_.joinable()) return;
  loop_->Break();
  thread_.join();
  loop_.reset();
  log::Info("admin endpoint stopped",
            {{"address", absl::StrCat(host_, ":", port_)}});
}

}  // namespace lienthong::admin
