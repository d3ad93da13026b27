// CurlHttpClient against the simulated national systems over real TLS on
// 127.0.0.1 (tests/national_sim), with a counting TCP relay in front of the
// simulator where a test needs to see the connections the client opens.
#include "adapters/common/http/http_client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/sim_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace lienthong::adapters {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::testing::TestCert;
using sim::Knobs;
using sim::SimServer;
using sim::System;
using ::testing::HasSubstr;

constexpr char kTokenPath[] =
    "/vneid/realms/citizen/protocol/openid-connect/token";
constexpr char kTokenForm[] =
    "grant_type=client_credentials&client_id=lienthong-dev&"
    "client_secret=dev-vneid-secret";

// The answers to `n` requests: each callback records its result, how often
// it ran and on which thread. Shared with the callbacks, so a test that
// fails early cannot leave a callback pointing at freed memory.
class Answers {
 public:
  explicit Answers(int n) : calls_(n, 0), results_(n) {}

  static std::shared_ptr<Answers> Make(int n) {
    return std::make_shared<Answers>(n);
  }

  static HttpCallback Callback(std::shared_ptr<Answers> answers, int i) {
    return [answers, i](absl::StatusOr<HttpResponse> result) {
      absl::MutexLock lock(&answers->mu_);
      if (answers->calls_[i]++ == 0) ++answers->answered_;
      answers->results_[i] = std::move(result);
      answers->threads_.insert(std::this_thread::get_id());
    };
  }

  // Whether every request was answered within `timeout`.
  bool WaitAll(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(this, &Answers::AllAnswered),
                                timeout);
  }

  // Whether request `i` was answered within `timeout`.
  bool WaitOne(int i, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto answered = [this, i]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return calls_[i] > 0;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&answered), timeout);
  }

  int calls(int i) {
    absl::MutexLock lock(&mu_);
    return calls_[i];
  }
  absl::StatusOr<HttpResponse> result(int i) {
    absl::MutexLock lock(&mu_);
    if (!results_[i].has_value()) return absl::UnknownError("no answer");
    return *results_[i];
  }
  std::set<std::thread::id> threads() {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  bool AllAnswered() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return answered_ == static_cast<int>(calls_.size());
  }

  absl::Mutex mu_;
  std::vector<int> calls_ ABSL_GUARDED_BY(mu_);
  int answered_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::optional<absl::StatusOr<HttpResponse>>> results_
      ABSL_GUARDED_BY(mu_);
  std::set<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

// A TCP relay on 127.0.0.1:0 to `target_port` that counts the connections
// made to it: in all, and the most open at once. One thread per connection.
class ConnectionCounter {
 public:
  explicit ConnectionCounter(int target_port) : target_port_(target_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (listen_fd_ < 0 ||
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 1024) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
            0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~ConnectionCounter() {
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);  // ends accept()
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> relays;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);  // ends each poll()
      relays.swap(relays_);
    }
    for (std::thread& t : relays) t.join();
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  // 0 if the relay could not listen.
  int port() const { return port_; }
  std::string base_url() const {
    return absl::StrCat("https://127.0.0.1:", port_);
  }
  int accepted() {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }
  int peak() {
    absl::MutexLock lock(&mu_);
    return peak_;
  }

 private:
  void AcceptLoop() {
    for (;;) {
      int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // shut down
      }
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        close(client);
        return;
      }
      ++accepted_;
      ++open_;
      peak_ = std::max(peak_, open_);
      relays_.emplace_back([this, client] { Relay(client); });
    }
  }

  void Relay(int client) {
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(target_port_);
    bool connected =
        server >= 0 &&
        connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    {
      absl::MutexLock lock(&mu_);
      fds_.insert(client);
      if (server >= 0) fds_.insert(server);
      if (stopping_) connected = false;
    }
    while (connected) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
      if (!Pump(fds[0], server) || !Pump(fds[1], client)) break;
    }
    {
      absl::MutexLock lock(&mu_);
      --open_;
      fds_.erase(client);
      fds_.erase(server);
    }
    close(client);
    if (server >= 0) close(server);
  }

  // Copies what is readable on `from` to `to`; false when the connection
  // ended.
  static bool Pump(const pollfd& from, int to) {
    if (from.revents == 0) return true;
    char buffer[16384];
    ssize_t n = read(from.fd, buffer, sizeof(buffer));
    if (n <= 0) return false;
    for (ssize_t sent = 0; sent < n;) {
      ssize_t w = send(to, buffer + sent, n - sent, MSG_NOSIGNAL);
      if (w <= 0) return false;
      sent += w;
    }
    return true;
  }

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int peak_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> relays_ ABSL_GUARDED_BY(mu_);
};

