// lienthong-sim: the simulated national systems as a standalone HTTPS server
// for demos, manual testing and benchmarks. Logs no personal data.
#include <pthread.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/national_sim/self_signed_cert.h"
#include "tests/national_sim/sim_server.h"

namespace {

using lienthong::sim::DownMode;
using lienthong::sim::ErrorKind;
using lienthong::sim::Knobs;
using lienthong::sim::SimOptions;
using lienthong::sim::System;

// Holding thousands of slow requests needs as many descriptors.
void RaiseFileLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "lienthong-sim: simulated national systems (population database SOAP at "
      "/c06/soap, VNeID's OpenID Connect realm at /vneid/realms/citizen/..., "
      "national portal at /dvcqg/adapter/...) on one HTTPS port, per "
      "docs/wire-formats.md. All citizens are synthetic. Control endpoint: "
      "GET /_sim/stats, POST /_sim/knobs, POST /_sim/vneid/faults, POST "
      "/_sim/vneid/rotate-keys, GET /_sim/vneid/stats."};
  SimOptions options;
  std::string listen = "127.0.0.1:9443", self_signed_dir;
  int token_lifetime_s = 300;
  int portal_session_lifetime_s = 600;
  app.add_option("--listen", listen,
                 "host:port to listen on; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--cert", options.cert_file, "PEM server certificate (chain)")
      ->check(CLI::ExistingFile);
  app.add_option("--key", options.key_file, "PEM private key of --cert")
      ->check(CLI::ExistingFile);
  app.add_option("--self-signed-dir", self_signed_dir,
                 "instead of --cert/--key: write a fresh self-signed "
                 "certificate for 127.0.0.1 into this directory and use it")
      ->check(CLI::ExistingDirectory);

  auto* creds = "Credentials (defaults match the gateway's example config)";
  auto credential = [&](const char* name, auto& variable, const char* help) {
    return app.add_option(name, variable, help)
        ->capture_default_str()
        ->group(creds);
  };
  credential("--population-user", options.population.user,
             "population DB user in the signed Basic authorisation");
  credential("--population-secret", options.population.secret,
             "population DB signing secret");
  credential("--population-api-key", options.population.api_key,
             "population DB ApiKey header");
  credential("--xroad-client", options.population.xroad_client,
             "X-Road-Client member id accepted by the population DB");
  credential("--population-auth-url", options.population.auth_url,
             "string the population DB hashes ahead of user, timestamp "
             "and secret");
  credential("--population-integration-code",
             options.population.integration_code,
             "MaTichHop the population DB expects in lookups");
  credential("--population-identity-service-code",
             options.population.identity_service_code,
             "MaDichVu the population DB expects in identity checks");
  credential("--vneid-client-id", options.vneid.client_id,
             "VNeID OpenID Connect client_id");
  credential("--vneid-client-secret", options.vneid.client_secret,
             "VNeID OpenID Connect client_secret");
  credential("--vneid-redirect-uri", options.vneid.redirect_uris,
             "redirect URIs registered for the VNeID client (repeat)");
  credential("--vneid-token-lifetime", token_lifetime_s,
             "VNeID token lifetime (ID and access tokens), seconds")
      ->check(CLI::PositiveNumber);
  credential("--portal-user", options.portal.username,
             "national portal sign-in username");
  credential("--agency-api-key", options.agencies.api_key,
             "X-Api-Key of the agencies of interconnected procedures");
  credential("--portal-password", options.portal.password,
             "national portal sign-in password");
  credential("--portal-madonvi", options.portal.madonvi,
             "unit code (madonvi) the national portal accepts");
  std::string portal_catalogue;
  app.add_option("--portal-catalogue", portal_catalogue,
                 "a province's procedure catalogue (JSON, as "
                 "deploy/examples/catalogue.json): the simulated national "
                 "procedure database then holds its national codes, and "
                 "synthetic others")
      ->check(CLI::ExistingFile)
      ->group(creds);
  credential("--portal-session-lifetime", portal_session_lifetime_s,
             "national portal sessions are refused this many seconds "
             "after their sign-in")
      ->check(CLI::PositiveNumber);

  auto* faults = "Fault injection (change at run time with POST /_sim/knobs)";
  Knobs k;  // set on the --knob-systems once started
  std::vector<std::string> systems = {"population", "vneid", "portal"};
  std::map<std::string, ErrorKind> error_kinds = {
      {"http500", ErrorKind::kHttp500},
      {"http503", ErrorKind::kHttp503},
      {"soap_busy", ErrorKind::kSoapBusy}};
  std::map<std::string, DownMode> down_modes = {
      {"reset", DownMode::kReset}, {"http503", DownMode::kHttp503}};
  std::vector<std::string> system_names;
  for (System system : lienthong::sim::AllSystems()) {
    system_names.emplace_back(lienthong::sim::SystemName(system));
  }
  app.add_option("--knob-systems", systems,
                 absl::StrCat("systems the fault flags below apply to (",
                              absl::StrJoin(system_names, ", "), ")"))
      ->capture_default_str()
      ->check(CLI::IsMember(system_names))
      ->group(faults);
  app.add_option("--latency-ms", k.latency_ms, "fixed delay before each answer")
      ->check(CLI::Range(0, lienthong::sim::kMaxKnobMs))
      ->group(faults);
  app.add_option("--jitter-ms", k.jitter_ms, "plus a uniform random 0..N ms")
      ->check(CLI::Range(0, lienthong::sim::kMaxKnobMs))
      ->group(faults);
  app.add_option("--error-rate", k.error_rate,
                 "share of requests answered with an error")
      ->check(CLI::Range(0.0, 1.0))
      ->group(faults);
  app.add_option(
         "--error-kind", k.error_kind,
         "http500, http503, or soap_busy (population: HTTP 500 busy fault)")
      ->transform(CLI::CheckedTransformer(error_kinds))
      ->group(faults);
  app.add_option("--retry-after", k.retry_after,
                 "Retry-After header value on 503 answers")
      ->group(faults);
  app.add_option("--malformed-rate", k.malformed_rate,
                 "share answered HTTP 200 with a truncated body")
      ->check(CLI::Range(0.0, 1.0))
      ->group(faults);
  app.add_option("--drop-rate", k.drop_rate,
                 "share whose connection is reset unanswered")
      ->check(CLI::Range(0.0, 1.0))
      ->group(faults);
  app.add_option("--lose-answer-rate", k.lose_answer_rate,
                 "share served (and applied) whose answer is then lost: the "
                 "connection is reset")
      ->check(CLI::Range(0.0, 1.0))
      ->group(faults);
  app.add_flag("--hang", k.hang, "accept requests but never answer them")
      ->group(faults);
  app.add_flag("--down", k.down, "refuse every request (see --down-mode)")
      ->group(faults);
  app.add_option("--down-mode", k.down_mode,
                 "reset (close the connection) or http503")
      ->transform(CLI::CheckedTransformer(down_modes))
      ->group(faults);
  std::vector<std::string> reject;
  app.add_option(
         "--portal-reject", reject,
         "portal: MaTTHC / MaHoSo codes rejected permanently (error_code 400)")
      ->group(faults);
  double reject_rate = 0;
  app.add_option(
         "--portal-reject-rate", reject_rate,
         "portal: share of codes rejected permanently (stable per code)")
      ->check(CLI::Range(0.0, 1.0))
      ->group(faults);
  CLI11_PARSE(app, argc, argv);

  if (!self_signed_dir.empty()) {
    auto files = lienthong::sim::WriteSelfSignedCert(self_signed_dir);
    if (!files.ok()) {
      std::cerr << "lienthong-sim: " << files.status().message() << "\n";
      return 1;
    }
    options.cert_file = files->cert_file;
    options.key_file = files->key_file;
  } else if (options.cert_file.empty() || options.key_file.empty()) {
    std::cerr << "lienthong-sim: give --cert and --key, or --self-signed-dir\n";
    return 2;
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &options.port) ||
      options.port < 0 || options.port > 65535) {
    std::cerr << "lienthong-sim: --listen must be host:port\n";
    return 2;
  }
  options.host = listen.substr(0, colon);
  options.vneid.token_lifetime = absl::Seconds(token_lifetime_s);
  options.portal.session_lifetime = absl::Seconds(portal_session_lifetime_s);
  if (!portal_catalogue.empty()) {
    std::ifstream in(portal_catalogue, std::ios::binary);
    std::string json((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    auto catalogue = lienthong::sim::NationalCatalogueFrom(json);
    if (!catalogue.ok()) {
      std::cerr << "lienthong-sim: --portal-catalogue: "
                << catalogue.status().message() << "\n";
      return 2;
    }
    options.portal.catalogue = *std::move(catalogue);
  }

  // Signals are taken by sigwait below; the loop thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  RaiseFileLimit();

  auto server = lienthong::sim::SimServer::Start(options);
  if (!server.ok()) {
    std::cerr << "lienthong-sim: " << server.status().message() << "\n";
    return 1;
  }
  for (System system : lienthong::sim::AllSystems()) {
    bool selected =
        std::find(systems.begin(), systems.end(),
                  lienthong::sim::SystemName(system)) != systems.end();
    Knobs knobs = selected ? k : Knobs{};
    if (system == System::kPortal) {
      knobs.reject_codes.insert(reject.begin(), reject.end());
      knobs.reject_rate = reject_rate;
    }
    (*server)->SetKnobs(system, knobs).IgnoreError();  // checked by CLI11
  }
  std::cout << "lienthong-sim listening on " << (*server)->base_url()
            << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "lienthong-sim: signal " << signal << ", stopping" << std::endl;
  (*server)->Stop();
  return 0;
}
