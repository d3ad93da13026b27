// The three simulated national systems as plain request -> reply handlers,
// free of any networking (docs/wire-formats.md is the contract):
// PopulationService (SOAP), VneidService (OpenID Connect) and PortalService
// (JSON with idempotency keys). SimServer puts them on HTTPS.
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_SERVICES_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_SERVICES_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/national_sim/knobs.h"

namespace lienthong::sim {

struct SimRequest {
  std::string method;                          // "GET", "POST", ...
  std::string uri;                             // as sent: path and query
  std::string path;                            // without the query
  std::string host;                            // Host header
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;

  // The header's value, empty when absent. `name` is lower-case.
  std::string Header(const std::string& name) const;
};

struct SimReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool auth_failure = false;
  bool client_fault = false;  // a 5xx that blames the request (soap:Client)
};

// A reply with a JSON body.
SimReply JsonReply(int status, std::string body);

// ---- Population database (SOAP) ---------------------------------------

struct PopulationConfig {
  std::string user = "lienthong-dev";
  std::string secret = "dev-population-secret";
  std::string api_key = "dev-population-key";
  std::string xroad_client = "VN/GOV/000.00.00.H31/LIENTHONG";
  // The string hashed ahead of user, timestamp and secret.
  std::string auth_url = "https://c06.sim.lienthong.local/xacthuc";
  // MaTichHop a lookup must carry.
  std::string integration_code = "037";
  // MaDichVu an identity check must carry.
  std::string identity_service_code = "033";
};

// The Authorization value an adapter sends: "Basic " base64(user ":"
// hex(sha256(auth_url user timestamp_ms secret))).
std::string PopulationAuthorization(absl::string_view auth_url,
                                    absl::string_view user,
                                    absl::string_view timestamp_ms,
                                    absl::string_view secret);

// The population database at /c06/soap: lookups (TraCuuThongTinCongDan,
// answered with a CongdanCollection directly under Body) and identity checks
// (XacThucThongTinCongDanRequest, answered KetQuaXacThucResponse{TonTai}).
// Checks the headers (X-Road-Client, ApiKey, Timestamp in milliseconds
// within 300 s of `now`, the signed Authorization: else HTTP 401 soap:Client
// "Xac thuc khong hop le") and the request (MaYeuCau; for lookups MaDVC a
// national procedure code, MaTichHop the configured one, MaCanBo a valid
// 12-digit ID, MaDonVi and TaiKhoan; for checks MaDichVu the configured one,
// MaCanBo, HoVaTen; else HTTP 500 soap:Client "Yeu cau khong hop le").
// TonTai is true only when the ID (or old ID card number) has a record and
// HoVaTen folds to its name. Thread-safe.
class PopulationService {
 public:
  explicit PopulationService(PopulationConfig config)
      : config_(std::move(config)) {}

  SimReply Handle(const SimRequest& request, absl::Time now);

  // Requests received whose body named each operation, whatever became of
  // them.
  int64_t lookups() const { return lookups_.load(); }
  int64_t identity_checks() const { return identity_checks_.load(); }

 private:
  const PopulationConfig config_;
  std::atomic<int64_t> lookups_{0};
  std::atomic<int64_t> identity_checks_{0};
};

// A SOAP fault; `code` is "soap:Server" or "soap:Client".
SimReply PopulationFault(int status, absl::string_view code,
                         absl::string_view message);

// ---- VNeID ---------------------------------------------------------------

// The realm "citizen" as an OpenID Connect provider in Keycloak's layout
// under /vneid (docs/wire-formats.md, "VNeID"); the issuer is
// "https://" Host "/vneid/realms/" realm, as Keycloak derives it.
struct VneidConfig {
  std::string realm = "citizen";
  std::string client_id = "lienthong-dev";
  std::string client_secret = "dev-vneid-secret";
  // Redirect URIs registered for the client, compared exactly.
  std::vector<std::string> redirect_uris = {
      "https://dichvucong.hungyen.gov.vn/vneid/callback",
      "https://1022.hungyen.gov.vn/auth/vneid",
      "http://127.0.0.1/callback"};
  absl::Duration code_lifetime = absl::Seconds(60);
  absl::Duration token_lifetime = absl::Seconds(300);
};