// A TCP socket bound to a free port of 127.0.0.1, not listening (no one
// else can take the port while it is open), and that port's https URL; fd
// is -1 when it could not be had.
struct LoopbackPort {
  int fd = -1;
  std::string url;
};

LoopbackPort BindLoopbackPort() {
  LoopbackPort port;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return port;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return port;
  }
  port.fd = fd;
  port.url = absl::StrCat("https://127.0.0.1:", ntohs(addr.sin_port));
  return port;
}

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::SimOptions options;
    // The build's development certificates: sim.pem is for 127.0.0.1,
    // signed by ca.pem.
    options.cert_file = TestCert("sim.pem");
    options.key_file = TestCert("sim.key");
    auto server = SimServer::Start(options);
    ASSERT_THAT(server, IsOk());
    sim_ = *std::move(server);
  }

  void TearDown() override {
    client_.reset();  // before the simulator, which may hold requests
    counter_.reset();
    sim_.reset();
  }

  void StartClient(CurlHttpClient::Options options = {}) {
    auto client = CurlHttpClient::Create(options);
    ASSERT_THAT(client, IsOk());
    client_ = *std::move(client);
  }

  // Puts a ConnectionCounter in front of the simulator; returns its URL.
  std::string CountConnections() {
    counter_ = std::make_unique<ConnectionCounter>(sim_->port());
    EXPECT_NE(counter_->port(), 0);
    return counter_->base_url();
  }

  void SetVneidKnobs(const Knobs& knobs) {
    ASSERT_THAT(sim_->SetKnobs(System::kVneid, knobs), IsOk());
  }

  HttpRequest Request(const std::string& base_url, const std::string& path,
                      absl::Duration timeout = absl::Seconds(10)) {
    HttpRequest r;
    r.method = "GET";
    r.url = base_url + path;
    r.ca_file = TestCert("ca.pem");
    r.deadline = absl::Now() + timeout;
    return r;
  }
  HttpRequest TokenRequest(const std::string& base_url,
                           absl::Duration timeout = absl::Seconds(10)) {
    HttpRequest r = Request(base_url, kTokenPath, timeout);
    r.method = "POST";
    r.headers = {"Content-Type: application/x-www-form-urlencoded"};
    r.body = kTokenForm;
    return r;
  }

  // Sends one request and waits for its answer.
  absl::StatusOr<HttpResponse> Call(HttpRequest request) {
    auto answers = Answers::Make(1);
    client_->Send(std::move(request), Answers::Callback(answers, 0));
    if (!answers->WaitAll(absl::Seconds(30))) {
      return absl::DeadlineExceededError("test: no answer in 30 s");
    }
    return answers->result(0);
  }

  std::unique_ptr<SimServer> sim_;
  std::unique_ptr<ConnectionCounter> counter_;
  std::unique_ptr<CurlHttpClient> client_;
};

