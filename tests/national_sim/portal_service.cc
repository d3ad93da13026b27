// The simulated national public service portal's integration adapter
// (docs/wire-formats.md): sessions from a sign-in, then one endpoint whose
// "service" names the operation; dossiers registered (DongBoHoSoMC) before
// their progress (CapNhatTienDoHoSoMC) is accepted; the province's online
// services; each change applied once per X-Idempotency-Key.
#include <openssl/rand.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {
namespace {

using Kind = AppliedPortalItem::Kind;

SimReply Error(int http_status, absl::string_view code,
               absl::string_view message) {
  return JsonReply(http_status,
                   absl::StrCat("{\"error_code\":", JsonQuote(code),
                                ",\"message\":", JsonQuote(message), "}"));
}

// A change refused for good.
SimReply Rejected(absl::string_view reason) {
  return Error(200, "400", reason);
}

// A stable fraction in [0, 1) for a code, so rate-based rejection is
// permanent: the same item is rejected every time.
double CodeFraction(absl::string_view code) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : code) h = (h ^ c) * 1099511628211ULL;
  return static_cast<double>(h % 1000003) / 1000003.0;
}

bool IsRejected(const Knobs& knobs, absl::string_view code,
                absl::string_view other = "") {
  return knobs.reject_codes.count(std::string(code)) > 0 ||
         (!other.empty() && knobs.reject_codes.count(std::string(other)) > 0) ||
         CodeFraction(code) < knobs.reject_rate;
}

