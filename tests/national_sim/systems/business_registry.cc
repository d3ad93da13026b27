#include "tests/national_sim/systems/business_registry.h"

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/national_sim/sim_json.h"

namespace lienthong::sim {
namespace {

constexpr const char* kKinds[] = {"Công ty TNHH", "Công ty Cổ phần",
                                  "Doanh nghiệp tư nhân", "Hợp tác xã"};
constexpr const char* kWords[] = {"Phố Hiến", "Nhãn Lồng", "Sông Luộc",
                                  "Chợ Gạo", "An Vĩnh", "Hồng Châu",
                                  "Bình Minh", "Đông Hưng", "Tiên Lữ",
                                  "Văn Lâm"};
constexpr const char* kTrades[] = {"Thương mại", "Xây dựng", "Nông sản",
                                   "Dệt may", "Vận tải", "Cơ khí"};
constexpr const char* kFamilies[] = {"Nguyễn", "Trần", "Lê", "Phạm",
                                     "Hoàng", "Vũ", "Đặng", "Bùi"};
constexpr const char* kMiddles[] = {"Văn", "Thị", "Đức", "Minh", "Thu"};
constexpr const char* kGivens[] = {"An", "Bình", "Chi", "Dũng", "Hà",
                                   "Khánh", "Lan", "Sơn", "Tâm", "Yến"};
constexpr const char* kStatuses[] = {"Đang hoạt động", "Đang hoạt động",
                                     "Đang hoạt động", "Tạm ngừng kinh doanh",
                                     "Đã giải thể"};
constexpr const char* kCommunes[] = {"phường Phố Hiến", "xã Tiên Lữ",
                                     "phường Mỹ Hào", "xã Văn Giang",
                                     "phường Thái Bình", "xã Hưng Hà"};

// FNV-1a: stable across runs, so an enterprise is the same on every ask.
uint64_t Hash(absl::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

template <size_t N>
const char* Pick(const char* const (&list)[N], uint64_t& bits) {
  const char* chosen = list[bits % N];
  bits /= N;
  return chosen;
}

bool IsTaxCode(absl::string_view code) {
  if (code.size() != 10 && code.size() != 14) return false;
  for (size_t i = 0; i < code.size(); ++i) {
    if (i == 10 ? code[i] != '-' : !absl::ascii_isdigit(code[i])) return false;
  }
  return true;
}

std::string Enterprise(absl::string_view tax_code, int64_t sequence) {
  uint64_t bits = Hash(tax_code);
  const std::string name =
      absl::StrCat(Pick(kKinds, bits), " ", Pick(kTrades, bits), " ",
                   Pick(kWords, bits));
  const std::string representative =
      absl::StrCat(Pick(kFamilies, bits), " ", Pick(kMiddles, bits), " ",
                   Pick(kGivens, bits));
  const char* status = Pick(kStatuses, bits);
  const std::string address =
      absl::StrFormat("Số %d, %s, tỉnh Hưng Yên", 1 + bits % 200,
                      Pick(kCommunes, bits));
  const std::string founded = absl::StrFormat(
      "%04d-%02d-%02d", 2000 + bits % 25, 1 + bits % 12, 1 + bits % 28);
  const int64_t capital = static_cast<int64_t>(1 + bits % 50) * 100000000;
  return absl::StrCat(
      "{\"maLoi\":\"00\",\"maGiaoDich\":",
      JsonQuote(absl::StrFormat("DKKD-%06d", sequence)),
      ",\"duLieu\":{\"maSoThue\":", JsonQuote(tax_code),
      ",\"tenDoanhNghiep\":", JsonQuote(name),
      ",\"tinhTrang\":", JsonQuote(status),
      ",\"ngayThanhLap\":", JsonQuote(founded),
      ",\"diaChiTruSo\":", JsonQuote(address), ",\"vonDieuLe\":", capital,
      ",\"nguoiDaiDienPhapLuat\":{\"hoTen\":", JsonQuote(representative),
      ",\"chucDanh\":\"Giám đốc\"}}}");
}

class BusinessRegistry final : public SimSystem {
 public:
  SimReply Handle(const SimRequest& request, absl::Time) override {
    if (request.Header("x-api-key") != kBusinessRegistryApiKey) {
      SimReply reply = JsonReply(
          401, R"({"maLoi":"401","thongBao":"Khóa truy cập không hợp lệ"})");
      reply.auth_failure = true;
      return reply;
    }
    if (request.method != "GET" ||
        !absl::StartsWith(request.path, kBusinessRegistryPath)) {
      return JsonReply(404, R"({"maLoi":"404","thongBao":"Không có dịch vụ"})");
    }
    absl::string_view tax_code = absl::string_view(request.path)
                                     .substr(sizeof(kBusinessRegistryPath) - 1);
    if (!IsTaxCode(tax_code)) {
      return JsonReply(
          400, R"({"maLoi":"400","thongBao":"Mã số thuế không hợp lệ"})");
    }
    if (absl::EndsWith(tax_code.substr(0, 10), "0000")) {
      return JsonReply(
          404, R"({"maLoi":"404","thongBao":"Không tìm thấy doanh nghiệp"})");
    }
    if (absl::EndsWith(tax_code.substr(0, 10), "9999")) {
      // A refusal answered as HTTP 200, its reason naming the enterprise.
      return JsonReply(
          200, absl::StrCat(R"({"maLoi":"99","thongBao":"Doanh nghiệp )",
                            tax_code, R"( đang bị tạm khóa tra cứu"})"));
    }
    return JsonReply(200, Enterprise(tax_code, ++sequence_));
  }

 private:
  std::atomic<int64_t> sequence_{0};
};

}  // namespace

SimSystemEntry BusinessRegistrySystem() {
  return {"business_registry", "/dkkd/",
          [] { return std::unique_ptr<SimSystem>(new BusinessRegistry()); }};
}

}  // namespace lienthong::sim
