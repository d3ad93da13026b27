#include "tests/integration/gateway_process.h"

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/integration/gateway_env.h"

namespace lienthong::testing {
namespace {

// The port at the end of a "... listening on https://127.0.0.1:PORT" or
// "... listening on port PORT" line.
int PortFromLine(const std::string& line) {
  size_t end = line.find_last_of("0123456789");
  if (end == std::string::npos) return 0;
  size_t start = line.find_last_not_of("0123456789", end) + 1;
  int port = 0;
  if (!absl::SimpleAtoi(line.substr(start, end - start + 1), &port)) return 0;
  return port;
}

absl::StatusOr<RunningProcess> StartAndReadPort(
    const std::vector<std::string>& argv, const std::string& ready,
    const std::string& log_path) {
  auto process = Subprocess::Start(argv, log_path);
  if (!process.ok()) return process.status();
  auto line = process->WaitForLine(ready, absl::Seconds(30));
  if (!line.ok()) return line.status();
  int port = PortFromLine(*line);
  if (port <= 0)
    return absl::InternalError(absl::StrCat("no port in: ", *line));
  return RunningProcess{*std::move(process), port};
}

// A fresh folder for each gateway's audit store.
std::string AuditDir() { return NewTestDir("lienthong-proc"); }

constexpr char kDefaultClients[] = R"(clients:
  - id: spiffe://lienthong.local/dossier-system
    methods: [lienthong.v1.PopulationService/LookupCitizen]
    grants:
      - purposes: ["*"]
        fields: [name, birth_date]
)";

}  // namespace

absl::StatusOr<RunningProcess> StartSimProcess(
    const std::vector<std::string>& extra_flags) {
  std::vector<std::string> argv = {
      BinaryPath("tests/national_sim/lienthong-sim"),
      "--listen",
      "127.0.0.1:0",
      "--cert",
      TestCert("sim.pem"),
      "--key",
      TestCert("sim.key")};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  return StartAndReadPort(argv, "listening on", "");
}

absl::Status RunMigrate(const std::string& config_path, const std::string& yaml,
                        const std::string& log_path,
                        const std::string& expected) {
  std::ofstream(config_path) << yaml;
  ::chmod(config_path.c_str(), 0600);
  auto migrate = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", config_path,
       "--migrate"},
      log_path);
  if (!migrate.ok()) return migrate.status();
  return migrate->WaitForLine(expected, absl::Seconds(30)).status();
}

std::string GatewayYaml(int sim_port, const std::string& clients_yaml) {
  return absl::StrReplaceAll(
      R"(node_name: process-test
listener:
  address: 127.0.0.1:0
  tls:
    cert_file: CERTS/gateway.pem
    key_file: CERTS/gateway.key
    client_ca_file: CERTS/ca.pem
adapters:
  - name: population
    type: c06-population-soap
    config:
      upstream:
        base_url: https://127.0.0.1:SIMPORT
        ca_file: CERTS/ca.pem
      path: /c06/soap
      xroad_client: VN/GOV/000.00.00.H31/LIENTHONG
      api_key: dev-population-key
      username: lienthong-dev
      secret: dev-population-secret
      auth_url: https://c06.sim.lienthong.local/xacthuc
      integration_code: "037"
      identity_service_code: "033"
routes:
  - method: lienthong.v1.PopulationService/LookupCitizen
    adapter: population
    timeout_ms: 30000
  - method: lienthong.v1.IdentityService/VerifyIdentity
    adapter: population
    timeout_ms: 30000
CLIENTS
admin:
  address: 127.0.0.1:0
audit:
  store_file: AUDITDIR/audit.db
  segment_mib: 4
logging:
  level: info
)",
      {{"CERTS", TestCertDir()},
       {"AUDITDIR", AuditDir()},
       {"SIMPORT", absl::StrCat(sim_port)},
       {"CLIENTS", clients_yaml.empty() ? kDefaultClients : clients_yaml}});
}

std::string PortalGatewayYaml(const std::string& node_name, int sim_port) {
  return absl::StrCat("node_name: ", node_name, "\n",
                      absl::StrFormat(R"(listener:
  address: 127.0.0.1:0
  tls:
    cert_file: %1$s/gateway.pem
    key_file: %1$s/gateway.key
    client_ca_file: %1$s/ca.pem
adapters:
  - name: portal
    type: dvcqg-portal-rest
    config:
      upstream:
        base_url: https://127.0.0.1:%2$d
        ca_file: %1$s/ca.pem
      auth_endpoint: /dvcqg/adapter/auth
      integration_endpoint: /dvcqg/adapter/integration
      username: lienthong-dev
      password: dev-portal-password
      madonvi: 000.00.00.H31
)",
                                      TestCertDir(), sim_port));
}

absl::StatusOr<RunningProcess> StartGatewayProcess(
    const std::string& config_path, const std::string& yaml,
    const std::string& log_path) {
  std::ofstream(config_path) << yaml;
  // The gateway refuses a config file that others may read.
  ::chmod(config_path.c_str(), 0600);
  auto process = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", config_path},
      log_path);
  if (!process.ok()) return process.status();
  RunningProcess running{*std::move(process)};
  auto admin = running.process.WaitForLine("admin on", absl::Seconds(30));
  if (admin.ok()) running.admin_port = PortFromLine(*admin);
  auto line =
      running.process.WaitForLine("listening on port", absl::Seconds(30));
  if (!line.ok()) return line.status();
  running.port = PortFromLine(*line);
  if (running.port <= 0)
    return absl::InternalError("no port in the ready line");
  return running;
}

std::shared_ptr<grpc::Channel> ClientChannel(int port,
                                             const std::string& client) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFileOrEmpty(TestCert("ca.pem"));
  ssl.pem_cert_chain = ReadFileOrEmpty(TestCert(client + ".pem"));
  ssl.pem_private_key = ReadFileOrEmpty(TestCert(client + ".key"));
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::SslCredentials(ssl), args);
}

bool WaitForFileLine(const std::string& path, const std::string& needle,
                     absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (absl::StrContains(ReadFileOrEmpty(path), needle)) return true;
    absl::SleepFor(absl::Milliseconds(20));  // polling a log file
  }
  return false;
}

namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

grpc::health::v1::HealthCheckResponse::ServingStatus HealthOnceIs(
    int port, const std::string& client, const std::string& service,
    grpc::health::v1::HealthCheckResponse::ServingStatus want) {
  using grpc::health::v1::HealthCheckResponse;
  auto stub = grpc::health::v1::Health::NewStub(ClientChannel(port, client));
  HealthCheckResponse::ServingStatus got = HealthCheckResponse::UNKNOWN;
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (absl::Now() < give_up) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    got = stub->Check(&context, request, &response).ok()
              ? response.status()
              : HealthCheckResponse::UNKNOWN;
    if (got == want) break;
    absl::SleepFor(absl::Milliseconds(50));  // polling a status
  }
  return got;
}

std::string HttpGet(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return body;
}

}  // namespace lienthong::testing
