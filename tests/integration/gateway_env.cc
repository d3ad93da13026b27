#include "tests/integration/gateway_env.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "adapters/c06_population/c06_population_config.pb.h"
#include "adapters/grpc_upstream/grpc_upstream_config.pb.h"
#include "adapters/vneid_identity/vneid_config.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::testing {
namespace {

using lienthong::config::v1::GatewayConfig;

void AddClient(GatewayConfig& config, const std::string& name,
               bool all_methods) {
  auto* client = config.add_clients();
  client->set_id(ClientId(name));
  client->set_display_name(name);
  if (!all_methods) return;
  client->add_methods("lienthong.v1.IdentityService/VerifyIdentity");
  client->add_methods("lienthong.v1.PopulationService/LookupCitizen");
  auto* birth = client->add_grants();
  birth->add_purposes("1.001193");
  for (const char* f :
       {"citizen_id", "name", "birth_date", "gender", "ethnicity",
        "ethnicity_code", "ethnicity_name", "nationality",
        "birth_registration_place", "hometown", "permanent_address", "father",
        "mother", "household_head", "household_relation",
        "household_relation_code", "data_as_of"}) {
    birth->add_fields(f);
  }
  auto* any = client->add_grants();
  any->add_purposes("*");
  for (const char* f : {"name", "birth_date", "gender"}) any->add_fields(f);
}

}  // namespace

std::string ClientId(const std::string& client) {
  return absl::StrCat("spiffe://lienthong.local/", client);
}

void UseTestListener(GatewayConfig& config) {
  auto* listener = config.mutable_listener();
  listener->set_address("127.0.0.1:0");
  listener->mutable_tls()->set_cert_file(TestCert("gateway.pem"));
  listener->mutable_tls()->set_key_file(TestCert("gateway.key"));
  listener->mutable_tls()->set_client_ca_file(TestCert("ca.pem"));
}

GatewayConfig GatewayEnv::SimConfig(const std::string& sim_url) {
  GatewayConfig config;
  config.set_node_name("test-gateway");
  UseTestListener(config);

  lienthong::config::v1::HttpsUpstream upstream;
  upstream.set_base_url(sim_url);
  upstream.set_ca_file(TestCert("ca.pem"));

  lienthong::adapters::c06::C06PopulationSoapConfig c06;
  *c06.mutable_upstream() = upstream;
  c06.set_path("/c06/soap");
  c06.set_xroad_client("VN/GOV/000.00.00.H31/LIENTHONG");
  c06.set_api_key("dev-population-key");
  c06.set_username("lienthong-dev");
  c06.set_secret("dev-population-secret");
  c06.set_auth_url("https://c06.sim.lienthong.local/xacthuc");
  c06.set_integration_code("037");
  c06.set_identity_service_code("033");
  auto* population = config.add_adapters();
  population->set_name("population");
  population->set_type("c06-population-soap");
  population->mutable_config()->PackFrom(c06);

  lienthong::adapters::vneid::VneidOidcConfig vneid;
  *vneid.mutable_upstream() = upstream;
  vneid.mutable_upstream()->set_base_url(sim_url + "/vneid");
  vneid.set_client_id("lienthong-dev");
  vneid.set_client_secret("dev-vneid-secret");
  vneid.add_redirect_uris(kVneidRedirectUri);
  auto* portal = vneid.add_caller_redirect_uris();
  portal->set_client(ClientId("citizen-portal"));
  portal->add_redirect_uris(kVneidPortalRedirectUri);
  auto* identity = config.add_adapters();
  identity->set_name("vneid");
  identity->set_type("vneid-oidc");
  identity->mutable_config()->PackFrom(vneid);

  auto* r1 = config.add_routes();
  r1->set_method("lienthong.v1.PopulationService/LookupCitizen");
  r1->set_adapter("population");
  // Identity checks go to the population database too.
  auto* r2 = config.add_routes();
  r2->set_method("lienthong.v1.IdentityService/VerifyIdentity");
  r2->set_adapter("population");
  auto* r3 = config.add_routes();
  r3->set_method("lienthong.v1.IdentityService/SignInWithVneid");
  r3->set_adapter("vneid");

  AddClient(config, "dossier-system", true);
  AddClient(config, "citizen-portal", false);
  config.mutable_clients(1)->add_methods(
      "lienthong.v1.IdentityService/VerifyIdentity");
  config.mutable_clients(1)->add_methods(
      "lienthong.v1.IdentityService/SignInWithVneid");
  AddClient(config, "no-rights", false);
  AddClient(config, "auditor", false);
  auto* auditor = config.mutable_clients(config.clients_size() - 1);
  auditor->add_roles("auditor");
  auditor->add_methods("lienthong.v1.AuditService/QueryAudit");
  auditor->add_methods("lienthong.v1.AuditService/VerifyAudit");
  return config;
}

