#include "tests/national_sim/sim_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/national_sim/sim_system.h"

namespace lienthong::sim {
namespace {

constexpr char kBusy[] = "He thong dang ban, vui long thu lai sau";

// GET /_sim/portal/applied: every item the portal applied, in order, one
// JSON object per line (the request body is left out).
SimReply PortalAppliedReply(const std::vector<AppliedPortalItem>& applied) {
  std::string body;
  for (const AppliedPortalItem& item : applied) {
    absl::StrAppend(&body, "{\"kind\":\"", AppliedKindName(item.kind),
                    "\",\"idempotency_key\":", JsonQuote(item.idempotency_key),
                    ",\"ma_tthc\":", JsonQuote(item.ma_tthc),
                    ",\"ma_ho_so\":", JsonQuote(item.ma_ho_so),
                    ",\"trang_thai\":", item.trang_thai,
                    ",\"thoi_gian\":", JsonQuote(item.thoi_gian), "}\n");
  }
  SimReply reply;
  reply.content_type = "application/x-ndjson";
  reply.body = std::move(body);
  return reply;
}

std::optional<System> Route(absl::string_view path) {
  if (absl::StartsWith(path, "/c06/")) return System::kPopulation;
  if (absl::StartsWith(path, "/vneid/")) return System::kVneid;
  if (absl::StartsWith(path, "/dvcqg/")) return System::kPortal;
  const std::vector<SimSystemEntry>& added = AddedSystems();
  for (size_t i = 0; i < added.size(); ++i) {
    if (absl::StartsWith(path, added[i].path_prefix)) {
      return static_cast<System>(static_cast<size_t>(System::kFirstAdded) + i);
    }
  }
  return AgencyService::Route(path);
}

// The answer to an injected error or to a request while down with 503.
SimReply ErrorReply(System system, const Knobs& knobs, ErrorKind kind) {
  SimReply reply;
  if (system == System::kPopulation) {
    reply = kind == ErrorKind::kHttp500
                ? PopulationFault(500, "soap:Server", "Loi he thong")
                : PopulationFault(kind == ErrorKind::kHttp503 ? 503 : 500,
                                  "soap:Server", kBusy);
  } else {
    int status = kind == ErrorKind::kHttp500 ? 500 : 503;
    reply = JsonReply(
        status, system == System::kVneid
                    ? R"({"error":"server_error","error_description":"Loi he thong"})"
                    : absl::StrCat("{\"error_code\":\"", status,
                                   "\",\"message\":\"Hệ thống quá tải\"}"));
  }
  if (reply.status == 503 && !knobs.retry_after.empty()) {
    reply.headers.emplace_back("Retry-After", knobs.retry_after);
  }
  return reply;
}

SimRequest ReadRequest(evhttp_request* req) {
  SimRequest r;
  evhttp_cmd_type command = evhttp_request_get_command(req);
  r.method = command == EVHTTP_REQ_GET    ? "GET"
             : command == EVHTTP_REQ_POST ? "POST"
                                          : "OTHER";
  r.uri = evhttp_request_get_uri(req);
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  r.path = path != nullptr ? path : "/";
  evkeyvalq* headers = evhttp_request_get_input_headers(req);
  for (evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    r.headers[absl::AsciiStrToLower(h->key)] = h->value;
  }
  r.host = r.Header("host");
  evbuffer* body = evhttp_request_get_input_buffer(req);
  r.body.resize(evbuffer_get_length(body));
  evbuffer_copyout(body, r.body.data(), r.body.size());
  return r;
}

}  // namespace

class SimServer::Impl {
 public:
  explicit Impl(const SimOptions& options)
      : options_(options),
        population_(options.population),
        vneid_(options.vneid),
        portal_(options.portal),
        agencies_(options.agencies),
        knobs_(AllSystems().size(), options.initial_knobs) {
    for (const SimSystemEntry& entry : AddedSystems()) {
      added_.push_back(entry.make());
    }
  }
  ~Impl() { Stop(); }

