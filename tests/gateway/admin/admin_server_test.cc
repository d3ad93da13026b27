#include "gateway/admin/admin_server.h"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gateway/admin/readiness.h"
#include "gateway/metrics/exposition.h"
#include "gateway/metrics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/gateway/metrics/prometheus_parser.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::admin {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

AdminServer::Options LoopbackAnyPort() {
  AdminServer::Options options;
  options.host = "127.0.0.1";
  options.port = 0;
  return options;
}

std::unique_ptr<httplib::Client> ClientFor(const AdminServer& server) {
  auto client = std::make_unique<httplib::Client>(server.host(), server.port());
  client->set_connection_timeout(5);
  client->set_read_timeout(5);
  client->set_write_timeout(5);
  client->set_tcp_nodelay(true);
  return client;
}

int CountOf(absl::string_view text, absl::string_view piece) {
  int count = 0;
  for (size_t at = text.find(piece); at != absl::string_view::npos;
       at = text.find(piece, at + piece.size())) {
    ++count;
  }
  return count;
}

int ThreadCount() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
  }
  return count;
}

class AdminServerTest : public ::testing::Test {
 protected:
  AdminServerTest() {
    registry_.AddCounter("lienthong_calls_total", "Calls.", {"method", "code"})
        .WithLabels({"Verify", "OK"})
        .Increment(3);
  }

  // Starts a server whose readiness is whatever ready_ holds.
  std::unique_ptr<AdminServer> StartServer() {
    absl::StatusOr<std::unique_ptr<AdminServer>> server =
        AdminServer::Start(LoopbackAnyPort(), &registry_, [this] {
          absl::MutexLock lock(&mu_);
          return ready_;
        });
    EXPECT_THAT(server, IsOk());
    return server.ok() ? std::move(*server) : nullptr;
  }

  void SetReady(absl::Status status) {
    absl::MutexLock lock(&mu_);
    ready_ = std::move(status);
  }

  metrics::Registry registry_;
  absl::Mutex mu_;
  absl::Status ready_ ABSL_GUARDED_BY(mu_);
};

TEST_F(AdminServerTest, ServesMetricsInTheTextFormat) {
  std::unique_ptr<AdminServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->host(), "127.0.0.1");
  EXPECT_GT(server->port(), 0);

  httplib::Result res = ClientFor(*server)->Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, registry_.Render());
  EXPECT_THAT(
      res->body,
      HasSubstr("lienthong_calls_total{method=\"Verify\",code=\"OK\"} 3\n"));
  EXPECT_THAT(metrics::testing::ParsePrometheusText(res->body), IsOk());

  // Each scrape renders afresh.
  registry_.AddGauge("lienthong_up", "Up.").Get().Set(1);
  res = ClientFor(*server)->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("\nlienthong_up 1\n"));
}

TEST_F(AdminServerTest, HealthzIsOkWhileAlive) {
  SetReady(absl::UnavailableError("not ready: liveness must not care"));
  std::unique_ptr<AdminServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  httplib::Result res = ClientFor(*server)->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");
}

TEST_F(AdminServerTest, ReadyzFollowsTheReadinessCheck) {
  std::unique_ptr<AdminServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<httplib::Client> client = ClientFor(*server);

  httplib::Result res = client->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ready");

  SetReady(MarkNotReadyComponent(
      absl::UnavailableError("circuit breaker to 'c06' is open"),
      "national system c06"));
  res = client->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "not ready: national system c06 unavailable");

  SetReady(absl::UnavailableError(""));  // unmarked: no component to name
  res = client->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "not ready");

  SetReady(absl::OkStatus());
  res = client->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// A check's message can carry what the network must not see (PostgreSQL's
// error names the database host and user): /readyz shows a fixed text, the
// log has the detail, once per change rather than once per probe.
TEST_F(AdminServerTest, ReadyzShowsAFixedTextAndLogsTheReason) {
  constexpr char kDetail[] =
      "audit index database unreachable: connection to server at "
      "\"pg-audit.internal\" (10.2.3.4), port 5432 failed: FATAL: password "
      "authentication failed for user \"lienthong_audit\"";
  std::unique_ptr<AdminServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<httplib::Client> client = ClientFor(*server);
  const std::pair<absl::Status, std::string> kCases[] = {
      {absl::UnavailableError(kDetail), "not ready"},
      {MarkNotReadyComponent(absl::UnavailableError(kDetail), "audit index"),
       "not ready: audit index unavailable"},
  };
  for (const auto& [status, shown] : kCases) {
    SetReady(status);
    ::testing::internal::CaptureStderr();
    httplib::Result first = client->Get("/readyz");
    httplib::Result second = client->Get("/readyz");
    const std::string log = ::testing::internal::GetCapturedStderr();
    ASSERT_TRUE(first && second);
    for (const httplib::Result* res : {&first, &second}) {
      EXPECT_EQ((*res)->status, 503);
      EXPECT_EQ((*res)->body, shown);
      for (const char* detail : {"pg-audit", "10.2.3.4", "lienthong_audit",
                                 "password", "unreachable"}) {
        EXPECT_THAT((*res)->body, Not(HasSubstr(detail)));
      }
    }
    EXPECT_THAT(log, HasSubstr("pg-audit.internal"));
    EXPECT_EQ(CountOf(log, "admin endpoint: not ready"), 1) << log;
  }
}

