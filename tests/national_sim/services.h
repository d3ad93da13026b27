// The three simulated national systems as plain request -> reply handlers,
// free of any networking (docs/wire-formats.md is the contract):
// PopulationService (SOAP), VneidService (OpenID Connect) and PortalService
// (sessions, one JSON integration endpoint, idempotency keys). SimServer
// puts them on HTTPS.
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
#include "absl/status/statusor.h"
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

// One procedure of the simulated national procedure database.
struct NationalProcedureRecord {
  std::string code;        // MATTHC, e.g. "1.001193"
  std::string name;        // TENTTHC
  std::string field_code;  // MALINHVUC
  std::string field_name;  // TENLINHVUC
  std::string agency;      // COQUANTHUCHIEN.TENDONVI
  bool online = true;      // KENH 2 (online) besides 1 (in person)
};

// How many synthetic procedures the simulated national catalogue holds
// besides those a provincial catalogue names (none of them published by
// the province).
inline constexpr int kExtraNationalProcedures = 120;

// The simulated national catalogue for a province: one procedure for each
// national code of its catalogue `provincial_json` (the form of
// deploy/examples/catalogue.json: a JSON array of procedures, or
// {"procedures": [...]}, each with "code", "name", "field",
// "implementing_agency", "level"), named after its first entry, then the
// synthetic extras. Fails with INVALID_ARGUMENT for JSON of another shape.
absl::StatusOr<std::vector<NationalProcedureRecord>> NationalCatalogueFrom(
    absl::string_view provincial_json);

// Without a provincial catalogue: 1.001193 (birth registration) and the
// synthetic extras.
std::vector<NationalProcedureRecord> DefaultNationalCatalogue();

struct PortalConfig {
  // The province's account and unit code (madonvi).
  std::string username = "lienthong-dev";
  std::string password = "dev-portal-password";
  std::string madonvi = "000.00.00.H31";
  // The integration adapter's endpoints.
  std::string auth_path = "/dvcqg/adapter/auth";
  std::string integration_path = "/dvcqg/adapter/integration";
  std::string share_path = "/dvcqg/adapter/share";
  // A session is refused this long after its sign-in (the public source's
  // client keeps one for 10 minutes); Knobs::session_lifetime_ms overrides.
  absl::Duration session_lifetime = absl::Minutes(10);
  // The national procedure database (LayDanhSachTTHC, LayThuTuc).
  std::vector<NationalProcedureRecord> catalogue = DefaultNationalCatalogue();
};

// The error_code a refused (unknown or expired) session is answered with:
// HTTP 200 {"error_code": 401, "message": "..."}.
inline constexpr int kPortalSessionRefusedCode = 401;

// One change the portal applied, in the order applied.
struct AppliedPortalItem {
  enum class Kind {
    kCreateProcedure,    // an online service published (isUpdating False)
    kUpdateProcedure,    // republished (isUpdating True)
    kWithdrawProcedure,  // no longer offered (TrangThai "0")
    kDossierStatus,      // a step of progress (CapNhatTienDoHoSoMC)
    kRegisterDossier,    // DongBoHoSoMC, isUpdating False
    kUpdateDossier,      // DongBoHoSoMC, isUpdating True
  };
  Kind kind;
  std::string idempotency_key;  // empty when none was sent
  // Procedures: the province's code (MaThuTucDiaPhuong); dossiers: MaTTHC.
  std::string ma_tthc;
  std::string ma_ho_so;   // MaHoSo, dossiers only
  int trang_thai = 0;     // TrangThai / TrangThaiHoSo, dossiers only
  std::string thoi_gian;  // ThoiDiemXuLy, progress only
  std::string body;       // the applied data item, as JSON
};

// "create_procedure", ..., "dossier_status", "register_dossier",
// "update_dossier".
absl::string_view AppliedKindName(AppliedPortalItem::Kind kind);

// The portal's sessions, online services, dossiers with their progress,
// and idempotency memory. Thread-safe.
class PortalService {
 public:
  explicit PortalService(PortalConfig config);

  // Serves the sign-in and the integration endpoint (by request.path) at
  // `now`; `knobs` supplies the portal-only knobs. A repeated
  // X-Idempotency-Key gets the first answer and changes nothing (unless
  // knobs.ignore_idempotency_keys).
  SimReply Handle(const SimRequest& request, const Knobs& knobs,
                  absl::Time now);
  std::vector<AppliedPortalItem> Applied() const;
  int64_t applied_count() const;
  int64_t sessions_issued() const;
  // Every session issued so far is refused from now on.
  void ExpireSessions();

  struct Step {
    int status = 0;
    std::string time;     // ThoiDiemXuLy
    std::string handler;  // NguoiXuLy
  };
  struct Dossier {
    std::string ma_tthc;
    int status = 0;  // TrangThaiHoSo, then the latest TrangThai
    std::string received;
    std::vector<Step> progress;
  };

 private:
  SimReply SignIn(const SimRequest& request, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SimReply Apply(const std::string& service, const JsonObject& body,
                 const std::string& key, const Knobs& knobs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SimReply RegisterDossiers(const JsonObject& body, const std::string& key,
                            const Knobs& knobs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SimReply RecordProgress(const JsonObject& body, const std::string& key,
                          const Knobs& knobs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SimReply PublishServices(const JsonObject& body, const std::string& key,
                           const Knobs& knobs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SimReply LookupDossier(const JsonObject& body, const Knobs& knobs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // LayDanhSachTTHC and LayThuTuc (portal_catalogue.cc).
  SimReply ListProcedures(const Knobs& knobs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SimReply ReadProcedure(const JsonObject& body, const Knobs& knobs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // {"error_code": 0 or "00", "message": ..., <extra>}.
  SimReply Success(const Knobs& knobs, absl::string_view extra = "")
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PortalConfig config_;
  // config_.catalogue's index by code.
  absl::flat_hash_map<std::string, size_t> catalogue_index_;
  mutable absl::Mutex mu_;
  // Session -> when it was issued.
  absl::flat_hash_map<std::string, absl::Time> sessions_ ABSL_GUARDED_BY(mu_);
  int64_t sessions_issued_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t successes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, SimReply> replies_ ABSL_GUARDED_BY(mu_);
  // Online services by the province's code: offered or withdrawn.
  std::map<std::string, bool> services_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Dossier> dossiers_ ABSL_GUARDED_BY(mu_);
  std::vector<AppliedPortalItem> applied_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_SERVICES_H_