TEST_F(HttpClientTest, GetReturnsStatusLowerCasedHeadersAndBody) {
  StartClient();
  auto answers = Answers::Make(1);
  client_->Send(Request(sim_->base_url(), "/_sim/stats"),
                Answers::Callback(answers, 0));
  ASSERT_TRUE(answers->WaitAll(absl::Seconds(10)));
  absl::StatusOr<HttpResponse> response = answers->result(0);
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(std::string(response->Header("content-type")),
              HasSubstr("application/json"));
  EXPECT_FALSE(response->headers.empty());
  for (const auto& [name, value] : response->headers) {
    EXPECT_EQ(name, absl::AsciiStrToLower(name));
  }
  EXPECT_THAT(response->body, HasSubstr("\"vneid\":{\"stats\""));
  // On the client's event thread, not the caller's.
  EXPECT_EQ(answers->threads().count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(client_->in_flight(), 0);
}

TEST_F(HttpClientTest, PostSendsHeadersAndBodyAndAnyStatusIsAResponse) {
  StartClient();
  absl::StatusOr<HttpResponse> token = Call(TokenRequest(sim_->base_url()));
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(token->status, 200) << token->body;
  EXPECT_THAT(token->body, HasSubstr("access_token"));
  EXPECT_EQ(sim_->Stats().of(System::kVneid).tokens_issued, 1);

  HttpRequest wrong_secret = TokenRequest(sim_->base_url());
  wrong_secret.body =
      "grant_type=client_credentials&client_id=lienthong-dev&"
      "client_secret=wrong";
  absl::StatusOr<HttpResponse> refused = Call(std::move(wrong_secret));
  ASSERT_THAT(refused, IsOk());
  EXPECT_EQ(refused->status, 401);
  EXPECT_THAT(refused->body, HasSubstr("invalid_client"));

  absl::StatusOr<HttpResponse> missing =
      Call(Request(sim_->base_url(), "/no/such/path"));
  ASSERT_THAT(missing, IsOk());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpClientTest, DeadlinePassingWhileTheServerHangsIsDeadlineExceeded) {
  StartClient();
  // The connection is made (TCP and TLS) by a first request and reused
  // (SequentialRequestsReuseOneConnection): the 300 ms timed below are then
  // the server's hang, not a handshake slowed by a loaded machine.
  ASSERT_THAT(Call(Request(sim_->base_url(), "/_sim/stats")), IsOk());
  Knobs hang;
  hang.hang = true;
  SetVneidKnobs(hang);
  constexpr absl::Duration kTimeout = absl::Milliseconds(300);
  absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> response =
      Call(TokenRequest(sim_->base_url(), kTimeout));
  absl::Duration took = absl::Now() - start;
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kDeadlineExceeded,
                                 HasSubstr("did not answer in time")));
  EXPECT_GE(took, kTimeout - absl::Milliseconds(20));
  // Room for a loaded CI machine, not for a missed timer (a 1 s poll).
  EXPECT_LT(took, kTimeout + absl::Milliseconds(700));
  EXPECT_EQ(sim_->Stats().of(System::kVneid).received, 1);
}

TEST_F(HttpClientTest, DeadlineAlreadyPassedNeverReachesTheServer) {
  StartClient();
  std::string url = CountConnections();
  HttpRequest request = TokenRequest(url);
  request.deadline = absl::Now() - absl::Milliseconds(1);
  EXPECT_THAT(Call(std::move(request)),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("before the upstream call")));
  // The relay runs its accept loop on its own thread: ask it after a call
  // that does reach it, so a stray connection would have been counted.
  ASSERT_THAT(Call(Request(url, "/_sim/stats")), IsOk());
  EXPECT_EQ(counter_->accepted(), 1);
  EXPECT_EQ(sim_->Stats().of(System::kVneid).received, 0);
}

TEST_F(HttpClientTest, ReplyLargerThanTheLimitIsUnavailable) {
  CurlHttpClient::Options options;
  options.max_response_bytes = 64;  // /_sim/stats is far larger
  StartClient(options);
  EXPECT_THAT(Call(Request(sim_->base_url(), "/_sim/stats")),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("upstream reply too large")));
  // A reply within the limit still arrives: VNeID's 41-byte JSON 404.
  HttpRequest unknown = Request(sim_->base_url(), "/vneid/no/such/path");
  unknown.method = "POST";
  absl::StatusOr<HttpResponse> small = Call(std::move(unknown));
  ASSERT_THAT(small, IsOk());
  EXPECT_EQ(small->status, 404);
  EXPECT_LE(small->body.size(), 64u);
}