TEST_F(AdminServerTest, ASlowReadinessCheckHoldsUpOnlyReadyz) {
  // A check that takes 3 s (a database that does not answer).
  absl::Notification release;
  std::atomic<int> checks{0};
  AdminServer::Options options = LoopbackAnyPort();
  options.request_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<AdminServer>> server =
      AdminServer::Start(options, &registry_, [&] {
        ++checks;
        release.WaitForNotificationWithTimeout(absl::Seconds(3));
        return MarkNotReadyComponent(
            absl::UnavailableError("database not answering"), "audit index");
      });
  ASSERT_THAT(server, IsOk());
  std::vector<std::thread> readers;
  std::atomic<int> timed_out{0};
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      httplib::Result res = ClientFor(**server)->Get("/readyz");
      if (res && res->status == 503 &&
          res->body == "the readiness check has not answered in time") {
        ++timed_out;
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(200));
  // Liveness and metrics are answered meanwhile.
  const absl::Time asked = absl::Now();
  httplib::Result health = ClientFor(**server)->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  // Held up behind the check, it would take until the check ends (2.8 s).
  EXPECT_LT(absl::Now() - asked, absl::Seconds(2));
  httplib::Result metrics = ClientFor(**server)->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  for (std::thread& t : readers) t.join();
  // Each waited at most request_timeout, and they shared one check.
  EXPECT_EQ(timed_out.load(), 3);
  EXPECT_EQ(checks.load(), 1);
  release.Notify();
  // Once the check answers, /readyz names the component it marked.
  constexpr char kAnswered[] = "not ready: audit index unavailable";
  int status = 0;
  std::string body;
  for (int i = 0; i < 50 && body != kAnswered; ++i) {
    if (httplib::Result res = ClientFor(**server)->Get("/readyz")) {
      status = res->status;
      body = res->body;
    }
    if (body != kAnswered) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body, kAnswered);
}

