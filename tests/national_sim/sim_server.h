// SimServer: the simulated national systems (population database, VNeID,
// national portal) served over HTTPS on one port from one libevent loop
// thread, with fault-injection knobs and counters. See docs/wire-formats.md
// for what each system speaks, and citizen_generator.h for the citizens.
//
//   SimOptions options;
//   options.cert_file = ...; options.key_file = ...;  // PEM
//   auto server = SimServer::Start(options);          // 127.0.0.1:0 default
//   std::string url = (*server)->base_url();          // https://127.0.0.1:PORT
//   Knobs down;
//   down.down = true;
//   (*server)->SetKnobs(System::kPortal, down);
//
// Paths: /c06/soap, /vneid/realms/citizen/... (OpenID Connect: discovery,
// auth, token, certs), the portal's /dvcqg/adapter/auth,
// /dvcqg/adapter/integration and /dvcqg/adapter/share (PortalConfig), the
// agencies' /hotich/, /cutru/, /bhxh/ and /ldtbxh/ (agencies.h), those of
// the systems added from their own files (sim_system.h), and the control
// endpoint: POST /_sim/vneid/faults (VneidTokenFaults as JSON, "reset"
// first clears them), POST /_sim/vneid/rotate-keys {"keep_old": bool}, GET
// /_sim/vneid/stats (VneidCounters), GET /_sim/stats (counters and knobs of
// each system as JSON), GET /_sim/portal/applied (every change the portal
// applied, in order, as JSON lines {"kind", "idempotency_key", "ma_tthc",
// "ma_ho_so", "trang_thai", "thoi_gian"}; kind as AppliedKindName), POST
// /_sim/portal/expire-sessions (every portal session issued so far is
// refused from then on), GET /_sim/agencies/steps (the agencies' steps, see
// AgencyStepsReply) and POST /_sim/knobs with a JSON object {"system":
// "population"|"vneid"|"portal"|<an agency>|<an added system>|"all",
// "reset": bool, <knob fields as in MergeKnobsJson>}: "reset" starts from
// the defaults, other absent fields keep their value.
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_SIM_SERVER_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_SIM_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/national_sim/agencies.h"
#include "tests/national_sim/knobs.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {

struct SimOptions {
  std::string host = "127.0.0.1";  // IPv4 address or "localhost"
  int port = 0;                    // 0: any free port, see SimServer::port()
  std::string cert_file;           // PEM server certificate (chain)
  std::string key_file;            // PEM private key
  PopulationConfig population;
  VneidConfig vneid;
  PortalConfig portal;
  // The agencies of interconnected procedures (agencies.h).
  AgencyConfig agencies;
  // Knobs each system starts with.
  Knobs initial_knobs;
};

class SimServer {
 public:
  // Binds, loads the certificate and starts the loop thread; the server
  // accepts connections when this returns. Sets SIGPIPE to be ignored in the
  // process (a peer may reset a TLS connection mid-write). Fails with
  // INVALID_ARGUMENT for bad options or unreadable PEM files, UNAVAILABLE when
  // it cannot listen.
  static absl::StatusOr<std::unique_ptr<SimServer>> Start(
      const SimOptions& options);
  ~SimServer();  // Stop()s.
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // The bound port and "https://127.0.0.1:PORT".
  int port() const;
  std::string base_url() const;

  // Stops the loop and closes every connection; requests held by latency or
  // `hang` are dropped unanswered. Idempotent, but not to be called
  // concurrently with itself. REQUIRES: not called from a
  // handler on the loop thread.
  void Stop();

  // Replaces a system's knobs; takes effect for requests that arrive next.
  // Clearing `hang` serves the held requests. Fails with INVALID_ARGUMENT on
  // out-of-range values. Thread-safe.
  absl::Status SetKnobs(System system, const Knobs& knobs);
  Knobs GetKnobs(System system) const;

  // Counters since start. Thread-safe.
  SimStats Stats() const;
  // Every portal item applied, in order. Thread-safe.
  std::vector<AppliedPortalItem> PortalApplied() const;
  // Every portal session issued so far is refused from now on. Thread-safe.
  void ExpirePortalSessions();
  // VNeID: signs with a new key (new kid) from now on, publishing the old
  // keys too when `keep_old`; the faults later ID tokens carry; counters.
  // Thread-safe.
  absl::Status RotateVneidKeys(bool keep_old);
  void SetVneidTokenFaults(const VneidTokenFaults& faults);
  VneidCounters VneidStats() const;
  // Every step the agencies applied or refused, in order, and the requests
  // each idempotency key received. Thread-safe.
  std::vector<AgencyStep> AgencySteps() const;
  std::map<std::string, int64_t> AgencyRequestsPerKey() const;

  class Impl;

 private:
  explicit SimServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_SIM_SERVER_H_