  absl::Status Start();
  void Stop();
  int port() const { return port_; }
  std::string base_url() const {
    return absl::StrCat("https://", options_.host, ":", port_);
  }
  absl::Status SetKnobs(System system, const Knobs& knobs);
  Knobs GetKnobs(System system) const {
    absl::MutexLock lock(&mu_);
    return knobs_.at(static_cast<size_t>(system));
  }
  SimStats Stats() const;
  std::vector<AppliedPortalItem> PortalApplied() const {
    return portal_.Applied();
  }
  void ExpirePortalSessions() { portal_.ExpireSessions(); }
  VneidService& vneid() { return vneid_; }
  const AgencyService& agencies() const { return agencies_; }

 private:
  // A request waiting for its latency to pass. `reply` is set when the
  // answer was decided on arrival (an injected error).
  // kServeThenDrop: served (and applied), then the connection closed
  // without the answer.
  enum class Fate { kServe, kMalformed, kDrop, kReply, kServeThenDrop };
  struct Pending {
    Impl* impl;
    evhttp_request* req;
    System system;
    Fate fate;
    SimReply reply;
    // The knobs when the request arrived: a request is served as they were
    // then, though they may change while it waits out its latency.
    Knobs knobs;
    event* timer = nullptr;
  };

  static bufferevent* MakeTlsBufferEvent(event_base* base, void* arg);
  static void OnRequestCb(evhttp_request* req, void* arg) {
    static_cast<Impl*>(arg)->OnRequest(req);
  }
  static void OnTimerCb(evutil_socket_t, short, void* arg);
  // An accept that failed (EMFILE: out of descriptors) pauses the listener
  // for 100 ms; libevent's default leaves it armed, and the loop would spin.
  static void OnAcceptErrorCb(evconnlistener* listener, void*) {
    evconnlistener_disable(listener);
    const timeval pause{0, 100 * 1000};
    event_base_once(
        evconnlistener_get_base(listener), -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void* l) {
          evconnlistener_enable(static_cast<evconnlistener*>(l));
        },
        listener, &pause);
  }
  static void OnWakeCb(evutil_socket_t, short, void* arg) {
    static_cast<Impl*>(arg)->ReleaseHeld();
  }

  // All below run on the loop thread.
  void OnRequest(evhttp_request* req);
  // Answers by the knobs: down, held while hanging, else Schedule.
  void Dispatch(evhttp_request* req, System system, const Knobs& knobs);
  void Schedule(evhttp_request* req, System system, const Knobs& knobs);
  void Delay(evhttp_request* req, System system, const Knobs& knobs, Fate fate,
             SimReply reply, int delay_ms);
  void Finish(Pending* pending);
  SimReply Serve(System system, const SimRequest& request, const Knobs& knobs);
  SimReply Control(const SimRequest& request);
  void ReleaseHeld();
  // Counts the answer in the system's stats, then Reply()s.
  void Send(evhttp_request* req, System system, const SimReply& reply,
            bool malformed);
  void Reply(evhttp_request* req, const SimReply& reply);
  void Drop(evhttp_request* req, System system);
  bool Roll(double rate) { return rate > 0 && absl::Bernoulli(rng_, rate); }
  std::string StatsJson() const;

  const SimOptions options_;
  PopulationService population_;
  VneidService vneid_;
  PortalService portal_;
  AgencyService agencies_;
  // Indexed by System from kFirstAdded (sim_system.h).
  std::vector<std::unique_ptr<SimSystem>> added_;
  SSL_CTX* ssl_ctx_ = nullptr;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  int port_ = 0;
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::vector<Knobs> knobs_ ABSL_GUARDED_BY(mu_);  // indexed by System
  SimStats stats_ ABSL_GUARDED_BY(mu_);
  event* wake_ ABSL_GUARDED_BY(mu_) = nullptr;  // serves held requests

  // Loop thread only.
  absl::BitGen rng_;
  absl::flat_hash_map<Pending*, std::unique_ptr<Pending>> pending_;
  std::vector<std::pair<evhttp_request*, System>> held_;
};