TEST_F(HttpClientTest, RefusedConnectionIsUnavailable) {
  StartClient();
  // A bound socket that does not listen: connections to it are refused, and
  // no one else can take the port meanwhile.
  const LoopbackPort port = BindLoopbackPort();
  ASSERT_GE(port.fd, 0);
  EXPECT_THAT(Call(Request(port.url, "/")),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("upstream connection failed")));
  close(port.fd);
}

TEST_F(HttpClientTest, ConnectTimeoutBeforeTheDeadlineIsUnavailable) {
  CurlHttpClient::Options options;
  options.connect_timeout = absl::Milliseconds(500);
  StartClient(options);
  // A socket that listens but never accepts: the kernel completes the TCP
  // handshake, and the TLS handshake then waits for an answer that never
  // comes, so the connection is never set up. (A TCP connect that hangs
  // cannot be had reliably on 127.0.0.1; both are libcurl's connect phase.)
  const LoopbackPort port = BindLoopbackPort();
  ASSERT_GE(port.fd, 0);
  ASSERT_EQ(listen(port.fd, 16), 0);
  const std::string& url = port.url;
  // The connect timeout ran out with most of the deadline left: the system
  // did not take the connection, a failure worth another try.
  absl::Time start = absl::Now();
  EXPECT_THAT(Call(Request(url, "/", absl::Seconds(10))),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("upstream connection failed")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // With the deadline first, it is the deadline that ran out.
  EXPECT_THAT(Call(Request(url, "/", absl::Milliseconds(200))),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("did not answer in time")));
  close(port.fd);
}

TEST_F(HttpClientTest, ThousandConcurrentSlowRequestsAllSucceed) {
  constexpr int kRequests = 1000;
  StartClient();
  Knobs slow;
  slow.latency_ms = 200;
  SetVneidKnobs(slow);
  auto answers = Answers::Make(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    client_->Send(TokenRequest(sim_->base_url(), absl::Seconds(20)),
                  Answers::Callback(answers, i));
  }
  EXPECT_GT(client_->in_flight(), 0);
  ASSERT_TRUE(answers->WaitAll(absl::Seconds(25)));
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    absl::StatusOr<HttpResponse> r = answers->result(i);
    if (r.ok() && r->status == 200) {
      ++ok;
    } else {
      ADD_FAILURE() << "request " << i << ": "
                    << (r.ok() ? absl::StrCat("HTTP ", r->status)
                               : r.status().ToString());
      if (kRequests - ok > 5) break;
    }
  }
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(client_->in_flight(), 0);
  EXPECT_EQ(sim_->Stats().of(System::kVneid).received, kRequests);
}

TEST_F(HttpClientTest, PerHostCapBoundsTheConnectionsAndTheRestWait) {
  constexpr int kRequests = 100;
  CurlHttpClient::Options options;
  options.max_connections_per_host = 4;
  StartClient(options);
  std::string url = CountConnections();
  Knobs slow;
  slow.latency_ms = 40;
  SetVneidKnobs(slow);
  auto answers = Answers::Make(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    client_->Send(TokenRequest(url, absl::Seconds(20)),
                  Answers::Callback(answers, i));
  }
  ASSERT_TRUE(answers->WaitAll(absl::Seconds(25)));
  for (int i = 0; i < kRequests; ++i) {
    absl::StatusOr<HttpResponse> r = answers->result(i);
    ASSERT_THAT(r, IsOk()) << "request " << i;
    EXPECT_EQ(r->status, 200) << "request " << i;
  }
  EXPECT_LE(counter_->peak(), 4);
  // The waiting transfers took connections that came free, not new ones.
  EXPECT_LE(counter_->accepted(), 4);
  EXPECT_EQ(client_->in_flight(), 0);
}