bool IsPortalTime(absl::string_view s) {
  if (s.size() != 14) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// "1".."10" (or the number) as 1..10; 0 otherwise.
int Status(const JsonObject& o, const std::string& key) {
  std::optional<double> n = JsonNumber(o, key);
  // The range first: casting a double outside int's (1e10, NaN) is undefined.
  if (!n || !(*n >= 1 && *n <= 10) || *n != static_cast<int>(*n)) return 0;
  return static_cast<int>(*n);
}

std::string NewSession() {
  unsigned char bytes[24];
  RAND_bytes(bytes, sizeof(bytes));
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace

absl::string_view AppliedKindName(Kind kind) {
  static constexpr absl::string_view kNames[] = {
      "create_procedure", "update_procedure", "withdraw_procedure",
      "dossier_status",   "register_dossier", "update_dossier"};
  return kNames[static_cast<int>(kind)];
}

PortalService::PortalService(PortalConfig config) : config_(std::move(config)) {
  for (size_t i = 0; i < config_.catalogue.size(); ++i) {
    catalogue_index_.emplace(config_.catalogue[i].code, i);
  }
}

SimReply PortalService::Handle(const SimRequest& request, const Knobs& knobs,
                               absl::Time now) {
  if (request.method != "POST") return Error(405, "405", "Chỉ hỗ trợ POST");
  absl::MutexLock lock(&mu_);
  if (request.path == config_.auth_path) return SignIn(request, now);
  if (request.path != config_.integration_path &&
      request.path != config_.share_path) {
    return Error(404, "404", "Không tìm thấy");
  }
  absl::StatusOr<JsonObject> body = ParseJsonObject(request.body);
  if (!body.ok()) return Error(400, "400", "Dữ liệu không phải JSON");
  // The session first, so that a refusal is never remembered under a key.
  const absl::Duration lifetime =
      knobs.session_lifetime_ms > 0
          ? absl::Milliseconds(knobs.session_lifetime_ms)
          : config_.session_lifetime;
  auto session = sessions_.find(JsonText(*body, "session"));
  if (session == sessions_.end() || now - session->second >= lifetime) {
    SimReply reply = JsonReply(
        200, absl::StrCat("{\"error_code\":", kPortalSessionRefusedCode,
                          ",\"message\":\"Phiên làm việc không hợp lệ hoặc "
                          "đã hết hạn\"}"));
    reply.auth_failure = true;
    return reply;
  }
  if (JsonText(*body, "madonvi") != config_.madonvi) {
    return Error(200, "403", "Mã đơn vị không hợp lệ");
  }
  const std::string service = JsonText(*body, "service");
  if (service == "TraCuuHoSo") return LookupDossier(*body, knobs);
  if (service == "LayDanhSachTTHC") return ListProcedures(knobs);
  if (service == "LayThuTuc") return ReadProcedure(*body, knobs);
  const std::string key = request.Header("x-idempotency-key");
  const bool remember = !key.empty() && !knobs.ignore_idempotency_keys;
  if (remember) {
    if (auto it = replies_.find(key); it != replies_.end()) return it->second;
  }
  SimReply reply = Apply(service, *body, key, knobs);
  if (remember && reply.status == 200) replies_[key] = reply;
  return reply;
}

SimReply PortalService::SignIn(const SimRequest& request, absl::Time now) {
  absl::StatusOr<JsonObject> body = ParseJsonObject(request.body);
  if (!body.ok()) return Error(400, "400", "Dữ liệu không phải JSON");
  if (JsonText(*body, "username") != config_.username ||
      JsonText(*body, "password") != config_.password) {
    SimReply reply = Error(200, "-1", "Sai tên đăng nhập hoặc mật khẩu");
    reply.auth_failure = true;
    return reply;
  }
  if (sessions_.size() > 4096) {
    absl::erase_if(sessions_, [&](const auto& s) {
      return now - s.second >= config_.session_lifetime;
    });
  }
  std::string session = NewSession();
  sessions_[session] = now;
  ++sessions_issued_;
  return JsonReply(200, absl::StrCat("{\"session\":", JsonQuote(session),
                                     ",\"error_code\":0}"));
}

SimReply PortalService::Success(const Knobs& knobs, absl::string_view extra) {
  bool number = knobs.error_code_style == ErrorCodeStyle::kNumber;
  if (knobs.error_code_style == ErrorCodeStyle::kAlternate) {
    number = successes_ % 2 == 0;
  }
  ++successes_;
  return JsonReply(200,
                   absl::StrCat("{\"error_code\":", number ? "0" : "\"00\"",
                                ",\"message\":\"Thành công\"", extra, "}"));
}

SimReply PortalService::Apply(const std::string& service,
                              const JsonObject& body, const std::string& key,
                              const Knobs& knobs) {
  if (service == "DongBoHoSoMC") return RegisterDossiers(body, key, knobs);
  if (service == "CapNhatTienDoHoSoMC") return RecordProgress(body, key, knobs);
  if (service == "DongBoDVCTT") return PublishServices(body, key, knobs);
  return Error(200, "404", "Dịch vụ không được hỗ trợ");
}

SimReply PortalService::RegisterDossiers(const JsonObject& body,
                                         const std::string& key,
                                         const Knobs& knobs) {
  const std::string updating = JsonText(body, "isUpdating");
  if (updating != "True" && updating != "False") {
    return Rejected("isUpdating phải là True hoặc False");
  }
  std::optional<std::vector<JsonObject>> data = JsonObjects(body, "data");
  if (!data || data->empty()) return Rejected("Thiếu data");
  // All or nothing: every dossier is checked before any is applied.
  for (const JsonObject& d : *data) {
    const std::string code = JsonText(d, "MaHoSo");
    for (const char* field :
         {"MaHoSo", "MaTTHC", "TenTTHC", "ChuHoSo", "DonViXuLy"}) {
      if (JsonText(d, field).empty())
        return Rejected(absl::StrCat("Thiếu ", field));
    }
    const std::string type = JsonText(d, "LoaiDoiTuong");
    if (type != "1" && type != "2")
      return Rejected("LoaiDoiTuong không hợp lệ");
    if (Status(d, "TrangThaiHoSo") == 0) {
      return Rejected("TrangThaiHoSo không hợp lệ");
    }
    if (!IsPortalTime(JsonText(d, "NgayTiepNhan"))) {
      return Rejected("NgayTiepNhan không hợp lệ");
    }
    if (IsRejected(knobs, code, JsonText(d, "MaTTHC"))) {
      return Rejected(absl::StrCat("Từ chối: ", code, " không được chấp nhận"));
    }
    const bool exists = dossiers_.count(code) > 0;
    if (updating == "False" && exists) {
      return Error(200, "-1", absl::StrCat("Hồ sơ ", code, " đã tồn tại"));
    }
    if (updating == "True" && !exists) {
      return Rejected(absl::StrCat("Hồ sơ ", code, " chưa tồn tại"));
    }
  }
  for (const JsonObject& d : *data) {
    AppliedPortalItem item;
    item.kind =
        updating == "True" ? Kind::kUpdateDossier : Kind::kRegisterDossier;
    item.idempotency_key = key;
    item.ma_ho_so = JsonText(d, "MaHoSo");
    item.ma_tthc = JsonText(d, "MaTTHC");
    item.trang_thai = Status(d, "TrangThaiHoSo");
    item.body = ToJson(d);
    Dossier& dossier = dossiers_[item.ma_ho_so];
    dossier.ma_tthc = item.ma_tthc;
    dossier.received = JsonText(d, "NgayTiepNhan");
    if (dossier.progress.empty()) dossier.status = item.trang_thai;
    applied_.push_back(std::move(item));
  }
  return Success(knobs);
}

SimReply PortalService::RecordProgress(const JsonObject& body,
                                       const std::string& key,
                                       const Knobs& knobs) {
  std::optional<std::vector<JsonObject>> data = JsonObjects(body, "data");
  if (!data || data->empty()) return Rejected("Thiếu data");
  for (const JsonObject& d : *data) {
    const std::string code = JsonText(d, "MaHoSo");
    if (code.empty()) return Rejected("Thiếu MaHoSo");
    if (dossiers_.count(code) == 0) {
      return Error(200, "404",
                   absl::StrCat("Hồ sơ ", code,
                                " chưa được đồng bộ lên Cổng (DongBoHoSoMC)"));
    }
    if (Status(d, "TrangThai") == 0) return Rejected("TrangThai không hợp lệ");
    if (!IsPortalTime(JsonText(d, "ThoiDiemXuLy"))) {
      return Rejected("ThoiDiemXuLy không hợp lệ");
    }
    if (IsRejected(knobs, code)) {
      return Rejected(absl::StrCat("Từ chối: ", code, " không được chấp nhận"));
    }
  }
  for (const JsonObject& d : *data) {
    AppliedPortalItem item;
    item.kind = Kind::kDossierStatus;
    item.idempotency_key = key;
    item.ma_ho_so = JsonText(d, "MaHoSo");
    item.trang_thai = Status(d, "TrangThai");
    item.thoi_gian = JsonText(d, "ThoiDiemXuLy");
    item.body = ToJson(d);
    Dossier& dossier = dossiers_[item.ma_ho_so];
    item.ma_tthc = dossier.ma_tthc;
    dossier.status = item.trang_thai;
    dossier.progress.push_back(
        {item.trang_thai, item.thoi_gian, JsonText(d, "NguoiXuLy"),
         JsonText(d, "PhongBanXuLy"), JsonText(d, "NoiDungXuLy")});
    applied_.push_back(std::move(item));
  }
  return Success(knobs);
}

SimReply PortalService::PublishServices(const JsonObject& body,
                                        const std::string& key,
                                        const Knobs& knobs) {
  const std::string updating = JsonText(body, "isUpdating");
  if (updating != "True" && updating != "False") {
    return Rejected("isUpdating phải là True hoặc False");
  }
  std::optional<std::vector<JsonObject>> data = JsonObjects(body, "data");
  if (!data || data->empty()) return Rejected("Thiếu data");
  for (const JsonObject& d : *data) {
    const std::string local = JsonText(d, "MaThuTucDiaPhuong");
    const std::string national = JsonText(d, "MaTTHC");
    if (national.empty() || local.empty()) return Rejected("Thiếu MaTTHC");
    const std::string state = JsonText(d, "TrangThai");
    if (state != "0" && state != "1") return Rejected("TrangThai không hợp lệ");
    if (state == "1") {
      const std::string level = JsonText(d, "MucDo");
      if (JsonText(d, "TenTTHC").empty()) return Rejected("Thiếu TenTTHC");
      if (level != "TOAN_TRINH" && level != "MOT_PHAN") {
        return Rejected("MucDo không hợp lệ");
      }
    }
    if (IsRejected(knobs, local, national)) {
      return Rejected(
          absl::StrCat("Từ chối: ", local, " không được chấp nhận"));
    }
    auto it = services_.find(local);
    const bool offered = it != services_.end() && it->second;
    if (updating == "False" && offered) {
      return Error(200, "-1", "Dịch vụ công đã tồn tại");
    }
    if (updating == "True" && !offered) {
      return Rejected("Dịch vụ công không tồn tại");
    }
  }
  for (const JsonObject& d : *data) {
    AppliedPortalItem item;
    const bool withdraw = JsonText(d, "TrangThai") == "0";
    item.kind = withdraw             ? Kind::kWithdrawProcedure
                : updating == "True" ? Kind::kUpdateProcedure
                                     : Kind::kCreateProcedure;
    item.idempotency_key = key;
    item.ma_tthc = JsonText(d, "MaThuTucDiaPhuong");
    item.body = ToJson(d);
    services_[item.ma_tthc] = !withdraw;
    applied_.push_back(std::move(item));
  }
  return Success(knobs);
}

SimReply PortalService::LookupDossier(const JsonObject& body,
                                      const Knobs& knobs) {
  auto it = dossiers_.find(JsonText(body, "mahoso"));
  if (it == dossiers_.end()) return Success(knobs, ",\"result\":[]");
  const Dossier& d = it->second;
  std::vector<std::string> steps;
  for (const Step& step : d.progress) {
    steps.push_back(absl::StrCat(
        "{\"TrangThai\":\"", step.status, "\",\"ThoiDiemXuLy\":",
        JsonQuote(step.time), ",\"NguoiXuLy\":", JsonQuote(step.handler),
        ",\"PhongBanXuLy\":", JsonQuote(step.department),
        ",\"NoiDungXuLy\":", JsonQuote(step.content), "}"));
  }
  return Success(
      knobs, absl::StrCat(
                 ",\"result\":[{\"MaHoSo\":", JsonQuote(it->first),
                 ",\"MaTTHC\":", JsonQuote(d.ma_tthc), ",\"TrangThaiHoSo\":\"",
                 d.status, "\",\"NgayTiepNhan\":", JsonQuote(d.received),
                 ",\"QuaTrinhXuLy\":[", absl::StrJoin(steps, ","), "]}]"));
}

std::vector<AppliedPortalItem> PortalService::Applied() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

int64_t PortalService::applied_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(applied_.size());
}

int64_t PortalService::sessions_issued() const {
  absl::MutexLock lock(&mu_);
  return sessions_issued_;
}

void PortalService::ExpireSessions() {
  absl::MutexLock lock(&mu_);
  for (auto& [session, issued] : sessions_) issued = absl::InfinitePast();
}

}  // namespace lienthong::sim
