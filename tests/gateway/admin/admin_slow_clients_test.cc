// The admin endpoint against clients that misbehave on purpose, over raw
// sockets: slow clients that send a header line every 2 s do not delay
// /healthz, the connection cap makes room by dropping the oldest waiting
// connection, malformed or oversized requests are answered and closed, and
// the bearer token guards everything but /healthz.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/admin/admin_server.h"
#include "gateway/metrics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::admin {
namespace {

using ::lienthong::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A TCP connection to 127.0.0.1:port with blocking reads bounded by poll.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(absl::string_view text) {
    return ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(text.size());
  }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  // Everything the server sends until it closes or `timeout` passes.
  std::string ReadAll(absl::Duration timeout) {
    std::string out;
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (!WaitReadable(deadline - absl::Now())) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads until `needle` has arrived (or timeout); returns what came.
  std::string ReadUntil(absl::string_view needle, absl::Duration timeout) {
    std::string out;
    const absl::Time deadline = absl::Now() + timeout;
    while (!absl::StrContains(out, needle) && absl::Now() < deadline) {
      if (!WaitReadable(deadline - absl::Now())) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  // True when the server has closed the connection within `timeout`.
  bool ClosedWithin(absl::Duration timeout) {
    ReadAll(timeout);
    return closed_;
  }

 private:
  bool WaitReadable(absl::Duration timeout) {
    pollfd p{fd_, POLLIN, 0};
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
    return ::poll(&p, 1, ms < 0 ? 0 : ms) > 0;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

// The time a fresh connection takes to get /healthz answered, and the
// answer.
std::pair<absl::Duration, std::string> TimeHealthz(int port) {
  const absl::Time start = absl::Now();
  RawClient client(port);
  client.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string answer = client.ReadAll(absl::Seconds(5));
  return {absl::Now() - start, answer};
}

class AdminSlowClientsTest : public ::testing::Test {
 protected:
  std::unique_ptr<AdminServer> Start(AdminServer::Options options) {
    options.host = "127.0.0.1";
    options.port = 0;
    auto server = AdminServer::Start(options, &registry_, nullptr);
    EXPECT_THAT(server, IsOk());
    return server.ok() ? *std::move(server) : nullptr;
  }
  metrics::Registry registry_;
};

TEST_F(AdminSlowClientsTest, AHundredSlowClientsDoNotDelayHealthz) {
  AdminServer::Options options;
  // Long enough that the slow clients hold their connections throughout.
  options.request_timeout = absl::Seconds(60);
  std::unique_ptr<AdminServer> server = Start(options);
  ASSERT_NE(server, nullptr);

  constexpr int kSlow = 100;
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<RawClient>(server->port()));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->Send("GET /metrics HTTP/1.1\r\n"));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> lines_sent{0};
  std::thread dripper([&] {
    // One header line every 2 s on every slow connection.
    for (int round = 0; !stop.load(); ++round) {
      for (auto& client : slow) {
        if (client->Send(absl::StrCat("X-Slow-", round, ": 1\r\n"))) ++lines_sent;
      }
      for (int i = 0; i < 20 && !stop.load(); ++i) {
        absl::SleepFor(absl::Milliseconds(100));  // the clients' own pace
      }
    }
  });
  absl::Duration worst = absl::ZeroDuration();
  const absl::Time until = absl::Now() + absl::Seconds(6);
  int probes = 0;
  while (absl::Now() < until) {
    auto [took, answer] = TimeHealthz(server->port());
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK"));
    EXPECT_THAT(answer, HasSubstr("\r\n\r\nok"));
    worst = std::max(worst, took);
    ++probes;
    absl::SleepFor(absl::Milliseconds(200));  // probe pace
  }
  stop = true;
  dripper.join();
  EXPECT_LT(worst, absl::Seconds(1));
  std::cout << "admin: " << probes << " /healthz probes beside " << kSlow
            << " slow clients, slowest " << absl::FormatDuration(worst) << "\n";
  // The slow clients still hold their connections: every line went out.
  EXPECT_GE(lines_sent.load(), kSlow * 3);
  for (auto& client : slow) {
    EXPECT_FALSE(client->ClosedWithin(absl::Milliseconds(1)));
  }
}

TEST_F(AdminSlowClientsTest, ARequestThatDoesNotArriveInTimeIsCutOff) {
  AdminServer::Options options;
  options.request_timeout = absl::Milliseconds(500);
  std::unique_ptr<AdminServer> server = Start(options);
  ASSERT_NE(server, nullptr);
  RawClient slow(server->port());
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\n"));
  const absl::Time start = absl::Now();
  // It keeps dripping, but the whole request was due in 500 ms.
  bool closed = false;
  while (!closed && absl::Now() - start < absl::Seconds(5)) {
    slow.Send("X-Drip: 1\r\n");
    closed = slow.ClosedWithin(absl::Milliseconds(100));
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  // An idle kept-alive connection is closed after the same time.
  RawClient idle(server->port());
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\n\r\n"));
  EXPECT_THAT(idle.ReadUntil("ok", absl::Seconds(2)), HasSubstr("200 OK"));
  EXPECT_TRUE(idle.ClosedWithin(absl::Seconds(2)));
}

TEST_F(AdminSlowClientsTest, AtTheCapTheOldestWaitingConnectionMakesRoom) {
  AdminServer::Options options;
  options.max_connections = 10;
  options.request_timeout = absl::Seconds(60);
  std::unique_ptr<AdminServer> server = Start(options);
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 10; ++i) {
    idle.push_back(std::make_unique<RawClient>(server->port()));
    ASSERT_TRUE(idle.back()->Send("GET /healthz HTTP/1.1\r\n"));
    // Accepted in order, so that the first is the oldest.
    absl::SleepFor(absl::Milliseconds(20));
  }
  auto [took, answer] = TimeHealthz(server->port());
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_TRUE(idle.front()->ClosedWithin(absl::Seconds(1)));
  EXPECT_FALSE(idle.back()->ClosedWithin(absl::Milliseconds(100)));
}

TEST_F(AdminSlowClientsTest, MalformedAndOversizedRequestsAreAnsweredAndClosed) {
  std::unique_ptr<AdminServer> server = Start({});
  ASSERT_NE(server, nullptr);
  struct Case {
    const char* name;
    std::string request;
    const char* status_line;
  } cases[] = {
      {"garbage", "\x16\x03\x01\x02 hello\r\n\r\n", "HTTP/1.1 400 "},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/1.1 400 "},
      {"unknown version", "GET /healthz HTTP/3.0\r\n\r\n", "HTTP/1.1 505 "},
      {"control character in a field", "GET /healthz HTTP/1.1\r\nX: a\x01\r\n\r\n",
       "HTTP/1.1 400 "},
      {"head over 8 KiB",
       "GET /healthz HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n",
       "HTTP/1.1 431 "},
      {"chunked body",
       "POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "HTTP/1.1 411 "},
      {"body over 64 KiB", "POST /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n",
       "HTTP/1.1 413 "},
      {"two lengths",
       "POST /metrics HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
       "HTTP/1.1 400 "},
  };
  for (const Case& c : cases) {
    RawClient client(server->port());
    ASSERT_TRUE(client.Send(c.request)) << c.name;
    std::string answer = client.ReadAll(absl::Seconds(2));
    EXPECT_THAT(answer, StartsWith(c.status_line)) << c.name;
    EXPECT_THAT(answer, HasSubstr("Connection: close")) << c.name;
  }
  // The endpoint still serves.
  EXPECT_THAT(TimeHealthz(server->port()).second, StartsWith("HTTP/1.1 200 OK"));
}

TEST_F(AdminSlowClientsTest, PipelinedAndHalfClosedRequestsAreAnswered) {
  std::unique_ptr<AdminServer> server = Start({});
  ASSERT_NE(server, nullptr);
  RawClient pipelined(server->port());
  ASSERT_TRUE(pipelined.Send(
      "GET /healthz HTTP/1.1\r\n\r\nHEAD /readyz HTTP/1.1\r\n\r\n"
      "GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n"));
  std::string answers = pipelined.ReadAll(absl::Seconds(2));
  EXPECT_THAT(answers, HasSubstr("\r\n\r\nokHTTP/1.1 200 OK"));
  EXPECT_THAT(answers, ::testing::EndsWith("\r\n\r\nready"));

  RawClient half(server->port());
  ASSERT_TRUE(half.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  half.ShutdownWrite();
  EXPECT_THAT(half.ReadAll(absl::Seconds(2)), HasSubstr("\r\n\r\nok"));
}

TEST_F(AdminSlowClientsTest, TheBearerTokenGuardsAllButHealthz) {
  AdminServer::Options options;
  options.bearer_token = "s3cret-token";
  std::unique_ptr<AdminServer> server = Start(options);
  ASSERT_NE(server, nullptr);
  auto get = [&](const std::string& path, const std::string& auth) {
    RawClient client(server->port());
    client.Send(absl::StrCat("GET ", path, " HTTP/1.1\r\n", auth,
                             "Connection: close\r\n\r\n"));
    return client.ReadAll(absl::Seconds(2));
  };
  EXPECT_THAT(get("/healthz", ""), StartsWith("HTTP/1.1 200 OK"));
  for (const char* path : {"/metrics", "/readyz", "/nonexistent"}) {
    for (const char* auth : {"", "Authorization: Bearer wrong\r\n",
                             "Authorization: Bearer s3cret-toke\r\n",
                             "Authorization: Basic s3cret-token\r\n",
                             "Authorization: Bearer s3cret-token2\r\n"}) {
      std::string answer = get(path, auth);
      EXPECT_THAT(answer, StartsWith("HTTP/1.1 401 ")) << path << " " << auth;
      EXPECT_THAT(answer, HasSubstr("WWW-Authenticate: Bearer"));
      EXPECT_THAT(answer, ::testing::Not(HasSubstr("s3cret")));
    }
  }
  const std::string good = "Authorization: Bearer s3cret-token\r\n";
  EXPECT_THAT(get("/metrics", good), StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(get("/readyz", good), StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(get("/nonexistent", good), StartsWith("HTTP/1.1 404 "));
  // The scheme's case and the spaces after it are the client's choice.
  for (const char* auth : {"Authorization: bearer s3cret-token\r\n",
                           "Authorization: BEARER  s3cret-token\r\n"}) {
    EXPECT_THAT(get("/metrics", auth), StartsWith("HTTP/1.1 200 OK")) << auth;
  }
  for (const char* auth :
       {"Authorization: Bearers3cret-token\r\n", "Authorization: Bearer\r\n",
        "Authorization: Bearer s3cret-token x\r\n"}) {
    EXPECT_THAT(get("/metrics", auth), StartsWith("HTTP/1.1 401 ")) << auth;
  }
}

}  // namespace
}  // namespace lienthong::admin
