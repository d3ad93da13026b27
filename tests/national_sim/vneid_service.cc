// The simulated VNeID: OAuth2 client-credentials tokens and identity checks.
#include <openssl/rand.h>

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {
namespace {

SimReply InvalidToken() {
  SimReply reply =
      JsonReply(401, R"({"ma":"401","thongBao":"Token khong hop le"})");
  reply.auth_failure = true;
  return reply;
}

SimReply BadRequest() {
  return JsonReply(400, R"({"ma":"400","thongBao":"Yeu cau khong hop le"})");
}

// application/x-www-form-urlencoded value: '+' is a space, %XX a byte.
std::string FormDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               absl::ascii_isxdigit(s[i + 1]) &&
               absl::ascii_isxdigit(s[i + 2])) {
      out += absl::HexStringToBytes(s.substr(i + 1, 2));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string RandomToken() {
  unsigned char bytes[24];
  RAND_bytes(bytes, sizeof(bytes));
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace

SimReply VneidService::Handle(const SimRequest& request, absl::Time now,
                              absl::string_view reference) {
  if (request.method != "POST") return BadRequest();
  if (request.path == "/vneid/oauth2/token") return IssueToken(request, now);
  if (request.path == "/vneid/api/v1/identity/verify") {
    return Verify(request, now, reference);
  }
  return JsonReply(404, R"({"ma":"404","thongBao":"Khong tim thay"})");
}

SimReply VneidService::IssueToken(const SimRequest& request, absl::Time now) {
  std::map<std::string, std::string> form;
  for (absl::string_view pair :
       absl::StrSplit(request.body, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    form[FormDecode(kv.first)] = FormDecode(kv.second);
  }
  // client_secret_basic is accepted as well as credentials in the body.
  std::string basic = request.Header("authorization"), decoded;
  if (absl::StartsWithIgnoreCase(basic, "Basic ") &&
      absl::Base64Unescape(basic.substr(6), &decoded)) {
    std::pair<std::string, std::string> creds =
        absl::StrSplit(decoded, absl::MaxSplits(':', 1));
    form["client_id"] = creds.first;
    form["client_secret"] = creds.second;
  }
  if (form["grant_type"] != "client_credentials") {
    return JsonReply(400, R"({"error":"unsupported_grant_type"})");
  }
  if (form["client_id"] != config_.client_id ||
      form["client_secret"] != config_.client_secret) {
    SimReply reply = JsonReply(401, R"({"error":"invalid_client"})");
    reply.auth_failure = true;
    return reply;
  }
  std::string token = RandomToken();
  {
    absl::MutexLock lock(&mu_);
    if (tokens_.size() > 4096) {
      absl::erase_if(tokens_, [now](const auto& t) { return t.second <= now; });
    }
    tokens_[token] = now + config_.token_lifetime;
    ++tokens_issued_;
  }
  return JsonReply(
      200, absl::StrCat("{\"access_token\":", JsonQuote(token),
                        ",\"token_type\":\"Bearer\",\"expires_in\":",
                        absl::ToInt64Seconds(config_.token_lifetime), "}"));
}

SimReply VneidService::Verify(const SimRequest& request, absl::Time now,
                              absl::string_view reference) {
  std::string bearer = request.Header("authorization");
  if (!absl::StartsWithIgnoreCase(bearer, "Bearer ")) return InvalidToken();
  {
    absl::MutexLock lock(&mu_);
    auto it = tokens_.find(absl::StripAsciiWhitespace(bearer.substr(7)));
    if (it == tokens_.end() || it->second <= now) return InvalidToken();
  }
  absl::StatusOr<JsonObject> body = ParseJsonObject(request.body);
  if (!body.ok() || JsonText(*body, "soDinhDanh").empty()) return BadRequest();

  std::optional<Citizen> citizen = LookupCitizen(JsonText(*body, "soDinhDanh"));
  std::string result = "KHONG_TIM_THAY";
  std::vector<std::string> mismatched;
  if (citizen) {
    std::string name = JsonText(*body, "hoVaTen");
    std::string date = JsonText(*body, "ngaySinh");
    if (!name.empty() && !NameMatches(*citizen, name)) {
      mismatched.push_back("\"hoVaTen\"");
    }
    if (!date.empty() && !BirthDateMatches(*citizen, date)) {
      mismatched.push_back("\"ngaySinh\"");
    }
    result = mismatched.empty() ? "KHOP" : "KHONG_KHOP";
  }
  return JsonReply(
      200,
      absl::StrCat(
          "{\"maYeuCau\":", JsonQuote(JsonText(*body, "maYeuCau")),
          ",\"maTraLoi\":", JsonQuote(reference),
          ",\"ma\":\"00\",\"thongBao\":\"Thanh "
          "cong\",\"duLieu\":{\"ketQua\":\"",
          result, "\",\"truongKhongKhop\":[", absl::StrJoin(mismatched, ","),
          "],\"mucDoDinhDanh\":", citizen ? citizen->vneid_level : 0, "}}"));
}

void VneidService::ExpireTokens() {
  absl::MutexLock lock(&mu_);
  for (auto& [token, expiry] : tokens_) expiry = absl::InfinitePast();
}

int64_t VneidService::tokens_issued() const {
  absl::MutexLock lock(&mu_);
  return tokens_issued_;
}

}  // namespace lienthong::sim