// Faults the ID tokens issued from now on carry, for tests
// (POST /_sim/vneid/faults with these names as JSON members).
struct VneidTokenFaults {
  bool expired = false;         // exp 10 minutes ago
  bool not_yet_valid = false;   // iat and nbf 10 minutes ahead
  bool wrong_audience = false;  // aud another client, azp too
  bool extra_audience = false;  // aud [client, another] and no azp
  bool wrong_issuer = false;    // iss another realm
  bool wrong_nonce = false;     // nonce not the one of the request
  bool bad_signature = false;   // a signature byte flipped
  bool unknown_kid = false;     // signed with an unpublished key, own kid
  std::string alg;              // "none" or "HS256" (keyed with the secret)
  std::string acr;              // acr claim instead of the real level
};

struct VneidCounters {
  int64_t authorizations = 0;  // codes issued
  int64_t tokens_issued = 0;   // token answers (both grants)
  int64_t grants_refused = 0;  // invalid_grant answers
  int64_t jwks_served = 0;     // GET .../certs
  int64_t key_rotations = 0;
};

// Authorisation codes, tokens and signing keys. RSA keys are made with
// OpenSSL when first needed (no key files). Thread-safe.
class VneidService {
 public:
  explicit VneidService(VneidConfig config);
  ~VneidService();

  // Serves /vneid/realms/{realm}/.well-known/openid-configuration and
  // /protocol/openid-connect/{auth,token,certs} (by `request.path`).
  SimReply Handle(const SimRequest& request, absl::Time now);
  // Signs with a new key under a new kid from now on; the JWKS keeps
  // publishing the previous keys when `keep_old`, else only the new one.
  // Fails with INTERNAL when no key can be made.
  absl::Status RotateKeys(bool keep_old);
  void SetFaults(const VneidTokenFaults& faults);
  VneidTokenFaults faults() const;
  VneidCounters counters() const;
  int64_t tokens_issued() const { return counters().tokens_issued; }

  class Realm;  // vneid_service.cc

 private:
  std::unique_ptr<Realm> realm_;
};

// Applies the members of `json` named as VneidTokenFaults' fields (booleans,
// and strings for alg "", "none", "HS256" and acr) to `faults`. Fails with
// INVALID_ARGUMENT, leaving `faults` unchanged, on a wrong type or alg.
absl::Status MergeVneidFaultsJson(const JsonObject& json,
                                  VneidTokenFaults& faults);

// The VNeID control endpoint: POST /_sim/vneid/faults (members as in
// MergeVneidFaultsJson; "reset": true starts from no faults), POST
// /_sim/vneid/rotate-keys {"keep_old": bool}, GET /_sim/vneid/stats. Each
// answers the counters and faults as JSON, or 400 naming what is wrong.
SimReply VneidControl(VneidService& vneid, const SimRequest& request);

// ---- National public service portal -----------------------------------

// One item the portal applied, in the order applied.
struct AppliedPortalItem {
  enum class Kind {
    kCreateProcedure,
    kUpdateProcedure,
    kWithdrawProcedure,
    kDossierStatus
  };
  Kind kind;
  std::string idempotency_key;
  std::string ma_tthc;    // MaTTHC (dossiers: when sent)
  std::string ma_ho_so;   // MaHoSo, dossiers only
  int trang_thai = 0;     // TrangThaiHoSo, dossiers only
  std::string thoi_gian;  // ThoiGian, dossiers only
  std::string body;       // the request body as received
};

// The portal's procedures, dossier statuses and idempotency memory.
// Thread-safe.
class PortalService {
 public:
  explicit PortalService(std::string api_key) : api_key_(std::move(api_key)) {}

  // Serves /dvcqg/api/...; `knobs` supplies the permanent rejections. A
  // repeated X-Idempotency-Key gets the first answer and changes nothing.
  SimReply Handle(const SimRequest& request, const Knobs& knobs);
  std::vector<AppliedPortalItem> Applied() const;
  int64_t applied_count() const;

 private:
  SimReply Apply(const SimRequest& request, const JsonObject& body,
                 const std::string& key, const Knobs& knobs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Procedure {
    std::string body;
    bool withdrawn = false;
  };
  const std::string api_key_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, SimReply> replies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Procedure> procedures_ ABSL_GUARDED_BY(mu_);
  std::vector<AppliedPortalItem> applied_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_SERVICES_H_