// A transfer waiting for a connection (the per-host cap) ends at its own
// deadline, not when the connection ahead of it comes free: libcurl before
// 8.8 checks a waiting transfer's timeout only then.
TEST_F(HttpClientTest, ATransferWaitingForAConnectionEndsAtItsDeadline) {
  CurlHttpClient::Options options;
  options.max_connections_per_host = 1;
  StartClient(options);
  Knobs hang;
  hang.hang = true;
  SetVneidKnobs(hang);
  auto answers = Answers::Make(2);
  client_->Send(TokenRequest(sim_->base_url(), absl::Seconds(20)),
                Answers::Callback(answers, 0));
  constexpr absl::Duration kTimeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  client_->Send(TokenRequest(sim_->base_url(), kTimeout),
                Answers::Callback(answers, 1));
  ASSERT_TRUE(answers->WaitOne(1, absl::Seconds(15)));
  const absl::Duration took = absl::Now() - start;
  EXPECT_THAT(answers->result(1),
              StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::_));
  EXPECT_GE(took, kTimeout);
  EXPECT_LT(took, kTimeout + absl::Seconds(2));
  SetVneidKnobs(Knobs{});  // the first one is answered now
  ASSERT_TRUE(answers->WaitAll(absl::Seconds(15)));
  EXPECT_THAT(answers->result(0), IsOk());
}

// Transfers reuse the handles of finished ones: nothing of a POST (method,
// body, headers) carries over to the GET after it.
TEST_F(HttpClientTest, AHandleReusedAfterAPostSendsAPlainGet) {
  StartClient();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> token = Call(TokenRequest(sim_->base_url()));
    ASSERT_THAT(token, IsOk());
    EXPECT_EQ(token->status, 200) << token->body;
    absl::StatusOr<HttpResponse> stats =
        Call(Request(sim_->base_url(), "/_sim/stats"));
    ASSERT_THAT(stats, IsOk());
    EXPECT_EQ(stats->status, 200) << stats->body;
    EXPECT_THAT(stats->body, HasSubstr("\"vneid\":{\"stats\""));
  }
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
  StartClient();
  std::string url = CountConnections();
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<HttpResponse> r = Call(TokenRequest(url));
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(counter_->accepted(), 1);
}

TEST_F(HttpClientTest, DestroyingTheClientCancelsEveryTransferExactlyOnce) {
  constexpr int kHeld = 50;  // reached the server, which holds them
  constexpr int kLate = 20;  // sent just before the client goes
  StartClient();
  Knobs hang;
  hang.hang = true;
  SetVneidKnobs(hang);
  auto answers = Answers::Make(kHeld + kLate);
  for (int i = 0; i < kHeld; ++i) {
    client_->Send(TokenRequest(sim_->base_url(), absl::Seconds(30)),
                  Answers::Callback(answers, i));
  }
  // Until the server holds them all: a condition polled, not a fixed sleep.
  absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (sim_->Stats().of(System::kVneid).hanging < kHeld &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(sim_->Stats().of(System::kVneid).hanging, kHeld);
  EXPECT_EQ(client_->in_flight(), kHeld);
  for (int i = kHeld; i < kHeld + kLate; ++i) {
    client_->Send(TokenRequest(sim_->base_url(), absl::Seconds(30)),
                  Answers::Callback(answers, i));
  }
  client_.reset();
  for (int i = 0; i < kHeld + kLate; ++i) {
    EXPECT_EQ(answers->calls(i), 1) << "request " << i;
    EXPECT_THAT(answers->result(i),
                StatusIs(absl::StatusCode::kCancelled, HasSubstr("shutting")))
        << "request " << i;
  }
  std::set<std::thread::id> threads = answers->threads();
  EXPECT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

// The highest file descriptor open in this process.
int HighestOpenFd() {
  int highest = 2;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir)) {
      highest = std::max(highest, atoi(entry->d_name));
    }
    closedir(dir);
  }
  return highest;
}

TEST(HttpClientSetupTest, OutOfFileDescriptorsIsAnErrorNotACrash) {
  // Once with descriptors to spare, so libcurl's one-time global set-up is
  // not what fails below.
  ASSERT_THAT(CurlHttpClient::Create({}), IsOk());
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = HighestOpenFd() + 16;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  std::vector<int> filler;
  for (int fd; (fd = dup(null_fd)) >= 0;) filler.push_back(fd);
  auto client = CurlHttpClient::Create({});
  for (int fd : filler) close(fd);
  close(null_fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_THAT(client, StatusIs(absl::StatusCode::kInternal,
                               HasSubstr("cannot start the HTTP client")));
}

}  // namespace
}  // namespace lienthong::adapters