absl::Status SimServer::Impl::Start() {
  static std::once_flag once;
  std::call_once(once, [] {
    evthread_use_pthreads();
    std::signal(SIGPIPE, SIG_IGN);
  });
  ssl_ctx_ = SSL_CTX_new(TLS_server_method());
  if (ssl_ctx_ == nullptr) return absl::InternalError("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ssl_ctx_,
                                         options_.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ssl_ctx_, options_.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ssl_ctx_) != 1) {
    return absl::InvalidArgumentError(
        "cannot load the TLS certificate and key (cert_file, key_file)");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options_.port);
  std::string listen = absl::StrCat(options_.host, ":", options_.port);
  std::string ip = options_.host == "localhost" ? "127.0.0.1" : options_.host;
  if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1 ||
      options_.port < 0 || options_.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad listen address ", listen, ": give IPv4 and port"));
  }
  base_ = event_base_new();
  http_ = base_ != nullptr ? evhttp_new(base_) : nullptr;
  if (http_ == nullptr)
    return absl::InternalError("cannot make the event loop");
  evhttp_set_bevcb(http_, &MakeTlsBufferEvent, this);
  evhttp_set_gencb(http_, &OnRequestCb, this);
  evhttp_set_max_body_size(http_, 4 << 20);
  // Without these libevent buffers a request line or header of any length,
  // and keeps a connection that stalls in its handshake or headers for ever.
  // A request waiting out its latency or a hang is not read meanwhile, so
  // the timeout does not end it.
  evhttp_set_max_headers_size(http_, 64 << 10);
  evhttp_set_timeout(http_, 120);
  evconnlistener* listener = evconnlistener_new_bind(
      base_, nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
      reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (listener == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  evconnlistener_set_error_cb(listener, &OnAcceptErrorCb);
  evhttp_bind_listener(http_, listener);  // owns it from now
  sockaddr_in bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(evconnlistener_get_fd(listener),
              reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(bound.sin_port);
  {
    absl::MutexLock lock(&mu_);
    wake_ = event_new(base_, -1, 0, &OnWakeCb, this);
  }
  thread_ =
      std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
  return absl::OkStatus();
}

void SimServer::Impl::Stop() {
  if (thread_.joinable()) {
    // The break is made from inside the loop, by an event due at once: a
    // loopbreak from here would be lost if the loop had not started yet
    // (event_base_loop clears the flag when it starts), and join would hang.
    const timeval now{0, 0};
    event_base_once(
        base_, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void* base) {
          event_base_loopbreak(static_cast<event_base*>(base));
        },
        base_, &now);
    thread_.join();
  }
  event* wake;
  {
    absl::MutexLock lock(&mu_);
    wake = std::exchange(wake_, nullptr);
  }
  if (wake != nullptr) event_free(wake);
  for (auto& [p, pending] : pending_) event_free(pending->timer);
  pending_.clear();
  held_.clear();  // evhttp_free closes their connections
  if (http_ != nullptr) evhttp_free(std::exchange(http_, nullptr));
  if (base_ != nullptr) event_base_free(std::exchange(base_, nullptr));
  if (ssl_ctx_ != nullptr) SSL_CTX_free(std::exchange(ssl_ctx_, nullptr));
}

absl::Status SimServer::Impl::SetKnobs(System system, const Knobs& knobs) {
  if (absl::Status s = ValidateKnobs(knobs); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  knobs_.at(static_cast<size_t>(system)) = knobs;
  if (wake_ != nullptr) event_active(wake_, EV_TIMEOUT, 0);
  return absl::OkStatus();
}

SimStats SimServer::Impl::Stats() const {
  SimStats stats;
  {
    absl::MutexLock lock(&mu_);
    stats = stats_;
  }
  stats.of(System::kPopulation).lookups = population_.lookups();
  stats.of(System::kPopulation).identity_checks = population_.identity_checks();
  stats.of(System::kVneid).tokens_issued = vneid_.tokens_issued();
  stats.of(System::kPortal).tokens_issued = portal_.sessions_issued();
  stats.of(System::kPortal).portal_applied = portal_.applied_count();
  return stats;
}

bufferevent* SimServer::Impl::MakeTlsBufferEvent(event_base* base, void* arg) {
  SSL* ssl = SSL_new(static_cast<Impl*>(arg)->ssl_ctx_);
  bufferevent* bev = bufferevent_openssl_socket_new(
      base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  if (bev != nullptr) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  return bev;
}

void SimServer::Impl::OnRequest(evhttp_request* req) {
  // A reply leaves in more than one TLS record; without TCP_NODELAY the
  // second waits for the client's delayed ACK (~40 ms per request).
  if (evhttp_connection* conn = evhttp_request_get_connection(req)) {
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
    if (fd >= 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  if (path != nullptr && absl::StartsWith(path, "/_sim/")) {
    Reply(req, Control(ReadRequest(req)));
    return;
  }
  std::optional<System> system = Route(path != nullptr ? path : "");
  if (!system) {
    evhttp_send_error(req, 404, "Not Found");
    return;
  }
  Knobs knobs;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.of(*system).received;
    knobs = knobs_.at(static_cast<size_t>(*system));
    if (!knobs.down && knobs.hang) ++stats_.of(*system).hanging;
  }
  Dispatch(req, *system, knobs);
}

void SimServer::Impl::Dispatch(evhttp_request* req, System system,
                               const Knobs& knobs) {
  if (knobs.down) {
    // Answered from a timer, never from inside this callback, where libevent
    // still uses the connection.
    if (knobs.down_mode == DownMode::kReset) {
      Delay(req, system, knobs, Fate::kDrop, {}, 0);
    } else {
      Delay(req, system, knobs, Fate::kReply,
            ErrorReply(system, knobs, ErrorKind::kHttp503), 0);
    }
  } else if (knobs.hang) {
    held_.emplace_back(req, system);
  } else {
    Schedule(req, system, knobs);
  }
}

void SimServer::Impl::Schedule(evhttp_request* req, System system,
                               const Knobs& knobs) {
  int delay = knobs.latency_ms;
  if (knobs.jitter_ms > 0) delay += absl::Uniform(rng_, 0, knobs.jitter_ms + 1);
  if (Roll(knobs.drop_rate)) {
    Delay(req, system, knobs, Fate::kDrop, {}, delay);
  } else if (Roll(knobs.error_rate)) {
    Delay(req, system, knobs, Fate::kReply,
          ErrorReply(system, knobs, knobs.error_kind), delay);
  } else if (Roll(knobs.lose_answer_rate)) {
    Delay(req, system, knobs, Fate::kServeThenDrop, {}, delay);
  } else {
    Delay(req, system, knobs,
          Roll(knobs.malformed_rate) ? Fate::kMalformed : Fate::kServe, {},
          delay);
  }
}

void SimServer::Impl::Delay(evhttp_request* req, System system,
                            const Knobs& knobs, Fate fate, SimReply reply,
                            int delay_ms) {
  auto pending = std::make_unique<Pending>(
      Pending{this, req, system, fate, std::move(reply), knobs});
  pending->timer = evtimer_new(base_, &OnTimerCb, pending.get());
  timeval tv{delay_ms / 1000, (delay_ms % 1000) * 1000};
  evtimer_add(pending->timer, &tv);
  pending_.emplace(pending.get(), std::move(pending));
}

void SimServer::Impl::OnTimerCb(evutil_socket_t, short, void* arg) {
  auto* pending = static_cast<Pending*>(arg);
  pending->impl->Finish(pending);
}

void SimServer::Impl::Finish(Pending* p) {
  auto node = pending_.extract(p);
  std::unique_ptr<Pending> pending = std::move(node.mapped());
  event_free(pending->timer);
  switch (pending->fate) {
    case Fate::kDrop:
      Drop(pending->req, pending->system);
      return;
    case Fate::kReply:
      Send(pending->req, pending->system, pending->reply, false);
      return;
    case Fate::kServeThenDrop:
      Serve(pending->system, ReadRequest(pending->req), pending->knobs);
      Drop(pending->req, pending->system);
      return;
    case Fate::kServe:
    case Fate::kMalformed:
      break;
  }
  SimReply reply =
      Serve(pending->system, ReadRequest(pending->req), pending->knobs);
  bool malformed = pending->fate == Fate::kMalformed && reply.status == 200;
  // Cut in half: a body that no XML or JSON parser accepts.
  if (malformed) reply.body.resize(reply.body.size() / 2);
  Send(pending->req, pending->system, reply, malformed);
}

SimReply SimServer::Impl::Serve(System system, const SimRequest& request,
                                const Knobs& knobs) {
  switch (system) {
    case System::kPopulation:
      if (request.path != "/c06/soap" || request.method != "POST") {
        return PopulationFault(404, "soap:Client", "Khong tim thay");
      }
      return population_.Handle(request, absl::Now());
    case System::kVneid:
      return vneid_.Handle(request, absl::Now());
    case System::kPortal:
      return portal_.Handle(request, knobs, absl::Now());
    default:
      break;
  }
  if (system >= System::kFirstAdded) {
    return added_
        .at(static_cast<size_t>(system) -
            static_cast<size_t>(System::kFirstAdded))
        ->Handle(request, absl::Now());
  }
  return agencies_.Handle(system, request, knobs, absl::Now());
}

SimReply SimServer::Impl::Control(const SimRequest& request) {
  if (request.path == "/_sim/stats" && request.method == "GET") {
    return JsonReply(200, StatsJson());
  }
  if (request.path == "/_sim/portal/applied" && request.method == "GET") {
    return PortalAppliedReply(portal_.Applied());
  }
  if (request.path == "/_sim/agencies/steps" && request.method == "GET") {
    return AgencyStepsReply(agencies_);
  }
  if (request.path == "/_sim/portal/expire-sessions" &&
      request.method == "POST") {
    portal_.ExpireSessions();
    return JsonReply(200, R"({"expired":true})");
  }
  if (absl::StartsWith(request.path, "/_sim/vneid/")) {
    return VneidControl(vneid_, request);
  }
  if (request.path != "/_sim/knobs" || request.method != "POST") {
    return JsonReply(404, R"({"error":"not found"})");
  }
  auto bad = [](absl::string_view why) {
    return JsonReply(400, absl::StrCat("{\"error\":", JsonQuote(why), "}"));
  };
  absl::StatusOr<JsonObject> json = ParseJsonObject(request.body);
  if (!json.ok()) return bad(json.status().message());
  std::string name = JsonText(*json, "system");
  std::vector<System> systems;
  if (name == "all") {
    systems = AllSystems();
  } else if (auto system = SystemFromName(name)) {
    systems.push_back(*system);
  } else {
    std::vector<std::string> names;
    for (System s : AllSystems()) names.emplace_back(SystemName(s));
    return bad(absl::StrCat("system must be ", absl::StrJoin(names, ", "),
                            " or all"));
  }
  std::vector<Knobs> merged;
  for (System s : systems) {
    Knobs knobs =
        JsonBool(*json, "reset").value_or(false) ? Knobs{} : GetKnobs(s);
    if (absl::Status st = MergeKnobsJson(*json, knobs); !st.ok()) {
      return bad(st.message());
    }
    merged.push_back(std::move(knobs));
  }
  for (size_t i = 0; i < systems.size(); ++i) {
    SetKnobs(systems[i], merged[i]).IgnoreError();  // validated by the merge
  }
  return JsonReply(200, StatsJson());
}

void SimServer::Impl::ReleaseHeld() {
  std::vector<std::pair<evhttp_request*, System>> still_held;
  for (auto [req, system] : held_) {
    Knobs knobs = GetKnobs(system);
    if (knobs.hang) {
      still_held.emplace_back(req, system);
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      --stats_.of(system).hanging;
    }
    Dispatch(req, system, knobs);  // down by now: as a new request would be
  }
  held_ = std::move(still_held);
}

void SimServer::Impl::Send(evhttp_request* req, System system,
                           const SimReply& reply, bool malformed) {
  {
    absl::MutexLock lock(&mu_);
    SystemStats& stats = stats_.of(system);
    if (malformed) {
      ++stats.answered_malformed;
    } else if (reply.status < 400) {  // VNeID's authorisation answers 302
      ++stats.answered_ok;
    } else if (reply.status < 500 || reply.client_fault) {
      ++stats.answered_client_error;
    } else {
      ++stats.answered_server_error;
    }
    if (reply.auth_failure) ++stats.auth_failures;
  }
  Reply(req, reply);
}

void SimServer::Impl::Reply(evhttp_request* req, const SimReply& reply) {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  if (!reply.content_type.empty()) {
    evhttp_add_header(headers, "Content-Type", reply.content_type.c_str());
  }
  for (const auto& [name, value] : reply.headers) {
    evhttp_add_header(headers, name.c_str(), value.c_str());
  }
  evbuffer* body = evbuffer_new();
  evbuffer_add(body, reply.body.data(), reply.body.size());
  // A null reason phrase makes libevent use the standard one.
  evhttp_send_reply(req, reply.status, nullptr, body);
  evbuffer_free(body);
}

// Closes the connection with a TCP reset instead of answering.
void SimServer::Impl::Drop(evhttp_request* req, System system) {
  {
    absl::MutexLock lock(&mu_);
    ++stats_.of(system).dropped;
  }
  evhttp_connection* conn = evhttp_request_get_connection(req);
  if (conn == nullptr) {  // the peer already left; this frees the request
    evhttp_send_reply(req, 503, "Dropped", nullptr);
    return;
  }
  evutil_socket_t fd =
      bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
  if (fd >= 0) {
    linger reset{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  }
  evhttp_connection_free(conn);
}

std::string SimServer::Impl::StatsJson() const {
  SimStats stats = Stats();
  std::vector<std::string> parts;
  for (System s : AllSystems()) {
    parts.push_back(absl::StrCat("\"", SystemName(s),
                                 "\":{\"stats\":", StatsToJson(stats.of(s)),
                                 ",\"knobs\":", KnobsToJson(GetKnobs(s)), "}"));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

SimServer::SimServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SimServer::~SimServer() { Stop(); }

absl::StatusOr<std::unique_ptr<SimServer>> SimServer::Start(
    const SimOptions& options) {
  if (absl::Status s = ValidateKnobs(options.initial_knobs); !s.ok()) return s;
  auto impl = std::make_unique<Impl>(options);
  if (absl::Status s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<SimServer>(new SimServer(std::move(impl)));
}

int SimServer::port() const { return impl_->port(); }
std::string SimServer::base_url() const { return impl_->base_url(); }
void SimServer::Stop() { impl_->Stop(); }
absl::Status SimServer::SetKnobs(System system, const Knobs& knobs) {
  return impl_->SetKnobs(system, knobs);
}
Knobs SimServer::GetKnobs(System system) const {
  return impl_->GetKnobs(system);
}
SimStats SimServer::Stats() const { return impl_->Stats(); }
std::vector<AppliedPortalItem> SimServer::PortalApplied() const {
  return impl_->PortalApplied();
}
void SimServer::ExpirePortalSessions() { impl_->ExpirePortalSessions(); }
absl::Status SimServer::RotateVneidKeys(bool keep_old) {
  return impl_->vneid().RotateKeys(keep_old);
}
void SimServer::SetVneidTokenFaults(const VneidTokenFaults& faults) {
  impl_->vneid().SetFaults(faults);
}
VneidCounters SimServer::VneidStats() const { return impl_->vneid().counters(); }
std::vector<AgencyStep> SimServer::AgencySteps() const {
  return impl_->agencies().Steps();
}
std::map<std::string, int64_t> SimServer::AgencyRequestsPerKey() const {
  return impl_->agencies().RequestsPerKey();
}

}  // namespace lienthong::sim
