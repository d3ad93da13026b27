// PortalSync with a real audit log whose store fails: once the log knows it
// cannot write, portal pushes are refused before they reach the outbox, as
// lookups are refused before the national system; it recovers by itself.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/common/http/http_client.h"
#include "adapters/dvcqg_portal/dvcqg_portal_config.pb.h"
#include "adapters/registry.h"
#include "gateway/audit/audit_log.h"
#include "gateway/sync/portal_sync.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/portal.grpc.pb.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/gateway/sync/dossier_fixtures.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::audit::testutil::FaultyIo;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::testing::HasSubstr;

int64_t OpenItems(const Outbox& outbox) {
  const OutboxCounts counts = outbox.OpenCounts();
  return counts.pending + counts.in_flight + counts.dead;
}

lienthong::v1::PushDossierStatusRequest Push(int n) {
  lienthong::v1::PushDossierStatusRequest request;
  *request.add_updates() = testutil::NewDossierWithRegistration(
      absl::StrFormat("000.00.01.H31-250715-%05d", n));
  return request;
}

// Outbox items of one accepted push: the registration and the step.
constexpr int64_t kItemsPerPush = 2;

TEST(PortalSyncAuditHealthTest, NothingReachesTheOutboxWhileTheAuditLogFails) {
  adapters::AdapterRegistry registry;
  adapters::RegisterBuiltinAdapters(registry);
  auto http = adapters::CurlHttpClient::Create({});
  ASSERT_THAT(http, IsOk());
  ScratchDir dir;
  lienthong::config::v1::GatewayConfig config;
  auto* portal = config.add_adapters();
  portal->set_name("portal");
  portal->set_type("dvcqg-portal-rest");
  lienthong::adapters::dvcqg::DvcqgPortalRestConfig portal_config;
  portal_config.mutable_upstream()->set_base_url("https://127.0.0.1:1");
  portal_config.set_auth_endpoint("/auth");
  portal_config.set_integration_endpoint("/integration");
  portal_config.set_username("u");
  portal_config.set_password("p");
  portal_config.set_madonvi("000.00.00.H31");
  portal->mutable_config()->PackFrom(portal_config);
  config.mutable_portal_sync()->set_adapter("portal");
  config.mutable_portal_sync()->set_outbox_file(dir.File("outbox.db"));
  auto sync = PortalSync::Create(config, registry, http->get());
  ASSERT_THAT(sync, IsOk());

  audit::AuditLog::Options options = TestOptions(dir);
  FaultyIo faulty;
  options.io = &faulty;
  auto log = audit::AuditLog::Open(options);
  ASSERT_THAT(log, IsOk());
  (*sync)->Start(
      [](const grpc::CallbackServerContext&, absl::string_view) {
        return absl::OkStatus();
      },
      std::make_shared<calls::CallRecorder>(
          calls::CallRecorder::Options{nullptr, log->get(), true, "gw-test"}));

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService((*sync)->service());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = lienthong::v1::PortalSyncService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  auto push = [&stub](int n) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    lienthong::v1::PushDossierStatusResponse response;
    return stub->PushDossierStatus(&context, Push(n), &response);
  };

  const grpc::Status first = push(1);
  ASSERT_TRUE(first.ok()) << first.error_message();
  ASSERT_EQ(OpenItems((*sync)->outbox()), kItemsPerPush);

  faulty.set_mode(FaultyIo::Mode::kFail);
  // The first push finds out (its record cannot be written: the answer is
  // withheld, though the update is in the outbox) ...
  EXPECT_EQ(push(2).error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_FALSE((*log)->healthy());
  const int64_t before = OpenItems((*sync)->outbox());
  // ... and from then on nothing is accepted.
  for (int n = 3; n < 6; ++n) {
    grpc::Status refused = push(n);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_THAT(refused.error_message(), HasSubstr("audit log"));
  }
  EXPECT_EQ(OpenItems((*sync)->outbox()), before);

  // Writable again: a refusal's record succeeds, and pushes are accepted.
  faulty.set_mode(FaultyIo::Mode::kPass);
  grpc::Status status = push(6);
  for (int i = 0; i < 3 && !status.ok(); ++i) status = push(6);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(OpenItems((*sync)->outbox()), before + kItemsPerPush);

  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  server->Wait();
  (*sync)->Stop();
}

}  // namespace
}  // namespace lienthong::sync
