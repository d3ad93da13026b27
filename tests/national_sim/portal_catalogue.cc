// The simulated national procedure database behind the portal
// (LayDanhSachTTHC, LayThuTuc): synthetic, built from a province's
// (synthetic) catalogue so that its codes are known, plus procedures no
// province here publishes.
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {
namespace {

void AddExtras(std::vector<NationalProcedureRecord>& catalogue) {
  for (int i = 1; i <= kExtraNationalProcedures; ++i) {
    NationalProcedureRecord p;
    p.code = absl::StrFormat("3.%06d", 990000 + i);
    p.name = absl::StrCat("Thủ tục mẫu của cơ sở dữ liệu quốc gia số ", i);
    p.field_code = "LV99";
    p.field_name = "Lĩnh vực mẫu";
    p.agency = "Bộ, ngành mẫu";
    p.online = i % 3 != 0;
    catalogue.push_back(std::move(p));
  }
}

std::string ProcedureJson(const NationalProcedureRecord& p) {
  std::vector<std::string> ways = {
      R"({"KENH":1,"THOIGIAN":[{"THOIGIANGIAIQUYET":3,"DONVITINH":"Ngày làm việc","MOTA":"","PHILEPHI":[]}]})"};
  if (p.online) {
    ways.push_back(
        R"({"KENH":2,"THOIGIAN":[{"THOIGIANGIAIQUYET":3,"DONVITINH":"Ngày làm việc","MOTA":"Nộp trực tuyến","PHILEPHI":[]}]})");
  }
  return absl::StrCat(
      "{\"MATTHC\":", JsonQuote(p.code), ",\"TENTTHC\":", JsonQuote(p.name),
      ",\"LINHVUCTHUCHIEN\":[{\"MALINHVUC\":", JsonQuote(p.field_code),
      ",\"TENLINHVUC\":", JsonQuote(p.field_name), "}]",
      ",\"CACHTHUCTHUCHIEN\":[", absl::StrJoin(ways, ","), "]",
      ",\"COQUANTHUCHIEN\":[{\"MADONVI\":\"000.00.00.G00\",\"TENDONVI\":",
      JsonQuote(p.agency), "}],\"TRANGTHAI\":1}");
}

}  // namespace

absl::StatusOr<std::vector<NationalProcedureRecord>> NationalCatalogueFrom(
    absl::string_view provincial_json) {
  absl::string_view text = absl::StripLeadingAsciiWhitespace(provincial_json);
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // a byte-order mark
  const std::string wrapped =
      absl::StartsWith(text, "[") ? absl::StrCat("{\"procedures\":", text, "}")
                                  : std::string(text);
  absl::StatusOr<JsonObject> json = ParseJsonObject(wrapped);
  if (!json.ok()) return json.status();
  std::optional<std::vector<JsonObject>> rows = JsonObjects(*json, "procedures");
  if (!rows) {
    return absl::InvalidArgumentError(
        "the catalogue is not an array of procedures");
  }
  std::vector<NationalProcedureRecord> catalogue;
  std::set<std::string> seen;
  std::map<std::string, int> fields;
  for (const JsonObject& row : *rows) {
    const std::string code = JsonText(row, "code");
    if (code.size() < 8) continue;
    const std::string national = code.substr(0, 8);
    if (!seen.insert(national).second) continue;
    NationalProcedureRecord p;
    p.code = national;
    p.name = JsonText(row, "name");
    p.field_name = JsonText(row, "field");
    const int field = fields.emplace(p.field_name, fields.size() + 1).first->second;
    p.field_code = absl::StrFormat("LV%02d", field);
    p.agency = JsonText(row, "implementing_agency");
    p.online = true;
    catalogue.push_back(std::move(p));
  }
  AddExtras(catalogue);
  return catalogue;
}

std::vector<NationalProcedureRecord> DefaultNationalCatalogue() {
  std::vector<NationalProcedureRecord> catalogue = {
      {"1.001193", "Đăng ký khai sinh", "LV01", "Hộ tịch",
       "Ủy ban nhân dân cấp xã", true}};
  AddExtras(catalogue);
  return catalogue;
}

SimReply PortalService::ListProcedures(const Knobs& knobs) {
  std::string result;
  for (const NationalProcedureRecord& p : config_.catalogue) {
    if (!result.empty()) result += ",";
    absl::StrAppend(&result, "{\"MATTHC\":", JsonQuote(p.code),
                    ",\"TENTTHC\":", JsonQuote(p.name), "}");
  }
  return Success(knobs, absl::StrCat(",\"result\":[", result, "]"));
}

SimReply PortalService::ReadProcedure(const JsonObject& body,
                                      const Knobs& knobs) {
  auto it = catalogue_index_.find(JsonText(body, "maTTHC"));
  if (it == catalogue_index_.end()) return Success(knobs, ",\"result\":[]");
  return Success(knobs,
                 absl::StrCat(",\"result\":[",
                              ProcedureJson(config_.catalogue[it->second]), "]"));
}

}  // namespace lienthong::sim