absl::StatusOr<std::unique_ptr<GatewayEnv>> GatewayEnv::Start(
    const EnvOptions& options) {
  auto env = std::unique_ptr<GatewayEnv>(new GatewayEnv());
  sim::SimOptions sim_options;
  sim_options.cert_file = TestCert("sim.pem");
  sim_options.key_file = TestCert("sim.key");
  auto sim = sim::SimServer::Start(sim_options);
  if (!sim.ok()) return sim.status();
  env->sim_ = *std::move(sim);

  auto http = adapters::CurlHttpClient::Create({});
  if (!http.ok()) return http.status();
  env->http_ = *std::move(http);
  adapters::RegisterBuiltinAdapters(env->registry_);

  GatewayConfig config = SimConfig(env->sim_->base_url());
  const std::string dir = NewTestDir("lienthong-env");
  config.mutable_audit()->set_store_file(absl::StrCat(dir, "/inner/audit.db"));
  // Small journal segments: each is written with zeros before use.
  config.mutable_audit()->set_segment_mib(4);
  if (options.through_grpc_upstream) {
    auto inner =
        server::GatewayServer::Start(config, env->registry_, env->http_.get());
    if (!inner.ok()) return inner.status();
    env->inner_ = *std::move(inner);
    lienthong::adapters::grpc_upstream::GrpcUpstreamConfig relay;
    relay.set_target(absl::StrCat("127.0.0.1:", env->inner_->port()));
    relay.set_ca_file(TestCert("ca.pem"));
    relay.set_client_cert_file(TestCert("dossier-system.pem"));
    relay.set_client_key_file(TestCert("dossier-system.key"));
    config.clear_adapters();
    auto* adapter = config.add_adapters();
    adapter->set_name("relay");
    adapter->set_type("grpc-upstream");
    adapter->mutable_config()->PackFrom(relay);
    // grpc-upstream relays VerifyIdentity and LookupCitizen, not sign-ins.
    auto* routes = config.mutable_routes();
    routes->erase(std::remove_if(routes->begin(), routes->end(),
                                 [](const auto& route) {
                                   return route.method() ==
                                          "lienthong.v1.IdentityService/"
                                          "SignInWithVneid";
                                 }),
                  routes->end());
    for (auto& route : *config.mutable_routes()) route.set_adapter("relay");
  }
  env->audit_file_ = absl::StrCat(dir, "/outer/audit.db");
  config.mutable_audit()->set_store_file(env->audit_file_);
  if (options.customize) options.customize(config);
  auto outer =
      server::GatewayServer::Start(config, env->registry_, env->http_.get());
  if (!outer.ok()) return outer.status();
  env->outer_ = *std::move(outer);
  return env;
}

GatewayEnv::~GatewayEnv() {
  if (outer_) outer_->Shutdown(absl::ZeroDuration());
  if (inner_) inner_->Shutdown(absl::ZeroDuration());
  outer_.reset();
  inner_.reset();
  http_.reset();
  if (sim_) sim_->Stop();
}

std::string NewTestDir(const std::string& prefix) {
  static absl::Mutex mu(absl::kConstInit);
  // Destroyed, and so removed, when the program ends.
  static std::vector<std::unique_ptr<ScratchDir>> made;
  absl::MutexLock lock(&mu);
  made.push_back(std::make_unique<ScratchDir>(prefix));
  return made.back()->path();
}

std::shared_ptr<grpc::Channel> GatewayEnv::Channel(
    const std::string& client) const {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFileOrEmpty(TestCert("ca.pem"));
  if (!client.empty()) {
    ssl.pem_cert_chain = ReadFileOrEmpty(TestCert(client + ".pem"));
    ssl.pem_private_key = ReadFileOrEmpty(TestCert(client + ".key"));
  }
  grpc::ChannelArguments args;
  // A fresh connection per channel, so each test's certificate is the one
  // presented.
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port()),
                                   grpc::SslCredentials(ssl), args);
}

}  // namespace lienthong::testing
