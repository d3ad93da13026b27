// The simulated national public service portal: procedures and dossier
// statuses, applied once per X-Idempotency-Key.
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {
namespace {

using Kind = AppliedPortalItem::Kind;

SimReply Answer(int status, absl::string_view code, absl::string_view message) {
  return JsonReply(status,
                   absl::StrCat("{\"error_code\":", JsonQuote(code),
                                ",\"message\":", JsonQuote(message), "}"));
}

SimReply Rejected(absl::string_view reason) {
  return Answer(200, "400", reason);
}

// A stable fraction in [0, 1) for a code, so rate-based rejection is
// permanent: the same item is rejected every time.
double CodeFraction(absl::string_view code) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : code) h = (h ^ c) * 1099511628211ULL;
  return static_cast<double>(h % 1000003) / 1000003.0;
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

}  // namespace

SimReply PortalService::Handle(const SimRequest& request, const Knobs& knobs) {
  if (request.Header("x-api-key") != api_key_) {
    SimReply reply = Answer(401, "401", "X-Api-Key không hợp lệ");
    reply.auth_failure = true;
    return reply;
  }
  if (request.method != "POST") return Answer(405, "405", "Chỉ hỗ trợ POST");
  std::string key = request.Header("x-idempotency-key");
  if (key.empty()) return Answer(400, "400", "Thiếu X-Idempotency-Key");
  absl::MutexLock lock(&mu_);
  if (auto it = replies_.find(key); it != replies_.end()) return it->second;
  absl::StatusOr<JsonObject> body = ParseJsonObject(request.body);
  if (!body.ok()) return Answer(400, "400", "Dữ liệu không phải JSON");
  SimReply reply = Apply(request, *body, key, knobs);
  if (reply.status == 200) replies_[key] = reply;
  return reply;
}

SimReply PortalService::Apply(const SimRequest& request, const JsonObject& body,
                              const std::string& key, const Knobs& knobs) {
  static const std::map<std::string, Kind> kPaths = {
      {"/dvcqg/api/tthc/them", Kind::kCreateProcedure},
      {"/dvcqg/api/tthc/capnhat", Kind::kUpdateProcedure},
      {"/dvcqg/api/tthc/thuhoi", Kind::kWithdrawProcedure},
      {"/dvcqg/api/hoso/capnhattrangthai", Kind::kDossierStatus}};
  auto path = kPaths.find(request.path);
  if (path == kPaths.end()) return Answer(404, "404", "Không tìm thấy");
  AppliedPortalItem item;
  item.kind = path->second;
  item.idempotency_key = key;
  item.ma_tthc = JsonText(body, "MaTTHC");
  item.body = request.body;

  if (item.kind == Kind::kDossierStatus) {
    item.ma_ho_so = JsonText(body, "MaHoSo");
    item.thoi_gian = JsonText(body, "ThoiGian");
    std::optional<double> status = JsonNumber(body, "TrangThaiHoSo");
    item.trang_thai = status ? static_cast<int>(*status) : 0;
    if (item.ma_ho_so.empty()) return Rejected("Thiếu MaHoSo");
    if (item.trang_thai < 1 || item.trang_thai > 10 ||
        *status != item.trang_thai) {
      return Rejected("TrangThaiHoSo không hợp lệ");
    }
    if (item.thoi_gian.size() != 14 || !AllDigits(item.thoi_gian)) {
      return Rejected("ThoiGian không hợp lệ");
    }
  } else if (item.ma_tthc.empty()) {
    return Rejected("Thiếu MaTTHC");
  } else if (item.kind != Kind::kWithdrawProcedure) {
    std::string level = JsonText(body, "MucDo");
    if (JsonText(body, "TenTTHC").empty()) return Rejected("Thiếu TenTTHC");
    if (!level.empty() && level != "TOAN_TRINH" && level != "MOT_PHAN") {
      return Rejected("MucDo không hợp lệ");
    }
  }

  const std::string& code =
      item.kind == Kind::kDossierStatus ? item.ma_ho_so : item.ma_tthc;
  if (knobs.reject_codes.count(item.ma_tthc) ||
      knobs.reject_codes.count(item.ma_ho_so) ||
      CodeFraction(code) < knobs.reject_rate) {
    return Rejected(absl::StrCat("Từ chối: ", code, " không được chấp nhận"));
  }

  auto procedure = procedures_.find(item.ma_tthc);
  bool exists = procedure != procedures_.end() && !procedure->second.withdrawn;
  switch (item.kind) {
    case Kind::kCreateProcedure:
      if (exists) return Answer(200, "-1", "Mã TTHC đã tồn tại");
      procedures_[item.ma_tthc] = Procedure{request.body, false};
      break;
    case Kind::kUpdateProcedure:
      if (!exists) return Rejected("Mã TTHC không tồn tại");
      procedure->second.body = request.body;
      break;
    case Kind::kWithdrawProcedure:
      if (!exists) return Rejected("Mã TTHC không tồn tại");
      procedure->second.withdrawn = true;
      break;
    case Kind::kDossierStatus:
      break;
  }
  applied_.push_back(std::move(item));
  return Answer(200, "0", "Cập nhật thành công");
}

std::vector<AppliedPortalItem> PortalService::Applied() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

int64_t PortalService::applied_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(applied_.size());
}

}  // namespace lienthong::sim