TEST_F(AdminServerTest, NoReadinessCheckMeansReady) {
  absl::StatusOr<std::unique_ptr<AdminServer>> server =
      AdminServer::Start(LoopbackAnyPort(), &registry_, nullptr);
  ASSERT_THAT(server, IsOk());
  httplib::Result res = ClientFor(**server)->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(AdminServerTest, UnknownPathsAre404OtherMethods405) {
  std::unique_ptr<AdminServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<httplib::Client> client = ClientFor(*server);
  client->set_keep_alive(true);

  for (const char* path :
       {"/", "/metrics/", "/metricsx", "/admin", "/healthz/x"}) {
    httplib::Result res = client->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
  }
  httplib::Result res = client->Post("/nope", "x", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);

  // With a body, on a kept-alive connection that must stay usable.
  res = client->Post("/metrics", std::string(10000, 'x'), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
  res = client->Put("/readyz", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = client->Patch("/healthz", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = client->Delete("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = client->Options("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  for (const char* method : {"TRACE", "CONNECT"}) {
    httplib::Request req;
    req.method = method;
    req.path = "/healthz";
    // A fresh connection: httplib's client leaves the body of a refused
    // CONNECT unread, which would garble the next answer on this one.
    res = ClientFor(*server)->send(req);
    ASSERT_TRUE(res) << method << " " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 405) << method;
  }
  res = client->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");

  // HEAD answers like GET, without the body.
  res = client->Head("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
}

TEST_F(AdminServerTest, ConcurrentScrapesWhileCountersMove) {
  std::unique_ptr<AdminServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  metrics::Counter& counter = registry_.AddCounter("moving_total", "m").Get();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    while (!done.load()) counter.Increment();
  });
  std::atomic<int> good{0};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 4; ++t) {
    scrapers.emplace_back([&] {
      std::unique_ptr<httplib::Client> client = ClientFor(*server);
      for (int i = 0; i < 25; ++i) {
        httplib::Result res = client->Get("/metrics");
        if (res && res->status == 200 &&
            metrics::testing::ParsePrometheusText(res->body).ok()) {
          ++good;
        }
      }
    });
  }
  for (std::thread& t : scrapers) t.join();
  done = true;
  writer.join();
  EXPECT_EQ(good.load(), 100);
}

TEST_F(AdminServerTest, StopIsIdempotentJoinsThreadsAndClosesThePort) {
  const int threads_before = ThreadCount();
  std::unique_ptr<AdminServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  {
    // A served request makes the pool's threads run.
    httplib::Result res = ClientFor(*server)->Get("/healthz");
    ASSERT_TRUE(res);
  }
  EXPECT_GT(ThreadCount(), threads_before);
  server->Stop();
  server->Stop();
  EXPECT_EQ(ThreadCount(), threads_before);
  httplib::Result res = ClientFor(*server)->Get("/healthz");
  EXPECT_FALSE(res);
  server.reset();  // the destructor's Stop is a no-op now
}

TEST_F(AdminServerTest, DestructorStops) {
  const int threads_before = ThreadCount();
  std::unique_ptr<AdminServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  server.reset();
  EXPECT_EQ(ThreadCount(), threads_before);
}

TEST_F(AdminServerTest, PortInUseIsUnavailable) {
  std::unique_ptr<AdminServer> first = StartServer();
  ASSERT_NE(first, nullptr);
  AdminServer::Options options = LoopbackAnyPort();
  options.port = first->port();
  EXPECT_THAT(
      AdminServer::Start(options, &registry_, nullptr),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot bind")));
}

TEST_F(AdminServerTest, BadOptionsAreRejected) {
  struct Case {
    const char* name;
    void (*edit)(AdminServer::Options&);
  };
  const Case kCases[] = {
      {"negative port", [](AdminServer::Options& o) { o.port = -1; }},
      {"port too big", [](AdminServer::Options& o) { o.port = 65536; }},
      {"no connections", [](AdminServer::Options& o) { o.max_connections = 0; }},
      {"too many connections",
       [](AdminServer::Options& o) { o.max_connections = 10001; }},
      {"empty host", [](AdminServer::Options& o) { o.host.clear(); }},
      {"zero request timeout",
       [](AdminServer::Options& o) { o.request_timeout = absl::ZeroDuration(); }},
      {"negative write timeout",
       [](AdminServer::Options& o) { o.write_timeout = -absl::Seconds(1); }},
  };
  for (const Case& c : kCases) {
    AdminServer::Options options = LoopbackAnyPort();
    c.edit(options);
    EXPECT_THAT(AdminServer::Start(options, &registry_, nullptr),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_))
        << c.name;
  }
  EXPECT_THAT(
      AdminServer::Start(LoopbackAnyPort(), nullptr, nullptr),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("registry")));
}

// The token file: one token of visible ASCII, long enough not to be
// guessed; a refusal names the file, never what it holds.
TEST(BearerTokenFileTest, HoldsOneLongTokenOrIsRefused) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/admin-token-", getpid());
  auto read_as = [&](const std::string& contents) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
    return ReadBearerTokenFile(path);
  };
  const std::string token(64, 'f');
  EXPECT_THAT(read_as(token + "\n"), IsOkAndHolds(token));
  EXPECT_THAT(read_as(std::string(32, 'a')),
              IsOkAndHolds(std::string(32, 'a')));
  EXPECT_THAT(read_as("s3cr3t\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path), HasSubstr("shorter than 32"),
                             Not(HasSubstr("s3cr3t")))));
  EXPECT_THAT(read_as(" \n"), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("is empty")));
  EXPECT_THAT(read_as(token + " " + token),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("one token of visible ASCII")));
  std::remove(path.c_str());
  EXPECT_THAT(
      ReadBearerTokenFile(path),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot read")));
}

// Beyond loopback, /metrics (client IDs, file paths) would answer the
// network: without a token the server does not start, and says what to set.
TEST_F(AdminServerTest, BeyondLoopbackItStartsOnlyWithABearerToken) {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737), never this machine's.
  const std::pair<const char*, const char*> kHosts[] = {
      {"0.0.0.0", "0.0.0.0:9464"},
      {"::", "[::]:9464"},
      {"[::]", "[::]:9464"},
      {"192.0.2.1", "192.0.2.1:9464"},
  };
  for (const auto& [host, address] : kHosts) {
    AdminServer::Options options;
    options.host = host;
    options.port = 9464;
    EXPECT_THAT(AdminServer::Start(options, &registry_, nullptr),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(address), HasSubstr("beyond loopback"),
                               HasSubstr("admin.bearer_token_file"))))
        << host;
  }
  // With a token the refusal is gone: what remains is whether the address
  // is this machine's (192.0.2.1 is not, unless nonlocal binds are on).
  AdminServer::Options options;
  options.host = "192.0.2.1";
  options.port = 0;
  options.bearer_token = "t0ken";
  absl::StatusOr<std::unique_ptr<AdminServer>> started =
      AdminServer::Start(options, &registry_, nullptr);
  EXPECT_FALSE(absl::IsInvalidArgument(started.status())) << started.status();
  // Loopback needs none.
  for (const char* host : {"127.0.0.1", "::1", "localhost"}) {
    AdminServer::Options loopback = LoopbackAnyPort();
    loopback.host = host;
    EXPECT_FALSE(absl::IsInvalidArgument(
        AdminServer::Start(loopback, &registry_, nullptr).status()))
        << host;
  }
}

TEST(AdminServerOptionsTest, DefaultsBindLoopbackWithShortTimeouts) {
  const AdminServer::Options options;
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_LE(options.request_timeout, absl::Seconds(5));
  EXPECT_GE(options.max_connections, 100);
  EXPECT_TRUE(options.bearer_token.empty());
}

}  // namespace
}  // namespace lienthong::admin
